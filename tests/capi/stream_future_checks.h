/* Checks for the outcome of a stream operation's future (tests/capi): a
 * recorder for weft_future_then callbacks, the expect_* checks that compare
 * what it saw with weft_future_result, and `dual`, the recorder of an
 * operation given both a callback and a future (both must see one outcome,
 * once; the future is complete when the callback runs). Loop thread only;
 * every record is the test's, on its stack. */
#ifndef WEFT_TESTS_CAPI_STREAM_FUTURE_CHECKS_H
#define WEFT_TESTS_CAPI_STREAM_FUTURE_CHECKS_H

#include "tests/capi/support.h"

/* What a weft_future_then callback saw. */
typedef struct future_record {
  int calls;
  weft_status status;
  weft_value_kind kind;
  char bytes[256];
  size_t len;
  void* pointer;
  weft_destroy_fn destroy;
  char message[200];
} future_record;

/* weft_future_then callback filling a future_record (`user`). */
void record_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                   const char* message);

/* Registers record_future on `future` and runs the loop until it ran. */
void await_future(fixture* f, weft_future_t* future, future_record* r);

/* A future's outcome through weft_future_result: its status, and a copy of
 * its message ("" when resolved). */
weft_status result_of(weft_future_t* future, weft_value* value, char* message, size_t capacity);

/* Checks a future resolved with BYTES equal to `expected` (and that
 * weft_future_result agrees with what the then-callback saw). */
void expect_bytes(weft_future_t* future, const future_record* r, const char* expected, size_t len);

/* Checks a future resolved with NONE. */
void expect_none(weft_future_t* future, const future_record* r);

/* Checks a future resolved with a POINTER holding a stream (destroy NULL:
 * the stream is still the caller's to close) and returns it. */
weft_stream_t* expect_stream(weft_future_t* future, const future_record* r);

/* Checks a future rejected with `status` and a message (copied to
 * `message`), and that weft_future_result agrees. */
void expect_rejected(weft_future_t* future, const future_record* r, weft_status status, char* message,
                     size_t capacity);

/* An operation given both a callback and a future: what the callback saw,
 * and whether the future already had the same outcome when it ran. */
typedef struct dual {
  weft_future_t* future; /* the operation's future (*out) */
  int calls;
  weft_status status;
  char message[200];
  char bytes[256];
  size_t len;
  int null_bytes;
  weft_stream_t* stream;
  future_record then; /* a weft_future_then on the same future */
} dual;

/* The callbacks of the three operation shapes (`user` is a dual): each
 * records the outcome and checks the future already holds it. */
void dual_callback(void* user, weft_status status, const char* message);
void dual_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len);
void dual_stream(void* user, weft_status status, const char* message, weft_stream_t* stream);

/* After the callback: the then-callback sees the same outcome, once; and
 * nothing runs twice. Releases the future. */
void dual_finish(fixture* f, dual* d);

#endif
