/* The loop's wait hook (weft_loop_set_wait_hook): it brackets every wait of
 * weft_loop_run (a timer's sleep, I/O, posts from other threads), enter and
 * exit strictly alternate, no callback runs between them (each callback
 * records whether it ran inside), WEFT_RUN_NOWAIT and weft_loop_run_for
 * never call it, and NULL removes it. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What the hook saw, and what callbacks saw of it. */
typedef struct hook_log {
  int enters;
  int exits;
  int inside;            /* between hook(1) and hook(0) */
  int out_of_order;      /* an enter while inside, an exit while outside */
  int callbacks;         /* callbacks that checked in */
  int callbacks_inside;  /* ...while inside: must stay 0 */
} hook_log;

static void log_hook(void* user, int entering) {
  hook_log* h = user;
  if (entering) {
    if (h->inside) h->out_of_order++;
    h->inside = 1;
    h->enters++;
  } else {
    if (!h->inside) h->out_of_order++;
    h->inside = 0;
    h->exits++;
  }
}

static void check_in(hook_log* h) {
  h->callbacks++;
  if (h->inside) h->callbacks_inside++;
}

static void assert_well_bracketed(const hook_log* h) {
  assert_int_equal(h->out_of_order, 0);
  assert_int_equal(h->enters, h->exits);
  assert_int_equal(h->inside, 0);
  assert_int_equal(h->callbacks_inside, 0);
}

static void sleep_ms(int ms) {
  struct timespec t = {0, (long)ms * 1000000L};
  nanosleep(&t, NULL);
}

static void checked_callback(void* user, weft_status status, const char* message) {
  (void)message;
  assert_int_equal(status, WEFT_OK);
  check_in(user);
}

/* For a timer the test cancels: records the status. */
static void record_status(void* user, weft_status status, const char* message) {
  (void)message;
  *(weft_status*)user = status;
}

/* The timers in these tests are 100 ms or more ahead: each must still be
 * pending when the loop looks, even under TSan on a loaded machine, so that
 * the loop has to wait for it. */
static void test_wait_hook__brackets_a_timer_sleep(void** state) {
  fixture* f = FIXTURE(state);
  hook_log h = {0};
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &h), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(100), checked_callback, &h), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(200), checked_callback, &h), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(h.callbacks, 2);
  assert_true(h.enters >= 2); /* one sleep per timer at least */
  assert_well_bracketed(&h);

  /* WEFT_RUN_ONCE waits too. */
  const int before = h.enters;
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(100), checked_callback, &h), WEFT_OK);
  while (h.callbacks < 3) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
  assert_true(h.enters > before);
  assert_well_bracketed(&h);
  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, NULL), WEFT_OK);
}

static void test_wait_hook__not_called_when_the_loop_does_not_wait(void** state) {
  fixture* f = FIXTURE(state);
  hook_log h = {0};
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &h), WEFT_OK);
  weft_future_t* timer = NULL;
  weft_status timer_status = WEFT_OK;
  assert_int_equal(weft_loop_call_later(&timer, f->loop, WEFT_SEC(30), record_status, &timer_status), WEFT_OK);
  assert_int_equal(weft_loop_call_soon(f->loop, checked_callback, &h), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(weft_loop_call_soon(f->loop, checked_callback, &h), WEFT_OK);
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  assert_int_equal(weft_loop_run_for(&report, f->loop, WEFT_MS(5)), WEFT_OK);
  assert_int_equal(weft_loop_run_for(&report, f->loop, WEFT_MS(5)), WEFT_OK);
  /* Ready work: WEFT_RUN_ONCE runs it without waiting. */
  assert_int_equal(weft_loop_call_soon(f->loop, checked_callback, &h), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
  assert_int_equal(h.callbacks, 3);
  assert_int_equal(h.enters, 0);
  assert_int_equal(h.exits, 0);
  assert_int_equal(weft_future_cancel(timer), WEFT_OK);
  assert_int_equal(timer_status, WEFT_ERR_CANCELLED);
  weft_future_release(timer);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(h.enters, 0);
  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, NULL), WEFT_OK);
}

/* Writes `byte` to `fd` after `delay_ms`, from its own thread. */
typedef struct late_write {
  int fd;
  int delay_ms;
  int written;
} late_write;

static void* write_later(void* arg) {
  late_write* w = arg;
  sleep_ms(w->delay_ms);
  w->written = (int)write(w->fd, "k", 1);
  return NULL;
}

typedef struct io_check {
  hook_log* hook;
  int calls;
  weft_status status;
  int events;
  size_t len;
} io_check;

static void on_fd_ready(void* user, weft_status status, const char* message, int events) {
  (void)message;
  io_check* c = user;
  check_in(c->hook);
  c->calls++;
  c->status = status;
  c->events = events;
}

static void on_stream_read(void* user, weft_status status, const char* message, const void* bytes,
                           size_t len) {
  (void)message;
  (void)bytes;
  io_check* c = user;
  check_in(c->hook);
  c->calls++;
  c->status = status;
  c->len = len;
}

static void test_wait_hook__io_callbacks_run_after_the_wait(void** state) {
  fixture* f = FIXTURE(state);
  hook_log h = {0};
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &h), WEFT_OK);

  /* An fd wait. */
  int s[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
  weft_fd_watch_t* watch = NULL;
  assert_int_equal(weft_fd_watch(&watch, f->loop, s[0]), WEFT_OK);
  io_check fd_ready = {&h, 0, WEFT_ERR_IO_ERROR, 0, 0};
  assert_int_equal(weft_fd_wait(NULL, watch, WEFT_FD_READABLE, on_fd_ready, &fd_ready), WEFT_OK);
  late_write w1 = {s[1], 20, 0};
  pthread_t writer;
  assert_int_equal(pthread_create(&writer, NULL, write_later, &w1), 0);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  pthread_join(writer, NULL);
  assert_int_equal(w1.written, 1);
  assert_int_equal(fd_ready.calls, 1);
  assert_int_equal(fd_ready.status, WEFT_OK);
  assert_int_equal(fd_ready.events, WEFT_FD_READABLE);
  assert_true(h.enters >= 1);
  assert_well_bracketed(&h);
  assert_int_equal(weft_fd_watch_close(watch), WEFT_OK);
  char c;
  assert_int_equal(read(s[0], &c, 1), 1);

  /* A weft stream's read, over the same socket (the stream now owns it). */
  weft_stream_t* stream = NULL;
  assert_int_equal(weft_pipe_open(&stream, f->loop, s[0]), WEFT_OK);
  io_check read = {&h, 0, WEFT_ERR_IO_ERROR, 0, 0};
  assert_int_equal(weft_stream_read(NULL, stream, 16, on_stream_read, &read), WEFT_OK);
  const int before = h.enters;
  late_write w2 = {s[1], 20, 0};
  assert_int_equal(pthread_create(&writer, NULL, write_later, &w2), 0);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  pthread_join(writer, NULL);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_OK);
  assert_int_equal(read.len, 1);
  assert_true(h.enters > before);
  assert_well_bracketed(&h);
  assert_int_equal(weft_stream_close(stream), WEFT_OK);
  close(s[1]);
  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, NULL), WEFT_OK);
}

/* Another thread posts to the loop after a while; the posted callback
 * settles a future the loop was waiting on. */
typedef struct poster {
  weft_loop_t* loop;
  hook_log* hook;
  weft_future_t* future;
  int delay_ms;
  weft_status posted;
  int ran;
} poster;

static void settle_on_loop(void* user, weft_status status, const char* message) {
  (void)message;
  poster* p = user;
  assert_int_equal(status, WEFT_OK);
  check_in(p->hook);
  p->ran++;
  weft_value none = weft_value_none();
  assert_int_equal(weft_future_resolve(p->future, &none), WEFT_OK);
}

static void* post_later(void* arg) {
  poster* p = arg;
  sleep_ms(p->delay_ms);
  p->posted = weft_loop_call_soon_threadsafe(p->loop, settle_on_loop, p);
  return NULL;
}

static void on_settled(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                       const char* message) {
  (void)future;
  (void)value;
  (void)message;
  poster* p = user;
  assert_int_equal(status, WEFT_OK);
  check_in(p->hook);
}

static void test_wait_hook__posts_from_another_thread_run_after_the_wait(void** state) {
  fixture* f = FIXTURE(state);
  hook_log h = {0};
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &h), WEFT_OK);
  int delays[] = {0, 1, 30};
  for (int i = 0; i < 3; ++i) {
    poster p = {f->loop, &h, NULL, delays[i], WEFT_ERR_IO_ERROR, 0};
    assert_int_equal(weft_future_create(&p.future, f->loop), WEFT_OK);
    /* A callback waiting on the future keeps the loop running until the post. */
    assert_int_equal(weft_future_then(p.future, f->loop, on_settled, &p), WEFT_OK);
    pthread_t thread;
    const int callbacks = h.callbacks;
    assert_int_equal(pthread_create(&thread, NULL, post_later, &p), 0);
    assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
    pthread_join(thread, NULL);
    assert_int_equal(p.posted, WEFT_OK);
    assert_int_equal(p.ran, 1);
    assert_int_equal(h.callbacks, callbacks + 2);
    assert_well_bracketed(&h);
    weft_future_release(p.future);
  }
  assert_true(h.enters >= 1); /* the 30 ms wait at least */
  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, NULL), WEFT_OK);
}

/* weft_signal_shutdown's callback is called by libuv's signal dispatch
 * itself (no queued callback in between): it too runs after hook(0). */
typedef struct shutdown_check {
  hook_log* hook;
  weft_future_t* done;
  int signum;
} shutdown_check;

static void on_shutdown_signal(void* user, weft_status status, const char* message, int signum) {
  (void)message;
  shutdown_check* c = user;
  check_in(c->hook);
  if (status != WEFT_OK) return;
  c->signum = signum;
  weft_value none = weft_value_none();
  weft_future_resolve(c->done, &none);
}

static void on_done_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                           const char* message) {
  (void)future;
  (void)status;
  (void)value;
  (void)message;
  check_in(user);
}

static void* terminate_later(void* arg) {
  (void)arg;
  sleep_ms(20);
  kill(getpid(), SIGTERM);
  return NULL;
}

static void test_wait_hook__signal_callbacks_run_after_the_wait(void** state) {
  fixture* f = FIXTURE(state);
  hook_log h = {0};
  shutdown_check c = {&h, NULL, 0};
  assert_int_equal(weft_future_create(&c.done, f->loop), WEFT_OK);
  assert_int_equal(weft_future_then(c.done, f->loop, on_done_future, &h), WEFT_OK);
  weft_signal_t* shutdown = NULL;
  assert_int_equal(weft_signal_shutdown(&shutdown, f->loop, on_shutdown_signal, &c), WEFT_OK);
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &h), WEFT_OK);
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, terminate_later, NULL), 0);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  pthread_join(thread, NULL);
  assert_int_equal(c.signum, SIGTERM);
  assert_int_equal(h.callbacks, 2);
  assert_true(h.enters >= 1);
  assert_well_bracketed(&h);
  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_signal_close(shutdown), WEFT_OK);
  weft_future_release(c.done);
}

static void test_wait_hook__null_removes_the_hook(void** state) {
  fixture* f = FIXTURE(state);
  hook_log h = {0};
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &h), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(100), checked_callback, &h), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_true(h.enters >= 1);
  assert_well_bracketed(&h);
  const int enters = h.enters;

  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, &h), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(5), checked_callback, &h), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(h.callbacks, 2);
  assert_int_equal(h.enters, enters);
  assert_int_equal(h.exits, enters);
}

/* A hook replaced from a callback takes effect at the next wait. */
typedef struct swap {
  weft_loop_t* loop;
  hook_log* next;
  weft_status set;
} swap;

static void swap_hook(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  swap* s = user;
  s->set = weft_loop_set_wait_hook(s->loop, log_hook, s->next);
}

static void test_wait_hook__replaced_from_a_callback(void** state) {
  fixture* f = FIXTURE(state);
  hook_log first = {0}, second = {0};
  swap s = {f->loop, &second, WEFT_ERR_IO_ERROR};
  assert_int_equal(weft_loop_set_wait_hook(f->loop, log_hook, &first), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(100), swap_hook, &s), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_MS(200), checked_callback, &second), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(s.set, WEFT_OK);
  assert_true(first.enters >= 1);
  assert_true(second.enters >= 1);
  assert_well_bracketed(&first);
  assert_well_bracketed(&second);
  assert_int_equal(weft_loop_set_wait_hook(f->loop, NULL, NULL), WEFT_OK);
}

typedef struct stranger {
  weft_loop_t* loop;
  weft_status status;
} stranger;

static void* set_from_other_thread(void* arg) {
  stranger* s = arg;
  s->status = weft_loop_set_wait_hook(s->loop, log_hook, NULL);
  return NULL;
}

static void test_wait_hook__refusals(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  assert_int_equal(weft_loop_set_wait_hook(NULL, log_hook, NULL), WEFT_ERR_INVALID_HANDLE);
  stranger s = {f->loop, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, set_from_other_thread, &s), 0);
  pthread_join(thread, NULL);
  assert_int_equal(s.status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(misuse.count, 2);
  misuse_recorder_remove();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_wait_hook__brackets_a_timer_sleep, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__not_called_when_the_loop_does_not_wait, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__io_callbacks_run_after_the_wait, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__posts_from_another_thread_run_after_the_wait,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__signal_callbacks_run_after_the_wait, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__null_removes_the_hook, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__replaced_from_a_callback, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_wait_hook__refusals, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
