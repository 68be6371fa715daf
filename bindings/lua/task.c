/* task.c: tasks — Lua coroutines driven by weft's loop — and the waits that
 * resume them: spawn, yield, sleep, awaiting a future or another task,
 * cancellation.
 *
 * How a wait works: the Lua side calls a _wait_* function, which registers
 * a callback with weft carrying a fresh wl_wait and returns true; the Lua
 * side then yields (coroutine.yield). weft calls the callback exactly once,
 * on the loop thread; it frees the wl_wait and, if the task still waits for
 * it, resumes the coroutine with (true, results...) or (false, error), which
 * the Lua side turns into return values or a raised error. A coroutine that
 * yields without a wait (a plain coroutine.yield in a task) is treated as
 * weft.yield().
 *
 * Thread: the loop thread.
 * Ownership: see weft_lua.h (tasks anchor themselves until finished; a
 * wl_wait belongs to the callback weft will call).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/lua/weft_lua.h"

static void resume(wl_task* t, int nargs);
static void finish(wl_task* t, int outcome, int nresults);
static const char* task_name(wl_task* t);

/* ---- waits ---- */

wl_wait* wl_wait_new(wl_task* task, int kind) {
  wl_wait* w = (wl_wait*)calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->task = task;
  w->kind = kind;
  return w;
}

void wl_wait_begin(wl_task* task, wl_wait* wait) { task->wait = wait; }

static void wait_free(wl_wait* w) {
  if (w->op != NULL) weft_future_release(w->op);
  free(w);
}

void wl_wait_discard(wl_wait* wait) { wait_free(wait); }

/* The task stops waiting for `w` (cancelled): the callback still comes, and
 * finds nobody to resume. */
static void abandon(wl_wait* w) {
  wl_task* t = w->task;
  if (t != NULL && t->wait == w) t->wait = NULL;
  w->task = NULL;
  if (w->kind == WL_WAIT_TASK && !w->posted) {
    /* No callback is registered yet: unlink from the source and free. */
    wl_wait** link = &w->source->waiters;
    while (*link != NULL && *link != w) link = &(*link)->next_waiter;
    if (*link == w) *link = w->next_waiter;
    free(w);
    return;
  }
  if (w->op != NULL) {
    weft_future_t* op = w->op;
    weft_future_retain(op); /* the callback may run inside cancel and release w->op */
    weft_future_cancel(op);
    weft_future_release(op);
  }
}

/* Takes the wait the callback carries: NULL if nobody waits for it any more
 * (the record is freed then), else the task, no longer waiting. */
static wl_task* claim(wl_wait* w) {
  wl_task* t = w->task;
  if (t == NULL) return NULL;
  if (t->wait == w) t->wait = NULL;
  if (t->S->closing) { /* the runtime is going away: the task ends here */
    lua_settop(t->co, 0);
    wl_push_error(t->co, WEFT_ERR_CANCELLED, "the runtime or scope was closed");
    t->reported = 1;
    finish(t, WL_OUTCOME_CANCELLED, 0);
    return NULL;
  }
  return t;
}

/* Resumes with (false, error) for a failed status. */
static void resume_failed(wl_task* t, weft_status status, const char* message) {
  lua_pushboolean(t->co, 0);
  wl_push_error(t->co, status, message);
  resume(t, 2);
}

static void push_task_outcome(lua_State* to, wl_task* source) {
  if (source->outcome == WL_OUTCOME_OK) {
    int base = lua_gettop(source->co) - source->nresults;
    lua_checkstack(to, source->nresults + 1);
    lua_pushboolean(to, 1);
    for (int i = 1; i <= source->nresults; i++) {
      lua_pushvalue(source->co, base + i);
      lua_xmove(source->co, to, 1);
    }
  } else {
    lua_pushboolean(to, 0);
    lua_rawgeti(to, LUA_REGISTRYINDEX, source->result_ref);
  }
}

void wl_on_ready(void* user, weft_status status, const char* message) {
  wl_wait* w = (wl_wait*)user;
  int kind = w->kind;
  wl_task* source = w->source;
  wl_task* t = claim(w);
  wait_free(w);
  if (t == NULL) return;
  switch (kind) {
    case WL_WAIT_START:
      if (status != WEFT_OK) {
        lua_settop(t->co, 0);
        wl_push_error(t->co, status, message);
        finish(t, WL_OUTCOME_CANCELLED, 0);
        return;
      }
      resume(t, lua_gettop(t->co) - 1);
      return;
    case WL_WAIT_CANCEL:
      resume_failed(t, WEFT_ERR_CANCELLED, "the task was cancelled");
      return;
    case WL_WAIT_TASK:
      push_task_outcome(t->co, source);
      resume(t, lua_gettop(t->co));
      return;
    default:
      if (status != WEFT_OK) {
        resume_failed(t, status, message);
        return;
      }
      lua_pushboolean(t->co, 1);
      resume(t, 1);
  }
}

static void on_future(void* user, weft_future_t* future, weft_status status,
                      const weft_value* value, const char* message) {
  (void)future;
  wl_wait* w = (wl_wait*)user;
  int eof_is_nil = w->eof_is_nil;
  wl_task* t = claim(w);
  wait_free(w);
  if (t == NULL) return;
  if (status == WEFT_ERR_END_OF_FILE && eof_is_nil) {
    lua_pushboolean(t->co, 1);
    lua_pushnil(t->co);
    resume(t, 2);
    return;
  }
  if (status != WEFT_OK) {
    resume_failed(t, status, message);
    return;
  }
  lua_pushboolean(t->co, 1);
  wl_push_value(t->co, value);
  resume(t, 2);
}

void wl_on_bytes(void* user, weft_status status, const char* message, const void* bytes,
                 size_t len) {
  wl_wait* w = (wl_wait*)user;
  int eof_is_nil = w->eof_is_nil;
  wl_task* t = claim(w);
  wait_free(w);
  if (t == NULL) return;
  if (status == WEFT_ERR_END_OF_FILE && eof_is_nil) {
    lua_pushboolean(t->co, 1);
    lua_pushnil(t->co);
    resume(t, 2);
    return;
  }
  if (status != WEFT_OK) {
    resume_failed(t, status, message);
    return;
  }
  lua_pushboolean(t->co, 1);
  lua_pushlstring(t->co, (const char*)bytes, len);
  resume(t, 2);
}

void wl_on_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  wl_wait* w = (wl_wait*)user;
  wl_task* t = claim(w);
  wait_free(w);
  if (t == NULL) {
    if (stream != NULL) weft_stream_close(stream); /* nobody will take it */
    return;
  }
  if (status != WEFT_OK) {
    resume_failed(t, status, message);
    return;
  }
  lua_pushboolean(t->co, 1);
  wl_push_stream(t->co, stream);
  resume(t, 2);
}

/* ---- running and finishing ---- */

static void link_alive(wl_state* S, wl_task* t);
static void unlink_alive(wl_task* t);

static void post_wait(wl_task* t, int kind) {
  wl_wait* w = wl_wait_new(t, kind);
  weft_status status = w == NULL ? WEFT_ERR_NO_MEMORY
                                 : weft_loop_call_soon(t->S->loop, wl_on_ready, w);
  if (status == WEFT_OK) {
    wl_wait_begin(t, w);
    return;
  }
  free(w);
  /* The scope refuses work: the task cannot go on. */
  lua_settop(t->co, 0);
  wl_push_error(t->co, status, "the task cannot be scheduled");
  finish(t, WL_OUTCOME_CANCELLED, 0);
}

static void resume(wl_task* t, int nargs) {
  wl_state* S = t->S;
  wl_task* previous = S->current;
  lua_State* from = previous != NULL ? previous->co : S->L;
  S->current = t;
  t->state = WL_TASK_RUNNING;
  int nresults = 0;
  int status = wl_resume(t->co, from, nargs, &nresults);
  S->current = previous;
  if (status == LUA_YIELD) {
    lua_pop(t->co, nresults);
    t->state = WL_TASK_SUSPENDED;
    if (t->wait == NULL) post_wait(t, WL_WAIT_READY); /* a plain coroutine.yield() */
    return;
  }
  if (status == LUA_OK) {
    finish(t, WL_OUTCOME_OK, nresults);
    return;
  }
  /* An error: its value is at the top of the coroutine. */
  int cancelled = 0;
  if (lua_istable(t->co, -1)) {
    lua_getfield(t->co, -1, "status");
    cancelled = lua_tointeger(t->co, -1) == WEFT_ERR_CANCELLED;
    lua_pop(t->co, 1);
  }
  finish(t, cancelled ? WL_OUTCOME_CANCELLED : WL_OUTCOME_ERROR, 0);
}

/* Converts a result for the task's future without raising. */
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

static void complete_future(wl_task* t) {
  if (t->future == NULL) return;
  if (t->outcome == WL_OUTCOME_OK) {
    weft_value v = t->nresults > 0 ? result_value(t->co, lua_gettop(t->co) - t->nresults + 1)
                                   : weft_value_none();
    weft_future_resolve(t->future, &v);
  } else if (t->outcome == WL_OUTCOME_CANCELLED) {
    weft_future_cancel(t->future);
  } else {
    lua_State* L = t->S->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->result_ref);
    weft_status status = WEFT_ERR_EXCEPTION;
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "status");
      lua_Integer s = lua_tointeger(L, -1);
      lua_pop(L, 1);
      if (s < 0 && s != WEFT_ERR_CANCELLED) status = (weft_status)s;
    }
    const char* text = wl_tostring(L, -1);
    if (weft_future_reject(t->future, status, text) != WEFT_OK)
      weft_future_reject(t->future, WEFT_ERR_EXCEPTION, text);
    lua_pop(L, 2);
  }
}

static void finish(wl_task* t, int outcome, int nresults) {
  wl_state* S = t->S;
  t->state = WL_TASK_DONE;
  t->outcome = outcome;
  t->nresults = nresults;
  if (outcome != WL_OUTCOME_OK) {
    if (outcome == WL_OUTCOME_ERROR && !t->reported && t->waiters == NULL && !S->closing) {
      t->reported = 1;
      lua_pushvalue(t->co, -1);
      lua_xmove(t->co, S->L, 1);
      char where[80];
      snprintf(where, sizeof where, "task '%s' failed", task_name(t));
      wl_report_error(S, S->L, t->co, where);
    }
    t->result_ref = luaL_ref(t->co, LUA_REGISTRYINDEX); /* pops the error value */
  }
  unlink_alive(t);
  /* Wake the waiters in the order they came. */
  wl_wait* list = NULL;
  while (t->waiters != NULL) { /* reverse: waiters were pushed at the front */
    wl_wait* w = t->waiters;
    t->waiters = w->next_waiter;
    w->next_waiter = list;
    list = w;
  }
  while (list != NULL) {
    wl_wait* w = list;
    list = w->next_waiter;
    w->posted = 1;
    if (S->closing || weft_loop_call_soon(S->loop, wl_on_ready, w) != WEFT_OK) {
      wl_task* waiter = w->task;
      free(w);
      if (waiter != NULL) {
        waiter->wait = NULL;
        lua_settop(waiter->co, 0);
        wl_push_error(waiter->co, WEFT_ERR_CANCELLED, "the runtime or scope was closed");
        waiter->reported = 1;
        finish(waiter, WL_OUTCOME_CANCELLED, 0);
      }
    }
  }
  complete_future(t);
  int anchor = t->anchor_ref;
  t->anchor_ref = LUA_NOREF;
  luaL_unref(S->L, LUA_REGISTRYINDEX, anchor); /* t may be collected from here on */
}

/* ---- the task list ---- */

/* Tasks not finished, in a list, so that a host can cancel a script's
 * tasks when it unloads it. */
static void link_alive(wl_state* S, wl_task* t) {
  t->prev_alive = NULL;
  t->next_alive = S->alive;
  if (S->alive != NULL) S->alive->prev_alive = t;
  S->alive = t;
  S->tasks_alive++;
}
static void unlink_alive(wl_task* t) {
  wl_state* S = t->S;
  if (t->prev_alive != NULL) t->prev_alive->next_alive = t->next_alive;
  else S->alive = t->next_alive;
  if (t->next_alive != NULL) t->next_alive->prev_alive = t->prev_alive;
  t->prev_alive = t->next_alive = NULL;
  S->tasks_alive--;
}
size_t wl_tasks_alive(wl_state* S) { return S->tasks_alive; }

static void cancel(wl_task* t);

size_t wl_cancel_all(wl_state* S) {
  size_t n = 0;
  for (;;) { /* cancelling one may finish others: start over each time */
    wl_task* t = S->alive;
    while (t != NULL && t->cancel_sent) t = t->next_alive;
    if (t == NULL) return n;
    t->cancel_sent = 1;
    cancel(t);
    n++;
  }
}

/* ---- spawning ---- */

static uint64_t task_counter = 0;

/* The task's name: the one it was given, or "task-<id>". */
static const char* task_name(wl_task* t) {
  if (t->name[0] == '\0') snprintf(t->name, sizeof t->name, "task-%llu", (unsigned long long)t->id);
  return t->name;
}

wl_task* wl_check_task(lua_State* L, int index) {
  return (wl_task*)luaL_checkudata(L, index, WL_TASK_MT);
}

/* Makes a task of the function at fn_index and the nargs values after it
 * (all removed from L), pushes its handle. Started by the loop (defer), or
 * at once when start_now. */
static wl_task* spawn(lua_State* L, wl_state* S, int fn_index, int nargs, int start_now) {
  wl_state_check_runtime(L, S, "weft.spawn");
  luaL_checktype(L, fn_index, LUA_TFUNCTION);
  wl_task* t = (wl_task*)lua_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  t->S = S;
  t->co_ref = LUA_NOREF;
  t->anchor_ref = LUA_NOREF;
  t->result_ref = LUA_NOREF;
  t->epoch = S->epoch;
  t->id = ++task_counter; /* named "task-<id>" until named (formatted when asked for) */
  wl_setmetatable(L, WL_TASK_MT);
  int task_index = lua_gettop(L);
  t->co = lua_newthread(L);
  t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  /* The handle goes below fn; fn and its arguments move to the coroutine. */
  (void)task_index;
  lua_insert(L, fn_index);
  lua_xmove(L, t->co, nargs + 1);
  lua_pushvalue(L, -1);
  t->anchor_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  t->state = WL_TASK_SCHEDULED;
  link_alive(S, t);
  if (start_now) {
    resume(t, nargs);
  } else {
    wl_wait* w = wl_wait_new(t, WL_WAIT_START);
    weft_status status = w == NULL ? WEFT_ERR_NO_MEMORY
                                   : weft_loop_call_soon(S->loop, wl_on_ready, w);
    if (status != WEFT_OK) {
      free(w);
      unlink_alive(t);
      luaL_unref(L, LUA_REGISTRYINDEX, t->anchor_ref);
      t->anchor_ref = LUA_NOREF;
      t->state = WL_TASK_DONE;
      t->outcome = WL_OUTCOME_CANCELLED;
      wl_push_error(L, WEFT_ERR_CANCELLED, "never started");
      t->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
      wl_raise(L, status, "weft.spawn: the loop refuses new work");
    }
    wl_wait_begin(t, w);
  }
  return t;
}

wl_task* wl_spawn(lua_State* L, wl_state* S, int fn_index, int nargs) {
  wl_task* t = spawn(L, S, fn_index, nargs, 0);
  t->reported = 1; /* weft.run raises main's error itself */
  return t;
}

/* weft.spawn(fn, ...): a task that starts on the loop's next turn. */
static int l_spawn(lua_State* L) {
  spawn(L, wl_state_get(L), 1, lua_gettop(L) - 1, 0);
  return 1;
}

/* weft.spawn_now(fn, ...): a task that runs at once until its first wait
 * (Luau's task.spawn). */
static int l_spawn_now(lua_State* L) {
  spawn(L, wl_state_get(L), 1, lua_gettop(L) - 1, 1);
  return 1;
}

/* ---- waits the Lua side yields after (each returns true, or false and an
 * error to raise without yielding) ---- */

wl_task* wl_current_task(lua_State* L, wl_state* S, const char* what) {
  wl_task* t = S->current;
  if (t == NULL || t->co != L) {
    lua_pushfstring(L, "%s: not inside a weft task (use weft.spawn or weft.run)", what);
    wl_raise(L, WEFT_ERR_INVALID_STATE, lua_tostring(L, -1));
  }
  return t;
}

/* A cancel requested while the task ran: the wait raises it now. */
static int take_cancel(lua_State* L, wl_task* t) {
  if (!t->cancel_pending) return 0;
  t->cancel_pending = 0;
  lua_pushboolean(L, 0);
  wl_push_error(L, WEFT_ERR_CANCELLED, "the task was cancelled");
  return 2;
}

static int refused(lua_State* L, weft_status status, const char* what) {
  lua_pushboolean(L, 0);
  wl_push_error(L, status, what);
  return 2;
}

static int l_wait_yield(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_task* t = wl_current_task(L, S, "weft.yield");
  int n = take_cancel(L, t);
  if (n) return n;
  wl_wait* w = wl_wait_new(t, WL_WAIT_READY);
  if (w == NULL) return refused(L, WEFT_ERR_NO_MEMORY, "weft.yield");
  weft_status status = weft_loop_call_soon(S->loop, wl_on_ready, w);
  if (status != WEFT_OK) {
    free(w);
    return refused(L, status, "weft.yield: the loop refuses new work");
  }
  wl_wait_begin(t, w);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_wait_sleep(lua_State* L) {
  wl_state* S = wl_state_get(L);
  lua_Number seconds = luaL_checknumber(L, 1);
  wl_task* t = wl_current_task(L, S, "weft.sleep");
  if (!(seconds >= 0) || seconds > 1e9)
    return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "weft.sleep: seconds must be between 0 and 1e9");
  int n = take_cancel(L, t);
  if (n) return n;
  wl_wait* w = wl_wait_new(t, WL_WAIT_READY);
  if (w == NULL) return refused(L, WEFT_ERR_NO_MEMORY, "weft.sleep");
  weft_future_t* timer = NULL;
  weft_status status =
      weft_loop_call_later(&timer, S->loop, (uint64_t)(seconds * 1e9), wl_on_ready, w);
  if (status != WEFT_OK) {
    free(w);
    return refused(L, status, "weft.sleep: cannot arm the timer");
  }
  w->op = timer;
  wl_wait_begin(t, w);
  lua_pushboolean(L, 1);
  return 1;
}

/* _wait_future(future[, cancel_with_task[, eof_is_nil]]): an operation's
 * future is cancelled if the task stops waiting (cancelled). */
static int l_wait_future(lua_State* L) {
  wl_state* S = wl_state_get(L);
  weft_future_t* future = wl_check_future(L, 1);
  int cancel_with_task = lua_toboolean(L, 2);
  int eof_is_nil = lua_toboolean(L, 3);
  wl_task* t = wl_current_task(L, S, "weft.await");
  int n = take_cancel(L, t);
  if (n) return n;
  wl_wait* w = wl_wait_new(t, WL_WAIT_FUTURE);
  if (w == NULL) return refused(L, WEFT_ERR_NO_MEMORY, "weft.await");
  weft_status status = weft_future_then(future, S->loop, on_future, w);
  if (status != WEFT_OK) {
    free(w);
    return refused(L, status, "weft.await: cannot wait for the future");
  }
  w->eof_is_nil = eof_is_nil;
  if (cancel_with_task && weft_future_retain(future) == WEFT_OK) w->op = future;
  wl_wait_begin(t, w);
  lua_pushboolean(L, 1);
  return 1;
}

/* Awaiting a task: a finished one answers at once (true, results... or
 * false, error) without yielding: the Lua side then returns "now". */
static int l_wait_task(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_task* source = wl_check_task(L, 1);
  wl_task* t = wl_current_task(L, S, "task:await");
  if (source == t) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "task:await: a task cannot await itself");
  int n = take_cancel(L, t);
  if (n) return n;
  if (source->state == WL_TASK_DONE) {
    lua_pushstring(L, "done");
    push_task_outcome(L, source);
    return lua_gettop(L) - 1;
  }
  wl_wait* w = wl_wait_new(t, WL_WAIT_TASK);
  if (w == NULL) return refused(L, WEFT_ERR_NO_MEMORY, "task:await");
  w->source = source;
  w->next_waiter = source->waiters;
  source->waiters = w;
  wl_wait_begin(t, w);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- task handles ---- */

static void cancel(wl_task* t) {
  wl_state* S = t->S;
  if (t->state == WL_TASK_RUNNING) {
    t->cancel_pending = 1;
    return;
  }
  wl_wait* w = t->wait;
  if (w != NULL) abandon(w);
  t->wait = NULL;
  if (t->state == WL_TASK_SCHEDULED) {
    lua_settop(t->co, 0);
    wl_push_error(t->co, WEFT_ERR_CANCELLED, "the task was cancelled before it started");
    finish(t, WL_OUTCOME_CANCELLED, 0);
    return;
  }
  /* Suspended: resume it with the cancellation error on the loop's next
   * turn, so it can clean up. */
  if (!S->closing) {
    wl_wait* c = wl_wait_new(t, WL_WAIT_CANCEL);
    if (c != NULL && weft_loop_call_soon(S->loop, wl_on_ready, c) == WEFT_OK) {
      wl_wait_begin(t, c);
      return;
    }
    free(c);
  }
  lua_settop(t->co, 0);
  wl_push_error(t->co, WEFT_ERR_CANCELLED, "the task was cancelled");
  finish(t, WL_OUTCOME_CANCELLED, 0);
}

/* task:cancel(): true if the task was still alive. */
static int l_task_cancel(lua_State* L) {
  wl_task* t = wl_check_task(L, 1);
  if (t->state == WL_TASK_DONE || t->epoch != wl_state_get(L)->epoch) {
    lua_pushboolean(L, 0);
    return 1;
  }
  cancel(t);
  lua_pushboolean(L, 1);
  return 1;
}

/* task:name() / task:name("new name"). */
static int l_task_name(lua_State* L) {
  wl_task* t = wl_check_task(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    const char* name = luaL_checkstring(L, 2);
    snprintf(t->name, sizeof t->name, "%s", name);
    wl_state* S = t->S; /* the future went with its runtime */
    if (t->future != NULL && S->runtime != NULL && t->epoch == S->epoch) weft_future_set_name(t->future, t->name);
  }
  lua_pushstring(L, task_name(t));
  return 1;
}

/* task:status(): "scheduled", "running", "suspended", "done", "failed" or
 * "cancelled". */
static int l_task_status(lua_State* L) {
  wl_task* t = wl_check_task(L, 1);
  static const char* const states[] = {"scheduled", "running", "suspended", "done"};
  if (t->state == WL_TASK_DONE && t->outcome == WL_OUTCOME_ERROR) lua_pushstring(L, "failed");
  else if (t->state == WL_TASK_DONE && t->outcome == WL_OUTCOME_CANCELLED) lua_pushstring(L, "cancelled");
  else lua_pushstring(L, states[t->state]);
  return 1;
}

/* task:future(): a weft future that completes with the task (its first
 * result if it is a nil, boolean, number or string; the failure's status
 * and text; or cancelled) — for the combinators and for C code. */
static int l_task_future(lua_State* L) {
  wl_task* t = wl_check_task(L, 1);
  wl_state* S = wl_state_get(L);
  if (t->future == NULL) {
    wl_state_check_runtime(L, S, "task:future");
    if (t->epoch != S->epoch) return wl_raise(L, WEFT_ERR_STALE_HANDLE, "the task's runtime is gone");
    weft_status status = weft_future_create(&t->future, S->loop);
    if (status != WEFT_OK) return wl_raise(L, status, "task:future");
    weft_future_set_name(t->future, task_name(t));
    if (t->state == WL_TASK_DONE) complete_future(t);
  }
  weft_future_retain(t->future);
  wl_push_future(L, t->future);
  return 1;
}

/* task:result(): the outcome of a finished task: true, results... or false,
 * error. Raises if it has not finished. */
static int l_task_result(lua_State* L) {
  wl_task* t = wl_check_task(L, 1);
  if (t->state != WL_TASK_DONE) return wl_raise(L, WEFT_ERR_NOT_READY, "task:result: the task has not finished");
  push_task_outcome(L, t);
  return lua_gettop(L) - 1;
}

static int l_task_gc(lua_State* L) {
  wl_task* t = (wl_task*)luaL_testudata(L, 1, WL_TASK_MT);
  if (t == NULL) return 0;
  wl_state* S = wl_state_get(L);
  if (t->future != NULL && S->runtime != NULL && t->epoch == S->epoch) weft_future_release(t->future);
  t->future = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, t->co_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, t->result_ref);
  t->co_ref = t->result_ref = LUA_NOREF;
  return 0;
}

static int l_task_tostring(lua_State* L) {
  wl_task* t = wl_check_task(L, 1);
  lua_pushfstring(L, "weft.Task(%s)", task_name(t));
  return 1;
}

/* weft.current(): the running task, or nil. */
static int l_current(lua_State* L) {
  wl_state* S = wl_state_get(L);
  if (S->current == NULL || S->current->co != L) {
    lua_pushnil(L);
    return 1;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, S->current->anchor_ref);
  return 1;
}

static int l_tasks_alive(lua_State* L) {
  lua_pushinteger(L, (lua_Integer)wl_state_get(L)->tasks_alive);
  return 1;
}

void wl_task_open(lua_State* L) {
  int module = lua_gettop(L);
  luaL_newmetatable(L, WL_TASK_MT);
  lua_pushcfunction(L, l_task_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_task_tostring);
  lua_setfield(L, -2, "__tostring");
  static const luaL_Reg methods[] = {
      {"cancel", l_task_cancel}, {"name", l_task_name},     {"status", l_task_status},
      {"future", l_task_future}, {"result", l_task_result}, {NULL, NULL},
  };
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_setfield(L, module, "Task");
  static const luaL_Reg functions[] = {
      {"spawn", l_spawn},
      {"spawn_now", l_spawn_now},
      {"current", l_current},
      {"tasks_alive", l_tasks_alive},
      {"_wait_yield", l_wait_yield},
      {"_wait_sleep", l_wait_sleep},
      {"_wait_future", l_wait_future},
      {"_wait_task", l_wait_task},
      {NULL, NULL},
  };
  luaL_setfuncs(L, functions, 0);
}
