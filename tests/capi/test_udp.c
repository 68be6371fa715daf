/* UDP: round trips on loopback (IPv4, and IPv6 where the machine has ::1),
 * the sender's address, datagram size limits, one receive at a time, bad
 * input, and ending sockets with operations pending (each callback exactly
 * once). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* the _shared build gets no -D for it */
#endif
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What a receive callback saw. Small datagrams are copied into `bytes`; a
 * datagram is also compared with `expect` (expect_len bytes) if set. */
typedef struct recv_record {
  int calls;
  weft_status status;
  char bytes[64];
  size_t len;
  weft_address from;
  int from_set;
  int truncated;
  const unsigned char* expect;
  size_t expect_len;
  int matches;
  char message[200];
} recv_record;

static void record_recv(void* user, weft_status status, const char* message, const void* bytes,
                        size_t len, const weft_address* from, int truncated) {
  recv_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->len = len;
  r->truncated = truncated;
  r->from_set = from != NULL;
  if (from != NULL) r->from = *from;
  if (len > 0 && len <= sizeof(r->bytes)) memcpy(r->bytes, bytes, len);
  if (r->expect != NULL) r->matches = len == r->expect_len && memcmp(bytes, r->expect, len) == 0;
  if (status == WEFT_OK) {
    assert_non_null(from);
    if (len > 0) assert_non_null(bytes);
  } else {
    assert_null(bytes);
    assert_null(from);
    assert_int_equal(len, 0);
    assert_int_equal(truncated, 0);
  }
}

static void never_called_recv(void* user, weft_status status, const char* message,
                              const void* bytes, size_t len, const weft_address* from,
                              int truncated) {
  (void)user;
  (void)status;
  (void)message;
  (void)bytes;
  (void)len;
  (void)from;
  (void)truncated;
  fail_msg("a callback of a failed call ran");
}


static weft_udp_socket_t* bind_on(weft_loop_t* loop, const char* host, weft_address* address) {
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, loop, host, 0, NULL), WEFT_OK);
  assert_non_null(socket);
  assert_int_equal(weft_udp_local_address(address, socket), WEFT_OK);
  assert_string_equal(address->host, host);
  assert_true(address->port != 0);
  return socket;
}

static void assert_same_address(const weft_address* a, const weft_address* b) {
  assert_int_equal(a->family, b->family);
  assert_int_equal(a->port, b->port);
  assert_string_equal(a->host, b->host);
}

/* ping from a to b, pong back from b to the address it saw. */
static void ping_pong(fixture* f, const char* host, weft_address_family family) {
  weft_address a_address, b_address;
  weft_udp_socket_t* a = bind_on(f->loop, host, &a_address);
  weft_udp_socket_t* b = bind_on(f->loop, host, &b_address);
  assert_int_equal(a_address.family, family);
  assert_true(a_address.port != b_address.port);

  recv_record at_b = {0};
  call_record sent = {0};
  assert_int_equal(weft_udp_recv_from(NULL, b, record_recv, &at_b), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, a, "ping", 4, b_address.host, b_address.port, record_callback,
                                    &sent),
                   WEFT_OK);
  assert_true(run_until(f->loop, &at_b.calls));
  assert_true(run_until(f->loop, &sent.calls));
  assert_int_equal(sent.status, WEFT_OK);
  assert_int_equal(at_b.status, WEFT_OK);
  assert_int_equal(at_b.len, 4);
  assert_memory_equal(at_b.bytes, "ping", 4);
  assert_int_equal(at_b.truncated, 0);
  /* The sender seen by the receiver is the sender's local address. */
  assert_same_address(&at_b.from, &a_address);

  recv_record at_a = {0};
  assert_int_equal(weft_udp_recv_from(NULL, a, record_recv, &at_a), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, b, "pong!", 5, at_b.from.host, at_b.from.port, NULL, NULL),
                   WEFT_OK);
  assert_true(run_until(f->loop, &at_a.calls));
  assert_int_equal(at_a.status, WEFT_OK);
  assert_int_equal(at_a.len, 5);
  assert_memory_equal(at_a.bytes, "pong!", 5);
  assert_same_address(&at_a.from, &b_address);

  /* An empty datagram is a datagram (bytes may be NULL when len is 0). */
  recv_record empty = {0};
  empty.len = 99;
  assert_int_equal(weft_udp_recv_from(NULL, b, record_recv, &empty), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, a, NULL, 0, b_address.host, b_address.port, NULL, NULL), WEFT_OK);
  assert_true(run_until(f->loop, &empty.calls));
  assert_int_equal(empty.status, WEFT_OK);
  assert_int_equal(empty.len, 0);
  assert_same_address(&empty.from, &a_address);

  assert_int_equal(weft_udp_close(a), WEFT_OK);
  assert_int_equal(weft_udp_close(b), WEFT_OK);
  assert_int_equal(weft_udp_close(a), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(sent.calls, 1);
  assert_int_equal(at_a.calls, 1);
  assert_int_equal(at_b.calls, 1);
  assert_int_equal(empty.calls, 1);
}

static void test_udp__round_trip_ipv4(void** state) {
  ping_pong(FIXTURE(state), "127.0.0.1", WEFT_ADDRESS_IPV4);
}

/* What the kernel says to a UDP bind on ::1 (0, or the errno). */
static int ipv6_loopback_errno(void) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return errno;
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  int err = bind(fd, (struct sockaddr*)&a, sizeof(a)) == 0 ? 0 : errno;
  close(fd);
  return err;
}

static void test_udp__round_trip_ipv6(void** state) {
  fixture* f = FIXTURE(state);
  /* weft's answer must be the kernel's: where ::1 cannot be bound (a
   * container without IPv6 loopback, a kernel without IPv6) the bind fails
   * with the matching status and there is nothing more to test. */
  const int kernel = ipv6_loopback_errno();
  weft_udp_socket_t* probe = NULL;
  weft_status status = weft_udp_bind(&probe, f->loop, "::1", 0, NULL);
  if (kernel == EADDRNOTAVAIL) {
    assert_int_equal(status, WEFT_ERR_ADDRESS_NOT_AVAILABLE);
    skip();
  } else if (kernel == EAFNOSUPPORT) {
    assert_int_equal(status, WEFT_ERR_IO_ERROR); /* no status of its own */
    skip();
  }
  assert_int_equal(kernel, 0); /* any other refusal is unexpected */
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(weft_udp_close(probe), WEFT_OK);
  ping_pong(f, "::1", WEFT_ADDRESS_IPV6);
}

/* The largest IPv4 datagram arrives whole (not truncated: weft receives up
 * to 64 KiB); one over 64 KiB cannot be sent at all, so the receiver never
 * sees a truncated one on loopback — the send fails with message too long. */
static void test_udp__datagram_size_limits(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = bind_on(f->loop, "127.0.0.1", &a_address);
  weft_udp_socket_t* b = bind_on(f->loop, "127.0.0.1", &b_address);

  const size_t largest = 65507; /* 65535 - 20 (IP header) - 8 (UDP header) */
  unsigned char* data = malloc(70000);
  assert_non_null(data);
  for (size_t i = 0; i < 70000; ++i) data[i] = (unsigned char)(i * 7 + 3);

  recv_record big = {0};
  big.expect = data;
  big.expect_len = largest;
  call_record sent = {0};
  assert_int_equal(weft_udp_recv_from(NULL, b, record_recv, &big), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, a, data, largest, "127.0.0.1", b_address.port, record_callback,
                                    &sent),
                   WEFT_OK);
  assert_true(run_until(f->loop, &big.calls));
  assert_true(run_until(f->loop, &sent.calls));
  assert_int_equal(sent.status, WEFT_OK);
  assert_int_equal(big.status, WEFT_OK);
  assert_int_equal(big.len, largest);
  assert_true(big.matches);
  assert_int_equal(big.truncated, 0);

  call_record too_long = {0};
  assert_int_equal(weft_udp_send_to(NULL, a, data, 70000, "127.0.0.1", b_address.port, record_callback,
                                    &too_long),
                   WEFT_OK);
  assert_true(run_until(f->loop, &too_long.calls));
  assert_int_equal(too_long.status, WEFT_ERR_MESSAGE_TOO_LONG);
  /* Nothing of it arrived: the next datagram b receives is the next one sent. */
  recv_record next = {0};
  assert_int_equal(weft_udp_recv_from(NULL, b, record_recv, &next), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, a, "next", 4, "127.0.0.1", b_address.port, NULL, NULL), WEFT_OK);
  assert_true(run_until(f->loop, &next.calls));
  assert_int_equal(next.status, WEFT_OK);
  assert_int_equal(next.len, 4);
  assert_memory_equal(next.bytes, "next", 4);
  /* Over 4 GiB is refused before anything is read from `bytes`. */
  assert_int_equal(weft_udp_send_to(NULL, a, data, (size_t)UINT_MAX + 1, "127.0.0.1", b_address.port,
                                    never_called, NULL),
                   WEFT_ERR_MESSAGE_TOO_LONG);

  free(data);
  assert_int_equal(weft_udp_close(a), WEFT_OK);
  assert_int_equal(weft_udp_close(b), WEFT_OK);
  assert_int_equal(too_long.calls, 1);
}

/* A receive callback that asks for the next datagram until it has `want`. */
typedef struct collector {
  weft_udp_socket_t* socket;
  char seen[8];
  int count;
  int want;
  int done;
} collector;

static void collect(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len, const weft_address* from, int truncated) {
  collector* c = user;
  (void)from;
  (void)truncated;
  assert_int_equal(status, WEFT_OK);
  assert_null(message);
  assert_int_equal(len, 1);
  c->seen[c->count++] = *(const char*)bytes;
  if (c->count == c->want) {
    c->done = 1;
    return;
  }
  assert_int_equal(weft_udp_recv_from(NULL, c->socket, collect, c), WEFT_OK);
}

static void test_udp__one_receive_at_a_time_and_queued_datagrams_in_order(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = bind_on(f->loop, "127.0.0.1", &a_address);
  weft_udp_socket_t* b = bind_on(f->loop, "127.0.0.1", &b_address);

  recv_record first = {0};
  assert_int_equal(weft_udp_recv_from(NULL, b, record_recv, &first), WEFT_OK);
  assert_int_equal(weft_udp_recv_from(NULL, b, never_called_recv, NULL), WEFT_ERR_INVALID_STATE);
  /* Four datagrams: the first completes the receive, the rest wait queued. */
  const char* letters = "wxyz";
  for (int i = 0; i < 4; ++i) {
    assert_int_equal(weft_udp_send_to(NULL, a, &letters[i], 1, "127.0.0.1", b_address.port, NULL, NULL),
                     WEFT_OK);
  }
  assert_true(run_until(f->loop, &first.calls));
  assert_int_equal(first.status, WEFT_OK);
  assert_int_equal(first.len, 1);
  assert_int_equal(first.bytes[0], 'w');
  /* The receive is done: another may start, and the callback may start the
   * next one itself. */
  collector c = {b, {0}, 0, 3, 0};
  assert_int_equal(weft_udp_recv_from(NULL, b, collect, &c), WEFT_OK);
  assert_true(run_until(f->loop, &c.done));
  assert_memory_equal(c.seen, "xyz", 3);

  assert_int_equal(weft_udp_close(a), WEFT_OK);
  assert_int_equal(weft_udp_close(b), WEFT_OK);
  assert_int_equal(first.calls, 1);
}

static void test_udp__close_cancels_pending_operations_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = bind_on(f->loop, "127.0.0.1", &a_address);
  weft_udp_socket_t* b = bind_on(f->loop, "127.0.0.1", &b_address);

  recv_record pending = {0};
  call_record sent = {0};
  assert_int_equal(weft_udp_recv_from(NULL, a, record_recv, &pending), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  /* The send's outcome reaches its callback from a loop run: closing first
   * cancels it. */
  assert_int_equal(weft_udp_send_to(NULL, a, "x", 1, "127.0.0.1", b_address.port, record_callback, &sent),
                   WEFT_OK);
  assert_int_equal(pending.calls, 0);
  assert_int_equal(weft_udp_close(a), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(sent.calls, 1);
  assert_int_equal(sent.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_udp_recv_from(NULL, a, never_called_recv, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_udp_send_to(NULL, a, "x", 1, "127.0.0.1", 9, never_called, NULL),
                   WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_udp_local_address(&a_address, a), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(sent.calls, 1);

  /* A pending receive ends with the runtime (the fixture's teardown destroys
   * it): exactly once, cancelled. */
  recv_record at_teardown = {0};
  assert_int_equal(weft_udp_recv_from(NULL, b, record_recv, &at_teardown), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(at_teardown.calls, 1);
  assert_int_equal(at_teardown.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

/* A receive callback that closes its own socket. */
static void recv_then_close(void* user, weft_status status, const char* message,
                            const void* bytes, size_t len, const weft_address* from, int truncated) {
  weft_udp_socket_t** socket = user;
  assert_null(message);
  (void)bytes;
  (void)len;
  (void)from;
  (void)truncated;
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(weft_udp_close(*socket), WEFT_OK);
  *socket = NULL;
}

static void test_udp__a_callback_may_close_its_socket(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = bind_on(f->loop, "127.0.0.1", &a_address);
  weft_udp_socket_t* b = bind_on(f->loop, "127.0.0.1", &b_address);
  weft_udp_socket_t* closing = b;
  assert_int_equal(weft_udp_recv_from(NULL, b, recv_then_close, &closing), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, a, "bye", 3, "127.0.0.1", b_address.port, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_null(closing);
  assert_int_equal(weft_udp_close(b), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_udp_close(a), WEFT_OK);
}

static void test_udp__address_in_use_without_reuse_address(void** state) {
  fixture* f = FIXTURE(state);
  weft_address address;
  weft_udp_socket_t* first = bind_on(f->loop, "127.0.0.1", &address);
  weft_udp_socket_t* second = NULL;
  assert_int_equal(weft_udp_bind(&second, f->loop, "127.0.0.1", address.port, NULL),
                   WEFT_ERR_ADDRESS_IN_USE);
  assert_null(second);
  assert_int_equal(weft_udp_close(first), WEFT_OK);

  /* With reuse_address on both, two sockets share the port. */
  weft_udp_bind_options reuse = WEFT_UDP_BIND_OPTIONS_INIT;
  reuse.reuse_address = 1;
  reuse.max_queued = 4;
  assert_int_equal(weft_udp_bind(&first, f->loop, "127.0.0.1", 0, &reuse), WEFT_OK);
  assert_int_equal(weft_udp_local_address(&address, first), WEFT_OK);
  assert_int_equal(weft_udp_bind(&second, f->loop, "127.0.0.1", address.port, &reuse), WEFT_OK);
  weft_address second_address;
  assert_int_equal(weft_udp_local_address(&second_address, second), WEFT_OK);
  assert_same_address(&address, &second_address);
  assert_int_equal(weft_udp_close(first), WEFT_OK);
  assert_int_equal(weft_udp_close(second), WEFT_OK);
}

static void test_udp__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_udp_socket_t* socket = NULL;
  weft_address address;
  assert_int_equal(weft_udp_bind(NULL, f->loop, "127.0.0.1", 0, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_bind(&socket, NULL, "127.0.0.1", 0, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_bind(&socket, (weft_loop_t*)f->pool, "127.0.0.1", 0, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_bind(&socket, f->loop, NULL, 0, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_bind(&socket, f->loop, "localhost", 0, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_bind(&socket, f->loop, "", 0, NULL), WEFT_ERR_INVALID_ARGUMENT);
  weft_udp_bind_options small = WEFT_UDP_BIND_OPTIONS_INIT;
  small.struct_size = 4;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, &small), WEFT_ERR_INVALID_ARGUMENT);
  /* A newer, larger struct is fine while its unknown tail is zero. */
  struct {
    weft_udp_bind_options options;
    uint64_t future_field;
  } larger;
  memset(&larger, 0, sizeof(larger));
  larger.options.struct_size = sizeof(larger);
  larger.future_field = 1;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, &larger.options),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_null(socket);
  larger.future_field = 0;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, &larger.options), WEFT_OK);
  assert_non_null(socket);

  /* NULL, and handles of another kind. */
  assert_int_equal(weft_udp_local_address(&address, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_local_address(NULL, socket), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_send_to(NULL, NULL, "x", 1, "127.0.0.1", 9, never_called, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_recv_from(NULL, NULL, never_called_recv, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_close(NULL), WEFT_OK);
  assert_int_equal(weft_udp_recv_from(NULL, (weft_udp_socket_t*)f->loop, never_called_recv, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_udp_close((weft_udp_socket_t*)f->pool), WEFT_ERR_INVALID_HANDLE);
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_recv_from(NULL, (weft_udp_socket_t*)listener, never_called_recv, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_listener_close((weft_tcp_listener_t*)socket), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);

  /* Arguments. */
  assert_int_equal(weft_udp_send_to(NULL, socket, NULL, 1, "127.0.0.1", 9, never_called, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_send_to(NULL, socket, "x", 1, NULL, 9, never_called, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_send_to(NULL, socket, "x", 1, "localhost", 9, never_called, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_udp_send_to(NULL, socket, "x", 1, "127.0.0.1:9", 9, never_called, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* The callback may be NULL when a future takes the outcome; closing the
   * socket then rejects that future, cancelled. */
  weft_future_t* receive = NULL;
  assert_int_equal(weft_udp_recv_from(&receive, socket, NULL, NULL), WEFT_OK);
  assert_non_null(receive);
  assert_int_equal(weft_udp_recv_from(NULL, socket, never_called_recv, NULL), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_udp_close(socket), WEFT_OK);
  weft_status received = WEFT_OK;
  const char* why = NULL;
  assert_int_equal(weft_future_result(&received, NULL, &why, receive), WEFT_OK);
  assert_int_equal(received, WEFT_ERR_CANCELLED);
  assert_non_null(why);
  assert_true(why[0] != '\0');
  assert_int_equal(weft_future_release(receive), WEFT_OK);
  assert_int_equal(weft_udp_local_address(&address, socket), WEFT_ERR_STALE_HANDLE);
}

static void count_receives(void* user, const weft_object_info* info) {
  if (info->kind == WEFT_OBJECT_IO_OPERATION && strcmp(info->name, "recv_from") == 0) ++*(int*)user;
}

static void test_udp__scope_cancel_and_destroy_end_sockets(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_address address;
  weft_udp_socket_t* socket = bind_on(loop, "127.0.0.1", &address);
  recv_record pending = {0};
  assert_int_equal(weft_udp_recv_from(NULL, socket, record_recv, &pending), WEFT_OK);
  int listed = 0;
  assert_int_equal(weft_scope_list(scope, count_receives, &listed), WEFT_OK);
  assert_int_equal(listed, 1);

  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_udp_close(socket), WEFT_ERR_STALE_HANDLE);
  /* A cancelled scope takes no new sockets. */
  weft_udp_socket_t* refused = NULL;
  assert_int_equal(weft_udp_bind(&refused, loop, "127.0.0.1", 0, NULL), WEFT_ERR_CLOSED);
  assert_null(refused);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);

  /* Destroying a scope ends its sockets too. */
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin2"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  socket = bind_on(loop, "127.0.0.1", &address);
  recv_record second = {0};
  assert_int_equal(weft_udp_recv_from(NULL, socket, record_recv, &second), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(second.calls, 1);
  assert_int_equal(second.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_udp_recv_from(NULL, socket, never_called_recv, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(second.calls, 1);
}

typedef struct thread_call {
  weft_udp_socket_t* socket;
  weft_status address_status;
  weft_status send_status;
  weft_status recv_status;
  weft_status close_status;
  weft_status bind_status;
  weft_loop_t* loop;
} thread_call;

static void* from_another_thread(void* arg) {
  thread_call* call = arg;
  weft_address address;
  call->address_status = weft_udp_local_address(&address, call->socket);
  call->send_status = weft_udp_send_to(NULL, call->socket, "x", 1, "127.0.0.1", 9, never_called, NULL);
  call->recv_status = weft_udp_recv_from(NULL, call->socket, never_called_recv, NULL);
  call->close_status = weft_udp_close(call->socket);
  weft_udp_socket_t* socket = NULL;
  call->bind_status = weft_udp_bind(&socket, call->loop, "127.0.0.1", 0, NULL);
  return NULL;
}

static void test_udp__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  weft_address address;
  thread_call call;
  memset(&call, 0, sizeof(call));
  call.socket = bind_on(f->loop, "127.0.0.1", &address);
  call.loop = f->loop;
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.address_status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.send_status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.recv_status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.close_status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.bind_status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_udp_close(call.socket), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_udp__round_trip_ipv4, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__round_trip_ipv6, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__datagram_size_limits, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__one_receive_at_a_time_and_queued_datagrams_in_order,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__close_cancels_pending_operations_exactly_once,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__a_callback_may_close_its_socket, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__address_in_use_without_reuse_address, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__scope_cancel_and_destroy_end_sockets, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_udp__loop_thread_only, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
