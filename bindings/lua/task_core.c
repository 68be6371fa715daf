/* task_core.c: tasks as C structures under Lua 5.4 (see task_core.h) —
 * the task and its fields, the running task, the list of live tasks (in
 * the order unloading cancels them), the anchor that keeps live and queued
 * tasks' handles, and weft.spawn, weft.yield and task:await() of a
 * finished task as C functions. The rarer paths (cancellation, weft
 * waits, names, errors, waiters, teardown) stay in tasks.lua, which reads
 * and sets a task's fields through the accessors below (task_table.lua
 * gives the same functions over Lua tables under LuaJIT).
 *
 *   weft._task_core_open(TaskMT, tail, hooks) -> the core table
 *
 * Thread: the loop thread.
 * Ownership: see task_core.h; the core table's functions share the
 * upvalues that hold the core, the anchor table and tasks.lua's hooks.
 */
#include "bindings/lua/task_core.h"

#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM >= 504

static wl_ctask* check_task(lua_State* L, int i) {
  wl_ctask* t = wl_ctask_at(L, i);
  if (t == NULL) luaL_typeerror(L, i, "weft.Task");
  return t;
}

void wl_ctask_push(lua_State* L, wl_ctask* t) { lua_rawgeti(L, WL_ANCHOR, t->slot); }

/* Anchors the handle at the top (kept there). */
static void anchor(lua_State* L, wl_tcore* c, wl_ctask* t) {
  int slot;
  if (c->free_len > 0) {
    slot = c->free_slots[--c->free_len];
  } else {
    if (c->free_cap == 0) { /* the free list can hold every slot handed out */
      c->free_slots = (int*)malloc(1024 * sizeof(int));
      if (c->free_slots == NULL) luaL_error(L, "weft: out of memory");
      c->free_cap = 1024;
    } else if (c->next_slot > c->free_cap) {
      int* slots = (int*)realloc(c->free_slots, 2 * (size_t)c->free_cap * sizeof(int));
      if (slots == NULL) luaL_error(L, "weft: out of memory");
      c->free_slots = slots;
      c->free_cap *= 2;
    }
    slot = c->next_slot++;
  }
  lua_pushvalue(L, -1);
  lua_rawseti(L, WL_ANCHOR, slot);
  t->slot = slot;
}

/* Gives t's anchor slot back. */
static void unanchor(lua_State* L, wl_tcore* c, wl_ctask* t) {
  lua_pushnil(L);
  lua_rawseti(L, WL_ANCHOR, t->slot);
  c->free_slots[c->free_len++] = t->slot; /* free_cap >= next_slot - 1 */
  t->slot = 0;
}

void wl_ctask_release(lua_State* L, wl_tcore* c, wl_ctask* t) {
  if (t->slot == 0 || t->queued > 0 || t->state < WL_DONE) return;
  unanchor(L, c, t);
}

/* A new task running the function at fn with the n values from `args` on
 * (n == 1: kept in AUX; otherwise EXTRA's args, set by the caller), live
 * and scheduled; pushed. */
static wl_ctask* new_task(lua_State* L, wl_tcore* c, int fn, int n, int args) {
  wl_ctask* t = (wl_ctask*)lua_newuserdatauv(L, sizeof *t, WL_UV_COUNT);
  t->magic = WL_CTASK_MAGIC;
  t->co = NULL;
  t->prev = t->next = NULL;
  t->epoch = 0;
  t->state = WL_SCHEDULED;
  t->wait = WL_WAIT_NONE;
  t->has_extra = 0;
  t->slot = 0;
  t->queued = 0;
  lua_pushvalue(L, WL_TASKMT_UP);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, fn);
  lua_setiuservalue(L, -2, WL_UV_MAIN);
  if (n == 1) {
    lua_pushvalue(L, args);
    lua_setiuservalue(L, -2, WL_UV_AUX);
    t->values = WL_VALUES_AUX;
  } else {
    t->values = WL_VALUES_NONE;
  }
  (void)c;
  return t;
}

/* Links t (its handle at the top; anchored here if it is not yet) into the
 * list of live tasks. */
static void make_live(lua_State* L, wl_tcore* c, wl_ctask* t) {
  if (t->slot == 0) anchor(L, c, t);
  t->next = c->alive;
  if (c->alive != NULL) c->alive->prev = t;
  c->alive = t;
  c->alive_count++;
}

void wl_ctask_finish(lua_State* L, wl_tcore* c, wl_ctask* t, int self, int state, int value, int values, int aux) {
  t->state = state;
  lua_pushvalue(L, value);
  lua_setiuservalue(L, self, WL_UV_MAIN);
  if (values == WL_VALUES_AUX) lua_pushvalue(L, aux);
  else lua_pushnil(L);
  lua_setiuservalue(L, self, WL_UV_AUX);
  t->values = values;
  t->co = NULL;
  t->wait = WL_WAIT_EPOCH;
  t->epoch = c->epoch;
  if (t->prev != NULL) t->prev->next = t->next;
  else c->alive = t->next;
  if (t->next != NULL) t->next->prev = t->prev;
  t->prev = t->next = NULL;
  c->alive_count--;
  int has_extra = t->has_extra;
  if (has_extra) { /* finish_extra(t, x, state, value) before the handle may go */
    lua_rawgeti(L, WL_HOOKS, WL_HOOK_FINISH_EXTRA);
    lua_pushvalue(L, self);
    lua_getiuservalue(L, self, WL_UV_EXTRA);
    lua_pushinteger(L, state);
    lua_pushvalue(L, value);
    wl_ctask_release(L, c, t);
    lua_call(L, 4, 0);
    return;
  }
  wl_ctask_release(L, c, t);
}

/* ---- accessors (tasks.lua's slots) ---- */

static int l_state(lua_State* L) {
  lua_pushinteger(L, check_task(L, 1)->state);
  return 1;
}

static int l_set_state(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  lua_Integer state = luaL_checkinteger(L, 2);
  luaL_argcheck(L, state >= WL_SCHEDULED && state <= WL_SUSPENDED && t->state < WL_DONE, 2, "not a live state");
  t->state = (int)state;
  return 0;
}

/* wait(t): false, true (queued), the object it waits for, or its epoch. */
static int l_wait(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  switch (t->wait) {
    case WL_WAIT_QUEUED: lua_pushboolean(L, 1); break;
    case WL_WAIT_OBJECT: lua_getiuservalue(L, 1, WL_UV_AUX); break;
    case WL_WAIT_EPOCH: lua_pushinteger(L, t->epoch); break;
    default: lua_pushboolean(L, 0); break;
  }
  return 1;
}

/* Sets t's wait to the value at index v (false, an epoch for a finished
 * task, or an object for a started one; true is enqueue's). */
static void set_wait(lua_State* L, wl_ctask* t, int self, int v) {
  int type = lua_type(L, v);
  if (type == LUA_TNIL || (type == LUA_TBOOLEAN && !lua_toboolean(L, v))) {
    if (t->wait == WL_WAIT_OBJECT) {
      lua_pushnil(L);
      lua_setiuservalue(L, self, WL_UV_AUX);
    }
    t->wait = WL_WAIT_NONE;
  } else if (type == LUA_TBOOLEAN) {
    luaL_argerror(L, 2, "true: use enqueue(t)");
  } else if (type == LUA_TNUMBER) {
    luaL_argcheck(L, t->state >= WL_DONE, 2, "only a finished task has an epoch");
    t->epoch = lua_tointeger(L, v);
    t->wait = WL_WAIT_EPOCH;
  } else {
    luaL_argcheck(L, t->state == WL_RUNNING || t->state == WL_SUSPENDED, 2, "only a started task waits for an object");
    lua_pushvalue(L, v);
    lua_setiuservalue(L, self, WL_UV_AUX);
    t->wait = WL_WAIT_OBJECT;
  }
}

static int l_set_wait(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  luaL_checkany(L, 2);
  set_wait(L, t, 1, 2);
  return 0;
}

/* task.c's wl_wait_begin: the task at index i waits for the value at the top (popped). */
void wl_ctask_wait_on_top(lua_State* L, int i) {
  wl_ctask* t = wl_ctask_at(L, i);
  if (t == NULL || (t->state != WL_RUNNING && t->state != WL_SUSPENDED)) {
    lua_pop(L, 1);
    return;
  }
  lua_setiuservalue(L, i, WL_UV_AUX);
  t->wait = WL_WAIT_OBJECT;
}

static int l_co(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  if (t->co != NULL) lua_getiuservalue(L, 1, WL_UV_MAIN);
  else lua_pushboolean(L, 0);
  return 1;
}

/* value(t): its function before it starts, false while it runs, its first result or its error. */
static int l_value(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  if (t->co != NULL) lua_pushboolean(L, 0);
  else lua_getiuservalue(L, 1, WL_UV_MAIN);
  return 1;
}

static int l_extra(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  if (t->has_extra) lua_getiuservalue(L, 1, WL_UV_EXTRA);
  else lua_pushboolean(L, 0);
  return 1;
}

static int l_set_extra(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, WL_UV_EXTRA);
  t->has_extra = 1;
  return 0;
}

/* running(): the running task and its extra (or false) when called from
 * its own coroutine; else nothing. */
static int l_running(lua_State* L) {
  wl_ctask* t = WL_TCORE(L)->current;
  if (t == NULL || t->co != L) return 0;
  wl_ctask_push(L, t);
  if (t->has_extra) lua_getiuservalue(L, -1, WL_UV_EXTRA);
  else lua_pushboolean(L, 0);
  return 2;
}

/* suspend(t[, w]): running task t is suspended (waiting for w if given). */
static int l_suspend(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  luaL_argcheck(L, t->state == WL_RUNNING, 1, "the running task");
  t->state = WL_SUSPENDED;
  if (!lua_isnoneornil(L, 2)) set_wait(L, t, 1, 2);
  return 0;
}

/* results(t): finished task t's results, or raises its error. */
static int l_results(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  luaL_argcheck(L, t->state >= WL_DONE, 1, "a finished task");
  if (t->state != WL_DONE) {
    lua_getiuservalue(L, 1, WL_UV_MAIN);
    return lua_error(L);
  }
  if (t->values == WL_VALUES_NONE) return 0;
  if (t->values == WL_VALUES_FALSE) {
    lua_getiuservalue(L, 1, WL_UV_MAIN);
    return 1;
  }
  lua_getiuservalue(L, 1, WL_UV_AUX); /* { n = n, ... } */
  lua_getfield(L, 2, "n");
  lua_Integer n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  luaL_checkstack(L, (int)n, "too many results");
  for (lua_Integer i = 1; i <= n; i++) lua_rawgeti(L, 2, i);
  return (int)n;
}

static int l_first_alive(lua_State* L) {
  wl_tcore* c = WL_TCORE(L);
  if (c->alive != NULL) wl_ctask_push(L, c->alive);
  else lua_pushboolean(L, 0);
  return 1;
}

static int l_next_alive(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  if (t->next != NULL) wl_ctask_push(L, t->next);
  else lua_pushboolean(L, 0);
  return 1;
}

static int l_alive_count(lua_State* L) {
  lua_pushinteger(L, WL_TCORE(L)->alive_count);
  return 1;
}

static int l_epoch(lua_State* L) {
  lua_pushinteger(L, WL_TCORE(L)->epoch);
  return 1;
}

static int l_bump_epoch(lua_State* L) {
  WL_TCORE(L)->epoch++;
  return 0;
}

/* ---- operations ---- */

/* finish(t, state, value, values): values false, NONE or a table. */
static int l_finish(lua_State* L) {
  wl_ctask* t = check_task(L, 1);
  lua_Integer state = luaL_checkinteger(L, 2);
  luaL_argcheck(L, state >= WL_DONE && state <= WL_KILLED && t->state < WL_DONE, 2, "not a final state of a live task");
  lua_settop(L, 4);
  int values = WL_VALUES_FALSE;
  if (lua_rawequal(L, 4, WL_NONE)) values = WL_VALUES_NONE;
  else if (lua_toboolean(L, 4)) values = WL_VALUES_AUX;
  wl_ctask_finish(L, WL_TCORE(L), t, 1, (int)state, 3, values, 4);
  return 0;
}

static void spawn_bad(lua_State* L, const char* what) {
  lua_rawgeti(L, WL_HOOKS, WL_HOOK_SPAWN_BAD);
  lua_pushstring(L, what);
  lua_pushvalue(L, 1);
  lua_call(L, 2, 0);
}

/* Puts the n > 1 arguments from index 2 in EXTRA's args of the task at the top. */
static void extra_args(lua_State* L, wl_ctask* t, int n) {
  lua_createtable(L, 0, 1);
  lua_createtable(L, n, 1);
  for (int i = 1; i <= n; i++) {
    lua_pushvalue(L, 1 + i);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_setfield(L, -2, "args");
  lua_setiuservalue(L, -2, WL_UV_EXTRA);
  t->has_extra = 1;
}

/* A task running fn(...) from the arguments (fn at 1), live and
 * scheduled, its first step queued if `queued`; pushed. */
static int spawn_as(lua_State* L, const char* what, int queued) {
  int n = lua_gettop(L) - 1;
  if (lua_type(L, 1) != LUA_TFUNCTION) spawn_bad(L, what);
  wl_tcore* c = WL_TCORE(L);
  wl_ctask* t = new_task(L, c, 1, n, 2);
  if (n > 1) extra_args(L, t, n);
  if (queued) { /* anchored first: the ring must never hold an unanchored task */
    int self = lua_gettop(L);
    anchor(L, c, t);
    if (!wl_ctask_enqueue(L, c, t, self, NULL)) {
      unanchor(L, c, t);
      wl_ctask_enqueue(L, c, t, self, what); /* raises: no runtime, or the loop refuses work */
    }
  }
  make_live(L, c, t);
  return 1;
}

/* weft.spawn(fn, ...): a task running fn(...), its first step queued. */
static int l_spawn(lua_State* L) { return spawn_as(L, "weft.spawn", 1); }

/* new_task(fn, ...): a task running fn(...), live and scheduled, not queued (weft.spawn_now). */
static int l_new_task(lua_State* L) { return spawn_as(L, "weft.spawn_now", 0); }

static int yield_k(lua_State* L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  if (lua_toboolean(L, 1)) return 0;
  lua_settop(L, 2);
  return lua_error(L);
}

static int slow_k(lua_State* L, int status, lua_KContext ctx) {
  (void)status;
  return lua_gettop(L) - (int)ctx;
}

/* Calls the hook with the values from index 1 on; answers what it answers. */
static int call_slow(lua_State* L, int hook) {
  int n = lua_gettop(L);
  lua_rawgeti(L, WL_HOOKS, hook);
  lua_insert(L, 1);
  lua_callk(L, n, LUA_MULTRET, 0, slow_k);
  return lua_gettop(L);
}

/* Whether running task t (with EXTRA) has a cancel to raise at its next
 * wait (tasks.lua's EXTRA cancel_pending). */
static int cancel_pending(lua_State* L, wl_ctask* t) {
  wl_ctask_push(L, t);
  lua_getiuservalue(L, -1, WL_UV_EXTRA);
  lua_getfield(L, -1, "cancel_pending");
  int pending = lua_toboolean(L, -1);
  lua_pop(L, 3);
  return pending;
}

/* weft.yield(): yields WL_YIELDED to the step, which queues the next one. */
static int l_yield(lua_State* L) {
  wl_tcore* c = WL_TCORE(L);
  wl_ctask* t = c->current;
  if (t == NULL || t->co != L || (t->has_extra && cancel_pending(L, t))) { /* outside a task, or a cancel */
    lua_settop(L, 0);
    return call_slow(L, WL_HOOK_YIELD_SLOW);
  }
  lua_settop(L, 0);
  lua_pushlightuserdata(L, WL_YIELDED(c));
  return lua_yieldk(L, 1, 0, yield_k);
}

/* task:await(): a finished task's one result without a wait; the rest in tasks.lua. */
static int l_await(lua_State* L) {
  wl_tcore* c = WL_TCORE(L);
  wl_ctask* self = wl_ctask_at(L, 1);
  wl_ctask* t = c->current;
  if (self != NULL && t != NULL && self->state == WL_DONE && self->values == WL_VALUES_FALSE && t->co == L &&
      (!t->has_extra || !cancel_pending(L, t))) {
    lua_getiuservalue(L, 1, WL_UV_MAIN);
    return 1;
  }
  return call_slow(L, WL_HOOK_AWAIT_SLOW);
}

static int l_gc(lua_State* L) {
  wl_tcore* c = (wl_tcore*)lua_touserdata(L, 1);
  free(c->free_slots);
  free(c->ring);
  free(c->segments);
  c->free_slots = NULL;
  c->ring = NULL;
  c->segments = NULL;
  c->free_cap = c->free_len = 0;
  c->ring_cap = c->ring_len = c->seg_cap = c->seg_len = 0;
  return 0;
}

static const luaL_Reg core_functions[] = {
    {"state", l_state},
    {"set_state", l_set_state},
    {"wait", l_wait},
    {"set_wait", l_set_wait},
    {"co", l_co},
    {"value", l_value},
    {"extra", l_extra},
    {"set_extra", l_set_extra},
    {"running", l_running},
    {"suspend", l_suspend},
    {"results", l_results},
    {"first_alive", l_first_alive},
    {"next_alive", l_next_alive},
    {"alive_count", l_alive_count},
    {"epoch", l_epoch},
    {"bump_epoch", l_bump_epoch},
    {"finish", l_finish},
    {"spawn", l_spawn},
    {"new_task", l_new_task},
    {"yield", l_yield},
    {"await", l_await},
    {NULL, NULL},
};

/* _task_core_open(TaskMT, tail, hooks): the core table (functions above
 * and task_step.c's, NONE, YIELDED). tail: a function whose one upvalue is
 * scheduler.lua's tail; hooks: the table of WL_HOOK_* functions. */
static int l_core_open(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TTABLE);
  if (lua_getupvalue(L, 2, 1) == NULL) return luaL_argerror(L, 2, "a function with an upvalue");
  lua_settop(L, 3);
  lua_newtable(L); /* the core table: 4 */
  wl_tcore* c = (wl_tcore*)lua_newuserdatauv(L, sizeof *c, 0); /* 5 */
  memset(c, 0, sizeof *c);
  c->next_slot = 1;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, 5);
  lua_newtable(L);           /* the anchor: 6 */
  lua_pushvalue(L, 1);       /* TaskMT */
  lua_newtable(L);           /* NONE: 8 */
  lua_pushvalue(L, 8);
  lua_setfield(L, 4, "NONE");
  lua_pushlightuserdata(L, WL_YIELDED(c));
  lua_setfield(L, 4, "YIELDED");
  lua_pushvalue(L, 2);       /* tail */
  lua_pushvalue(L, 3);       /* hooks */
  /* 5..10: the upvalues */
  for (const luaL_Reg* f = core_functions; f->name != NULL; f++) {
    for (int i = 5; i <= 10; i++) lua_pushvalue(L, i);
    lua_pushcclosure(L, f->func, WL_CORE_UPVALUES);
    lua_setfield(L, 4, f->name);
  }
  wl_task_step_fill(L, 4);
  lua_settop(L, 4);
  return 1;
}

#endif /* LUA_VERSION_NUM >= 504 */

/* Under Lua 5.4, weft._task_core_open for tasks.lua; under LuaJIT
 * task_table.lua defines it. */
void wl_task_core_open(lua_State* L) {
#if LUA_VERSION_NUM >= 504
  lua_pushcfunction(L, l_core_open);
  lua_setfield(L, -2, "_task_core_open");
#else
  (void)L;
#endif
}
