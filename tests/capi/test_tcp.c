/* TCP: an echo round trip on loopback, a refused connect, a connect that
 * times out, a peer's reset mid-transfer, half-close both ways, socket
 * options and addresses (IPv4, and IPv6 where the machine has ::1), bad
 * input, and destroying handles with operations pending (each callback
 * exactly once). */
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

/* What a stream callback saw. */
typedef struct stream_record {
  int calls;
  weft_status status;
  weft_tcp_stream_t* stream;
} stream_record;

static void record_stream(void* user, weft_status status, weft_tcp_stream_t* stream) {
  stream_record* r = user;
  r->calls++;
  r->status = status;
  r->stream = stream;
}

static weft_tcp_listener_t* listen_loopback(fixture* f, uint16_t* port) {
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_non_null(listener);
  assert_int_equal(weft_tcp_listener_port(port, listener), WEFT_OK);
  assert_true(*port != 0);
  return listener;
}

/* A connected pair: client and server ends. */
static void connect_pair(fixture* f, weft_tcp_listener_t* listener, uint16_t port,
                         weft_tcp_stream_t** client, weft_tcp_stream_t** server) {
  stream_record accepted = {0}, connected = {0};
  assert_int_equal(weft_tcp_accept(listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 5000, record_stream, &connected),
                   WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(accepted.status, WEFT_OK);
  assert_non_null(connected.stream);
  assert_non_null(accepted.stream);
  *client = connected.stream;
  *server = accepted.stream;
}

static void test_tcp__echo_round_trip(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);

  call_record written = {0};
  read_record at_server = {0};
  assert_int_equal(weft_tcp_write(client, "hello", 5, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_tcp_read(server, 64, record_read, &at_server), WEFT_OK);
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
  assert_int_equal(weft_tcp_write(server, at_server.bytes, at_server.len, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_tcp_shutdown(server, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_tcp_read(client, 64, record_read, &at_client), WEFT_OK);
  assert_true(run_until(f->loop, &at_client.calls));
  assert_int_equal(at_client.status, WEFT_OK);
  assert_int_equal(at_client.len, 5);
  assert_memory_equal(at_client.bytes, "hello", 5);
  assert_int_equal(weft_tcp_read(client, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(end.len, 0);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);

  assert_int_equal(weft_tcp_close(client), WEFT_OK);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_tcp_close(client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(written.calls, 1);
  assert_int_equal(shut.calls, 1);
}

static void test_tcp__refused_connect(void** state) {
  fixture* f = FIXTURE(state);
  /* A port that was just free: listen, note it, close. */
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  stream_record connected = {0};
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 5000, record_stream, &connected),
                   WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(connected.status, WEFT_ERR_CONNECTION_REFUSED);
  assert_null(connected.stream);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(connected.calls, 1);
}

static void test_tcp__address_in_use(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_listener_t* second = NULL;
  assert_int_equal(weft_tcp_listen(&second, f->loop, "127.0.0.1", port, NULL),
                   WEFT_ERR_ADDRESS_IN_USE);
  assert_null(second);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

static void never_called_stream(void* user, weft_status status, weft_tcp_stream_t* stream) {
  (void)user;
  (void)status;
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
  assert_int_equal(weft_tcp_connect(f->loop, NULL, 1, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", 1, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_connect(f->loop, "not an address", 1, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);

  /* NULL and wrong-kind handles. */
  assert_int_equal(weft_tcp_listener_port(&port, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_accept(NULL, never_called_stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_read(NULL, 1, never_called_read, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_write(NULL, "x", 1, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_shutdown(NULL, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_close(NULL), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(NULL), WEFT_OK);
  listener = listen_loopback(f, &port);
  assert_int_equal(weft_tcp_read((weft_tcp_stream_t*)listener, 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_close((weft_tcp_stream_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_accept(listener, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);

  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);
  assert_int_equal(weft_tcp_read(client, 0, never_called_read, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_read(client, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_write(client, NULL, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  read_record pending = {0};
  assert_int_equal(weft_tcp_read(client, 8, record_read, &pending), WEFT_OK);
  assert_int_equal(weft_tcp_read(client, 8, never_called_read, NULL), WEFT_ERR_INVALID_STATE);

  /* Stale handles after close. */
  assert_int_equal(weft_tcp_close(client), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_tcp_read(client, 1, never_called_read, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_write(client, "x", 1, NULL, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_accept(listener, never_called_stream, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_listener_port(&port, listener), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
}

static void test_tcp__close_cancels_pending_operations_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);

  stream_record accepts[3];
  memset(accepts, 0, sizeof(accepts));
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(weft_tcp_accept(listener, record_stream, &accepts[i]), WEFT_OK);
  }
  read_record read = {0};
  call_record shut = {0};
  assert_int_equal(weft_tcp_read(server, 8, record_read, &read), WEFT_OK);
  assert_int_equal(weft_tcp_shutdown(server, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);

  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(accepts[i].calls, 1);
    assert_int_equal(accepts[i].status, WEFT_ERR_CANCELLED);
    assert_null(accepts[i].stream);
  }
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
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
  assert_int_equal(weft_tcp_read(client, 8, record_read, &client_read), WEFT_OK);
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 0, record_stream, &connecting),
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
  assert_int_equal(weft_tcp_accept(listener, record_stream, &accepted), WEFT_OK);
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
  thread_call call = {listen_loopback(f, &port), WEFT_OK};
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

static void accept_then_close(void* user, weft_status status, weft_tcp_stream_t* stream) {
  closing_accept* c = user;
  record_stream(&c->first, status, stream);
  assert_int_equal(weft_tcp_listener_close(c->listener), WEFT_OK);
  assert_int_equal(c->second.calls, 1); /* inside the close */
  assert_int_equal(c->second.status, WEFT_ERR_CANCELLED);
}

/* A read callback that closes its own stream. */
static void read_then_close(void* user, weft_status status, const void* bytes, size_t len) {
  weft_tcp_stream_t** stream = user;
  (void)bytes;
  (void)len;
  assert_int_equal(status, WEFT_ERR_END_OF_FILE); /* the peer closed */
  assert_int_equal(weft_tcp_close(*stream), WEFT_OK);
  *stream = NULL;
}

static void test_tcp__callbacks_may_close_their_own_handles(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  closing_accept c;
  memset(&c, 0, sizeof(c));
  c.listener = listen_loopback(f, &port);
  assert_int_equal(weft_tcp_accept(c.listener, accept_then_close, &c), WEFT_OK);
  assert_int_equal(weft_tcp_accept(c.listener, record_stream, &c.second), WEFT_OK);
  stream_record connected = {0};
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 5000, record_stream, &connected),
                   WEFT_OK);
  assert_true(run_until(f->loop, &c.first.calls));
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(c.first.status, WEFT_OK);
  assert_int_equal(connected.status, WEFT_OK);

  weft_tcp_stream_t* server = c.first.stream;
  assert_int_equal(weft_tcp_read(server, 16, read_then_close, &server), WEFT_OK);
  assert_int_equal(weft_tcp_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_null(server);
  assert_int_equal(c.first.calls, 1);
  assert_int_equal(c.second.calls, 1);
}

/* What a bulk reader collected. */
typedef struct bulk {
  weft_tcp_stream_t* stream;
  unsigned char* data;
  size_t len;
  size_t want;
  int done;
  weft_status status;
} bulk;

static void bulk_read(void* user, weft_status status, const void* bytes, size_t len) {
  bulk* b = user;
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
  assert_int_equal(weft_tcp_read(b->stream, 65536, bulk_read, b), WEFT_OK);
}

static void test_tcp__a_large_write_arrives_whole_and_in_order(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);

  const size_t size = 4 << 20; /* more than the kernel takes at once */
  unsigned char* sent = malloc(size);
  unsigned char* received = malloc(size);
  assert_non_null(sent);
  assert_non_null(received);
  for (size_t i = 0; i < size; ++i) sent[i] = (unsigned char)(i * 131 + (i >> 12));
  call_record written = {0};
  assert_int_equal(weft_tcp_write(client, sent, size, record_callback, &written), WEFT_OK);
  memset(sent, 0, size); /* copied during the call: clearing it now changes nothing */
  bulk b = {server, received, 0, size, 0, WEFT_OK};
  assert_int_equal(weft_tcp_read(server, 65536, bulk_read, &b), WEFT_OK);
  assert_true(run_until(f->loop, &b.done));
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(b.status, WEFT_OK);
  assert_int_equal(b.len, size);
  assert_int_equal(written.status, WEFT_OK);
  for (size_t i = 0; i < size; ++i) sent[i] = (unsigned char)(i * 131 + (i >> 12));
  assert_memory_equal(received, sent, size);
  free(sent);
  free(received);
  assert_int_equal(weft_tcp_close(client), WEFT_OK);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

/* A TCP stream is a weft_stream_t: the stream functions work on it, and a
 * listener handle is not a stream. */
static void test_tcp__a_tcp_stream_is_a_stream(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);

  call_record written = {0};
  read_record at_server = {0}, second = {0};
  assert_int_equal(weft_stream_write(weft_tcp_as_stream(client), "ping", 4, record_callback, &written),
                   WEFT_OK);
  assert_int_equal(weft_stream_read(weft_tcp_as_stream(server), 64, record_read, &at_server), WEFT_OK);
  assert_int_equal(weft_stream_read(weft_tcp_as_stream(server), 64, record_read, &second),
                   WEFT_ERR_INVALID_STATE);
  assert_true(run_until(f->loop, &at_server.calls));
  assert_int_equal(at_server.status, WEFT_OK);
  assert_int_equal(at_server.len, 4);
  assert_memory_equal(at_server.bytes, "ping", 4);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);

  assert_int_equal(weft_stream_read((weft_stream_t*)listener, 64, record_read, &second),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(second.calls, 0);
  assert_int_equal(weft_stream_close(weft_tcp_as_stream(client)), WEFT_OK);
  assert_int_equal(weft_tcp_close(client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

static long elapsed_ms(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* A raw listening socket on 127.0.0.1 that never accepts, with the smallest
 * backlog; returns its fd and port. */
static int raw_listener(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr*)&address, sizeof address), 0);
  assert_int_equal(listen(fd, 0), 0);
  socklen_t length = sizeof address;
  assert_int_equal(getsockname(fd, (struct sockaddr*)&address, &length), 0);
  *port = ntohs(address.sin_port);
  return fd;
}

/* A connect to a listener whose backlog is full stays pending (the kernel
 * drops its SYN and would retry only after a second): the timeout ends it.
 * This is how tests/core/io gets a connect that does not complete while
 * using loopback alone. */
static void test_tcp__connect_times_out(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  int listener = raw_listener(&port);
  /* Fill the backlog: connections complete until one does not. */
  weft_tcp_stream_t* fillers[16];
  int filled = 0, full = 0;
  while (filled < 16 && !full) {
    stream_record r = {0};
    assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 300, record_stream, &r), WEFT_OK);
    assert_true(run_until(f->loop, &r.calls));
    if (r.status == WEFT_OK) {
      fillers[filled++] = r.stream;
    } else {
      assert_int_equal(r.status, WEFT_ERR_TIMED_OUT);
      full = 1;
    }
  }
  assert_true(full);

  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  stream_record timed_out = {0};
  assert_int_equal(weft_tcp_connect(f->loop, "127.0.0.1", port, 100, record_stream, &timed_out),
                   WEFT_OK);
  assert_true(run_until(f->loop, &timed_out.calls));
  const long took = elapsed_ms(&start);
  assert_int_equal(timed_out.status, WEFT_ERR_TIMED_OUT);
  assert_null(timed_out.stream);
  assert_true(took >= 90);
  assert_true(took < 900); /* well before the kernel's SYN retry (1 s) */

  for (int i = 0; i < filled; ++i) assert_int_equal(weft_tcp_close(fillers[i]), WEFT_OK);
  close(listener);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(timed_out.calls, 1);
}

/* A raw client socket connected to `port` (the kernel completes the
 * handshake; the weft listener accepts it). */
static int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  assert_int_equal(connect(fd, (struct sockaddr*)&address, sizeof address), 0);
  return fd;
}

/* Closes a raw socket with a reset (SO_LINGER 0). */
static void raw_reset(int fd) {
  struct linger linger = {1, 0};
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger), 0);
  assert_int_equal(close(fd), 0);
}

static weft_tcp_stream_t* accept_raw(fixture* f, weft_tcp_listener_t* listener, uint16_t port, int* raw) {
  stream_record accepted = {0};
  assert_int_equal(weft_tcp_accept(listener, record_stream, &accepted), WEFT_OK);
  *raw = raw_connect(port);
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(accepted.status, WEFT_OK);
  return accepted.stream;
}

static void test_tcp__peer_reset_mid_transfer(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);

  /* A write the peer stops taking: the peer reads a little, then resets. */
  int raw = -1;
  weft_tcp_stream_t* server = accept_raw(f, listener, port, &raw);
  const size_t size = 8 << 20;
  char* big = calloc(1, size);
  assert_non_null(big);
  call_record written = {0};
  assert_int_equal(weft_tcp_write(server, big, size, record_callback, &written), WEFT_OK);
  free(big);
  int spins = 0;
  while (spins++ < 10) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  char some[4096];
  assert_true(recv(raw, some, sizeof some, 0) > 0);
  assert_int_equal(written.calls, 0);
  raw_reset(raw);
  assert_true(run_until(f->loop, &written.calls));
  /* The pending write sees the reset, and the connection has no peer. */
  assert_int_equal(written.calls, 1);
  assert_int_equal(written.status, WEFT_ERR_CONNECTION_RESET);
  weft_address peer;
  assert_int_equal(weft_tcp_peer_address(&peer, server), WEFT_ERR_NOT_CONNECTED);
  call_record again = {0};
  assert_int_equal(weft_tcp_write(server, "x", 1, record_callback, &again), WEFT_OK);
  assert_true(run_until(f->loop, &again.calls));
  assert_int_equal(again.status, WEFT_ERR_CONNECTION_RESET); /* the queue's failure stays */
  read_record after = {0};
  assert_int_equal(weft_tcp_read(server, 64, record_read, &after), WEFT_OK);
  assert_true(run_until(f->loop, &after.calls));
  /* The kernel reports a reset once (here to the write); reads then see the end. */
  assert_int_equal(after.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);

  /* A read waiting when the peer resets. */
  server = accept_raw(f, listener, port, &raw);
  read_record reading = {0};
  assert_int_equal(weft_tcp_read(server, 64, record_read, &reading), WEFT_OK);
  assert_int_equal(send(raw, "abc", 3, 0), 3);
  assert_true(run_until(f->loop, &reading.calls));
  assert_int_equal(reading.status, WEFT_OK);
  memset(&reading, 0, sizeof reading);
  assert_int_equal(weft_tcp_read(server, 64, record_read, &reading), WEFT_OK);
  raw_reset(raw);
  assert_true(run_until(f->loop, &reading.calls));
  assert_int_equal(reading.status, WEFT_ERR_CONNECTION_RESET);
  assert_int_equal(reading.len, 0);
  memset(&written, 0, sizeof written);
  assert_int_equal(weft_tcp_write(server, "x", 1, record_callback, &written), WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  /* The read took the reset; writing to the dead connection is a broken pipe. */
  assert_int_equal(written.status, WEFT_ERR_BROKEN_PIPE);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

/* Half-close one way, then the other: the side that shut down still reads,
 * the other side reads the end and still writes. */
static void half_close(fixture* f, weft_tcp_stream_t* first, weft_tcp_stream_t* second) {
  call_record shut = {0}, written = {0}, shut_back = {0};
  read_record end = {0}, reply = {0}, back_end = {0};
  assert_int_equal(weft_tcp_shutdown(first, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_tcp_read(second, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);
  /* Writing after one's own shutdown is refused. */
  call_record late = {0};
  assert_int_equal(weft_tcp_write(first, "late", 4, record_callback, &late), WEFT_OK);
  assert_true(run_until(f->loop, &late.calls));
  assert_int_equal(late.status, WEFT_ERR_INVALID_STATE);

  assert_int_equal(weft_tcp_write(second, "reply", 5, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(weft_tcp_as_stream(first), 5, record_read, &reply), WEFT_OK);
  assert_true(run_until(f->loop, &reply.calls));
  assert_int_equal(reply.status, WEFT_OK);
  assert_memory_equal(reply.bytes, "reply", 5);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);

  assert_int_equal(weft_tcp_shutdown(second, record_callback, &shut_back), WEFT_OK);
  assert_int_equal(weft_tcp_read(first, 64, record_read, &back_end), WEFT_OK);
  assert_true(run_until(f->loop, &back_end.calls));
  assert_int_equal(back_end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut_back.calls));
  assert_int_equal(shut_back.status, WEFT_OK);
}

static void test_tcp__half_close_both_ways(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);
  half_close(f, client, server); /* the client shuts down first */
  assert_int_equal(weft_tcp_close(client), WEFT_OK);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  connect_pair(f, listener, port, &client, &server);
  half_close(f, server, client); /* the server shuts down first */
  assert_int_equal(weft_tcp_close(client), WEFT_OK);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

static void test_tcp__socket_options(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = listen_loopback(f, &port);
  weft_tcp_stream_t *client, *server;
  connect_pair(f, listener, port, &client, &server);

  assert_int_equal(weft_tcp_set_nodelay(client, 0), WEFT_OK);
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(client, 1, 30), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(client, 0, 0), WEFT_OK);
  assert_int_equal(weft_tcp_set_keepalive(server, 1, 1), WEFT_OK);

  /* Bad input. */
  assert_int_equal(weft_tcp_set_keepalive(client, 1, 0), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_set_keepalive(client, 1, 100000), WEFT_ERR_INVALID_ARGUMENT); /* > 32767 */
  assert_int_equal(weft_tcp_set_nodelay(NULL, 1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive(NULL, 1, 30), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_nodelay((weft_tcp_stream_t*)listener, 1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive((weft_tcp_stream_t*)listener, 1, 30), WEFT_ERR_INVALID_HANDLE);
  weft_address address;
  assert_int_equal(weft_tcp_local_address(NULL, client), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_peer_address(NULL, client), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_listener_address(NULL, listener), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_local_address(&address, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_peer_address(&address, (weft_tcp_stream_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_listener_address(&address, (weft_tcp_listener_t*)client),
                   WEFT_ERR_INVALID_HANDLE);

  assert_int_equal(weft_tcp_close(client), WEFT_OK);
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive(client, 1, 30), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_local_address(&address, client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_peer_address(&address, client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tcp_close(server), WEFT_OK);
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
  assert_int_equal(weft_tcp_accept(listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_tcp_connect(f->loop, host, port, 5000, record_stream, &connected), WEFT_OK);
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

  assert_int_equal(weft_tcp_close(connected.stream), WEFT_OK);
  assert_int_equal(weft_tcp_close(accepted.stream), WEFT_OK);
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
      cmocka_unit_test_setup_teardown(test_tcp__refused_connect, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__address_in_use, fixture_setup, fixture_teardown),
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
      cmocka_unit_test_setup_teardown(test_tcp__connect_times_out, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__peer_reset_mid_transfer, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__half_close_both_ways, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__socket_options, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__addresses_ipv4, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp__addresses_ipv6, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
