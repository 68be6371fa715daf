/* Streams, pipes and Unix domain sockets: read_exactly, read_until, drain
 * and the write queue, socketpairs, Unix sockets (listen, accept, connect,
 * the connect errors), adopting a pipe(2) end, bad input, and ending handles
 * with operations pending (each callback exactly once). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What a pipe accept/connect callback saw. */
typedef struct stream_record {
  int calls;
  weft_status status;
  weft_stream_t* stream;
} stream_record;

static void record_stream(void* user, weft_status status, weft_stream_t* stream) {
  stream_record* r = user;
  r->calls++;
  r->status = status;
  r->stream = stream;
}

static void never_called_stream(void* user, weft_status status, weft_stream_t* stream) {
  (void)user;
  (void)status;
  (void)stream;
  fail_msg("a callback of a failed call ran");
}

/* Runs the loop without blocking a few times (lets ready I/O happen). */
static void spin(weft_loop_t* loop, int passes) {
  for (int i = 0; i < passes; ++i) {
    assert_int_equal(weft_loop_run(loop, WEFT_RUN_NOWAIT), WEFT_OK);
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

static void write_text(weft_stream_t* stream, const char* text) {
  assert_int_equal(weft_stream_write(stream, text, strlen(text), NULL, NULL), WEFT_OK);
}

/* A short temporary directory for socket files: under $TEST_TMPDIR when the
 * paths fit in a sockaddr_un, else under /tmp. */
typedef struct temp_dir {
  char path[128];
} temp_dir;

static void temp_dir_make(temp_dir* d) {
  const char* base = getenv("TEST_TMPDIR");
  if (base == NULL || strlen(base) > 60) base = "/tmp";
  int n = snprintf(d->path, sizeof d->path, "%s/weft-XXXXXX", base);
  assert_true(n > 0 && (size_t)n < sizeof d->path);
  assert_non_null(mkdtemp(d->path));
}

static void temp_dir_file(const temp_dir* d, const char* name, char* out, size_t size) {
  int n = snprintf(out, size, "%s/%s", d->path, name);
  assert_true(n > 0 && (size_t)n < size);
}

static void temp_dir_remove(temp_dir* d, const char* const* names) {
  char file[192];
  for (; names != NULL && *names != NULL; ++names) {
    temp_dir_file(d, *names, file, sizeof file);
    unlink(file);
  }
  assert_int_equal(rmdir(d->path), 0);
}

static int file_exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void make_pair(fixture* f, weft_stream_t** a, weft_stream_t** b) {
  *a = NULL;
  *b = NULL;
  assert_int_equal(weft_pipe_pair(a, b, f->loop), WEFT_OK);
  assert_non_null(*a);
  assert_non_null(*b);
  assert_true(*a != *b);
}

static void test_stream__read_exactly(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  make_pair(f, &a, &b);

  /* Eleven bytes in two writes arrive as one read of exactly eleven. */
  read_record got = {0};
  assert_int_equal(weft_stream_read_exactly(b, 11, record_read, &got), WEFT_OK);
  write_text(a, "hel");
  spin(f->loop, 5);
  assert_int_equal(got.calls, 0); /* 3 of 11: still waiting */
  write_text(a, "lo world!!");
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 11);
  assert_memory_equal(got.bytes, "hello world", 11);
  /* The rest stays buffered for the next read. */
  read_record rest = {0};
  assert_int_equal(weft_stream_read_exactly(b, 2, record_read, &rest), WEFT_OK);
  assert_true(run_until(f->loop, &rest.calls));
  assert_int_equal(rest.status, WEFT_OK);
  assert_int_equal(rest.len, 2);
  assert_memory_equal(rest.bytes, "!!", 2);

  /* The stream ends first: END_OF_FILE, and the bytes that came stay. */
  read_record short_read = {0}, left = {0}, end = {0};
  write_text(a, "abc");
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(b, 10, record_read, &short_read), WEFT_OK);
  assert_true(run_until(f->loop, &short_read.calls));
  assert_int_equal(short_read.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(short_read.len, 0);
  assert_true(short_read.null_bytes);
  size_t buffered = 0;
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 3);
  assert_int_equal(weft_stream_read(b, 64, record_read, &left), WEFT_OK);
  assert_true(run_until(f->loop, &left.calls));
  assert_int_equal(left.status, WEFT_OK);
  assert_int_equal(left.len, 3);
  assert_memory_equal(left.bytes, "abc", 3);
  assert_int_equal(weft_stream_read_exactly(b, 1, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);

  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(got.calls + rest.calls + short_read.calls + left.calls + end.calls, 5);
}

static void test_stream__read_until(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  make_pair(f, &a, &b);

  /* Two lines in one write: one line per read, the delimiter included. */
  read_record first = {0}, second = {0};
  write_text(a, "line one\nline two\n");
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 64, record_read, &first), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  assert_int_equal(first.status, WEFT_OK);
  assert_int_equal(first.len, 9);
  assert_memory_equal(first.bytes, "line one\n", 9);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 64, record_read, &second), WEFT_OK);
  assert_true(run_until(f->loop, &second.calls));
  assert_int_equal(second.len, 9);
  assert_memory_equal(second.bytes, "line two\n", 9);

  /* A two-byte delimiter split across writes, and one with a NUL in it. */
  read_record crlf = {0}, nul = {0};
  char delimiter[2] = {'\r', '\n'};
  assert_int_equal(weft_stream_read_until(b, delimiter, 2, 64, record_read, &crlf), WEFT_OK);
  write_text(a, "GET /\r");
  spin(f->loop, 5);
  assert_int_equal(crlf.calls, 0);
  write_text(a, "\nx");
  assert_int_equal(weft_stream_write(a, "x\0y|", 4, NULL, NULL), WEFT_OK);
  assert_true(run_until(f->loop, &crlf.calls));
  assert_int_equal(crlf.status, WEFT_OK);
  assert_int_equal(crlf.len, 7);
  assert_memory_equal(crlf.bytes, "GET /\r\n", 7);
  assert_int_equal(weft_stream_read_until(b, "\0y", 2, 64, record_read, &nul), WEFT_OK);
  assert_true(run_until(f->loop, &nul.calls));
  assert_int_equal(nul.status, WEFT_OK);
  assert_int_equal(nul.len, 4); /* "x" (the rest of "\nx"), then "x\0y" */
  assert_memory_equal(nul.bytes, "xx\0y", 4);

  /* No delimiter within max: MESSAGE_TOO_LONG, and nothing is taken. */
  read_record too_long = {0}, kept = {0};
  size_t buffered = 0;
  write_text(a, "0123456789");
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 8, record_read, &too_long), WEFT_OK);
  assert_true(run_until(f->loop, &too_long.calls));
  assert_int_equal(too_long.status, WEFT_ERR_MESSAGE_TOO_LONG);
  assert_int_equal(too_long.len, 0);
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 11); /* "|0123456789" */
  assert_int_equal(weft_stream_read_exactly(b, 11, record_read, &kept), WEFT_OK);
  assert_true(run_until(f->loop, &kept.calls));
  assert_int_equal(kept.status, WEFT_OK);
  assert_memory_equal(kept.bytes, "|0123456789", 11);

  /* A delimiter that comes, but past max, is too long as well. */
  read_record late = {0};
  write_text(a, "abcdef\n");
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 6, record_read, &late), WEFT_OK);
  assert_true(run_until(f->loop, &late.calls));
  assert_int_equal(late.status, WEFT_ERR_MESSAGE_TOO_LONG);
  read_record exact_fit = {0};
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 7, record_read, &exact_fit), WEFT_OK);
  assert_true(run_until(f->loop, &exact_fit.calls));
  assert_int_equal(exact_fit.status, WEFT_OK);
  assert_int_equal(exact_fit.len, 7);

  /* The stream ends before a delimiter: END_OF_FILE. */
  read_record unterminated = {0};
  write_text(a, "partial");
  assert_int_equal(weft_stream_shutdown(a, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 64, record_read, &unterminated), WEFT_OK);
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

static void sink_read(void* user, weft_status status, const void* bytes, size_t len) {
  sink* s = user;
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
  assert_int_equal(weft_stream_read(s->stream, 65536, sink_read, s), WEFT_OK);
}

/* What a drain saw: its status and the queue at that moment. */
typedef struct drain_record {
  weft_stream_t* stream;
  int calls;
  weft_status status;
  size_t queued;
} drain_record;

static void record_drain(void* user, weft_status status) {
  drain_record* d = user;
  d->calls++;
  d->status = status;
  assert_int_equal(weft_stream_write_buffered(&d->queued, d->stream), WEFT_OK);
}

enum { kChunk = 64 * 1024, kChunks = 64 };

static void test_stream__drain_waits_for_a_slow_reader(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *writer, *reader;
  make_pair(f, &writer, &reader);
  weft_stream_limits limits = WEFT_STREAM_LIMITS_INIT;
  limits.write_high_water = 128 * 1024;
  limits.write_low_water = 32 * 1024;
  assert_int_equal(weft_stream_set_limits(writer, &limits), WEFT_OK);

  /* Nothing queued: the drain completes at once, but from a loop run. */
  drain_record idle = {writer, 0, WEFT_OK, 0};
  assert_int_equal(weft_stream_drain(writer, record_drain, &idle), WEFT_OK);
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
    assert_int_equal(weft_stream_write(writer, chunk, kChunk, record_callback, &writes[c]), WEFT_OK);
  }
  free(chunk);
  spin(f->loop, 5);
  size_t queued = 0;
  assert_int_equal(weft_stream_write_buffered(&queued, writer), WEFT_OK);
  assert_true(queued > limits.write_high_water); /* the kernel took far less than 4 MiB */

  drain_record drained = {writer, 0, WEFT_OK, 0};
  assert_int_equal(weft_stream_drain(writer, record_drain, &drained), WEFT_OK);
  spin(f->loop, 20);
  assert_int_equal(drained.calls, 0); /* the reader has not read */
  assert_int_equal(weft_stream_write_buffered(&queued, writer), WEFT_OK);
  assert_true(queued > limits.write_high_water);

  /* The reader reads: the queue goes down, the drain completes at or below
   * the low-water mark, and everything arrives in order. */
  sink s = {reader, 0, (size_t)kChunk * kChunks, 0, 0, 0, WEFT_OK};
  assert_int_equal(weft_stream_read(reader, 65536, sink_read, &s), WEFT_OK);
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

static void test_stream__pipe_pair_round_trip(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  make_pair(f, &a, &b);
  call_record written = {0};
  read_record at_b = {0}, at_a = {0}, end = {0};
  assert_int_equal(weft_stream_write(a, "ping", 4, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(b, 4, record_read, &at_b), WEFT_OK);
  assert_true(run_until(f->loop, &at_b.calls));
  assert_int_equal(at_b.status, WEFT_OK);
  assert_memory_equal(at_b.bytes, "ping", 4);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  write_text(b, "pong");
  assert_int_equal(weft_stream_read_exactly(a, 4, record_read, &at_a), WEFT_OK);
  assert_true(run_until(f->loop, &at_a.calls));
  assert_memory_equal(at_a.bytes, "pong", 4);
  /* Closing one end is the end of the stream at the other. */
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_read(b, 16, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_stream_close(a), WEFT_ERR_STALE_HANDLE);
}

static void test_stream__unix_socket_round_trip(void** state) {
  fixture* f = FIXTURE(state);
  temp_dir dir;
  temp_dir_make(&dir);
  char path[192];
  temp_dir_file(&dir, "echo.sock", path, sizeof path);

  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  assert_non_null(listener);
  assert_true(file_exists(path));

  /* Its path: whole, truncated, or just its length. */
  char got[192];
  size_t length = 0;
  assert_int_equal(weft_pipe_listener_path(got, sizeof got, &length, listener), WEFT_OK);
  assert_string_equal(got, path);
  assert_int_equal(length, strlen(path));
  char small[5];
  assert_int_equal(weft_pipe_listener_path(small, sizeof small, &length, listener), WEFT_OK);
  assert_int_equal(strlen(small), 4);
  assert_memory_equal(small, path, 4);
  assert_int_equal(length, strlen(path));
  length = 0;
  assert_int_equal(weft_pipe_listener_path(NULL, 0, &length, listener), WEFT_OK);
  assert_int_equal(length, strlen(path));
  assert_int_equal(weft_pipe_listener_path(NULL, 4, &length, listener), WEFT_ERR_INVALID_ARGUMENT);

  stream_record accepted = {0}, connected = {0};
  assert_int_equal(weft_pipe_accept(listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_pipe_connect(f->loop, path, 5000, record_stream, &connected), WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(accepted.status, WEFT_OK);
  weft_stream_t* client = connected.stream;
  weft_stream_t* server = accepted.stream;
  assert_non_null(client);
  assert_non_null(server);

  read_record request = {0}, reply = {0};
  write_text(client, "ping\n");
  assert_int_equal(weft_stream_read_until(server, "\n", 1, 64, record_read, &request), WEFT_OK);
  assert_true(run_until(f->loop, &request.calls));
  assert_int_equal(request.status, WEFT_OK);
  assert_int_equal(request.len, 5);
  assert_memory_equal(request.bytes, "ping\n", 5);
  write_text(server, "pong\n");
  assert_int_equal(weft_stream_read_until(client, "\n", 1, 64, record_read, &reply), WEFT_OK);
  assert_true(run_until(f->loop, &reply.calls));
  assert_memory_equal(reply.bytes, "pong\n", 5);

  /* Half-close: the server sees the end and can still answer. */
  read_record end = {0}, still = {0};
  call_record shut = {0};
  assert_int_equal(weft_stream_shutdown(client, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_stream_read(server, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);
  write_text(server, "still here");
  assert_int_equal(weft_stream_read_exactly(client, 10, record_read, &still), WEFT_OK);
  assert_true(run_until(f->loop, &still.calls));
  assert_int_equal(still.status, WEFT_OK);
  assert_memory_equal(still.bytes, "still here", 10);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  /* Closing the listener removes its socket file. */
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_false(file_exists(path));
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_ERR_STALE_HANDLE);
  temp_dir_remove(&dir, NULL);
}

static void test_stream__unix_socket_errors(void** state) {
  fixture* f = FIXTURE(state);
  temp_dir dir;
  temp_dir_make(&dir);
  char missing[192], deaf[192], taken[192], nowhere[192];
  temp_dir_file(&dir, "missing.sock", missing, sizeof missing);
  temp_dir_file(&dir, "deaf.sock", deaf, sizeof deaf);
  temp_dir_file(&dir, "taken.sock", taken, sizeof taken);
  temp_dir_file(&dir, "no-such-dir/x.sock", nowhere, sizeof nowhere);

  /* Nothing at the path. */
  stream_record none = {0};
  assert_int_equal(weft_pipe_connect(f->loop, missing, 5000, record_stream, &none), WEFT_OK);
  assert_true(run_until(f->loop, &none.calls));
  assert_int_equal(none.status, WEFT_ERR_NOT_FOUND);
  assert_null(none.stream);

  /* A socket file nobody listens on (bound, never listening). */
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  strcpy(address.sun_path, deaf);
  assert_int_equal(bind(fd, (struct sockaddr*)&address, sizeof address), 0);
  stream_record refused = {0};
  assert_int_equal(weft_pipe_connect(f->loop, deaf, 5000, record_stream, &refused), WEFT_OK);
  assert_true(run_until(f->loop, &refused.calls));
  assert_int_equal(refused.status, WEFT_ERR_CONNECTION_REFUSED);
  assert_null(refused.stream);
  close(fd);

  /* Listening where a file already is, or in a missing directory. */
  weft_pipe_listener_t* listener = NULL;
  weft_pipe_listener_t* second = NULL;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, taken, NULL), WEFT_OK);
  assert_int_equal(weft_pipe_listen(&second, f->loop, taken, NULL), WEFT_ERR_ADDRESS_IN_USE);
  /* (libuv reports a missing directory as EACCES, as on Windows.) */
  assert_int_equal(weft_pipe_listen(&second, f->loop, nowhere, NULL), WEFT_ERR_PERMISSION_DENIED);
  assert_null(second);
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);

  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(none.calls, 1);
  assert_int_equal(refused.calls, 1);
  const char* files[] = {"deaf.sock", NULL};
  temp_dir_remove(&dir, files);
}

static void test_stream__pipe_open(void** state) {
  fixture* f = FIXTURE(state);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  weft_stream_t *reader = NULL, *writer = NULL;
  assert_int_equal(weft_pipe_open(&reader, f->loop, fds[0]), WEFT_OK);
  assert_int_equal(weft_pipe_open(&writer, f->loop, fds[1]), WEFT_OK);
  assert_non_null(reader);
  assert_non_null(writer);

  call_record written = {0};
  read_record got = {0}, end = {0};
  assert_int_equal(weft_stream_write(writer, "through a pipe", 14, record_callback, &written),
                   WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  /* Closing the stream closes its descriptor: the reader sees the end. */
  assert_int_equal(weft_stream_close(writer), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(reader, 14, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_memory_equal(got.bytes, "through a pipe", 14);
  assert_int_equal(weft_stream_read(reader, 16, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_stream_close(reader), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(fcntl(fds[1], F_GETFD), -1); /* closed by the stream */

  /* Descriptors that are not streams are refused, and stay the caller's. */
  weft_stream_t* out = NULL;
  assert_int_equal(weft_pipe_open(&out, f->loop, -1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_open(&out, f->loop, fds[0]), WEFT_ERR_INVALID_ARGUMENT); /* closed */
  int file = open("/proc/self/exe", O_RDONLY);
  assert_true(file >= 0);
  assert_int_equal(weft_pipe_open(&out, f->loop, file), WEFT_ERR_INVALID_ARGUMENT);
  assert_true(fcntl(file, F_GETFD) != -1);
  close(file);
  assert_null(out);
}

static void test_stream__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  make_pair(f, &a, &b);
  size_t size = 0;

  /* NULL handles. */
  assert_int_equal(weft_stream_read_exactly(NULL, 1, never_called_read, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_read_until(NULL, "\n", 1, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_drain(NULL, never_called, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_write_buffered(&size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_read_buffered(&size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_set_limits(NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_accept(NULL, never_called_stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listener_path(NULL, 0, &size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listener_close(NULL), WEFT_OK);

  /* Bad arguments. */
  assert_int_equal(weft_stream_read_exactly(b, 0, never_called_read, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_exactly(b, WEFT_STREAM_READ_MAX + 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_exactly(b, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(b, NULL, 1, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(b, "\n", 0, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 0, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, WEFT_STREAM_READ_MAX + 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 8, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_drain(b, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_write_buffered(NULL, b), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_buffered(NULL, b), WEFT_ERR_INVALID_ARGUMENT);

  weft_stream_t* out = NULL;
  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_pair(NULL, &out, f->loop), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_pair(&out, NULL, f->loop), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_pair(&out, &out, f->loop), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_pair(&out, &a, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_open(NULL, f->loop, 0), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_open(&out, NULL, 0), WEFT_ERR_INVALID_HANDLE);
  assert_null(out);
  assert_int_equal(weft_pipe_listen(NULL, f->loop, "/tmp/x.sock", NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_listen(&listener, NULL, "/tmp/x.sock", NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listen(&listener, f->loop, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_listen(&listener, f->loop, "", NULL), WEFT_ERR_INVALID_ARGUMENT);
  char long_path[WEFT_PIPE_PATH_MAX + 2];
  memset(long_path, 'x', sizeof long_path);
  long_path[0] = '/';
  long_path[WEFT_PIPE_PATH_MAX + 1] = '\0'; /* one byte too long */
  assert_int_equal(weft_pipe_listen(&listener, f->loop, long_path, NULL), WEFT_ERR_INVALID_ARGUMENT);
  weft_pipe_listen_options options = WEFT_PIPE_LISTEN_OPTIONS_INIT;
  options.backlog = -1;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, "/tmp/x.sock", &options),
                   WEFT_ERR_INVALID_ARGUMENT);
  options.backlog = 0;
  options.struct_size = 2;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, "/tmp/x.sock", &options),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_null(listener);
  assert_int_equal(weft_pipe_connect(f->loop, NULL, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(f->loop, "", 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(f->loop, long_path, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(f->loop, "/tmp/x.sock", 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(NULL, "/tmp/x.sock", 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_HANDLE);

  /* Wrong kinds: a stream is not a listener, a listener not a stream. */
  temp_dir dir;
  temp_dir_make(&dir);
  char path[192];
  temp_dir_file(&dir, "s.sock", path, sizeof path);
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly((weft_stream_t*)listener, 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_close((weft_stream_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_accept((weft_pipe_listener_t*)a, never_called_stream, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listener_close((weft_pipe_listener_t*)a), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_pair(&out, &a, (weft_loop_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_accept(listener, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  /* A pipe stream is not a TCP stream. */
  assert_int_equal(weft_tcp_close((weft_tcp_stream_t*)a), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_nodelay((weft_tcp_stream_t*)a, 1), WEFT_ERR_INVALID_HANDLE);

  /* One read at a time, whichever kind. */
  read_record pending = {0};
  assert_int_equal(weft_stream_read(b, 8, record_read, &pending), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(b, 8, never_called_read, NULL), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 8, never_called_read, NULL),
                   WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_stream_read(b, 8, never_called_read, NULL), WEFT_ERR_INVALID_STATE);
  /* A drain is not a read. */
  call_record drained = {0};
  assert_int_equal(weft_stream_drain(b, record_callback, &drained), WEFT_OK);

  /* Stale handles after close. */
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(drained.calls, 1);
  assert_int_equal(drained.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_stream_read_exactly(b, 1, never_called_read, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_read_until(b, "\n", 1, 8, never_called_read, NULL),
                   WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_drain(b, never_called, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_write_buffered(&size, b), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_set_limits(b, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_pipe_accept(listener, never_called_stream, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_pipe_listener_path(NULL, 0, &size, listener), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(drained.calls, 1);
  temp_dir_remove(&dir, NULL);
}

static void test_stream__close_cancels_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  temp_dir dir;
  temp_dir_make(&dir);
  char path[192];
  temp_dir_file(&dir, "c.sock", path, sizeof path);
  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  stream_record accepts[3];
  memset(accepts, 0, sizeof accepts);
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(weft_pipe_accept(listener, record_stream, &accepts[i]), WEFT_OK);
  }

  /* A stream with a read_until, a drain and a write all pending. */
  weft_stream_t *a, *b;
  make_pair(f, &a, &b);
  weft_stream_limits limits = WEFT_STREAM_LIMITS_INIT;
  limits.write_high_water = 1;
  assert_int_equal(weft_stream_set_limits(a, &limits), WEFT_OK);
  const size_t size = 4 << 20;
  char* big = calloc(1, size);
  assert_non_null(big);
  call_record written = {0}, drained = {0};
  read_record line = {0};
  assert_int_equal(weft_stream_write(a, big, size, record_callback, &written), WEFT_OK);
  free(big);
  assert_int_equal(weft_stream_drain(a, record_callback, &drained), WEFT_OK);
  assert_int_equal(weft_stream_read_until(a, "\n", 1, 64, record_read, &line), WEFT_OK);
  spin(f->loop, 3);
  assert_int_equal(written.calls + drained.calls + line.calls, 0);

  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(accepts[i].calls, 1);
    assert_int_equal(accepts[i].status, WEFT_ERR_CANCELLED);
    assert_null(accepts[i].stream);
  }
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(written.calls, 1);
  assert_int_equal(written.status, WEFT_ERR_CANCELLED);
  assert_int_equal(drained.calls, 1);
  assert_int_equal(drained.status, WEFT_ERR_CANCELLED);
  assert_int_equal(line.calls, 1);
  assert_int_equal(line.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(written.calls + drained.calls + line.calls, 3);
  for (int i = 0; i < 3; ++i) assert_int_equal(accepts[i].calls, 1);

  /* A pending read and a pending connect end with the runtime (destroyed
   * here, not by the fixture): exactly once, cancelled. */
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  read_record reading = {0};
  stream_record accepting = {0};
  assert_int_equal(weft_stream_read_exactly(b, 8, record_read, &reading), WEFT_OK);
  assert_int_equal(weft_pipe_accept(listener, record_stream, &accepting), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(reading.calls, 1);
  assert_int_equal(reading.status, WEFT_ERR_CANCELLED);
  assert_int_equal(accepting.calls, 1);
  assert_int_equal(accepting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
  assert_false(file_exists(path)); /* the runtime's end closed the listener */
  temp_dir_remove(&dir, NULL);
}

static void test_stream__scope_destroy_ends_pipe_handles(void** state) {
  fixture* f = FIXTURE(state);
  temp_dir dir;
  temp_dir_make(&dir);
  char path[192];
  temp_dir_file(&dir, "p.sock", path, sizeof path);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);

  weft_pipe_listener_t* listener = NULL;
  weft_stream_t *a, *b;
  assert_int_equal(weft_pipe_listen(&listener, loop, path, NULL), WEFT_OK);
  assert_int_equal(weft_pipe_pair(&a, &b, loop), WEFT_OK);
  stream_record accepted = {0};
  read_record read = {0};
  call_record drained = {0};
  assert_int_equal(weft_pipe_accept(listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_stream_read_until(a, "\n", 1, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_stream_drain(b, record_callback, &drained), WEFT_OK); /* completes soon */

  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(accepted.calls, 1);
  assert_int_equal(accepted.status, WEFT_ERR_CANCELLED);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(drained.calls, 1);
  assert_int_equal(drained.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(a), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(b), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(accepted.calls + read.calls + drained.calls, 3);
  assert_false(file_exists(path));
  temp_dir_remove(&dir, NULL);
}

static void test_stream__cancelled_scope_takes_nothing_new(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "closing"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_stream_t *a, *b;
  assert_int_equal(weft_pipe_pair(&a, &b, loop), WEFT_OK);
  read_record read = {0};
  assert_int_equal(weft_stream_read_exactly(a, 4, record_read, &read), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_stream_close(a), WEFT_ERR_STALE_HANDLE);

  weft_stream_t *c = NULL, *d = NULL;
  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_pair(&c, &d, loop), WEFT_ERR_CLOSED);
  assert_int_equal(weft_pipe_listen(&listener, loop, "/tmp/weft-never.sock", NULL), WEFT_ERR_CLOSED);
  assert_int_equal(weft_pipe_connect(loop, "/tmp/weft-never.sock", 0, never_called_stream, NULL),
                   WEFT_ERR_CLOSED);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(weft_pipe_open(&c, loop, fds[0]), WEFT_ERR_CLOSED);
  assert_true(fcntl(fds[0], F_GETFD) != -1); /* still the caller's */
  close(fds[0]);
  close(fds[1]);
  assert_null(c);
  assert_null(d);
  assert_null(listener);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(read.calls, 1);
}

typedef struct thread_call {
  weft_stream_t* stream;
  weft_loop_t* loop;
  weft_status buffered;
  weft_status drain;
  weft_status pair;
} thread_call;

static void* call_from_another_thread(void* arg) {
  thread_call* call = arg;
  size_t size = 0;
  weft_stream_t *a = NULL, *b = NULL;
  call->buffered = weft_stream_write_buffered(&size, call->stream);
  call->drain = weft_stream_drain(call->stream, never_called, NULL);
  call->pair = weft_pipe_pair(&a, &b, call->loop);
  return NULL;
}

static void test_stream__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  make_pair(f, &a, &b);
  thread_call call = {a, f->loop, WEFT_OK, WEFT_OK, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, call_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.buffered, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.drain, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.pair, WEFT_ERR_WRONG_THREAD);
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
  make_pair(f, &a, &b);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  call_record first = {0}, second = {0};
  assert_int_equal(weft_stream_write(a, "x", 1, record_callback, &first), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  assert_int_equal(weft_stream_write(a, "y", 1, record_callback, &second), WEFT_OK);
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
      cmocka_unit_test_setup_teardown(test_stream__pipe_pair_round_trip, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__unix_socket_round_trip, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__unix_socket_errors, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__pipe_open, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__close_cancels_exactly_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__scope_destroy_ends_pipe_handles, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__cancelled_scope_takes_nothing_new, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__loop_thread_only, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stream__write_to_a_closed_peer_is_a_broken_pipe,
                                      sigpipe_default_setup, fixture_teardown),
      cmocka_unit_test(test_stream__host_sigpipe_handler_is_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
