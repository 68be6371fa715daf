/* The loop: run modes, run_for, stop, call_soon from the loop and from other
 * threads, the clock, and the backend fd a foreign loop polls. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/capi/support.h"

static void test_loop__call_soon_runs_in_fifo_order(void** state) {
  fixture* f = FIXTURE(state);
  int sequence = 0;
  call_record r[5];
  memset(r, 0, sizeof(r));
  for (int i = 0; i < 5; ++i) {
    r[i].sequence = &sequence;
    assert_int_equal(weft_loop_call_soon(f->loop, record_callback, &r[i]), WEFT_OK);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < 5; ++i) {
    assert_int_equal(r[i].calls, 1);
    assert_int_equal(r[i].status, WEFT_OK);
    assert_int_equal(r[i].order, i);
  }
}

typedef struct repost {
  weft_loop_t* loop;
  int remaining;
  int ran;
} repost;

static void repost_callback(void* user, weft_status status, const char* message) {
  repost* r = user;
  assert_int_equal(status, WEFT_OK);
  assert_null(message);
  r->ran++;
  if (--r->remaining > 0) assert_int_equal(weft_loop_call_soon(r->loop, repost_callback, r), WEFT_OK);
}

static void test_loop__run_once_runs_only_what_was_ready(void** state) {
  fixture* f = FIXTURE(state);
  repost r = {f->loop, 3, 0};
  assert_int_equal(weft_loop_call_soon(f->loop, repost_callback, &r), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
  assert_int_equal(r.ran, 1);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(r.ran, 2);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.ran, 3);
  /* Nothing left: every mode returns at once. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
}

static void busy_callback(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  repost* r = user;
  r->ran++;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t1);
  while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 200000);
  if (--r->remaining > 0) weft_loop_call_soon(r->loop, busy_callback, r);
}

static void test_loop__run_for_stops_at_the_budget_and_reports(void** state) {
  fixture* f = FIXTURE(state);
  repost r = {f->loop, 100, 0}; /* 100 x 0.2 ms of work */
  assert_int_equal(weft_loop_call_soon(f->loop, busy_callback, &r), WEFT_OK);
  static call_record far_timer; /* cancelled at teardown */
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_SEC(3600), record_callback, &far_timer),
                   WEFT_OK);
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  assert_int_equal(weft_loop_run_for(&report, f->loop, WEFT_MS(2)), WEFT_OK);
  assert_true(report.ran >= 1);
  assert_true(report.ran <= 15); /* about 10 fit; not all 100 */
  assert_int_equal(report.ran, (size_t)r.ran);
  assert_int_equal(report.ready, 1);
  assert_int_equal(report.has_next_timer, 1);
  uint64_t now;
  weft_loop_now(&now, f->loop);
  assert_true(report.next_timer_ns > now);
  assert_int_equal(report.stopped, 0);
  /* A NULL report is fine; a bad struct_size is not. */
  assert_int_equal(weft_loop_run_for(NULL, f->loop, 1000), WEFT_OK);
  report.struct_size = 4;
  assert_int_equal(weft_loop_run_for(&report, f->loop, 1000), WEFT_ERR_INVALID_ARGUMENT);
  r.remaining = 1; /* let it finish */
  assert_int_equal(weft_loop_run_for(NULL, f->loop, WEFT_SEC(1)), WEFT_OK);
}

static void count_future_calls(void* user, weft_future_t* future, weft_status status,
                               const weft_value* value, const char* message) {
  (void)future;
  (void)status;
  (void)value;
  (void)message;
  ++*(int*)user;
}

typedef struct stopper {
  weft_loop_t* loop;
  int delay_ms;
} stopper;

static void* stop_later(void* arg) {
  stopper* s = arg;
  struct timespec t = {0, s->delay_ms * 1000000L};
  nanosleep(&t, NULL);
  weft_loop_stop(s->loop);
  return NULL;
}

static void test_loop__stop_from_another_thread_returns_run(void** state) {
  fixture* f = FIXTURE(state);
  /* A pending future with a callback keeps run() waiting forever. */
  weft_future_t* never;
  assert_int_equal(weft_future_create(&never, f->loop), WEFT_OK);
  int calls = 0;
  assert_int_equal(weft_future_then(never, f->loop, count_future_calls, &calls), WEFT_OK);
  stopper s = {f->loop, 20};
  pthread_t thread;
  pthread_create(&thread, NULL, stop_later, &s);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  pthread_join(thread, NULL);
  assert_int_equal(calls, 0);
  assert_int_equal(weft_future_cancel(never), WEFT_OK);
  assert_int_equal(weft_future_release(never), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(calls, 1);
}

typedef struct poster {
  weft_loop_t* loop;
  int id;
  int count;
  int* seen; /* seen[id] = last index run, checked for order */
  int* out_of_order;
  int* total;
} poster;

typedef struct post_item {
  poster* from;
  int index;
} post_item;

static void posted_callback(void* user, weft_status status, const char* message) {
  post_item* item = user;
  assert_int_equal(status, WEFT_OK);
  assert_null(message);
  if (item->from->seen[item->from->id] + 1 != item->index) (*item->from->out_of_order)++;
  item->from->seen[item->from->id] = item->index;
  (*item->from->total)++;
}

static void* post_many(void* arg) {
  poster* p = arg;
  post_item* items = calloc((size_t)p->count, sizeof(post_item));
  for (int i = 0; i < p->count; ++i) {
    items[i].from = p;
    items[i].index = i;
    while (weft_loop_call_soon_threadsafe(p->loop, posted_callback, &items[i]) != WEFT_OK) {
    }
  }
  return items; /* freed by the test after the loop ran them */
}

static void test_loop__call_soon_threadsafe_keeps_each_threads_order(void** state) {
  fixture* f = FIXTURE(state);
  enum { THREADS = 4, EACH = 2000 };
  int seen[THREADS];
  for (int i = 0; i < THREADS; ++i) seen[i] = -1;
  int out_of_order = 0, total = 0;
  poster posters[THREADS];
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    posters[i] = (poster){f->loop, i, EACH, seen, &out_of_order, &total};
    pthread_create(&threads[i], NULL, post_many, &posters[i]);
  }
  void* items[THREADS];
  for (int i = 0; i < THREADS; ++i) pthread_join(threads[i], &items[i]);
  /* Every post was accepted before the joins: the loop runs them all now. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(total, THREADS * EACH);
  assert_int_equal(out_of_order, 0);
  for (int i = 0; i < THREADS; ++i) free(items[i]);
  weft_stats stats = WEFT_STATS_INIT;
  assert_int_equal(weft_runtime_stats(&stats, f->runtime), WEFT_OK);
  assert_true(stats.threadsafe_posts >= THREADS * EACH);
}

static void* post_one_later(void* arg) {
  weft_loop_t* loop = ((void**)arg)[0];
  call_record* r = ((void**)arg)[1];
  struct timespec t = {0, 10000000L};
  nanosleep(&t, NULL);
  weft_loop_call_soon_threadsafe(loop, record_callback, r);
  return NULL;
}

static void test_loop__backend_fd_wakes_a_foreign_poll_loop(void** state) {
  fixture* f = FIXTURE(state);
  int fd = -1;
  int64_t timeout = 0;
  assert_int_equal(weft_loop_backend_fd(&fd, f->loop), WEFT_OK);
  assert_true(fd >= 0);
  assert_int_equal(weft_loop_backend_timeout(&timeout, f->loop), WEFT_OK);
  assert_int_equal(timeout, -1);
  call_record r = {0};
  void* args[2] = {f->loop, &r};
  pthread_t thread;
  pthread_create(&thread, NULL, post_one_later, args);
  struct pollfd p = {fd, POLLIN, 0};
  assert_int_equal(poll(&p, 1, 5000), 1);
  pthread_join(thread, NULL);
  assert_int_equal(weft_loop_backend_timeout(&timeout, f->loop), WEFT_OK);
  assert_int_equal(timeout, 0);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(r.calls, 1);
  /* Consumed: the host's next poll blocks instead of spinning. */
  p.revents = 0;
  assert_int_equal(poll(&p, 1, 0), 0);
  /* A timer bounds the timeout (cancelled at teardown: a static record). */
  static call_record timer;
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(30), record_callback, &timer), WEFT_OK);
  assert_int_equal(weft_loop_backend_timeout(&timeout, f->loop), WEFT_OK);
  assert_true(timeout > 0 && timeout <= (int64_t)WEFT_MS(30));
}

static void test_loop__manual_clock_moves_only_when_advanced(void** state) {
  fixture* f = FIXTURE(state);
  uint64_t t0, t1;
  assert_int_equal(weft_loop_now(&t0, f->loop), WEFT_OK);
  assert_int_equal(t0, 0);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1500), WEFT_OK);
  assert_int_equal(weft_loop_now(&t1, f->loop), WEFT_OK);
  assert_int_equal(t1, 1500);
  /* With a manual clock, pending timers alone do not make run() wait. */
  call_record r = {0};
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 1000, record_callback, &r), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.calls, 0);
  int64_t timeout = 0;
  assert_int_equal(weft_loop_backend_timeout(&timeout, f->loop), WEFT_OK);
  assert_int_equal(timeout, -1);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1000), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.calls, 1);
}

static void test_loop__monotonic_clock_cannot_be_advanced(void** state) {
  fixture* f = FIXTURE(state);
  uint64_t a, b;
  assert_int_equal(weft_loop_now(&a, f->loop), WEFT_OK);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1000), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_loop_now(&b, f->loop), WEFT_OK);
  assert_true(b >= a);
  assert_true(a > 0);
}

typedef struct nested {
  weft_loop_t* loop;
  weft_status run, once, nowait, run_for;
} nested;

static void run_inside(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  nested* n = user;
  n->run = weft_loop_run(n->loop, WEFT_RUN_DEFAULT);
  n->once = weft_loop_run(n->loop, WEFT_RUN_ONCE);
  n->nowait = weft_loop_run(n->loop, WEFT_RUN_NOWAIT);
  n->run_for = weft_loop_run_for(NULL, n->loop, 1000);
}

static void test_loop__running_from_a_callback_is_refused(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  nested n = {f->loop, WEFT_OK, WEFT_OK, WEFT_OK, WEFT_OK};
  assert_int_equal(weft_loop_call_soon(f->loop, run_inside, &n), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(n.run, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(n.once, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(n.nowait, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(n.run_for, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(misuse.count, 4);
  assert_string_equal(misuse.last_function, "weft_loop_run_for");
  misuse_recorder_remove();
}

typedef struct other_thread_calls {
  weft_loop_t* loop;
  weft_status call_soon, call_later, future_create, backend_timeout, run;
  call_record ran;
} other_thread_calls;

static void* call_from_other_thread(void* arg) {
  other_thread_calls* c = arg;
  c->call_soon = weft_loop_call_soon(c->loop, record_callback, &c->ran);
  c->call_later = weft_loop_call_later(NULL, c->loop, 1, record_callback, &c->ran);
  weft_future_t* fut = NULL;
  c->future_create = weft_future_create(&fut, c->loop);
  int64_t timeout;
  c->backend_timeout = weft_loop_backend_timeout(&timeout, c->loop);
  /* Running is a loop-thread call too (weft_loop_claim moves the loop). */
  c->run = weft_loop_run(c->loop, WEFT_RUN_NOWAIT);
  return NULL;
}

static void test_loop__loop_thread_calls_from_another_thread_are_refused(void** state) {
  fixture* f = FIXTURE(state);
  other_thread_calls c;
  memset(&c, 0, sizeof(c));
  c.loop = f->loop;
  pthread_t thread;
  pthread_create(&thread, NULL, call_from_other_thread, &c);
  pthread_join(thread, NULL);
  assert_int_equal(c.call_soon, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(c.call_later, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(c.future_create, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(c.backend_timeout, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(c.run, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(c.ran.calls, 0);
  /* This thread still owns the loop. */
  assert_int_equal(weft_loop_call_soon(f->loop, record_callback, &c.ran), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(c.ran.calls, 1);
}

static void test_loop__invalid_arguments_are_refused(void** state) {
  fixture* f = FIXTURE(state);
  assert_int_equal(weft_loop_run(f->loop, (weft_run_mode)3), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_run(f->loop, (weft_run_mode)-1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_call_soon(f->loop, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_call_soon_threadsafe(f->loop, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_now(NULL, f->loop), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_backend_fd(NULL, f->loop), WEFT_ERR_INVALID_ARGUMENT);
  weft_runtime_t* rt = NULL;
  assert_int_equal(weft_loop_runtime(&rt, f->loop), WEFT_OK);
  assert_ptr_equal(rt, f->runtime);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_loop__call_soon_runs_in_fifo_order, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__run_once_runs_only_what_was_ready, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__run_for_stops_at_the_budget_and_reports, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__stop_from_another_thread_returns_run, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__call_soon_threadsafe_keeps_each_threads_order, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__backend_fd_wakes_a_foreign_poll_loop, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__manual_clock_moves_only_when_advanced, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__monotonic_clock_cannot_be_advanced, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__running_from_a_callback_is_refused, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__loop_thread_calls_from_another_thread_are_refused,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop__invalid_arguments_are_refused, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
