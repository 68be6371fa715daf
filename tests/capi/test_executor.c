/* Pools and strands: work runs on workers, its outcome comes back to the
 * loop; cancellation before start; strands serialise; destruction. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/capi/support.h"

#define MS 1000000ull

typedef struct job {
  pthread_t loop_thread;
  pthread_t ran_on;
  int ran;
  int64_t input;
  weft_status fail_with;
  /* completion */
  int done_calls;
  weft_status done_status;
  int64_t result;
  pthread_t done_on;
  char message[128];
} job;

static weft_status square(void* user, weft_value* result) {
  job* j = user;
  j->ran++;
  j->ran_on = pthread_self();
  if (j->fail_with != WEFT_OK) return j->fail_with;
  *result = weft_value_int64(j->input * j->input);
  return WEFT_OK;
}

static void job_done(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                     const char* message) {
  (void)future;
  job* j = user;
  j->done_calls++;
  j->done_status = status;
  j->done_on = pthread_self();
  if (value->kind == WEFT_VALUE_INT64) j->result = value->as.int64;
  snprintf(j->message, sizeof(j->message), "%s", message ? message : "");
}

static void test_executor__work_runs_on_a_worker_and_completes_on_the_loop(void** state) {
  fixture* f = FIXTURE(state);
  job j;
  memset(&j, 0, sizeof(j));
  j.input = 12;
  weft_future_t* fut = NULL;
  assert_int_equal(weft_executor_submit(&fut, f->pool, f->loop, square, job_done, &j), WEFT_OK);
  assert_non_null(fut);
  /* run() waits for work in flight. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(j.ran, 1);
  assert_false(pthread_equal(j.ran_on, pthread_self()));
  assert_int_equal(j.done_calls, 1);
  assert_int_equal(j.done_status, WEFT_OK);
  assert_int_equal(j.result, 144);
  assert_true(pthread_equal(j.done_on, pthread_self()));
  weft_value v;
  assert_int_equal(weft_future_result(NULL, &v, NULL, fut), WEFT_OK);
  assert_int_equal(v.as.int64, 144);
  weft_future_release(fut);
}

static void test_executor__a_failing_work_rejects_its_future(void** state) {
  fixture* f = FIXTURE(state);
  job j;
  memset(&j, 0, sizeof(j));
  j.fail_with = (weft_status)(WEFT_STATUS_USER - 1);
  assert_int_equal(weft_executor_submit(NULL, f->pool, f->loop, square, job_done, &j), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(j.done_status, WEFT_STATUS_USER - 1);
  job k;
  memset(&k, 0, sizeof(k));
  k.fail_with = (weft_status)5; /* not a failure: refused as a bug in the work */
  assert_int_equal(weft_executor_submit(NULL, f->pool, f->loop, square, job_done, &k), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(k.done_status, WEFT_ERR_INVALID_STATE);
}

static void test_executor__work_cancelled_before_it_starts_never_runs(void** state) {
  fixture* f = FIXTURE(state);
  weft_executor_t* pool;
  weft_pool_options options = WEFT_POOL_OPTIONS_INIT;
  options.threads = 1;
  options.name = "single";
  assert_int_equal(weft_pool_create(&pool, f->runtime, &options), WEFT_OK);
  gate g = GATE_INIT;
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, wait_at_gate, NULL, &g), WEFT_OK);
  gate_wait_entered(&g, 1); /* the only worker is busy */
  job j;
  memset(&j, 0, sizeof(j));
  weft_future_t* fut;
  assert_int_equal(weft_executor_submit(&fut, pool, f->loop, square, job_done, &j), WEFT_OK);
  assert_int_equal(weft_future_cancel(fut), WEFT_OK);
  gate_open(&g);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(j.ran, 0);
  assert_int_equal(j.done_calls, 1);
  assert_int_equal(j.done_status, WEFT_ERR_CANCELLED);
  weft_future_release(fut);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  assert_int_equal(weft_executor_destroy(pool), WEFT_ERR_STALE_HANDLE);
}

/* Work that holds its worker at a gate and records, in the same object its
 * `done` reads, that it has returned: `done` must never see it mid-run. */
typedef struct held_job {
  gate g;
  atomic_int returned;
  int done_calls;
  int returned_when_done; /* `returned` as `done` saw it */
  weft_status done_status;
  char message[128];
} held_job;

static weft_status held_work(void* user, weft_value* result) {
  held_job* j = user;
  weft_status status = wait_at_gate(&j->g, result);
  atomic_store(&j->returned, 1);
  return status;
}

static void held_done(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                      const char* message) {
  (void)future;
  (void)value;
  held_job* j = user;
  j->done_calls++;
  j->returned_when_done = atomic_load(&j->returned);
  j->done_status = status;
  snprintf(j->message, sizeof(j->message), "%s", message ? message : "");
}

static void held_job_init(held_job* j) {
  memset(j, 0, sizeof(*j));
  gate g = GATE_INIT;
  j->g = g;
}

static void* open_gate_later(void* user) {
  struct timespec t = {0, 50 * 1000 * 1000};
  nanosleep(&t, NULL);
  gate_open(user);
  return NULL;
}

/* `done` shares `user` with the work: cancelling the future while the work
 * runs settles the future at once, but `done` waits until the work returned
 * (so it may free `user`). */
static void test_executor__done_waits_for_work_cancelled_while_running(void** state) {
  fixture* f = FIXTURE(state);
  held_job j;
  held_job_init(&j);
  weft_future_t* fut;
  assert_int_equal(weft_executor_submit(&fut, f->pool, f->loop, held_work, held_done, &j), WEFT_OK);
  gate_wait_entered(&j.g, 1);
  assert_int_equal(weft_future_cancel(fut), WEFT_OK);
  for (int i = 0; i < 5; i++) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  weft_status status;
  assert_int_equal(weft_future_result(&status, NULL, NULL, fut), WEFT_OK);
  assert_int_equal(status, WEFT_ERR_CANCELLED);
  assert_int_equal(j.done_calls, 0); /* the work is still at the gate */
  gate_open(&j.g);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(j.done_calls, 1);
  assert_int_equal(j.returned_when_done, 1);
  assert_int_equal(j.done_status, WEFT_ERR_CANCELLED);
  weft_future_release(fut);
}

/* The same when the work's scope is cancelled: `done` is told the scope was
 * cancelled, after the work returned. */
static void test_executor__done_waits_for_work_whose_scope_was_cancelled(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "unloading"), WEFT_OK);
  weft_loop_t* loop;
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  held_job j;
  held_job_init(&j);
  assert_int_equal(weft_executor_submit(NULL, f->pool, loop, held_work, held_done, &j), WEFT_OK);
  gate_wait_entered(&j.g, 1);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(j.done_calls, 0); /* not inside cancel: the work runs */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(j.done_calls, 0);
  gate_open(&j.g);
  size_t left = 99;
  assert_int_equal(weft_scope_drain(&left, scope, 5000 * MS), WEFT_OK);
  assert_int_equal(left, 0);
  assert_int_equal(j.done_calls, 1);
  assert_int_equal(j.returned_when_done, 1);
  assert_int_equal(j.done_status, WEFT_ERR_CANCELLED);
  assert_non_null(strstr(j.message, "scope"));
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
}

/* And when the runtime is destroyed with the work running: destroy waits
 * for the worker, then calls `done`. */
static void test_executor__done_waits_for_work_when_the_runtime_is_destroyed(void** state) {
  (void)state;
  weft_runtime_t* runtime;
  assert_int_equal(weft_runtime_create(&runtime, NULL), WEFT_OK);
  weft_loop_t* loop;
  weft_executor_t* pool;
  assert_int_equal(weft_runtime_loop(&loop, runtime), WEFT_OK);
  assert_int_equal(weft_runtime_pool(&pool, runtime), WEFT_OK);
  held_job j;
  held_job_init(&j);
  assert_int_equal(weft_executor_submit(NULL, pool, loop, held_work, held_done, &j), WEFT_OK);
  gate_wait_entered(&j.g, 1);
  pthread_t opener;
  assert_int_equal(pthread_create(&opener, NULL, open_gate_later, &j.g), 0);
  assert_int_equal(weft_runtime_destroy(runtime), WEFT_OK);
  assert_int_equal(pthread_join(opener, NULL), 0);
  assert_int_equal(j.done_calls, 1);
  assert_int_equal(j.returned_when_done, 1);
  assert_int_equal(j.done_status, WEFT_ERR_CANCELLED);
}

typedef struct strand_state {
  atomic_int inside;
  atomic_int overlaps;
  int order[200];
  atomic_int next;
} strand_state;

typedef struct strand_item {
  strand_state* s;
  int index;
} strand_item;

static weft_status strand_work(void* user, weft_value* result) {
  (void)result;
  strand_item* item = user;
  if (atomic_fetch_add(&item->s->inside, 1) != 0) atomic_fetch_add(&item->s->overlaps, 1);
  struct timespec t = {0, 20000};
  nanosleep(&t, NULL);
  item->s->order[atomic_fetch_add(&item->s->next, 1)] = item->index;
  atomic_fetch_sub(&item->s->inside, 1);
  return WEFT_OK;
}

static void test_executor__a_strand_runs_one_at_a_time_in_order(void** state) {
  fixture* f = FIXTURE(state);
  weft_executor_t* strand;
  assert_int_equal(weft_strand_create(&strand, f->pool), WEFT_OK);
  static strand_state s;
  memset(&s, 0, sizeof(s));
  static strand_item items[200];
  for (int i = 0; i < 200; ++i) {
    items[i] = (strand_item){&s, i};
    assert_int_equal(weft_executor_submit(NULL, strand, f->loop, strand_work, NULL, &items[i]), WEFT_OK);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(atomic_load(&s.next), 200);
  assert_int_equal(atomic_load(&s.overlaps), 0);
  for (int i = 0; i < 200; ++i) assert_int_equal(s.order[i], i);
  weft_executor_t* nested;
  assert_int_equal(weft_strand_create(&nested, strand), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_executor_destroy(strand), WEFT_OK);
}

static void test_executor__destroying_a_pool_waits_for_its_work_and_strands(void** state) {
  fixture* f = FIXTURE(state);
  weft_executor_t *pool, *strand;
  assert_int_equal(weft_pool_create(&pool, f->runtime, NULL), WEFT_OK);
  assert_int_equal(weft_strand_create(&strand, pool), WEFT_OK);
  job j[8];
  memset(j, 0, sizeof(j));
  for (int i = 0; i < 8; ++i) {
    j[i].input = i;
    assert_int_equal(weft_executor_submit(NULL, i % 2 ? strand : pool, f->loop, square, job_done, &j[i]),
                     WEFT_OK);
  }
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  for (int i = 0; i < 8; ++i) assert_int_equal(j[i].ran, 1); /* drained before returning */
  assert_int_equal(weft_executor_submit(NULL, strand, f->loop, square, NULL, &j[0]), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK); /* completions still arrive */
  for (int i = 0; i < 8; ++i) assert_int_equal(j[i].result, (int64_t)i * i);
}

typedef struct self_destroy {
  weft_executor_t* pool;
  weft_status status;
} self_destroy;

static weft_status destroy_own_pool(void* user, weft_value* result) {
  (void)result;
  self_destroy* s = user;
  s->status = weft_executor_destroy(s->pool);
  return WEFT_OK;
}

static void test_executor__bad_destroys_are_refused(void** state) {
  fixture* f = FIXTURE(state);
  assert_int_equal(weft_executor_destroy(f->pool), WEFT_ERR_INVALID_ARGUMENT); /* the default pool */
  assert_int_equal(weft_executor_destroy(NULL), WEFT_OK);
  self_destroy s = {f->pool, WEFT_OK};
  weft_executor_t* pool;
  assert_int_equal(weft_pool_create(&pool, f->runtime, NULL), WEFT_OK);
  s.pool = pool;
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, destroy_own_pool, NULL, &s), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(s.status, WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
}

static int pointer_freed;
static void free_counted(void* p) {
  pointer_freed++;
  free(p);
}

static weft_status make_pointer(void* user, weft_value* result) {
  (void)user;
  *result = weft_value_pointer(malloc(16), free_counted);
  return WEFT_OK;
}

static void test_executor__a_pointer_result_belongs_to_weft(void** state) {
  fixture* f = FIXTURE(state);
  pointer_freed = 0;
  assert_int_equal(weft_executor_submit(NULL, f->pool, f->loop, make_pointer, NULL, NULL), WEFT_OK);
  weft_future_t* fut;
  assert_int_equal(weft_executor_submit(&fut, f->pool, f->loop, make_pointer, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  /* The first had no holder left: freed. The second is held. */
  int spins = 0;
  while (pointer_freed < 1 && spins++ < 1000) weft_loop_run(f->loop, WEFT_RUN_NOWAIT);
  weft_future_result(NULL, NULL, NULL, fut);
  weft_future_release(fut);
  assert_int_equal(pointer_freed, 2);
}

static void test_executor__submit_checks_its_arguments(void** state) {
  fixture* f = FIXTURE(state);
  assert_int_equal(weft_executor_submit(NULL, f->pool, f->loop, NULL, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_executor_submit(NULL, (weft_executor_t*)f->loop, f->loop, square, NULL, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  weft_runtime_t* other;
  assert_int_equal(weft_runtime_create(&other, NULL), WEFT_OK);
  weft_executor_t* other_pool;
  weft_runtime_pool(&other_pool, other);
  assert_int_equal(weft_executor_submit(NULL, other_pool, f->loop, square, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_runtime_destroy(other), WEFT_OK);
  weft_pool_options options;
  assert_int_equal(weft_pool_options_init(&options, sizeof(options)), WEFT_OK);
  assert_int_equal(options.threads, 0);
  options.struct_size = 2;
  weft_executor_t* pool;
  assert_int_equal(weft_pool_create(&pool, f->runtime, &options), WEFT_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_executor__work_runs_on_a_worker_and_completes_on_the_loop,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__a_failing_work_rejects_its_future, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__work_cancelled_before_it_starts_never_runs, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__done_waits_for_work_cancelled_while_running, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__done_waits_for_work_whose_scope_was_cancelled, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__done_waits_for_work_when_the_runtime_is_destroyed,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__a_strand_runs_one_at_a_time_in_order, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__destroying_a_pool_waits_for_its_work_and_strands,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__bad_destroys_are_refused, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__a_pointer_result_belongs_to_weft, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_executor__submit_checks_its_arguments, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
