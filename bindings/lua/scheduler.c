/* scheduler.c: the C half of the module's own scheduler (scheduler.lua) —
 * the one weft callback that drains the Lua-side ready queue of
 * weft.call_soon, and the one weft timer that stands for the Lua-side heap of
 * weft.call_later timers (armed for the earliest deadline).
 *
 * Per callback or timer the Lua side allocates nothing in C and takes no
 * registry reference: it calls _sched_post when its queue becomes non-empty
 * (one weft_loop_call_soon per batch) and _sched_arm when the heap's earliest
 * deadline moves earlier than the armed one. weft calls on_drain and
 * on_timer on the loop thread; they call the Lua hooks (drain, fire) that
 * scheduler.lua registered with _sched_hooks. When the runtime or scope goes
 * away (teardown, or weft cancelled the drain or the timer) the reset hook
 * drops whatever was queued or armed: nothing of it runs.
 *
 * Thread: the loop thread.
 * Ownership: the hooks are registry references held by wl_state; the armed
 * timer is a malloc'd wl_sched_timer holding one reference to the timer's
 * future, freed by weft's single call of on_timer (fired or cancelled); the
 * queued drains share a malloc'd wl_sched_token per runtime or scope, freed
 * by the last of them once a reset retired it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bindings/lua/weft_lua.h"

struct wl_sched_timer {
  wl_state* S;
  weft_future_t* future; /* the timer's future (a reference) */
  int current;           /* the one S->sched_timer points at */
};

/* What each queued drain carries: drains queued before a reset (the old
 * runtime's or scope's, delivered late with WEFT_ERR_CANCELLED) find their
 * token dead and touch nothing. Freed by the last drain that carries it. */
struct wl_sched_token {
  wl_state* S;
  size_t queued; /* drains queued with weft that carry it */
  int dead;      /* reset since */
};

#define STATE(L) ((wl_state*)lua_touserdata((L), lua_upvalueindex(1)))

/* Calls the hook `ref` (the reset hook with whether the runtime or scope is
 * going away); never raises. */
static void call_hook(wl_state* S, int ref) {
  lua_State* L = S->L;
  if (ref == LUA_NOREF || L == NULL) return;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_pushboolean(L, S->closing);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    fprintf(stderr, "weft: the Lua scheduler failed: %s\n", wl_tostring(L, -1));
  lua_settop(L, top);
}

static void on_drain(void* user, weft_status status, const char* message) {
  (void)message;
  struct wl_sched_token* token = (struct wl_sched_token*)user;
  wl_state* S = token->S;
  token->queued--;
  if (token->dead) {
    if (token->queued == 0) free(token);
    return;
  }
  if (S->closing) return; /* teardown resets the queue */
  call_hook(S, status == WEFT_OK ? S->sched_drain_ref : S->sched_reset_ref);
}

/* Lets the current token go: drains still queued will find it dead. */
static void retire_token(wl_state* S) {
  struct wl_sched_token* token = S->sched_token;
  if (token == NULL) return;
  S->sched_token = NULL;
  token->dead = 1;
  if (token->queued == 0) free(token);
}

static void on_timer(void* user, weft_status status, const char* message) {
  (void)message;
  struct wl_sched_timer* timer = (struct wl_sched_timer*)user;
  wl_state* S = timer->S;
  int current = timer->current;
  if (current) S->sched_timer = NULL;
  weft_future_release(timer->future);
  free(timer);
  if (!current || S->closing) return;
  call_hook(S, status == WEFT_OK ? S->sched_fire_ref : S->sched_reset_ref);
}

/* Cancels the armed timer, if any (its on_timer runs inside, as not current). */
static void disarm(wl_state* S) {
  struct wl_sched_timer* timer = S->sched_timer;
  if (timer == NULL) return;
  S->sched_timer = NULL;
  timer->current = 0;
  weft_future_t* future = timer->future;
  weft_future_retain(future); /* on_timer releases the timer's reference inside cancel */
  weft_future_cancel(future);
  weft_future_release(future);
}

/* _sched_post([quiet[, what]]): queues the drain. Raises as `what` (default
 * weft.call_soon) when there is no runtime or the loop refuses work, or
 * with quiet returns false. */
static int l_post(lua_State* L) {
  wl_state* S = STATE(L);
  int quiet = lua_toboolean(L, 1);
  const char* what = luaL_optstring(L, 2, "weft.call_soon");
  if (quiet && (S->runtime == NULL || S->closing)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  wl_state_check_runtime(L, S, what);
  struct wl_sched_token* token = S->sched_token;
  if (token == NULL) {
    token = (struct wl_sched_token*)calloc(1, sizeof *token);
    if (token == NULL) {
      if (quiet) {
        lua_pushboolean(L, 0);
        return 1;
      }
      return wl_raise(L, WEFT_ERR_NO_MEMORY, what);
    }
    token->S = S;
    S->sched_token = token;
  }
  weft_status status = weft_loop_call_soon(S->loop, on_drain, token);
  if (status == WEFT_OK) token->queued++;
  if (status != WEFT_OK) {
    if (quiet) {
      lua_pushboolean(L, 0);
      return 1;
    }
    return wl_raise_op(L, status, what);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* _sched_now(): the loop clock in ns (an integer where Lua has them). */
static int l_now(lua_State* L) {
  wl_state* S = STATE(L);
  wl_state_check_runtime(L, S, "weft.call_later");
  uint64_t ns = 0;
  weft_loop_now(&ns, S->loop);
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)ns);
#else
  lua_pushnumber(L, (lua_Number)ns);
#endif
  return 1;
}

static uint64_t check_ns(lua_State* L, int index) {
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, index)) {
    lua_Integer v = lua_tointeger(L, index);
    return v < 0 ? 0 : (uint64_t)v;
  }
#endif
  lua_Number v = luaL_checknumber(L, index);
  return v > 0 ? (uint64_t)v : 0;
}

/* _sched_arm(when_ns[, quiet]): (re)arms the one timer at the loop clock's
 * when_ns and returns true. Raises like weft.call_later did when there is no
 * runtime or the loop refuses it; with quiet, returns false instead when the
 * runtime or the script's scope is going away (no runtime, closing, or the
 * scope cancelled: WEFT_ERR_CLOSED) and raises only for other failures. */
static int l_arm(lua_State* L) {
  wl_state* S = STATE(L);
  uint64_t when = check_ns(L, 1);
  int quiet = lua_toboolean(L, 2);
  if (quiet && (S->runtime == NULL || S->closing)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  wl_state_check_runtime(L, S, "weft.call_later");
  struct wl_sched_timer* timer = (struct wl_sched_timer*)malloc(sizeof *timer);
  if (timer == NULL) return wl_raise(L, WEFT_ERR_NO_MEMORY, "weft.call_later");
  timer->S = S;
  timer->future = NULL;
  timer->current = 1;
  disarm(S);
  weft_status status = weft_loop_call_at(&timer->future, S->loop, when, on_timer, timer);
  if (status != WEFT_OK) {
    free(timer);
    if (quiet && status == WEFT_ERR_CLOSED) {
      lua_pushboolean(L, 0);
      return 1;
    }
    return wl_raise_op(L, status, "weft.call_later");
  }
  weft_future_set_name(timer->future, "weft.call_later timers");
  S->sched_timer = timer;
  lua_pushboolean(L, 1);
  return 1;
}

/* _sched_disarm(): no timer armed any more. */
static int l_disarm(lua_State* L) {
  disarm(STATE(L));
  return 0;
}

/* _sched_report(err, traceback, where): hands a failure to the error
 * handler (wl_report_error_with); never raises. */
static int l_report(lua_State* L) {
  wl_state* S = STATE(L);
  const char* where = luaL_optstring(L, 3, "callback failed");
  lua_settop(L, 2);
  if (!lua_isstring(L, 2)) {
    lua_pop(L, 1);
    wl_tostring(L, 1);
  }
  wl_report_error_with(S, L, where);
  return 0;
}

static void set_ref(lua_State* L, int index, int* ref) {
  luaL_checktype(L, index, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, *ref);
  lua_pushvalue(L, index);
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* _sched_hooks(drain, fire, reset): the Lua side's entry points. */
static int l_hooks(lua_State* L) {
  wl_state* S = STATE(L);
  set_ref(L, 1, &S->sched_drain_ref);
  set_ref(L, 2, &S->sched_fire_ref);
  set_ref(L, 3, &S->sched_reset_ref);
  return 0;
}

void wl_scheduler_reset(wl_state* S) {
  retire_token(S);
  disarm(S);
  call_hook(S, S->sched_reset_ref);
}

void wl_scheduler_open(lua_State* L) {
  static const luaL_Reg functions[] = {
      {"_sched_post", l_post},     {"_sched_now", l_now},       {"_sched_arm", l_arm},
      {"_sched_disarm", l_disarm}, {"_sched_report", l_report}, {"_sched_hooks", l_hooks},
      {NULL, NULL},
  };
  wl_state* S = wl_state_get(L);
  for (const luaL_Reg* f = functions; f->name != NULL; f++) {
    lua_pushlightuserdata(L, S);
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, -2, f->name);
  }
}
