/* weft_lua.h: what the hand-written parts of weft's Lua module share — the
 * per-lua_State module state, tasks and the waits that resume them, error
 * values, and the userdata types the SWIG-generated part and the glue pass
 * between them.
 *
 * Thread: everything here runs on the loop thread of the runtime the module
 * state is bound to (Lua is single-threaded; weft calls every callback the
 * glue registers on the loop thread).
 *
 * Ownership, in one place:
 * - wl_state lives in a full userdata in the registry (WL_STATE_KEY), one per
 *   lua_State; it borrows the runtime (owns it inside weft.run).
 * - A task is a full userdata under Lua 5.4 (task_core.h: the core's anchor
 *   table keeps it while it is live or queued) and a Lua table under LuaJIT
 *   (task_table.lua); task.c holds one only through the registry reference
 *   of a wl_wait.
 * - Every callback the glue hands weft for a task's wait carries a malloc'd
 *   wl_wait: weft calls it exactly once, and that call frees it. A task that
 *   stops waiting early (cancelled) drops the wait's reference to it
 *   (_wait_abandon), so the late call finds nobody to resume.
 */
#ifndef WEFT_LUA_GLUE_H
#define WEFT_LUA_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include "bindings/lua/lua_compat.h"
#include "weft/weft.h"

#define WL_TASK_MT "weft.Task"
#define WL_FUTURE_MT "weft.Future"
#define WL_ERROR_MT "weft.Error"
#define WL_STREAM_MT "weft.Stream"
#define WL_LISTENER_MT "weft.Listener"

typedef struct wl_wait wl_wait;

typedef struct wl_state {
  lua_State* L;             /* the thread callbacks run on: the one inside weft.run, or the host's */
  weft_runtime_t* runtime;  /* NULL outside weft.run unless a host attached one */
  weft_loop_t* loop;        /* the script's loop handle (its scope's) */
  weft_scope_t* scope;      /* host mode: the script's own scope (owned) */
  int owns_runtime;         /* inside weft.run */
  int closing;              /* the runtime or scope is going away: resume nobody */
  uint64_t epoch;           /* bumped whenever the runtime goes away: older handles are dead */
  int handler_ref;          /* the Lua error handler, or LUA_NOREF (print to stderr) */
  lua_State* run_previous_L; /* inside weft.run: S->L before it */
  size_t errors_reported;
  /* task.c: tasks.lua's hooks */
  int task_wake_ref;        /* wake(task, ok, values...): a C wait completed */
  int task_cancel_all_ref;  /* cancel_all(): cancels every live task, returns how many */
  int task_current_ref;     /* current_task(): the running task, or nil */
  /* scheduler.c: the Lua scheduler's hooks and its one armed timer */
  int sched_drain_ref;      /* drain(): runs the ready queue */
  int sched_fire_ref;       /* fire(): runs the due timers */
  int sched_reset_ref;      /* reset(): drops everything queued or armed */
  struct wl_sched_timer* sched_timer; /* armed for the heap's earliest deadline, or NULL */
  struct wl_sched_token* sched_token; /* carried by the queued drains, or NULL */
} wl_state;

/* The state of `L`'s module (created by wl_state_open). Never NULL after
 * the module is loaded. */
wl_state* wl_state_get(lua_State* L);
/* Raises a weft.Error unless the state has a runtime (inside weft.run or a
 * host). */
void wl_state_check_runtime(lua_State* L, wl_state* S, const char* what);

/* Error values: a table {status=, name=, message=, traceback=?} with
 * metatable weft.Error. */
void wl_push_error(lua_State* L, weft_status status, const char* message);
int wl_raise(lua_State* L, weft_status status, const char* message);
/* Raises with the message "<what>: <the status's text>". */
int wl_raise_op(lua_State* L, weft_status status, const char* what);
/* Hands an error (value at the top of L, popped) with its traceback to the
 * state's error handler; never raises. `where` says what failed. */
void wl_report_error(wl_state* S, lua_State* L, lua_State* from, const char* where);
/* The same with the error value and its traceback string at the top (both popped). */
void wl_report_error_with(wl_state* S, lua_State* L, const char* where);

/* Futures: userdata "weft.Future" holding one reference. */
typedef struct wl_future {
  weft_future_t* future; /* NULL once released */
  uint64_t epoch;
} wl_future;
void wl_push_future(lua_State* L, weft_future_t* future); /* takes the reference */
weft_future_t* wl_check_future(lua_State* L, int index);
wl_future* wl_test_future(lua_State* L, int index);

/* Values: weft_value <-> Lua. Pushes one value. */
void wl_push_value(lua_State* L, const weft_value* value);
/* Lua value -> weft_value (borrowing strings from the Lua stack); raises a
 * weft.Error for a type that cannot travel (tables, functions, ...). */
weft_value wl_to_value(lua_State* L, int index);

/* Tasks (tasks.lua): under LuaJIT the slot of a task table (task_table.lua)
 * the C side touches; under Lua 5.4 a task is a C structure (task_core.h)
 * and wl_ctask_wait_on_top sets what it waits for. */
#define WL_TASK_WAIT 6 /* what the task waits for: a wl_wait (light userdata) while one is registered */
#if LUA_VERSION_NUM >= 504
/* The task at index i waits for the value at the top (popped). */
void wl_ctask_wait_on_top(lua_State* L, int i);
#endif

enum wl_wait_kind {
  WL_WAIT_FUTURE, /* resumed with the future's value or error */
  WL_WAIT_BYTES,  /* resumed with a string (read), nil at the end of the stream */
  WL_WAIT_STREAM, /* resumed with a new stream (connect, accept) */
};

struct wl_wait {
  wl_state* S;
  int task_ref;           /* the waiting task (registry); LUA_NOREF once it stopped waiting */
  int kind;
  weft_future_t* op;      /* the operation's future (a reference), cancelled if the task stops waiting */
  int eof_is_nil;         /* end of stream gives nil instead of an error */
};

/* A wait of the running task (raises if L is not a task's coroutine, or
 * out of memory), not yet registered with weft. */
wl_wait* wl_wait_new(lua_State* L, wl_state* S, int kind, const char* what);
/* The wait is registered with weft: the task now waits for it. */
void wl_wait_begin(lua_State* L, wl_wait* wait);
/* For callers that registered nothing after wl_wait_new (the C call failed). */
void wl_wait_discard(lua_State* L, wl_wait* wait);
/* Callbacks weft calls with a wl_wait as `user`. */
void wl_on_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len);
void wl_on_stream(void* user, weft_status status, const char* message, weft_stream_t* stream);
/* Cancels every task still alive (a host unloads the script); returns how many. */
size_t wl_cancel_all(wl_state* S);
/* Pushes the text of the value at `index` (its __tostring, or a description). */
const char* wl_tostring(lua_State* L, int index);

/* Streams and listeners (tcp.c). */
void wl_push_stream(lua_State* L, weft_stream_t* stream);

/* luaopen pieces: each registers its functions into the table at the top. */
void wl_state_open(lua_State* L);
void wl_future_open(lua_State* L);
void wl_task_open(lua_State* L);
void wl_task_core_open(lua_State* L);
void wl_io_open(lua_State* L);
void wl_scheduler_open(lua_State* L);
/* Drops the Lua scheduler's queued callbacks and timers (the runtime or
 * scope is going away; S->closing is set). */
void wl_scheduler_reset(wl_state* S);
/* Runs the Lua-side parts of the module (scheduler.lua, tasks.lua,
 * weft.lua) with the module table at the top. */
void wl_run_lua_part(lua_State* L);

#endif /* WEFT_LUA_GLUE_H */
