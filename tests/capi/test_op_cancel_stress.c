/* Cancelling operations through their futures from another thread, while
 * the loop completes them: the one asynchronous model's promise that a
 * cancellation is a request, and that no result is ever dropped between the
 * two. Bounded in count and time; meant to run under tsan too.
 *
 * - timers: a thread cancels half of 400 timers' futures while they fire;
 *   every callback runs exactly once and its status is its future's.
 * - reads: a thread keeps cancelling the pending read's future while 64 KiB
 *   arrive on a socketpair in 512-byte drips; every byte is read exactly
 *   once, in order. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "tests/capi/support.h"

static void pause_us(long us) {
  struct timespec t = {0, us * 1000};
  nanosleep(&t, NULL);
}

/* ---- timers --------------------------------------------------------------- */

enum { kTimers = 400 };

typedef struct timer_world {
  weft_future_t* futures[kTimers];
  int calls[kTimers];
  weft_status status[kTimers];
  int done;
} timer_world;

typedef struct timer_slot {
  timer_world* world;
  int index;
} timer_slot;

static void on_timer(void* user, weft_status status, const char* message) {
  timer_slot* slot = user;
  char copy[64];
  check_message(status, message, copy, sizeof copy);
  slot->world->calls[slot->index]++;
  slot->world->status[slot->index] = status;
  slot->world->done++;
}

static void* cancel_even_timers(void* user) {
  timer_world* w = user;
  for (int i = 0; i < kTimers; i += 2) {
    const weft_status s = weft_future_cancel(w->futures[i]);
    assert_true(s == WEFT_OK || s == WEFT_ERR_ALREADY_COMPLETED);
    if (i % 16 == 0) pause_us(200);
  }
  return NULL;
}

static void test_op_cancel_stress__timers_cancelled_from_another_thread(void** state) {
  fixture* f = *state;
  static timer_world w;
  static timer_slot slots[kTimers];
  memset(&w, 0, sizeof w);
  for (int i = 0; i < kTimers; ++i) {
    slots[i] = (timer_slot){&w, i};
    /* Spread over 0..20 ms so that some fire before their cancel comes. */
    assert_int_equal(weft_loop_call_later(&w.futures[i], f->loop, WEFT_US(50) * (uint64_t)(i % 400),
                                          on_timer, &slots[i]),
                     WEFT_OK);
  }
  pthread_t canceller;
  assert_int_equal(pthread_create(&canceller, NULL, cancel_even_timers, &w), 0);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (w.done < kTimers) {
    assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
    clock_gettime(CLOCK_MONOTONIC, &now);
    assert_true(now.tv_sec - start.tv_sec < 10);
  }
  assert_int_equal(pthread_join(canceller, NULL), 0);
  spin_loop(f->loop, 2); /* cancel requests still queued find completed futures */
  int cancelled = 0;
  for (int i = 0; i < kTimers; ++i) {
    assert_int_equal(w.calls[i], 1);
    weft_status outcome = WEFT_OK;
    assert_int_equal(weft_future_result(&outcome, NULL, NULL, w.futures[i]), WEFT_OK);
    assert_int_equal(outcome, w.status[i]);
    if (i % 2 == 1) assert_int_equal(w.status[i], WEFT_OK); /* never cancelled */
    if (w.status[i] == WEFT_ERR_CANCELLED) cancelled++;
    assert_int_equal(weft_future_release(w.futures[i]), WEFT_OK);
  }
  print_message("%d of %d timers were cancelled before they fired\n", cancelled, kTimers / 2);
}

/* ---- reads ---------------------------------------------------------------- */

enum { kTotal = 64 * 1024, kMaxReads = 40000, kReadMax = 97 };

typedef struct read_world {
  weft_stream_t* reader;
  weft_future_t* futures[kMaxReads];
  weft_status status[kMaxReads];
  _Atomic int started; /* reads started (futures published to the canceller) */
  int completed;
  unsigned char received[kTotal];
  size_t received_len;
  _Atomic int stop;
} read_world;

static void start_read(read_world* w);

/* Feeds the socketpair 512 bytes at a time, every 200 us, so that reads
 * are often pending (and cancellable) when the canceller strikes. */
typedef struct drip {
  weft_loop_t* loop;
  weft_stream_t* writer;
  const unsigned char* bytes;
  size_t offset;
} drip;

static void on_drip(void* user, weft_status status, const char* message) {
  drip* d = user;
  char copy[64];
  check_message(status, message, copy, sizeof copy);
  if (status != WEFT_OK) return;
  const size_t n = kTotal - d->offset < 512 ? kTotal - d->offset : 512;
  assert_int_equal(weft_stream_write(NULL, d->writer, d->bytes + d->offset, n, NULL, NULL), WEFT_OK);
  d->offset += n;
  if (d->offset < kTotal) {
    assert_int_equal(weft_loop_call_later(NULL, d->loop, WEFT_US(200), on_drip, d), WEFT_OK);
  }
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  read_world* w = user;
  char copy[64];
  check_message(status, message, copy, sizeof copy);
  w->status[w->completed++] = status;
  if (status == WEFT_OK) {
    assert_true(w->received_len + len <= kTotal);
    memcpy(w->received + w->received_len, bytes, len);
    w->received_len += len;
  } else {
    assert_int_equal(status, WEFT_ERR_CANCELLED);
    assert_int_equal(len, 0);
  }
  if (w->received_len < kTotal) start_read(w);
}

static void start_read(read_world* w) {
  const int i = atomic_load(&w->started);
  assert_true(i < kMaxReads);
  assert_int_equal(weft_stream_read(&w->futures[i], w->reader, kReadMax, on_read, w), WEFT_OK);
  atomic_store(&w->started, i + 1); /* publishes futures[i] */
}

static void* cancel_reads(void* user) {
  read_world* w = user;
  while (!atomic_load(&w->stop)) {
    const int n = atomic_load(&w->started);
    if (n > 0) {
      const weft_status s = weft_future_cancel(w->futures[n - 1]);
      assert_true(s == WEFT_OK || s == WEFT_ERR_ALREADY_COMPLETED);
    }
    pause_us(30);
  }
  return NULL;
}

static void test_op_cancel_stress__no_byte_lost_to_a_cancel(void** state) {
  fixture* f = *state;
  static read_world w;
  memset(&w, 0, sizeof w);
  weft_stream_t* writer = NULL;
  stream_pair_open(f, &writer, &w.reader);
  static unsigned char sent[kTotal];
  for (size_t i = 0; i < kTotal; ++i) sent[i] = (unsigned char)(i * 7 + i / 251);
  drip d = {f->loop, writer, sent, 0};
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 0, on_drip, &d), WEFT_OK);
  start_read(&w);
  pthread_t canceller;
  assert_int_equal(pthread_create(&canceller, NULL, cancel_reads, &w), 0);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (w.received_len < kTotal) {
    assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
    clock_gettime(CLOCK_MONOTONIC, &now);
    assert_true(now.tv_sec - start.tv_sec < 20);
  }
  atomic_store(&w.stop, 1);
  assert_int_equal(pthread_join(canceller, NULL), 0);
  spin_loop(f->loop, 2);
  assert_memory_equal(w.received, sent, kTotal);
  const int n = atomic_load(&w.started);
  assert_int_equal(w.completed, n);
  int cancelled = 0;
  for (int i = 0; i < n; ++i) {
    weft_status outcome = WEFT_OK;
    weft_value value;
    assert_int_equal(weft_future_result(&outcome, &value, NULL, w.futures[i]), WEFT_OK);
    assert_int_equal(outcome, w.status[i]);
    if (outcome == WEFT_OK) assert_int_equal(value.kind, WEFT_VALUE_BYTES);
    if (outcome == WEFT_ERR_CANCELLED) cancelled++;
    assert_int_equal(weft_future_release(w.futures[i]), WEFT_OK);
  }
  print_message("%d reads, %d cancelled\n", n, cancelled);
  assert_int_equal(weft_stream_close(writer), WEFT_OK);
  assert_int_equal(weft_stream_close(w.reader), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_op_cancel_stress__timers_cancelled_from_another_thread,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_cancel_stress__no_byte_lost_to_a_cancel, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
