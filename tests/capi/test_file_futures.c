/* The one asynchronous model, seen from the file operations' futures: each
 * operation with a future and no callback (the value kind weft documents —
 * open: a POINTER holding the file, reads: BYTES, write_at and size: INT64,
 * sync and write_all: NONE — or a rejection naming the path), with both a
 * callback and a future (the same outcome, exactly once, the future first),
 * and a close rejecting the pending futures. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/op_outcome.h"

/* ---- files -------------------------------------------------------------- */

typedef struct tmp {
  char dir[512];
  char path[600];
} tmp;

static void tmp_init(tmp* t) {
  const char* base = getenv("TEST_TMPDIR");
  if (base == NULL || base[0] == '\0') base = "/tmp";
  snprintf(t->dir, sizeof(t->dir), "%s/weft_opf_XXXXXX", base);
  assert_non_null(mkdtemp(t->dir));
}

static const char* tmp_path(tmp* t, const char* name) {
  snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
  return t->path;
}

static void test_file_futures__file_futures_without_callbacks(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  char missing[600], data[600], nowhere[600];
  snprintf(missing, sizeof missing, "%s", tmp_path(&t, "missing"));
  snprintf(data, sizeof data, "%s", tmp_path(&t, "data"));
  snprintf(nowhere, sizeof nowhere, "%s", tmp_path(&t, "no/such/dir"));
  weft_future_t* op = NULL;

  /* Failures reject, with a message naming the path. */
  assert_int_equal(weft_file_open(&op, f->loop, missing, WEFT_FILE_READ, NULL, NULL, NULL), WEFT_OK);
  assert_non_null(op);
  await_future(f->loop, op);
  assert_rejected(op, WEFT_ERR_NOT_FOUND, missing);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_read_all(&op, f->loop, missing, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_rejected(op, WEFT_ERR_NOT_FOUND, missing);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_write_all(&op, f->loop, nowhere, "x", 1, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_rejected(op, WEFT_ERR_NOT_FOUND, nowhere);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* write_all: NONE; read_all: BYTES. */
  assert_int_equal(weft_file_write_all(&op, f->loop, data, "hello world", 11, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  resolved_value(op, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_read_all(&op, f->loop, data, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_bytes_value(op, "hello world", 11);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* open: a POINTER holding the weft_file_t*. */
  assert_int_equal(weft_file_open(&op, f->loop, data, WEFT_FILE_READ_WRITE, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  weft_value value = resolved_value(op, WEFT_VALUE_POINTER);
  weft_file_t* file = value.as.pointer.pointer;
  assert_non_null(file);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* write_at: INT64 bytes written; size: INT64; sync: NONE. */
  assert_int_equal(weft_file_write_at(&op, file, 11, "!?", 2, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_int64_value(op, 2);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_size(&op, file, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_int64_value(op, 13);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_sync(&op, file, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  resolved_value(op, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* read_at: BYTES; at the end, BYTES of size 0. */
  assert_int_equal(weft_file_read_at(&op, file, 6, 100, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_bytes_value(op, "world!?", 7);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_read_at(&op, file, 13, 4, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_bytes_value(op, NULL, 0);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* A refused call gives no future. */
  weft_future_t* refused = NULL;
  assert_int_equal(weft_file_read_at(&refused, file, 0, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_file_size(&refused, file, NULL, NULL), WEFT_ERR_STALE_HANDLE);
  assert_null(refused);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

/* A file operation queued behind a held one-worker pool: closing the file
 * rejects its future, cancelled, inside weft_file_close. */
static void test_file_futures__file_close_rejects_pending_futures(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "data");
  weft_pool_options pool_options = WEFT_POOL_OPTIONS_INIT;
  pool_options.threads = 1;
  weft_executor_t* pool = NULL;
  assert_int_equal(weft_pool_create(&pool, f->runtime, &pool_options), WEFT_OK);
  weft_file_options options;
  assert_int_equal(weft_file_options_init(&options, sizeof options), WEFT_OK);
  options.executor = pool;

  weft_future_t* opened = NULL;
  assert_int_equal(
      weft_file_open(&opened, f->loop, path, WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE, &options, NULL, NULL),
      WEFT_OK);
  await_future(f->loop, opened);
  weft_file_t* file = resolved_value(opened, WEFT_VALUE_POINTER).as.pointer.pointer;

  gate again = GATE_INIT;
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, wait_at_gate, NULL, &again), WEFT_OK);
  gate_wait_entered(&again, 1);
  weft_future_t *read = NULL, *written = NULL, *size = NULL;
  outcome synced = {0};
  assert_int_equal(weft_file_read_at(&read, file, 0, 8, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_write_at(&written, file, 0, "x", 1, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_size(&size, file, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_sync(&synced.future, file, on_done, &synced), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_pending(read);
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_rejected(read, WEFT_ERR_CANCELLED, NULL);
  assert_rejected(written, WEFT_ERR_CANCELLED, NULL);
  assert_rejected(size, WEFT_ERR_CANCELLED, NULL);
  assert_same_outcome(&synced);
  assert_int_equal(synced.status, WEFT_ERR_CANCELLED);
  gate_open(&again);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(synced.calls, 1);
  weft_future_release(opened);
  weft_future_release(read);
  weft_future_release(written);
  weft_future_release(size);
  weft_future_release(synced.future);
}

static void test_file_futures__file_callback_and_future_see_the_same_outcome(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  char data[600], missing[600];
  snprintf(data, sizeof data, "%s", tmp_path(&t, "data"));
  snprintf(missing, sizeof missing, "%s", tmp_path(&t, "missing"));

  outcome all_written = {0};
  assert_int_equal(
      weft_file_write_all(&all_written.future, f->loop, data, "abcdef", 6, NULL, on_done, &all_written),
      WEFT_OK);
  assert_true(run_until(f->loop, &all_written.calls));
  assert_same_outcome(&all_written);
  assert_int_equal(all_written.status, WEFT_OK);
  assert_int_equal(all_written.future_kind, WEFT_VALUE_NONE);

  outcome all_read = {0};
  assert_int_equal(weft_file_read_all(&all_read.future, f->loop, data, NULL, on_bytes, &all_read), WEFT_OK);
  assert_true(run_until(f->loop, &all_read.calls));
  assert_same_outcome(&all_read);
  assert_int_equal(all_read.status, WEFT_OK);
  assert_int_equal(all_read.len, 6);
  assert_memory_equal(all_read.bytes, "abcdef", 6);
  assert_bytes_value(all_read.future, "abcdef", 6);

  outcome opened = {0};
  assert_int_equal(weft_file_open(&opened.future, f->loop, data, WEFT_FILE_READ_WRITE, NULL, on_open, &opened),
                   WEFT_OK);
  assert_true(run_until(f->loop, &opened.calls));
  assert_same_outcome(&opened);
  assert_int_equal(opened.status, WEFT_OK);
  /* The same file, once: the future's pointer is the callback's handle. */
  weft_value value = resolved_value(opened.future, WEFT_VALUE_POINTER);
  assert_ptr_equal(value.as.pointer.pointer, opened.file);
  weft_file_t* file = opened.file;

  outcome written = {0}, size = {0}, synced = {0}, read = {0};
  assert_int_equal(weft_file_write_at(&written.future, file, 6, "gh", 2, on_size, &written), WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_same_outcome(&written);
  assert_int_equal(written.status, WEFT_OK);
  assert_int_equal(written.number, 2);
  assert_int64_value(written.future, 2);

  assert_int_equal(weft_file_size(&size.future, file, on_size, &size), WEFT_OK);
  assert_true(run_until(f->loop, &size.calls));
  assert_same_outcome(&size);
  assert_int_equal(size.number, 8);
  assert_int64_value(size.future, 8);

  assert_int_equal(weft_file_sync(&synced.future, file, on_done, &synced), WEFT_OK);
  assert_true(run_until(f->loop, &synced.calls));
  assert_same_outcome(&synced);
  assert_int_equal(synced.status, WEFT_OK);
  assert_int_equal(synced.future_kind, WEFT_VALUE_NONE);

  assert_int_equal(weft_file_read_at(&read.future, file, 2, 4, on_bytes, &read), WEFT_OK);
  assert_true(run_until(f->loop, &read.calls));
  assert_same_outcome(&read);
  assert_int_equal(read.len, 4);
  assert_memory_equal(read.bytes, "cdef", 4);
  assert_bytes_value(read.future, "cdef", 4);

  /* Failures: the same status and message on both sides. */
  outcome not_found = {0}, read_missing = {0};
  assert_int_equal(
      weft_file_open(&not_found.future, f->loop, missing, WEFT_FILE_READ, NULL, on_open, &not_found), WEFT_OK);
  assert_int_equal(weft_file_read_all(&read_missing.future, f->loop, missing, NULL, on_bytes, &read_missing),
                   WEFT_OK);
  assert_true(run_until(f->loop, &not_found.calls));
  assert_true(run_until(f->loop, &read_missing.calls));
  assert_same_outcome(&not_found);
  assert_int_equal(not_found.status, WEFT_ERR_NOT_FOUND);
  assert_non_null(strstr(not_found.message, missing));
  assert_same_outcome(&read_missing);
  assert_int_equal(read_missing.status, WEFT_ERR_NOT_FOUND);
  assert_true(read_missing.bytes_null);

  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  outcome* all[] = {&all_written, &all_read, &opened, &written, &size, &synced, &read, &not_found, &read_missing};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) {
    assert_int_equal(all[i]->calls, 1);
    assert_int_equal(weft_future_release(all[i]->future), WEFT_OK);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_file_futures__file_futures_without_callbacks, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file_futures__file_close_rejects_pending_futures, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_file_futures__file_callback_and_future_see_the_same_outcome,
                                      fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
