/* task_step.c: the queue of task steps and the step under Lua 5.4 (tasks
 * as C structures, task_core.h).
 *
 * Queued steps wait in a C ring of task pointers, in FIFO order with
 * weft.call_soon's callbacks: the ring is split into segments (runs of
 * consecutive steps), each standing behind one marker that scheduler.lua's
 * ready queue holds among its callbacks. A step queued while the newest
 * segment's marker is still the queue's last entry (scheduler.lua's tail
 * has not moved since) joins that segment; otherwise push_segment (a hook
 * of scheduler.lua) appends a new marker. When the drain reaches a marker
 * it calls run_segment(budget), which runs up to `budget` steps of the
 * oldest segment in C. The drain closes the newest segment as it begins,
 * so that a step queued during a drain waits for the next one.
 *
 * The step (run_queued) starts a task or resumes it after weft.yield()
 * with lua_resume and records the common outcomes here: weft.yield() (it
 * yielded WL_YIELDED: its next step is queued), a weft wait (it set itself
 * suspended: what it waits for resumes it), or a return of at most one
 * value (it finishes; tasks.lua's finish_extra settles its waiters and
 * future). Everything else (an error, several results, a plain
 * coroutine.yield(), a queued step of a task with EXTRA: a cancellation,
 * several arguments) goes to tasks.lua's hooks.
 *
 * Thread: the loop thread (the drain, and tasks.lua's rarer paths).
 * Ownership: the ring (the core's) holds task pointers; each queued task
 * stays anchored (its `queued` count) until its step is taken or dropped.
 */
#include "bindings/lua/task_core.h"

#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM >= 504

/* Doubles the ring at *items (of *cap entries of `size` bytes, `len` of
 * them from `*head` on; *cap a power of two, or 0: `first`), its entries
 * moved to the front; raises if it cannot. */
static void grow(lua_State* L, void** items, size_t* cap, size_t* head, size_t len, size_t size, size_t first) {
  size_t new_cap = *cap ? *cap * 2 : first;
  char* ring = (char*)malloc(new_cap * size);
  if (ring == NULL) luaL_error(L, "weft: out of memory");
  for (size_t i = 0; i < len; i++) memcpy(ring + i * size, (char*)*items + ((*head + i) & (*cap - 1)) * size, size);
  free(*items);
  *items = ring;
  *cap = new_cap;
  *head = 0;
}

/* Makes room for one more step and one more segment (raises if it cannot). */
static void reserve(lua_State* L, wl_tcore* c) {
  if (c->ring_len == c->ring_cap)
    grow(L, (void**)&c->ring, &c->ring_cap, &c->ring_head, c->ring_len, sizeof *c->ring, 1024);
  if (c->seg_len == c->seg_cap)
    grow(L, (void**)&c->segments, &c->seg_cap, &c->seg_head, c->seg_len, sizeof *c->segments, 64);
}

int wl_ctask_enqueue(lua_State* L, wl_tcore* c, wl_ctask* t, int self, const char* what) {
  reserve(L, c);
  int joins = 0;
  if (c->open) {
    lua_getupvalue(L, WL_TAIL, 1);
    joins = lua_tointeger(L, -1) == c->open_tail;
    lua_pop(L, 1);
  }
  if (!joins) { /* a new marker at the queue's tail (posting the drain if needed) */
    lua_rawgeti(L, WL_HOOKS, WL_HOOK_PUSH_SEGMENT);
    if (what != NULL) lua_pushstring(L, what);
    else lua_pushnil(L);
    lua_call(L, 1, 1);
    if (!lua_toboolean(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    c->open_tail = lua_tointeger(L, -1);
    lua_pop(L, 1);
    c->open = 1;
    c->segments[(c->seg_head + c->seg_len) & (c->seg_cap - 1)] = 0;
    c->seg_len++;
  }
  c->ring[(c->ring_head + c->ring_len) & (c->ring_cap - 1)] = t;
  c->ring_len++;
  c->segments[(c->seg_head + c->seg_len - 1) & (c->seg_cap - 1)]++;
  t->queued++;
  if (t->wait == WL_WAIT_OBJECT) {
    lua_pushnil(L);
    lua_setiuservalue(L, self, WL_UV_AUX);
  }
  t->wait = WL_WAIT_QUEUED;
  return 1;
}

/* Calls hook(t, values...) with the n values at co's top; no results. */
static void call_hook(lua_State* L, int hook, int self, lua_State* co, int n) {
  lua_checkstack(L, n + 3);
  lua_rawgeti(L, WL_HOOKS, hook);
  lua_pushvalue(L, self);
  if (co != NULL) lua_xmove(co, L, n);
  lua_call(L, 1 + n, 0);
}

/* Resumes t (its handle at self) with the nargs values on co, and records
 * the outcome (tasks.lua's step and settle). */
static void resume_task(lua_State* L, wl_tcore* c, wl_ctask* t, int self, lua_State* co, int nargs) {
  wl_ctask* previous = c->current;
  c->current = t;
  t->state = WL_RUNNING;
  int nres = 0;
  int status = wl_resume(co, L, nargs, &nres);
  c->current = previous;
  if (status == LUA_YIELD) {
    if (nres == 1 && lua_touserdata(co, -1) == WL_YIELDED(c) && lua_islightuserdata(co, -1)) {
      lua_pop(co, 1); /* weft.yield(): its next step is queued */
      t->state = WL_SUSPENDED;
      if (!wl_ctask_enqueue(L, c, t, self, NULL)) call_hook(L, WL_HOOK_YIELD_REFUSED, self, NULL, 0);
      return;
    }
    if (t->state == WL_SUSPENDED) { /* a weft wait: what it waits for resumes it */
      lua_pop(co, nres);
      return;
    }
  } else if (status == LUA_OK && nres <= 1) { /* (extras: wl_ctask_finish calls finish_extra) */
    if (nres == 1) lua_xmove(co, L, 1);
    else lua_pushnil(L);
    wl_ctask_finish(L, c, t, self, WL_DONE, lua_gettop(L), nres ? WL_VALUES_FALSE : WL_VALUES_NONE, 0);
    lua_pop(L, 1);
    return;
  }
  /* settle_rare(t, ok, values...) */
  int ok = status == LUA_OK || status == LUA_YIELD;
  int n = ok ? nres : 1;
  lua_checkstack(L, n + 4);
  lua_rawgeti(L, WL_HOOKS, WL_HOOK_SETTLE);
  lua_pushvalue(L, self);
  lua_pushboolean(L, ok);
  lua_xmove(co, L, n);
  lua_call(L, 2 + n, 0);
}

void wl_ctask_run_queued(lua_State* L, wl_tcore* c, wl_ctask* t, int self) {
  lua_State* co;
  int nargs;
  if (t->state == WL_SCHEDULED) {
    int base = lua_gettop(L);
    co = lua_newthread(L);
    lua_getiuservalue(L, self, WL_UV_MAIN); /* its function */
    nargs = 0;
    if (t->values == WL_VALUES_AUX) { /* (AUX keeps it until it is set again: a wait, or the end) */
      lua_getiuservalue(L, self, WL_UV_AUX);
      nargs = 1;
    } else if (t->has_extra) { /* start_args(t): several, or none */
      lua_rawgeti(L, WL_HOOKS, WL_HOOK_START_ARGS);
      lua_pushvalue(L, self);
      lua_call(L, 1, LUA_MULTRET);
      nargs = lua_gettop(L) - base - 2;
    }
    lua_pushvalue(L, base + 1);
    lua_setiuservalue(L, self, WL_UV_MAIN); /* the coroutine */
    if (!lua_checkstack(co, nargs + 1)) luaL_error(L, "weft.spawn: too many arguments");
    lua_xmove(L, co, nargs + 1);
    lua_settop(L, base);
    t->co = co;
    t->values = WL_VALUES_FALSE;
    t->wait = WL_WAIT_NONE;
  } else {
    if (t->state != WL_SUSPENDED || t->wait != WL_WAIT_QUEUED) return; /* finished, or woken another way */
    if (t->has_extra) { /* resume_rare(t): a cancellation may be pending */
      call_hook(L, WL_HOOK_RESUME_RARE, self, NULL, 0);
      return;
    }
    t->wait = WL_WAIT_NONE;
    co = t->co;
    lua_pushboolean(co, 1);
    nargs = 1;
  }
  resume_task(L, c, t, self, co, nargs);
}

/* run_queued(t): starts t, or resumes it after weft.yield(). */
static int l_run_queued(lua_State* L) {
  wl_ctask* t = wl_ctask_at(L, 1);
  luaL_argcheck(L, t != NULL, 1, "a weft.Task");
  lua_settop(L, 1);
  wl_ctask_run_queued(L, WL_TCORE(L), t, 1);
  return 0;
}

/* step(t, values...): resumes suspended task t with the values now. */
static int l_step(lua_State* L) {
  wl_ctask* t = wl_ctask_at(L, 1);
  luaL_argcheck(L, t != NULL && t->state == WL_SUSPENDED && t->co != NULL, 1, "a suspended weft.Task");
  int n = lua_gettop(L) - 1;
  if (!lua_checkstack(t->co, n)) luaL_error(L, "weft: too many values");
  lua_xmove(L, t->co, n);
  resume_task(L, WL_TCORE(L), t, 1, t->co, n);
  return 0;
}

/* enqueue(t[, what]): queues t's step; false, or raises as `what`, if the loop refuses work. */
static int l_enqueue(lua_State* L) {
  wl_ctask* t = wl_ctask_at(L, 1);
  luaL_argcheck(L, t != NULL && t->state < WL_DONE, 1, "a live weft.Task");
  const char* what = luaL_optstring(L, 2, NULL);
  lua_pushboolean(L, wl_ctask_enqueue(L, WL_TCORE(L), t, 1, what));
  return 1;
}

/* run_segment(budget) -> ran, done: runs up to budget steps of the oldest
 * segment; done: it was emptied (its marker goes). */
static int l_run_segment(lua_State* L) {
  wl_tcore* c = WL_TCORE(L);
  lua_Integer budget = luaL_checkinteger(L, 1);
  unsigned drops = c->drops;
  lua_Integer ran = 0;
  int done = 0;
  c->stop = 0;
  lua_settop(L, 0);
  while (ran < budget && c->seg_len > 0) {
    wl_ctask* t = c->ring[c->ring_head];
    c->ring_head = (c->ring_head + 1) & (c->ring_cap - 1);
    c->ring_len--;
    ran++;
    if (--c->segments[c->seg_head] == 0) {
      c->seg_head = (c->seg_head + 1) & (c->seg_cap - 1);
      if (--c->seg_len == 0) c->open = 0;
      done = 1;
    }
    wl_ctask_push(L, t);
    t->queued--;
    wl_ctask_release(L, c, t); /* finished meanwhile: its handle is on the stack */
    wl_ctask_run_queued(L, c, t, 1);
    lua_settop(L, 0);
    if (done || c->stop || c->drops != drops) break;
  }
  lua_pushinteger(L, ran);
  lua_pushboolean(L, done && c->drops == drops);
  return 2;
}

/* drop_steps(): what is queued is dropped (the tasks keep WAIT true:
 * tasks.lua's tasks_dropped finds them). */
static int l_drop_steps(lua_State* L) {
  wl_tcore* c = WL_TCORE(L);
  while (c->ring_len > 0) {
    wl_ctask* t = c->ring[c->ring_head];
    c->ring_head = (c->ring_head + 1) & (c->ring_cap - 1);
    c->ring_len--;
    t->queued--;
    wl_ctask_release(L, c, t);
  }
  c->seg_head = c->seg_len = 0;
  c->ring_head = 0;
  c->open = 0;
  c->drops++;
  return 0;
}

/* close_steps(): the newest segment takes no more steps (a drain begins,
 * or scheduler.lua's queue was split). */
static int l_close_steps(lua_State* L) {
  WL_TCORE(L)->open = 0;
  return 0;
}

/* stop_steps(): weft.loop_stop was called: run_segment returns after the running step. */
static int l_stop_steps(lua_State* L) {
  WL_TCORE(L)->stop = 1;
  return 0;
}

static const luaL_Reg step_functions[] = {
    {"run_queued", l_run_queued},   {"step", l_step},           {"enqueue", l_enqueue},
    {"run_segment", l_run_segment}, {"drop_steps", l_drop_steps}, {"close_steps", l_close_steps},
    {"stop_steps", l_stop_steps},   {NULL, NULL},
};

/* Adds the functions above to the core table at core_table, with the
 * core's upvalues (at core_table + 1 ...). */
void wl_task_step_fill(lua_State* L, int core_table) {
  for (const luaL_Reg* f = step_functions; f->name != NULL; f++) {
    for (int i = 1; i <= WL_CORE_UPVALUES; i++) lua_pushvalue(L, core_table + i);
    lua_pushcclosure(L, f->func, WL_CORE_UPVALUES);
    lua_setfield(L, core_table, f->name);
  }
}

#endif /* LUA_VERSION_NUM >= 504 */
