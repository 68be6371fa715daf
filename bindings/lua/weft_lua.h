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
 * - A task (wl_task, userdata "weft.Task") keeps its coroutine through a
 *   registry reference for as long as the task lives, and keeps itself alive
 *   (anchor_ref) from spawn until it has finished.
 * - Every callback the glue hands weft carries a malloc'd wl_wait: weft calls
 *   it exactly once, and that call frees it. A task that stops waiting early
 *   (cancelled) only clears wait->task, so the late call finds nobody to
 *   resume and frees the record.
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

typedef struct wl_task wl_task;
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
  wl_task* current;         /* the task running now, or NULL */
  wl_task* alive;           /* tasks not finished (a list through wl_task.next_alive) */
  size_t tasks_alive;       /* started or scheduled, not finished */
  size_t errors_reported;
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

/* Tasks. */
enum wl_task_state { WL_TASK_SCHEDULED, WL_TASK_RUNNING, WL_TASK_SUSPENDED, WL_TASK_DONE };
enum wl_task_outcome { WL_OUTCOME_NONE, WL_OUTCOME_OK, WL_OUTCOME_ERROR, WL_OUTCOME_CANCELLED };

struct wl_task {
  wl_state* S;
  lua_State* co;
  int co_ref;          /* the coroutine, for the task's whole life */
  int anchor_ref;      /* the task userdata, from spawn until finished */
  int result_ref;      /* finished with an error: the error value */
  int state;           /* wl_task_state */
  int outcome;         /* wl_task_outcome */
  int nresults;        /* finished OK: the results are the coroutine's top nresults values */
  int cancel_pending;  /* cancelled while running: the next wait raises */
  int reported;        /* its error reached the error handler */
  uint64_t epoch;
  wl_wait* wait;       /* what it waits for, or NULL */
  wl_wait* waiters;    /* tasks waiting for this one */
  weft_future_t* future; /* made on demand (task:future()), completed when it finishes */
  wl_task* prev_alive;   /* in wl_state.alive while not finished */
  wl_task* next_alive;
  int cancel_sent;       /* wl_cancel_all reached it */
  uint64_t id;          /* its number, for the default name */
  char name[48];        /* "" until named or its default name is asked for */
};

enum wl_wait_kind {
  WL_WAIT_START,  /* first resume of a spawned task */
  WL_WAIT_READY,  /* yield, sleep, write, shutdown: resumed with true or an error */
  WL_WAIT_CANCEL, /* resumed with the cancellation error */
  WL_WAIT_FUTURE, /* resumed with the future's value or error */
  WL_WAIT_TASK,   /* resumed with another task's results */
  WL_WAIT_BYTES,  /* resumed with a string (read), nil at the end of the stream */
  WL_WAIT_STREAM, /* resumed with a new stream (connect, accept) */
};

struct wl_wait {
  wl_task* task;          /* the waiting task; NULL once it stopped waiting */
  int kind;
  weft_future_t* op;      /* the operation's future (a reference), cancelled if the task stops waiting */
  wl_task* source;        /* WL_WAIT_TASK: the task waited for */
  wl_wait* next_waiter;   /* in source->waiters */
  int posted;             /* WL_WAIT_TASK: the wake-up is queued */
  int eof_is_nil;         /* WL_WAIT_BYTES: end of stream gives nil instead of an error */
};

wl_task* wl_check_task(lua_State* L, int index);
/* The running task, or raises (await outside a task). */
wl_task* wl_current_task(lua_State* L, wl_state* S, const char* what);
/* Starts waiting: the caller has registered `wait` as the callback of an
 * operation. Returns the number of values the Lua side yields with (0). */
wl_wait* wl_wait_new(wl_task* task, int kind);
void wl_wait_begin(wl_task* task, wl_wait* wait);
/* For callers that registered nothing after wl_wait_new (the C call failed). */
void wl_wait_discard(wl_wait* wait);
/* Callbacks weft calls with a wl_wait as `user`. */
void wl_on_ready(void* user, weft_status status, const char* message);
void wl_on_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len);
void wl_on_stream(void* user, weft_status status, const char* message, weft_stream_t* stream);
size_t wl_tasks_alive(wl_state* S);
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
void wl_io_open(lua_State* L);
void wl_scheduler_open(lua_State* L);
/* Drops the Lua scheduler's queued callbacks and timers (the runtime or
 * scope is going away; S->closing is set). */
void wl_scheduler_reset(wl_state* S);
/* Runs the Lua-side parts of the module (scheduler.lua, weft.lua) with the
 * module table at the top. */
void wl_run_lua_part(lua_State* L);

#endif /* WEFT_LUA_GLUE_H */
