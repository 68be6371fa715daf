/* Scopes: what they own, cancel, drain with a deadline, stragglers, and
 * the cross-scope case a plugin host depends on. */
#include <stdio.h>
#include <string.h>

#include "tests/capi/support.h"

#define MS 1000000ull

typedef struct seen {
  int calls;
  weft_status status;
} seen;

static void on_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                      const char* message) {
  (void)future;
  (void)value;
  (void)message;
  seen* s = user;
  s->calls++;
  s->status = status;
}

static void test_scope__cancel_reaches_everything_the_scope_owns(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  weft_loop_t* loop;
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_scope_t* back;
  assert_int_equal(weft_loop_scope(&back, loop), WEFT_OK);
  assert_ptr_equal(back, scope);

  call_record soon = {0}, timer = {0}, root_timer = {0};
  assert_int_equal(weft_loop_call_soon(loop, record_callback, &soon), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, loop, 10 * MS, record_callback, &timer), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 10 * MS, record_callback, &root_timer), WEFT_OK);
  weft_future_t* own;
  assert_int_equal(weft_future_create(&own, loop), WEFT_OK);
  seen own_seen = {0};
  assert_int_equal(weft_future_then(own, f->loop, on_future, &own_seen), WEFT_OK); /* root listens */

  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(timer.calls, 1); /* inside cancel */
  assert_int_equal(timer.status, WEFT_ERR_CANCELLED);
  assert_int_equal(root_timer.calls, 0); /* not the scope's */
  /* The scope refuses new work now. */
  assert_int_equal(weft_loop_call_soon(loop, record_callback, &soon), WEFT_ERR_CLOSED);
  weft_future_t* refused = NULL;
  assert_int_equal(weft_future_create(&refused, loop), WEFT_ERR_CLOSED);

  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(soon.calls, 1);
  assert_int_equal(soon.status, WEFT_ERR_CANCELLED); /* queued before: told */
  assert_int_equal(own_seen.calls, 1);
  assert_int_equal(own_seen.status, WEFT_ERR_CANCELLED);
  size_t left = 99;
  assert_int_equal(weft_scope_drain(&left, scope, 100 * MS), WEFT_OK);
  assert_int_equal(left, 0);
  weft_future_release(own);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_call_soon(loop, record_callback, &soon), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_advance_clock(f->loop, 10 * MS), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(root_timer.status, WEFT_OK);
}

/* Plugin B awaits plugin A's future; unloading B cancels B's callback only. */
static void test_scope__cancelling_an_awaiter_leaves_the_awaited_future_alone(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t *a, *b;
  weft_scope_create(&a, f->runtime, "plugin-a");
  weft_scope_create(&b, f->runtime, "plugin-b");
  weft_loop_t *la, *lb;
  weft_scope_loop(&la, a);
  weft_scope_loop(&lb, b);
  weft_future_t* answer;
  assert_int_equal(weft_future_create(&answer, la), WEFT_OK);
  seen from_a = {0}, from_b = {0};
  assert_int_equal(weft_future_then(answer, la, on_future, &from_a), WEFT_OK);
  assert_int_equal(weft_future_then(answer, lb, on_future, &from_b), WEFT_OK);

  assert_int_equal(weft_scope_cancel(b), WEFT_OK);
  assert_int_equal(from_b.calls, 1);
  assert_int_equal(from_b.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_scope_drain(NULL, b, 100 * MS), WEFT_OK);
  assert_int_equal(weft_scope_destroy(b), WEFT_OK);

  weft_value v = weft_value_int64(42);
  assert_int_equal(weft_future_resolve(answer, &v), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(from_a.calls, 1);
  assert_int_equal(from_a.status, WEFT_OK);
  assert_int_equal(from_b.calls, 1); /* never again */
  weft_future_release(answer);
  assert_int_equal(weft_scope_destroy(a), WEFT_OK);
}

typedef struct listing {
  int count;
  weft_object_kind kinds[16];
  char states[16][32];
  char names[16][32];
} listing;

static void collect(void* user, const weft_object_info* info) {
  listing* l = user;
  if (l->count < 16) {
    l->kinds[l->count] = info->kind;
    snprintf(l->states[l->count], 32, "%s", info->state);
    snprintf(l->names[l->count], 32, "%s", info->name);
  }
  l->count++;
}

static void test_scope__drain_waits_for_running_work_and_names_stragglers(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  weft_scope_create(&scope, f->runtime, "worker-plugin");
  weft_loop_t* loop;
  weft_scope_loop(&loop, scope);
  gate g = GATE_INIT;
  weft_future_t* work;
  assert_int_equal(weft_executor_submit(&work, f->pool, loop, wait_at_gate, NULL, &g), WEFT_OK);
  assert_int_equal(weft_future_set_name(work, "blocking-io"), WEFT_OK);
  gate_wait_entered(&g, 1);

  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  size_t left = 0;
  assert_int_equal(weft_scope_drain(&left, scope, 30 * MS), WEFT_ERR_TIMED_OUT);
  assert_int_equal(left, 1);
  listing l;
  memset(&l, 0, sizeof(l));
  assert_int_equal(weft_scope_list(scope, collect, &l), WEFT_OK);
  assert_int_equal(l.count, 1);
  assert_int_equal(l.kinds[0], WEFT_OBJECT_WORK);
  assert_string_equal(l.states[0], "running");
  assert_string_equal(l.names[0], "blocking-io");

  gate_open(&g);
  assert_int_equal(weft_scope_drain(&left, scope, 5000 * MS), WEFT_OK);
  assert_int_equal(left, 0);
  /* Its future was cancelled before the work finished: the result dropped. */
  weft_status status;
  assert_int_equal(weft_future_result(&status, NULL, NULL, work), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  weft_future_release(work);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
}

static void test_scope__a_destroyed_scope_with_stragglers_settles_later(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  weft_scope_create(&scope, f->runtime, "leaving");
  weft_loop_t* loop;
  weft_scope_loop(&loop, scope);
  call_record queued = {0};
  assert_int_equal(weft_loop_call_soon(loop, record_callback, &queued), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK); /* one callback still queued */
  weft_stats stats = WEFT_STATS_INIT;
  weft_runtime_stats(&stats, f->runtime);
  assert_int_equal(stats.scopes, 2); /* root + the zombie */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(queued.calls, 1);
  assert_int_equal(queued.status, WEFT_ERR_CANCELLED);
  weft_runtime_stats(&stats, f->runtime);
  assert_int_equal(stats.scopes, 1); /* freed once settled */
}

typedef struct self_destroyer {
  weft_scope_t* scope;
  weft_status status;
  int calls;
} self_destroyer;

static void destroy_own_scope(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  self_destroyer* d = user;
  d->calls++;
  d->status = weft_scope_destroy(d->scope);
}

/* Destroying a scope calls its timers back (cancelled); one of them may
 * destroy the scope too. Found by the fuzzer. */
static void test_scope__a_callback_may_destroy_its_scope_while_it_is_destroyed(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  weft_scope_create(&scope, f->runtime, "doomed");
  weft_loop_t* loop;
  weft_scope_loop(&loop, scope);
  self_destroyer d = {scope, WEFT_OK, 0};
  call_record other = {0};
  assert_int_equal(weft_loop_call_later(NULL, loop, MS, destroy_own_scope, &d), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, loop, MS, record_callback, &other), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, WEFT_OK); /* the inner destroy did the work */
  assert_int_equal(other.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_scope_destroy(scope), WEFT_ERR_STALE_HANDLE);
}

static weft_status quick_work(void* user, weft_value* result) {
  (void)user;
  *result = weft_value_int64(5);
  return WEFT_OK;
}

/* Work finished and its future completed, but the loop has not yet run the
 * continuation when the scope is destroyed: the continuation settles the
 * zombie scope once, not twice. Found by the fuzzer. */
static void test_scope__work_completed_before_its_scope_is_destroyed(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  weft_scope_create(&scope, f->runtime, "worker");
  weft_loop_t* loop;
  weft_scope_loop(&loop, scope);
  weft_future_t* work;
  assert_int_equal(weft_executor_submit(&work, f->pool, loop, quick_work, NULL, NULL), WEFT_OK);
  while (weft_future_result(NULL, NULL, NULL, work) == WEFT_ERR_NOT_READY) {
  }
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK); /* a zombie: work still linked */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  weft_stats stats = WEFT_STATS_INIT;
  weft_runtime_stats(&stats, f->runtime);
  assert_int_equal(stats.scopes, 1);
  assert_int_equal(stats.work_pending, 0);
  weft_future_release(work);
}

typedef struct drain_inside {
  weft_scope_t* scope;
  weft_status status;
} drain_inside;

static void drain_from_callback(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  drain_inside* d = user;
  d->status = weft_scope_drain(NULL, d->scope, MS);
}

static void test_scope__misuse_is_refused(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* root;
  assert_int_equal(weft_loop_scope(&root, f->loop), WEFT_OK);
  assert_int_equal(weft_scope_destroy(root), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_scope_destroy(NULL), WEFT_OK);
  weft_scope_t* scope;
  assert_int_equal(weft_scope_create(&scope, f->runtime, NULL), WEFT_OK);
  drain_inside d = {scope, WEFT_OK};
  weft_loop_call_soon(f->loop, drain_from_callback, &d);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(d.status, WEFT_ERR_REENTRANT_RUN);
  assert_int_equal(weft_scope_list(scope, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_ERR_STALE_HANDLE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scope__cancel_reaches_everything_the_scope_owns, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scope__cancelling_an_awaiter_leaves_the_awaited_future_alone,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scope__drain_waits_for_running_work_and_names_stragglers,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scope__a_destroyed_scope_with_stragglers_settles_later,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scope__a_callback_may_destroy_its_scope_while_it_is_destroyed,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scope__work_completed_before_its_scope_is_destroyed, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scope__misuse_is_refused, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
