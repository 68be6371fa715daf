/* Cancelling one pending operation without ending its handle: a stream's
 * read (weft_stream_cancel_read, on a socketpair and on TCP), a listener's
 * accepts (weft_tcp_cancel_accept, weft_pipe_cancel_accept) and a UDP
 * socket's receive (weft_udp_cancel_recv). Each cancelled callback is
 * called once, inside the cancelling call, with WEFT_ERR_CANCELLED; the
 * handle stays usable and no byte or connection is lost. */
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
  weft_tcp_stream_t* stream;
  int order;
  int* sequence;
  weft_tcp_listener_t* listener_to_close;
} accept_record;

static void record_accept(void* user, weft_status status, weft_tcp_stream_t* stream) {
  accept_record* r = user;
  r->calls++;
  r->status = status;
  r->stream = stream;
  if (r->sequence != NULL) r->order = ++*r->sequence;
  if (r->listener_to_close != NULL) {
    assert_int_equal(weft_tcp_listener_close(r->listener_to_close), WEFT_OK);
  }
}

typedef struct pipe_accept_record {
  int calls;
  weft_status status;
  weft_stream_t* stream;
} pipe_accept_record;

static void record_pipe_accept(void* user, weft_status status, weft_stream_t* stream) {
  pipe_accept_record* r = user;
  r->calls++;
  r->status = status;
  r->stream = stream;
}

typedef struct recv_record {
  int calls;
  weft_status status;
  char bytes[64];
  size_t len;
} recv_record;

static void record_recv(void* user, weft_status status, const void* bytes, size_t len,
                        const weft_address* from, int truncated) {
  recv_record* r = user;
  (void)from;
  (void)truncated;
  r->calls++;
  r->status = status;
  if (len > sizeof(r->bytes)) len = sizeof(r->bytes);
  if (len > 0) memcpy(r->bytes, bytes, len);
  r->len = len;
}

static void test_cancel__a_read_and_its_bytes_stay(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a = NULL, *b = NULL;
  assert_int_equal(weft_pipe_pair(&a, &b, f->loop), WEFT_OK);

  /* Nothing pending: nothing to cancel. */
  assert_int_equal(weft_stream_cancel_read(b), WEFT_ERR_ALREADY_COMPLETED);

  /* A plain read, cancelled inside the call. */
  read_record first = {0};
  assert_int_equal(weft_stream_read(b, 64, record_read, &first), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(first.calls, 0);
  assert_int_equal(weft_stream_cancel_read(b), WEFT_OK);
  assert_int_equal(first.calls, 1);
  assert_int_equal(first.status, WEFT_ERR_CANCELLED);
  assert_true(first.null_bytes);
  assert_int_equal(weft_stream_cancel_read(b), WEFT_ERR_ALREADY_COMPLETED);

  /* A line read that has half its line buffered: cancelled, the half stays,
   * and the next read gets the whole line. */
  read_record line = {0}, whole = {0};
  assert_int_equal(weft_stream_write(a, "hello wor", 9, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 1024, record_read, &line), WEFT_OK);
  for (int i = 0; i < 20; ++i) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(line.calls, 0);
  size_t buffered = 0;
  assert_int_equal(weft_stream_cancel_read(b), WEFT_OK);
  assert_int_equal(line.calls, 1);
  assert_int_equal(line.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 9);
  assert_int_equal(weft_stream_write(a, "ld\n", 3, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 1024, record_read, &whole), WEFT_OK);
  assert_true(run_until(f->loop, &whole.calls));
  assert_int_equal(whole.status, WEFT_OK);
  assert_int_equal(whole.len, 12);
  assert_memory_equal(whole.bytes, "hello world\n", 12);

  /* Cancelling a read leaves a pending write alone. */
  call_record written = {0};
  read_record read = {0};
  assert_int_equal(weft_stream_read(a, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_stream_write(a, "x", 1, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_cancel_read(a), WEFT_OK);
  assert_int_equal(read.calls, 1);
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
  assert_int_equal(weft_tcp_cancel_accept(listener), WEFT_ERR_ALREADY_COMPLETED);

  /* Two pending accepts: both cancelled, in order, inside the call. */
  int sequence = 0;
  accept_record one = {0}, two = {0};
  one.sequence = two.sequence = &sequence;
  assert_int_equal(weft_tcp_accept(listener, record_accept, &one), WEFT_OK);
  assert_int_equal(weft_tcp_accept(listener, record_accept, &two), WEFT_OK);
  assert_int_equal(weft_tcp_cancel_accept(listener), WEFT_OK);
  assert_int_equal(one.calls, 1);
  assert_int_equal(two.calls, 1);
  assert_int_equal(one.status, WEFT_ERR_CANCELLED);
  assert_int_equal(two.status, WEFT_ERR_CANCELLED);
  assert_null(one.stream);
  assert_int_equal(one.order, 1);
  assert_int_equal(two.order, 2);

  /* The listener still listens: a connection made now is accepted next. */
  accept_record connected = {0}, accepted = {0};
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 5000, record_accept, &connected),
                   WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(weft_tcp_accept(listener, record_accept, &accepted), WEFT_OK);
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(accepted.status, WEFT_OK);

  /* A TCP stream's read, through its weft_stream_t. */
  read_record read = {0}, next = {0};
  assert_int_equal(weft_tcp_read(accepted.stream, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_stream_cancel_read(weft_tcp_as_stream(accepted.stream)), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_tcp_write(connected.stream, "after", 5, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_tcp_read(accepted.stream, 64, record_read, &next), WEFT_OK);
  assert_true(run_until(f->loop, &next.calls));
  assert_int_equal(next.status, WEFT_OK);
  assert_int_equal(next.len, 5);
  assert_memory_equal(next.bytes, "after", 5);

  /* A cancelled accept's callback may close the listener: the other
   * pending accept is then cancelled by the close, still exactly once. */
  accept_record closer = {0}, other = {0};
  closer.listener_to_close = listener;
  assert_int_equal(weft_tcp_accept(listener, record_accept, &closer), WEFT_OK);
  assert_int_equal(weft_tcp_accept(listener, record_accept, &other), WEFT_OK);
  assert_int_equal(weft_tcp_cancel_accept(listener), WEFT_OK);
  assert_int_equal(closer.calls, 1);
  assert_int_equal(other.calls, 1);
  assert_int_equal(other.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_tcp_cancel_accept(listener), WEFT_ERR_STALE_HANDLE);

  assert_int_equal(weft_tcp_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_tcp_close(accepted.stream), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(one.calls, 1);
  assert_int_equal(closer.calls, 1);
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
  assert_int_equal(weft_pipe_cancel_accept(listener), WEFT_ERR_ALREADY_COMPLETED);
  pipe_accept_record cancelled = {0}, accepted = {0}, connected = {0};
  assert_int_equal(weft_pipe_accept(listener, record_pipe_accept, &cancelled), WEFT_OK);
  assert_int_equal(weft_pipe_cancel_accept(listener), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_null(cancelled.stream);
  assert_int_equal(weft_pipe_connect(f->loop, path, 5000, record_pipe_accept, &connected), WEFT_OK);
  assert_int_equal(weft_pipe_accept(listener, record_pipe_accept, &accepted), WEFT_OK);
  assert_true(run_until(f->loop, &accepted.calls));
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(accepted.status, WEFT_OK);
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(weft_stream_close(accepted.stream), WEFT_OK);
  assert_int_equal(weft_stream_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  assert_int_equal(rmdir(dir), 0);
  assert_int_equal(cancelled.calls, 1);
}

static void test_cancel__a_udp_receive(void** state) {
  fixture* f = FIXTURE(state);
  weft_udp_socket_t *receiver = NULL, *sender = NULL;
  weft_address address;
  assert_int_equal(weft_udp_bind(&receiver, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_bind(&sender, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_local_address(&address, receiver), WEFT_OK);
  assert_int_equal(weft_udp_cancel_recv(receiver), WEFT_ERR_ALREADY_COMPLETED);

  recv_record cancelled = {0}, received = {0};
  assert_int_equal(weft_udp_recv_from(receiver, record_recv, &cancelled), WEFT_OK);
  assert_int_equal(weft_udp_cancel_recv(receiver), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_int_equal(cancelled.len, 0);
  /* The socket is free for the next receive, which gets the datagram. */
  assert_int_equal(weft_udp_recv_from(receiver, record_recv, &received), WEFT_OK);
  assert_int_equal(weft_udp_send_to(sender, "dgram", 5, "127.0.0.1", address.port, NULL, NULL),
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
  assert_int_equal(weft_stream_cancel_read(NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_cancel_accept(NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_cancel_accept(NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_cancel_recv(NULL), WEFT_ERR_INVALID_HANDLE);
  /* The wrong kind of handle. */
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_stream_cancel_read((weft_stream_t*)socket), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_cancel_accept((weft_tcp_listener_t*)socket), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_cancel_accept((weft_pipe_listener_t*)f->loop), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_cancel_recv((weft_udp_socket_t*)f->loop), WEFT_ERR_INVALID_HANDLE);
  /* A stale one. */
  assert_int_equal(weft_udp_close(socket), WEFT_OK);
  assert_int_equal(weft_udp_cancel_recv(socket), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(misuse.count, 9);
  misuse_recorder_remove();
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
