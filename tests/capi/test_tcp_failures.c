/* TCP on loopback, when the network says no: a refused connect, an
 * address in use, a connect that times out (a listener whose backlog is
 * full), a peer's reset mid-transfer (seen by a pending write and by a
 * pending read), and half-close both ways (the end of the stream, writes
 * after one's own shutdown refused). The rest of TCP is in test_tcp.c. */
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

static void test_tcp_failures__refused_connect(void** state) {
  fixture* f = FIXTURE(state);
  /* A port that was just free: listen, note it, close. */
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  stream_record connected = {0};
  assert_int_equal(
      weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_SEC(5), record_stream, &connected), WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_int_equal(connected.status, WEFT_ERR_CONNECTION_REFUSED);
  assert_null(connected.stream);
  assert_non_null(strstr(connected.message, "127.0.0.1")); /* the message names the address */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(connected.calls, 1);
}

static void test_tcp_failures__address_in_use(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_tcp_listener_t* second = NULL;
  assert_int_equal(weft_tcp_listen(&second, f->loop, "127.0.0.1", port, NULL),
                   WEFT_ERR_ADDRESS_IN_USE);
  assert_null(second);
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
static void test_tcp_failures__connect_times_out(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  int listener = raw_listener(&port);
  /* Fill the backlog: connections complete until one does not. */
  weft_stream_t* fillers[16];
  int filled = 0, full = 0;
  while (filled < 16 && !full) {
    stream_record r = {0};
    assert_int_equal(weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_MS(300), record_stream, &r),
                     WEFT_OK);
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
  assert_int_equal(weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_MS(100), record_stream, &timed_out),
                   WEFT_OK);
  assert_true(run_until(f->loop, &timed_out.calls));
  const long took = elapsed_ms(&start);
  assert_int_equal(timed_out.status, WEFT_ERR_TIMED_OUT);
  assert_null(timed_out.stream);
  assert_true(timed_out.message[0] != '\0');
  assert_true(took >= 90);
  assert_true(took < 900); /* well before the kernel's SYN retry (1 s) */

  for (int i = 0; i < filled; ++i) assert_int_equal(weft_stream_close(fillers[i]), WEFT_OK);
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

static weft_stream_t* accept_raw(fixture* f, weft_tcp_listener_t* listener, uint16_t port, int* raw) {
  stream_record accepted = {0};
  assert_int_equal(weft_tcp_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
  *raw = raw_connect(port);
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(accepted.status, WEFT_OK);
  return accepted.stream;
}

static void test_tcp_failures__peer_reset_mid_transfer(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);

  /* A write the peer stops taking: the peer reads a little, then resets. */
  int raw = -1;
  weft_stream_t* server = accept_raw(f, listener, port, &raw);
  const size_t size = 8 << 20;
  char* big = calloc(1, size);
  assert_non_null(big);
  call_record written = {0};
  assert_int_equal(weft_stream_write(NULL, server, big, size, record_callback, &written), WEFT_OK);
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
  assert_int_equal(weft_stream_write(NULL, server, "x", 1, record_callback, &again), WEFT_OK);
  assert_true(run_until(f->loop, &again.calls));
  assert_int_equal(again.status, WEFT_ERR_CONNECTION_RESET); /* the queue's failure stays */
  read_record after = {0};
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &after), WEFT_OK);
  assert_true(run_until(f->loop, &after.calls));
  /* The kernel reports a reset once (here to the write); reads then see the end. */
  assert_int_equal(after.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_stream_close(server), WEFT_OK);

  /* A read waiting when the peer resets. */
  server = accept_raw(f, listener, port, &raw);
  read_record reading = {0};
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &reading), WEFT_OK);
  assert_int_equal(send(raw, "abc", 3, 0), 3);
  assert_true(run_until(f->loop, &reading.calls));
  assert_int_equal(reading.status, WEFT_OK);
  memset(&reading, 0, sizeof reading);
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &reading), WEFT_OK);
  raw_reset(raw);
  assert_true(run_until(f->loop, &reading.calls));
  assert_int_equal(reading.status, WEFT_ERR_CONNECTION_RESET);
  assert_int_equal(reading.len, 0);
  memset(&written, 0, sizeof written);
  assert_int_equal(weft_stream_write(NULL, server, "x", 1, record_callback, &written), WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  /* The read took the reset; writing to the dead connection is a broken pipe. */
  assert_int_equal(written.status, WEFT_ERR_BROKEN_PIPE);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

/* Half-close one way, then the other: the side that shut down still reads,
 * the other side reads the end and still writes. */
static void half_close(fixture* f, weft_stream_t* first, weft_stream_t* second) {
  call_record shut = {0}, written = {0}, shut_back = {0};
  read_record end = {0}, reply = {0}, back_end = {0};
  assert_int_equal(weft_stream_shutdown(NULL, first, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, second, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);
  /* Writing after one's own shutdown is refused. */
  call_record late = {0};
  assert_int_equal(weft_stream_write(NULL, first, "late", 4, record_callback, &late), WEFT_OK);
  assert_true(run_until(f->loop, &late.calls));
  assert_int_equal(late.status, WEFT_ERR_INVALID_STATE);

  assert_int_equal(weft_stream_write(NULL, second, "reply", 5, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(NULL, first, 5, record_read, &reply), WEFT_OK);
  assert_true(run_until(f->loop, &reply.calls));
  assert_int_equal(reply.status, WEFT_OK);
  assert_memory_equal(reply.bytes, "reply", 5);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);

  assert_int_equal(weft_stream_shutdown(NULL, second, record_callback, &shut_back), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, first, 64, record_read, &back_end), WEFT_OK);
  assert_true(run_until(f->loop, &back_end.calls));
  assert_int_equal(back_end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut_back.calls));
  assert_int_equal(shut_back.status, WEFT_OK);
}

static void test_tcp_failures__half_close_both_ways(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);
  half_close(f, client, server); /* the client shuts down first */
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  tcp_connect_pair(f, listener, port, &client, &server);
  half_close(f, server, client); /* the server shuts down first */
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}
int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tcp_failures__refused_connect, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_failures__address_in_use, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_failures__connect_times_out, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_failures__peer_reset_mid_transfer, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_failures__half_close_both_ways, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
