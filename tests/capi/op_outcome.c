#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tests/capi/op_outcome.h"

#include <string.h>

void note(outcome* o, weft_status status, const char* message) {
  o->calls++;
  o->status = status;
  check_message(status, message, o->message, sizeof o->message);
  o->future_done = 0;
  if (o->future == NULL) return;
  weft_status future_status = WEFT_ERR_UNKNOWN;
  weft_value value = weft_value_none();
  const char* future_message = NULL;
  if (weft_future_result(&future_status, &value, &future_message, o->future) != WEFT_OK) return;
  o->future_done = 1;
  o->future_status = future_status;
  o->future_kind = value.kind;
  check_message(future_status, future_message, o->future_message, sizeof o->future_message);
}

void on_done(void* user, weft_status status, const char* message) { note(user, status, message); }

void on_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  outcome* o = user;
  note(o, status, message);
  o->bytes_null = bytes == NULL;
  o->len = len;
  if (len > 0 && len <= sizeof o->bytes) memcpy(o->bytes, bytes, len);
  if (status != WEFT_OK) {
    assert_null(bytes);
    assert_int_equal(len, 0);
  }
}

void on_size(void* user, weft_status status, const char* message, uint64_t size) {
  outcome* o = user;
  note(o, status, message);
  o->number = (int64_t)size;
}

void on_open(void* user, weft_status status, const char* message, weft_file_t* file) {
  outcome* o = user;
  note(o, status, message);
  o->file = file;
  if (status == WEFT_OK) {
    assert_non_null(file);
  } else {
    assert_null(file);
  }
}

void on_recv(void* user, weft_status status, const char* message, const void* bytes, size_t len,
                    const weft_address* from, int truncated) {
  outcome* o = user;
  note(o, status, message);
  o->len = len;
  o->bytes_null = bytes == NULL;
  if (len > 0 && len <= sizeof o->bytes) memcpy(o->bytes, bytes, len);
  o->truncated = truncated;
  if (from != NULL) o->address = *from;
  if (status == WEFT_OK) {
    assert_non_null(from);
  } else {
    assert_null(bytes);
    assert_null(from);
    assert_int_equal(len, 0);
    assert_int_equal(truncated, 0);
  }
}

void on_resolve(void* user, weft_status status, const char* message, const weft_address* addresses,
                       size_t count) {
  outcome* o = user;
  note(o, status, message);
  o->count = count;
  if (status == WEFT_OK) {
    assert_non_null(addresses);
    assert_true(count > 0);
    o->address = addresses[0];
  } else {
    assert_null(addresses);
    assert_int_equal(count, 0);
  }
}

void on_wait(void* user, weft_status status, const char* message, int64_t exit_code, int term_signal) {
  outcome* o = user;
  note(o, status, message);
  o->number = exit_code;
  o->term_signal = term_signal;
}

void on_signal(void* user, weft_status status, const char* message, int signum) {
  outcome* o = user;
  note(o, status, message);
  o->number = signum;
}

/* The callback ran once, after the future had completed with the same
 * status and message. */
void assert_same_outcome(const outcome* o) {
  assert_int_equal(o->calls, 1);
  assert_non_null(o->future);
  assert_true(o->future_done);
  assert_int_equal(o->future_status, o->status);
  assert_string_equal(o->future_message, o->message);
}

void count_call(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                       const char* message) {
  (void)future;
  (void)status;
  (void)value;
  (void)message;
  ++*(int*)user;
}

/* Runs the loop until `future` has completed. */
void await_future(weft_loop_t* loop, weft_future_t* future) {
  int done = 0;
  assert_int_equal(weft_future_then(future, loop, count_call, &done), WEFT_OK);
  assert_true(run_until(loop, &done));
}

/* The completed future's value (it must have resolved). */
weft_value resolved_value(weft_future_t* future, weft_value_kind kind) {
  weft_status status = WEFT_ERR_UNKNOWN;
  weft_value value = weft_value_none();
  const char* message = "not written";
  assert_int_equal(weft_future_result(&status, &value, &message, future), WEFT_OK);
  if (status != WEFT_OK) fail_msg("rejected: %s (%s)", weft_status_name(status), message);
  assert_null(message);
  assert_int_equal(value.kind, kind);
  return value;
}

/* The completed future was rejected with `expected` and a message
 * (containing `contains` if not NULL). */
void assert_rejected(weft_future_t* future, weft_status expected, const char* contains) {
  weft_status status = WEFT_OK;
  weft_value value = weft_value_int64(7);
  const char* message = NULL;
  assert_int_equal(weft_future_result(&status, &value, &message, future), WEFT_OK);
  assert_int_equal(status, expected);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_non_null(message);
  assert_true(message[0] != '\0');
  if (contains != NULL && strstr(message, contains) == NULL) {
    fail_msg("message \"%s\" does not name \"%s\"", message, contains);
  }
}

void assert_pending(weft_future_t* future) {
  assert_int_equal(weft_future_result(NULL, NULL, NULL, future), WEFT_ERR_NOT_READY);
}

void assert_bytes_value(weft_future_t* future, const char* text, size_t len) {
  weft_value value = resolved_value(future, WEFT_VALUE_BYTES);
  assert_int_equal(value.as.bytes.size, len);
  if (len > 0) assert_memory_equal(value.as.bytes.data, text, len);
}

void assert_int64_value(weft_future_t* future, int64_t expected) {
  weft_value value = resolved_value(future, WEFT_VALUE_INT64);
  assert_int_equal(value.as.int64, expected);
}
