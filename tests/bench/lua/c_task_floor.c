/* c_task_floor.c: W6's shape on the least a scheduler of tasks kept as C
 * structures can be under Lua 5.4 — the design that tasks.lua's tables
 * would be replaced by: a task is one full userdata (its coroutine, then
 * its result, as its one user value), spawn, yield, await and the step are
 * C functions, the ready queue is a C array of task pointers drained by a
 * C loop that calls lua_resume, and live tasks are anchored in one Lua
 * table (a slot each, reused through a free list) from which a task
 * pointer is turned back into its handle. None of what weft carries
 * besides: no event loop, no argument checks beyond the handle's type, no
 * cancellation, no errors handled, one result, one awaiter. A reference
 * beside coroutine_floor.lua and minimal_scheduler.lua, measured by
 * c_task_floor_w6.lua; Lua 5.4 only (LuaJIT's Lua 5.1 API has no user values).
 *
 *   require "c_task_floor" -> { spawn(fn, arg), yield(), await(task), run() }
 *
 * Thread: the one thread running the interpreter (state kept in statics:
 * one scheduler per process, which a benchmark needs and nothing else may).
 * Ownership: the anchor table keeps every unfinished task's handle; the
 * handle keeps its coroutine until it finishes, then its result.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>

#if LUA_VERSION_NUM >= 504

struct task {
  lua_State* co;         /* its coroutine; NULL once finished */
  int slot;              /* its slot in the anchor table */
  int started;           /* resumed at least once */
  struct task* awaiter;  /* the task awaiting it, or NULL */
};

#define TASK_MT lua_upvalueindex(1)
#define ANCHOR lua_upvalueindex(2)

static struct task** queue; /* ring buffer of ready tasks */
static size_t queue_cap, queue_head, queue_len;
static int* free_slots;     /* anchor slots given back */
static int free_len, free_cap, next_slot = 1;
static struct task* current;

static void push_ready(lua_State* L, struct task* t) {
  if (queue_len == queue_cap) {
    size_t cap = queue_cap ? queue_cap * 2 : 1024;
    struct task** q = malloc(cap * sizeof *q);
    if (q == NULL) luaL_error(L, "out of memory");
    for (size_t i = 0; i < queue_len; i++) q[i] = queue[(queue_head + i) % queue_cap];
    free(queue);
    queue = q;
    queue_cap = cap;
    queue_head = 0;
  }
  queue[(queue_head + queue_len) % queue_cap] = t;
  queue_len++;
}

static int take_slot(lua_State* L) {
  if (free_len > 0) return free_slots[--free_len];
  (void)L;
  return next_slot++;
}

static void give_slot(lua_State* L, int slot) {
  if (free_len == free_cap) {
    int cap = free_cap ? free_cap * 2 : 1024;
    int* s = realloc(free_slots, (size_t)cap * sizeof *s);
    if (s == NULL) luaL_error(L, "out of memory");
    free_slots = s;
    free_cap = cap;
  }
  free_slots[free_len++] = slot;
}

/* spawn(fn, arg): a task running fn(arg), queued. */
static int l_spawn(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 2);
  struct task* t = lua_newuserdatauv(L, sizeof *t, 1);
  lua_pushvalue(L, TASK_MT);
  lua_setmetatable(L, 3);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_xmove(L, co, 2);
  lua_setiuservalue(L, 3, 1); /* the handle keeps its coroutine */
  t->co = co;
  t->started = 0;
  t->awaiter = NULL;
  t->slot = take_slot(L);
  lua_pushvalue(L, 3);
  lua_rawseti(L, ANCHOR, t->slot);
  push_ready(L, t);
  return 1;
}

/* yield(): the running task goes to the end of the queue. */
static int l_yield(lua_State* L) {
  struct task* t = current;
  if (t == NULL || t->co != L) return luaL_error(L, "yield: not inside a task");
  push_ready(L, t);
  return lua_yield(L, 0);
}

static int await_result(lua_State* L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  lua_getiuservalue(L, 1, 1);
  return 1;
}

/* task:await(): its result, once it finished. */
static int l_await(lua_State* L) {
  struct task* t = lua_touserdata(L, 1);
  if (t == NULL || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, TASK_MT))
    return luaL_error(L, "await: expected a task");
  if (t->co == NULL) return await_result(L, LUA_OK, 0);
  struct task* self = current;
  if (self == NULL || self->co != L || t->awaiter != NULL) return luaL_error(L, "await: not allowed here");
  t->awaiter = self;
  return lua_yieldk(L, 0, 0, await_result);
}

/* run(): steps the queued tasks until none is left. */
static int l_run(lua_State* L) {
  while (queue_len > 0) {
    struct task* t = queue[queue_head];
    queue_head = (queue_head + 1) % queue_cap;
    queue_len--;
    lua_State* co = t->co;
    int nargs = t->started ? 0 : 1;
    t->started = 1;
    current = t;
    int nres = 0;
    int status = lua_resume(co, L, nargs, &nres);
    current = NULL;
    if (status == LUA_YIELD) {
      lua_pop(co, nres);
      continue;
    }
    if (status != LUA_OK) {
      lua_xmove(co, L, 1);
      return lua_error(L);
    }
    lua_rawgeti(L, ANCHOR, t->slot); /* the handle */
    if (nres > 0) lua_xmove(co, L, 1);
    else lua_pushnil(L);
    lua_setiuservalue(L, -2, 1); /* its result replaces its coroutine */
    lua_pop(L, 1);
    t->co = NULL;
    lua_pushnil(L);
    lua_rawseti(L, ANCHOR, t->slot);
    give_slot(L, t->slot);
    if (t->awaiter != NULL) push_ready(L, t->awaiter);
  }
  return 0;
}

int luaopen_c_task_floor(lua_State* L) {
  lua_settop(L, 0);
  lua_newtable(L); /* 1: the handles' metatable */
  lua_newtable(L); /* 2: the module */
  lua_pushvalue(L, 1);
  lua_newtable(L); /* the anchor table */
  static const luaL_Reg fns[] = {
      {"spawn", l_spawn}, {"yield", l_yield}, {"await", l_await}, {"run", l_run}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 2);
  lua_newtable(L); /* the metatable's __index: { await = ... } */
  lua_getfield(L, 2, "await");
  lua_setfield(L, -2, "await");
  lua_setfield(L, 1, "__index");
  return 1;
}

#else

int luaopen_c_task_floor(lua_State* L) {
  return luaL_error(L, "c_task_floor: Lua 5.4 only");
}

#endif
