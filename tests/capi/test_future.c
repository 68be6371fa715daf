/* Futures: completion from any thread, callbacks on the loop thread in
 * order, values and their ownership, cancellation, references. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/capi/support.h"

typedef struct seen {
  int calls;
  weft_status status;
  weft_value value;
  char text[64];
  char message[128];
  pthread_t thread;
  int order;
  int* sequence;
  weft_future_t* future;
} seen;

static void on_done(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                    const char* message) {
  seen* s = user;
  s->calls++;
  s->status = status;
  s->value = *value;
  s->future = future;
  s->thread = pthread_self();
  if (value->kind == WEFT_VALUE_STRING || value->kind == WEFT_VALUE_BYTES) {
    size_t n = value->as.bytes.size < sizeof(s->text) - 1 ? value->as.bytes.size : sizeof(s->text) - 1;
    memcpy(s->text, value->as.bytes.data, n);
    s->text[n] = '\0';
  }
  snprintf(s->message, sizeof(s->message), "%s", message != NULL ? message : "(null)");
  if (s->sequence != NULL) s->order = (*s->sequence)++;
}

static void count_destroy(void* p) { ++*(int*)p; }

static void test_future__resolve_delivers_the_value_on_the_loop(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  assert_int_equal(weft_future_create(&fut, f->loop), WEFT_OK);
  seen s = {0};
  assert_int_equal(weft_future_then(fut, f->loop, on_done, &s), WEFT_OK);
  char buffer[8] = "hello";
  weft_value v = weft_value_string(buffer);
  assert_int_equal(weft_future_resolve(fut, &v), WEFT_OK);
  strcpy(buffer, "XXXXX"); /* the string was copied during resolve */
  assert_int_equal(s.calls, 0); /* never inside resolve */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.status, WEFT_OK);
  assert_int_equal(s.value.kind, WEFT_VALUE_STRING);
  assert_string_equal(s.text, "hello");
  assert_string_equal(s.message, "(null)");
  assert_ptr_equal(s.future, fut);
  assert_true(pthread_equal(s.thread, pthread_self()));
  assert_int_equal(weft_future_release(fut), WEFT_OK);
}

static void test_future__callbacks_run_in_registration_order_never_inline(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  assert_int_equal(weft_future_create(&fut, f->loop), WEFT_OK);
  int sequence = 0;
  seen s[4];
  memset(s, 0, sizeof(s));
  for (int i = 0; i < 2; ++i) {
    s[i].sequence = &sequence;
    assert_int_equal(weft_future_then(fut, f->loop, on_done, &s[i]), WEFT_OK);
  }
  weft_value v = weft_value_int64(9);
  assert_int_equal(weft_future_resolve(fut, &v), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  /* Registered after completion: queued, still not run inside then(). */
  for (int i = 2; i < 4; ++i) {
    s[i].sequence = &sequence;
    assert_int_equal(weft_future_then(fut, f->loop, on_done, &s[i]), WEFT_OK);
    assert_int_equal(s[i].calls, 0);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < 4; ++i) {
    assert_int_equal(s[i].calls, 1);
    assert_int_equal(s[i].order, i);
    assert_int_equal(s[i].value.as.int64, 9);
  }
  assert_int_equal(weft_future_release(fut), WEFT_OK);
}

static void test_future__reject_carries_status_and_message(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t *a, *b, *c;
  weft_future_create(&a, f->loop);
  weft_future_create(&b, f->loop);
  weft_future_create(&c, f->loop);
  seen sa = {0}, sb = {0}, sc = {0};
  weft_future_then(a, f->loop, on_done, &sa);
  weft_future_then(b, f->loop, on_done, &sb);
  weft_future_then(c, f->loop, on_done, &sc);
  assert_int_equal(weft_future_reject(a, WEFT_ERR_TIMED_OUT, "the server did not answer"), WEFT_OK);
  assert_int_equal(weft_future_reject(b, WEFT_ERR_CLOSED, NULL), WEFT_OK);
  assert_int_equal(weft_future_reject(c, (weft_status)(WEFT_STATUS_USER - 5), "app says no"), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(sa.status, WEFT_ERR_TIMED_OUT);
  assert_string_equal(sa.message, "the server did not answer");
  assert_int_equal(sa.value.kind, WEFT_VALUE_NONE);
  assert_int_equal(sb.status, WEFT_ERR_CLOSED);
  assert_string_equal(sb.message, weft_status_str(WEFT_ERR_CLOSED));
  assert_int_equal(sc.status, WEFT_STATUS_USER - 5);
  assert_string_equal(sc.message, "app says no");
  weft_future_release(a);
  weft_future_release(b);
  weft_future_release(c);
}

static void test_future__reject_refuses_statuses_that_are_not_failures(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  assert_int_equal(weft_future_reject(fut, WEFT_OK, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_future_reject(fut, (weft_status)3, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_future_reject(fut, (weft_status)-500, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_future_result(NULL, NULL, NULL, fut), WEFT_ERR_NOT_READY);
  weft_value bad;
  bad.kind = (weft_value_kind)99;
  assert_int_equal(weft_future_resolve(fut, &bad), WEFT_ERR_INVALID_ARGUMENT);
  bad = weft_value_bytes(NULL, 4);
  assert_int_equal(weft_future_resolve(fut, &bad), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_future_result(NULL, NULL, NULL, fut), WEFT_ERR_NOT_READY);
  assert_int_equal(weft_future_resolve(fut, NULL), WEFT_OK); /* NULL: NONE */
  weft_status status = WEFT_ERR_UNKNOWN;
  weft_value value = weft_value_int64(1);
  const char* message = "x";
  assert_int_equal(weft_future_result(&status, &value, &message, fut), WEFT_OK);
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_null(message);
  weft_future_release(fut);
}

static void test_future__complete_only_once(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  weft_value one = weft_value_int64(1);
  assert_int_equal(weft_future_resolve(fut, &one), WEFT_OK);
  int destroyed = 0;
  weft_value p = weft_value_pointer(&destroyed, count_destroy);
  assert_int_equal(weft_future_resolve(fut, &p), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(weft_future_reject(fut, WEFT_ERR_TIMED_OUT, NULL), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(weft_future_cancel(fut), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(destroyed, 0); /* refused: the pointer stayed the caller's */
  weft_value got;
  assert_int_equal(weft_future_result(NULL, &got, NULL, fut), WEFT_OK);
  assert_int_equal(got.as.int64, 1);
  weft_future_release(fut);
}

static void test_future__cancel_reaches_the_callbacks(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  seen s = {0};
  weft_future_then(fut, f->loop, on_done, &s);
  assert_int_equal(weft_future_cancel(fut), WEFT_OK);
  int destroyed = 0;
  weft_value p = weft_value_pointer(&destroyed, count_destroy);
  assert_int_equal(weft_future_resolve(fut, &p), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.status, WEFT_ERR_CANCELLED);
  weft_status status;
  assert_int_equal(weft_future_result(&status, NULL, NULL, fut), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  assert_int_equal(destroyed, 0);
  weft_future_release(fut);
}

static void test_future__a_pointer_value_is_destroyed_once_when_the_last_holder_goes(void** state) {
  fixture* f = FIXTURE(state);
  int destroyed = 0;
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  seen s = {0};
  weft_future_then(fut, f->loop, on_done, &s);
  weft_value p = weft_value_pointer(&destroyed, count_destroy);
  assert_int_equal(weft_future_resolve(fut, &p), WEFT_OK);
  assert_int_equal(weft_future_retain(fut), WEFT_OK);
  assert_int_equal(weft_future_release(fut), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(s.value.kind, WEFT_VALUE_POINTER);
  assert_ptr_equal(s.value.as.pointer.pointer, &destroyed);
  assert_int_equal(destroyed, 0); /* still held */
  assert_int_equal(weft_future_release(fut), WEFT_OK);
  assert_int_equal(destroyed, 1);
  assert_int_equal(weft_future_release(fut), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_future_release(NULL), WEFT_OK);
}

static void test_future__releasing_the_last_reference_breaks_the_promise(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  seen s = {0};
  weft_future_then(fut, f->loop, on_done, &s);
  assert_int_equal(weft_future_release(fut), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.status, WEFT_ERR_BROKEN_PROMISE);
}

typedef struct keeper {
  weft_future_t* kept;
} keeper;

static void keep_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                        const char* message) {
  (void)status;
  (void)value;
  (void)message;
  keeper* k = user;
  assert_int_equal(weft_future_retain(future), WEFT_OK);
  k->kept = future;
}

static void test_future__a_callback_may_keep_the_future(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  keeper k = {NULL};
  weft_future_then(fut, f->loop, keep_future, &k);
  weft_value v = weft_value_string("kept");
  weft_future_resolve(fut, &v);
  weft_future_release(fut); /* the program lets go before the callback */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_ptr_equal(k.kept, fut);
  weft_value got;
  assert_int_equal(weft_future_result(NULL, &got, NULL, k.kept), WEFT_OK);
  assert_int_equal(got.as.bytes.size, 4);
  assert_memory_equal(got.as.bytes.data, "kept", 5); /* NUL-terminated copy */
  assert_int_equal(weft_future_release(k.kept), WEFT_OK);
}

typedef struct resolver_args {
  weft_future_t** futures;
  int count;
} resolver_args;

static void* resolve_all(void* arg) {
  resolver_args* a = arg;
  for (int i = 0; i < a->count; ++i) {
    weft_value v = weft_value_int64(i);
    assert_int_equal(weft_future_resolve(a->futures[i], &v), WEFT_OK);
  }
  return NULL;
}

static void sum_values(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                       const char* message) {
  (void)future;
  (void)message;
  assert_int_equal(status, WEFT_OK);
  int64_t* sum = user;
  *sum += value->as.int64;
}

static void test_future__resolved_on_other_threads_called_back_on_the_loop(void** state) {
  fixture* f = FIXTURE(state);
  enum { THREADS = 3, EACH = 1000 };
  static weft_future_t* futures[THREADS][EACH];
  int64_t sum = 0;
  for (int t = 0; t < THREADS; ++t) {
    for (int i = 0; i < EACH; ++i) {
      assert_int_equal(weft_future_create(&futures[t][i], f->loop), WEFT_OK);
      assert_int_equal(weft_future_then(futures[t][i], f->loop, sum_values, &sum), WEFT_OK);
    }
  }
  pthread_t threads[THREADS];
  resolver_args args[THREADS];
  for (int t = 0; t < THREADS; ++t) {
    args[t] = (resolver_args){futures[t], EACH};
    pthread_create(&threads[t], NULL, resolve_all, &args[t]);
  }
  /* run() keeps going while callbacks wait: no join needed first. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int t = 0; t < THREADS; ++t) pthread_join(threads[t], NULL);
  assert_int_equal(sum, (int64_t)THREADS * EACH * (EACH - 1) / 2);
  for (int t = 0; t < THREADS; ++t)
    for (int i = 0; i < EACH; ++i) weft_future_release(futures[t][i]);
}

typedef struct race_args {
  weft_future_t** futures;
  int* destroyed;
  int count;
  int wins;
} race_args;

static void* race_resolve(void* arg) {
  race_args* a = arg;
  for (int i = 0; i < a->count; ++i) {
    weft_value v = weft_value_pointer(&a->destroyed[i], count_destroy);
    weft_status s = weft_future_resolve(a->futures[i], &v);
    if (s == WEFT_OK) {
      a->wins++;
    } else {
      assert_int_equal(s, WEFT_ERR_ALREADY_COMPLETED);
      a->destroyed[i] += 100; /* still ours: "freed" here instead */
    }
  }
  return NULL;
}

static void* race_cancel(void* arg) {
  race_args* a = arg;
  for (int i = a->count - 1; i >= 0; --i) {
    if (weft_future_cancel(a->futures[i]) == WEFT_OK) a->wins++;
  }
  return NULL;
}

static void test_future__resolve_and_cancel_race_with_one_winner(void** state) {
  fixture* f = FIXTURE(state);
  enum { N = 2000 };
  static weft_future_t* futures[N];
  static int destroyed[N];
  memset(destroyed, 0, sizeof(destroyed));
  for (int i = 0; i < N; ++i) assert_int_equal(weft_future_create(&futures[i], f->loop), WEFT_OK);
  race_args resolver = {futures, destroyed, N, 0}, canceller = {futures, destroyed, N, 0};
  pthread_t a, b;
  pthread_create(&a, NULL, race_resolve, &resolver);
  pthread_create(&b, NULL, race_cancel, &canceller);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  assert_int_equal(resolver.wins + canceller.wins, N);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < N; ++i) weft_future_release(futures[i]);
  /* Each pointer was freed exactly once, by weft or by its owner. */
  for (int i = 0; i < N; ++i) assert_true(destroyed[i] == 1 || destroyed[i] == 100);
}

static void* then_from_thread(void* arg) {
  void** a = arg;
  *(weft_status*)a[2] = weft_future_then(a[0], a[1], on_done, NULL);
  return NULL;
}

static void test_future__misuse_is_refused(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  assert_int_equal(weft_future_then(fut, f->loop, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_future_create(NULL, f->loop), WEFT_ERR_INVALID_ARGUMENT);
  weft_status from_thread = WEFT_OK;
  void* args[3] = {fut, f->loop, &from_thread};
  pthread_t t;
  pthread_create(&t, NULL, then_from_thread, args);
  pthread_join(t, NULL);
  assert_int_equal(from_thread, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_future_set_name(fut, "named"), WEFT_OK);
  assert_int_equal(weft_future_set_name(fut, NULL), WEFT_OK);
  weft_future_release(fut);
  assert_int_equal(weft_future_cancel(fut), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_future_then(fut, f->loop, on_done, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_future_retain(fut), WEFT_ERR_STALE_HANDLE);
  /* A loop handle is not a future handle. */
  assert_int_equal(weft_future_cancel((weft_future_t*)f->loop), WEFT_ERR_INVALID_HANDLE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_future__resolve_delivers_the_value_on_the_loop, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__callbacks_run_in_registration_order_never_inline,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__reject_carries_status_and_message, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__reject_refuses_statuses_that_are_not_failures,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__complete_only_once, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__cancel_reaches_the_callbacks, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__a_pointer_value_is_destroyed_once_when_the_last_holder_goes,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__releasing_the_last_reference_breaks_the_promise,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__a_callback_may_keep_the_future, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__resolved_on_other_threads_called_back_on_the_loop,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__resolve_and_cancel_race_with_one_winner, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_future__misuse_is_refused, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
