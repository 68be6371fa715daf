/* Pipes and Unix domain sockets (the weft_pipe_* functions): socketpairs
 * from weft_pipe_pair, Unix sockets (listen, the listener's path, accept,
 * connect, half-close, and the listen and connect errors), adopting a
 * pipe(2) end with weft_pipe_open, bad input and handles of the wrong kind,
 * closing a listener with accepts pending and destroying the runtime with
 * an accept pending (each callback exactly once), scopes ending pipe handles
 * and refusing new ones once cancelled, and the loop thread rule. The
 * stream operations themselves are in test_stream.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/capi/support.h"

static void never_called_stream(void* user, weft_status status, const char* message,
                                weft_stream_t* stream) {
  (void)user;
  (void)status;
  (void)message;
  (void)stream;
  fail_msg("a callback of a failed call ran");
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
static void test_pipe__pair_round_trip(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  call_record written = {0};
  read_record at_b = {0}, at_a = {0}, end = {0};
  assert_int_equal(weft_stream_write(NULL, a, "ping", 4, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(NULL, b, 4, record_read, &at_b), WEFT_OK);
  assert_true(run_until(f->loop, &at_b.calls));
  assert_int_equal(at_b.status, WEFT_OK);
  assert_memory_equal(at_b.bytes, "ping", 4);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  stream_write_text(b, "pong");
  assert_int_equal(weft_stream_read_exactly(NULL, a, 4, record_read, &at_a), WEFT_OK);
  assert_true(run_until(f->loop, &at_a.calls));
  assert_memory_equal(at_a.bytes, "pong", 4);
  /* Closing one end is the end of the stream at the other. */
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, b, 16, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_stream_close(a), WEFT_ERR_STALE_HANDLE);
}

static void test_pipe__unix_socket_round_trip(void** state) {
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
  assert_int_equal(weft_pipe_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_pipe_connect(NULL, f->loop, path, WEFT_SEC(5), record_stream, &connected), WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(accepted.status, WEFT_OK);
  weft_stream_t* client = connected.stream;
  weft_stream_t* server = accepted.stream;
  assert_non_null(client);
  assert_non_null(server);

  read_record request = {0}, reply = {0};
  stream_write_text(client, "ping\n");
  assert_int_equal(weft_stream_read_until(NULL, server, "\n", 1, 64, record_read, &request), WEFT_OK);
  assert_true(run_until(f->loop, &request.calls));
  assert_int_equal(request.status, WEFT_OK);
  assert_int_equal(request.len, 5);
  assert_memory_equal(request.bytes, "ping\n", 5);
  stream_write_text(server, "pong\n");
  assert_int_equal(weft_stream_read_until(NULL, client, "\n", 1, 64, record_read, &reply), WEFT_OK);
  assert_true(run_until(f->loop, &reply.calls));
  assert_memory_equal(reply.bytes, "pong\n", 5);

  /* Half-close: the server sees the end and can still answer. */
  read_record end = {0}, still = {0};
  call_record shut = {0};
  assert_int_equal(weft_stream_shutdown(NULL, client, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, server, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);
  stream_write_text(server, "still here");
  assert_int_equal(weft_stream_read_exactly(NULL, client, 10, record_read, &still), WEFT_OK);
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

static void test_pipe__unix_socket_errors(void** state) {
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
  assert_int_equal(weft_pipe_connect(NULL, f->loop, missing, WEFT_SEC(5), record_stream, &none), WEFT_OK);
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
  assert_int_equal(weft_pipe_connect(NULL, f->loop, deaf, WEFT_SEC(5), record_stream, &refused), WEFT_OK);
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

static void test_pipe__open(void** state) {
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
  assert_int_equal(weft_stream_write(NULL, writer, "through a pipe", 14, record_callback, &written),
                   WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  /* Closing the stream closes its descriptor: the reader sees the end. */
  assert_int_equal(weft_stream_close(writer), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(NULL, reader, 14, record_read, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_memory_equal(got.bytes, "through a pipe", 14);
  assert_int_equal(weft_stream_read(NULL, reader, 16, record_read, &end), WEFT_OK);
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

static void test_pipe__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  size_t size = 0;

  /* NULL handles. */
  assert_int_equal(weft_pipe_accept(NULL, NULL, never_called_stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listener_path(NULL, 0, &size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listener_close(NULL), WEFT_OK);

  /* Bad arguments. */
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
  assert_int_equal(weft_pipe_connect(NULL, f->loop, NULL, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(NULL, f->loop, "", 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(NULL, f->loop, long_path, 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* Callbacks may be NULL; a refused call leaves *out untouched. */
  weft_future_t* untouched = (weft_future_t*)&untouched;
  assert_int_equal(weft_pipe_connect(&untouched, f->loop, "", 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(&untouched, f->loop, long_path, 0, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_true(untouched == (weft_future_t*)&untouched);
  assert_int_equal(weft_pipe_connect(NULL, NULL, "/tmp/x.sock", 0, never_called_stream, NULL),
                   WEFT_ERR_INVALID_HANDLE);

  /* Wrong kinds: a stream is not a listener, a listener not a stream. */
  temp_dir dir;
  temp_dir_make(&dir);
  char path[192];
  temp_dir_file(&dir, "s.sock", path, sizeof path);
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_exactly(NULL, (weft_stream_t*)listener, 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_close((weft_stream_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_accept(NULL, (weft_pipe_listener_t*)a, never_called_stream, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_listener_close((weft_pipe_listener_t*)a), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_pair(&out, &a, (weft_loop_t*)listener), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_pipe_accept(&untouched, (weft_pipe_listener_t*)a, NULL, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_true(untouched == (weft_future_t*)&untouched);
  /* A pipe stream is a stream but not a TCP stream. */
  weft_address address;
  assert_int_equal(weft_tcp_set_nodelay(a, 1), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_set_keepalive(a, 1, WEFT_SEC(30)), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_local_address(&address, a), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tcp_peer_address(&address, a), WEFT_ERR_INVALID_HANDLE);

  /* Stale handles after close. */
  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_pipe_accept(NULL, listener, never_called_stream, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_pipe_listener_path(NULL, 0, &size, listener), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  temp_dir_remove(&dir, NULL);
}

static void test_pipe__close_cancels_exactly_once(void** state) {
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
    assert_int_equal(weft_pipe_accept(NULL, listener, record_stream, &accepts[i]), WEFT_OK);
  }
  spin_loop(f->loop, 3);

  assert_int_equal(weft_pipe_listener_close(listener), WEFT_OK);
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(accepts[i].calls, 1);
    assert_int_equal(accepts[i].status, WEFT_ERR_CANCELLED);
    assert_null(accepts[i].stream);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < 3; ++i) assert_int_equal(accepts[i].calls, 1);

  /* A pending accept ends with the runtime (destroyed here, not by the
   * fixture): exactly once, cancelled. */
  assert_int_equal(weft_pipe_listen(&listener, f->loop, path, NULL), WEFT_OK);
  stream_record accepting = {0};
  assert_int_equal(weft_pipe_accept(NULL, listener, record_stream, &accepting), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(accepting.calls, 1);
  assert_int_equal(accepting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
  assert_false(file_exists(path)); /* the runtime's end closed the listener */
  temp_dir_remove(&dir, NULL);
}

static void test_pipe__scope_destroy_ends_pipe_handles(void** state) {
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
  assert_int_equal(weft_pipe_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(weft_stream_read_until(NULL, a, "\n", 1, 64, record_read, &read), WEFT_OK);
  assert_int_equal(weft_stream_drain(NULL, b, record_callback, &drained), WEFT_OK); /* completes soon */

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

static void test_pipe__cancelled_scope_takes_nothing_new(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "closing"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_stream_t *a, *b;
  assert_int_equal(weft_pipe_pair(&a, &b, loop), WEFT_OK);
  read_record read = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, a, 4, record_read, &read), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_stream_close(a), WEFT_ERR_STALE_HANDLE);

  weft_stream_t *c = NULL, *d = NULL;
  weft_pipe_listener_t* listener = NULL;
  assert_int_equal(weft_pipe_pair(&c, &d, loop), WEFT_ERR_CLOSED);
  assert_int_equal(weft_pipe_listen(&listener, loop, "/tmp/weft-never.sock", NULL), WEFT_ERR_CLOSED);
  assert_int_equal(weft_pipe_connect(NULL, loop, "/tmp/weft-never.sock", 0, never_called_stream, NULL),
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
  weft_loop_t* loop;
  weft_status pair;
} thread_call;

static void* call_from_another_thread(void* arg) {
  thread_call* call = arg;
  weft_stream_t *a = NULL, *b = NULL;
  call->pair = weft_pipe_pair(&a, &b, call->loop);
  return NULL;
}

static void test_pipe__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  thread_call call = {f->loop, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, call_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.pair, WEFT_ERR_WRONG_THREAD);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pipe__pair_round_trip, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__unix_socket_round_trip, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__unix_socket_errors, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__open, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__close_cancels_exactly_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__scope_destroy_ends_pipe_handles, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__cancelled_scope_takes_nothing_new, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_pipe__loop_thread_only, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
