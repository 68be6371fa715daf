/* Files: whole-file round trips, positional reads and writes, the errors of
 * opening, bad input, and ending files with operations pending (each
 * callback exactly once). Files live in a fresh directory under
 * $TEST_TMPDIR. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* kill, mkdtemp, nanosleep, clock_gettime */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* A fresh directory for one test, and paths in it. */
typedef struct tmp {
  char dir[512];
  char path[600];
} tmp;

static void tmp_init(tmp* t) {
  const char* base = getenv("TEST_TMPDIR");
  if (base == NULL || base[0] == '\0') base = "/tmp";
  snprintf(t->dir, sizeof(t->dir), "%s/weft_file_XXXXXX", base);
  assert_non_null(mkdtemp(t->dir));
}

static const char* tmp_path(tmp* t, const char* name) {
  snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
  return t->path;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* What an open callback saw. */
typedef struct open_record {
  int calls;
  weft_status status;
  weft_file_t* file;
  char message[200];
} open_record;

static void record_open(void* user, weft_status status, const char* message, weft_file_t* file) {
  open_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->file = file;
}

/* What a read callback saw (a copy of the bytes). */
typedef struct bytes_record {
  int calls;
  weft_status status;
  unsigned char* bytes;
  size_t len;
  int bytes_null;
  char message[200];
} bytes_record;

static void record_bytes(void* user, weft_status status, const char* message, const void* bytes,
                         size_t len) {
  bytes_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->bytes_null = bytes == NULL;
  free(r->bytes);
  r->bytes = NULL;
  r->len = len;
  if (len > 0) {
    r->bytes = malloc(len);
    assert_non_null(r->bytes);
    memcpy(r->bytes, bytes, len);
  }
}

static void bytes_record_free(bytes_record* r) {
  free(r->bytes);
  r->bytes = NULL;
}

/* What a size callback saw. */
typedef struct size_record {
  int calls;
  weft_status status;
  uint64_t size;
  char message[200];
} size_record;

static void record_size(void* user, weft_status status, const char* message, uint64_t size) {
  size_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->size = size;
}

static void never_called_open(void* user, weft_status status, const char* message,
                              weft_file_t* file) {
  (void)user;
  (void)status;
  (void)message;
  (void)file;
  fail_msg("a callback of a failed call ran");
}

static void never_called_size(void* user, weft_status status, const char* message, uint64_t size) {
  (void)user;
  (void)status;
  (void)message;
  (void)size;
  fail_msg("a callback of a failed call ran");
}

/* Opens `path` and waits for the outcome. */
static weft_status open_and_wait(weft_loop_t* loop, const char* path, uint32_t mode,
                                 const weft_file_options* options, weft_file_t** out) {
  open_record r = {0};
  assert_int_equal(weft_file_open(NULL, loop, path, mode, options, record_open, &r), WEFT_OK);
  assert_true(run_until(loop, &r.calls));
  assert_int_equal(r.calls, 1);
  if (r.status == WEFT_OK) {
    assert_non_null(r.file);
  } else {
    assert_null(r.file);
  }
  *out = r.file;
  return r.status;
}

static void read_all_and_wait(weft_loop_t* loop, const char* path, bytes_record* r) {
  assert_int_equal(weft_file_read_all(NULL, loop, path, NULL, record_bytes, r), WEFT_OK);
  assert_true(run_until(loop, &r->calls));
}

static void test_file__write_all_read_all_round_trip(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const size_t size = 1 << 20;
  unsigned char* data = malloc(size);
  assert_non_null(data);
  for (size_t i = 0; i < size; ++i) data[i] = (unsigned char)(i * 7 + (i >> 9)); /* NULs included */
  assert_int_equal(data[0], 0);

  call_record written = {0};
  assert_int_equal(weft_file_write_all(NULL, f->loop, tmp_path(&t, "blob"), data, size, NULL, record_callback,
                                       &written),
                   WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);

  bytes_record back = {0};
  read_all_and_wait(f->loop, tmp_path(&t, "blob"), &back);
  assert_int_equal(back.status, WEFT_OK);
  assert_int_equal(back.len, size);
  assert_memory_equal(back.bytes, data, size);
  bytes_record_free(&back);

  /* Rewriting truncates; an empty file reads as WEFT_OK with len 0. */
  assert_int_equal(weft_file_write_all(NULL, f->loop, tmp_path(&t, "blob"), NULL, 0, NULL, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  bytes_record empty = {0};
  read_all_and_wait(f->loop, tmp_path(&t, "blob"), &empty);
  assert_int_equal(empty.status, WEFT_OK);
  assert_int_equal(empty.len, 0);
  assert_true(empty.bytes_null);

  /* The permissions option applies to a file write_all creates. */
  weft_file_options options = WEFT_FILE_OPTIONS_INIT;
  options.permissions = 0600;
  written.calls = 0;
  assert_int_equal(weft_file_write_all(NULL, f->loop, tmp_path(&t, "private"), "x", 1, &options,
                                       record_callback, &written),
                   WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  struct stat st;
  assert_int_equal(stat(tmp_path(&t, "private"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600); /* the umask only removes bits */
  free(data);
}

static void test_file__positional_reads_and_writes(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  weft_file_t* file = NULL;
  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "data"),
                                 WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE | WEFT_FILE_TRUNCATE, NULL, &file),
                   WEFT_OK);

  /* Two writes in flight at once, with a hole between them. */
  size_record first = {0}, second = {0};
  char hello[] = "hello";
  assert_int_equal(weft_file_write_at(NULL, file, 0, hello, 5, record_size, &first), WEFT_OK);
  memcpy(hello, "XXXXX", 5); /* copied during the call */
  assert_int_equal(weft_file_write_at(NULL, file, 10, "world", 5, record_size, &second), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  assert_true(run_until(f->loop, &second.calls));
  assert_int_equal(first.status, WEFT_OK);
  assert_int_equal(first.size, 5);
  assert_int_equal(second.status, WEFT_OK);
  assert_int_equal(second.size, 5);

  size_record size = {0};
  call_record synced = {0};
  assert_int_equal(weft_file_size(NULL, file, record_size, &size), WEFT_OK);
  assert_int_equal(weft_file_sync(NULL, file, record_callback, &synced), WEFT_OK);
  assert_true(run_until(f->loop, &size.calls));
  assert_true(run_until(f->loop, &synced.calls));
  assert_int_equal(size.status, WEFT_OK);
  assert_int_equal(size.size, 15);
  assert_int_equal(synced.status, WEFT_OK);

  bytes_record head = {0}, hole = {0}, tail = {0}, at_end = {0}, past_end = {0};
  assert_int_equal(weft_file_read_at(NULL, file, 0, 5, record_bytes, &head), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 5, 5, record_bytes, &hole), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 10, 100, record_bytes, &tail), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 15, 10, record_bytes, &at_end), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 1000, 10, record_bytes, &past_end), WEFT_OK);
  assert_true(run_until(f->loop, &head.calls));
  assert_true(run_until(f->loop, &hole.calls));
  assert_true(run_until(f->loop, &tail.calls));
  assert_true(run_until(f->loop, &at_end.calls));
  assert_true(run_until(f->loop, &past_end.calls));
  assert_int_equal(head.status, WEFT_OK);
  assert_int_equal(head.len, 5);
  assert_memory_equal(head.bytes, "hello", 5);
  assert_int_equal(hole.status, WEFT_OK);
  assert_int_equal(hole.len, 5);
  assert_memory_equal(hole.bytes, "\0\0\0\0\0", 5);
  assert_int_equal(tail.status, WEFT_OK); /* short: the end of the file */
  assert_int_equal(tail.len, 5);
  assert_memory_equal(tail.bytes, "world", 5);
  assert_int_equal(at_end.status, WEFT_OK);
  assert_int_equal(at_end.len, 0);
  assert_true(at_end.bytes_null);
  assert_int_equal(past_end.status, WEFT_OK);
  assert_int_equal(past_end.len, 0);

  /* A zero-length write writes nothing. */
  size_record nothing = {0};
  assert_int_equal(weft_file_write_at(NULL, file, 3, NULL, 0, record_size, &nothing), WEFT_OK);
  assert_true(run_until(f->loop, &nothing.calls));
  assert_int_equal(nothing.status, WEFT_OK);
  assert_int_equal(nothing.size, 0);

  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_file_close(file), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  bytes_record_free(&head);
  bytes_record_free(&hole);
  bytes_record_free(&tail);

  /* The descriptor was closed, the data is there. */
  bytes_record whole = {0};
  read_all_and_wait(f->loop, tmp_path(&t, "data"), &whole);
  assert_int_equal(whole.status, WEFT_OK);
  assert_int_equal(whole.len, 15);
  assert_memory_equal(whole.bytes, "hello\0\0\0\0\0world", 15);
  bytes_record_free(&whole);
}

static void test_file__append_and_access_modes(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  weft_file_t* file = NULL;
  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "log"), WEFT_FILE_WRITE | WEFT_FILE_CREATE | WEFT_FILE_APPEND,
                                 NULL, &file),
                   WEFT_OK);
  size_record a = {0}, b = {0};
  assert_int_equal(weft_file_write_at(NULL, file, 0, "ab", 2, record_size, &a), WEFT_OK);
  assert_true(run_until(f->loop, &a.calls));
  assert_int_equal(weft_file_write_at(NULL, file, 0, "cd", 2, record_size, &b), WEFT_OK); /* offset ignored */
  assert_true(run_until(f->loop, &b.calls));
  assert_int_equal(b.status, WEFT_OK);
  /* Opened write-only: reading is refused before anything starts. */
  assert_int_equal(weft_file_read_at(NULL, file, 0, 4, never_called_read, NULL), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_file_close(file), WEFT_OK);

  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "log"), WEFT_FILE_READ, NULL, &file), WEFT_OK);
  bytes_record all = {0};
  assert_int_equal(weft_file_read_at(NULL, file, 0, 64, record_bytes, &all), WEFT_OK);
  assert_true(run_until(f->loop, &all.calls));
  assert_int_equal(all.len, 4);
  assert_memory_equal(all.bytes, "abcd", 4);
  bytes_record_free(&all);
  /* Opened read-only: writing is refused. */
  assert_int_equal(weft_file_write_at(NULL, file, 0, "x", 1, never_called_size, NULL), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_file_close(file), WEFT_OK);
}

static void test_file__open_errors(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  weft_file_t* file = NULL;

  /* Missing. */
  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "missing"), WEFT_FILE_READ, NULL, &file),
                   WEFT_ERR_NOT_FOUND);
  bytes_record missing = {0};
  read_all_and_wait(f->loop, tmp_path(&t, "missing"), &missing);
  assert_int_equal(missing.status, WEFT_ERR_NOT_FOUND);
  assert_int_equal(missing.len, 0);
  assert_true(missing.bytes_null);
  call_record no_dir = {0};
  assert_int_equal(weft_file_write_all(NULL, f->loop, tmp_path(&t, "no/such/dir"), "x", 1, NULL, record_callback,
                                       &no_dir),
                   WEFT_OK);
  assert_true(run_until(f->loop, &no_dir.calls));
  assert_int_equal(no_dir.status, WEFT_ERR_NOT_FOUND);

  /* Exclusive creation of a file that exists. */
  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "once"),
                                 WEFT_FILE_WRITE | WEFT_FILE_CREATE | WEFT_FILE_EXCLUSIVE, NULL, &file),
                   WEFT_OK);
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "once"),
                                 WEFT_FILE_WRITE | WEFT_FILE_CREATE | WEFT_FILE_EXCLUSIVE, NULL, &file),
                   WEFT_ERR_ALREADY_EXISTS);

  /* A directory: not writable as a file, not readable as one. */
  assert_int_equal(open_and_wait(f->loop, t.dir, WEFT_FILE_WRITE, NULL, &file), WEFT_ERR_IO_ERROR);
  bytes_record dir = {0};
  read_all_and_wait(f->loop, t.dir, &dir);
  assert_int_equal(dir.status, WEFT_ERR_IO_ERROR);

  /* Permissions (root bypasses them). */
  if (geteuid() != 0) {
    weft_file_options write_only = WEFT_FILE_OPTIONS_INIT;
    write_only.permissions = 0200;
    assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "secret"), WEFT_FILE_WRITE | WEFT_FILE_CREATE,
                                   &write_only, &file),
                     WEFT_OK);
    assert_int_equal(weft_file_close(file), WEFT_OK);
    assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "secret"), WEFT_FILE_READ, NULL, &file),
                     WEFT_ERR_PERMISSION_DENIED);
    bytes_record denied = {0};
    read_all_and_wait(f->loop, tmp_path(&t, "secret"), &denied);
    assert_int_equal(denied.status, WEFT_ERR_PERMISSION_DENIED);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_file__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "file");
  const uint32_t rw = WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE;

  assert_int_equal(weft_file_open(NULL, NULL, path, rw, NULL, never_called_open, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_open(NULL, f->loop, NULL, rw, NULL, never_called_open, NULL), WEFT_ERR_INVALID_ARGUMENT);
  /* A refused call leaves *out alone. */
  weft_future_t* refused = NULL;
  assert_int_equal(weft_file_open(&refused, f->loop, NULL, rw, NULL, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_open(&refused, f->loop, path, 0, NULL, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  const uint32_t bad_modes[] = {
      0,
      WEFT_FILE_CREATE,
      64,
      WEFT_FILE_READ | 0x80000000u,
      WEFT_FILE_READ | WEFT_FILE_TRUNCATE,
      WEFT_FILE_READ | WEFT_FILE_APPEND,
      WEFT_FILE_WRITE | WEFT_FILE_EXCLUSIVE,
  };
  for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); ++i) {
    assert_int_equal(weft_file_open(NULL, f->loop, path, bad_modes[i], NULL, never_called_open, NULL),
                     WEFT_ERR_INVALID_ARGUMENT);
  }
  weft_file_options options = WEFT_FILE_OPTIONS_INIT;
  options.permissions = 010000;
  assert_int_equal(weft_file_open(NULL, f->loop, path, rw, &options, never_called_open, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  options.permissions = 0;
  options.struct_size = 4;
  assert_int_equal(weft_file_open(NULL, f->loop, path, rw, &options, never_called_open, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_read_all(NULL, f->loop, path, &options, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  options.struct_size = sizeof(options);
  options.executor = (weft_executor_t*)f->loop; /* not an executor */
  assert_int_equal(weft_file_open(NULL, f->loop, path, rw, &options, never_called_open, NULL), WEFT_ERR_INVALID_HANDLE);

  assert_int_equal(weft_file_read_all(NULL, NULL, path, NULL, never_called_read, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_read_all(NULL, f->loop, NULL, NULL, never_called_read, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_read_all(&refused, f->loop, NULL, NULL, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  assert_int_equal(weft_file_write_all(NULL, NULL, path, "x", 1, NULL, never_called, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_write_all(NULL, f->loop, NULL, "x", 1, NULL, never_called, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_write_all(NULL, f->loop, path, NULL, 1, NULL, never_called, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);

  /* NULL and wrong-kind file handles. */
  assert_int_equal(weft_file_read_at(NULL, NULL, 0, 1, never_called_read, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_write_at(NULL, NULL, 0, "x", 1, never_called_size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_size(NULL, NULL, never_called_size, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_sync(NULL, NULL, never_called, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_close(NULL), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, (weft_file_t*)f->loop, 0, 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_file_close((weft_file_t*)f->pool), WEFT_ERR_INVALID_HANDLE);

  weft_file_t* file = NULL;
  assert_int_equal(open_and_wait(f->loop, path, rw, NULL, &file), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 0, 0, never_called_read, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_read_at(&refused, file, 0, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  assert_int_equal(weft_file_read_at(NULL, file, (uint64_t)INT64_MAX + 1, 1, never_called_read, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_write_at(NULL, file, 0, NULL, 1, never_called_size, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_write_at(NULL, file, UINT64_MAX, "x", 1, never_called_size, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* Writes and syncs without callbacks (and without futures) are fine;
   * reads and size would lose their result, so they are refused. */
  assert_int_equal(weft_file_write_at(NULL, file, 0, "x", 1, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_sync(NULL, file, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 0, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_size(NULL, file, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);

  /* Stale after close. */
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_file_read_at(NULL, file, 0, 1, never_called_read, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_file_write_at(NULL, file, 0, "x", 1, never_called_size, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_file_size(NULL, file, never_called_size, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_file_sync(NULL, file, never_called, NULL), WEFT_ERR_STALE_HANDLE);
}

/* Holds a one-worker pool busy until the gate opens. */
static weft_executor_t* blocked_pool(fixture* f, gate* g) {
  weft_executor_t* pool = NULL;
  weft_pool_options options = WEFT_POOL_OPTIONS_INIT;
  options.threads = 1;
  assert_int_equal(weft_pool_create(&pool, f->runtime, &options), WEFT_OK);
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, wait_at_gate, NULL, g), WEFT_OK);
  gate_wait_entered(g, 1);
  return pool;
}

static void test_file__close_cancels_pending_operations_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "data");
  call_record written = {0};
  assert_int_equal(weft_file_write_all(NULL, f->loop, path, "original", 8, NULL, record_callback, &written), WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));

  gate g = GATE_INIT;
  weft_executor_t* pool = NULL;
  weft_pool_options pool_options = WEFT_POOL_OPTIONS_INIT;
  pool_options.threads = 1;
  assert_int_equal(weft_pool_create(&pool, f->runtime, &pool_options), WEFT_OK);
  weft_file_options options = WEFT_FILE_OPTIONS_INIT;
  options.executor = pool;
  weft_file_t* file = NULL;
  assert_int_equal(open_and_wait(f->loop, path, WEFT_FILE_READ_WRITE, &options, &file), WEFT_OK);

  /* The only worker is held: nothing below starts. */
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, wait_at_gate, NULL, &g), WEFT_OK);
  gate_wait_entered(&g, 1);
  bytes_record read = {0};
  size_record write = {0}, size = {0};
  call_record sync = {0};
  open_record opening = {0};
  assert_int_equal(weft_file_read_at(NULL, file, 0, 8, record_bytes, &read), WEFT_OK);
  assert_int_equal(weft_file_write_at(NULL, file, 0, "CHANGED!", 8, record_size, &write), WEFT_OK);
  assert_int_equal(weft_file_size(NULL, file, record_size, &size), WEFT_OK);
  assert_int_equal(weft_file_sync(NULL, file, record_callback, &sync), WEFT_OK);
  assert_int_equal(weft_file_open(NULL, f->loop, path, WEFT_FILE_READ, &options, record_open, &opening), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(read.calls + write.calls + size.calls + sync.calls, 0);

  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_true(read.bytes_null);
  assert_int_equal(write.calls, 1);
  assert_int_equal(write.status, WEFT_ERR_CANCELLED);
  assert_int_equal(size.calls, 1);
  assert_int_equal(size.status, WEFT_ERR_CANCELLED);
  assert_int_equal(sync.calls, 1);
  assert_int_equal(sync.status, WEFT_ERR_CANCELLED);
  assert_int_equal(opening.calls, 0); /* not the file's: still pending */

  gate_open(&g);
  assert_true(run_until(f->loop, &opening.calls));
  assert_int_equal(opening.status, WEFT_OK);
  assert_int_equal(weft_file_close(opening.file), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(read.calls + write.calls + size.calls + sync.calls, 4);

  /* The cancelled write never started. */
  bytes_record whole = {0};
  read_all_and_wait(f->loop, path, &whole);
  assert_int_equal(whole.len, 8);
  assert_memory_equal(whole.bytes, "original", 8);
  bytes_record_free(&whole);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
}

static void count_file_ops(void* user, const weft_object_info* info) {
  if (info->kind == WEFT_OBJECT_IO_OPERATION) ++*(int*)user;
}

static void test_file__scope_destroy_ends_its_files(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "data");
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_file_t* file = NULL;
  assert_int_equal(open_and_wait(loop, path, WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE, NULL, &file), WEFT_OK);

  bytes_record read = {0}, whole = {0};
  open_record opening = {0};
  call_record writing = {0};
  assert_int_equal(weft_file_read_at(NULL, file, 0, 8, record_bytes, &read), WEFT_OK);
  assert_int_equal(weft_file_open(NULL, loop, path, WEFT_FILE_READ, NULL, record_open, &opening), WEFT_OK);
  assert_int_equal(weft_file_read_all(NULL, loop, path, NULL, record_bytes, &whole), WEFT_OK);
  assert_int_equal(weft_file_write_all(NULL, loop, tmp_path(&t, "other"), "x", 1, NULL, record_callback, &writing),
                   WEFT_OK);
  int listed = 0;
  assert_int_equal(weft_scope_list(scope, count_file_ops, &listed), WEFT_OK);
  assert_int_equal(listed, 4);

  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(opening.calls, 1);
  assert_int_equal(opening.status, WEFT_ERR_CANCELLED);
  assert_null(opening.file);
  assert_int_equal(whole.calls, 1);
  assert_int_equal(whole.status, WEFT_ERR_CANCELLED);
  assert_int_equal(writing.calls, 1);
  assert_int_equal(writing.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_file_close(file), WEFT_ERR_STALE_HANDLE);
  /* The open finishes on its worker; the file it made is closed, unseen. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(read.calls + opening.calls + whole.calls + writing.calls, 4);
}

static void test_file__runtime_destroy_ends_files_and_opens(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "data");
  weft_file_t* file = NULL;
  assert_int_equal(open_and_wait(f->loop, path, WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE, NULL, &file), WEFT_OK);
  bytes_record read = {0};
  open_record first = {0}, second = {0};
  assert_int_equal(weft_file_read_at(NULL, file, 0, 8, record_bytes, &read), WEFT_OK);
  assert_int_equal(weft_file_open(NULL, f->loop, path, WEFT_FILE_READ, NULL, record_open, &first), WEFT_OK);
  /* One open whose job has already finished on its worker, one maybe not. */
  sleep_ms(20);
  assert_int_equal(weft_file_open(NULL, f->loop, path, WEFT_FILE_READ, NULL, record_open, &second), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(read.calls, 1);
  assert_int_equal(read.status, WEFT_ERR_CANCELLED);
  assert_int_equal(first.calls, 1);
  assert_int_equal(first.status, WEFT_ERR_CANCELLED);
  assert_int_equal(second.calls, 1);
  assert_int_equal(second.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

static void test_file__explicit_executor(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "data");
  gate g = GATE_INIT;
  weft_executor_t* pool = blocked_pool(f, &g);
  weft_executor_t* strand = NULL;
  assert_int_equal(weft_strand_create(&strand, f->pool), WEFT_OK);

  /* Work on a blocked executor waits for it: the executor is really used. */
  weft_file_options options = WEFT_FILE_OPTIONS_INIT;
  options.executor = pool;
  call_record written = {0};
  assert_int_equal(weft_file_write_all(NULL, f->loop, path, "pooled", 6, &options, record_callback, &written), WEFT_OK);
  open_record opened = {0};
  assert_int_equal(weft_file_open(NULL, f->loop, path, WEFT_FILE_READ, &options, record_open, &opened), WEFT_OK);
  for (int i = 0; i < 5; ++i) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  sleep_ms(10);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(written.calls, 0);
  assert_int_equal(opened.calls, 0);
  gate_open(&g);
  assert_true(run_until(f->loop, &written.calls));
  assert_true(run_until(f->loop, &opened.calls));
  assert_int_equal(written.status, WEFT_OK);
  assert_int_equal(opened.status, WEFT_OK);

  /* A strand works too. */
  weft_file_options on_strand = WEFT_FILE_OPTIONS_INIT;
  on_strand.executor = strand;
  bytes_record whole = {0};
  assert_int_equal(weft_file_read_all(NULL, f->loop, path, &on_strand, record_bytes, &whole), WEFT_OK);
  assert_true(run_until(f->loop, &whole.calls));
  assert_int_equal(whole.status, WEFT_OK);
  assert_int_equal(whole.len, 6);
  assert_memory_equal(whole.bytes, "pooled", 6);
  bytes_record_free(&whole);
  assert_int_equal(weft_executor_destroy(strand), WEFT_OK);

  /* The executor destroyed under an open file: its calls fail with CLOSED,
   * and closing it still works. */
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  bytes_record after = {0};
  assert_int_equal(weft_file_read_at(NULL, opened.file, 0, 6, record_bytes, &after), WEFT_OK);
  assert_true(run_until(f->loop, &after.calls));
  assert_int_equal(after.status, WEFT_ERR_CLOSED);
  assert_int_equal(weft_file_close(opened.file), WEFT_OK);
  /* ... and the destroyed executor is refused up front. */
  assert_int_equal(weft_file_read_all(NULL, f->loop, path, &options, never_called_read, NULL), WEFT_ERR_STALE_HANDLE);

  /* An executor of another runtime. */
  weft_runtime_t* other = NULL;
  assert_int_equal(weft_runtime_create(&other, NULL), WEFT_OK);
  weft_executor_t* other_pool = NULL;
  assert_int_equal(weft_runtime_pool(&other_pool, other), WEFT_OK);
  options.executor = other_pool;
  assert_int_equal(weft_file_open(NULL, f->loop, path, WEFT_FILE_READ, &options, never_called_open, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_runtime_destroy(other), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

typedef struct thread_call {
  weft_file_t* file;
  weft_status status;
} thread_call;

static void* size_from_another_thread(void* arg) {
  thread_call* call = arg;
  call->status = weft_file_size(NULL, call->file, never_called_size, NULL);
  return NULL;
}

static void test_file__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  thread_call call = {NULL, WEFT_OK};
  assert_int_equal(open_and_wait(f->loop, tmp_path(&t, "data"), WEFT_FILE_WRITE | WEFT_FILE_CREATE, NULL,
                                 &call.file),
                   WEFT_OK);
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, size_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_file_close(call.file), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_file__write_all_read_all_round_trip, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__positional_reads_and_writes, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__append_and_access_modes, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__open_errors, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__close_cancels_pending_operations_exactly_once, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__scope_destroy_ends_its_files, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__runtime_destroy_ends_files_and_opens, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__explicit_executor, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file__loop_thread_only, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
