/* task_core.h: tasks as C structures under Lua 5.4 — what task_core.c
 * (the task, its fields, the list of live tasks, spawn, yield, await) and
 * task_step.c (the queue of task steps and the step itself) share. Under
 * LuaJIT tasks are Lua tables (task_table.lua) and none of this is built.
 *
 * A task is one full userdata (a wl_ctask) with three user values: MAIN
 * (its function before it starts, its coroutine while it runs or waits,
 * its first result or its error once it finished), AUX (its argument
 * before it starts, what it waits for while it waits on an object, its
 * results { n = n, ... } once it finished with several) and EXTRA
 * (tasks.lua's table of rarer fields, or nil). Its state, what kind of
 * thing it waits for, its epoch and its links are C fields. tasks.lua
 * reaches them through the accessors of the core table (task_core.c).
 *
 * Thread: the loop thread (the lua_State's).
 * Ownership: the core (a wl_tcore, a full userdata kept as an upvalue of
 * every core function) owns the queue's ring and the anchor's free list;
 * the anchor table (an upvalue too) keeps every live or queued task's
 * handle in a slot of its own; a task keeps its Lua values as user values.
 */
#ifndef WEFT_LUA_TASK_CORE_H
#define WEFT_LUA_TASK_CORE_H

#include "bindings/lua/weft_lua.h"

#if LUA_VERSION_NUM >= 504

/* States (tasks.lua's). */
enum { WL_SCHEDULED = 0, WL_RUNNING = 1, WL_SUSPENDED = 2, WL_DONE = 3, WL_FAILED = 4, WL_KILLED = 5 };
/* What a task waits for (tasks.lua's WAIT): nothing (false), its queued
 * step (true), the object in AUX, or, finished, its epoch (an integer). */
enum { WL_WAIT_NONE = 0, WL_WAIT_QUEUED = 1, WL_WAIT_OBJECT = 2, WL_WAIT_EPOCH = 3 };
/* Its results beyond the first (tasks.lua's VALUES): none besides the
 * first (false), none at all (NONE), or AUX (its argument before it
 * starts, its results table once it finished). */
enum { WL_VALUES_FALSE = 0, WL_VALUES_NONE = 1, WL_VALUES_AUX = 2 };
/* User values. */
enum { WL_UV_MAIN = 1, WL_UV_AUX = 2, WL_UV_EXTRA = 3, WL_UV_COUNT = 3 };

typedef struct wl_ctask {
  uintptr_t magic;              /* WL_CTASK_MAGIC: tells a task from other userdata */
  lua_State* co;                /* its coroutine (MAIN) while it runs or waits, else NULL */
  struct wl_ctask *prev, *next; /* the list of live tasks */
  lua_Integer epoch;            /* finished: the epoch of its runtime */
  int state;
  int wait;                     /* WL_WAIT_* */
  int values;                   /* WL_VALUES_* */
  int has_extra;                /* EXTRA is a table */
  int slot;                     /* its slot in the anchor table, 0 if none */
  int queued;                   /* its entries in the ring of steps */
} wl_ctask;

#define WL_CTASK_MAGIC ((uintptr_t)0x7765667454736b31u)

/* The core's state. */
typedef struct wl_tcore {
  wl_ctask* current;     /* the task running now */
  wl_ctask* alive;       /* the head of the list of live tasks (newest first) */
  lua_Integer alive_count;
  lua_Integer epoch;     /* bumped when the runtime or scope goes away */
  int* free_slots;       /* anchor slots given back */
  int free_len, free_cap, next_slot;
  /* The ring of queued steps, split into segments (runs of consecutive
   * steps) each standing behind one marker of scheduler.lua's queue. */
  wl_ctask** ring;
  size_t ring_cap, ring_head, ring_len;
  size_t* segments;      /* the steps in each segment, oldest first (a ring) */
  size_t seg_cap, seg_head, seg_len;
  int open;              /* the newest segment takes more steps while scheduler.lua's tail is open_tail */
  lua_Integer open_tail;
  unsigned drops;        /* bumped whenever the ring is dropped */
  int stop;              /* weft.loop_stop was called: the running batch ends */
} wl_tcore;

/* The upvalues every core function has. */
#define WL_CORE lua_upvalueindex(1)   /* the wl_tcore */
#define WL_ANCHOR lua_upvalueindex(2) /* the anchor table */
#define WL_TASKMT_UP lua_upvalueindex(3)
#define WL_NONE lua_upvalueindex(4)   /* tasks.lua's NONE */
#define WL_TAIL lua_upvalueindex(5)   /* a function whose one upvalue is scheduler.lua's tail */
#define WL_HOOKS lua_upvalueindex(6)  /* tasks.lua's and scheduler.lua's functions (below) */
#define WL_CORE_UPVALUES 6

/* WL_HOOKS' keys. */
enum {
  WL_HOOK_SETTLE = 1,      /* settle_rare(t, ok, values...): an outcome the step leaves to Lua */
  WL_HOOK_FINISH_EXTRA,    /* finish_extra(t, x, state, value): waiters, future, epoch */
  WL_HOOK_YIELD_SLOW,      /* yield_slow(): weft.yield() with checks to make */
  WL_HOOK_AWAIT_SLOW,      /* await_slow(self): task:await() that waits or raises */
  WL_HOOK_START_ARGS,      /* start_args(t): the arguments a task with EXTRA starts with */
  WL_HOOK_RESUME_RARE,     /* resume_rare(t): a queued step of a task with EXTRA */
  WL_HOOK_YIELD_REFUSED,   /* yield_refused(t): weft.yield()'s next step cannot be queued */
  WL_HOOK_PUSH_SEGMENT,    /* push_segment([what]): a new marker at scheduler.lua's tail */
  WL_HOOK_SPAWN_BAD,       /* spawn_bad(what, fn): raises for a spawn of a non-function */
};

#define WL_TCORE(L) ((wl_tcore*)lua_touserdata((L), WL_CORE))
#define WL_YIELDED(c) ((void*)&(c)->stop) /* what weft.yield() yields (a light userdata) */

/* The task at index i, or NULL if that is not one. */
static inline wl_ctask* wl_ctask_at(lua_State* L, int i) {
  wl_ctask* t = (wl_ctask*)lua_touserdata(L, i);
  if (t == NULL || lua_type(L, i) != LUA_TUSERDATA || lua_rawlen(L, i) != sizeof *t || t->magic != WL_CTASK_MAGIC)
    return NULL;
  return t;
}
/* Pushes task t's handle (t is anchored). */
void wl_ctask_push(lua_State* L, wl_ctask* t);
/* Ends task t: state, its value at index `value`, its VALUES kind (AUX:
 * the value at index `aux`); it leaves the list of live tasks and, if it
 * has EXTRA, tasks.lua's finish_extra runs. t's handle is at index `self`. */
void wl_ctask_finish(lua_State* L, wl_tcore* c, wl_ctask* t, int self, int state, int value, int values, int aux);

/* task_step.c: queues t's step (its WAIT becomes true; its handle at
 * self); answers 0 if the loop refuses work (or raises as `what` when it
 * is not NULL). */
int wl_ctask_enqueue(lua_State* L, wl_tcore* c, wl_ctask* t, int self, const char* what);
/* Runs a queued step of t (t's handle at `self`), as tasks.lua's
 * run_queued. */
void wl_ctask_run_queued(lua_State* L, wl_tcore* c, wl_ctask* t, int self);
/* task_core.c: lets t's handle go once it is neither live nor queued. */
void wl_ctask_release(lua_State* L, wl_tcore* c, wl_ctask* t);
/* task_step.c: adds its functions to the core table being made. */
void wl_task_step_fill(lua_State* L, int core_table);

#endif /* LUA_VERSION_NUM >= 504 */
#endif /* WEFT_LUA_TASK_CORE_H */
