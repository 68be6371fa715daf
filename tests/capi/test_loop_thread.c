/* Who owns the loop: the thread that created the runtime, until another
 * thread claims it with weft_loop_claim. Running the loop never moves it,
 * and a pool's workers can never own it: every loop-thread call from a work
 * function (running the loop, destroying the runtime, ...) returns
 * WEFT_ERR_WRONG_THREAD, through the default pool, a pool of the program's
 * and a strand. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* Keeps expected misuse off stderr. */
static void quiet_misuse(void* user, const char* function, weft_status status, const char* message) {
  (void)user;
  (void)function;
  (void)status;
  (void)message;
}

static void count_call(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  ++*(int*)user;
}

/* ---- claiming ------------------------------------------------------------ */

typedef struct claimer {
  weft_loop_t* loop;
  weft_status run_before, claim, call_soon, run_after;
  int calls;
} claimer;

static void* claim_and_run(void* arg) {
  claimer* c = arg;
  c->run_before = weft_loop_run(c->loop, WEFT_RUN_NOWAIT);
  c->claim = weft_loop_claim(c->loop);
  c->call_soon = weft_loop_call_soon(c->loop, count_call, &c->calls);
  c->run_after = weft_loop_run(c->loop, WEFT_RUN_DEFAULT);
  return NULL;
}

static void test_loop_thread__running_does_not_move_the_loop_claiming_does(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record m;
  misuse_recorder_install(&m);
  claimer c;
  memset(&c, 0, sizeof(c));
  c.loop = f->loop;
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, claim_and_run, &c), 0);
  pthread_join(thread, NULL);
  assert_int_equal(c.run_before, WEFT_ERR_WRONG_THREAD);
  assert_string_equal(m.last_function, "weft_loop_run");
  assert_int_equal(c.claim, WEFT_OK);
  assert_int_equal(c.call_soon, WEFT_OK);
  assert_int_equal(c.run_after, WEFT_OK);
  assert_int_equal(c.calls, 1);
  /* The creating thread lost the loop: everything loop-thread is refused... */
  int calls = 0;
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_loop_call_soon(f->loop, count_call, &calls), WEFT_ERR_WRONG_THREAD);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_ERR_WRONG_THREAD);
  /* ...until it claims the loop back (the teardown needs it). */
  assert_int_equal(weft_loop_claim(f->loop), WEFT_OK);
  assert_int_equal(weft_loop_claim(f->loop), WEFT_OK); /* a no-op on the loop thread */
  assert_int_equal(weft_loop_call_soon(f->loop, count_call, &calls), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(calls, 1);
  misuse_recorder_remove();
}

typedef struct claim_while_running {
  weft_loop_t* loop;
  weft_status claim;
} claim_while_running;

static void* claim_only(void* arg) {
  claim_while_running* c = arg;
  c->claim = weft_loop_claim(c->loop);
  return NULL;
}

/* Inside a callback the loop is running on this thread: a claim from
 * another thread is refused. */
static void claim_from_another_thread_now(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  pthread_t thread;
  pthread_create(&thread, NULL, claim_only, user);
  pthread_join(thread, NULL);
}

static void test_loop_thread__a_running_loop_cannot_be_claimed(void** state) {
  fixture* f = FIXTURE(state);
  claim_while_running c = {f->loop, WEFT_OK};
  assert_int_equal(weft_loop_call_soon(f->loop, claim_from_another_thread_now, &c), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(c.claim, WEFT_ERR_WRONG_THREAD);
  /* Still this thread's. */
  int calls = 0;
  assert_int_equal(weft_loop_call_soon(f->loop, count_call, &calls), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(calls, 1);
}

static void test_loop_thread__claim_checks_its_handle(void** state) {
  (void)state;
  weft_set_misuse_handler(quiet_misuse, NULL);
  assert_int_equal(weft_loop_claim(NULL), WEFT_ERR_INVALID_HANDLE);
  weft_set_misuse_handler(NULL, NULL);
}

/* ---- work functions -------------------------------------------------------- */

typedef struct work_calls {
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  weft_status run, run_for, claim, call_soon, destroy;
  int ran;
  atomic_int done;
} work_calls;

/* What issue "C API 1.0" reported: a work function that runs the loop while
 * it is idle (no thread running it) and then destroys the runtime took the
 * loop over, and the teardown then shut the pool down from its own worker
 * (std::terminate) or waited for the strand job it was running (a hang). */
static weft_status loop_calls_from_work(void* user, weft_value* result) {
  (void)result;
  work_calls* w = user;
  w->run = weft_loop_run(w->loop, WEFT_RUN_NOWAIT);
  w->run_for = weft_loop_run_for(NULL, w->loop, 1000);
  w->claim = weft_loop_claim(w->loop);
  w->call_soon = weft_loop_call_soon(w->loop, count_call, &w->ran);
  w->destroy = weft_runtime_destroy(w->runtime);
  w->ran = 1;
  atomic_store(&w->done, 1);
  return WEFT_OK;
}

enum executor_kind { DEFAULT_POOL, OWN_POOL, STRAND };

/* Runs the scenario in a child process, so that a std::terminate or a hang
 * (bounded by alarm) fails the test instead of ending or stopping the
 * suite. The child exits 0 only if every call was refused as it should be. */
static int loop_calls_from_work_in_child(enum executor_kind kind) {
  fflush(NULL);
  pid_t child = fork();
  if (child == 0) {
    alarm(10);
    weft_set_misuse_handler(quiet_misuse, NULL);
    weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
    options.threads = 2;
    weft_runtime_t* rt;
    if (weft_runtime_create(&rt, &options) != WEFT_OK) _exit(10);
    work_calls w;
    memset(&w, 0, sizeof(w));
    w.runtime = rt;
    weft_runtime_loop(&w.loop, rt);
    weft_executor_t* pool = NULL;
    weft_executor_t* own = NULL;
    weft_executor_t* strand = NULL;
    weft_runtime_pool(&pool, rt);
    if (kind != DEFAULT_POOL) {
      if (weft_pool_create(&own, rt, NULL) != WEFT_OK) _exit(11);
      pool = own;
    }
    if (kind == STRAND) {
      if (weft_strand_create(&strand, own) != WEFT_OK) _exit(12);
      pool = strand;
    }
    if (weft_executor_submit(NULL, pool, w.loop, loop_calls_from_work, NULL, &w) != WEFT_OK) _exit(13);
    /* The loop stays idle while the work runs. */
    const struct timespec ms = {0, 1000000};
    while (!atomic_load(&w.done)) nanosleep(&ms, NULL);
    if (weft_loop_run(w.loop, WEFT_RUN_DEFAULT) != WEFT_OK) _exit(14);
    if (w.ran != 1) _exit(15);
    if (w.run != WEFT_ERR_WRONG_THREAD || w.run_for != WEFT_ERR_WRONG_THREAD) _exit(16);
    if (w.claim != WEFT_ERR_WRONG_THREAD || w.call_soon != WEFT_ERR_WRONG_THREAD) _exit(17);
    if (w.destroy != WEFT_ERR_WRONG_THREAD) _exit(18);
    if (weft_runtime_destroy(rt) != WEFT_OK) _exit(19);
    _exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return -1;
  if (WIFSIGNALED(status)) return 100 + WTERMSIG(status); /* SIGABRT: terminate; SIGALRM: hang */
  return WEXITSTATUS(status);
}

static void test_loop_thread__work_on_the_default_pool_cannot_run_or_destroy(void** state) {
  (void)state;
  assert_int_equal(loop_calls_from_work_in_child(DEFAULT_POOL), 0);
}

static void test_loop_thread__work_on_a_created_pool_cannot_run_or_destroy(void** state) {
  (void)state;
  assert_int_equal(loop_calls_from_work_in_child(OWN_POOL), 0);
}

static void test_loop_thread__work_on_a_strand_cannot_run_or_destroy(void** state) {
  (void)state;
  assert_int_equal(loop_calls_from_work_in_child(STRAND), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_loop_thread__running_does_not_move_the_loop_claiming_does,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loop_thread__a_running_loop_cannot_be_claimed, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test(test_loop_thread__claim_checks_its_handle),
      cmocka_unit_test(test_loop_thread__work_on_the_default_pool_cannot_run_or_destroy),
      cmocka_unit_test(test_loop_thread__work_on_a_created_pool_cannot_run_or_destroy),
      cmocka_unit_test(test_loop_thread__work_on_a_strand_cannot_run_or_destroy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
