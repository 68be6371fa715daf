/* When the callback of a write the kernel took at once runs: a write made in
 * a read's callback (an echo) is answered right after that callback
 * returns, still inside the loop's I/O callback for the read, before the
 * loop's ready queue is served again, and never inside weft_stream_write
 * itself; a chain of such writes is bounded; outside a read's callback, in
 * debug mode (slow_callback_ns) and once weft_loop_stop was called, the
 * callback runs from the ready queue, as before. Streams from
 * weft_pipe_pair. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdlib.h>
#include <string.h>

#include "tests/capi/support.h"

/* One side of an echo: what ran in which order. Assertions are made after
 * the loop returns (never inside a callback, which is called through C++). */
typedef struct echo {
  weft_loop_t* loop;
  weft_stream_t* stream;
  int sequence;        /* counts events, for the orders below */
  int in_read;         /* inside on_read */
  int in_write_call;   /* inside weft_stream_write */
  int reads;
  int writes_left;     /* further writes on_written makes (a chain) */
  int written;         /* write callbacks run */
  int written_inside_call;      /* ... of them inside weft_stream_write */
  int written_inside_on_read;   /* ... of them before on_read returned */
  int written_before_marker;    /* ... of them before the marker */
  int first_written_order;
  int marker_order;    /* when the call_soon marker posted by on_read ran */
  int stop_in_read;    /* on_read calls weft_loop_stop first */
  weft_status write_status;
} echo;

static void on_marker(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  echo* e = user;
  e->marker_order = ++e->sequence;
}

static void write_byte(echo* e);

static void on_written(void* user, weft_status status, const char* message) {
  (void)message;
  echo* e = user;
  e->write_status = status;
  if (e->in_write_call) e->written_inside_call++;
  if (e->in_read) e->written_inside_on_read++;
  if (e->marker_order == 0) e->written_before_marker++;
  ++e->written;
  const int order = ++e->sequence;
  if (e->first_written_order == 0) e->first_written_order = order;
  if (status == WEFT_OK && e->writes_left > 0) {
    e->writes_left--;
    write_byte(e);
  }
}

static void write_byte(echo* e) {
  e->in_write_call = 1;
  e->write_status = weft_stream_write(NULL, e->stream, "x", 1, on_written, e);
  e->in_write_call = 0;
}

/* Queues the marker, then writes: in the old order the marker ran first. */
static void marker_then_write_now(echo* e) {
  if (weft_loop_call_soon(e->loop, on_marker, e) != WEFT_OK) e->marker_order = -1;
  write_byte(e);
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  (void)message;
  (void)bytes;
  (void)len;
  echo* e = user;
  if (status != WEFT_OK) return;
  e->in_read = 1;
  e->reads++;
  ++e->sequence;
  if (e->stop_in_read) weft_loop_stop(e->loop);
  marker_then_write_now(e);
  e->in_read = 0;
}

static void echo_init(echo* e, weft_loop_t* loop, weft_stream_t* stream) {
  memset(e, 0, sizeof(*e));
  e->loop = loop;
  e->stream = stream;
}

/* A read's bytes come in a buffer of the thread's pool once one is kept
 * (1 KiB or more: a read of that size gives its buffer back after its
 * callback); only then does the kernel read straight into the read's
 * result and the read's callback run inside the loop's I/O callback. */
enum { kBlock = 4096 };

static void send_block(weft_stream_t* peer) {
  static char block[kBlock];
  memset(block, 'p', sizeof(block));
  assert_int_equal(weft_stream_write(NULL, peer, block, sizeof(block), NULL, NULL), WEFT_OK);
}

static void fill_read_pool(fixture* f, weft_stream_t* reader, weft_stream_t* peer) {
  read_record got = {0};
  assert_int_equal(weft_stream_read(NULL, reader, kBlock, record_read, &got), WEFT_OK);
  send_block(peer);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
}

/* `peer` sends a block to e->stream, whose read is pending; the loop runs
 * until the echo's write callbacks (1 + e->writes_left) and the marker have
 * run. */
static void one_echo(echo* e, weft_stream_t* peer) {
  const int writes = 1 + e->writes_left;
  assert_int_equal(weft_stream_read(NULL, e->stream, kBlock, on_read, e), WEFT_OK);
  spin_loop(e->loop, 2); /* the read waits on the poll */
  send_block(peer);
  for (int i = 0; i < 200 && (e->written < writes || e->marker_order == 0); ++i) spin_loop(e->loop, 1);
  assert_int_equal(e->reads, 1);
  assert_int_equal(e->written, writes);
  assert_int_equal(e->write_status, WEFT_OK);
  assert_true(e->marker_order > 0);
  /* Never inside the call that started the write, nor before the read's
   * callback returned. */
  assert_int_equal(e->written_inside_call, 0);
  assert_int_equal(e->written_inside_on_read, 0);
}

static void drain_peer(fixture* f, weft_stream_t* peer, size_t n) {
  read_record got = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, peer, n, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
}

/* A connected pair (a: the peer, b: the echo) with the read pool filled. */
static void open_pair(fixture* f, weft_stream_t** a, weft_stream_t** b) {
  stream_pair_open(f, a, b);
  fill_read_pool(f, *b, *a);
}

static void close_pair(weft_stream_t* a, weft_stream_t* b) {
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

/* The write's callback ran from the ready queue: after the marker queued
 * ahead of it, and not inside weft_stream_write. */
static void assert_from_the_queue(const echo* e) {
  assert_int_equal(e->written_before_marker, 0);
  assert_true(e->marker_order > 0);
  assert_true(e->marker_order < e->first_written_order);
  assert_int_equal(e->written_inside_call, 0);
}

static void test_write_after_read__answered_inside_the_read_callback(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  open_pair(f, &a, &b);
  for (int round = 0; round < 3; ++round) {
    echo e;
    echo_init(&e, f->loop, b);
    one_echo(&e, a);
    /* The write's callback ran before the marker queued ahead of it: right
     * after on_read, not from the ready queue. */
    assert_int_equal(e.written_before_marker, 1);
    assert_true(e.first_written_order < e.marker_order);
    drain_peer(f, a, 1);
  }
  close_pair(a, b);
}

static void test_write_after_read__a_chain_of_such_writes_is_bounded(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  open_pair(f, &a, &b);
  echo e;
  echo_init(&e, f->loop, b);
  e.writes_left = 15; /* each callback writes again: 16 writes, all taken at once */
  one_echo(&e, a);
  /* Some ran right after on_read, the rest from the ready queue, after the
   * marker: the loop went on to its other work. */
  assert_true(e.written_before_marker >= 1);
  assert_true(e.written_before_marker <= 4);
  drain_peer(f, a, 16);
  close_pair(a, b);
}

/* A ready-queue callback that does what on_read does: a marker, a write. */
static void marker_then_write(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  echo* e = user;
  ++e->sequence;
  marker_then_write_now(e);
}

static void test_write_after_read__outside_a_read_callback_from_the_ready_queue(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  open_pair(f, &a, &b);
  /* From outside any loop run: not inside the call, but from the next run. */
  echo e;
  echo_init(&e, f->loop, b);
  write_byte(&e);
  assert_int_equal(e.write_status, WEFT_OK);
  assert_int_equal(e.written, 0);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(e.written, 1);
  assert_int_equal(e.written_inside_call, 0);
  /* From a callback of the ready queue: after what was queued before it. */
  echo_init(&e, f->loop, b);
  assert_int_equal(weft_loop_call_soon(f->loop, marker_then_write, &e), WEFT_OK);
  for (int i = 0; i < 10 && (e.written == 0 || e.marker_order == 0); ++i) {
    assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  }
  assert_int_equal(e.written, 1);
  assert_int_equal(e.write_status, WEFT_OK);
  assert_from_the_queue(&e);
  drain_peer(f, a, 2);
  close_pair(a, b);
}

static void test_write_after_read__after_stop_from_the_ready_queue(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  open_pair(f, &a, &b);
  echo e;
  echo_init(&e, f->loop, b);
  e.stop_in_read = 1;
  assert_int_equal(weft_stream_read(NULL, b, kBlock, on_read, &e), WEFT_OK);
  send_block(a);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK); /* until the stop */
  assert_int_equal(e.reads, 1);
  while (e.written == 0 || e.marker_order == 0) {
    assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  }
  assert_from_the_queue(&e);
  assert_int_equal(e.written_inside_on_read, 0);
  drain_peer(f, a, 1);
  close_pair(a, b);
}

/* Debug mode times every callback: each runs on its own, from the queue. */
static int debug_setup(void** state) {
  fixture* f = calloc(1, sizeof(*f));
  if (f == NULL) return -1;
  tracking_init(&f->allocator);
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 1;
  options.allocator = tracking_hooks(&f->allocator);
  options.slow_callback_ns = 10u * 1000 * 1000 * 1000;
  if (weft_runtime_create(&f->runtime, &options) != WEFT_OK) return -1;
  if (weft_runtime_loop(&f->loop, f->runtime) != WEFT_OK) return -1;
  if (weft_runtime_pool(&f->pool, f->runtime) != WEFT_OK) return -1;
  *state = f;
  return 0;
}

static void test_write_after_read__debug_mode_from_the_ready_queue(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  open_pair(f, &a, &b);
  echo e;
  echo_init(&e, f->loop, b);
  one_echo(&e, a);
  assert_from_the_queue(&e);
  drain_peer(f, a, 1);
  close_pair(a, b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_write_after_read__answered_inside_the_read_callback,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_write_after_read__a_chain_of_such_writes_is_bounded,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_write_after_read__outside_a_read_callback_from_the_ready_queue,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_write_after_read__after_stop_from_the_ready_queue,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_write_after_read__debug_mode_from_the_ready_queue,
                                      debug_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
