/* Stream operations given both a callback and a future (both see the same
 * outcome, exactly once; the future is complete when the callback runs);
 * weft_future_with_timeout over a read that never completes (the read is
 * cancelled, its bytes are not lost); closing a stream with a read's future
 * pending. The futures alone are test_stream_futures.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <string.h>

#include "tests/capi/stream_future_checks.h"

/* ---- a callback and a future ---------------------------------------------- */

static void test_stream_futures__callback_and_future_see_one_outcome(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);

  /* TCP accept and connect. */
  dual accepted = {0}, connected = {0};
  assert_int_equal(weft_tcp_accept(&accepted.future, listener, dual_stream, &accepted), WEFT_OK);
  assert_int_equal(
      weft_tcp_connect(&connected.future, f->loop, "127.0.0.1", port, WEFT_SEC(5), dual_stream, &connected),
      WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(accepted.status, WEFT_OK);
  dual_finish(f, &connected);
  dual_finish(f, &accepted);
  weft_stream_t* client = connected.stream;
  weft_stream_t* server = accepted.stream;

  /* write, drain and read. */
  dual written = {0}, drained = {0}, read = {0};
  assert_int_equal(weft_stream_write(&written.future, client, "one\ntwo three", 13, dual_callback, &written),
                   WEFT_OK);
  assert_int_equal(weft_stream_drain(&drained.future, client, dual_callback, &drained), WEFT_OK);
  assert_int_equal(weft_stream_read_until(&read.future, server, "\n", 1, 64, dual_bytes, &read), WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_true(run_until(f->loop, &drained.calls));
  assert_true(run_until(f->loop, &read.calls));
  assert_int_equal(written.status, WEFT_OK);
  assert_int_equal(drained.status, WEFT_OK);
  assert_int_equal(read.status, WEFT_OK);
  assert_int_equal(read.len, 4);
  assert_memory_equal(read.bytes, "one\n", 4);
  dual_finish(f, &written);
  dual_finish(f, &drained);
  dual_finish(f, &read);

  dual exactly = {0}, some = {0};
  assert_int_equal(weft_stream_read_exactly(&exactly.future, server, 4, dual_bytes, &exactly), WEFT_OK);
  assert_true(run_until(f->loop, &exactly.calls));
  assert_int_equal(exactly.status, WEFT_OK);
  assert_int_equal(exactly.len, 4);
  assert_memory_equal(exactly.bytes, "two ", 4);
  dual_finish(f, &exactly);
  assert_int_equal(weft_stream_read(&some.future, server, 64, dual_bytes, &some), WEFT_OK);
  assert_true(run_until(f->loop, &some.calls));
  assert_int_equal(some.status, WEFT_OK);
  assert_int_equal(some.len, 5);
  assert_memory_equal(some.bytes, "three", 5);
  dual_finish(f, &some);

  /* shutdown, and the end of the stream it makes. */
  dual shut = {0}, end = {0};
  assert_int_equal(weft_stream_shutdown(&shut.future, client, dual_callback, &shut), WEFT_OK);
  assert_int_equal(weft_stream_read(&end.future, server, 64, dual_bytes, &end), WEFT_OK);
  assert_true(run_until(f->loop, &shut.calls));
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(shut.status, WEFT_OK);
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_true(end.null_bytes);
  dual_finish(f, &shut);
  dual_finish(f, &end);

  /* A read cancelled through its future: the callback gets CANCELLED inside
   * weft_future_cancel, the future is rejected the same way, once each. */
  dual cancelled = {0};
  assert_int_equal(weft_stream_read(&cancelled.future, client, 64, dual_bytes, &cancelled), WEFT_OK);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  dual_finish(f, &cancelled);

  /* An accept ended by its listener's close: both see CANCELLED, once. */
  dual closed = {0};
  assert_int_equal(weft_tcp_accept(&closed.future, listener, dual_stream, &closed), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(closed.calls, 1);
  assert_int_equal(closed.status, WEFT_ERR_CANCELLED);
  assert_null(closed.stream);
  dual_finish(f, &closed);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

/* ---- with_timeout and close ----------------------------------------------- */

static void test_stream_futures__with_timeout_cancels_a_read_that_never_completes(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);

  read_record read = {0};
  weft_future_t *reading = NULL, *timed = NULL;
  assert_int_equal(weft_stream_read(&reading, b, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_future_with_timeout(&timed, f->loop, reading, WEFT_MS(50)), WEFT_OK);
  future_record t = {0};
  await_future(f, timed, &t);
  expect_rejected(timed, &t, WEFT_ERR_TIMED_OUT, NULL, 0);
  /* The read was cancelled: its callback once, its future rejected. */
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_true(read.null_bytes);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(reading, &value, message, sizeof message), WEFT_ERR_CANCELLED);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_release(timed), WEFT_OK);
  assert_int_equal(weft_future_release(reading), WEFT_OK);

  /* The stream is still usable: a later read gets the later bytes. */
  read_record later = {0};
  stream_write_text(a, "later");
  assert_int_equal(weft_stream_read(NULL, b, 64, record_read, &later), WEFT_OK);
  assert_true(run_until(f->loop, &later.calls));
  assert_int_equal(later.status, WEFT_OK);
  assert_int_equal(later.len, 5);
  assert_memory_equal(later.bytes, "later", 5);

  /* A read that completes in time: with_timeout passes its bytes on. */
  weft_future_t *quick = NULL, *in_time = NULL;
  assert_int_equal(weft_stream_read_exactly(&quick, b, 4, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_future_with_timeout(&in_time, f->loop, quick, WEFT_SEC(5)), WEFT_OK);
  stream_write_text(a, "fast");
  future_record q = {0};
  await_future(f, in_time, &q);
  expect_bytes(in_time, &q, "fast", 4);
  assert_int_equal(weft_future_release(in_time), WEFT_OK);
  assert_int_equal(weft_future_release(quick), WEFT_OK);

  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(later.calls, 1);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

static void test_stream_futures__close_rejects_pending_read_futures(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);

  /* A read with a future and no callback, and a drain with both. */
  weft_future_t* reading = NULL;
  dual drained = {0};
  assert_int_equal(weft_stream_read_until(&reading, b, "\n", 1, 64, NULL, NULL), WEFT_OK);
  stream_write_text(a, "no newline");
  spin_loop(f->loop, 3);
  weft_status status = WEFT_OK;
  assert_int_equal(weft_future_result(&status, NULL, NULL, reading), WEFT_ERR_NOT_READY);
  future_record r = {0};
  assert_int_equal(weft_future_then(reading, f->loop, record_future, &r), WEFT_OK);

  assert_int_equal(weft_stream_close(b), WEFT_OK);
  /* Rejected inside the close; the then-callback runs from the loop. */
  weft_value value;
  char message[200];
  assert_int_equal(result_of(reading, &value, message, sizeof message), WEFT_ERR_CANCELLED);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_int_equal(r.calls, 0);
  assert_true(run_until(f->loop, &r.calls));
  expect_rejected(reading, &r, WEFT_ERR_CANCELLED, NULL, 0);
  assert_int_equal(weft_future_cancel(reading), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(weft_future_release(reading), WEFT_OK);

  /* The same with a callback as well, on the other end. */
  dual read = {0};
  assert_int_equal(weft_stream_read(&read.future, a, 64, dual_bytes, &read), WEFT_OK);
  assert_int_equal(weft_stream_drain(&drained.future, a, dual_callback, &drained), WEFT_OK);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(drained.calls, 1);
  assert_int_equal(drained.status, WEFT_ERR_CANCELLED);
  dual_finish(f, &read);
  dual_finish(f, &drained);

  /* A pending read's future ends with the runtime: rejected, and the
   * reference the caller still holds does not leak. */
  weft_stream_t *c, *d;
  stream_pair_open(f, &c, &d);
  weft_future_t* last = NULL;
  assert_int_equal(weft_stream_read_exactly(&last, d, 8, NULL, NULL), WEFT_OK);
  (void)c;
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stream_futures__callback_and_future_see_one_outcome,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__with_timeout_cancels_a_read_that_never_completes,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__close_rejects_pending_read_futures,
                                      fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
