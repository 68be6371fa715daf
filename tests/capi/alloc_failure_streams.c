/* The sweep's stream scenarios (alloc_failure.h): write, read (until a mark,
 * some, into a future) and shutdown over a pipe pair, a TCP connection on
 * 127.0.0.1 and TLS over a pipe pair, a refused call sending, taking and
 * ending nothing; pipe pairs; TCP and Unix socket listen/connect/accept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/alloc_failure.h"

/* A connected pair: TCP (client, server), a pipe pair, or TLS streams over
 * a pipe pair (client, server; see the TLS section). */
static int g_use_tcp;
static int g_use_tls;
static weft_tcp_listener_t* g_listener;

static void pair_open(fixture* f, weft_stream_t** a, weft_stream_t** b) {
  g_listener = NULL;
  if (g_use_tls) {
    tls_pair_open(f, a, b);
    return;
  }
  if (!g_use_tcp) {
    stream_pair_open(f, a, b);
    return;
  }
  uint16_t port = 0;
  g_listener = tcp_listen_loopback(f, &port);
  tcp_connect_pair(f, g_listener, port, a, b);
}

static void pair_close(weft_stream_t* a, weft_stream_t* b) {
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  if (g_listener != NULL) assert_int_equal(weft_tcp_listener_close(g_listener), WEFT_OK);
  if (g_use_tls) tls_pair_done();
}

void read_to_mark(fixture* f, weft_stream_t* stream, read_record* r) {
  memset(r, 0, sizeof *r);
  assert_int_equal(weft_stream_read_until(NULL, stream, "!", 1, 64, record_read, r), WEFT_OK);
  assert_true(run_until(f->loop, &r->calls));
}

static void write_scenario(fixture* f) {
  weft_stream_t *a, *b;
  pair_open(f, &a, &b);
  call_record written = {0};
  arm(f);
  weft_status status = weft_stream_write(NULL, a, "hello", 5, record_callback, &written);
  check_call_status(status);
  check_promised(f, status, &written.calls);
  disarm(f);
  if (status == WEFT_OK) assert_int_equal(written.status, WEFT_OK);
  stream_write_text(a, "!");
  read_record got;
  read_to_mark(f, b, &got);
  assert_int_equal(got.status, WEFT_OK);
  /* A refused write sent nothing. */
  const char* expected = status == WEFT_OK ? "hello!" : "!";
  assert_int_equal(got.len, strlen(expected));
  assert_memory_equal(got.bytes, expected, got.len);
  pair_close(a, b);
}

static void read_scenario(fixture* f) {
  weft_stream_t *a, *b;
  pair_open(f, &a, &b);
  stream_write_text(a, "abcd!");
  spin_loop(f->loop, 3);
  read_record got = {0};
  arm(f);
  weft_status status = weft_stream_read_until(NULL, b, "!", 1, 64, record_read, &got);
  check_call_status(status);
  check_promised(f, status, &got.calls);
  disarm(f);
  if (status != WEFT_OK) read_to_mark(f, b, &got); /* a refused read took nothing */
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 5);
  assert_memory_equal(got.bytes, "abcd!", 5);
  pair_close(a, b);
}

static void read_some_scenario(fixture* f) {
  weft_stream_t *a, *b;
  pair_open(f, &a, &b);
  stream_write_text(a, "wxyz");
  spin_loop(f->loop, 3);
  read_record got = {0};
  arm(f);
  weft_status status = weft_stream_read(NULL, b, 64, record_read, &got);
  check_call_status(status);
  check_promised(f, status, &got.calls);
  disarm(f);
  if (status != WEFT_OK) {
    memset(&got, 0, sizeof got);
    assert_int_equal(weft_stream_read(NULL, b, 64, record_read, &got), WEFT_OK);
    assert_true(run_until(f->loop, &got.calls));
  }
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 4); /* all four bytes, whichever read got them */
  assert_memory_equal(got.bytes, "wxyz", 4);
  pair_close(a, b);
}

/* Runs the loop until `future` completes (at most 5 s); its outcome. */
static weft_status await_outcome(fixture* f, weft_future_t* future, weft_value* value) {
  weft_status outcome = WEFT_OK;
  const char* message = NULL;
  for (int i = 0; i < 5000; ++i) {
    if (weft_future_result(&outcome, value, &message, future) == WEFT_OK) return outcome;
    spin_loop(f->loop, 1);
  }
  fail_msg("the future did not complete in 5 s");
  return WEFT_ERR_TIMED_OUT;
}

/* A read observed only through its future: bytes whose copy into the
 * future is refused are not lost, the next read gets them. */
static void read_into_future_scenario(fixture* f) {
  weft_stream_t *a, *b;
  pair_open(f, &a, &b);
  stream_write_text(a, "wxyz");
  spin_loop(f->loop, 3);
  weft_future_t* future = NULL;
  arm(f);
  weft_status status = weft_stream_read(&future, b, 64, NULL, NULL);
  check_call_status(status);
  weft_value value;
  weft_status outcome = WEFT_ERR_NO_MEMORY;
  if (status == WEFT_OK) outcome = await_outcome(f, future, &value);
  disarm(f);
  if (outcome == WEFT_OK) {
    assert_int_equal(value.kind, WEFT_VALUE_BYTES);
    assert_int_equal(value.as.bytes.size, 4);
    assert_memory_equal(value.as.bytes.data, "wxyz", 4);
  } else {
    assert_int_equal(outcome, WEFT_ERR_NO_MEMORY);
    read_record got = {0};
    assert_int_equal(weft_stream_read(NULL, b, 64, record_read, &got), WEFT_OK);
    assert_true(run_until(f->loop, &got.calls));
    assert_int_equal(got.len, 4);
    assert_memory_equal(got.bytes, "wxyz", 4);
  }
  if (future != NULL) assert_int_equal(weft_future_release(future), WEFT_OK);
  pair_close(a, b);
}

static void shutdown_scenario(fixture* f) {
  weft_stream_t *a, *b;
  pair_open(f, &a, &b);
  call_record shut = {0};
  arm(f);
  weft_status status = weft_stream_shutdown(NULL, a, record_callback, &shut);
  check_call_status(status);
  check_promised(f, status, &shut.calls);
  disarm(f);
  read_record got = {0};
  if (status == WEFT_OK) {
    assert_int_equal(shut.status, WEFT_OK);
    assert_int_equal(weft_stream_read(NULL, b, 64, record_read, &got), WEFT_OK);
    assert_true(run_until(f->loop, &got.calls));
    assert_int_equal(got.status, WEFT_ERR_END_OF_FILE);
  } else {
    /* A refused shutdown left the stream open for writing. */
    stream_write_text(a, "still open!");
    read_to_mark(f, b, &got);
    assert_int_equal(got.status, WEFT_OK);
    assert_int_equal(got.len, 11);
  }
  pair_close(a, b);
}

void test_alloc_failure__pipe_stream(void** state) {
  (void)state;
  g_use_tcp = 0;
  sweep(write_scenario);
  sweep(read_scenario);
  sweep(read_some_scenario);
  sweep(read_into_future_scenario);
  sweep(shutdown_scenario);
}

void test_alloc_failure__tcp_stream(void** state) {
  (void)state;
  g_use_tcp = 1;
  sweep(write_scenario);
  sweep(read_scenario);
  sweep(read_some_scenario);
  sweep(read_into_future_scenario);
  sweep(shutdown_scenario);
}

static void pipe_pair_scenario(fixture* f) {
  weft_stream_t *a = NULL, *b = NULL;
  arm(f);
  weft_status status = weft_pipe_pair(&a, &b, f->loop);
  disarm(f);
  check_call_status(status);
  if (status != WEFT_OK) {
    assert_null(a);
    assert_null(b);
    return;
  }
  pair_close(a, b);
}

void test_alloc_failure__pipe_pair(void** state) {
  (void)state;
  g_use_tcp = 0;
  sweep(pipe_pair_scenario);
}

/* An accept function of either listener kind. */
typedef weft_status (*accept_fn)(void* listener, stream_record* accepted);
static weft_status tcp_accept(void* listener, stream_record* accepted) {
  return weft_tcp_accept(NULL, listener, record_stream, accepted);
}
static weft_status pipe_accept(void* listener, stream_record* accepted) {
  return weft_pipe_accept(NULL, listener, record_stream, accepted);
}

/* The connection `connected` made waits in `listener`'s backlog: accepts it
 * under the refusal (a refused accept must leave it there for the next
 * accept), sends "ping!" through it, and closes both ends. */
static void accept_and_exchange(fixture* f, accept_fn accept, void* listener, stream_record* connected) {
  /* Once started, a connect needs no more memory: it cannot be refused on
   * delivery. */
  assert_int_equal(connected->status, WEFT_OK);
  stream_record accepted = {0};
  arm(f);
  weft_status accepting = accept(listener, &accepted);
  check_call_status(accepting);
  check_promised(f, accepting, &accepted.calls);
  disarm(f);
  if (accepting != WEFT_OK) {
    memset(&accepted, 0, sizeof accepted);
    assert_int_equal(accept(listener, &accepted), WEFT_OK);
    assert_true(run_until(f->loop, &accepted.calls));
  }
  /* Nor an accept: the connection arrives whole, the one connected. */
  assert_int_equal(accepted.status, WEFT_OK);
  stream_write_text(connected->stream, "ping!");
  read_record got;
  read_to_mark(f, accepted.stream, &got);
  assert_int_equal(got.len, 5);
  assert_int_equal(weft_stream_close(accepted.stream), WEFT_OK);
  assert_int_equal(weft_stream_close(connected->stream), WEFT_OK);
}

static void listen_connect_accept_scenario(fixture* f) {
  weft_tcp_listener_t* listener = NULL;
  arm(f);
  weft_status listening = weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, NULL);
  disarm(f);
  check_call_status(listening);
  if (listening != WEFT_OK) {
    assert_null(listener);
    return;
  }
  uint16_t port = 0;
  assert_int_equal(weft_tcp_listener_port(&port, listener), WEFT_OK);
  stream_record connected = {0};
  arm(f);
  weft_status connecting =
      weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_SEC(5), record_stream, &connected);
  check_call_status(connecting);
  check_promised(f, connecting, &connected.calls);
  disarm(f);
  if (connecting != WEFT_OK) {
    /* Refused: the connection does not exist; nothing to accept. */
    assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
    return;
  }
  accept_and_exchange(f, tcp_accept, listener, &connected);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
}

/* The same over a Unix domain socket (in a short directory under /tmp: a
 * socket path must fit in sun_path). */
static void pipe_listen_connect_accept_scenario(fixture* f) {
  char dir[64] = "/tmp/weft-sweep-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[96];
  snprintf(path, sizeof path, "%s/sock", dir);
  weft_pipe_listener_t* listener = NULL;
  arm(f);
  weft_status listening = weft_pipe_listen(&listener, f->loop, path, NULL);
  disarm(f);
  check_call_status(listening);
  if (listening == WEFT_OK) {
    stream_record connected = {0};
    arm(f);
    weft_status connecting =
        weft_pipe_connect(NULL, f->loop, path, WEFT_SEC(5), record_stream, &connected);
    check_call_status(connecting);
    check_promised(f, connecting, &connected.calls);
    disarm(f);
    if (connecting == WEFT_OK) accept_and_exchange(f, pipe_accept, listener, &connected);
    assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  } else {
    assert_null(listener);
  }
  remove(path);
  rmdir(dir);
}

void test_alloc_failure__tcp_listen_connect_accept(void** state) {
  (void)state;
  sweep(listen_connect_accept_scenario);
}

void test_alloc_failure__pipe_listen_connect_accept(void** state) {
  (void)state;
  sweep(pipe_listen_connect_accept_scenario);
}

/* The stream scenarios on TLS streams: nothing written, read or shut down
 * by a refused call, as on the plain ones. */
void test_alloc_failure__tls_stream(void** state) {
  (void)state;
  g_use_tcp = 0;
  g_use_tls = 1;
  sweep(write_scenario);
  sweep(read_scenario);
  sweep(read_some_scenario);
  sweep(read_into_future_scenario);
  sweep(shutdown_scenario);
  g_use_tls = 0;
}
