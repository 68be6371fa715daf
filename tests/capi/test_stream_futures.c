/* The future path of the stream operations (weft's one asynchronous model):
 * connect and accept (TCP and Unix socket), read, read_exactly, read_until,
 * write, drain and shutdown, each with a non-NULL `out` and no callback
 * (the future resolves with BYTES for reads, a POINTER holding the new
 * weft_stream_t* for connect and accept, NONE for the others, or rejects
 * with the failure's status and message). The same operations given both a
 * callback and a future, with_timeout and close are
 * test_stream_futures_dual.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/stream_future_checks.h"

/* A short temporary directory for socket files. */
static void temp_dir_make(char* dir, size_t size) {
  const char* base = getenv("TEST_TMPDIR");
  if (base == NULL || strlen(base) > 60) base = "/tmp";
  snprintf(dir, size, "%s/futXXXXXX", base);
  assert_non_null(mkdtemp(dir));
}

/* A free port on 127.0.0.1: listen, note it, close. */
static uint16_t free_port(fixture* f) {
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  return port;
}

/* ---- futures alone (no callback) ------------------------------------------ */

static void test_stream_futures__tcp_connect_and_accept(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_future_t *accepting = NULL, *connecting = NULL;
  assert_int_equal(weft_tcp_accept(&accepting, listener, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_tcp_connect(&connecting, f->loop, "127.0.0.1", port, WEFT_SEC(5), NULL, NULL),
                   WEFT_OK);
  assert_non_null(accepting);
  assert_non_null(connecting);
  assert_true(accepting != connecting);
  future_record accepted = {0}, connected = {0};
  await_future(f, connecting, &connected);
  await_future(f, accepting, &accepted);
  weft_stream_t* client = expect_stream(connecting, &connected);
  weft_stream_t* server = expect_stream(accepting, &accepted);
  assert_true(client != server);

  /* They are live TCP streams, connected to each other. */
  weft_address client_local, server_peer;
  assert_int_equal(weft_tcp_local_address(&client_local, client), WEFT_OK);
  assert_int_equal(weft_tcp_peer_address(&server_peer, server), WEFT_OK);
  assert_int_equal(client_local.port, server_peer.port);
  read_record got = {0};
  stream_write_text(client, "over tcp");
  assert_int_equal(weft_stream_read_exactly(NULL, server, 8, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_memory_equal(got.bytes, "over tcp", 8);

  /* Releasing the futures leaves the streams alone: they are the caller's. */
  assert_int_equal(weft_future_release(connecting), WEFT_OK);
  assert_int_equal(weft_future_release(accepting), WEFT_OK);
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_OK);
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

static void test_stream_futures__refused_connect_rejects(void** state) {
  fixture* f = FIXTURE(state);
  const uint16_t port = free_port(f);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  weft_future_t* connecting = NULL;
  assert_int_equal(weft_tcp_connect(&connecting, f->loop, "127.0.0.1", port, WEFT_SEC(5), NULL, NULL),
                   WEFT_OK);
  future_record r = {0};
  await_future(f, connecting, &r);
  char message[200];
  expect_rejected(connecting, &r, WEFT_ERR_CONNECTION_REFUSED, message, sizeof message);
  assert_non_null(strstr(message, "127.0.0.1")); /* the message names the address */
  char port_text[16];
  snprintf(port_text, sizeof port_text, "%u", (unsigned)port);
  assert_non_null(strstr(message, port_text)); /* and the port */
  assert_int_equal(weft_future_release(connecting), WEFT_OK);

  /* With a callback as well: both get the same status and message, once. */
  dual d = {0};
  assert_int_equal(weft_tcp_connect(&d.future, f->loop, "127.0.0.1", port, WEFT_SEC(5), dual_stream, &d),
                   WEFT_OK);
  assert_true(run_until(f->loop, &d.calls));
  assert_int_equal(d.status, WEFT_ERR_CONNECTION_REFUSED);
  assert_null(d.stream);
  assert_non_null(strstr(d.message, "127.0.0.1"));
  dual_finish(f, &d);
}

static void test_stream_futures__unix_socket_connect_and_accept(void** state) {
  fixture* f = FIXTURE(state);
  char dir[128], path[192], missing[192];
  temp_dir_make(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/f.sock", dir);
  snprintf(missing, sizeof missing, "%s/missing.sock", dir);
  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);

  weft_future_t *accepting = NULL, *connecting = NULL;
  assert_int_equal(weft_pipe_accept(&accepting, listener, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_pipe_connect(&connecting, f->loop, path, WEFT_SEC(5), NULL, NULL), WEFT_OK);
  future_record accepted = {0}, connected = {0};
  await_future(f, connecting, &connected);
  await_future(f, accepting, &accepted);
  weft_stream_t* client = expect_stream(connecting, &connected);
  weft_stream_t* server = expect_stream(accepting, &accepted);
  read_record got = {0};
  stream_write_text(server, "over unix");
  assert_int_equal(weft_stream_read_exactly(NULL, client, 9, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_memory_equal(got.bytes, "over unix", 9);
  /* Not TCP streams. */
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_future_release(connecting), WEFT_OK);
  assert_int_equal(weft_future_release(accepting), WEFT_OK);

  /* Both a callback and a future, each way. */
  dual d_accept = {0}, d_connect = {0};
  assert_int_equal(weft_pipe_accept(&d_accept.future, listener, dual_stream, &d_accept), WEFT_OK);
  assert_int_equal(weft_pipe_connect(&d_connect.future, f->loop, path, WEFT_SEC(5), dual_stream, &d_connect),
                   WEFT_OK);
  assert_true(run_until(f->loop, &d_connect.calls));
  assert_true(run_until(f->loop, &d_accept.calls));
  assert_int_equal(d_connect.status, WEFT_OK);
  assert_int_equal(d_accept.status, WEFT_OK);
  dual_finish(f, &d_connect);
  dual_finish(f, &d_accept);
  assert_int_equal(weft_stream_close(d_connect.stream), WEFT_OK);
  assert_int_equal(weft_stream_close(d_accept.stream), WEFT_OK);

  /* Nothing at the path: rejected with NOT_FOUND and a message. */
  weft_future_t* nowhere = NULL;
  assert_int_equal(weft_pipe_connect(&nowhere, f->loop, missing, WEFT_SEC(5), NULL, NULL), WEFT_OK);
  future_record none = {0};
  await_future(f, nowhere, &none);
  expect_rejected(nowhere, &none, WEFT_ERR_NOT_FOUND, NULL, 0);
  assert_int_equal(weft_future_release(nowhere), WEFT_OK);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(rmdir(dir), 0);
}

static void test_stream_futures__reads_resolve_with_bytes(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);

  /* read: what is available. */
  weft_future_t* reading = NULL;
  assert_int_equal(weft_stream_read(&reading, b, 64, NULL, NULL), WEFT_OK);
  stream_write_text(a, "abc");
  future_record r = {0};
  await_future(f, reading, &r);
  expect_bytes(reading, &r, "abc", 3);
  assert_int_equal(weft_future_release(reading), WEFT_OK);

  /* read_exactly: exactly n, across writes; the rest stays buffered. */
  weft_future_t* exactly = NULL;
  assert_int_equal(weft_stream_read_exactly(&exactly, b, 6, NULL, NULL), WEFT_OK);
  stream_write_text(a, "012");
  spin_loop(f->loop, 5);
  weft_status status = WEFT_OK;
  assert_int_equal(weft_future_result(&status, NULL, NULL, exactly), WEFT_ERR_NOT_READY);
  stream_write_text(a, "345678");
  future_record e = {0};
  await_future(f, exactly, &e);
  expect_bytes(exactly, &e, "012345", 6);
  assert_int_equal(weft_future_release(exactly), WEFT_OK);

  /* read_until: up to and including the delimiter (with a NUL in it). */
  weft_future_t* until = NULL;
  assert_int_equal(weft_stream_write(NULL, a, "9\0|x", 4, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(&until, b, "\0|", 2, 64, NULL, NULL), WEFT_OK);
  future_record u = {0};
  await_future(f, until, &u);
  expect_bytes(until, &u, "6789\0|", 6);
  assert_int_equal(weft_future_release(until), WEFT_OK);

  /* read_until without a delimiter within max: rejected, nothing taken. */
  weft_future_t* too_long = NULL;
  stream_write_text(a, "yz");
  assert_int_equal(weft_stream_read_until(&too_long, b, "\n", 1, 2, NULL, NULL), WEFT_OK);
  future_record t = {0};
  await_future(f, too_long, &t);
  expect_rejected(too_long, &t, WEFT_ERR_MESSAGE_TOO_LONG, NULL, 0);
  assert_int_equal(weft_future_release(too_long), WEFT_OK);
  size_t buffered = 0;
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 3); /* "xyz" */

  /* The end of the stream: read_exactly short of n is rejected with
   * END_OF_FILE (the bytes stay), then a read takes them, then END_OF_FILE. */
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  weft_future_t* short_read = NULL;
  assert_int_equal(weft_stream_read_exactly(&short_read, b, 10, NULL, NULL), WEFT_OK);
  future_record s = {0};
  await_future(f, short_read, &s);
  expect_rejected(short_read, &s, WEFT_ERR_END_OF_FILE, NULL, 0);
  assert_int_equal(weft_future_release(short_read), WEFT_OK);
  weft_future_t* rest = NULL;
  assert_int_equal(weft_stream_read(&rest, b, 64, NULL, NULL), WEFT_OK);
  future_record rr = {0};
  await_future(f, rest, &rr);
  expect_bytes(rest, &rr, "xyz", 3);
  assert_int_equal(weft_future_release(rest), WEFT_OK);
  weft_future_t* end = NULL;
  assert_int_equal(weft_stream_read(&end, b, 64, NULL, NULL), WEFT_OK);
  future_record en = {0};
  await_future(f, end, &en);
  expect_rejected(end, &en, WEFT_ERR_END_OF_FILE, NULL, 0);
  assert_int_equal(weft_future_release(end), WEFT_OK);

  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

static void test_stream_futures__write_drain_shutdown_resolve_with_none(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);

  weft_future_t *writing = NULL, *draining = NULL, *shutting = NULL;
  assert_int_equal(weft_stream_write(&writing, a, "bye", 3, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_drain(&draining, a, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(&shutting, a, NULL, NULL), WEFT_OK);
  /* A drain never completes inside its call. */
  weft_status status = WEFT_OK;
  assert_int_equal(weft_future_result(&status, NULL, NULL, draining), WEFT_ERR_NOT_READY);
  future_record w = {0}, d = {0}, s = {0};
  await_future(f, writing, &w);
  await_future(f, draining, &d);
  await_future(f, shutting, &s);
  expect_none(writing, &w);
  expect_none(draining, &d);
  expect_none(shutting, &s);
  assert_int_equal(weft_future_release(writing), WEFT_OK);
  assert_int_equal(weft_future_release(draining), WEFT_OK);
  assert_int_equal(weft_future_release(shutting), WEFT_OK);

  /* The peer got the bytes, then the end. */
  read_record got = {0}, end = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, b, 3, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_memory_equal(got.bytes, "bye", 3);
  assert_int_equal(weft_stream_read(NULL, b, 8, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);

  /* A write after the shutdown is rejected with INVALID_STATE. */
  weft_future_t* late = NULL;
  assert_int_equal(weft_stream_write(&late, a, "late", 4, NULL, NULL), WEFT_OK);
  future_record l = {0};
  await_future(f, late, &l);
  expect_rejected(late, &l, WEFT_ERR_INVALID_STATE, NULL, 0);
  assert_int_equal(weft_future_release(late), WEFT_OK);

  /* A write to a peer that is gone is rejected with BROKEN_PIPE. */
  weft_future_t* broken = NULL;
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_write(&broken, b, "x", 1, NULL, NULL), WEFT_OK);
  future_record br = {0};
  await_future(f, broken, &br);
  expect_rejected(broken, &br, WEFT_ERR_BROKEN_PIPE, NULL, 0);
  assert_int_equal(weft_future_release(broken), WEFT_OK);
  /* ...and so is a drain of that queue. */
  weft_future_t* drain_broken = NULL;
  assert_int_equal(weft_stream_drain(&drain_broken, b, NULL, NULL), WEFT_OK);
  future_record db = {0};
  await_future(f, drain_broken, &db);
  expect_rejected(drain_broken, &db, WEFT_ERR_BROKEN_PIPE, NULL, 0);
  assert_int_equal(weft_future_release(drain_broken), WEFT_OK);

  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stream_futures__tcp_connect_and_accept, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__refused_connect_rejects, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__unix_socket_connect_and_accept, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__reads_resolve_with_bytes, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__write_drain_shutdown_resolve_with_none,
                                      fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
