/* Bad input and misuse, across the whole API: NULL handles, handles of the
 * wrong kind, forged handles, handles used after destroy or release, double
 * destroy, loop-thread calls from other threads, invalid enums, wrong
 * struct_size, running a loop from its own callback. Each returns its status
 * (never a crash, a hang or a leak: the fixture's teardown checks the
 * allocator), and the misuse handler hears of each with the function's name.
 * A host can make the handler abort instead (checked in a child process). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/capi/support.h"

static void noop(void* user, weft_status status, const char* message) {
  (void)user;
  (void)status;
  (void)message;
}

static void noop_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                        const char* message) {
  (void)user;
  (void)future;
  (void)status;
  (void)value;
  (void)message;
}

static weft_status noop_work(void* user, weft_value* result) {
  (void)user;
  (void)result;
  return WEFT_OK;
}

static void noop_visit(void* user, const weft_object_info* info) {
  (void)user;
  (void)info;
}

/* Every function that takes handles, called with the given ones. Returns how
 * many calls did not return `expected` (and names the first on stderr). */
typedef struct handles {
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  weft_scope_t* scope;
  weft_future_t* timer; /* a timer's future (weft_loop_call_later) */
  weft_future_t* future;
  weft_executor_t* executor;
} handles;

#define EXPECT(call)                                                                    \
  do {                                                                                  \
    weft_status s_ = (call);                                                            \
    if (s_ != expected && s_ != also) {                                                 \
      if (bad++ == 0) fprintf(stderr, "%s returned %s\n", #call, weft_status_name(s_)); \
    }                                                                                   \
  } while (0)

static int call_everything(handles h, weft_status expected, weft_status also) {
  int bad = 0;
  void* p = NULL;
  size_t n;
  uint64_t u;
  int i;
  int64_t ns;
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  weft_stats stats = WEFT_STATS_INIT;
  weft_value v = weft_value_int64(1);
  char text[8];
  EXPECT(weft_runtime_loop((weft_loop_t**)&p, h.runtime));
  EXPECT(weft_runtime_pool((weft_executor_t**)&p, h.runtime));
  EXPECT(weft_runtime_stats(&stats, h.runtime));
  EXPECT(weft_runtime_set_error_handler(h.runtime, NULL, NULL));
  EXPECT(weft_runtime_dump(h.runtime, noop_visit, NULL));
  EXPECT(weft_runtime_dump_text(text, sizeof(text), &n, h.runtime));
  EXPECT(weft_scope_create((weft_scope_t**)&p, h.runtime, "x"));
  EXPECT(weft_pool_create((weft_executor_t**)&p, h.runtime, NULL));
  EXPECT(weft_loop_runtime((weft_runtime_t**)&p, h.loop));
  EXPECT(weft_loop_run(h.loop, WEFT_RUN_NOWAIT));
  EXPECT(weft_loop_run_for(&report, h.loop, 1));
  EXPECT(weft_loop_stop(h.loop));
  EXPECT(weft_loop_call_soon(h.loop, noop, NULL));
  EXPECT(weft_loop_call_soon_threadsafe(h.loop, noop, NULL));
  EXPECT(weft_loop_call_later((weft_future_t**)&p, h.loop, 1, noop, NULL));
  EXPECT(weft_loop_call_at(NULL, h.loop, 1, noop, NULL));
  EXPECT(weft_loop_now(&u, h.loop));
  EXPECT(weft_loop_advance_clock(h.loop, 1));
  EXPECT(weft_loop_backend_fd(&i, h.loop));
  EXPECT(weft_loop_backend_timeout(&ns, h.loop));
  EXPECT(weft_loop_scope((weft_scope_t**)&p, h.loop));
  EXPECT(weft_future_create((weft_future_t**)&p, h.loop));
  EXPECT(weft_future_cancel(h.timer));
  EXPECT(weft_future_resolve(h.future, &v));
  EXPECT(weft_future_reject(h.future, WEFT_ERR_TIMED_OUT, NULL));
  EXPECT(weft_future_cancel(h.future));
  EXPECT(weft_future_then(h.future, h.loop, noop_future, NULL));
  EXPECT(weft_future_retain(h.future));
  EXPECT(weft_future_result(NULL, NULL, NULL, h.future));
  EXPECT(weft_future_set_name(h.future, "x"));
  EXPECT(weft_future_all((weft_future_t**)&p, h.loop, &h.future, 1));
  EXPECT(weft_future_any((weft_future_t**)&p, h.loop, &h.future, 1));
  EXPECT(weft_future_with_timeout((weft_future_t**)&p, h.loop, h.future, 1));
  EXPECT(weft_strand_create((weft_executor_t**)&p, h.executor));
  EXPECT(weft_executor_submit(NULL, h.executor, h.loop, noop_work, NULL, NULL));
  EXPECT(weft_scope_loop((weft_loop_t**)&p, h.scope));
  EXPECT(weft_scope_cancel(h.scope));
  EXPECT(weft_scope_drain(&n, h.scope, 1));
  EXPECT(weft_scope_list(h.scope, noop_visit, NULL));
  return bad;
}

static void test_misuse__null_handles(void** state) {
  (void)state;
  misuse_record m;
  misuse_recorder_install(&m);
  handles none = {0};
  assert_int_equal(call_everything(none, WEFT_ERR_INVALID_HANDLE, WEFT_ERR_INVALID_HANDLE), 0);
  assert_int_equal(m.count, 39);
  assert_int_equal(m.last_status, WEFT_ERR_INVALID_HANDLE);
  assert_string_equal(m.last_function, "weft_scope_list");
  assert_non_null(strstr(m.last_message, "NULL"));
  /* Destroy and release accept NULL. */
  assert_int_equal(weft_runtime_destroy(NULL), WEFT_OK);
  assert_int_equal(weft_scope_destroy(NULL), WEFT_OK);
  assert_int_equal(weft_executor_destroy(NULL), WEFT_OK);
  assert_int_equal(weft_future_release(NULL), WEFT_OK);
  misuse_recorder_remove();
}

static void test_misuse__handles_of_the_wrong_kind(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record m;
  misuse_recorder_install(&m);
  /* Every parameter gets a live handle of another kind. */
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  handles wrong = {(weft_runtime_t*)f->loop, (weft_loop_t*)f->runtime, (weft_scope_t*)fut,
                   (weft_future_t*)f->pool,   (weft_future_t*)f->pool,  (weft_executor_t*)fut};
  assert_int_equal(call_everything(wrong, WEFT_ERR_INVALID_HANDLE, WEFT_ERR_INVALID_HANDLE), 0);
  assert_non_null(strstr(m.last_message, "another kind"));
  weft_future_release(fut);
  misuse_recorder_remove();
}

static void test_misuse__forged_handles_never_crash(void** state) {
  fixture* f = FIXTURE(state);
  (void)f;
  int local;
  void* forged[] = {(void*)1, (void*)0x12345, (void*)&local, (void*)test_misuse__forged_handles_never_crash,
                    (void*)(uintptr_t)0xFFFFFFFFFFFFFFFFull, (void*)(uintptr_t)0x00007FFF00000003ull};
  for (size_t k = 0; k < sizeof(forged) / sizeof(forged[0]); ++k) {
    handles h = {forged[k], forged[k], forged[k], forged[k], forged[k], forged[k]};
    assert_int_equal(call_everything(h, WEFT_ERR_INVALID_HANDLE, WEFT_ERR_STALE_HANDLE), 0);
  }
}

static void test_misuse__handles_used_after_destroy(void** state) {
  (void)state;
  misuse_record m;
  misuse_recorder_install(&m);
  weft_runtime_t* rt;
  weft_runtime_create(&rt, NULL);
  handles h = {rt, NULL, NULL, NULL, NULL, NULL};
  weft_runtime_loop(&h.loop, rt);
  weft_scope_create(&h.scope, rt, "s");
  weft_loop_call_later(&h.timer, h.loop, WEFT_SEC(1), noop, NULL);
  weft_future_create(&h.future, h.loop);
  weft_pool_create(&h.executor, rt, NULL);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  assert_int_equal(m.count, 0);
  assert_int_equal(call_everything(h, WEFT_ERR_STALE_HANDLE, WEFT_ERR_STALE_HANDLE), 0);
  /* Double destroy of each kind. */
  assert_int_equal(weft_runtime_destroy(rt), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_scope_destroy(h.scope), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_executor_destroy(h.executor), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_future_release(h.future), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(m.last_status, WEFT_ERR_STALE_HANDLE);
  misuse_recorder_remove();
}

static void* misuse_from_thread(void* arg) {
  fixture* f = arg;
  weft_future_t* fut = NULL;
  weft_scope_t* scope = NULL;
  weft_stats stats = WEFT_STATS_INIT;
  int wrong = 0;
  wrong += weft_loop_call_soon(f->loop, noop, NULL) == WEFT_ERR_WRONG_THREAD;
  wrong += weft_loop_call_later(NULL, f->loop, 1, noop, NULL) == WEFT_ERR_WRONG_THREAD;
  wrong += weft_future_create(&fut, f->loop) == WEFT_ERR_WRONG_THREAD;
  wrong += weft_scope_create(&scope, f->runtime, "x") == WEFT_ERR_WRONG_THREAD;
  wrong += weft_runtime_stats(&stats, f->runtime) == WEFT_ERR_WRONG_THREAD;
  wrong += weft_runtime_destroy(f->runtime) == WEFT_ERR_WRONG_THREAD;
  wrong += weft_executor_submit(NULL, f->pool, f->loop, noop_work, NULL, NULL) == WEFT_ERR_WRONG_THREAD;
  /* ...while these are fine from any thread. */
  wrong += 10 * (weft_loop_call_soon_threadsafe(f->loop, noop, NULL) == WEFT_OK);
  wrong += 10 * (weft_loop_stop(f->loop) == WEFT_OK);
  return (void*)(intptr_t)wrong;
}

static void test_misuse__loop_thread_calls_from_another_thread(void** state) {
  fixture* f = FIXTURE(state);
  pthread_t t;
  pthread_create(&t, NULL, misuse_from_thread, f);
  void* result;
  pthread_join(t, &result);
  assert_int_equal((intptr_t)result, 7 + 20);
  weft_loop_run(f->loop, WEFT_RUN_NOWAIT);
}

static void test_misuse__invalid_enums_and_sizes(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record m;
  misuse_recorder_install(&m);
  assert_int_equal(weft_loop_run(f->loop, (weft_run_mode)42), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_MODE_FORCE32), WEFT_ERR_INVALID_ARGUMENT);
  weft_runtime_options o = WEFT_RUNTIME_OPTIONS_INIT;
  o.clock = WEFT_CLOCK_FORCE32;
  weft_runtime_t* rt = NULL;
  assert_int_equal(weft_runtime_create(&rt, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.clock = WEFT_CLOCK_MONOTONIC;
  o.struct_size = sizeof(o) - 1;
  assert_int_equal(weft_runtime_create(&rt, &o), WEFT_ERR_INVALID_ARGUMENT);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  weft_value v;
  memset(&v, 0, sizeof(v));
  v.kind = WEFT_VALUE_KIND_FORCE32;
  assert_int_equal(weft_future_resolve(fut, &v), WEFT_ERR_INVALID_ARGUMENT);
  v.kind = (weft_value_kind)-3;
  assert_int_equal(weft_future_resolve(fut, &v), WEFT_ERR_INVALID_ARGUMENT);
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  report.struct_size = 1;
  assert_int_equal(weft_loop_run_for(&report, f->loop, 1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(m.count, 7);
  assert_non_null(strstr(m.last_message, "struct_size"));
  weft_future_release(fut);
  misuse_recorder_remove();
}

static void abort_on_misuse(void* user, const char* function, weft_status status, const char* message) {
  (void)user;
  fprintf(stderr, "misuse in %s: %s (%s)\n", function, message, weft_status_name(status));
  abort();
}

static void test_misuse__a_host_can_abort_instead(void** state) {
  (void)state;
  fflush(NULL);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    weft_set_misuse_handler(abort_on_misuse, NULL);
    weft_runtime_t* rt;
    weft_runtime_create(&rt, NULL);
    weft_runtime_destroy(rt);
    weft_runtime_destroy(rt); /* double destroy: the handler aborts */
    _exit(0);
  }
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* The handler gets the function's name apart: the message does not start
 * with it again ("weft_loop_run: weft_loop_run: mode 9 ..."). */
static void test_misuse__messages_do_not_repeat_the_function_name(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record m;
  misuse_recorder_install(&m);
  assert_int_equal(weft_loop_run(f->loop, (weft_run_mode)9), WEFT_ERR_INVALID_ARGUMENT);
  assert_string_equal(m.last_function, "weft_loop_run");
  assert_string_equal(m.last_message, "mode 9 is not a weft_run_mode");
  assert_int_equal(weft_executor_destroy(f->pool), WEFT_ERR_INVALID_ARGUMENT);
  assert_string_equal(m.last_function, "weft_executor_destroy");
  assert_int_not_equal(strncmp(m.last_message, "weft_executor_destroy", strlen("weft_executor_destroy")), 0);
  assert_non_null(strstr(m.last_message, "default pool"));
  assert_int_equal(m.count, 2);
  misuse_recorder_remove();
}

/* With no handler installed (or after NULL), misuse is not silent: one line
 * on stderr names the function, the problem and the status. */
static void test_misuse__the_default_handler_writes_to_stderr(void** state) {
  (void)state;
  weft_set_misuse_handler(NULL, NULL);
  FILE* capture = tmpfile();
  assert_non_null(capture);
  fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  assert_true(saved >= 0);
  assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
  const weft_status status = weft_loop_run(NULL, WEFT_RUN_NOWAIT);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  assert_int_equal(status, WEFT_ERR_INVALID_HANDLE);
  char text[512] = {0};
  rewind(capture);
  const size_t n = fread(text, 1, sizeof(text) - 1, capture);
  fclose(capture);
  text[n] = '\0';
  assert_non_null(strstr(text, "weft: misuse: weft_loop_run: "));
  assert_non_null(strstr(text, "NULL"));
  assert_non_null(strstr(text, "WEFT_ERR_INVALID_HANDLE"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_misuse__null_handles),
      cmocka_unit_test_setup_teardown(test_misuse__handles_of_the_wrong_kind, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_misuse__forged_handles_never_crash, fixture_setup, fixture_teardown),
      cmocka_unit_test(test_misuse__handles_used_after_destroy),
      cmocka_unit_test_setup_teardown(test_misuse__loop_thread_calls_from_another_thread, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_misuse__invalid_enums_and_sizes, fixture_setup, fixture_teardown),
      cmocka_unit_test(test_misuse__a_host_can_abort_instead),
      cmocka_unit_test_setup_teardown(test_misuse__messages_do_not_repeat_the_function_name, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test(test_misuse__the_default_handler_writes_to_stderr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
