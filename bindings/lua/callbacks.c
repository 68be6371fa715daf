/* callbacks.c: Lua functions as the callbacks of the SWIG-generated C API
 * functions (weft.loop_call_soon, weft.future_then, ...; weft_lua.i's
 * typemaps hold and drop them). weft.call_soon and weft.call_later are
 * scheduled in Lua instead (scheduler.lua).
 *
 * Thread: the loop thread.
 * Ownership: each callback holds its function through one registry
 * reference in a malloc'd box; weft calls the callback exactly once (with
 * WEFT_ERR_CANCELLED if it never gets its turn), and that call drops the
 * reference and frees the box. If the C call fails, the box is dropped at
 * once. A function that raises is reported to the error handler with its
 * traceback; the loop goes on.
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
