/* task_step.c: the hot path of stepping a task under Lua 5.4, in C — what tasks.lua's
 * run_queued does for a queued step (start a task, or resume it after
 * weft.yield()), with lua_resume called directly and the common outcomes
 * recorded here: the task yielded through weft.yield() (the caller,
 * scheduler.lua's drain, queues its next step), or it returned at most one
 * value with nothing else to do (no waiters, no weft future: its results
 * are stored and it leaves the list of live tasks). Everything else (a
 * task started with several arguments, a cancellation pending, a weft wait,
 * an error, several results, waiters to wake) goes back to tasks.lua's
 * functions, which this step calls.
 *
 * The task is tasks.lua's table (its slots below must match tasks.lua's);
 * `ctx` is tasks.lua's table of shared scheduler state: the running task
 * (CTX_CURRENT, false when none), the number of live tasks (CTX_ALIVE), and
 * the head of the list of live tasks (its NEXT slot: ctx stands before the
 * first task, so unlinking a task never changes a variable of Lua's).
 * weft.yield() yields ctx itself, which no other code yields.
 *
 * Lua 5.4 only: under LuaJIT tasks.lua's run_queued steps the tasks (see
 * wl_task_step_open).
 *
 * Thread: the loop thread (called from scheduler.lua's drain).
 * Ownership: the task table anchors its coroutine (slot CO) from its start
 * until it finishes; the list of live tasks (through ctx) anchors the task.
 */
#include "bindings/lua/weft_lua.h"

/* A task's slots (tasks.lua). */
enum { T_CO = 1, T_STATE = 2, T_VALUE = 3, T_VALUES = 4, T_COUNT = 5, T_WAIT = 6, T_PREV = 7, T_NEXT = 8, T_EXTRA = 10 };
/* Its states (tasks.lua). */
enum { SCHEDULED = 0, RUNNING = 1, SUSPENDED = 2, DONE = 3 };
/* ctx's slots (tasks.lua). */
enum { CTX_CURRENT = 1, CTX_ALIVE = 2 };

#if LUA_VERSION_NUM >= 504 /* (see wl_task_step_open) */

#define CTX lua_upvalueindex(1)
#define RUN_QUEUED lua_upvalueindex(2) /* tasks.lua's run_queued(t) */
#define SETTLE lua_upvalueindex(3)     /* tasks.lua's settle(t, previous, ok, values...) */

static lua_Integer slot_integer(lua_State* L, int t, int slot) {
  lua_rawgeti(L, t, slot);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static int slot_truthy(lua_State* L, int t, int slot) {
  lua_rawgeti(L, t, slot);
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void set_false(lua_State* L, int t, int slot) {
  lua_pushboolean(L, 0);
  lua_rawseti(L, t, slot);
}

static void set_integer(lua_State* L, int t, int slot, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_rawseti(L, t, slot);
}

/* Hands the outcome to tasks.lua's settle: the task (1), the previous
 * current task (3), ok, and `n` values moved from co. */
static int settle_in_lua(lua_State* L, lua_State* co, int ok, int n) {
  lua_pushvalue(L, SETTLE);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 3);
  lua_pushboolean(L, ok);
  lua_checkstack(L, n + 1);
  lua_xmove(co, L, n);
  lua_call(L, 3 + n, 0);
  return 0;
}

/* Finishes task 1, which returned the value at the top (nres of them, at
 * most one) and has no EXTRA: tasks.lua's finish_done. */
static void finish_done(lua_State* L, int nres) {
  lua_rawseti(L, 1, T_VALUE);
  set_integer(L, 1, T_COUNT, nres);
  set_integer(L, 1, T_STATE, DONE);
  set_false(L, 1, T_CO);
  lua_rawgeti(L, 1, T_PREV); /* ctx or a task */
  int prev = lua_gettop(L);
  lua_rawgeti(L, 1, T_NEXT);
  int next = prev + 1;
  lua_pushvalue(L, next);
  lua_rawseti(L, prev, T_NEXT);
  set_false(L, 1, T_PREV);
  if (lua_toboolean(L, next)) {
    lua_pushvalue(L, prev);
    lua_rawseti(L, next, T_PREV);
    set_false(L, 1, T_NEXT);
  }
  set_integer(L, CTX, CTX_ALIVE, slot_integer(L, CTX, CTX_ALIVE) - 1);
}

/* _task_run(t): runs task t's queued step. Answers true when the task
 * yielded through weft.yield() (it is suspended; the caller queues its next
 * step), else nothing. */
static int l_task_run(lua_State* L) {
  lua_settop(L, 1);
  lua_Integer state = slot_integer(L, 1, T_STATE);
  lua_State* co;
  int nargs;
  if (state == SCHEDULED) {
    lua_Integer count = slot_integer(L, 1, T_COUNT);
    if (count > 1) goto in_lua;
    co = lua_newthread(L); /* 2 */
    lua_rawgeti(L, 1, T_VALUE);
    if (count == 1) lua_rawgeti(L, 1, T_VALUES);
    lua_xmove(L, co, (int)count + 1);
    nargs = (int)count;
    lua_pushvalue(L, 2);
    lua_rawseti(L, 1, T_CO);
    set_false(L, 1, T_VALUE);
    set_false(L, 1, T_VALUES);
    set_false(L, 1, T_WAIT);
  } else {
    if (state != SUSPENDED) return 0; /* finished meanwhile */
    lua_rawgeti(L, 1, T_WAIT);
    int queued = lua_isboolean(L, -1) && lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!queued) return 0; /* woken another way meanwhile */
    if (slot_truthy(L, 1, T_EXTRA)) goto in_lua; /* a cancellation may be pending */
    lua_rawgeti(L, 1, T_CO); /* 2 */
    co = lua_tothread(L, 2);
    set_false(L, 1, T_WAIT);
    lua_pushboolean(co, 1);
    nargs = 1;
  }
  set_integer(L, 1, T_STATE, RUNNING);
  lua_rawgeti(L, CTX, CTX_CURRENT); /* 3: the previous current task */
  lua_pushvalue(L, 1);
  lua_rawseti(L, CTX, CTX_CURRENT);
  int nres = 0;
  int status = wl_resume(co, L, nargs, &nres);
  lua_pushvalue(L, 3);
  lua_rawseti(L, CTX, CTX_CURRENT);
  if (status == LUA_YIELD) {
    if (nres == 1 && lua_type(co, -1) == LUA_TTABLE && lua_topointer(co, -1) == lua_topointer(L, CTX)) {
      lua_pop(co, 1); /* weft.yield() */
      set_integer(L, 1, T_STATE, SUSPENDED);
      lua_pushboolean(L, 1);
      return 1;
    }
    if (slot_integer(L, 1, T_STATE) == SUSPENDED) { /* a weft wait: what it waits for resumes it */
      lua_pop(co, nres);
      return 0;
    }
    return settle_in_lua(L, co, 1, nres); /* a plain coroutine.yield() */
  }
  if (status == LUA_OK) {
    if (nres <= 1 && !slot_truthy(L, 1, T_EXTRA)) {
      if (nres == 1) lua_xmove(co, L, 1);
      else lua_pushnil(L);
      finish_done(L, nres);
      return 0;
    }
    return settle_in_lua(L, co, 1, nres);
  }
  return settle_in_lua(L, co, 0, 1); /* failed: its error is at co's top */

in_lua:
  lua_pushvalue(L, RUN_QUEUED);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 0;
}

/* _task_stepper(ctx, run_queued, settle): the step function, bound to
 * tasks.lua's shared state and its functions for the rarer cases. */
static int l_task_stepper(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  lua_pushcclosure(L, l_task_run, 3);
  return 1;
}

#endif /* LUA_VERSION_NUM >= 504 */

/* Under Lua 5.4, weft._task_stepper for tasks.lua. Under LuaJIT there is
 * none and tasks.lua's run_queued steps the tasks: there coroutine.resume
 * is a fast function of the VM and every C API call costs more than the
 * bytecode it replaces (W6 measured 6,713 instructions per task with this
 * step against 4,857 with run_queued). */
void wl_task_step_open(lua_State* L) {
#if LUA_VERSION_NUM >= 504
  lua_pushcfunction(L, l_task_stepper);
  lua_setfield(L, -2, "_task_stepper");
#else
  (void)L;
#endif
}
