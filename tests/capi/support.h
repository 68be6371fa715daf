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
  int fail_forever; /* refuse every allocation from fail_at on, not just it */
  size_t refused; /* allocations refused so far */
  int mismatched_frees; /* frees whose size or alignment did not match */
} tracking_allocator;

void tracking_init(tracking_allocator* t);
/* Refuses the `n`th allocation from now (0: the next one), and with
 * `forever` every one after it too, until tracking_disarm. */
void tracking_arm(tracking_allocator* t, long n, int forever);
void tracking_disarm(tracking_allocator* t);
size_t tracking_refused(tracking_allocator* t);
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
  char message[200]; /* a copy of the last message ("" with WEFT_OK) */
} call_record;

/* Checks the one asynchronous model's message rule: NULL with WEFT_OK, a
 * non-empty text otherwise; copies it into `copy` ("" with WEFT_OK). */
void check_message(weft_status status, const char* message, char* copy, size_t capacity);

void record_callback(void* user, weft_status status, const char* message);

/* Callbacks for calls that must fail: each fails the test if it runs. */
void never_called(void* user, weft_status status, const char* message);
void never_called_read(void* user, weft_status status, const char* message, const void* bytes,
                       size_t len);

/* A weft_bytes_callback recorder: counts calls, keeps the last status
 * and a copy of (up to 256 of) its bytes, and whether bytes was NULL. */
typedef struct read_record {
  int calls;
  weft_status status;
  char bytes[256];
  size_t len;
  int null_bytes;
  char message[200];
} read_record;

void record_read(void* user, weft_status status, const char* message, const void* bytes, size_t len);

/* Runs the loop without blocking `passes` times, 1 ms apart (lets ready I/O
 * happen). */
void spin_loop(weft_loop_t* loop, int passes);

/* A connected pair of streams from weft_pipe_pair on the fixture's loop
 * (fails the test if it cannot make one). */
void stream_pair_open(fixture* f, weft_stream_t** a, weft_stream_t** b);

/* Queues `text` (without its NUL) on `stream`, with no callback. */
void stream_write_text(weft_stream_t* stream, const char* text);

/* What a weft_stream_callback (accept, connect) saw (record_stream records
 * it). */
typedef struct stream_record {
  int calls;
  weft_status status;
  weft_stream_t* stream;
  char message[200];
} stream_record;

void record_stream(void* user, weft_status status, const char* message, weft_stream_t* stream);

/* A listener on 127.0.0.1 with a port the system chose (stored in *port). */
weft_tcp_listener_t* tcp_listen_loopback(fixture* f, uint16_t* port);

/* A connected pair through `listener` (on 127.0.0.1:`port`): client and
 * server ends. */
void tcp_connect_pair(fixture* f, weft_tcp_listener_t* listener, uint16_t port,
                      weft_stream_t** client, weft_stream_t** server);

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

/* A one-worker pool of f's runtime whose only worker is held at `g` (work
 * submitted to it waits until gate_open). Destroy it with
 * weft_executor_destroy after opening the gate. */
weft_executor_t* held_pool(fixture* f, gate* g);

#endif
