/* host_futures_test.c: futures handed between a C host and a Lua script
 * (weft_lua_host_futures.h): a script awaits a future C resolves; C awaits
 * a script task's future; unloading the script cancels that task's future
 * while C's own future stays usable; each side's references are its own;
 * bad calls are refused without touching the stack or the references.
 * cmocka; the loop thread is the test's thread.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bindings/lua/weft_lua_host_futures.h"

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

static lua_Integer global_int(lua_State* L, const char* name) {
  lua_getglobal(L, name);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* Steps the loop until *flag is set (bounded: 5 s). */
static void step_until(fixture* f, const int* flag) {
  for (int i = 0; i < 5000 && !*flag; i++) {
    weft_run_report report = WEFT_RUN_REPORT_INIT;
    weft_loop_run_for(&report, f->loop, WEFT_MS(2));
    if (report.ran == 0) nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  if (!*flag) fail_msg("the awaited outcome never came");
}

typedef struct outcome {
  int done;
  weft_status status;
  int64_t value;
} outcome;

static void record(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                   const char* message) {
  (void)future, (void)message;
  outcome* o = (outcome*)user;
  o->status = status;
  if (status == WEFT_OK) weft_value_get_int64(&o->value, value);
  o->done = 1;
}

static void print_straggler(void* user, const weft_object_info* info) {
  (void)user;
  print_message("straggler: %s '%s' (%s)\n", info->scope, info->name, info->state);
}

static int lua_flag;

static int set_flag(lua_State* L) {
  (void)L;
  lua_flag = 1;
  return 0;
}

static void script_awaits_a_c_future(void** state) {
  fixture* f = (fixture*)*state;
  weft_future_t* future = NULL;
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  int top = lua_gettop(f->L);
  assert_int_equal(weft_lua_host_push_future(f->L, future), WEFT_OK);
  assert_int_equal(lua_gettop(f->L), top + 1);
  lua_setglobal(f->L, "from_c");
  lua_flag = 0;
  lua_register(f->L, "set_flag", set_flag);
  run_script(f->L,
             "local weft = require 'weft'\n"
             "weft.spawn(function()\n"
             "  got = from_c:await()\n"
             "  from_c:release()\n"
             "  from_c = nil\n"
             "  set_flag()\n"
             "end)\n");
  weft_value v = weft_value_int64(41);
  assert_int_equal(weft_future_resolve(future, &v), WEFT_OK);
  step_until(f, &lua_flag);
  assert_int_equal(global_int(f->L, "got"), 41);
  /* Lua dropped its reference; C's own is still good. */
  weft_status status = WEFT_ERR_UNKNOWN;
  assert_int_equal(weft_future_result(&status, NULL, NULL, future), WEFT_OK);
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(weft_future_release(future), WEFT_OK);
}

static void host_awaits_a_script_task(void** state) {
  fixture* f = (fixture*)*state;
  run_script(f->L,
             "local weft = require 'weft'\n"
             "local task = weft.spawn(function() weft.sleep(0.01); return 7 end)\n"
             "task_future = task:future()\n");
  lua_getglobal(f->L, "task_future");
  weft_future_t* future = NULL;
  assert_int_equal(weft_lua_host_to_future(&future, f->L, -1), WEFT_OK);
  lua_pop(f->L, 1);
  /* The script lets go of its reference: the host's keeps the future. */
  run_script(f->L, "task_future:release(); task_future = nil; collectgarbage()");
  outcome o = {0};
  assert_int_equal(weft_future_then(future, f->loop, record, &o), WEFT_OK);
  step_until(f, &o.done);
  assert_int_equal(o.status, WEFT_OK);
  assert_int_equal(o.value, 7);
  assert_int_equal(weft_future_release(future), WEFT_OK);
}

static void unload_cancels_the_task_future_but_not_the_hosts(void** state) {
  fixture* f = (fixture*)*state;
  weft_future_t* never = NULL;
  assert_int_equal(weft_future_create(&never, f->loop), WEFT_OK);
  assert_int_equal(weft_lua_host_push_future(f->L, never), WEFT_OK);
  lua_setglobal(f->L, "never");
  run_script(f->L,
             "local weft = require 'weft'\n"
             "local task = weft.spawn(function() weft.sleep(3600); return never end)\n"
             "task_future = task:future()\n");
  lua_getglobal(f->L, "task_future");
  weft_future_t* task_future = NULL;
  assert_int_equal(weft_lua_host_to_future(&task_future, f->L, -1), WEFT_OK);
  lua_pop(f->L, 1);
  outcome o = {0};
  assert_int_equal(weft_future_then(task_future, f->loop, record, &o), WEFT_OK);
  for (int i = 0; i < 5; i++) weft_loop_run_for(NULL, f->loop, WEFT_MS(1));
  assert_int_equal(o.done, 0);

  size_t left = 99;
  assert_int_equal(weft_lua_host_unload(f->L, WEFT_MS(100), print_straggler, NULL, &left), WEFT_OK);
  assert_int_equal(left, 0);
  step_until(f, &o.done);
  assert_int_equal(o.status, WEFT_ERR_CANCELLED);
  /* The script's values of the unloaded runtime are dead to the host. */
  lua_getglobal(f->L, "task_future");
  weft_future_t* unused = NULL;
  assert_int_equal(weft_lua_host_to_future(&unused, f->L, -1), WEFT_ERR_STALE_HANDLE);
  lua_pop(f->L, 1);
  /* The host's future was only awaited by the script: still pending, still its. */
  weft_value v = weft_value_int64(1);
  assert_int_equal(weft_future_resolve(never, &v), WEFT_OK);
  assert_int_equal(weft_future_release(never), WEFT_OK);
  assert_int_equal(weft_future_release(task_future), WEFT_OK);
  /* An unloaded script takes no futures. */
  weft_future_t* another = NULL;
  assert_int_equal(weft_future_create(&another, f->loop), WEFT_OK);
  int top = lua_gettop(f->L);
  assert_int_equal(weft_lua_host_push_future(f->L, another), WEFT_ERR_INVALID_STATE);
  assert_int_equal(lua_gettop(f->L), top);
  assert_int_equal(weft_future_release(another), WEFT_OK);
}

static void bad_calls_are_refused(void** state) {
  fixture* f = (fixture*)*state;
  weft_future_t* future = NULL;
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  int top = lua_gettop(f->L);
  assert_int_equal(weft_lua_host_push_future(NULL, future), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_lua_host_push_future(f->L, NULL), WEFT_ERR_INVALID_ARGUMENT);

  weft_future_t* out = NULL;
  assert_int_equal(weft_lua_host_to_future(NULL, f->L, 1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_lua_host_to_future(&out, NULL, 1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_lua_host_to_future(&out, f->L, top + 5), WEFT_ERR_INVALID_ARGUMENT);
  lua_pushinteger(f->L, 3);
  assert_int_equal(weft_lua_host_to_future(&out, f->L, -1), WEFT_ERR_INVALID_ARGUMENT);
  lua_pop(f->L, 1);
  run_script(f->L, "task_like = { future = true }");
  lua_getglobal(f->L, "task_like");
  assert_int_equal(weft_lua_host_to_future(&out, f->L, -1), WEFT_ERR_INVALID_ARGUMENT);
  lua_pop(f->L, 1);
  /* A weft.Future the script released. */
  assert_int_equal(weft_lua_host_push_future(f->L, future), WEFT_OK);
  lua_setglobal(f->L, "f");
  run_script(f->L, "f:release()");
  lua_getglobal(f->L, "f");
  assert_int_equal(weft_lua_host_to_future(&out, f->L, -1), WEFT_ERR_STALE_HANDLE);
  lua_pop(f->L, 1);
  assert_null(out);
  assert_int_equal(lua_gettop(f->L), top);

  /* A state without the weft module: refused, nothing pushed, no reference kept. */
  lua_State* plain = luaL_newstate();
  assert_int_equal(weft_lua_host_push_future(plain, future), WEFT_ERR_INVALID_STATE);
  assert_int_equal(lua_gettop(plain), 0);
  lua_pushinteger(plain, 1);
  assert_int_equal(weft_lua_host_to_future(&out, plain, -1), WEFT_ERR_INVALID_STATE);
  lua_close(plain);

  /* A released future is stale: pushing it fails, and pushes nothing. */
  assert_int_equal(weft_future_release(future), WEFT_OK);
  assert_int_not_equal(weft_lua_host_push_future(f->L, future), WEFT_OK);
  assert_int_equal(lua_gettop(f->L), top);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(script_awaits_a_c_future, setup, teardown),
      cmocka_unit_test_setup_teardown(host_awaits_a_script_task, setup, teardown),
      cmocka_unit_test_setup_teardown(unload_cancels_the_task_future_but_not_the_hosts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(bad_calls_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
