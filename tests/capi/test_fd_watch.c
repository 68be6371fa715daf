/* Watching file descriptors the test owns (weft/fd.h): readiness of
 * socketpairs and pipes in each direction, a reader that waits again from
 * its callback, both directions pending at once, cancelling a wait through
 * its future, closing a watch with waits pending, and the refusals (bad
 * descriptors, bad events, a second wait for a direction). The descriptors
 * are the test's: each test closes them after closing the watch. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What an fd callback saw. */
typedef struct fd_record {
  int calls;
  weft_status status;
  int events;
  char message[200];
} fd_record;

static void record_fd(void* user, weft_status status, const char* message, int events) {
  fd_record* r = user;
  r->calls++;
  r->status = status;
  r->events = events;
  check_message(status, message, r->message, sizeof r->message);
  if (status != WEFT_OK) assert_int_equal(events, 0);
}

static void never_called_fd(void* user, weft_status status, const char* message, int events) {
  (void)user;
  (void)status;
  (void)message;
  (void)events;
  fail_msg("a callback of a failed call ran");
}

static void make_socketpair(int fds[2]) { assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }

static weft_fd_watch_t* watch_fd(fixture* f, int fd) {
  weft_fd_watch_t* w = NULL;
  assert_int_equal(weft_fd_watch(&w, f->loop, fd), WEFT_OK);
  assert_non_null(w);
  return w;
}

static void write_byte(int fd) { assert_int_equal(write(fd, "x", 1), 1); }

static void test_fd_watch__socketpair_readable_and_writable(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  weft_fd_watch_t* w = watch_fd(f, s[0]);

  /* Nothing to read yet: the wait stays pending. */
  fd_record readable = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &readable), WEFT_OK);
  spin_loop(f->loop, 5);
  assert_int_equal(readable.calls, 0);
  write_byte(s[1]);
  assert_true(run_until(f->loop, &readable.calls));
  assert_int_equal(readable.status, WEFT_OK);
  assert_int_equal(readable.events, WEFT_FD_READABLE);

  /* Level-triggered: unread data completes the next wait too; the future
   * resolves with the ready events. */
  weft_future_t* future = NULL;
  fd_record again = {0};
  assert_int_equal(weft_fd_wait(&future, w, WEFT_FD_READABLE, record_fd, &again), WEFT_OK);
  assert_true(run_until(f->loop, &again.calls));
  weft_status status = WEFT_ERR_IO_ERROR;
  weft_value value;
  assert_int_equal(weft_future_result(&status, &value, NULL, future), WEFT_OK);
  assert_int_equal(status, WEFT_OK);
  int64_t events = 0;
  assert_int_equal(weft_value_get_int64(&events, &value), WEFT_OK);
  assert_int_equal(events, WEFT_FD_READABLE);
  weft_future_release(future);

  /* An empty socket buffer: writable at once. */
  fd_record writable = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_WRITABLE, record_fd, &writable), WEFT_OK);
  assert_true(run_until(f->loop, &writable.calls));
  assert_int_equal(writable.status, WEFT_OK);
  assert_int_equal(writable.events, WEFT_FD_WRITABLE);

  /* Both asked for, both ready. */
  fd_record both = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE | WEFT_FD_WRITABLE, record_fd, &both), WEFT_OK);
  assert_true(run_until(f->loop, &both.calls));
  assert_int_equal(both.events, WEFT_FD_READABLE | WEFT_FD_WRITABLE);

  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(readable.calls + again.calls + writable.calls + both.calls, 4);
  /* The descriptor is still the test's, and still open. */
  char c;
  assert_int_equal(read(s[0], &c, 1), 1);
  close(s[0]);
  close(s[1]);
}

static void test_fd_watch__pipe_ends(void** state) {
  fixture* f = FIXTURE(state);
  int p[2];
  assert_int_equal(pipe(p), 0);
  weft_fd_watch_t* r = watch_fd(f, p[0]);
  weft_fd_watch_t* w = watch_fd(f, p[1]);
  fd_record readable = {0}, writable = {0};
  assert_int_equal(weft_fd_wait(NULL, r, WEFT_FD_READABLE, record_fd, &readable), WEFT_OK);
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_WRITABLE, record_fd, &writable), WEFT_OK);
  assert_true(run_until(f->loop, &writable.calls));
  assert_int_equal(writable.events, WEFT_FD_WRITABLE);
  assert_int_equal(readable.calls, 0);
  write_byte(p[1]);
  assert_true(run_until(f->loop, &readable.calls));
  assert_int_equal(readable.events, WEFT_FD_READABLE);

  /* The write end closed: a hang-up counts as readable (read says EOF). */
  char c;
  assert_int_equal(read(p[0], &c, 1), 1);
  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  close(p[1]);
  fd_record hangup = {0};
  assert_int_equal(weft_fd_wait(NULL, r, WEFT_FD_READABLE, record_fd, &hangup), WEFT_OK);
  assert_true(run_until(f->loop, &hangup.calls));
  assert_int_equal(hangup.status, WEFT_OK);
  assert_int_equal(hangup.events, WEFT_FD_READABLE);
  assert_int_equal(read(p[0], &c, 1), 0);
  assert_int_equal(weft_fd_watch_close(r), WEFT_OK);
  close(p[0]);
}

/* The asyncio add_reader pattern: each callback reads what arrived, sends
 * the next byte from the other end and waits again. */
typedef struct echo {
  weft_fd_watch_t* watch;
  int reader, writer;
  int rounds, target;
  int failures;
} echo;

static void echo_on_readable(void* user, weft_status status, const char* message, int events) {
  (void)message;
  echo* e = user;
  if (status != WEFT_OK || events != WEFT_FD_READABLE) {
    e->failures++;
    e->rounds = e->target;
    return;
  }
  char c;
  if (read(e->reader, &c, 1) != 1) e->failures++;
  if (++e->rounds == e->target) return;
  if (write(e->writer, "y", 1) != 1) e->failures++;
  if (weft_fd_wait(NULL, e->watch, WEFT_FD_READABLE, echo_on_readable, e) != WEFT_OK) {
    e->failures++;
    e->rounds = e->target;
  }
}

static void test_fd_watch__waiting_again_from_the_callback_1000_times(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  echo e = {watch_fd(f, s[0]), s[0], s[1], 0, 1000, 0};
  assert_int_equal(weft_fd_wait(NULL, e.watch, WEFT_FD_READABLE, echo_on_readable, &e), WEFT_OK);
  write_byte(s[1]);
  /* The pending wait keeps the loop running; the last round waits no more. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(e.rounds, 1000);
  assert_int_equal(e.failures, 0);
  assert_int_equal(weft_fd_watch_close(e.watch), WEFT_OK);
  close(s[0]);
  close(s[1]);
}

static void test_fd_watch__both_directions_pending_at_once(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  weft_fd_watch_t* w = watch_fd(f, s[0]);
  fd_record readable = {0}, writable = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &readable), WEFT_OK);
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_WRITABLE, record_fd, &writable), WEFT_OK);
  assert_true(run_until(f->loop, &writable.calls));
  assert_int_equal(writable.events, WEFT_FD_WRITABLE);
  spin_loop(f->loop, 3);
  assert_int_equal(readable.calls, 0); /* still pending, still watched */
  write_byte(s[1]);
  assert_true(run_until(f->loop, &readable.calls));
  assert_int_equal(readable.events, WEFT_FD_READABLE);
  assert_int_equal(writable.calls, 1);
  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  close(s[0]);
  close(s[1]);
}

static void test_fd_watch__a_wait_cancelled_through_its_future(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  weft_fd_watch_t* w = watch_fd(f, s[0]);
  weft_future_t* future = NULL;
  fd_record cancelled = {0};
  assert_int_equal(weft_fd_wait(&future, w, WEFT_FD_READABLE, record_fd, &cancelled), WEFT_OK);
  assert_int_equal(weft_future_cancel(future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  weft_status status = WEFT_OK;
  assert_int_equal(weft_future_result(&status, NULL, NULL, future), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  weft_future_release(future);

  /* The direction is free again at once, and the new wait works. */
  fd_record next = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &next), WEFT_OK);
  write_byte(s[1]);
  assert_true(run_until(f->loop, &next.calls));
  assert_int_equal(next.status, WEFT_OK);
  spin_loop(f->loop, 3);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  close(s[0]);
  close(s[1]);
}

static void test_fd_watch__closing_cancels_pending_waits_once(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  /* Fill the send buffer so that WRITABLE stays pending. */
  int flags = fcntl(s[1], F_GETFL);
  assert_int_equal(fcntl(s[1], F_SETFL, flags | O_NONBLOCK), 0);
  char chunk[4096];
  memset(chunk, 'z', sizeof chunk);
  int i;
  for (i = 0; i < 100000 && write(s[1], chunk, sizeof chunk) > 0; ++i) {
  }
  assert_int_equal(errno, EAGAIN);
  weft_fd_watch_t* w = watch_fd(f, s[1]);
  fd_record readable = {0}, writable = {0};
  weft_future_t* future = NULL;
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &readable), WEFT_OK);
  assert_int_equal(weft_fd_wait(&future, w, WEFT_FD_WRITABLE, record_fd, &writable), WEFT_OK);
  spin_loop(f->loop, 3);
  assert_int_equal(readable.calls + writable.calls, 0);
  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  assert_int_equal(readable.calls, 1);
  assert_int_equal(readable.status, WEFT_ERR_CANCELLED);
  assert_int_equal(writable.calls, 1);
  assert_int_equal(writable.status, WEFT_ERR_CANCELLED);
  weft_status status = WEFT_OK;
  assert_int_equal(weft_future_result(&status, NULL, NULL, future), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  weft_future_release(future);
  assert_int_equal(weft_fd_watch_close(w), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, never_called_fd, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(readable.calls + writable.calls, 2);
  assert_int_not_equal(fcntl(s[1], F_GETFD), -1); /* not closed by weft */
  close(s[0]);
  close(s[1]);
}

static void test_fd_watch__scope_cancellation_ends_the_watch(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  weft_scope_t* scope = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "fd"), WEFT_OK);
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_fd_watch_t* w = NULL;
  assert_int_equal(weft_fd_watch(&w, loop, s[0]), WEFT_OK);
  fd_record pending = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &pending), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_fd_watch_close(w), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_fd_watch(&w, loop, s[0]), WEFT_ERR_CLOSED);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  /* The descriptor can be watched again once the old watch is gone. */
  w = watch_fd(f, s[0]);
  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  close(s[0]);
  close(s[1]);
}

static void test_fd_watch__bad_arguments_are_refused(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  weft_fd_watch_t* w = NULL;
  assert_int_equal(weft_fd_watch(&w, f->loop, -1), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(w);
  assert_int_equal(weft_fd_watch(NULL, f->loop, 0), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_fd_watch(&w, NULL, 0), WEFT_ERR_INVALID_HANDLE);

  /* A descriptor number that is not open. */
  int p[2];
  assert_int_equal(pipe(p), 0);
  int closed_fd = dup(p[0]);
  assert_true(closed_fd >= 0);
  close(closed_fd);
  misuse.count = 0;
  assert_int_equal(weft_fd_watch(&w, f->loop, closed_fd), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(w);
  assert_int_equal(misuse.count, 1);
  assert_non_null(strstr(misuse.last_message, "fd"));

  /* A regular file cannot be polled. */
  char path[] = "/tmp/weft-fd-watch-XXXXXX";
  int file = mkstemp(path);
  assert_true(file >= 0);
  unlink(path);
  assert_int_equal(weft_fd_watch(&w, f->loop, file), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(w);
  close(file);

  /* A descriptor already watched (and waited on) on this loop. */
  weft_fd_watch_t* first = watch_fd(f, p[0]);
  fd_record pending = {0};
  assert_int_equal(weft_fd_wait(NULL, first, WEFT_FD_READABLE, record_fd, &pending), WEFT_OK);
  spin_loop(f->loop, 1);
  misuse.count = 0;
  assert_int_equal(weft_fd_watch(&w, f->loop, p[0]), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(w);
  assert_non_null(strstr(misuse.last_message, "already watched"));

  /* Bad events, and a result nobody would hear. */
  assert_int_equal(weft_fd_wait(NULL, first, 0, never_called_fd, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_fd_wait(NULL, first, 4, never_called_fd, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_fd_wait(NULL, first, WEFT_FD_WRITABLE | 8, never_called_fd, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_fd_wait(NULL, first, WEFT_FD_WRITABLE, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  /* No handle, or a handle of another kind. */
  assert_int_equal(weft_fd_wait(NULL, NULL, WEFT_FD_READABLE, never_called_fd, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_fd_wait(NULL, (weft_fd_watch_t*)f->loop, WEFT_FD_READABLE, never_called_fd, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  misuse_recorder_remove();

  assert_int_equal(weft_fd_watch_close(NULL), WEFT_OK);
  assert_int_equal(weft_fd_watch_close(first), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  close(p[0]);
  close(p[1]);
}

static void test_fd_watch__a_second_wait_for_a_direction_is_refused(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  int s[2];
  make_socketpair(s);
  weft_fd_watch_t* w = watch_fd(f, s[0]);
  fd_record readable = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &readable), WEFT_OK);
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, never_called_fd, NULL), WEFT_ERR_INVALID_STATE);
  assert_non_null(strstr(misuse.last_message, "already pending"));
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE | WEFT_FD_WRITABLE, never_called_fd, NULL),
                   WEFT_ERR_INVALID_STATE);
  /* The other direction is free. */
  fd_record writable = {0};
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_WRITABLE, record_fd, &writable), WEFT_OK);
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_WRITABLE, never_called_fd, NULL), WEFT_ERR_INVALID_STATE);
  misuse_recorder_remove();
  assert_true(run_until(f->loop, &writable.calls));
  /* Once delivered, the direction may be waited on again. */
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_WRITABLE, record_fd, &writable), WEFT_OK);
  assert_int_equal(weft_fd_watch_close(w), WEFT_OK);
  assert_int_equal(readable.status, WEFT_ERR_CANCELLED);
  assert_int_equal(writable.calls, 2);
  close(s[0]);
  close(s[1]);
}

/* Left open at runtime destruction: the waits hear WEFT_ERR_CANCELLED then. */
static fd_record g_at_destroy;

static void test_fd_watch__runtime_destruction_cancels(void** state) {
  fixture* f = FIXTURE(state);
  int s[2];
  make_socketpair(s);
  weft_fd_watch_t* w = watch_fd(f, s[0]);
  memset(&g_at_destroy, 0, sizeof g_at_destroy);
  assert_int_equal(weft_fd_wait(NULL, w, WEFT_FD_READABLE, record_fd, &g_at_destroy), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(g_at_destroy.calls, 1);
  assert_int_equal(g_at_destroy.status, WEFT_ERR_CANCELLED);
  close(s[0]);
  close(s[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fd_watch__socketpair_readable_and_writable, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__pipe_ends, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__waiting_again_from_the_callback_1000_times,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__both_directions_pending_at_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__a_wait_cancelled_through_its_future, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__closing_cancels_pending_waits_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__scope_cancellation_ends_the_watch, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__bad_arguments_are_refused, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__a_second_wait_for_a_direction_is_refused, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_fd_watch__runtime_destruction_cancels, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
