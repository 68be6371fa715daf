/* Timers: deadline order on a manual clock, cancellation, stale handles. */
#include <string.h>

#include "tests/capi/support.h"

#define MS WEFT_MS(1)

static void test_timer__fires_in_deadline_order_never_early(void** state) {
  fixture* f = FIXTURE(state);
  int sequence = 0;
  call_record r[4];
  memset(r, 0, sizeof(r));
  const uint64_t delays[4] = {30 * MS, 10 * MS, 20 * MS, 10 * MS};
  for (int i = 0; i < 4; ++i) {
    r[i].sequence = &sequence;
    assert_int_equal(weft_loop_call_later(NULL, f->loop, delays[i], record_callback, &r[i]), WEFT_OK);
  }
  assert_int_equal(weft_loop_advance_clock(f->loop, 10 * MS - 1), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(sequence, 0); /* 1 ns early: nothing */
  assert_int_equal(weft_loop_advance_clock(f->loop, 1), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(sequence, 2);
  assert_int_equal(r[1].order, 0); /* equal deadlines: in arming order */
  assert_int_equal(r[3].order, 1);
  assert_int_equal(weft_loop_advance_clock(f->loop, 100 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r[2].order, 2);
  assert_int_equal(r[0].order, 3);
  for (int i = 0; i < 4; ++i) assert_int_equal(r[i].status, WEFT_OK);
}

static void test_timer__call_at_uses_the_loop_clock(void** state) {
  fixture* f = FIXTURE(state);
  call_record past = {0}, later = {0};
  assert_int_equal(weft_loop_advance_clock(f->loop, 50 * MS), WEFT_OK);
  assert_int_equal(weft_loop_call_at(NULL, f->loop, 10 * MS, record_callback, &past), WEFT_OK);
  assert_int_equal(weft_loop_call_at(NULL, f->loop, 60 * MS, record_callback, &later), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(past.calls, 1);
  assert_int_equal(later.calls, 0);
  assert_int_equal(weft_loop_advance_clock(f->loop, 10 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(later.calls, 1);
}

static void test_timer__cancel_calls_back_at_once_and_makes_the_handle_stale(void** state) {
  fixture* f = FIXTURE(state);
  call_record r = {0};
  weft_future_t* timer = NULL;
  assert_int_equal(weft_loop_call_later(&timer, f->loop, 5 * MS, record_callback, &r), WEFT_OK);
  assert_non_null(timer);
  assert_int_equal(weft_future_cancel(timer), WEFT_OK);
  assert_int_equal(r.calls, 1); /* inside weft_future_cancel */
  assert_int_equal(r.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_cancel(timer), WEFT_ERR_ALREADY_COMPLETED);
  weft_status status = WEFT_OK;
  assert_int_equal(weft_future_result(&status, NULL, NULL, timer), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_release(timer), WEFT_OK);
  assert_int_equal(weft_future_cancel(timer), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_advance_clock(f->loop, 10 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.calls, 1); /* never again */
}

static void test_timer__a_fired_timers_handle_is_stale(void** state) {
  fixture* f = FIXTURE(state);
  call_record r = {0};
  weft_future_t* timer = NULL;
  assert_int_equal(weft_loop_call_later(&timer, f->loop, 1, record_callback, &r), WEFT_OK);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.calls, 1);
  /* Fired: its future is resolved (NONE) and can no longer be cancelled. */
  assert_int_equal(weft_future_cancel(timer), WEFT_ERR_ALREADY_COMPLETED);
  weft_status status = WEFT_ERR_UNKNOWN;
  weft_value value = weft_value_int64(1);
  assert_int_equal(weft_future_result(&status, &value, NULL, timer), WEFT_OK);
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_int_equal(r.calls, 1);
  assert_int_equal(weft_future_release(timer), WEFT_OK);
  assert_int_equal(weft_future_cancel(timer), WEFT_ERR_STALE_HANDLE);
}

typedef struct canceller {
  weft_future_t* victim;
  weft_status result;
} canceller;

static void cancel_other(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  canceller* c = user;
  c->result = weft_future_cancel(c->victim);
}

static void test_timer__a_timer_callback_may_cancel_another(void** state) {
  fixture* f = FIXTURE(state);
  call_record victim = {0};
  canceller c = {NULL, WEFT_ERR_UNKNOWN};
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 1 * MS, cancel_other, &c), WEFT_OK);
  assert_int_equal(weft_loop_call_later(&c.victim, f->loop, 1 * MS, record_callback, &victim), WEFT_OK);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  /* Both were due in the same pass; the first cancelled the second first. */
  assert_int_equal(c.result, WEFT_OK);
  assert_int_equal(victim.calls, 1);
  assert_int_equal(victim.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_release(c.victim), WEFT_OK);
}

static void test_timer__many_timers_all_fire_once(void** state) {
  fixture* f = FIXTURE(state);
  enum { N = 5000 };
  static call_record r[N];
  memset(r, 0, sizeof(r));
  static weft_future_t* handles[N];
  memset(handles, 0, sizeof(handles));
  for (int i = 0; i < N; ++i) {
    uint64_t delay = (uint64_t)((i * 7919) % 1000) * MS;
    assert_int_equal(weft_loop_call_later(i % 2 ? &handles[i] : NULL, f->loop, delay, record_callback, &r[i]),
                     WEFT_OK);
  }
  for (int i = 1; i < N; i += 4) assert_int_equal(weft_future_cancel(handles[i]), WEFT_OK);
  weft_stats stats = WEFT_STATS_INIT;
  assert_int_equal(weft_runtime_stats(&stats, f->runtime), WEFT_OK);
  assert_int_equal(stats.timers_pending, N - N / 4);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1000 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < N; ++i) {
    assert_int_equal(r[i].calls, 1);
    assert_int_equal(r[i].status, i % 4 == 1 ? WEFT_ERR_CANCELLED : WEFT_OK);
  }
  for (int i = 1; i < N; i += 2) assert_int_equal(weft_future_release(handles[i]), WEFT_OK);
}

static void test_timer__monotonic_timers_fire_after_their_delay(void** state) {
  fixture* f = FIXTURE(state);
  call_record r = {0};
  uint64_t start, end;
  weft_loop_now(&start, f->loop);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 15 * MS, record_callback, &r), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK); /* waits for it */
  weft_loop_now(&end, f->loop);
  assert_int_equal(r.calls, 1);
  assert_true(end - start >= 15 * MS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_timer__fires_in_deadline_order_never_early, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_timer__call_at_uses_the_loop_clock, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_timer__cancel_calls_back_at_once_and_makes_the_handle_stale,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_timer__a_fired_timers_handle_is_stale, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_timer__a_timer_callback_may_cancel_another, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_timer__many_timers_all_fire_once, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_timer__monotonic_timers_fire_after_their_delay, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
