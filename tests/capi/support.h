/* Shared by the cmocka suites of tests/capi: a tracking allocator, the
 * runtime fixture every test uses, and a recorder for the misuse handler.
 *
 * Every fixture-based test runs in a fresh runtime whose allocator counts
 * live blocks; the teardown destroys the runtime and fails the test if a
 * single block is still live or the runtime still had handles in use it
 * should not have had. */
#ifndef WEFT_TESTS_CAPI_SUPPORT_H
#define WEFT_TESTS_CAPI_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include <weft/weft.h>

/* Counts what the runtime holds; can refuse allocations. Thread-safe. */
typedef struct tracking_allocator {
  pthread_mutex_t mutex;
  size_t live_blocks;
  size_t live_bytes;
  size_t total_allocations;
  long fail_at; /* the allocation number (0-based) to refuse, or -1 */
  int mismatched_frees; /* frees whose size or alignment did not match */
} tracking_allocator;

void tracking_init(tracking_allocator* t);
weft_allocator tracking_hooks(tracking_allocator* t);
size_t tracking_live_blocks(tracking_allocator* t);

typedef struct fixture {
  tracking_allocator allocator;
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  weft_executor_t* pool;
} fixture;

/* cmocka setups: a runtime with the monotonic or the manual clock and a
 * 2-worker default pool. The teardown destroys it and checks for leaks. */
int fixture_setup(void** state);
int fixture_setup_manual(void** state);
int fixture_teardown(void** state);

#define FIXTURE(state) ((fixture*)*(state))

/* Records misuse reports (installed by misuse_recorder_install). */
typedef struct misuse_record {
  int count;
  weft_status last_status;
  char last_function[96];
  char last_message[256];
} misuse_record;

void misuse_recorder_install(misuse_record* record);
void misuse_recorder_remove(void);

/* Runs the loop in WEFT_RUN_NOWAIT passes until *flag becomes non-zero or 5 s
 * pass, waiting on the backend fd in between; returns *flag. */
int run_until(weft_loop_t* loop, const volatile int* flag);

/* A weft_callback recorder: counts calls, keeps the last status and, if
 * `sequence` is set, the order it was called in. */
typedef struct call_record {
  int calls;
  weft_status status;
  int order; /* value of *sequence when called, if sequence is set */
  int* sequence;
} call_record;

void record_callback(void* user, weft_status status);

/* Callbacks for calls that must fail: each fails the test if it runs. */
void never_called(void* user, weft_status status);
void never_called_read(void* user, weft_status status, const void* bytes, size_t len);

/* A weft_stream_read_callback recorder: counts calls, keeps the last status
 * and a copy of (up to 256 of) its bytes, and whether bytes was NULL. */
typedef struct read_record {
  int calls;
  weft_status status;
  char bytes[256];
  size_t len;
  int null_bytes;
} read_record;

void record_read(void* user, weft_status status, const void* bytes, size_t len);

/* Holds pool work at a gate: wait_at_gate (a weft_work_fn taking a gate*)
 * blocks its worker until gate_open. */
typedef struct gate {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int open;
  int entered; /* works that reached the gate */
} gate;

#define GATE_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0}

weft_status wait_at_gate(void* user, weft_value* result);
void gate_wait_entered(gate* g, int n); /* until n works reached it */
void gate_open(gate* g);

#endif
