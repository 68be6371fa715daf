/* The fail-Nth sweep: every scenario of the table runs once per allocation
 * index N, with the runtime's allocator refusing the Nth allocation made
 * while the operation under test is armed (fail-once) and then every
 * allocation from the Nth on (fail-forever), until a run sees no refusal.
 *
 * Each run checks what the C API promises on error — "nothing was created,
 * started or taken": a status comes back (WEFT_OK or WEFT_ERR_NO_MEMORY),
 * a callback that was promised runs exactly once and one that was not never
 * runs, no byte is sent or consumed by a call that was refused (the peer
 * sees only what the caller was told was sent; the next read gets every
 * byte a refused read left), the runtime's allocator holds no block once
 * the runtime is destroyed (support.c's fixture_teardown), and every wait
 * is bounded (run_until gives up after 5 s).
 *
 * This file holds the table (main) and the runtime, timer, future,
 * executor, scope and teardown scenarios; the others are in the files
 * alloc_failure.h names. Runs on the test's main thread, which is the loop
 * thread; pool workers run the work functions. */
#include <stdatomic.h>
#include <string.h>

#include "tests/capi/alloc_failure.h"

/* ---- recorders ---------------------------------------------------------- */

typedef struct future_record {
  int calls;
  weft_status status;
  char message[200];
} future_record;

static void record_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                          const char* message) {
  (void)future;
  (void)value;
  future_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
}


/* ---- runtime and loop --------------------------------------------------- */

static void test_alloc_failure__runtime_create(void** state) {
  (void)state;
  /* A first runtime, refused nothing: what the process creates once and
   * keeps (the handle directory, this thread's frame pool) exists before
   * the core's blocks are counted. */
  void* warm = NULL;
  assert_int_equal(fixture_setup(&warm), 0);
  fixture_teardown(&warm);
  for (long index = 0; index < 400; ++index) {
    int untouched = 0;
    for (int forever = 0; forever <= 1; ++forever) {
      tracking_allocator t;
      tracking_init(&t);
      const long core_blocks_before = core_blocks_live();
#ifdef WEFT_SWEEP_OPERATOR_NEW
      const long refused_before = operator_new_refused();
      operator_new_arm(index, forever);
#else
      tracking_arm(&t, index, forever);
#endif
      weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
      options.threads = 1;
      options.allocator = tracking_hooks(&t);
      weft_runtime_t* runtime = NULL;
      weft_status status = weft_runtime_create(&runtime, &options);
      check_call_status(status);
      if (status == WEFT_OK) {
        weft_loop_t* loop = NULL;
        assert_int_equal(weft_runtime_loop(&loop, runtime), WEFT_OK);
        call_record soon = {0};
        weft_status queued = weft_loop_call_soon(loop, record_callback, &soon);
        check_call_status(queued);
        assert_int_equal(weft_loop_run(loop, WEFT_RUN_NOWAIT), WEFT_OK);
        assert_int_equal(soon.calls, queued == WEFT_OK ? 1 : 0);
        assert_int_equal(weft_runtime_destroy(runtime), WEFT_OK);
      } else {
        assert_null(runtime);
      }
#ifdef WEFT_SWEEP_OPERATOR_NEW
      operator_new_disarm();
      const int refused = operator_new_refused() != refused_before;
#else
      const int refused = tracking_refused(&t) != 0;
#endif
      assert_int_equal(tracking_live_blocks(&t), 0);
      assert_int_equal(t.mismatched_frees, 0);
      assert_int_equal(core_blocks_live(), core_blocks_before);
      if (!forever && !refused) untouched = 1;
      pthread_mutex_destroy(&t.mutex);
    }
    if (untouched) {
      report_sweep("runtime_create", index);
      return;
    }
  }
  fail_msg("runtime creation still met a refusal after 400 allocations");
}

static void timer_scenario(fixture* f) {
  call_record fired = {0};
  weft_future_t* future = NULL;
  arm(f);
  weft_status status = weft_loop_call_later(&future, f->loop, WEFT_MS(1), record_callback, &fired);
  check_call_status(status);
  check_promised(f, status, &fired.calls);
  disarm(f);
  if (status == WEFT_OK) {
    assert_int_equal(fired.status, WEFT_OK);
    assert_int_equal(weft_future_release(future), WEFT_OK);
  } else {
    assert_null(future);
  }
}

static void test_alloc_failure__timer(void** state) {
  (void)state;
  sweep(timer_scenario);
}

/* ---- futures and combinators -------------------------------------------- */

static void future_scenario(fixture* f) {
  weft_future_t* future = NULL;
  future_record then = {0};
  arm(f);
  weft_status created = weft_future_create(&future, f->loop);
  check_call_status(created);
  if (created != WEFT_OK) {
    disarm(f);
    assert_null(future);
    return;
  }
  weft_status attached = weft_future_then(future, f->loop, record_future, &then);
  check_call_status(attached);
  weft_status rejected = weft_future_reject(future, WEFT_ERR_IO_ERROR, "the disk said no");
  check_call_status(rejected);
  disarm(f);
  if (rejected != WEFT_OK) {
    /* Refused: the future is still pending, and can be rejected now. */
    weft_status outcome = WEFT_OK;
    weft_value value;
    const char* message = NULL;
    assert_int_equal(weft_future_result(&outcome, &value, &message, future), WEFT_ERR_NOT_READY);
    assert_int_equal(weft_future_reject(future, WEFT_ERR_IO_ERROR, "the disk said no"), WEFT_OK);
  }
  check_promised(f, attached, &then.calls);
  if (attached == WEFT_OK) {
    assert_int_equal(then.status, WEFT_ERR_IO_ERROR);
    assert_string_equal(then.message, "the disk said no");
  }
  weft_status outcome = WEFT_OK;
  weft_value value;
  const char* message = NULL;
  assert_int_equal(weft_future_result(&outcome, &value, &message, future), WEFT_OK);
  assert_int_equal(outcome, WEFT_ERR_IO_ERROR);
  assert_string_equal(message, "the disk said no");
  assert_int_equal(weft_future_release(future), WEFT_OK);
}

/* Rejecting with a NULL message needs no memory: it always succeeds. */
static void reject_without_message_scenario(fixture* f) {
  weft_future_t* future = NULL;
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  arm(f);
  assert_int_equal(weft_future_reject(future, WEFT_ERR_IO_ERROR, NULL), WEFT_OK);
  disarm(f);
  weft_status outcome = WEFT_OK;
  weft_value value;
  const char* message = NULL;
  assert_int_equal(weft_future_result(&outcome, &value, &message, future), WEFT_OK);
  assert_int_equal(outcome, WEFT_ERR_IO_ERROR);
  assert_string_equal(message, weft_status_str(WEFT_ERR_IO_ERROR));
  assert_int_equal(weft_future_release(future), WEFT_OK);
}

static void test_alloc_failure__future(void** state) {
  (void)state;
  sweep(future_scenario);
  sweep(reject_without_message_scenario);
}

static void combinator_scenario(fixture* f) {
  weft_future_t* inputs[2] = {NULL, NULL};
  assert_int_equal(weft_future_create(&inputs[0], f->loop), WEFT_OK);
  assert_int_equal(weft_future_create(&inputs[1], f->loop), WEFT_OK);
  weft_future_t* all = NULL;
  weft_future_t* any = NULL;
  weft_future_t* timed = NULL;
  arm(f);
  weft_status all_status = weft_future_all(&all, f->loop, inputs, 2);
  weft_status any_status = weft_future_any(&any, f->loop, inputs, 2);
  weft_status timed_status = weft_future_with_timeout(&timed, f->loop, inputs[0], WEFT_SEC(5));
  check_call_status(all_status);
  check_call_status(any_status);
  check_call_status(timed_status);
  weft_value one = weft_value_int64(1);
  assert_int_equal(weft_future_resolve(inputs[0], &one), WEFT_OK);
  assert_int_equal(weft_future_resolve(inputs[1], &one), WEFT_OK);
  spin_loop(f->loop, 3);
  disarm(f);
  weft_future_t* outputs[3] = {all, any, timed};
  weft_status made[3] = {all_status, any_status, timed_status};
  for (int i = 0; i < 3; ++i) {
    if (made[i] != WEFT_OK) {
      assert_null(outputs[i]);
      continue;
    }
    weft_status outcome = WEFT_ERR_IO_ERROR;
    weft_value value;
    const char* message = NULL;
    assert_int_equal(weft_future_result(&outcome, &value, &message, outputs[i]), WEFT_OK);
    assert_int_equal(outcome, WEFT_OK);
    assert_int_equal(weft_future_release(outputs[i]), WEFT_OK);
  }
  assert_int_equal(weft_future_release(inputs[0]), WEFT_OK);
  assert_int_equal(weft_future_release(inputs[1]), WEFT_OK);
}

static void test_alloc_failure__combinators(void** state) {
  (void)state;
  sweep(combinator_scenario);
}

/* ---- pool and strand work ------------------------------------------------ */

static atomic_int g_work_runs;

static weft_status count_run(void* user, weft_value* result) {
  (void)user;
  (void)result;
  atomic_fetch_add(&g_work_runs, 1);
  return WEFT_OK;
}

static void submit_and_check(fixture* f, weft_executor_t* executor) {
  atomic_store(&g_work_runs, 0);
  future_record done = {0};
  arm(f);
  weft_status status = weft_executor_submit(NULL, executor, f->loop, count_run, record_future, &done);
  check_call_status(status);
  check_promised(f, status, &done.calls);
  disarm(f);
  if (status == WEFT_OK) {
    assert_int_equal(done.status, WEFT_OK);
    assert_int_equal(atomic_load(&g_work_runs), 1);
  } else {
    struct timespec ms = {0, 2000000};
    nanosleep(&ms, NULL);
    assert_int_equal(atomic_load(&g_work_runs), 0); /* nothing started */
  }
}

static void pool_scenario(fixture* f) { submit_and_check(f, f->pool); }

static void strand_scenario(fixture* f) {
  weft_executor_t* strand = NULL;
  arm(f);
  weft_status made = weft_strand_create(&strand, f->pool);
  disarm(f);
  check_call_status(made);
  if (made != WEFT_OK) {
    assert_null(strand);
    assert_int_equal(weft_strand_create(&strand, f->pool), WEFT_OK);
  }
  submit_and_check(f, strand);
  assert_int_equal(weft_executor_destroy(strand), WEFT_OK);
}

static void pool_create_scenario(fixture* f) {
  weft_pool_options options = WEFT_POOL_OPTIONS_INIT;
  options.threads = 1;
  weft_executor_t* pool = NULL;
  arm(f);
  weft_status made = weft_pool_create(&pool, f->runtime, &options);
  disarm(f);
  check_call_status(made);
  if (made == WEFT_OK) {
    submit_and_check(f, pool);
    assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  } else {
    assert_null(pool);
  }
}

static void test_alloc_failure__pool(void** state) {
  (void)state;
  sweep(pool_scenario);
  sweep(pool_create_scenario);
}

static void test_alloc_failure__strand(void** state) {
  (void)state;
  sweep(strand_scenario);
}

/* ---- scopes -------------------------------------------------------------- */

static void scope_scenario(fixture* f) {
  weft_scope_t* scope = NULL;
  call_record timer = {0};
  arm(f);
  weft_status made = weft_scope_create(&scope, f->runtime, "swept");
  check_call_status(made);
  weft_status armed = WEFT_ERR_NO_MEMORY;
  if (made == WEFT_OK) {
    weft_loop_t* loop = NULL;
    assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
    armed = weft_loop_call_later(NULL, loop, WEFT_SEC(60), record_callback, &timer);
    check_call_status(armed);
  }
  disarm(f);
  if (made != WEFT_OK) {
    assert_null(scope);
    return;
  }
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  /* The pending timer is called once, cancelled, inside the destroy. */
  assert_int_equal(timer.calls, armed == WEFT_OK ? 1 : 0);
  if (armed == WEFT_OK) assert_int_equal(timer.status, WEFT_ERR_CANCELLED);
}

static void test_alloc_failure__scope(void** state) {
  (void)state;
  sweep(scope_scenario);
}

/* ---- teardown under refusal ---------------------------------------------- */

/* With things pending everywhere, the runtime is destroyed while the
 * allocator refuses: destroying needs no memory, every pending callback is
 * called once (cancelled), and nothing is left. */
static void teardown_scenario(fixture* f) {
  call_record timer = {0};
  assert_int_equal(weft_loop_call_later(NULL, f->loop, WEFT_SEC(60), record_callback, &timer), WEFT_OK);
  weft_future_t* future = NULL;
  future_record then = {0};
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  assert_int_equal(weft_future_then(future, f->loop, record_future, &then), WEFT_OK);
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  read_record reading = {0};
  assert_int_equal(weft_stream_read(NULL, a, 64, record_read, &reading), WEFT_OK);
  arm(f);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL; /* fixture_teardown's destroy(NULL) does nothing */
  assert_int_equal(timer.calls, 1);
  assert_int_equal(timer.status, WEFT_ERR_CANCELLED);
  assert_int_equal(then.calls, 1);
  assert_int_equal(then.status, WEFT_ERR_CANCELLED);
  assert_int_equal(reading.calls, 1);
  assert_int_equal(reading.status, WEFT_ERR_CANCELLED);
}

static void test_alloc_failure__teardown(void** state) {
  (void)state;
  /* Destroying allocates nothing: one run per mode covers it. */
  for (int forever = 0; forever <= 1; ++forever) {
    g_index = 0;
    g_forever = forever;
    void* fixture_state = NULL;
    assert_int_equal(fixture_setup(&fixture_state), 0);
    teardown_scenario(fixture_state);
    fixture* f = fixture_state;
    assert_int_equal(tracking_refused(&f->allocator), 0);
    disarm(f);
    fixture_teardown(&fixture_state);
  }
}

int main(void) {
  if (tls_sweep_start() != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_failure__runtime_create),
      cmocka_unit_test(test_alloc_failure__timer),
      cmocka_unit_test(test_alloc_failure__future),
      cmocka_unit_test(test_alloc_failure__combinators),
      cmocka_unit_test(test_alloc_failure__pool),
      cmocka_unit_test(test_alloc_failure__strand),
      cmocka_unit_test(test_alloc_failure__scope),
      cmocka_unit_test(test_alloc_failure__pipe_pair),
      cmocka_unit_test(test_alloc_failure__pipe_stream),
      cmocka_unit_test(test_alloc_failure__tcp_stream),
      cmocka_unit_test(test_alloc_failure__tcp_listen_connect_accept),
      cmocka_unit_test(test_alloc_failure__pipe_listen_connect_accept),
      cmocka_unit_test(test_alloc_failure__tls_context_and_handshake),
      cmocka_unit_test(test_alloc_failure__tls_stream),
      cmocka_unit_test(test_alloc_failure__fd_watch),
      cmocka_unit_test(test_alloc_failure__udp),
      cmocka_unit_test(test_alloc_failure__file),
      cmocka_unit_test(test_alloc_failure__dns),
      cmocka_unit_test(test_alloc_failure__process),
      cmocka_unit_test(test_alloc_failure__signal),
      cmocka_unit_test(test_alloc_failure__teardown),
  };
  const int failed = cmocka_run_group_tests(tests, NULL, NULL);
  tls_sweep_end();
  return failed;
}
