/* weft_stream_read_into: a read into memory the caller lends once bytes are
 * there. The memory callback is not asked while the stream is idle; the
 * read callback gets that memory and the count, the future an INT64; bytes
 * weft buffered already are copied in, at most the memory's size; a memory
 * callback that declines ends the read with WEFT_ERR_NO_MEMORY having taken
 * nothing; the end of the stream is WEFT_ERR_END_OF_FILE; bad input, a
 * second read and closing with the read pending; 4 MiB through it intact,
 * and steady reads allocate nothing. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdlib.h>
#include <string.h>

#include "tests/capi/support.h"

/* Lends `memory` (`size` bytes), counting the calls; declines while
 * `decline` is set. Also what the read callback saw. */
typedef struct lender {
  char* memory;
  size_t size;
  int asked;
  int decline;
  int calls;
  weft_status status;
  const void* bytes;
  size_t len;
} lender;

static void* lend(void* user, size_t* len) {
  lender* l = user;
  l->asked++;
  if (l->decline) return NULL;
  *len = l->size;
  return l->memory;
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  (void)message;
  lender* l = user;
  l->calls++;
  l->status = status;
  l->bytes = bytes;
  l->len = len;
}

static void test_read_into__bytes_land_in_the_lent_memory(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  char memory[64];
  lender l = {memory, sizeof memory, 0, 0, 0, WEFT_OK, NULL, 0};
  weft_future_t* future = NULL;
  assert_int_equal(weft_stream_read_into(&future, b, lend, on_read, &l), WEFT_OK);
  spin_loop(f->loop, 5);
  assert_int_equal(l.asked, 0); /* idle: none of the caller's memory is held */
  stream_write_text(a, "ping");
  assert_true(run_until(f->loop, &l.calls));
  assert_int_equal(l.status, WEFT_OK);
  assert_ptr_equal(l.bytes, memory);
  assert_int_equal(l.len, 4);
  assert_memory_equal(memory, "ping", 4);
  weft_status status = WEFT_ERR_UNKNOWN;
  weft_value value;
  assert_int_equal(weft_future_result(&status, &value, NULL, future), WEFT_OK);
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_INT64);
  assert_int_equal(value.as.int64, 4);
  assert_int_equal(weft_future_release(future), WEFT_OK);

  /* The end of the stream. */
  lender end = {memory, sizeof memory, 0, 0, 0, WEFT_OK, NULL, 0};
  assert_int_equal(weft_stream_shutdown(NULL, a, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(end.len, 0);
  assert_null(end.bytes);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_read_into__buffered_bytes_are_copied(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  read_record first = {0};
  stream_write_text(a, "hello");
  assert_int_equal(weft_stream_read(NULL, b, 1, record_read, &first), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  spin_loop(f->loop, 3);
  size_t buffered = 0;
  assert_int_equal(weft_stream_read_buffered(&buffered, b), WEFT_OK);
  assert_int_equal(buffered, 4);
  char small[3];
  lender l = {small, sizeof small, 0, 0, 0, WEFT_OK, NULL, 0};
  assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &l), WEFT_OK);
  assert_int_equal(l.calls, 0); /* never inside the call */
  assert_true(run_until(f->loop, &l.calls));
  assert_int_equal(l.status, WEFT_OK);
  assert_int_equal(l.len, 3);
  assert_memory_equal(small, "ell", 3);
  lender rest = {small, sizeof small, 0, 0, 0, WEFT_OK, NULL, 0};
  assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &rest), WEFT_OK);
  assert_true(run_until(f->loop, &rest.calls));
  assert_int_equal(rest.len, 1);
  assert_memory_equal(small, "o", 1);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_read_into__declining_takes_nothing(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  char memory[16];
  lender l = {memory, sizeof memory, 0, 1, 0, WEFT_OK, NULL, 0};
  assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &l), WEFT_OK);
  stream_write_text(a, "all of it");
  assert_true(run_until(f->loop, &l.calls));
  assert_int_equal(l.status, WEFT_ERR_NO_MEMORY);
  assert_int_equal(l.len, 0);
  assert_true(l.asked >= 1);
  read_record after = {0};
  assert_int_equal(weft_stream_read_exactly(NULL, b, 9, record_read, &after), WEFT_OK);
  assert_true(run_until(f->loop, &after.calls));
  assert_int_equal(after.status, WEFT_OK);
  assert_memory_equal(after.bytes, "all of it", 9);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_read_into__bad_input_and_closing(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse = {0};
  misuse_recorder_install(&misuse);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  char memory[16];
  lender l = {memory, sizeof memory, 0, 0, 0, WEFT_OK, NULL, 0};
  assert_int_equal(weft_stream_read_into(NULL, b, NULL, on_read, &l), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_into(NULL, b, lend, NULL, &l), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_into(NULL, NULL, lend, on_read, &l), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &l), WEFT_OK);
  read_record other = {0};
  assert_int_equal(weft_stream_read(NULL, b, 8, record_read, &other), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &l), WEFT_ERR_INVALID_STATE);
  assert_int_equal(l.calls, 0);
  /* Closing with the read pending: CANCELLED, once, and no memory asked. */
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, WEFT_ERR_CANCELLED);
  assert_int_equal(l.asked, 0);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(l.calls, 1);
  assert_true(misuse.count >= 3);
  misuse_recorder_remove();
}

/* Reads 4 MiB from the peer into one 100 KiB buffer, each read asking again
 * from its callback, as a protocol would. */
typedef struct bulk_reader {
  weft_stream_t* stream;
  char* memory;
  size_t size;
  char* received;
  size_t total;
  int reads;
  int done;
  weft_status failed;
} bulk_reader;

static void* bulk_lend(void* user, size_t* len) {
  bulk_reader* r = user;
  *len = r->size;
  return r->memory;
}

static void bulk_read(void* user, weft_status status, const char* message, const void* bytes,
                      size_t len) {
  (void)message;
  bulk_reader* r = user;
  if (status != WEFT_OK) {
    r->failed = status;
    r->done = 1;
    return;
  }
  r->reads++;
  memcpy(r->received + r->total, bytes, len);
  r->total += len;
  weft_status s = weft_stream_read_into(NULL, r->stream, bulk_lend, bulk_read, r);
  if (s != WEFT_OK) {
    r->failed = s;
    r->done = 1;
  }
}

static void test_read_into__streams_4_mib_intact(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  const size_t size = 4u << 20;
  char* sent = malloc(size);
  bulk_reader r = {b, malloc(100 * 1024), 100 * 1024, malloc(size + 1), 0, 0, 0, WEFT_OK};
  assert_non_null(sent);
  for (size_t i = 0; i < size; ++i) sent[i] = (char)(i * 131 / 4099);
  assert_int_equal(weft_stream_read_into(NULL, b, bulk_lend, bulk_read, &r), WEFT_OK);
  assert_int_equal(weft_stream_write(NULL, a, sent, size, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(NULL, a, NULL, NULL), WEFT_OK);
  assert_true(run_until(f->loop, &r.done));
  assert_int_equal(r.failed, WEFT_ERR_END_OF_FILE);
  assert_int_equal(r.total, size);
  assert_memory_equal(r.received, sent, size);
  assert_true(r.reads >= (int)(size / r.size));
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  free(sent);
  free(r.memory);
  free(r.received);
}

static void test_read_into__steady_reads_allocate_nothing(void** state) {
  fixture* f = FIXTURE(state);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  char memory[64];
  size_t allocations = 0;
  for (int i = 0; i < 22; ++i) {
    if (i == 2) {
      pthread_mutex_lock(&f->allocator.mutex);
      allocations = f->allocator.total_allocations;
      pthread_mutex_unlock(&f->allocator.mutex);
    }
    lender l = {memory, sizeof memory, 0, 0, 0, WEFT_OK, NULL, 0};
    assert_int_equal(weft_stream_read_into(NULL, b, lend, on_read, &l), WEFT_OK);
    stream_write_text(a, "tick");
    assert_true(run_until(f->loop, &l.calls));
    assert_int_equal(l.len, 4);
  }
  pthread_mutex_lock(&f->allocator.mutex);
  assert_int_equal(f->allocator.total_allocations, allocations);
  pthread_mutex_unlock(&f->allocator.mutex);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_read_into__bytes_land_in_the_lent_memory, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_read_into__buffered_bytes_are_copied, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_read_into__declining_takes_nothing, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_read_into__bad_input_and_closing, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_read_into__streams_4_mib_intact, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_read_into__steady_reads_allocate_nothing, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
