/* The checks declared in stream_future_checks.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tests/capi/stream_future_checks.h"

#include <stdio.h>
#include <string.h>

void record_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                   const char* message) {
  future_record* r = user;
  assert_non_null(future);
  assert_non_null(value);
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->kind = value->kind;
  if (status != WEFT_OK) assert_int_equal(value->kind, WEFT_VALUE_NONE);
  if (value->kind == WEFT_VALUE_BYTES) {
    size_t len = value->as.bytes.size;
    assert_true(len <= sizeof r->bytes);
    if (len > 0) memcpy(r->bytes, value->as.bytes.data, len);
    r->len = len;
  } else if (value->kind == WEFT_VALUE_POINTER) {
    r->pointer = value->as.pointer.pointer;
    r->destroy = value->as.pointer.destroy;
  }
}

/* Registers record_future on `future` and runs the loop until it ran. */
void await_future(fixture* f, weft_future_t* future, future_record* r) {
  assert_int_equal(weft_future_then(future, f->loop, record_future, r), WEFT_OK);
  assert_int_equal(r->calls, 0); /* never inside weft_future_then */
  assert_true(run_until(f->loop, &r->calls));
  assert_int_equal(r->calls, 1);
}

/* A future's outcome through weft_future_result: its status, and a copy of
 * its message ("" when resolved). */
weft_status result_of(weft_future_t* future, weft_value* value, char* message, size_t capacity) {
  weft_status status = WEFT_OK;
  const char* text = NULL;
  assert_int_equal(weft_future_result(&status, value, &text, future), WEFT_OK);
  check_message(status, text, message, capacity);
  return status;
}

/* Checks a future resolved with BYTES equal to `expected` (and that
 * weft_future_result agrees with what the then-callback saw). */
void expect_bytes(weft_future_t* future, const future_record* r, const char* expected, size_t len) {
  assert_int_equal(r->status, WEFT_OK);
  assert_int_equal(r->kind, WEFT_VALUE_BYTES);
  assert_int_equal(r->len, len);
  assert_memory_equal(r->bytes, expected, len);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(future, &value, message, sizeof message), WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_BYTES);
  assert_int_equal(value.as.bytes.size, len);
  assert_memory_equal(value.as.bytes.data, expected, len);
}

/* Checks a future resolved with NONE. */
void expect_none(weft_future_t* future, const future_record* r) {
  assert_int_equal(r->status, WEFT_OK);
  assert_int_equal(r->kind, WEFT_VALUE_NONE);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(future, &value, message, sizeof message), WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
}

/* Checks a future resolved with a POINTER holding a stream (destroy NULL:
 * the stream is still the caller's to close) and returns it. */
weft_stream_t* expect_stream(weft_future_t* future, const future_record* r) {
  assert_int_equal(r->status, WEFT_OK);
  assert_int_equal(r->kind, WEFT_VALUE_POINTER);
  assert_non_null(r->pointer);
  assert_null(r->destroy);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(future, &value, message, sizeof message), WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_POINTER);
  assert_ptr_equal(value.as.pointer.pointer, r->pointer);
  void* pointer = NULL;
  assert_int_equal(weft_value_get_pointer(&pointer, &value), WEFT_OK);
  assert_ptr_equal(pointer, r->pointer);
  return (weft_stream_t*)r->pointer;
}

/* Checks a future rejected with `status` and a message (copied to
 * `message`), and that weft_future_result agrees. */
void expect_rejected(weft_future_t* future, const future_record* r, weft_status status, char* message,
                     size_t capacity) {
  assert_int_equal(r->status, status);
  assert_int_equal(r->kind, WEFT_VALUE_NONE);
  assert_true(r->message[0] != '\0');
  weft_value value;
  char text[200];
  assert_int_equal(result_of(future, &value, text, sizeof text), status);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_string_equal(text, r->message);
  if (capacity > 0) snprintf(message, capacity, "%s", text);
}


/* The future completes just before the callback runs: it must be complete,
 * with the same status and message, when the callback looks. */
static void check_future_matches(dual* d, weft_status status, const char* message, weft_value* value) {
  assert_non_null(d->future);
  weft_status future_status = WEFT_OK;
  const char* future_message = NULL;
  assert_int_equal(weft_future_result(&future_status, value, &future_message, d->future), WEFT_OK);
  assert_int_equal(future_status, status);
  if (status == WEFT_OK) {
    assert_null(future_message);
  } else {
    assert_non_null(future_message);
    assert_string_equal(future_message, message);
    assert_int_equal(value->kind, WEFT_VALUE_NONE);
  }
}

void dual_callback(void* user, weft_status status, const char* message) {
  dual* d = user;
  d->calls++;
  d->status = status;
  check_message(status, message, d->message, sizeof d->message);
  weft_value value;
  check_future_matches(d, status, message, &value);
  if (status == WEFT_OK) assert_int_equal(value.kind, WEFT_VALUE_NONE);
}

void dual_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  dual* d = user;
  d->calls++;
  d->status = status;
  check_message(status, message, d->message, sizeof d->message);
  d->null_bytes = bytes == NULL;
  assert_true(len <= sizeof d->bytes);
  if (len > 0) memcpy(d->bytes, bytes, len);
  d->len = len;
  weft_value value;
  check_future_matches(d, status, message, &value);
  if (status == WEFT_OK) {
    assert_int_equal(value.kind, WEFT_VALUE_BYTES);
    assert_int_equal(value.as.bytes.size, len);
    if (len > 0) assert_memory_equal(value.as.bytes.data, bytes, len);
  } else {
    assert_true(bytes == NULL);
    assert_int_equal(len, 0);
  }
}

void dual_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  dual* d = user;
  d->calls++;
  d->status = status;
  check_message(status, message, d->message, sizeof d->message);
  d->stream = stream;
  weft_value value;
  check_future_matches(d, status, message, &value);
  if (status == WEFT_OK) {
    assert_non_null(stream);
    assert_int_equal(value.kind, WEFT_VALUE_POINTER);
    assert_ptr_equal(value.as.pointer.pointer, stream);
  } else {
    assert_null(stream);
  }
}

/* After the callback: the then-callback sees the same outcome, once; and
 * nothing runs twice. Releases the future. */
void dual_finish(fixture* f, dual* d) {
  assert_int_equal(d->calls, 1);
  assert_int_equal(weft_future_then(d->future, f->loop, record_future, &d->then), WEFT_OK);
  assert_true(run_until(f->loop, &d->then.calls));
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(d->calls, 1);
  assert_int_equal(d->then.calls, 1);
  assert_int_equal(d->then.status, d->status);
  assert_string_equal(d->then.message, d->message);
  if (d->status == WEFT_OK && d->then.kind == WEFT_VALUE_BYTES) {
    assert_int_equal(d->then.len, d->len);
    assert_memory_equal(d->then.bytes, d->bytes, d->len);
  }
  if (d->status == WEFT_OK && d->then.kind == WEFT_VALUE_POINTER) {
    assert_ptr_equal(d->then.pointer, d->stream);
  }
  assert_int_equal(weft_future_release(d->future), WEFT_OK);
  d->future = NULL;
}
