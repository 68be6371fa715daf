/* Signals: deliveries the test process raises itself reach pending waits on
 * the loop, a delivery while nothing waits is kept, closing cancels, bad
 * signal numbers are refused, and the SIGINT/SIGTERM shutdown watch calls
 * its callback once. Signals are process-wide: the tests run one after the
 * other (cmocka runs them in order), and each raises a signal only while a
 * handle of its own watches it, so no default action ever runs. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* kill, mkdtemp, nanosleep, clock_gettime */
#endif
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What a signal callback saw. */
typedef struct signal_record {
  int calls;
  weft_status status;
  int signum;
  char message[200];
} signal_record;

static void record_signal(void* user, weft_status status, const char* message, int signum) {
  signal_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->signum = signum;
}

static void never_called_signal(void* user, weft_status status, const char* message, int signum) {
  (void)user;
  (void)status;
  (void)message;
  (void)signum;
  fail_msg("a callback of a failed call ran");
}

static weft_signal_t* watch(fixture* f, int signum) {
  weft_signal_t* handle = NULL;
  assert_int_equal(weft_signal_watch(&handle, f->loop, signum), WEFT_OK);
  assert_non_null(handle);
  return handle;
}

static void test_signal__raised_signals_complete_pending_waits(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* usr1 = watch(f, SIGUSR1);
  signal_record got = {0};
  assert_int_equal(weft_signal_wait(NULL, usr1, record_signal, &got), WEFT_OK);
  assert_int_equal(raise(SIGUSR1), 0);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.signum, SIGUSR1);

  /* Every wait pending at a delivery completes with it. */
  weft_signal_t* usr2 = watch(f, SIGUSR2);
  signal_record a = {0}, b = {0};
  assert_int_equal(weft_signal_wait(NULL, usr2, record_signal, &a), WEFT_OK);
  assert_int_equal(weft_signal_wait(NULL, usr2, record_signal, &b), WEFT_OK);
  assert_int_equal(kill(getpid(), SIGUSR2), 0);
  assert_true(run_until(f->loop, &a.calls));
  assert_true(run_until(f->loop, &b.calls));
  assert_int_equal(a.signum, SIGUSR2);
  assert_int_equal(b.signum, SIGUSR2);

  assert_int_equal(weft_signal_close(usr1), WEFT_OK);
  assert_int_equal(weft_signal_close(usr2), WEFT_OK);
  assert_int_equal(weft_signal_close(usr1), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(got.calls, 1);
  assert_int_equal(a.calls, 1);
  assert_int_equal(b.calls, 1);
}

static void test_signal__a_delivery_while_nothing_waits_is_kept(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* watcher = watch(f, SIGUSR1);
  /* A second watcher that waits tells when the delivery has been handled:
   * one signal reaches every watcher in the same pass. */
  weft_signal_t* witness = watch(f, SIGUSR1);
  signal_record seen = {0};
  assert_int_equal(weft_signal_wait(NULL, witness, record_signal, &seen), WEFT_OK);
  assert_int_equal(raise(SIGUSR1), 0);
  assert_int_equal(raise(SIGUSR1), 0); /* coalesced with the first */
  assert_true(run_until(f->loop, &seen.calls));
  assert_int_equal(seen.signum, SIGUSR1);

  signal_record late = {0}, later = {0};
  assert_int_equal(weft_signal_wait(NULL, watcher, record_signal, &late), WEFT_OK);
  assert_int_equal(late.calls, 0); /* from a loop pass, never inside the call */
  assert_true(run_until(f->loop, &late.calls));
  assert_int_equal(late.status, WEFT_OK);
  assert_int_equal(late.signum, SIGUSR1);

  /* The kept delivery is used up: the next wait waits. */
  assert_int_equal(weft_signal_wait(NULL, watcher, record_signal, &later), WEFT_OK);
  for (int i = 0; i < 5; ++i) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(later.calls, 0);
  assert_int_equal(weft_signal_close(watcher), WEFT_OK);
  assert_int_equal(later.calls, 1);
  assert_int_equal(later.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_signal_close(witness), WEFT_OK);
}

static void test_signal__close_and_scope_end_cancel_waits_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* hup = watch(f, SIGHUP);
  signal_record a = {0}, b = {0};
  assert_int_equal(weft_signal_wait(NULL, hup, record_signal, &a), WEFT_OK);
  assert_int_equal(weft_signal_wait(NULL, hup, record_signal, &b), WEFT_OK);
  assert_int_equal(weft_signal_close(hup), WEFT_OK);
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.status, WEFT_ERR_CANCELLED);
  assert_int_equal(a.signum, 0);
  assert_int_equal(b.calls, 1);
  assert_int_equal(b.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_signal_wait(NULL, hup, never_called_signal, NULL), WEFT_ERR_STALE_HANDLE);
  /* Nothing waits any more: the loop has nothing to do. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(a.calls, 1);

  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_signal_t* in_scope = NULL;
  weft_signal_t* shutdown = NULL;
  assert_int_equal(weft_signal_watch(&in_scope, loop, SIGUSR1), WEFT_OK);
  signal_record waiting = {0}, shutting = {0};
  assert_int_equal(weft_signal_wait(NULL, in_scope, record_signal, &waiting), WEFT_OK);
  assert_int_equal(weft_signal_shutdown(&shutdown, loop, record_signal, &shutting), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(waiting.calls, 1);
  assert_int_equal(waiting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(shutting.calls, 1);
  assert_int_equal(shutting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_signal_close(in_scope), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_signal_close(shutdown), WEFT_ERR_STALE_HANDLE);

  /* The runtime's destruction ends what is left. */
  weft_signal_t* last = watch(f, SIGUSR2);
  signal_record pending = {0};
  assert_int_equal(weft_signal_wait(NULL, last, record_signal, &pending), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

static void test_signal__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* handle = NULL;
  const int bad[] = {0, -1, SIGKILL, SIGSTOP, 4096, INT32_MAX};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    assert_int_equal(weft_signal_watch(&handle, f->loop, bad[i]), WEFT_ERR_INVALID_ARGUMENT);
  }
  assert_null(handle);
  assert_int_equal(weft_signal_watch(NULL, f->loop, SIGUSR1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_signal_watch(&handle, NULL, SIGUSR1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_signal_shutdown(NULL, f->loop, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_signal_shutdown(&handle, NULL, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_null(handle);
  assert_int_equal(weft_signal_wait(NULL, NULL, never_called_signal, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_signal_wait(NULL, (weft_signal_t*)f->loop, never_called_signal, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_signal_close(NULL), WEFT_OK);
  assert_int_equal(weft_signal_close((weft_signal_t*)f->pool), WEFT_ERR_INVALID_HANDLE);

  handle = watch(f, SIGUSR1);
  /* The callback may be NULL when a future takes the outcome; closing the
   * handle rejects that future, cancelled. */
  weft_future_t* wait = NULL;
  assert_int_equal(weft_signal_wait(&wait, handle, NULL, NULL), WEFT_OK);
  assert_non_null(wait);
  assert_int_equal(weft_signal_close(handle), WEFT_OK);
  weft_status waited = WEFT_OK;
  const char* why = NULL;
  assert_int_equal(weft_future_result(&waited, NULL, &why, wait), WEFT_OK);
  assert_int_equal(waited, WEFT_ERR_CANCELLED);
  assert_non_null(why);
  assert_true(why[0] != '\0');
  assert_int_equal(weft_future_release(wait), WEFT_OK);

  weft_signal_t* shutdown = NULL;
  assert_int_equal(weft_signal_shutdown(&shutdown, f->loop, NULL, NULL), WEFT_OK);
  weft_future_t* refused = NULL;
  assert_int_equal(weft_signal_wait(&refused, shutdown, never_called_signal, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  assert_int_equal(weft_signal_close(shutdown), WEFT_OK);

  /* A cancelled scope takes no new watches. */
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "closed"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(weft_signal_watch(&handle, loop, SIGUSR1), WEFT_ERR_CLOSED);
  assert_int_equal(weft_signal_shutdown(&handle, loop, NULL, NULL), WEFT_ERR_CLOSED);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
}

static void test_signal__sigterm_starts_the_shutdown_once(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* shutdown = NULL;
  signal_record got = {0};
  assert_int_equal(weft_signal_shutdown(&shutdown, f->loop, record_signal, &got), WEFT_OK);
  /* The watch alone does not keep the loop running. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(got.calls, 0);

  assert_int_equal(raise(SIGTERM), 0); /* watched: its default action is off */
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.signum, SIGTERM);
  assert_int_equal(weft_signal_close(shutdown), WEFT_OK);
  assert_int_equal(got.calls, 1); /* not again with CANCELLED */
  assert_int_equal(weft_signal_close(shutdown), WEFT_ERR_STALE_HANDLE);

  /* Closed before any signal: the callback is called with CANCELLED. */
  signal_record never = {0};
  assert_int_equal(weft_signal_shutdown(&shutdown, f->loop, record_signal, &never), WEFT_OK);
  assert_int_equal(weft_signal_close(shutdown), WEFT_OK);
  assert_int_equal(never.calls, 1);
  assert_int_equal(never.status, WEFT_ERR_CANCELLED);
  assert_int_equal(never.signum, 0);
}

/* Raises SIGINT from inside the loop run. */
static void raise_sigint(void* user, weft_status status, const char* message) {
  (void)user;
  (void)message;
  if (status == WEFT_OK) raise(SIGINT);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_signal__without_a_callback_sigint_stops_the_loop(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* shutdown = NULL;
  assert_int_equal(weft_signal_shutdown(&shutdown, f->loop, NULL, NULL), WEFT_OK);
  /* Work that would keep the loop running for 10 s. */
  weft_future_t* timer = NULL;
  call_record long_timer = {0};
  assert_int_equal(weft_loop_call_later(&timer, f->loop, WEFT_SEC(10), record_callback, &long_timer),
                   WEFT_OK);
  assert_int_equal(weft_loop_call_soon(f->loop, raise_sigint, NULL), WEFT_OK);
  const uint64_t start = now_ms();
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_true(now_ms() - start < 5000);
  assert_int_equal(long_timer.calls, 0);
  assert_int_equal(weft_future_cancel(timer), WEFT_OK);
  assert_int_equal(long_timer.calls, 1);
  assert_int_equal(long_timer.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_release(timer), WEFT_OK);
  assert_int_equal(weft_signal_close(shutdown), WEFT_OK);
}

/* A shutdown callback that closes its own handle. */
typedef struct closing_shutdown {
  weft_signal_t* handle;
  signal_record record;
} closing_shutdown;

static void shutdown_then_close(void* user, weft_status status, const char* message, int signum) {
  closing_shutdown* c = user;
  record_signal(&c->record, status, message, signum);
  assert_int_equal(weft_signal_close(c->handle), WEFT_OK);
}

static void test_signal__the_shutdown_callback_may_close_its_handle(void** state) {
  fixture* f = FIXTURE(state);
  closing_shutdown c;
  memset(&c, 0, sizeof(c));
  assert_int_equal(weft_signal_shutdown(&c.handle, f->loop, shutdown_then_close, &c), WEFT_OK);
  assert_int_equal(raise(SIGINT), 0);
  assert_true(run_until(f->loop, &c.record.calls));
  assert_int_equal(c.record.status, WEFT_OK);
  assert_int_equal(c.record.signum, SIGINT);
  assert_int_equal(weft_signal_close(c.handle), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(c.record.calls, 1);
}

typedef struct thread_call {
  weft_signal_t* handle;
  weft_status status;
} thread_call;

static void* wait_from_another_thread(void* arg) {
  thread_call* call = arg;
  call->status = weft_signal_wait(NULL, call->handle, never_called_signal, NULL);
  return NULL;
}

static void test_signal__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  thread_call call = {watch(f, SIGUSR1), WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, wait_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_signal_close(call.handle), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_signal__raised_signals_complete_pending_waits, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__a_delivery_while_nothing_waits_is_kept, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__close_and_scope_end_cancel_waits_exactly_once,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__sigterm_starts_the_shutdown_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__without_a_callback_sigint_stops_the_loop, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__the_shutdown_callback_may_close_its_handle, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_signal__loop_thread_only, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
