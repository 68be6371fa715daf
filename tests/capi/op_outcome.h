/* The one asynchronous model's checks, shared by the operation-future
 * tests (test_op_futures.c, test_file_futures.c): an `outcome` records what
 * an operation's callback saw and what its future held at that moment, and
 * the assert_* helpers read a completed future's outcome. Loop thread (the
 * callbacks run there). */
#ifndef WEFT_TESTS_CAPI_OP_OUTCOME_H
#define WEFT_TESTS_CAPI_OP_OUTCOME_H

#include "tests/capi/support.h"

/* What a callback saw, and what its operation's future held when it ran.
 * Pass &o.future as the operation's `out` (or leave it NULL). */
typedef struct outcome {
  int calls;
  weft_status status;
  char message[200];
  weft_future_t* future;
  int future_done; /* the future had completed when the callback ran */
  weft_status future_status;
  char future_message[200];
  weft_value_kind future_kind;
  /* The callback's result, by operation. */
  int64_t number; /* size, exit code, signal number */
  int term_signal;
  unsigned char bytes[128];
  size_t len;
  int bytes_null;
  weft_address address; /* a datagram's sender, a lookup's first address */
  size_t count;
  int truncated;
  weft_file_t* file;
} outcome;

/* Records a callback's status and message, and its future's outcome. */
void note(outcome* o, weft_status status, const char* message);

/* Callbacks of each operation shape; `user` is an outcome*. */
void on_done(void* user, weft_status status, const char* message);
void on_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len);
void on_size(void* user, weft_status status, const char* message, uint64_t size);
void on_open(void* user, weft_status status, const char* message, weft_file_t* file);
void on_recv(void* user, weft_status status, const char* message, const void* bytes, size_t len,
             const weft_address* from, int truncated);
void on_resolve(void* user, weft_status status, const char* message, const weft_address* addresses,
                size_t count);
void on_wait(void* user, weft_status status, const char* message, int64_t exit_code, int term_signal);
void on_signal(void* user, weft_status status, const char* message, int signum);

/* The callback ran once, after the future had completed with the same
 * status and message. */
void assert_same_outcome(const outcome* o);

/* A weft_future_callback counting its calls in *(int*)user. */
void count_call(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                const char* message);

/* Runs the loop until `future` has completed. */
void await_future(weft_loop_t* loop, weft_future_t* future);

/* The completed future's value (it must have resolved, with `kind`). */
weft_value resolved_value(weft_future_t* future, weft_value_kind kind);

/* The completed future was rejected with `expected` and a message
 * (containing `contains` if not NULL). */
void assert_rejected(weft_future_t* future, weft_status expected, const char* contains);

void assert_pending(weft_future_t* future);
void assert_bytes_value(weft_future_t* future, const char* text, size_t len);
void assert_int64_value(weft_future_t* future, int64_t expected);

#endif /* WEFT_TESTS_CAPI_OP_OUTCOME_H */
