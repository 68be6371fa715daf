/* state.c: the Lua module's per-lua_State state — which runtime and loop the
 * script uses — plus the C half of weft.run (a standalone script's own
 * runtime; weft.lua runs main as a task between _run_begin and _run_end), error
 * values (weft.Error) and the error handler that failed tasks and callbacks
 * are reported to.
 *
 * Thread: the loop thread (the thread running the Lua state).
 * Ownership: the state userdata lives in the registry; inside weft.run it
 * owns the runtime it created and destroys it before weft.run returns.
 */
#include <stdio.h>
#include <string.h>

#include "bindings/lua/weft_lua.h"

static const char WL_STATE_KEY = 'w';

wl_state* wl_state_get(lua_State* L) {
  lua_pushlightuserdata(L, (void*)&WL_STATE_KEY);
  lua_rawget(L, LUA_REGISTRYINDEX);
  wl_state* S = (wl_state*)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (S == NULL) luaL_error(L, "weft: module state missing (require \"weft\" first)");
  return S;
}

void wl_state_check_runtime(lua_State* L, wl_state* S, const char* what) {
  if (S->runtime == NULL || S->closing) {
    lua_pushfstring(L, "%s needs a runtime: call it inside weft.run(main) or a host's script", what);
    wl_raise(L, WEFT_ERR_INVALID_STATE, lua_tostring(L, -1));
  }
}

/* ---- error values ---- */

void wl_push_error(lua_State* L, weft_status status, const char* message) {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)status);
  lua_setfield(L, -2, "status");
  lua_pushstring(L, weft_status_name(status));
  lua_setfield(L, -2, "name");
  lua_pushstring(L, message != NULL ? message : weft_status_str(status));
  lua_setfield(L, -2, "message");
  wl_setmetatable(L, WL_ERROR_MT);
}

int wl_raise(lua_State* L, weft_status status, const char* message) {
  wl_push_error(L, status, message);
  return lua_error(L);
}

int wl_raise_op(lua_State* L, weft_status status, const char* what) {
  lua_pushfstring(L, "%s: %s", what, weft_status_str(status));
  return wl_raise(L, status, lua_tostring(L, -1));
}

static int l_error_tostring(lua_State* L) {
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "?"), luaL_optstring(L, -1, "?"));
  return 1;
}

/* weft.error(status, message): an error value for an application status. */
static int l_make_error(lua_State* L) {
  lua_Integer status = luaL_checkinteger(L, 1);
  wl_push_error(L, (weft_status)status, luaL_optstring(L, 2, NULL));
  return 1;
}

/* The text of any error value: its __tostring, or the string itself. */
const char* wl_tostring(lua_State* L, int index) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  if (luaL_callmeta(L, index, "__tostring") && lua_isstring(L, -1)) return lua_tostring(L, -1);
  if (lua_isstring(L, index)) {
    lua_pushvalue(L, index);
    return lua_tostring(L, -1);
  }
  lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, index));
  return lua_tostring(L, -1);
}

void wl_report_error_with(wl_state* S, lua_State* L, const char* where) {
  int top = lua_gettop(L) - 2; /* the error value, then its traceback */
  S->errors_reported++;
  int handled = 0;
  if (S->handler_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, S->handler_ref);
    lua_pushvalue(L, top + 1);
    lua_pushvalue(L, top + 2);
    lua_pushstring(L, where);
    if (lua_pcall(L, 3, 0, 0) == LUA_OK) {
      handled = 1;
    } else {
      fprintf(stderr, "weft: the Lua error handler failed: %s\n", wl_tostring(L, -1));
      lua_pop(L, 2);
    }
  }
  if (!handled) fprintf(stderr, "weft: %s: %s\n", where, lua_tostring(L, top + 2));
  lua_settop(L, top);
}

void wl_report_error(wl_state* S, lua_State* L, lua_State* from, const char* where) {
  int top = lua_gettop(L); /* the error value is at the top */
  const char* text = wl_tostring(L, top);
  luaL_traceback(L, from != NULL ? from : L, text, 0);
  lua_remove(L, top + 1); /* the text */
  wl_report_error_with(S, L, where);
}

/* weft.set_error_handler(fn or nil): fn(err, traceback, where). */
static int l_set_error_handler(lua_State* L) {
  wl_state* S = wl_state_get(L);
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, S->handler_ref);
  S->handler_ref = LUA_NOREF;
  if (!lua_isnoneornil(L, 1)) {
    lua_pushvalue(L, 1);
    S->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return 0;
}

static int l_errors_reported(lua_State* L) {
  lua_pushinteger(L, (lua_Integer)wl_state_get(L)->errors_reported);
  return 1;
}

/* ---- the runtime ---- */

/* Lets the runtime go: tasks.lua ends every live task (closing), pending
 * callbacks are called with WEFT_ERR_CANCELLED and resume nobody. */
static void destroy_runtime(lua_State* L, wl_state* S) {
  S->closing = 1;
  wl_scheduler_reset(S);
  lua_gc(L, LUA_GCCOLLECT, 0); /* futures nobody holds are released while their runtime lives */
  weft_runtime_destroy(S->runtime);
  S->runtime = NULL;
  S->loop = NULL;
  S->owns_runtime = 0;
  S->epoch++;
  S->closing = 0;
}

/* weft.run(main, ...) is weft.lua's, over these three: _run_begin() makes
 * the runtime of its own (raises if the state has one), _run_loop() runs
 * its loop until nothing is left (returns the loop's status), _run_end()
 * destroys it. */
static int l_run_begin(lua_State* L) {
  wl_state* S = wl_state_get(L);
  if (S->runtime != NULL)
    return wl_raise(L, WEFT_ERR_INVALID_STATE, "weft.run: this Lua state already has a runtime");
  weft_runtime_options options;
  weft_runtime_options_init(&options, sizeof options);
  options.name = "weft-lua";
  weft_runtime_t* runtime = NULL;
  weft_status status = weft_runtime_create(&runtime, &options);
  if (status != WEFT_OK) return wl_raise(L, status, "weft.run: cannot create the runtime");
  weft_runtime_loop(&S->loop, runtime);
  S->runtime = runtime;
  S->owns_runtime = 1;
  S->run_previous_L = S->L;
  S->L = L;
  return 0;
}

static int l_run_loop(lua_State* L) {
  wl_state* S = wl_state_get(L);
  if (!S->owns_runtime) return wl_raise(L, WEFT_ERR_INVALID_STATE, "weft.run: no runtime of its own");
  lua_pushinteger(L, (lua_Integer)weft_loop_run(S->loop, WEFT_RUN_DEFAULT));
  return 1;
}

static int l_run_end(lua_State* L) {
  wl_state* S = wl_state_get(L);
  if (!S->owns_runtime) return 0;
  destroy_runtime(L, S);
  S->L = S->run_previous_L;
  S->run_previous_L = NULL;
  return 0;
}

/* _check_runtime(what): raises unless the script has a runtime. */
static int l_check_runtime(lua_State* L) {
  wl_state_check_runtime(L, wl_state_get(L), luaL_checkstring(L, 1));
  return 0;
}

/* weft.now(): the loop clock in seconds (a float). */
static int l_now(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_state_check_runtime(L, S, "weft.now");
  uint64_t ns = 0;
  weft_loop_now(&ns, S->loop);
  lua_pushnumber(L, (lua_Number)ns / 1e9);
  return 1;
}

/* weft.loop(), weft.runtime(): the handles the script uses, for the
 * SWIG-generated C API functions (weft.loop_* etc.). */
void wl_push_loop(lua_State* L, weft_loop_t* loop);
void wl_push_runtime(lua_State* L, weft_runtime_t* runtime);
static int l_loop(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_state_check_runtime(L, S, "weft.loop");
  wl_push_loop(L, S->loop);
  return 1;
}
static int l_runtime(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_state_check_runtime(L, S, "weft.runtime");
  wl_push_runtime(L, S->runtime);
  return 1;
}

static int l_state_gc(lua_State* L) {
  wl_state* S = (wl_state*)lua_touserdata(L, 1);
  /* A host detaches before lua_close; weft.run never leaves a runtime. */
  (void)S;
  return 0;
}

void wl_state_open(lua_State* L) {
  int module = lua_gettop(L);
  lua_pushlightuserdata(L, (void*)&WL_STATE_KEY);
  lua_rawget(L, LUA_REGISTRYINDEX);
  int exists = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (!exists) {
    lua_pushlightuserdata(L, (void*)&WL_STATE_KEY);
    wl_state* S = (wl_state*)lua_newuserdata(L, sizeof *S);
    memset(S, 0, sizeof *S);
    S->handler_ref = LUA_NOREF;
    S->sched_drain_ref = S->sched_fire_ref = S->sched_reset_ref = LUA_NOREF;
    S->task_wake_ref = S->task_cancel_all_ref = S->task_current_ref = LUA_NOREF;
    S->L = L;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }
  luaL_newmetatable(L, WL_ERROR_MT);
  lua_pushcfunction(L, l_error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_setfield(L, module, "Error");

  static const luaL_Reg functions[] = {
      {"_run_begin", l_run_begin},
      {"_run_loop", l_run_loop},
      {"_run_end", l_run_end},
      {"_check_runtime", l_check_runtime},
      {"now", l_now},
      {"loop", l_loop},
      {"runtime", l_runtime},
      {"error", l_make_error},
      {"set_error_handler", l_set_error_handler},
      {"errors_reported", l_errors_reported},
      {NULL, NULL},
  };
  luaL_setfuncs(L, functions, 0);
}
