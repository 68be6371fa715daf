/* The future path of the stream operations (weft's one asynchronous model):
 * connect and accept (TCP and Unix socket), read, read_exactly, read_until,
 * write, drain and shutdown, each with a non-NULL `out` and no callback
 * (the future resolves with BYTES for reads, a POINTER holding the new
 * weft_stream_t* for connect and accept, NONE for the others, or rejects
 * with the failure's status and message), and with both a callback and a
 * future (both see the same outcome, exactly once; the future is complete
 * when the callback runs). Also weft_future_with_timeout over a read that
 * never completes (the read is cancelled, its bytes are not lost) and
 * closing a stream with a read's future pending. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* ---- recorders ------------------------------------------------------------ */

/* What a weft_future_then callback saw. */
typedef struct future_record {
  int calls;
  weft_status status;
  weft_value_kind kind;
  char bytes[256];
  size_t len;
  void* pointer;
  weft_destroy_fn destroy;
  char message[200];
} future_record;

static void record_future(void* user, weft_future_t* future, weft_status status,
                          const weft_value* value, const char* message) {
  future_record* r = user;
  assert_non_null(future);
  assert_non_null(value);
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->kind = value->kind;
  if (status != WEFT_OK) assert_int_equal(value->kind, WEFT_VALUE_NONE);
  if (value->kind == WEFT_VALUE_BYTES) {
    size_t len = value->as.bytes.size;
    assert_true(len <= sizeof r->bytes);
    if (len > 0) memcpy(r->bytes, value->as.bytes.data, len);
    r->len = len;
  } else if (value->kind == WEFT_VALUE_POINTER) {
    r->pointer = value->as.pointer.pointer;
    r->destroy = value->as.pointer.destroy;
  }
}

/* Registers record_future on `future` and runs the loop until it ran. */
static void await_future(fixture* f, weft_future_t* future, future_record* r) {
  assert_int_equal(weft_future_then(future, f->loop, record_future, r), WEFT_OK);
  assert_int_equal(r->calls, 0); /* never inside weft_future_then */
  assert_true(run_until(f->loop, &r->calls));
  assert_int_equal(r->calls, 1);
}

/* A future's outcome through weft_future_result: its status, and a copy of
 * its message ("" when resolved). */
static weft_status result_of(weft_future_t* future, weft_value* value, char* message, size_t capacity) {
  weft_status status = WEFT_OK;
  const char* text = NULL;
  assert_int_equal(weft_future_result(&status, value, &text, future), WEFT_OK);
  check_message(status, text, message, capacity);
  return status;
}

/* Checks a future resolved with BYTES equal to `expected` (and that
 * weft_future_result agrees with what the then-callback saw). */
static void expect_bytes(weft_future_t* future, const future_record* r, const char* expected, size_t len) {
  assert_int_equal(r->status, WEFT_OK);
  assert_int_equal(r->kind, WEFT_VALUE_BYTES);
  assert_int_equal(r->len, len);
  assert_memory_equal(r->bytes, expected, len);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(future, &value, message, sizeof message), WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_BYTES);
  assert_int_equal(value.as.bytes.size, len);
  assert_memory_equal(value.as.bytes.data, expected, len);
}

/* Checks a future resolved with NONE. */
static void expect_none(weft_future_t* future, const future_record* r) {
  assert_int_equal(r->status, WEFT_OK);
  assert_int_equal(r->kind, WEFT_VALUE_NONE);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(future, &value, message, sizeof message), WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
}

/* Checks a future resolved with a POINTER holding a stream (destroy NULL:
 * the stream is still the caller's to close) and returns it. */
static weft_stream_t* expect_stream(weft_future_t* future, const future_record* r) {
  assert_int_equal(r->status, WEFT_OK);
  assert_int_equal(r->kind, WEFT_VALUE_POINTER);
  assert_non_null(r->pointer);
  assert_null(r->destroy);
  weft_value value;
  char message[200];
  assert_int_equal(result_of(future, &value, message, sizeof message), WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_POINTER);
  assert_ptr_equal(value.as.pointer.pointer, r->pointer);
  void* pointer = NULL;
  assert_int_equal(weft_value_get_pointer(&pointer, &value), WEFT_OK);
  assert_ptr_equal(pointer, r->pointer);
  return (weft_stream_t*)r->pointer;
}

/* Checks a future rejected with `status` and a message (copied to
 * `message`), and that weft_future_result agrees. */
static void expect_rejected(weft_future_t* future, const future_record* r, weft_status status,
                            char* message, size_t capacity) {
  assert_int_equal(r->status, status);
  assert_int_equal(r->kind, WEFT_VALUE_NONE);
  assert_true(r->message[0] != '\0');
  weft_value value;
  char text[200];
  assert_int_equal(result_of(future, &value, text, sizeof text), status);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_string_equal(text, r->message);
  if (capacity > 0) snprintf(message, capacity, "%s", text);
}

/* An operation given both a callback and a future: what the callback saw,
 * and whether the future already had the same outcome when it ran. */
typedef struct dual {
  weft_future_t* future; /* the operation's future (*out) */
  int calls;
  weft_status status;
  char message[200];
  char bytes[256];
  size_t len;
  int null_bytes;
  weft_stream_t* stream;
  future_record then; /* a weft_future_then on the same future */
} dual;

/* The future completes just before the callback runs: it must be complete,
 * with the same status and message, when the callback looks. */
static void check_future_matches(dual* d, weft_status status, const char* message, weft_value* value) {
  assert_non_null(d->future);
  weft_status future_status = WEFT_OK;
  const char* future_message = NULL;
  assert_int_equal(weft_future_result(&future_status, value, &future_message, d->future), WEFT_OK);
  assert_int_equal(future_status, status);
  if (status == WEFT_OK) {
    assert_null(future_message);
  } else {
    assert_non_null(future_message);
    assert_string_equal(future_message, message);
    assert_int_equal(value->kind, WEFT_VALUE_NONE);
  }
}

static void dual_callback(void* user, weft_status status, const char* message) {
  dual* d = user;
  d->calls++;
  d->status = status;
  check_message(status, message, d->message, sizeof d->message);
  weft_value value;
  check_future_matches(d, status, message, &value);
  if (status == WEFT_OK) assert_int_equal(value.kind, WEFT_VALUE_NONE);
}

static void dual_bytes(void* user, weft_status status, const char* message, const void* bytes,
                       size_t len) {
  dual* d = user;
  d->calls++;
  d->status = status;
  check_message(status, message, d->message, sizeof d->message);
  d->null_bytes = bytes == NULL;
  assert_true(len <= sizeof d->bytes);
  if (len > 0) memcpy(d->bytes, bytes, len);
  d->len = len;
  weft_value value;
  check_future_matches(d, status, message, &value);
  if (status == WEFT_OK) {
    assert_int_equal(value.kind, WEFT_VALUE_BYTES);
    assert_int_equal(value.as.bytes.size, len);
    if (len > 0) assert_memory_equal(value.as.bytes.data, bytes, len);
  } else {
    assert_true(bytes == NULL);
    assert_int_equal(len, 0);
  }
}

static void dual_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  dual* d = user;
  d->calls++;
  d->status = status;
  check_message(status, message, d->message, sizeof d->message);
  d->stream = stream;
  weft_value value;
  check_future_matches(d, status, message, &value);
  if (status == WEFT_OK) {
    assert_non_null(stream);
    assert_int_equal(value.kind, WEFT_VALUE_POINTER);
    assert_ptr_equal(value.as.pointer.pointer, stream);
  } else {
    assert_null(stream);
  }
}

/* After the callback: the then-callback sees the same outcome, once; and
 * nothing runs twice. Releases the future. */
static void dual_finish(fixture* f, dual* d) {
  assert_int_equal(d->calls, 1);
  assert_int_equal(weft_future_then(d->future, f->loop, record_future, &d->then), WEFT_OK);
  assert_true(run_until(f->loop, &d->then.calls));
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(d->calls, 1);
  assert_int_equal(d->then.calls, 1);
  assert_int_equal(d->then.status, d->status);
  assert_string_equal(d->then.message, d->message);
  if (d->status == WEFT_OK && d->then.kind == WEFT_VALUE_BYTES) {
    assert_int_equal(d->then.len, d->len);
    assert_memory_equal(d->then.bytes, d->bytes, d->len);
  }
  if (d->status == WEFT_OK && d->then.kind == WEFT_VALUE_POINTER) {
    assert_ptr_equal(d->then.pointer, d->stream);
  }
  assert_int_equal(weft_future_release(d->future), WEFT_OK);
  d->future = NULL;
}

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
      cmocka_unit_test_setup_teardown(test_stream_futures__callback_and_future_see_one_outcome,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__with_timeout_cancels_a_read_that_never_completes,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream_futures__close_rejects_pending_read_futures,
                                      fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
