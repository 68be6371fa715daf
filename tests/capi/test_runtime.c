/* Runtimes: creation options, several per process, allocation failures,
 * destruction and what it does to what is still pending. */
#include <stdlib.h>
#include <string.h>

#include "tests/capi/support.h"

static void test_runtime__create_with_defaults(void** state) {
  (void)state;
  weft_runtime_t* rt = NULL;
  assert_int_equal(weft_runtime_create(&rt, NULL), WEFT_OK);
  assert_non_null(rt);
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_runtime_loop(&loop, rt), WEFT_OK);
  call_record r = {0};
  assert_int_equal(weft_loop_call_soon(loop, record_callback, &r), WEFT_OK);
  assert_int_equal(weft_loop_run(loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
}

static void test_runtime__options_init_matches_the_macro(void** state) {
  (void)state;
  weft_runtime_options a = WEFT_RUNTIME_OPTIONS_INIT;
  weft_runtime_options b;
  memset(&b, 0xAB, sizeof(b));
  assert_int_equal(weft_runtime_options_init(&b, sizeof(b)), WEFT_OK);
  assert_int_equal(b.struct_size, sizeof(b));
  assert_int_equal(b.threads, a.threads);
  assert_int_equal(b.clock, a.clock);
  assert_null(b.allocator.alloc);
  assert_null(b.name);
  assert_int_equal(weft_runtime_options_init(&b, 3), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_runtime_options_init(NULL, sizeof(b)), WEFT_ERR_INVALID_ARGUMENT);
}

static void test_runtime__several_runtimes_are_independent(void** state) {
  (void)state;
  enum { N = 4 };
  weft_runtime_t* rts[N];
  weft_loop_t* loops[N];
  call_record records[N];
  memset(records, 0, sizeof(records));
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 1;
  for (int i = 0; i < N; ++i) {
    assert_int_equal(weft_runtime_create(&rts[i], &options), WEFT_OK);
    assert_int_equal(weft_runtime_loop(&loops[i], rts[i]), WEFT_OK);
    assert_int_equal(weft_loop_call_soon(loops[i], record_callback, &records[i]), WEFT_OK);
  }
  /* Running one runs only its own callbacks. */
  assert_int_equal(weft_loop_run(loops[2], WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < N; ++i) assert_int_equal(records[i].calls, i == 2 ? 1 : 0);
  /* A loop handle of one runtime is not accepted as another's. */
  weft_future_t* f = NULL;
  assert_int_equal(weft_future_create(&f, loops[0]), WEFT_OK);
  assert_int_equal(weft_future_then(f, loops[1], NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_future_release(f), WEFT_OK);
  for (int i = 0; i < N; ++i) assert_int_equal(weft_runtime_destroy(rts[i]), WEFT_OK);
  /* The ones never run got their callback at destruction, cancelled. */
  for (int i = 0; i < N; ++i) {
    assert_int_equal(records[i].calls, 1);
    assert_int_equal(records[i].status, i == 2 ? WEFT_OK : WEFT_ERR_CANCELLED);
  }
}

static void test_runtime__struct_size_is_checked(void** state) {
  (void)state;
  weft_runtime_t* rt = NULL;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.struct_size = 8;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(rt);
  options.struct_size = 0;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_ERR_INVALID_ARGUMENT);

  /* A caller built against newer headers: larger, zero beyond what we know. */
  struct {
    weft_runtime_options known;
    uint64_t future_field;
  } newer;
  memset(&newer, 0, sizeof(newer));
  weft_runtime_options defaults = WEFT_RUNTIME_OPTIONS_INIT;
  newer.known = defaults;
  newer.known.struct_size = sizeof(newer);
  assert_int_equal(weft_runtime_create(&rt, &newer.known), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  rt = NULL;
  /* ...but a field it sets that this library does not know is refused. */
  newer.future_field = 7;
  assert_int_equal(weft_runtime_create(&rt, &newer.known), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(rt);
}

static void test_runtime__invalid_options_are_refused(void** state) {
  (void)state;
  weft_runtime_t* rt = NULL;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.clock = (weft_clock_kind)7;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_ERR_INVALID_ARGUMENT);
  options.clock = WEFT_CLOCK_MONOTONIC;
  tracking_allocator t;
  tracking_init(&t);
  options.allocator = tracking_hooks(&t);
  options.allocator.free = NULL;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_runtime_create(NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(rt);
  assert_int_equal(t.total_allocations, 0);
}

/* Refuse the k-th allocation for every k until creation needs no more:
 * each refusal must fail cleanly with NO_MEMORY and leak nothing. */
static void test_runtime__allocation_failures_leak_nothing(void** state) {
  (void)state;
  int refused = 0;
  for (long k = 0;; ++k) {
    tracking_allocator t;
    tracking_init(&t);
    t.fail_at = k;
    weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
    options.threads = 1;
    options.allocator = tracking_hooks(&t);
    weft_runtime_t* rt = NULL;
    weft_status s = weft_runtime_create(&rt, &options);
    if (s == WEFT_OK) {
      /* Past the last allocation creation makes: also exercise one future. */
      weft_loop_t* loop;
      weft_runtime_loop(&loop, rt);
      weft_future_t* f = NULL;
      weft_status fs = weft_future_create(&f, loop);
      assert_true(fs == WEFT_OK || fs == WEFT_ERR_NO_MEMORY);
      if (fs == WEFT_OK) weft_future_release(f);
      assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
      assert_int_equal(tracking_live_blocks(&t), 0);
      if ((size_t)k > t.total_allocations) break;
      continue;
    }
    ++refused;
    assert_int_equal(s, WEFT_ERR_NO_MEMORY);
    assert_null(rt);
    assert_int_equal(tracking_live_blocks(&t), 0);
    pthread_mutex_destroy(&t.mutex);
  }
  assert_true(refused >= 3); /* runtime, its name, root scope, pool, ... */
}

static void test_runtime__destroy_null_and_twice(void** state) {
  (void)state;
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  assert_int_equal(weft_runtime_destroy(NULL), WEFT_OK);
  weft_runtime_t* rt = NULL;
  assert_int_equal(weft_runtime_create(&rt, NULL), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_ERR_STALE_HANDLE);
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_runtime_loop(&loop, rt), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(misuse.count, 2);
  assert_string_equal(misuse.last_function, "weft_runtime_loop");
  misuse_recorder_remove();
}

typedef struct destroy_inside {
  weft_runtime_t* rt;
  weft_status status;
} destroy_inside;

static void destroy_from_callback(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  destroy_inside* d = user;
  d->status = weft_runtime_destroy(d->rt);
}

static void test_runtime__destroy_inside_a_callback_is_refused(void** state) {
  fixture* f = FIXTURE(state);
  destroy_inside d = {f->runtime, WEFT_OK};
  assert_int_equal(weft_loop_call_soon(f->loop, destroy_from_callback, &d), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(d.status, WEFT_ERR_INVALID_STATE);
}

static void* destroy_on_thread(void* arg) {
  destroy_inside* d = arg;
  d->status = weft_runtime_destroy(d->rt);
  return NULL;
}

static void test_runtime__destroy_from_another_thread_is_refused(void** state) {
  fixture* f = FIXTURE(state);
  destroy_inside d = {f->runtime, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, destroy_on_thread, &d), 0);
  pthread_join(thread, NULL);
  assert_int_equal(d.status, WEFT_ERR_WRONG_THREAD);
}

typedef struct future_seen {
  int calls;
  weft_status status;
} future_seen;

static void on_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                      const char* message) {
  (void)future;
  (void)value;
  (void)message;
  future_seen* s = user;
  s->calls++;
  s->status = status;
}

static void free_counter(void* p) { ++*(int*)p; }

static void test_runtime__destroy_cancels_everything_pending(void** state) {
  (void)state;
  tracking_allocator t;
  tracking_init(&t);
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.clock = WEFT_CLOCK_MANUAL;
  options.threads = 1;
  options.allocator = tracking_hooks(&t);
  weft_runtime_t* rt;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_OK);
  weft_loop_t* loop;
  weft_runtime_loop(&loop, rt);

  call_record soon = {0}, timer = {0}, posted = {0};
  assert_int_equal(weft_loop_call_soon(loop, record_callback, &soon), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, loop, 1000000000ull, record_callback, &timer), WEFT_OK);
  assert_int_equal(weft_loop_call_soon_threadsafe(loop, record_callback, &posted), WEFT_OK);
  weft_future_t* pending;
  future_seen seen = {0};
  assert_int_equal(weft_future_create(&pending, loop), WEFT_OK);
  assert_int_equal(weft_future_then(pending, loop, on_future, &seen), WEFT_OK);
  /* A resolved future still held by the program, holding a pointer value. */
  int freed = 0;
  weft_future_t* held;
  assert_int_equal(weft_future_create(&held, loop), WEFT_OK);
  weft_value v = weft_value_pointer(&freed, free_counter);
  assert_int_equal(weft_future_resolve(held, &v), WEFT_OK);

  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  assert_int_equal(soon.calls, 1);
  assert_int_equal(soon.status, WEFT_ERR_CANCELLED);
  assert_int_equal(timer.calls, 1);
  assert_int_equal(timer.status, WEFT_ERR_CANCELLED);
  assert_int_equal(posted.calls, 1);
  assert_int_equal(posted.status, WEFT_ERR_CANCELLED);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.status, WEFT_ERR_CANCELLED);
  assert_int_equal(freed, 1); /* the value's destructor ran once */
  /* What the program still held is gone: its handles are stale, harmlessly. */
  assert_int_equal(weft_future_release(held), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_future_release(pending), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(tracking_live_blocks(&t), 0);
}

typedef struct reenter {
  weft_runtime_t* rt;
  weft_loop_t* loop;
  weft_status run, run_for, destroy;
  int calls;
} reenter;

static void try_to_run(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  reenter* r = user;
  r->calls++;
  r->run = weft_loop_run(r->loop, WEFT_RUN_NOWAIT);
  r->run_for = weft_loop_run_for(NULL, r->loop, 1000);
  r->destroy = weft_runtime_destroy(r->rt);
}

/* Callbacks weft calls outside a loop run — when a timer is cancelled, or
 * while the runtime is destroyed — are still callbacks: no run inside. */
static void test_runtime__callbacks_called_outside_a_run_cannot_run_the_loop(void** state) {
  (void)state;
  weft_runtime_t* rt;
  assert_int_equal(weft_runtime_create(&rt, NULL), WEFT_OK);
  weft_loop_t* loop;
  weft_runtime_loop(&loop, rt);
  reenter cancelled = {rt, loop, WEFT_OK, WEFT_OK, WEFT_OK, 0};
  weft_future_t* timer;
  assert_int_equal(weft_loop_call_later(&timer, loop, WEFT_SEC(1), try_to_run, &cancelled), WEFT_OK);
  assert_int_equal(weft_future_cancel(timer), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(weft_future_release(timer), WEFT_OK);
  assert_int_equal(cancelled.run, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(cancelled.run_for, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(cancelled.destroy, WEFT_ERR_INVALID_STATE);

  reenter at_destroy = {rt, loop, WEFT_OK, WEFT_OK, WEFT_OK, 0};
  assert_int_equal(weft_loop_call_later(NULL, loop, WEFT_SEC(1), try_to_run, &at_destroy), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  assert_int_equal(at_destroy.calls, 1);
  assert_int_equal(at_destroy.run, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(at_destroy.destroy, WEFT_ERR_INVALID_STATE);
}

static void test_runtime__handles_of_a_destroyed_runtime_stay_stale(void** state) {
  (void)state;
  weft_runtime_t* old_rt;
  assert_int_equal(weft_runtime_create(&old_rt, NULL), WEFT_OK);
  weft_loop_t* old_loop;
  weft_runtime_loop(&old_loop, old_rt);
  weft_future_t* old_timer;
  assert_int_equal(weft_loop_call_later(&old_timer, old_loop, 1000, record_callback, &(call_record){0}),
                   WEFT_OK);
  assert_int_equal(weft_runtime_destroy(old_rt), WEFT_OK);
  /* New runtimes reuse the table's slots; the old handles must not match. */
  for (int i = 0; i < 3; ++i) {
    weft_runtime_t* rt;
    assert_int_equal(weft_runtime_create(&rt, NULL), WEFT_OK);
    weft_loop_t* loop;
    weft_runtime_loop(&loop, rt);
    weft_future_t* timer;
    assert_int_equal(weft_loop_call_later(&timer, loop, 1000, record_callback, &(call_record){0}), WEFT_OK);
    assert_int_equal(weft_loop_call_soon(old_loop, record_callback, NULL), WEFT_ERR_STALE_HANDLE);
    assert_int_equal(weft_future_cancel(old_timer), WEFT_ERR_STALE_HANDLE);
    assert_int_equal(weft_future_release(old_timer), WEFT_ERR_STALE_HANDLE);
    assert_int_equal(weft_runtime_destroy(old_rt), WEFT_ERR_STALE_HANDLE);
    assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runtime__create_with_defaults),
      cmocka_unit_test(test_runtime__options_init_matches_the_macro),
      cmocka_unit_test(test_runtime__several_runtimes_are_independent),
      cmocka_unit_test(test_runtime__struct_size_is_checked),
      cmocka_unit_test(test_runtime__invalid_options_are_refused),
      cmocka_unit_test(test_runtime__allocation_failures_leak_nothing),
      cmocka_unit_test(test_runtime__destroy_null_and_twice),
      cmocka_unit_test_setup_teardown(test_runtime__destroy_inside_a_callback_is_refused, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_runtime__destroy_from_another_thread_is_refused, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test(test_runtime__destroy_cancels_everything_pending),
      cmocka_unit_test(test_runtime__callbacks_called_outside_a_run_cannot_run_the_loop),
      cmocka_unit_test(test_runtime__handles_of_a_destroyed_runtime_stay_stale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
