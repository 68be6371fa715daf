/* weft_future_all, weft_future_any, weft_future_with_timeout. */
#include <string.h>

#include "tests/capi/support.h"

#define MS 1000000ull

typedef struct outcome {
  int calls;
  weft_status status;
  int64_t int64;
  weft_value_kind kind;
  void* pointer;
} outcome;

static void on_outcome(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                       const char* message) {
  (void)future;
  (void)message;
  outcome* o = user;
  o->calls++;
  o->status = status;
  o->kind = value->kind;
  if (value->kind == WEFT_VALUE_INT64) o->int64 = value->as.int64;
  if (value->kind == WEFT_VALUE_POINTER) o->pointer = value->as.pointer.pointer;
}

static void make(weft_loop_t* loop, weft_future_t** out, int n) {
  for (int i = 0; i < n; ++i) assert_int_equal(weft_future_create(&out[i], loop), WEFT_OK);
}

static void release_all(weft_future_t** futures, int n) {
  for (int i = 0; i < n; ++i) assert_int_equal(weft_future_release(futures[i]), WEFT_OK);
}

static void test_combinators__all_resolves_when_every_input_has(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in[3];
  make(f->loop, in, 3);
  weft_future_t* all;
  assert_int_equal(weft_future_all(&all, f->loop, in, 3), WEFT_OK);
  outcome o = {0};
  weft_future_then(all, f->loop, on_outcome, &o);
  for (int i = 2; i >= 0; --i) {
    assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
    assert_int_equal(o.calls, 0);
    weft_value v = weft_value_int64(i);
    weft_future_resolve(in[i], &v);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(o.calls, 1);
  assert_int_equal(o.status, WEFT_OK);
  assert_int_equal(o.kind, WEFT_VALUE_NONE);
  release_all(in, 3);
  weft_future_release(all);
}

static void test_combinators__all_fails_with_the_first_failure(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in[3];
  make(f->loop, in, 3);
  weft_future_t* all;
  assert_int_equal(weft_future_all(&all, f->loop, in, 3), WEFT_OK);
  outcome o = {0};
  weft_future_then(all, f->loop, on_outcome, &o);
  weft_future_resolve(in[0], NULL);
  weft_future_reject(in[2], WEFT_ERR_TIMED_OUT, "slow");
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(o.status, WEFT_ERR_TIMED_OUT);
  weft_status status;
  const char* message;
  assert_int_equal(weft_future_result(&status, NULL, &message, all), WEFT_OK);
  assert_string_equal(message, "slow");
  /* The other input is untouched (not cancelled). */
  assert_int_equal(weft_future_result(NULL, NULL, NULL, in[1]), WEFT_ERR_NOT_READY);
  weft_future_resolve(in[1], NULL);
  release_all(in, 3);
  weft_future_release(all);
}

static void test_combinators__all_of_nothing_is_resolved(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* all;
  assert_int_equal(weft_future_all(&all, f->loop, NULL, 0), WEFT_OK);
  weft_status status = WEFT_ERR_UNKNOWN;
  assert_int_equal(weft_future_result(&status, NULL, NULL, all), WEFT_OK);
  assert_int_equal(status, WEFT_OK);
  weft_future_release(all);
  assert_int_equal(weft_future_all(&all, f->loop, NULL, 2), WEFT_ERR_INVALID_ARGUMENT);
}

static void test_combinators__any_gives_the_index_of_the_first(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in[4];
  make(f->loop, in, 4);
  weft_future_t* any;
  assert_int_equal(weft_future_any(&any, f->loop, in, 4), WEFT_OK);
  outcome o = {0};
  weft_future_then(any, f->loop, on_outcome, &o);
  weft_future_reject(in[2], WEFT_ERR_CLOSED, NULL); /* a failure also counts */
  weft_future_resolve(in[1], NULL);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(o.calls, 1);
  assert_int_equal(o.status, WEFT_OK);
  assert_int_equal(o.kind, WEFT_VALUE_INT64);
  assert_int_equal(o.int64, 2);
  weft_future_t* none;
  assert_int_equal(weft_future_any(&none, f->loop, in, 0), WEFT_ERR_INVALID_ARGUMENT);
  weft_future_cancel(in[0]);
  weft_future_cancel(in[3]);
  release_all(in, 4);
  weft_future_release(any);
}

static void count_destroy(void* p) { ++*(int*)p; }

static void test_combinators__with_timeout_forwards_the_same_value(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in;
  make(f->loop, &in, 1);
  weft_future_t* timed;
  assert_int_equal(weft_future_with_timeout(&timed, f->loop, in, 50 * MS), WEFT_OK);
  outcome o = {0};
  weft_future_then(timed, f->loop, on_outcome, &o);
  int destroyed = 0;
  weft_value p = weft_value_pointer(&destroyed, count_destroy);
  weft_future_resolve(in, &p);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(o.status, WEFT_OK);
  assert_ptr_equal(o.pointer, &destroyed); /* shared, not copied */
  weft_future_release(in);
  assert_int_equal(destroyed, 0); /* the output still holds it */
  weft_future_release(timed);
  assert_int_equal(destroyed, 1);
}

static void test_combinators__with_timeout_times_out_and_cancels_the_input(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in;
  make(f->loop, &in, 1);
  outcome inner = {0}, outer = {0};
  weft_future_then(in, f->loop, on_outcome, &inner);
  weft_future_t* timed;
  assert_int_equal(weft_future_with_timeout(&timed, f->loop, in, 50 * MS), WEFT_OK);
  weft_future_then(timed, f->loop, on_outcome, &outer);
  assert_int_equal(weft_loop_advance_clock(f->loop, 49 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(outer.calls, 0);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(outer.status, WEFT_ERR_TIMED_OUT);
  assert_int_equal(inner.status, WEFT_ERR_CANCELLED);
  weft_future_release(in);
  weft_future_release(timed);
}

static void test_combinators__cancelling_the_result_cancels_pending_inputs(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in[3];
  make(f->loop, in, 3);
  weft_future_resolve(in[0], NULL);
  weft_future_t* all;
  assert_int_equal(weft_future_all(&all, f->loop, in, 3), WEFT_OK);
  assert_int_equal(weft_future_cancel(all), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  weft_status s0, s1, s2;
  weft_future_result(&s0, NULL, NULL, in[0]);
  weft_future_result(&s1, NULL, NULL, in[1]);
  weft_future_result(&s2, NULL, NULL, in[2]);
  assert_int_equal(s0, WEFT_OK);
  assert_int_equal(s1, WEFT_ERR_CANCELLED);
  assert_int_equal(s2, WEFT_ERR_CANCELLED);
  release_all(in, 3);
  weft_future_release(all);
}

static void test_combinators__inputs_are_checked_first(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* in[2];
  make(f->loop, in, 2);
  weft_future_t* bad[3] = {in[0], NULL, in[1]};
  weft_future_t* out = NULL;
  assert_int_equal(weft_future_all(&out, f->loop, bad, 3), WEFT_ERR_INVALID_HANDLE);
  assert_null(out);
  weft_future_release(in[1]);
  weft_future_t* stale[2] = {in[0], in[1]};
  assert_int_equal(weft_future_any(&out, f->loop, stale, 2), WEFT_ERR_STALE_HANDLE);
  assert_null(out);
  weft_future_release(in[0]);
  /* Nothing was created: the teardown's leak check proves it. */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_combinators__all_resolves_when_every_input_has, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__all_fails_with_the_first_failure, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__all_of_nothing_is_resolved, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__any_gives_the_index_of_the_first, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__with_timeout_forwards_the_same_value,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__with_timeout_times_out_and_cancels_the_input,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__cancelling_the_result_cancels_pending_inputs,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_combinators__inputs_are_checked_first, fixture_setup_manual,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
