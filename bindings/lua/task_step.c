/* task_step.c: the hot path of stepping a task under Lua 5.4, in C — what
 * tasks.lua's run_queued does for a queued step (start a task, or resume it
 * after weft.yield()), with lua_resume called directly and the common
 * outcomes recorded here: the task yielded through weft.yield() (the
 * caller, scheduler.lua's drain, queues its next step), or it returned at
 * most one value with nothing else to do (no waiters, no weft future: its
 * results are stored and it leaves the list of live tasks). Everything else
 * (a task started with several arguments, a cancellation pending, a weft
 * wait, an error, several results, waiters to wake) goes back to
 * tasks.lua's run_queued and settle, which this step calls.
 *
 * The task is tasks.lua's table (its slots below must match tasks.lua's).
 * tasks.lua's variables `current` (the running task), `alive` (the head of
 * the list of live tasks), `alive_count` and `epoch` are read and set as the one
 * upvalue of three small Lua functions it hands over (lua_getupvalue,
 * lua_setupvalue: Lua shares an upvalue among every closure of the chunk).
 * weft.yield() yields tasks.lua's YIELDED table, which no other code
 * yields.
 *
 * Lua 5.4 only: under LuaJIT tasks.lua's run_queued steps the tasks (see
 * wl_task_step_open).
 *
 * Thread: the loop thread (called from scheduler.lua's drain).
 * Ownership: the task table anchors its coroutine (slot CO) from its start
 * until it finishes; the list of live tasks anchors the task.
 */
#include "bindings/lua/weft_lua.h"

/* A task's slots (tasks.lua). */
enum { T_CO = 1, T_STATE = 2, T_VALUE = 3, T_VALUES = 4, T_PREV = 5, T_WAIT = 6, T_NEXT = 7, T_EXTRA = 8 };
/* Its states (tasks.lua). */
enum { SCHEDULED = 0, RUNNING = 1, SUSPENDED = 2, DONE = 3 };

#if LUA_VERSION_NUM >= 504 /* (see wl_task_step_open) */

/* The step's upvalues: functions whose one upvalue is tasks.lua's
 * variable of that name, tasks.lua's functions, YIELDED and NONE. */
#define CURRENT_VAR lua_upvalueindex(1)
#define ALIVE_VAR lua_upvalueindex(2)
#define ALIVE_COUNT_VAR lua_upvalueindex(3)
#define EPOCH_VAR lua_upvalueindex(4)
#define RUN_QUEUED lua_upvalueindex(5) /* run_queued(t) */
#define SETTLE lua_upvalueindex(6)     /* settle(t, previous, ok, values...) */
#define YIELDED lua_upvalueindex(7)
#define NONE lua_upvalueindex(8) /* a VALUES of no value: no argument, no result */

/* Pushes tasks.lua's variable `var` stands for. */
static void get_var(lua_State* L, int var) { lua_getupvalue(L, var, 1); }
/* Sets it to the value at the top (popped). */
static void set_var(lua_State* L, int var) { lua_setupvalue(L, var, 1); }

static void set_false(lua_State* L, int t, int slot) {
  lua_pushboolean(L, 0);
  lua_rawseti(L, t, slot);
}

static void set_integer(lua_State* L, int t, int slot, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_rawseti(L, t, slot);
}

/* Hands the outcome to tasks.lua's settle: the task (1), the previous
 * current task (at `previous`), ok, and `n` values moved from co. */
static int settle_in_lua(lua_State* L, lua_State* co, int previous, int ok, int n) {
  lua_pushvalue(L, SETTLE);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, previous);
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
  if (nres == 0) {
    lua_pushvalue(L, NONE);
    lua_rawseti(L, 1, T_VALUES);
  }
  set_integer(L, 1, T_STATE, DONE);
  set_false(L, 1, T_CO);
  get_var(L, EPOCH_VAR);
  lua_rawseti(L, 1, T_WAIT);
  lua_rawgeti(L, 1, T_PREV);
  int prev = lua_gettop(L);
  lua_rawgeti(L, 1, T_NEXT);
  int next = prev + 1;
  lua_pushvalue(L, next);
  if (lua_toboolean(L, prev)) {
    lua_rawseti(L, prev, T_NEXT);
    set_false(L, 1, T_PREV);
  } else {
    set_var(L, ALIVE_VAR); /* alive = next */
  }
  if (lua_toboolean(L, next)) {
    lua_pushvalue(L, prev);
    lua_rawseti(L, next, T_PREV);
    set_false(L, 1, T_NEXT);
  }
  get_var(L, ALIVE_COUNT_VAR);
  lua_pushinteger(L, lua_tointeger(L, -1) - 1);
  set_var(L, ALIVE_COUNT_VAR);
}

/* The step (scheduler.lua's run_task(t)): runs task t's queued step.
 * Answers true when the task yielded through weft.yield() (it is
 * suspended; the caller queues its next step), else nothing. */
static int l_task_run(lua_State* L) {
  /* Slots read stay on the stack (no pops): the stack is short-lived. */
  lua_settop(L, 1);
  lua_rawgeti(L, 1, T_STATE);
  lua_Integer state = lua_tointeger(L, -1);
  lua_State* co;
  int nargs;
  if (state == SCHEDULED) {
    lua_rawgeti(L, 1, T_VALUES);
    int args = lua_gettop(L);
    nargs = !lua_rawequal(L, args, NONE);
    if (!nargs && lua_rawgeti(L, 1, T_EXTRA) != LUA_TBOOLEAN) goto in_lua; /* several, or rarer fields */
    co = lua_newthread(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 1, T_CO);
    lua_rawgeti(L, 1, T_VALUE);
    if (nargs) lua_pushvalue(L, args);
    lua_xmove(L, co, nargs + 1);
    set_false(L, 1, T_VALUE);
    set_false(L, 1, T_VALUES);
    set_false(L, 1, T_WAIT);
  } else {
    if (state != SUSPENDED) return 0; /* finished meanwhile */
    if (lua_rawgeti(L, 1, T_WAIT) != LUA_TBOOLEAN || !lua_toboolean(L, -1))
      return 0; /* woken another way meanwhile */
    lua_rawgeti(L, 1, T_EXTRA);
    if (lua_toboolean(L, -1)) goto in_lua; /* a cancellation may be pending */
    lua_rawgeti(L, 1, T_CO);
    co = lua_tothread(L, -1);
    set_false(L, 1, T_WAIT);
    lua_pushboolean(co, 1);
    nargs = 1;
  }
  set_integer(L, 1, T_STATE, RUNNING);
  get_var(L, CURRENT_VAR);
  int previous = lua_gettop(L); /* the task that was running (nil: none) */
  lua_pushvalue(L, 1);
  set_var(L, CURRENT_VAR);
  int nres = 0;
  int status = wl_resume(co, L, nargs, &nres);
  lua_pushvalue(L, previous);
  set_var(L, CURRENT_VAR);
  if (status == LUA_YIELD) {
    if (nres == 1 && lua_type(co, -1) == LUA_TTABLE && lua_topointer(co, -1) == lua_topointer(L, YIELDED)) {
      lua_pop(co, 1); /* weft.yield() */
      set_integer(L, 1, T_STATE, SUSPENDED);
      lua_pushboolean(L, 1);
      return 1;
    }
    lua_rawgeti(L, 1, T_STATE);
    if (lua_tointeger(L, -1) == SUSPENDED) { /* a weft wait: what it waits for resumes it */
      lua_pop(co, nres);
      return 0;
    }
    return settle_in_lua(L, co, previous, 1, nres); /* a plain coroutine.yield() */
  }
  if (status == LUA_OK) {
    if (nres <= 1) {
      lua_rawgeti(L, 1, T_EXTRA);
      if (!lua_toboolean(L, -1)) {
        if (nres == 1) lua_xmove(co, L, 1);
        else lua_pushnil(L);
        finish_done(L, nres);
        return 0;
      }
    }
    return settle_in_lua(L, co, previous, 1, nres);
  }
  return settle_in_lua(L, co, previous, 0, 1); /* failed: its error is at co's top */

in_lua:
  lua_pushvalue(L, RUN_QUEUED);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 0;
}

/* _task_stepper(current_var, alive_var, alive_count_var, epoch_var,
 * run_queued, settle, YIELDED, NONE): the step function, bound to
 * tasks.lua's variables and its functions for the rarer cases. */
static int l_task_stepper(lua_State* L) {
  for (int i = 1; i <= 6; i++) luaL_checktype(L, i, LUA_TFUNCTION);
  luaL_checktype(L, 7, LUA_TTABLE);
  luaL_checktype(L, 8, LUA_TTABLE);
  for (int i = 1; i <= 4; i++)
    if (lua_getupvalue(L, i, 1) == NULL) return luaL_argerror(L, i, "a function with an upvalue");
  lua_settop(L, 8);
  lua_pushcclosure(L, l_task_run, 8);
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
