/* Stream operations on weft_stream_t (through socketpairs from
 * weft_pipe_pair): read_exactly, read_until, drain and the write queue's
 * limits, bad input to the stream functions and one read at a time, closing
 * a stream with operations pending and destroying the runtime with a read
 * pending (each callback exactly once), the loop thread rule, and writes to
 * a peer that is gone (SIGPIPE ignored, a host's SIGPIPE handler kept).
 * Pipes and Unix domain sockets themselves (the weft_pipe_* functions, and
 * handles of the wrong kind) are in test_pipe.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tests/capi/support.h"

static void test_stream__read_exactly(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);

  /* Eleven bytes in two writes arrive as one read of exactly eleven. */
  read_record got = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, b, 11, record_read, &got), WEFT_OK);
  stream_write_text(a, "hel");
  spin_loop(f->loop, 5);
  assert_int_equal(got.calls, 0); /* 3 of 11: still waiting */
  stream_write_text(a, "lo world!!");
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 11);
  assert_memory_equal(got.bytes, "hello world", 11);
  /* The rest stays buffered for the next read. */
  read_record rest = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, b, 2, record_read, &rest), WEFT_OK);
  assert_true(run_until(f->loop, &rest.calls));
  assert_int_equal(rest.status, WEFT_OK);
  assert_int_equal(rest.len, 2);
  assert_memory_equal(rest.bytes, "!!", 2);

  /* The stream ends first: END_OF_FILE, and the bytes that came stay. */
  read_record short_read = {0}, left = {0}, end = {0};
  stream_write_text(a, "abc");
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(NULL, b, 10, record_read, &short_read), WEFT_OK);
  assert_true(run_until(f->loop, &short_read.calls));
  assert_int_equal(short_read.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(short_read.len, 0);
  assert_true(short_read.null_bytes);
  size_t buffered = 0;
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 3);
  assert_int_equal(weft_stream_read(NULL, b, 64, record_read, &left), WEFT_OK);
  assert_true(run_until(f->loop, &left.calls));
  assert_int_equal(left.status, WEFT_OK);
  assert_int_equal(left.len, 3);
  assert_memory_equal(left.bytes, "abc", 3);
  assert_int_equal(weft_stream_read_exactly(NULL, b, 1, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);

  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(got.calls + rest.calls + short_read.calls + left.calls + end.calls, 5);
}

static void test_stream__read_until(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);

  /* Two lines in one write: one line per read, the delimiter included. */
  read_record first = {0}, second = {0};
  stream_write_text(a, "line one\nline two\n");
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 64, record_read, &first), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  assert_int_equal(first.status, WEFT_OK);
  assert_int_equal(first.len, 9);
  assert_memory_equal(first.bytes, "line one\n", 9);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 64, record_read, &second), WEFT_OK);
  assert_true(run_until(f->loop, &second.calls));
  assert_int_equal(second.len, 9);
  assert_memory_equal(second.bytes, "line two\n", 9);

  /* A two-byte delimiter split across writes, and one with a NUL in it. */
  read_record crlf = {0}, nul = {0};
  char delimiter[2] = {'\r', '\n'};
  assert_int_equal(weft_stream_read_until(NULL, b, delimiter, 2, 64, record_read, &crlf), WEFT_OK);
  stream_write_text(a, "GET /\r");
  spin_loop(f->loop, 5);
  assert_int_equal(crlf.calls, 0);
  stream_write_text(a, "\nx");
  assert_int_equal(weft_stream_write(NULL, a, "x\0y|", 4, NULL, NULL), WEFT_OK);
  assert_true(run_until(f->loop, &crlf.calls));
  assert_int_equal(crlf.status, WEFT_OK);
  assert_int_equal(crlf.len, 7);
  assert_memory_equal(crlf.bytes, "GET /\r\n", 7);
  assert_int_equal(weft_stream_read_until(NULL, b, "\0y", 2, 64, record_read, &nul), WEFT_OK);
  assert_true(run_until(f->loop, &nul.calls));
  assert_int_equal(nul.status, WEFT_OK);
  assert_int_equal(nul.len, 4); /* "x" (the rest of "\nx"), then "x\0y" */
  assert_memory_equal(nul.bytes, "xx\0y", 4);

  /* No delimiter within max: MESSAGE_TOO_LONG, and nothing is taken. */
  read_record too_long = {0}, kept = {0};
  size_t buffered = 0;
  stream_write_text(a, "0123456789");
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 8, record_read, &too_long), WEFT_OK);
  assert_true(run_until(f->loop, &too_long.calls));
  assert_int_equal(too_long.status, WEFT_ERR_MESSAGE_TOO_LONG);
  assert_int_equal(too_long.len, 0);
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 11); /* "|0123456789" */
  assert_int_equal(weft_stream_read_exactly(NULL, b, 11, record_read, &kept), WEFT_OK);
  assert_true(run_until(f->loop, &kept.calls));
  assert_int_equal(kept.status, WEFT_OK);
  assert_memory_equal(kept.bytes, "|0123456789", 11);

  /* A delimiter that comes, but past max, is too long as well. */
  read_record late = {0};
  stream_write_text(a, "abcdef\n");
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 6, record_read, &late), WEFT_OK);
  assert_true(run_until(f->loop, &late.calls));
  assert_int_equal(late.status, WEFT_ERR_MESSAGE_TOO_LONG);
  read_record exact_fit = {0};
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 7, record_read, &exact_fit), WEFT_OK);
  assert_true(run_until(f->loop, &exact_fit.calls));
  assert_int_equal(exact_fit.status, WEFT_OK);
  assert_int_equal(exact_fit.len, 7);

  /* The stream ends before a delimiter: END_OF_FILE. */
  read_record unterminated = {0};
  stream_write_text(a, "partial");
  assert_int_equal(weft_stream_shutdown(NULL, a, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 64, record_read, &unterminated), WEFT_OK);
  assert_true(run_until(f->loop, &unterminated.calls));
  assert_int_equal(unterminated.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(unterminated.len, 0);

  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

/* A reader that takes everything from a stream, then stops. */
typedef struct sink {
  weft_stream_t* stream;
  size_t received;
  size_t want;
  unsigned char expect; /* the byte pattern: received index * 7 */
  int bad_bytes;
  int done;
  weft_status status;
} sink;

static void sink_read(void* user, weft_status status, const char* message, const void* bytes,
                      size_t len) {
  sink* s = user;
  check_message(status, message, NULL, 0);
  if (status != WEFT_OK) {
    s->status = status;
    s->done = 1;
    return;
  }
  const unsigned char* p = bytes;
  for (size_t i = 0; i < len; ++i) {
    if (p[i] != (unsigned char)((s->received + i) * 7)) s->bad_bytes++;
  }
  s->received += len;
  if (s->received >= s->want) {
    s->done = 1;
    return;
  }
  assert_int_equal(weft_stream_read(NULL, s->stream, 65536, sink_read, s), WEFT_OK);
}

/* What a drain saw: its status and the queue at that moment. */
typedef struct drain_record {
  weft_stream_t* stream;
  int calls;
  weft_status status;
  size_t queued;
} drain_record;

static void record_drain(void* user, weft_status status, const char* message) {
  drain_record* d = user;
  check_message(status, message, NULL, 0);
  d->calls++;
  d->status = status;
  assert_int_equal(weft_stream_write_buffered(&d->queued, d->stream), WEFT_OK);
}

enum { kChunk = 64 * 1024, kChunks = 64 };

static void test_stream__drain_waits_for_a_slow_reader(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *writer, *reader;
  stream_pair_open(f, &writer, &reader);
  weft_stream_limits limits = WEFT_STREAM_LIMITS_INIT;
  limits.write_high_water = 128 * 1024;
  limits.write_low_water = 32 * 1024;
  assert_int_equal(weft_stream_set_limits(writer, &limits), WEFT_OK);

  /* Nothing queued: the drain completes at once, but from a loop run. */
  drain_record idle = {writer, 0, WEFT_OK, 0};
  assert_int_equal(weft_stream_drain(NULL, writer, record_drain, &idle), WEFT_OK);
  assert_int_equal(idle.calls, 0);
  assert_true(run_until(f->loop, &idle.calls));
  assert_int_equal(idle.status, WEFT_OK);

  /* Queue 4 MiB without waiting while nobody reads. */
  unsigned char* chunk = malloc(kChunk);
  assert_non_null(chunk);
  call_record writes[kChunks];
  memset(writes, 0, sizeof writes);
  for (int c = 0; c < kChunks; ++c) {
    for (size_t i = 0; i < kChunk; ++i) chunk[i] = (unsigned char)(((size_t)c * kChunk + i) * 7);
    assert_int_equal(weft_stream_write(NULL, writer, chunk, kChunk, record_callback, &writes[c]), WEFT_OK);
  }
  free(chunk);
  spin_loop(f->loop, 5);
  size_t queued = 0;
  assert_int_equal(weft_stream_write_buffered(&queued, writer), WEFT_OK);
  assert_true(queued > limits.write_high_water); /* the kernel took far less than 4 MiB */

  drain_record drained = {writer, 0, WEFT_OK, 0};
  assert_int_equal(weft_stream_drain(NULL, writer, record_drain, &drained), WEFT_OK);
  spin_loop(f->loop, 20);
  assert_int_equal(drained.calls, 0); /* the reader has not read */
  assert_int_equal(weft_stream_write_buffered(&queued, writer), WEFT_OK);
  assert_true(queued > limits.write_high_water);

  /* The reader reads: the queue goes down, the drain completes at or below
   * the low-water mark, and everything arrives in order. */
  sink s = {reader, 0, (size_t)kChunk * kChunks, 0, 0, 0, WEFT_OK};
  assert_int_equal(weft_stream_read(NULL, reader, 65536, sink_read, &s), WEFT_OK);
  assert_true(run_until(f->loop, &drained.calls));
  assert_int_equal(drained.status, WEFT_OK);
  assert_true(drained.queued <= limits.write_low_water);
  assert_true(run_until(f->loop, &s.done));
  assert_int_equal(s.status, WEFT_OK);
  assert_int_equal(s.received, (size_t)kChunk * kChunks);
  assert_int_equal(s.bad_bytes, 0);
  assert_int_equal(weft_stream_write_buffered(&queued, writer), WEFT_OK);
  assert_int_equal(queued, 0);
  for (int c = 0; c < kChunks; ++c) {
    assert_int_equal(writes[c].calls, 1);
    assert_int_equal(writes[c].status, WEFT_OK);
  }

  /* Bad limits change nothing. */
  weft_stream_limits bad = WEFT_STREAM_LIMITS_INIT;
  bad.write_high_water = 1000;
  bad.write_low_water = 1001;
  assert_int_equal(weft_stream_set_limits(writer, &bad), WEFT_ERR_INVALID_ARGUMENT);
  bad.write_low_water = 0; /* a quarter of the high-water mark */
  bad.struct_size = 4;
  assert_int_equal(weft_stream_set_limits(writer, &bad), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_set_limits(writer, NULL), WEFT_OK); /* the defaults */

  assert_int_equal(weft_stream_close(writer), WEFT_OK);
  assert_int_equal(weft_stream_close(reader), WEFT_OK);
  assert_int_equal(idle.calls + drained.calls, 2);
}

static size_t total_allocations(fixture* f) {
  pthread_mutex_lock(&f->allocator.mutex);
  size_t total = f->allocator.total_allocations;
  pthread_mutex_unlock(&f->allocator.mutex);
  return total;
}

/* One request and one response over a pair: a write on `from`, a read on
 * `to`, a write back, a read on `from`. */
static void round_trip(fixture* f, weft_stream_t* from, weft_stream_t* to) {
  read_record request = {0}, response = {0};
  call_record wrote_request = {0}, wrote_response = {0};
  assert_int_equal(weft_stream_read(NULL, to, 64, record_read, &request), WEFT_OK);
  assert_int_equal(weft_stream_write(NULL, from, "ping", 4, record_callback, &wrote_request), WEFT_OK);
  assert_true(run_until(f->loop, &request.calls));
  assert_int_equal(request.len, 4);
  assert_int_equal(weft_stream_read(NULL, from, 64, record_read, &response), WEFT_OK);
  assert_int_equal(weft_stream_write(NULL, to, "pong", 4, record_callback, &wrote_response), WEFT_OK);
  assert_true(run_until(f->loop, &response.calls));
  assert_true(run_until(f->loop, &wrote_response.calls));
  assert_true(run_until(f->loop, &wrote_request.calls));
  assert_int_equal(response.len, 4);
  assert_memory_equal(response.bytes, "pong", 4);
  assert_int_equal(wrote_request.status, WEFT_OK);
  assert_int_equal(wrote_response.status, WEFT_OK);
}

/* A stream keeps the records of its finished reads and writes for the next
 * ones: once a round trip has run, more of them take nothing from the
 * runtime's allocator; closing the streams gives everything back. */
static void test_stream__steady_reads_and_writes_allocate_nothing(void** state) {
  fixture* f = FIXTURE(state);
  const size_t blocks_before = tracking_live_blocks(&f->allocator);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  round_trip(f, a, b);
  const size_t allocations = total_allocations(f);
  for (int i = 0; i < 20; ++i) round_trip(f, a, b);
  assert_int_equal(total_allocations(f), allocations);

  /* A future asked for is still made each time. */
  weft_future_t* future = NULL;
  assert_int_equal(weft_stream_write(&future, a, "x", 1, NULL, NULL), WEFT_OK);
  assert_true(total_allocations(f) > allocations);
  assert_int_equal(weft_future_release(future), WEFT_OK);

  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(tracking_live_blocks(&f->allocator), blocks_before);
}

static void test_stream__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  size_t size = 0;

  /* NULL handles. */
  assert_int_equal(weft_stream_read_exactly(NULL, NULL, 1, never_called_read, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_read_until(NULL, NULL, "\n", 1, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_drain(NULL, NULL, never_called, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_write_buffered(&size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_read_buffered(&size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_set_limits(NULL, NULL), WEFT_ERR_INVALID_HANDLE);

  /* Bad arguments. */
  assert_int_equal(weft_stream_read_exactly(NULL, b, 0, never_called_read, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_exactly(NULL, b, WEFT_STREAM_READ_MAX + 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* Callbacks may be NULL; a refused call leaves *out untouched. */
  weft_future_t* untouched = (weft_future_t*)&untouched;
  assert_int_equal(weft_stream_read_exactly(&untouched, b, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_exactly(&untouched, b, WEFT_STREAM_READ_MAX + 1, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read(&untouched, b, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(NULL, b, NULL, 1, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 0, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 0, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, WEFT_STREAM_READ_MAX + 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(&untouched, b, NULL, 1, 8, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(&untouched, b, "\n", 1, 0, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_write(&untouched, b, NULL, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_drain(&untouched, NULL, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_shutdown(&untouched, NULL, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_true(untouched == (weft_future_t*)&untouched);
  assert_int_equal(weft_stream_write_buffered(NULL, b), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_buffered(NULL, b), WEFT_ERR_INVALID_ARGUMENT);

  /* One read at a time, whichever kind. */
  read_record pending = {0};
  assert_int_equal(weft_stream_read(NULL, b, 8, record_read, &pending), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(NULL, b, 8, never_called_read, NULL), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_stream_read(NULL, b, 8, never_called_read, NULL), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_stream_read(&untouched, b, 8, NULL, NULL), WEFT_ERR_INVALID_STATE);
  assert_true(untouched == (weft_future_t*)&untouched);
  /* A drain is not a read. */
  call_record drained = {0};
  assert_int_equal(weft_stream_drain(NULL, b, record_callback, &drained), WEFT_OK);

  /* Stale handles after close. */
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(drained.calls, 1);
  assert_int_equal(drained.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_stream_read_exactly(NULL, b, 1, never_called_read, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 8, never_called_read, NULL),
                   WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_drain(NULL, b, never_called, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_read(&untouched, b, 1, NULL, NULL), WEFT_ERR_STALE_HANDLE);
  assert_true(untouched == (weft_future_t*)&untouched);
  assert_int_equal(weft_stream_write_buffered(&size, b), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_set_limits(b, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(drained.calls, 1);
}

static void test_stream__close_cancels_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  /* A stream with a read_until, a drain and a write all pending. */
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  weft_stream_limits limits = WEFT_STREAM_LIMITS_INIT;
  limits.write_high_water = 1;
  assert_int_equal(weft_stream_set_limits(a, &limits), WEFT_OK);
  const size_t size = 4 << 20;
  char* big = calloc(1, size);
  assert_non_null(big);
  call_record written = {0}, drained = {0};
  read_record line = {0};
  assert_int_equal(weft_stream_write(NULL, a, big, size, record_callback, &written), WEFT_OK);
  free(big);
  assert_int_equal(weft_stream_drain(NULL, a, record_callback, &drained), WEFT_OK);
  assert_int_equal(weft_stream_read_until(NULL, a, "\n", 1, 64, record_read, &line), WEFT_OK);
  spin_loop(f->loop, 3);
  assert_int_equal(written.calls + drained.calls + line.calls, 0);

  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(written.calls, 1);
  assert_int_equal(written.status, WEFT_ERR_CANCELLED);
  assert_int_equal(drained.calls, 1);
  assert_int_equal(drained.status, WEFT_ERR_CANCELLED);
  assert_int_equal(line.calls, 1);
  assert_int_equal(line.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(written.calls + drained.calls + line.calls, 3);

  /* A pending read ends with the runtime (destroyed here, not by the
   * fixture): exactly once, cancelled. */
  read_record reading = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, b, 8, record_read, &reading), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(reading.calls, 1);
  assert_int_equal(reading.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

typedef struct thread_call {
  weft_stream_t* stream;
  weft_status buffered;
  weft_status drain;
} thread_call;

static void* call_from_another_thread(void* arg) {
  thread_call* call = arg;
  size_t size = 0;
  call->buffered = weft_stream_write_buffered(&size, call->stream);
  call->drain = weft_stream_drain(NULL, call->stream, never_called, NULL);
  return NULL;
}

static void test_stream__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  thread_call call = {a, WEFT_OK, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, call_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.buffered, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.drain, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

/* A write to a peer that is gone fails with WEFT_ERR_BROKEN_PIPE, also in a
 * process where SIGPIPE has its default action (which would end it): the
 * runtime ignores SIGPIPE then. (Found by the C API fuzz target.) */
static int sigpipe_default_setup(void** state) {
  signal(SIGPIPE, SIG_DFL);
  return fixture_setup(state);
}

static void test_stream__write_to_a_closed_peer_is_a_broken_pipe(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  call_record first = {0}, second = {0};
  assert_int_equal(weft_stream_write(NULL, a, "x", 1, record_callback, &first), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  assert_int_equal(weft_stream_write(NULL, a, "y", 1, record_callback, &second), WEFT_OK);
  assert_true(run_until(f->loop, &second.calls));
  assert_int_equal(first.status, WEFT_ERR_BROKEN_PIPE);
  assert_int_equal(second.status, WEFT_ERR_BROKEN_PIPE);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  struct sigaction now;
  assert_int_equal(sigaction(SIGPIPE, NULL, &now), 0);
  assert_true(now.sa_handler == SIG_IGN);
}

static void on_sigpipe(int signum) { (void)signum; }

/* A SIGPIPE handler the host installed stays installed. */
static void test_stream__host_sigpipe_handler_is_kept(void** state) {
  (void)state;
  struct sigaction mine, before, after;
  memset(&mine, 0, sizeof mine);
  mine.sa_handler = on_sigpipe;
  sigemptyset(&mine.sa_mask);
  assert_int_equal(sigaction(SIGPIPE, &mine, &before), 0);
  weft_runtime_t* runtime = NULL;
  weft_loop_t* loop = NULL;
  weft_stream_t *a = NULL, *b = NULL;
  assert_int_equal(weft_runtime_create(&runtime, NULL), WEFT_OK);
  assert_int_equal(weft_runtime_loop(&loop, runtime), WEFT_OK);
  assert_int_equal(weft_pipe_pair(&a, &b, loop), WEFT_OK); /* streams made: the handler stays */
  assert_int_equal(sigaction(SIGPIPE, NULL, &after), 0);
  assert_true(after.sa_handler == on_sigpipe);
  assert_int_equal(weft_runtime_destroy(runtime), WEFT_OK);
  assert_int_equal(sigaction(SIGPIPE, &before, NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stream__read_exactly, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__read_until, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__drain_waits_for_a_slow_reader, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__steady_reads_and_writes_allocate_nothing,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__close_cancels_exactly_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__loop_thread_only, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__write_to_a_closed_peer_is_a_broken_pipe,
                                      sigpipe_default_setup, fixture_teardown),
      cmocka_unit_test(test_stream__host_sigpipe_handler_is_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
