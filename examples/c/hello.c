/* weft from C: a runtime, callbacks, timers, futures and pool work — the C
 * twin of examples/tour.cc. Run it with `bazel run //examples/c:hello`.
 *
 * Everything here uses only <weft/weft.h>; it links against libweft.so.1. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <weft/weft.h>

/* Stop at the first failure, saying where and why. */
#define CHECK(call)                                                                 \
  do {                                                                              \
    weft_status status_ = (call);                                                   \
    if (status_ != WEFT_OK) {                                                       \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, weft_status_str(status_),     \
              weft_status_name(status_));                                           \
      return 1;                                                                     \
    }                                                                               \
  } while (0)

static uint64_t start_ns;

static void say(weft_loop_t* loop, const char* what) {
  uint64_t now = 0;
  weft_loop_now(&now, loop);
  printf("[%7.2f ms] %s\n", (double)(now - start_ns) / 1e6, what);
}

/* ---- 1. callbacks: FIFO, on the loop thread ---------------------------- */

typedef struct numbered {
  weft_loop_t* loop;
  int number;
} numbered;

static void print_number(void* user, weft_status status, const char* message) {
  (void)message;
  numbered* n = user;
  if (status != WEFT_OK) return; /* cancelled: nothing to print */
  char line[64];
  snprintf(line, sizeof(line), "callback %d", n->number);
  say(n->loop, line);
}

/* ---- 2. timers: deadline order, cancellable ----------------------------- */

typedef struct timer_note {
  weft_loop_t* loop;
  const char* text;
} timer_note;

static void timer_fired(void* user, weft_status status, const char* message) {
  (void)message;
  timer_note* note = user;
  if (status == WEFT_ERR_CANCELLED) {
    say(note->loop, "the 20 ms timer was cancelled (its callback still ran once, to say so)");
    return;
  }
  say(note->loop, note->text);
}

/* ---- 3. futures: resolved later, callbacks on the loop ----------------- */

typedef struct resolve_later {
  weft_loop_t* loop;
  weft_future_t* future;
} resolve_later;

static void resolve_now(void* user, weft_status status, const char* message) {
  (void)message;
  resolve_later* r = user;
  if (status == WEFT_OK) {
    weft_value v = weft_value_string("hello from the future");
    say(r->loop, "a timer resolves the future");
    weft_future_resolve(r->future, &v); /* copies the string */
  }
  weft_future_release(r->future); /* the timer's reference */
}

static void print_outcome(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                          const char* message) {
  (void)future;
  weft_loop_t* loop = *(weft_loop_t**)user; /* every user struct here starts with the loop */
  char line[160];
  if (status == WEFT_OK && value->kind == WEFT_VALUE_STRING) {
    snprintf(line, sizeof(line), "future callback got \"%s\"", (const char*)value->as.bytes.data);
  } else if (status == WEFT_OK && value->kind == WEFT_VALUE_INT64) {
    snprintf(line, sizeof(line), "future callback got %lld", (long long)value->as.int64);
  } else {
    snprintf(line, sizeof(line), "future callback got an error: %s (%s)", message, weft_status_name(status));
  }
  say(loop, line);
}

/* ---- 4. pool work: blocking work off the loop, result back on it -------- */

static int is_prime(long n) {
  if (n < 2) return 0;
  for (long d = 2; d * d <= n; ++d)
    if (n % d == 0) return 0;
  return 1;
}

/* One `user` pointer serves both the work and its completion callback. */
typedef struct prime_job {
  weft_loop_t* loop;
  long limit;
} prime_job;

/* Runs on a pool worker: must not call loop-thread functions. */
static weft_status count_primes(void* user, weft_value* result) {
  long limit = ((const prime_job*)user)->limit;
  long count = 0;
  for (long n = 0; n < limit; ++n) count += is_prime(n);
  *result = weft_value_int64(count);
  return WEFT_OK;
}

int main(void) {
  printf("weft %s from C: callbacks, timers, futures and pool work on one loop\n", weft_version_string());
  CHECK(WEFT_VERSION_CHECK()); /* the library is at least as new as these headers */

  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 2;
  options.name = "hello";
  weft_runtime_t* rt;
  CHECK(weft_runtime_create(&rt, &options));
  weft_loop_t* loop;
  CHECK(weft_runtime_loop(&loop, rt));
  weft_loop_now(&start_ns, loop);

  printf("\n== 1. call_soon runs callbacks in FIFO order on the loop thread\n");
  numbered n[3];
  for (int i = 0; i < 3; ++i) {
    n[i] = (numbered){loop, i + 1};
    CHECK(weft_loop_call_soon(loop, print_number, &n[i]));
  }
  CHECK(weft_loop_run(loop, WEFT_RUN_DEFAULT)); /* returns when nothing is left */

  printf("\n== 2. timers fire in deadline order; cancelling its future cancels one\n");
  timer_note t30 = {loop, "timer planned at 30 ms"}, t10 = {loop, "timer planned at 10 ms"};
  timer_note t20 = {loop, "this never prints"};
  weft_future_t* doomed;
  CHECK(weft_loop_call_later(NULL, loop, WEFT_MS(30), timer_fired, &t30));
  CHECK(weft_loop_call_later(NULL, loop, WEFT_MS(10), timer_fired, &t10));
  CHECK(weft_loop_call_later(&doomed, loop, WEFT_MS(20), timer_fired, &t20));
  CHECK(weft_future_cancel(doomed)); /* its callback runs now, with WEFT_ERR_CANCELLED */
  weft_future_release(doomed);
  CHECK(weft_loop_run(loop, WEFT_RUN_DEFAULT));

  printf("\n== 3. futures: callbacks run on the loop when the value arrives\n");
  weft_future_t* greeting;
  CHECK(weft_future_create(&greeting, loop));
  CHECK(weft_future_then(greeting, loop, print_outcome, &loop));
  resolve_later later = {loop, greeting};
  CHECK(weft_future_retain(greeting)); /* one reference for the timer */
  CHECK(weft_loop_call_later(NULL, loop, WEFT_MS(15), resolve_now, &later));
  weft_future_t* failing;
  CHECK(weft_future_create(&failing, loop));
  CHECK(weft_future_then(failing, loop, print_outcome, &loop));
  CHECK(weft_future_reject(failing, WEFT_ERR_TIMED_OUT, "the server did not answer"));
  CHECK(weft_loop_run(loop, WEFT_RUN_DEFAULT));
  weft_future_release(greeting);
  weft_future_release(failing);

  printf("\n== 4. pool work: blocking work on the pool, the result back on the loop\n");
  weft_executor_t* pool;
  CHECK(weft_runtime_pool(&pool, rt));
  prime_job jobs[2] = {{loop, 200000}, {loop, 100000}};
  weft_future_t* counts[2];
  for (int i = 0; i < 2; ++i) {
    CHECK(weft_executor_submit(&counts[i], pool, loop, count_primes, print_outcome, &jobs[i]));
  }
  /* The two results together: weft_future_all over both. */
  weft_future_t* both;
  CHECK(weft_future_all(&both, loop, counts, 2));
  say(loop, "the loop stays free while the pool counts primes");
  CHECK(weft_loop_run(loop, WEFT_RUN_DEFAULT)); /* waits for the work in flight */
  weft_value v200, v100;
  CHECK(weft_future_result(NULL, &v200, NULL, counts[0]));
  CHECK(weft_future_result(NULL, &v100, NULL, counts[1]));
  printf("primes below 200000: %lld, below 100000: %lld\n", (long long)v200.as.int64, (long long)v100.as.int64);
  weft_future_release(both);
  weft_future_release(counts[0]);
  weft_future_release(counts[1]);

  weft_stats stats = WEFT_STATS_INIT;
  CHECK(weft_runtime_stats(&stats, rt));
  printf("\n== counters\ncallbacks run %llu, timers armed %llu / fired %llu / cancelled %llu, futures %llu, work %llu\n",
         (unsigned long long)stats.callbacks_run, (unsigned long long)stats.timers_armed,
         (unsigned long long)stats.timers_fired, (unsigned long long)stats.timers_cancelled,
         (unsigned long long)stats.futures_created, (unsigned long long)stats.work_submitted);
  CHECK(weft_runtime_destroy(rt));
  printf("runtime destroyed\n");
  return 0;
}
