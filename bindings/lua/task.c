/* task.c: the C half of tasks (tasks.lua has the rest) — a task's waits on
 * weft operations (a future, and through io.c an accept, a connect, a
 * resolve), the weft futures that stand for tasks (task:future()), and the
 * hooks through which C reaches the Lua scheduler (resume a task whose wait
 * completed, cancel every task when a host unloads the script).
 *
 * How a wait works: a _wait_* function, called inside a task, makes a
 * wl_wait holding a registry reference to the running task (the task table
 * tasks.lua's current_task hook answers), registers it as the user data of
 * weft's callback, stores it (a light userdata) in the task's WAIT slot and
 * returns true; the Lua side then yields. weft calls the callback exactly
 * once, on the loop thread; it frees the wl_wait and, if the task still
 * waits for it, calls the wake hook with the task and (true, results...) or
 * (false, error), which resumes it. A task that stops waiting early
 * (cancelled, or the runtime is going away) calls _wait_abandon: the
 * reference is dropped and the operation cancelled, so the late callback
 * finds nobody and only frees the record.
 *
 * Thread: the loop thread.
 * Ownership: a wl_wait belongs to the callback weft will call; its registry
 * reference to the task is dropped by whichever comes first, the callback
 * or _wait_abandon. A task future is a weft.Future userdata held by the task
 * table; task:future() hands out further userdata with references of their
 * own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/lua/weft_lua.h"

#define STATE_UP(L) ((wl_state*)lua_touserdata((L), lua_upvalueindex(1)))

/* ---- waits ---- */

static void push_current_task(lua_State* L, wl_state* S, const char* what) {
  if (S->task_current_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, S->task_current_ref);
    lua_call(L, 0, 1);
    if (!lua_isnil(L, -1)) return;
    lua_pop(L, 1);
  }
  lua_pushfstring(L, "%s: not inside a weft task (use weft.spawn or weft.run)", what);
  wl_raise(L, WEFT_ERR_INVALID_STATE, lua_tostring(L, -1));
}

wl_wait* wl_wait_new(lua_State* L, wl_state* S, int kind, const char* what) {
  push_current_task(L, S, what);
  wl_wait* w = (wl_wait*)calloc(1, sizeof *w);
  if (w == NULL) {
    lua_pop(L, 1);
    wl_raise(L, WEFT_ERR_NO_MEMORY, what);
  }
  w->S = S;
  w->kind = kind;
  w->task_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the task */
  return w;
}

void wl_wait_begin(lua_State* L, wl_wait* w) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, w->task_ref);
  lua_pushlightuserdata(L, w);
#if LUA_VERSION_NUM >= 504
  wl_ctask_wait_on_top(L, -2);
#else
  lua_rawseti(L, -2, WL_TASK_WAIT);
#endif
  lua_pop(L, 1);
}

static void wait_free(wl_wait* w) {
  if (w->op != NULL) weft_future_release(w->op);
  free(w);
}

void wl_wait_discard(lua_State* L, wl_wait* w) {
  luaL_unref(L, LUA_REGISTRYINDEX, w->task_ref);
  wait_free(w);
}

/* _wait_abandon(wait): the task stops waiting (it was cancelled or its
 * runtime is going away): the callback still comes and finds nobody. */
static int l_wait_abandon(lua_State* L) {
  wl_wait* w = lua_islightuserdata(L, 1) ? (wl_wait*)lua_touserdata(L, 1) : NULL;
  if (w == NULL || w->task_ref == LUA_NOREF) return 0;
  luaL_unref(L, LUA_REGISTRYINDEX, w->task_ref);
  w->task_ref = LUA_NOREF;
  if (w->op != NULL) {
    weft_future_t* op = w->op;
    weft_future_retain(op); /* the callback may run inside cancel and free w */
    weft_future_cancel(op);
    weft_future_release(op);
  }
  return 0;
}

/* Takes the wait the callback carries (and frees it): returns the Lua state
 * with the wake hook and the task pushed if the task still waits for it,
 * else NULL. */
static lua_State* claim(wl_wait* w) {
  wl_state* S = w->S;
  int ref = w->task_ref;
  wait_free(w);
  if (ref == LUA_NOREF) return NULL;
  lua_State* L = S->L;
  if (S->closing || S->task_wake_ref == LUA_NOREF) { /* tasks.lua ended the task already */
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return NULL;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, S->task_wake_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  luaL_unref(L, LUA_REGISTRYINDEX, ref);
  return L;
}

/* Calls the wake hook claim pushed with the task and the `nvalues` values
 * pushed after it; never raises. */
static void deliver(lua_State* L, int nvalues) {
  if (lua_pcall(L, 1 + nvalues, 0, 0) != LUA_OK) {
    fprintf(stderr, "weft: resuming a task failed: %s\n", wl_tostring(L, -1));
    lua_pop(L, 2);
  }
}

static void deliver_failure(lua_State* L, weft_status status, const char* message) {
  lua_pushboolean(L, 0);
  wl_push_error(L, status, message);
  deliver(L, 2);
}

static void on_future(void* user, weft_future_t* future, weft_status status,
                      const weft_value* value, const char* message) {
  (void)future;
  wl_wait* w = (wl_wait*)user;
  int eof_is_nil = w->eof_is_nil;
  lua_State* L = claim(w);
  if (L == NULL) return;
  if (status == WEFT_ERR_END_OF_FILE && eof_is_nil) {
    lua_pushboolean(L, 1);
    lua_pushnil(L);
    deliver(L, 2);
    return;
  }
  if (status != WEFT_OK) {
    deliver_failure(L, status, message);
    return;
  }
  lua_pushboolean(L, 1);
  wl_push_value(L, value);
  deliver(L, 2);
}

void wl_on_bytes(void* user, weft_status status, const char* message, const void* bytes,
                 size_t len) {
  wl_wait* w = (wl_wait*)user;
  int eof_is_nil = w->eof_is_nil;
  lua_State* L = claim(w);
  if (L == NULL) return;
  if (status == WEFT_ERR_END_OF_FILE && eof_is_nil) {
    lua_pushboolean(L, 1);
    lua_pushnil(L);
    deliver(L, 2);
    return;
  }
  if (status != WEFT_OK) {
    deliver_failure(L, status, message);
    return;
  }
  lua_pushboolean(L, 1);
  lua_pushlstring(L, (const char*)bytes, len);
  deliver(L, 2);
}

void wl_on_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  wl_wait* w = (wl_wait*)user;
  lua_State* L = claim(w);
  if (L == NULL) {
    if (stream != NULL) weft_stream_close(stream); /* nobody will take it */
    return;
  }
  if (status != WEFT_OK) {
    deliver_failure(L, status, message);
    return;
  }
  lua_pushboolean(L, 1);
  wl_push_stream(L, stream);
  deliver(L, 2);
}

/* _wait_future(future[, cancel_with_task[, eof_is_nil]]): the running task
 * waits for the future; an operation's future is cancelled if the task
 * stops waiting. Returns true, or false and an error (nothing registered). */
static int l_wait_future(lua_State* L) {
  wl_state* S = STATE_UP(L);
  weft_future_t* future = wl_check_future(L, 1);
  int cancel_with_task = lua_toboolean(L, 2);
  int eof_is_nil = lua_toboolean(L, 3);
  wl_wait* w = wl_wait_new(L, S, WL_WAIT_FUTURE, "weft.await");
  weft_status status = weft_future_then(future, S->loop, on_future, w);
  if (status != WEFT_OK) {
    wl_wait_discard(L, w);
    lua_pushboolean(L, 0);
    wl_push_error(L, status, "weft.await: cannot wait for the future");
    return 2;
  }
  w->eof_is_nil = eof_is_nil;
  if (cancel_with_task && weft_future_retain(future) == WEFT_OK) w->op = future;
  wl_wait_begin(L, w);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- task futures ---- */

/* _task_future_new(name): a pending weft.Future on the script's loop. */
static int l_task_future_new(lua_State* L) {
  wl_state* S = STATE_UP(L);
  const char* name = luaL_checkstring(L, 1);
  wl_state_check_runtime(L, S, "task:future");
  weft_future_t* future = NULL;
  weft_status status = weft_future_create(&future, S->loop);
  if (status != WEFT_OK) return wl_raise(L, status, "task:future");
  weft_future_set_name(future, name);
  wl_push_future(L, future);
  return 1;
}

/* _task_future_share(f): another weft.Future for f's future, with a
 * reference of its own. */
static int l_task_future_share(lua_State* L) {
  weft_future_t* future = wl_check_future(L, 1);
  weft_status status = weft_future_retain(future);
  if (status != WEFT_OK) return wl_raise(L, status, "task:future");
  wl_push_future(L, future);
  return 1;
}

/* A task's result as a future value, without raising (other types: none). */
static weft_value result_value(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TBOOLEAN:
    case LUA_TNUMBER:
    case LUA_TSTRING:
      return wl_to_value(L, index);
    default:
      return weft_value_none();
  }
}

/* _task_future_settle(f, "ok", value) / (f, "cancelled") / (f, "error",
 * error, text): completes a task's future; never raises for the outcome. */
static int l_task_future_settle(lua_State* L) {
  wl_future* f = wl_test_future(L, 1);
  const char* kind = luaL_checkstring(L, 2);
  wl_state* S = STATE_UP(L);
  if (f == NULL || f->future == NULL || f->epoch != S->epoch || S->runtime == NULL) return 0;
  if (strcmp(kind, "ok") == 0) {
    weft_value v = result_value(L, 3);
    weft_future_resolve(f->future, &v);
  } else if (strcmp(kind, "cancelled") == 0) {
    weft_future_cancel(f->future);
  } else {
    weft_status status = WEFT_ERR_EXCEPTION;
    if (lua_istable(L, 3)) {
      lua_getfield(L, 3, "status");
      lua_Integer s = lua_tointeger(L, -1);
      lua_pop(L, 1);
      if (s < 0 && s != WEFT_ERR_CANCELLED) status = (weft_status)s;
    }
    const char* text = lua_tostring(L, 4);
    if (weft_future_reject(f->future, status, text) != WEFT_OK)
      weft_future_reject(f->future, WEFT_ERR_EXCEPTION, text);
  }
  return 0;
}

/* _task_future_rename(f, name). */
static int l_task_future_rename(lua_State* L) {
  wl_future* f = wl_test_future(L, 1);
  wl_state* S = STATE_UP(L);
  if (f != NULL && f->future != NULL && f->epoch == S->epoch && S->runtime != NULL)
    weft_future_set_name(f->future, luaL_checkstring(L, 2));
  return 0;
}

/* ---- hooks ---- */

static void set_ref(lua_State* L, int index, int* ref) {
  luaL_checktype(L, index, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, *ref);
  lua_pushvalue(L, index);
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* _task_hooks(wake, cancel_all, current_task): tasks.lua's entry points. */
static int l_task_hooks(lua_State* L) {
  wl_state* S = STATE_UP(L);
  set_ref(L, 1, &S->task_wake_ref);
  set_ref(L, 2, &S->task_cancel_all_ref);
  set_ref(L, 3, &S->task_current_ref);
  return 0;
}

size_t wl_cancel_all(wl_state* S) {
  lua_State* L = S->L;
  if (L == NULL || S->task_cancel_all_ref == LUA_NOREF) return 0;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, S->task_cancel_all_ref);
  size_t n = 0;
  if (lua_pcall(L, 0, 1, 0) == LUA_OK) n = (size_t)lua_tointeger(L, -1);
  else fprintf(stderr, "weft: cancelling the script's tasks failed: %s\n", wl_tostring(L, -1));
  lua_settop(L, top);
  return n;
}

void wl_task_open(lua_State* L) {
  static const luaL_Reg functions[] = {
      {"_wait_future", l_wait_future},
      {"_wait_abandon", l_wait_abandon},
      {"_task_future_new", l_task_future_new},
      {"_task_future_share", l_task_future_share},
      {"_task_future_settle", l_task_future_settle},
      {"_task_future_rename", l_task_future_rename},
      {"_task_hooks", l_task_hooks},
      {NULL, NULL},
  };
  wl_state* S = wl_state_get(L);
  for (const luaL_Reg* f = functions; f->name != NULL; f++) {
    lua_pushlightuserdata(L, S);
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, -2, f->name);
  }
}
