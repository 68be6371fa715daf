/* TCP on loopback, when things go right: an echo round trip, large writes,
 * TCP streams used as weft_stream_t, socket options and addresses (IPv4,
 * and IPv6 where the machine has ::1), bad input, callbacks closing their
 * own handles, the loop thread rule, and ending handles with operations
 * pending (close, scope destroy, runtime destroy; each callback exactly
 * once). The failures (a refused connect, an address in use, a connect
 * that times out, a peer's reset mid-transfer) and half-close are in
 * test_tcp_failures.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

static void test_tcp__echo_round_trip(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);

  call_record written = {0};
  read_record at_server = {0};
  assert_int_equal(weft_stream_write(NULL, client, "hello", 5, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &at_server), WEFT_OK);
  assert_true(run_until(f->loop, &at_server.calls));
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  assert_int_equal(at_server.status, WEFT_OK);
  /* A loopback write of 5 bytes arrives whole. */
  assert_int_equal(at_server.len, 5);
  assert_memory_equal(at_server.bytes, "hello", 5);

  /* Echo it back, then half-close: the client reads it, then end of stream. */
  read_record at_client = {0}, end = {0};
  call_record shut = {0};
  assert_int_equal(weft_stream_write(NULL, server, at_server.bytes, at_server.len, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(NULL, server, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, client, 64, record_read, &at_client), WEFT_OK);
  assert_true(run_until(f->loop, &at_client.calls));
  assert_int_equal(at_client.status, WEFT_OK);
  assert_int_equal(at_client.len, 5);
  assert_memory_equal(at_client.bytes, "hello", 5);
  assert_int_equal(weft_stream_read(NULL, client, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(end.len, 0);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_stream_close(client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(written.calls, 1);
  assert_int_equal(shut.calls, 1);
}

static void never_called_stream(void* user, weft_status status, const char* message,
                                weft_stream_t* stream) {
  (void)user;
  (void)status;
  (void)message;
  (void)stream;
  fail_msg("a callback of a failed call ran");
}

static void test_tcp__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_tcp_listener_t* listener = NULL;
  uint16_t port = 0;
  assert_int_equal(weft_tcp_listen(NULL, f->loop, "127.0.0.1", 0, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_listen(&listener, NULL, "127.0.0.1", 0, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_listen(&listener, f->loop, NULL, 0, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "localhost", 0, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  weft_tcp_listen_options small = WEFT_TCP_LISTEN_OPTIONS_INIT;
  small.struct_size = 4;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, &small),
                   WEFT_ERR_INVALID_ARGUMENT);
  weft_tcp_listen_options negative = WEFT_TCP_LISTEN_OPTIONS_INIT;
  negative.backlog = -1;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, &negative),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_null(listener);
  assert_int_equal(weft_tcp_connect(NULL, f->loop, NULL, 1, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_connect(NULL, f->loop, "not an address", 1, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* A callback may be NULL now; a refused call leaves *out untouched. */
  weft_future_t* untouched = (weft_future_t*)&untouched;
  assert_int_equal(weft_tcp_connect(&untouched, f->loop, "not an address", 1, 0, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_connect(&untouched, f->loop, NULL, 1, 0, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_true(untouched == (weft_future_t*)&untouched);

  /* NULL and wrong-kind handles. */
  assert_int_equal(weft_tcp_listener_port(&port, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_accept(NULL, NULL, never_called_stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_read(NULL, NULL, 1, never_called_read, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_write(NULL, NULL, "x", 1, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_shutdown(NULL, NULL, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_close(NULL), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(NULL), WEFT_OK);
  listener = tcp_listen_loopback(f, &port);
  assert_int_equal(weft_stream_read(NULL, (weft_stream_t*)listener, 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_close((weft_stream_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_accept(&untouched, (weft_tcp_listener_t*)f->loop, NULL, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_true(untouched == (weft_future_t*)&untouched);

  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);
  assert_int_equal(weft_stream_read(NULL, client, 0, never_called_read, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read(&untouched, client, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_true(untouched == (weft_future_t*)&untouched);
  assert_int_equal(weft_stream_write(NULL, client, NULL, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  read_record pending = {0};
  assert_int_equal(weft_stream_read(NULL, client, 8, record_read, &pending), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, client, 8, never_called_read, NULL), WEFT_ERR_INVALID_STATE);

  /* Stale handles after close. */
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, client, 1, never_called_read, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_write(NULL, client, "x", 1, NULL, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_accept(NULL, listener, never_called_stream, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_listener_port(&port, listener), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
}

static void test_tcp__close_cancels_pending_operations_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);

  stream_record accepts[3];
  memset(accepts, 0, sizeof(accepts));
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(weft_tcp_accept(NULL, listener, record_stream, &accepts[i]), WEFT_OK);
  }
  read_record read = {0};
  call_record shut = {0};
  assert_int_equal(weft_stream_read(NULL, server, 8, record_read, &read), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(NULL, server, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);

  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(accepts[i].calls, 1);
    assert_int_equal(accepts[i].status, WEFT_ERR_CANCELLED);
    assert_null(accepts[i].stream);
  }
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  /* The shutdown may have completed before the close. */
  assert_int_equal(shut.calls, 1);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(shut.calls, 1);
  for (int i = 0; i < 3; ++i) assert_int_equal(accepts[i].calls, 1);

  /* The client's pending read and a pending connect end with the runtime
   * (the fixture's teardown destroys it): exactly once, cancelled. */
  read_record client_read = {0};
  stream_record connecting = {0};
  assert_int_equal(weft_stream_read(NULL, client, 8, record_read, &client_read), WEFT_OK);
  assert_int_equal(weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, 0, record_stream, &connecting),
                   WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(client_read.calls, 1);
  assert_int_equal(connecting.calls, 1);
  assert_int_equal(connecting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

static void count_accepts(void* user, const weft_object_info* info) {
  if (info->kind == WEFT_OBJECT_TCP_OPERATION && strcmp(info->name, "accept") == 0) ++*(int*)user;
}

static void test_tcp__scope_destroy_ends_its_handles(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, loop, "127.0.0.1", 0, NULL), WEFT_OK);
  stream_record accepted = {0};
  assert_int_equal(weft_tcp_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
  int listed = 0;
  assert_int_equal(weft_scope_list(scope, count_accepts, &listed), WEFT_OK);
  assert_int_equal(listed, 1);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(accepted.calls, 1);
  assert_int_equal(accepted.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(accepted.calls, 1);
}

typedef struct thread_call {
  weft_tcp_listener_t* listener;
  weft_status status;
} thread_call;

static void* port_from_another_thread(void* arg) {
  thread_call* call = arg;
  uint16_t port = 0;
  call->status = weft_tcp_listener_port(&port, call->listener);
  return NULL;
}

static void test_tcp__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  thread_call call = {tcp_listen_loopback(f, &port), WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, port_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_tcp_listener_close(call.listener), WEFT_OK);
}

/* An accept callback that closes its listener: the other pending accept is
 * cancelled inside that call, and the accepted stream is the callback's. */
typedef struct closing_accept {
  weft_tcp_listener_t* listener;
  stream_record first;
  stream_record second;
} closing_accept;

static void accept_then_close(void* user, weft_status status, const char* message,
                              weft_stream_t* stream) {
  closing_accept* c = user;
  record_stream(&c->first, status, message, stream);
  assert_int_equal(weft_tcp_listener_close(c->listener), WEFT_OK);
  assert_int_equal(c->second.calls, 1); /* inside the close */
  assert_int_equal(c->second.status, WEFT_ERR_CANCELLED);
}

/* A read callback that closes its own stream. */
static void read_then_close(void* user, weft_status status, const char* message, const void* bytes,
                            size_t len) {
  weft_stream_t** stream = user;
  (void)bytes;
  (void)len;
  assert_int_equal(status, WEFT_ERR_END_OF_FILE); /* the peer closed */
  assert_non_null(message);
  assert_true(message[0] != '\0');
  assert_int_equal(weft_stream_close(*stream), WEFT_OK);
  *stream = NULL;
}

static void test_tcp__callbacks_may_close_their_own_handles(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  closing_accept c;
  memset(&c, 0, sizeof(c));
  c.listener = tcp_listen_loopback(f, &port);
  assert_int_equal(weft_tcp_accept(NULL, c.listener, accept_then_close, &c), WEFT_OK);
  assert_int_equal(weft_tcp_accept(NULL, c.listener, record_stream, &c.second), WEFT_OK);
  stream_record connected = {0};
  assert_int_equal(
      weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_SEC(5), record_stream, &connected), WEFT_OK);
  assert_true(run_until(f->loop, &c.first.calls));
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(c.first.status, WEFT_OK);
  assert_int_equal(connected.status, WEFT_OK);

  weft_stream_t* server = c.first.stream;
  assert_int_equal(weft_stream_read(NULL, server, 16, read_then_close, &server), WEFT_OK);
  assert_int_equal(weft_stream_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_null(server);
  assert_int_equal(c.first.calls, 1);
  assert_int_equal(c.second.calls, 1);
}

/* What a bulk reader collected. */
typedef struct bulk {
  weft_stream_t* stream;
  unsigned char* data;
  size_t len;
  size_t want;
  int done;
  weft_status status;
} bulk;

static void bulk_read(void* user, weft_status status, const char* message, const void* bytes,
                      size_t len) {
  bulk* b = user;
  check_message(status, message, NULL, 0);
  if (status != WEFT_OK) {
    b->status = status;
    b->done = 1;
    return;
  }
  assert_true(b->len + len <= b->want);
  memcpy(b->data + b->len, bytes, len);
  b->len += len;
  if (b->len == b->want) {
    b->done = 1;
    return;
  }
  assert_int_equal(weft_stream_read(NULL, b->stream, 65536, bulk_read, b), WEFT_OK);
}

static void test_tcp__a_large_write_arrives_whole_and_in_order(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);

  const size_t size = 4 << 20; /* more than the kernel takes at once */
  unsigned char* sent = malloc(size);
  unsigned char* received = malloc(size);
  assert_non_null(sent);
  assert_non_null(received);
  for (size_t i = 0; i < size; ++i) sent[i] = (unsigned char)(i * 131 + (i >> 12));
  call_record written = {0};
  assert_int_equal(weft_stream_write(NULL, client, sent, size, record_callback, &written), WEFT_OK);
  memset(sent, 0, size); /* copied during the call: clearing it now changes nothing */
  bulk b = {server, received, 0, size, 0, WEFT_OK};
  assert_int_equal(weft_stream_read(NULL, server, 65536, bulk_read, &b), WEFT_OK);
  assert_true(run_until(f->loop, &b.done));
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(b.status, WEFT_OK);
  assert_int_equal(b.len, size);
  assert_int_equal(written.status, WEFT_OK);
  for (size_t i = 0; i < size; ++i) sent[i] = (unsigned char)(i * 131 + (i >> 12));
  assert_memory_equal(received, sent, size);
  free(sent);
  free(received);
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

/* A TCP stream is a weft_stream_t: the stream functions work on it, and a
 * listener handle is not a stream. */
static void test_tcp__a_tcp_stream_is_a_stream(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);

  call_record written = {0};
  read_record at_server = {0}, second = {0};
  assert_int_equal(weft_stream_write(NULL, client, "ping", 4, record_callback, &written),
                   WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &at_server), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &second),
                   WEFT_ERR_INVALID_STATE);
  assert_true(run_until(f->loop, &at_server.calls));
  assert_int_equal(at_server.status, WEFT_OK);
  assert_int_equal(at_server.len, 4);
  assert_memory_equal(at_server.bytes, "ping", 4);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);

  assert_int_equal(weft_stream_read(NULL, (weft_stream_t*)listener, 64, record_read, &second),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(second.calls, 0);
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

static void test_tcp__socket_options(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);

  assert_int_equal(weft_tcp_set_nodelay(client, 0), WEFT_OK);
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(client, 1, WEFT_SEC(30)), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(client, 0, 0), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(server, 1, WEFT_SEC(1)), WEFT_OK);
  /* Whole seconds, rounded up: a millisecond is a second, 32767 s the most. */
  assert_int_equal(weft_tcp_set_keepalive(server, 1, WEFT_MS(1)), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(server, 1, WEFT_SEC(32767)), WEFT_OK);

  /* Bad input. */
  assert_int_equal(weft_tcp_set_keepalive(client, 1, 0), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_set_keepalive(client, 1, WEFT_SEC(100000)), WEFT_ERR_INVALID_ARGUMENT); /* > 32767 s */
  assert_int_equal(weft_tcp_set_keepalive(client, 1, WEFT_SEC(32767) + 1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_set_nodelay(NULL, 1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive(NULL, 1, WEFT_SEC(30)), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_nodelay((weft_stream_t*)listener, 1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive((weft_stream_t*)listener, 1, WEFT_SEC(30)), WEFT_ERR_INVALID_HANDLE);
  weft_address address;
  assert_int_equal(weft_tcp_local_address(NULL, client), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_peer_address(NULL, client), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_listener_address(NULL, listener), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_local_address(&address, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_peer_address(&address, (weft_stream_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_listener_address(&address, (weft_tcp_listener_t*)client),
                   WEFT_ERR_INVALID_HANDLE);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive(client, 1, WEFT_SEC(30)), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_local_address(&address, client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_peer_address(&address, client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_tcp_listener_address(&address, listener), WEFT_ERR_STALE_HANDLE);
}

/* Listens on `host`, connects, and checks that each end's addresses are
 * the other's. Returns 1. */
static int check_addresses(fixture* f, const char* host, weft_address_family family) {
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, host, 0, NULL), WEFT_OK);
  weft_address bound, client_local, client_peer, server_local, server_peer;
  memset(&bound, 0xff, sizeof bound);
  assert_int_equal(weft_tcp_listener_address(&bound, listener), WEFT_OK);
  assert_int_equal(bound.family, family);
  assert_string_equal(bound.host, host);
  uint16_t port = 0;
  assert_int_equal(weft_tcp_listener_port(&port, listener), WEFT_OK);
  assert_int_equal(bound.port, port);
  assert_true(port != 0);

  stream_record accepted = {0}, connected = {0};
  assert_int_equal(weft_tcp_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_tcp_connect(NULL, f->loop, host, port, WEFT_SEC(5), record_stream, &connected),
                   WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(accepted.status, WEFT_OK);
  assert_int_equal(weft_tcp_local_address(&client_local, connected.stream), WEFT_OK);
  assert_int_equal(weft_tcp_peer_address(&client_peer, connected.stream), WEFT_OK);
  assert_int_equal(weft_tcp_local_address(&server_local, accepted.stream), WEFT_OK);
  assert_int_equal(weft_tcp_peer_address(&server_peer, accepted.stream), WEFT_OK);
  /* The client talks to the listener's address... */
  assert_int_equal(client_peer.family, family);
  assert_string_equal(client_peer.host, host);
  assert_int_equal(client_peer.port, port);
  assert_int_equal(server_local.family, family);
  assert_string_equal(server_local.host, host);
  assert_int_equal(server_local.port, port);
  /* ...from a port of its own, which the server sees. */
  assert_int_equal(client_local.family, family);
  assert_string_equal(client_local.host, host);
  assert_true(client_local.port != 0 && client_local.port != port);
  assert_int_equal(server_peer.family, family);
  assert_string_equal(server_peer.host, client_local.host);
  assert_int_equal(server_peer.port, client_local.port);

  assert_int_equal(weft_stream_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_stream_close(accepted.stream), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  return 1;
}

static void test_tcp__addresses_ipv4(void** state) {
  assert_true(check_addresses(FIXTURE(state), "127.0.0.1", WEFT_ADDRESS_IPV4));
}

/* Whether this machine can bind ::1 (IPv6 may be off in a container). */
static int have_ipv6_loopback(void) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_in6 address;
  memset(&address, 0, sizeof address);
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const int bound = bind(fd, (struct sockaddr*)&address, sizeof address) == 0;
  close(fd);
  return bound;
}

static void test_tcp__addresses_ipv6(void** state) {
  if (!have_ipv6_loopback()) skip();
  assert_true(check_addresses(FIXTURE(state), "::1", WEFT_ADDRESS_IPV6));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tcp__echo_round_trip, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__close_cancels_pending_operations_exactly_once,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__scope_destroy_ends_its_handles, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__loop_thread_only, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__callbacks_may_close_their_own_handles, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__a_large_write_arrives_whole_and_in_order,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__a_tcp_stream_is_a_stream, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__socket_options, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__addresses_ipv4, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__addresses_ipv6, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
