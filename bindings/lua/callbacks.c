/* callbacks.c: plain Lua function callbacks on the loop — weft.call_soon(fn)
 * and weft.call_later(seconds, fn) — outside the task model, for code that
 * wants luv-style callbacks (and for the W1/W3 benchmark shapes).
 *
 * Thread: the loop thread.
 * Ownership: each call_soon (and each callback of the SWIG-generated
 * functions) holds its function through one registry reference in a
 * malloc'd box; weft calls the callback exactly once (with
 * WEFT_ERR_CANCELLED if it never gets its turn), and that call drops the
 * reference and frees the box. If the C call fails, the box is dropped at
 * once. call_later's timers are Lua userdata that anchor themselves while
 * armed (see wl_timer). A function that raises is reported to the error
 * handler with its traceback; the loop goes on.
 */
#include <stdlib.h>

#include "bindings/lua/weft_lua.h"

typedef struct wl_callback_box {
  wl_state* S;
  int ref;
} wl_callback_box;

/* The message handler of a callback's pcall: {error, traceback}. */
static int traceback_handler(lua_State* L) {
  const char* text = wl_tostring(L, 1);
  luaL_traceback(L, L, text, 1);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 2);
  return 1;
}

/* Calls the function at the top of L with the `nargs` values above it under
 * a traceback handler; a failure goes to the error handler. Leaves L as it
 * was below the function. */
static void call_protected(wl_state* S, lua_State* L, int nargs) {
  int base = lua_gettop(L) - nargs; /* the function */
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  if (lua_pcall(L, nargs, 0, base) != LUA_OK) {
    int failure = lua_gettop(L);
    if (lua_istable(L, failure)) { /* the handler's {error, traceback} */
      lua_rawgeti(L, failure, 1);
      lua_rawgeti(L, failure, 2);
    } else { /* the handler itself failed (out of memory) */
      lua_pushvalue(L, failure);
      wl_tostring(L, failure);
    }
    wl_report_error_with(S, L, "callback failed");
  }
  lua_settop(L, base - 1);
}

static void call_box(void* user, weft_status status, const char* message) {
  (void)message;
  wl_callback_box* box = (wl_callback_box*)user;
  wl_state* S = box->S;
  lua_State* L = S->L;
  if (status == WEFT_OK && !S->closing) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, box->ref);
    call_protected(S, L, 0);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, box->ref);
  free(box);
}

/* ---- the trampolines of the SWIG-generated functions (weft_lua.i) ---- */

void* wl_callbacks_hold(lua_State* L, int index);
void wl_callbacks_drop(lua_State* L, void* box);
void wl_callbacks_run_status(void* user, weft_status status, const char* message);
void wl_callbacks_run_future(void* user, weft_future_t* future, weft_status status,
                             const weft_value* value, const char* message);

/* fn(status, message): called for every outcome (a cancelled timer too). */
void wl_callbacks_run_status(void* user, weft_status status, const char* message) {
  wl_callback_box* box = (wl_callback_box*)user;
  wl_state* S = box->S;
  lua_State* L = S->L;
  if (!S->closing) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, box->ref);
    lua_pushinteger(L, (lua_Integer)status);
    if (message != NULL) lua_pushstring(L, message); else lua_pushnil(L);
    call_protected(S, L, 2);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, box->ref);
  free(box);
}

/* fn(status, value, message). */
void wl_callbacks_run_future(void* user, weft_future_t* future, weft_status status,
                             const weft_value* value, const char* message) {
  (void)future;
  wl_callback_box* box = (wl_callback_box*)user;
  wl_state* S = box->S;
  lua_State* L = S->L;
  if (!S->closing) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, box->ref);
    lua_pushinteger(L, (lua_Integer)status);
    wl_push_value(L, value);
    if (message != NULL) lua_pushstring(L, message); else lua_pushnil(L);
    call_protected(S, L, 3);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, box->ref);
  free(box);
}

static wl_callback_box* new_box(lua_State* L, wl_state* S, int fn_index) {
  luaL_checktype(L, fn_index, LUA_TFUNCTION);
  wl_callback_box* box = (wl_callback_box*)malloc(sizeof *box);
  if (box == NULL) wl_raise(L, WEFT_ERR_NO_MEMORY, "cannot register the callback");
  box->S = S;
  lua_pushvalue(L, fn_index);
  box->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return box;
}

static void drop_box(lua_State* L, wl_callback_box* box) {
  luaL_unref(L, LUA_REGISTRYINDEX, box->ref);
  free(box);
}

void* wl_callbacks_hold(lua_State* L, int index) {
  wl_state* S = wl_state_get(L);
  wl_state_check_runtime(L, S, "a weft callback");
  return new_box(L, S, index);
}

void wl_callbacks_drop(lua_State* L, void* box) { drop_box(L, (wl_callback_box*)box); }

/* weft.call_soon(fn): fn() runs on the loop's next turn (FIFO). */
static int l_call_soon(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_state_check_runtime(L, S, "weft.call_soon");
  wl_callback_box* box = new_box(L, S, 1);
  weft_status status = weft_loop_call_soon(S->loop, call_box, box);
  if (status != WEFT_OK) {
    drop_box(L, box);
    return wl_raise_op(L, status, "weft.call_soon");
  }
  return 0;
}

/* weft.call_later's timers: userdata "weft.Timer". While armed, the handle
 * anchors itself and its function in the registry and holds one reference to
 * the timer's future; weft's single call to on_timer (fired, or cancelled)
 * drops all three. So a timer nobody holds still fires, and a finished one
 * holds nothing: no finalizer is needed. */
typedef struct wl_timer {
  wl_state* S;
  weft_future_t* future; /* while armed */
  int fn_ref;            /* while armed */
  int anchor_ref;        /* while armed */
} wl_timer;

#define WL_TIMER_MT "weft.Timer"

static void on_timer(void* user, weft_status status, const char* message) {
  (void)message;
  wl_timer* t = (wl_timer*)user;
  wl_state* S = t->S;
  lua_State* L = S->L;
  weft_future_t* future = t->future;
  int fn_ref = t->fn_ref, anchor_ref = t->anchor_ref;
  t->future = NULL;
  t->fn_ref = t->anchor_ref = LUA_NOREF;
  if (status == WEFT_OK && !S->closing) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
    call_protected(S, L, 0);
  }
  weft_future_release(future);
  luaL_unref(L, LUA_REGISTRYINDEX, fn_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, anchor_ref); /* t may be collected from here on */
}

/* weft.call_later(seconds, fn): fn() runs once `seconds` have passed;
 * returns the timer (timer:cancel() disarms it). */
static int l_call_later(lua_State* L) {
  wl_state* S = wl_state_get(L);
  lua_Number seconds = luaL_checknumber(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  wl_state_check_runtime(L, S, "weft.call_later");
  if (!(seconds >= 0) || seconds > 1e9)
    return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "weft.call_later: seconds must be between 0 and 1e9");
  wl_timer* t = (wl_timer*)lua_newuserdata(L, sizeof *t);
  t->S = S;
  t->future = NULL;
  wl_setmetatable(L, WL_TIMER_MT);
  weft_status status = weft_loop_call_later(&t->future, S->loop, (uint64_t)(seconds * 1e9), on_timer, t);
  if (status != WEFT_OK) {
    t->fn_ref = t->anchor_ref = LUA_NOREF;
    return wl_raise_op(L, status, "weft.call_later");
  }
  /* Nothing below allocates through weft; the callback cannot run before the
   * loop does. */
  lua_pushvalue(L, 2);
  t->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, -1);
  t->anchor_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 1;
}

/* timer:cancel(): true if it was armed and will not fire. */
static int l_timer_cancel(lua_State* L) {
  wl_timer* t = (wl_timer*)luaL_checkudata(L, 1, WL_TIMER_MT);
  weft_future_t* future = t->future;
  int stopped = 0;
  if (future != NULL) {
    weft_future_retain(future); /* on_timer releases the timer's own reference inside cancel */
    stopped = weft_future_cancel(future) == WEFT_OK;
    weft_future_release(future);
  }
  lua_pushboolean(L, stopped);
  return 1;
}

/* timer:active(): armed, neither fired nor cancelled yet. */
static int l_timer_active(lua_State* L) {
  wl_timer* t = (wl_timer*)luaL_checkudata(L, 1, WL_TIMER_MT);
  lua_pushboolean(L, t->future != NULL);
  return 1;
}

void wl_callbacks_open(lua_State* L) {
  static const luaL_Reg timer_methods[] = {{"cancel", l_timer_cancel}, {"active", l_timer_active}, {NULL, NULL}};
  luaL_newmetatable(L, WL_TIMER_MT);
  lua_newtable(L);
  luaL_setfuncs(L, timer_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  static const luaL_Reg functions[] = {
      {"call_soon", l_call_soon},
      {"call_later", l_call_later},
      {NULL, NULL},
  };
  luaL_setfuncs(L, functions, 0);
}
