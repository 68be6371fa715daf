/* Cancelling one pending operation without ending its handle, with
 * weft_future_cancel on the operation's future: a stream's read (on a
 * socketpair and on TCP), a listener's accepts (TCP and Unix socket) and a
 * UDP socket's receive. On the loop thread each cancelled callback is
 * called once, inside weft_future_cancel, with WEFT_ERR_CANCELLED, and the
 * future is rejected the same way; the handle stays usable and no byte or
 * connection is lost. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What an accept callback saw; `listener_to_close` is closed from inside it. */
typedef struct accept_record {
  int calls;
  weft_status status;
  weft_stream_t* stream;
  int order;
  int* sequence;
  weft_tcp_listener_t* listener_to_close;
  char message[200];
} accept_record;

static void record_accept(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  accept_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->stream = stream;
  if (r->sequence != NULL) r->order = ++*r->sequence;
  if (r->listener_to_close != NULL) {
    assert_int_equal(weft_tcp_listener_close(r->listener_to_close), WEFT_OK);
  }
}

typedef struct recv_record {
  int calls;
  weft_status status;
  char bytes[64];
  size_t len;
  int null_from;
} recv_record;

static void record_recv(void* user, weft_status status, const char* message, const void* bytes,
                        size_t len, const weft_address* from, int truncated) {
  recv_record* r = user;
  (void)truncated;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
  r->null_from = from == NULL;
  if (len > sizeof(r->bytes)) len = sizeof(r->bytes);
  if (len > 0) memcpy(r->bytes, bytes, len);
  r->len = len;
}

/* Checks that an operation's future was rejected with WEFT_ERR_CANCELLED
 * and a message, then releases it. */
static void expect_cancelled_and_release(weft_future_t* future) {
  weft_status status = WEFT_OK;
  weft_value value;
  const char* message = NULL;
  assert_int_equal(weft_future_result(&status, &value, &message, future), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_non_null(message);
  assert_true(message[0] != '\0');
  assert_int_equal(weft_future_release(future), WEFT_OK);
}

static void test_cancel__a_read_and_its_bytes_stay(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a = NULL, *b = NULL;
  assert_int_equal(weft_pipe_pair(&a, &b, f->loop), WEFT_OK);

  /* Nothing pending: nothing to cancel (a write that completed). */
  weft_future_t* done = NULL;
  call_record wrote = {0};
  assert_int_equal(weft_stream_write(&done, a, "", 0, record_callback, &wrote), WEFT_OK);
  assert_true(run_until(f->loop, &wrote.calls));
  assert_int_equal(wrote.status, WEFT_OK);
  assert_int_equal(weft_future_cancel(done), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(wrote.calls, 1);
  assert_int_equal(weft_future_release(done), WEFT_OK);

  /* A plain read, cancelled inside the call. */
  read_record first = {0};
  weft_future_t* first_future = NULL;
  assert_int_equal(weft_stream_read(&first_future, b, 64, record_read, &first), WEFT_OK);
  assert_non_null(first_future);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(first.calls, 0);
  assert_int_equal(weft_future_cancel(first_future), WEFT_OK);
  assert_int_equal(first.calls, 1);
  assert_int_equal(first.status, WEFT_ERR_CANCELLED);
  assert_true(first.null_bytes);
  assert_int_equal(weft_future_cancel(first_future), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(first.calls, 1);
  expect_cancelled_and_release(first_future);

  /* A line read that has half its line buffered: cancelled, the half stays,
   * and the next read gets the whole line. */
  read_record line = {0}, whole = {0};
  weft_future_t* line_future = NULL;
  assert_int_equal(weft_stream_write(NULL, a, "hello wor", 9, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(&line_future, b, "\n", 1, 1024, record_read, &line), WEFT_OK);
  for (int i = 0; i < 20; ++i) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(line.calls, 0);
  size_t buffered = 0;
  assert_int_equal(weft_future_cancel(line_future), WEFT_OK);
  assert_int_equal(line.calls, 1);
  assert_int_equal(line.status, WEFT_ERR_CANCELLED);
  expect_cancelled_and_release(line_future);
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 9);
  assert_int_equal(weft_stream_write(NULL, a, "ld\n", 3, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 1024, record_read, &whole), WEFT_OK);
  assert_true(run_until(f->loop, &whole.calls));
  assert_int_equal(whole.status, WEFT_OK);
  assert_int_equal(whole.len, 12);
  assert_memory_equal(whole.bytes, "hello world\n", 12);

  /* Cancelling a read leaves a pending write alone. */
  call_record written = {0};
  read_record read = {0};
  weft_future_t* read_future = NULL;
  assert_int_equal(weft_stream_read(&read_future, a, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_stream_write(NULL, a, "x", 1, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_future_cancel(read_future), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  expect_cancelled_and_release(read_future);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);

  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(first.calls, 1);
}

static void test_cancel__tcp_accepts_and_reads(void** state) {
  fixture* f = FIXTURE(state);
  weft_tcp_listener_t* listener = NULL;
  uint16_t port = 0;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_tcp_listener_port(&port, listener), WEFT_OK);

  /* Two pending accepts: each cancelled inside its own call, in order; the
   * second is still pending while the first is cancelled. */
  int sequence = 0;
  accept_record one = {0}, two = {0};
  one.sequence = two.sequence = &sequence;
  weft_future_t *one_future = NULL, *two_future = NULL;
  assert_int_equal(weft_tcp_accept(&one_future, listener, record_accept, &one), WEFT_OK);
  assert_int_equal(weft_tcp_accept(&two_future, listener, record_accept, &two), WEFT_OK);
  assert_int_equal(weft_future_cancel(one_future), WEFT_OK);
  assert_int_equal(one.calls, 1);
  assert_int_equal(two.calls, 0);
  assert_int_equal(weft_future_cancel(two_future), WEFT_OK);
  assert_int_equal(one.calls, 1);
  assert_int_equal(two.calls, 1);
  assert_int_equal(one.status, WEFT_ERR_CANCELLED);
  assert_int_equal(two.status, WEFT_ERR_CANCELLED);
  assert_null(one.stream);
  assert_null(two.stream);
  assert_int_equal(one.order, 1);
  assert_int_equal(two.order, 2);
  assert_int_equal(weft_future_cancel(one_future), WEFT_ERR_ALREADY_COMPLETED);
  expect_cancelled_and_release(one_future);
  expect_cancelled_and_release(two_future);

  /* The listener still listens: a connection made now is accepted next. */
  accept_record connected = {0}, accepted = {0};
  assert_int_equal(weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_SEC(5), record_accept, &connected),
                   WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(connected.status, WEFT_OK);
  /* An accept cancelled while the connection is already there: either it
   * could still be stopped (WEFT_OK: CANCELLED inside the call, the
   * connection left for the next accept) or it had already taken the
   * connection (WEFT_ERR_ALREADY_COMPLETED: delivered later, as it is).
   * Either way one outcome, once, and no connection lost. */
  accept_record skipped = {0};
  weft_future_t* skipped_future = NULL;
  assert_int_equal(weft_tcp_accept(&skipped_future, listener, record_accept, &skipped), WEFT_OK);
  const weft_status cancel = weft_future_cancel(skipped_future);
  if (cancel == WEFT_OK) { /* stopped: its callback ran inside the call */
    assert_int_equal(skipped.calls, 1);
    assert_int_equal(skipped.status, WEFT_ERR_CANCELLED);
    expect_cancelled_and_release(skipped_future);
    assert_int_equal(weft_tcp_accept(NULL, listener, record_accept, &accepted), WEFT_OK);
    assert_true(run_until(f->loop, &accepted.calls));
  } else { /* the outcome was decided: it comes, as it is, from a loop run */
    assert_int_equal(cancel, WEFT_ERR_ALREADY_COMPLETED);
    assert_int_equal(skipped.calls, 0);
    assert_true(run_until(f->loop, &skipped.calls));
    assert_int_equal(weft_future_cancel(skipped_future), WEFT_ERR_ALREADY_COMPLETED);
    assert_int_equal(weft_future_release(skipped_future), WEFT_OK);
    accepted = skipped;
  }
  assert_int_equal(skipped.calls, 1);
  assert_int_equal(accepted.calls, 1);
  assert_int_equal(accepted.status, WEFT_OK);
  assert_non_null(accepted.stream);

  /* A TCP stream's read. */
  read_record read = {0}, next = {0};
  weft_future_t* read_future = NULL;
  assert_int_equal(weft_stream_read(&read_future, accepted.stream, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_future_cancel(read_future), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  expect_cancelled_and_release(read_future);
  assert_int_equal(weft_stream_write(NULL, connected.stream, "after", 5, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, accepted.stream, 64, record_read, &next), WEFT_OK);
  assert_true(run_until(f->loop, &next.calls));
  assert_int_equal(next.status, WEFT_OK);
  assert_int_equal(next.len, 5);
  assert_memory_equal(next.bytes, "after", 5);

  /* A cancelled accept's callback may close the listener: the other
   * pending accept is then cancelled by the close, still exactly once. */
  accept_record closer = {0}, other = {0};
  weft_future_t *closer_future = NULL, *other_future = NULL;
  closer.listener_to_close = listener;
  assert_int_equal(weft_tcp_accept(&closer_future, listener, record_accept, &closer), WEFT_OK);
  assert_int_equal(weft_tcp_accept(&other_future, listener, record_accept, &other), WEFT_OK);
  assert_int_equal(weft_future_cancel(closer_future), WEFT_OK);
  assert_int_equal(closer.calls, 1);
  assert_int_equal(closer.status, WEFT_ERR_CANCELLED);
  assert_int_equal(other.calls, 1);
  assert_int_equal(other.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_cancel(other_future), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(other.calls, 1);
  expect_cancelled_and_release(closer_future);
  expect_cancelled_and_release(other_future);
  assert_int_equal(weft_tcp_accept(NULL, listener, record_accept, &other), WEFT_ERR_STALE_HANDLE);

  assert_int_equal(weft_stream_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_stream_close(accepted.stream), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(one.calls, 1);
  assert_int_equal(closer.calls, 1);
  assert_int_equal(other.calls, 1);
}

static void test_cancel__a_unix_socket_accept(void** state) {
  fixture* f = FIXTURE(state);
  char dir[256];
  const char* base = getenv("TEST_TMPDIR");
  if (base == NULL || strlen(base) > 60) base = "/tmp"; /* socket paths are short */
  snprintf(dir, sizeof dir, "%s/cancelXXXXXX", base);
  assert_non_null(mkdtemp(dir));
  char path[300];
  snprintf(path, sizeof path, "%s/s.sock", dir);
  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  stream_record cancelled = {0}, accepted = {0}, connected = {0};
  weft_future_t* cancelled_future = NULL;
  assert_int_equal(weft_pipe_accept(&cancelled_future, listener, record_stream, &cancelled), WEFT_OK);
  assert_int_equal(weft_future_cancel(cancelled_future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_null(cancelled.stream);
  assert_int_equal(weft_future_cancel(cancelled_future), WEFT_ERR_ALREADY_COMPLETED);
  expect_cancelled_and_release(cancelled_future);
  assert_int_equal(weft_pipe_connect(NULL, f->loop, path, WEFT_SEC(5), record_stream, &connected), WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(connected.status, WEFT_OK);
  /* Cancelled with the connection already there: cancelled (the
   * connection stays for the next accept) or delivered as it is; one
   * outcome, once, and the connection is not lost. */
  stream_record skipped = {0};
  weft_future_t* skipped_future = NULL;
  assert_int_equal(weft_pipe_accept(&skipped_future, listener, record_stream, &skipped), WEFT_OK);
  const weft_status cancel = weft_future_cancel(skipped_future);
  if (cancel == WEFT_OK) { /* stopped: its callback ran inside the call */
    assert_int_equal(skipped.calls, 1);
    assert_int_equal(skipped.status, WEFT_ERR_CANCELLED);
    expect_cancelled_and_release(skipped_future);
    assert_int_equal(weft_pipe_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
    assert_true(run_until(f->loop, &accepted.calls));
  } else { /* the outcome was decided: it comes, as it is, from a loop run */
    assert_int_equal(cancel, WEFT_ERR_ALREADY_COMPLETED);
    assert_int_equal(skipped.calls, 0);
    assert_true(run_until(f->loop, &skipped.calls));
    assert_int_equal(weft_future_cancel(skipped_future), WEFT_ERR_ALREADY_COMPLETED);
    assert_int_equal(weft_future_release(skipped_future), WEFT_OK);
    accepted = skipped;
  }
  assert_int_equal(skipped.calls, 1);
  assert_int_equal(accepted.calls, 1);
  assert_int_equal(accepted.status, WEFT_OK);
  /* The accepted connection is the one that waited: it carries its bytes. */
  read_record got = {0};
  stream_write_text(connected.stream, "hi");
  assert_int_equal(weft_stream_read_exactly(NULL, accepted.stream, 2, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_memory_equal(got.bytes, "hi", 2);
  assert_int_equal(weft_stream_close(accepted.stream), WEFT_OK);
  assert_int_equal(weft_stream_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  assert_int_equal(rmdir(dir), 0);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(skipped.calls, 1);
}

static void test_cancel__a_udp_receive(void** state) {
  fixture* f = FIXTURE(state);
  weft_udp_socket_t *receiver = NULL, *sender = NULL;
  weft_address address;
  assert_int_equal(weft_udp_bind(&receiver, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_bind(&sender, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_local_address(&address, receiver), WEFT_OK);

  recv_record cancelled = {0}, received = {0};
  weft_future_t* cancelled_future = NULL;
  assert_int_equal(weft_udp_recv_from(&cancelled_future, receiver, record_recv, &cancelled), WEFT_OK);
  assert_int_equal(weft_future_cancel(cancelled_future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_int_equal(cancelled.len, 0);
  assert_true(cancelled.null_from);
  /* Nothing pending any more: nothing to cancel. */
  assert_int_equal(weft_future_cancel(cancelled_future), WEFT_ERR_ALREADY_COMPLETED);
  expect_cancelled_and_release(cancelled_future);
  /* The socket is free for the next receive, which gets the datagram. */
  assert_int_equal(weft_udp_recv_from(NULL, receiver, record_recv, &received), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, sender, "dgram", 5, "127.0.0.1", address.port, NULL, NULL),
                   WEFT_OK);
  assert_true(run_until(f->loop, &received.calls));
  assert_int_equal(received.status, WEFT_OK);
  assert_int_equal(received.len, 5);
  assert_memory_equal(received.bytes, "dgram", 5);
  assert_int_equal(weft_udp_close(receiver), WEFT_OK);
  assert_int_equal(weft_udp_close(sender), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
}

static void test_cancel__bad_handles(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse = {0};
  misuse_recorder_install(&misuse);
  assert_int_equal(weft_future_cancel(NULL), WEFT_ERR_INVALID_HANDLE);
  /* The wrong kind of handle: an operation's handle is not its future. */
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  weft_stream_t *a = NULL, *b = NULL;
  assert_int_equal(weft_pipe_pair(&a, &b, f->loop), WEFT_OK);
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_future_cancel((weft_future_t*)socket), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_future_cancel((weft_future_t*)a), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_future_cancel((weft_future_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_future_cancel((weft_future_t*)f->loop), WEFT_ERR_INVALID_HANDLE);
  /* A stale one: a read's future released while the read is pending. The
   * read goes on, and ends (cancelled, once) with its stream. */
  read_record pending = {0};
  weft_future_t* released = NULL;
  assert_int_equal(weft_stream_read(&released, b, 8, record_read, &pending), WEFT_OK);
  assert_int_equal(weft_future_release(released), WEFT_OK);
  assert_int_equal(weft_future_cancel(released), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(pending.calls, 0);
  assert_int_equal(misuse.count, 6);
  misuse_recorder_remove();
  stream_write_text(a, "late");
  assert_true(run_until(f->loop, &pending.calls));
  assert_int_equal(pending.status, WEFT_OK);
  assert_int_equal(pending.len, 4);
  assert_memory_equal(pending.bytes, "late", 4);
  assert_int_equal(weft_udp_close(socket), WEFT_OK);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(pending.calls, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cancel__a_read_and_its_bytes_stay, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_cancel__tcp_accepts_and_reads, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_cancel__a_unix_socket_accept, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_cancel__a_udp_receive, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_cancel__bad_handles, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
