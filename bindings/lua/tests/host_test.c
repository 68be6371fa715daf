/* host_test.c: the Lua module inside a C host (weft_lua_host.h), checked
 * from C: 10,000 erroring callbacks and 10,000 erroring tasks leave the Lua
 * stack where it was and reach the error handler; unloading a script
 * cancels its tasks, lists a task that will not stop, and leaves the host's
 * runtime usable; call_later's timers fire in deadline order (equal
 * deadlines in creation order) on a manual clock stepped with run_for;
 * unloading drops queued callbacks and timers, and so does a scope cancelled
 * inside one of its timers; offloaded C work runs on the
 * pool; bad calls are refused.
 * cmocka; the loop thread is the test's thread.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bindings/lua/weft_lua_host.h"

typedef struct fixture {
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  lua_State* L;
} fixture;

static int setup(void** state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  assert_int_equal(weft_runtime_create(&f.runtime, NULL), WEFT_OK);
  weft_runtime_loop(&f.loop, f.runtime);
  f.L = luaL_newstate();
  luaL_openlibs(f.L);
  assert_int_equal(weft_lua_host_open(f.L, f.runtime, "script"), WEFT_OK);
  *state = &f;
  return 0;
}

static int teardown(void** state) {
  fixture* f = (fixture*)*state;
  if (weft_lua_host_scope(f->L) != NULL) weft_lua_host_unload(f->L, WEFT_MS(100), NULL, NULL, NULL);
  lua_close(f->L);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  return 0;
}

static void run_script(lua_State* L, const char* code) {
  if (luaL_dostring(L, code) != LUA_OK) fail_msg("script failed: %s", lua_tostring(L, -1));
}

/* Steps the loop as a host does, until `global` reaches `target` (bounded). */
static void step_until(fixture* f, const char* global, lua_Integer target) {
  for (int i = 0; i < 5000; i++) {
    lua_getglobal(f->L, global);
    lua_Integer v = lua_tointeger(f->L, -1);
    lua_pop(f->L, 1);
    if (v >= target) return;
    weft_run_report report = WEFT_RUN_REPORT_INIT;
    weft_loop_run_for(&report, f->loop, WEFT_MS(2));
    if (report.ran == 0) nanosleep(&(struct timespec){0, 1000000}, NULL); /* waiting for the pool or a timer */
  }
  fail_msg("%s never reached %lld", global, (long long)target);
}

static void erroring_callbacks_keep_the_stack_balanced(void** state) {
  fixture* f = (fixture*)*state;
  run_script(f->L,
             "local weft = require 'weft'\n"
             "handled = 0\n"
             "weft.set_error_handler(function(err, traceback) handled = handled + 1 end)\n"
             "for i = 1, 10000 do weft.call_soon(function() error('callback ' .. i) end) end\n"
             "for i = 1, 10000 do weft.spawn(function() weft.yield(); error({i}) end) end\n");
  int top = lua_gettop(f->L);
  size_t before = weft_lua_host_errors(f->L);
  step_until(f, "handled", 20000);
  assert_int_equal(lua_gettop(f->L), top);
  assert_int_equal(weft_lua_host_errors(f->L) - before, 20000);
}

static void default_handler_survives_errors(void** state) {
  fixture* f = (fixture*)*state;
  run_script(f->L,
             "local weft = require 'weft'\n"
             "after = 0\n"
             "weft.call_soon(function() error('to stderr') end)\n"
             "weft.call_soon(function() after = 1 end)\n");
  int top = lua_gettop(f->L);
  step_until(f, "after", 1);
  assert_int_equal(lua_gettop(f->L), top);
}

static void count_straggler(void* user, const weft_object_info* info) {
  (void)info;
  (*(size_t*)user)++;
}

static void unload_cancels_and_lists_stragglers(void** state) {
  fixture* f = (fixture*)*state;
  run_script(f->L,
             "local weft = require 'weft'\n"
             "started, cleaned = 0, 0\n"
             "for i = 1, 3 do weft.spawn(function()\n"
             "  started = started + 1\n"
             "  local ok, err = pcall(weft.sleep, 3600)\n"
             "  if weft.is_cancelled(err) then cleaned = cleaned + 1 end\n"
             "end) end\n"
             /* a task that will not stop: it catches the cancellation and
              * waits for a future nobody resolves */
             "stubborn = weft.future()\n"
             "weft.spawn(function()\n"
             "  pcall(weft.sleep, 3600)\n"
             "  weft.await(stubborn)\n"
             "end)\n");
  step_until(f, "started", 3);
  size_t left = 0, listed = 0;
  assert_int_equal(weft_lua_host_unload(f->L, WEFT_MS(50), count_straggler, &listed, &left), WEFT_OK);
  assert_true(left > 0);    /* the stubborn task's future and its wait */
  assert_true(listed > 0);  /* ... were listed */
  lua_getglobal(f->L, "cleaned");
  assert_int_equal(lua_tointeger(f->L, -1), 3);
  lua_pop(f->L, 1);
  assert_null(weft_lua_host_scope(f->L));
  /* The script's weft side is gone; plain Lua still works, weft calls refuse. */
  assert_int_not_equal(luaL_dostring(f->L, "require('weft').spawn(function() end)"), LUA_OK);
  lua_pop(f->L, 1);
  /* The host's runtime goes on. */
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  assert_int_equal(weft_loop_run_for(&report, f->loop, WEFT_MS(1)), WEFT_OK);
  assert_int_equal(weft_lua_host_unload(f->L, 0, NULL, NULL, NULL), WEFT_ERR_INVALID_STATE);
}

/* On a manual clock, deadlines are exact: timers with equal deadlines fire
 * in the order they were created, cancelled ones never, and a host stepping
 * the loop with run_for while moving the clock sees them in deadline order
 * even while the heap churns. */
static void timers_on_a_manual_clock_fire_in_order(void** state) {
  fixture* f = (fixture*)*state;
  weft_lua_host_unload(f->L, 0, NULL, NULL, NULL);
  lua_close(f->L);
  weft_runtime_destroy(f->runtime);
  weft_runtime_options options;
  weft_runtime_options_init(&options, sizeof options);
  options.clock = WEFT_CLOCK_MANUAL;
  assert_int_equal(weft_runtime_create(&f->runtime, &options), WEFT_OK);
  weft_runtime_loop(&f->loop, f->runtime);
  f->L = luaL_newstate();
  luaL_openlibs(f->L);
  assert_int_equal(weft_lua_host_open(f->L, f->runtime, "clocked"), WEFT_OK);
  run_script(f->L,
             "local weft = require 'weft'\n"
             "fired, expected, done = {}, {}, 0\n"
             "local seed, entries = 99, {}\n"
             "for i = 1, 600 do\n"
             "  seed = (seed * 1103515245 + 12345) % 2147483648\n"
             "  local ms = seed % 20 + 1\n" /* many equal deadlines */
             "  local t = weft.call_later(ms / 1000, function() fired[#fired + 1] = i end)\n"
             "  if i % 3 == 0 then t:cancel() else entries[#entries + 1] = { ms, i } end\n"
             "end\n"
             "table.sort(entries, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)\n"
             "for k, e in ipairs(entries) do expected[k] = e[2] end\n"
             "weft.call_later(0.025, function() done = 1 end)\n");
  for (int ms = 0; ms < 30; ms++) {
    weft_run_report report = WEFT_RUN_REPORT_INIT;
    assert_int_equal(weft_loop_advance_clock(f->loop, WEFT_MS(1)), WEFT_OK);
    for (int i = 0; i < 10; i++) weft_loop_run_for(&report, f->loop, WEFT_MS(2));
  }
  run_script(f->L,
             "assert(done == 1, 'the last timer fired')\n"
             "assert(#fired == #expected, 'fired ' .. #fired .. ' of ' .. #expected)\n"
             "for k = 1, #expected do assert(fired[k] == expected[k], 'order at ' .. k) end\n");
}

/* Unloading drops the script's queued callbacks and armed timers: none of
 * them runs, later or in the next script on the same lua_State. */
static void unload_drops_queued_callbacks_and_timers(void** state) {
  fixture* f = (fixture*)*state;
  run_script(f->L,
             "local weft = require 'weft'\n"
             "ran = 0\n"
             "timer = weft.call_later(0.001, function() ran = ran + 1 end)\n"
             "for i = 1, 100 do weft.call_soon(function() ran = ran + 1 end) end\n");
  size_t left = 0;
  assert_int_equal(weft_lua_host_unload(f->L, 0, NULL, NULL, &left), WEFT_OK);
  run_script(f->L, "assert(not timer:active(), 'timer dropped'); assert(ran == 0, 'nothing ran')\n");
  assert_int_equal(weft_lua_host_open(f->L, f->runtime, "second"), WEFT_OK);
  run_script(f->L, "require('weft').call_soon(function() ran = ran + 1000 end)\n");
  step_until(f, "ran", 1000);
  nanosleep(&(struct timespec){0, 3000000}, NULL);
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  weft_loop_run_for(&report, f->loop, WEFT_MS(2));
  lua_getglobal(f->L, "ran");
  assert_int_equal(lua_tointeger(f->L, -1), 1000);
  lua_pop(f->L, 1);
}

static int cancel_own_scope(lua_State* L) {
  assert_int_equal(weft_scope_cancel(weft_lua_host_scope(L)), WEFT_OK);
  return 0;
}

/* A script whose scope is cancelled from inside one of its timers (here by
 * the script itself, through a C function of the host's) while another
 * timer is pending: the pending timer never runs, nothing fails — no error
 * reaches the handler and the scheduler writes nothing to stderr — and the
 * host's loop goes on. */
static void scope_cancelled_inside_a_timer(void** state) {
  fixture* f = (fixture*)*state;
  lua_register(f->L, "cancel_own_scope", cancel_own_scope);
  run_script(f->L,
             "local weft = require 'weft'\n"
             "errors, fired, late = 0, 0, 0\n"
             "weft.set_error_handler(function() errors = errors + 1 end)\n"
             "weft.call_later(0.001, function() cancel_own_scope(); fired = 1 end)\n"
             "weft.call_later(3600, function() late = 1 end)\n");
  char path[] = "/tmp/weft-lua-stderr-XXXXXX";
  int captured = mkstemp(path);
  assert_true(captured >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(captured, 2);
  step_until(f, "fired", 1);
  for (int i = 0; i < 10; i++) {
    weft_run_report report = WEFT_RUN_REPORT_INIT;
    weft_loop_run_for(&report, f->loop, WEFT_MS(1));
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char text[512] = {0};
  ssize_t n = pread(captured, text, sizeof text - 1, 0);
  close(captured);
  unlink(path);
  assert_true(n >= 0);
  if (n > 0) fail_msg("the scheduler wrote to stderr: %s", text);
  run_script(f->L, "assert(errors == 0, 'errors: ' .. errors); assert(late == 0, 'a cancelled timer ran')\n");
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  assert_int_equal(weft_loop_run_for(&report, f->loop, WEFT_MS(1)), WEFT_OK);
}

static size_t work_calls = 0;

/* On a pool worker. */
static weft_status double_it(void* user, const weft_value* argument, weft_value* result) {
  (void)user;
  int64_t v = 0;
  if (weft_value_get_int64(&v, argument) != WEFT_OK) return WEFT_ERR_INVALID_ARGUMENT;
  __atomic_add_fetch(&work_calls, 1, __ATOMIC_RELAXED);
  *result = weft_value_int64(v * 2);
  return WEFT_OK;
}

static void offload_runs_registered_c_work(void** state) {
  fixture* f = (fixture*)*state;
  assert_int_equal(weft_lua_host_register_work(f->L, "double", double_it, NULL), WEFT_OK);
  assert_int_equal(weft_lua_host_register_work(f->L, NULL, double_it, NULL), WEFT_ERR_INVALID_ARGUMENT);
  run_script(f->L,
             "local weft = require 'weft'\n"
             "sum, failures = 0, 0\n"
             "weft.spawn(function()\n"
             "  local tasks = {}\n"
             "  for i = 1, 50 do tasks[i] = weft.spawn(weft.offload, 'double', i) end\n"
             "  for _, v in ipairs(weft.all(tasks)) do sum = sum + v end\n"
             "  local ok, err = pcall(weft.offload, 'double', 'not a number')\n"
             "  if not ok and err.status == weft.WEFT_ERR_INVALID_ARGUMENT then failures = failures + 1 end\n"
             "  done = 1\n"
             "end)\n");
  step_until(f, "done", 1);
  lua_getglobal(f->L, "sum");
  assert_int_equal(lua_tointeger(f->L, -1), 2550);
  lua_getglobal(f->L, "failures");
  assert_int_equal(lua_tointeger(f->L, -1), 1);
  lua_pop(f->L, 2);
  assert_int_equal(__atomic_load_n(&work_calls, __ATOMIC_RELAXED), 50); /* the refused argument never counted */
}

static void open_refuses_bad_calls(void** state) {
  fixture* f = (fixture*)*state;
  assert_int_equal(weft_lua_host_open(NULL, f->runtime, "x"), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_lua_host_open(f->L, NULL, "x"), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_lua_host_open(f->L, f->runtime, "again"), WEFT_ERR_INVALID_STATE);
  /* weft.run is refused inside a host's script. */
  assert_int_not_equal(luaL_dostring(f->L, "require('weft').run(function() end)"), LUA_OK);
  lua_pop(f->L, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(erroring_callbacks_keep_the_stack_balanced, setup, teardown),
      cmocka_unit_test_setup_teardown(default_handler_survives_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(unload_cancels_and_lists_stragglers, setup, teardown),
      cmocka_unit_test_setup_teardown(timers_on_a_manual_clock_fire_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(unload_drops_queued_callbacks_and_timers, setup, teardown),
      cmocka_unit_test_setup_teardown(scope_cancelled_inside_a_timer, setup, teardown),
      cmocka_unit_test_setup_teardown(offload_runs_registered_c_work, setup, teardown),
      cmocka_unit_test_setup_teardown(open_refuses_bad_calls, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
