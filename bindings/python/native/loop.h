/* native/loop.h: the C core of weft.Loop (weft/loop.py) — the asyncio
 * event loop's hot paths: handles, the ready queue, the timer heap, the
 * thread-safe inbox, and the weft callbacks that drive them.
 *
 * Threads: everything here runs on the loop thread with the GIL held, except
 * call_soon_threadsafe (any Python thread, GIL held) and the inbox it fills
 * (guarded by inbox_lock). The loop object owns every handle in its ready
 * queue, timer heap and inbox (one reference each); each weft callback it has
 * scheduled (drain, timer, inbox wake-up) owns one reference to the loop.
 *
 * GIL: run_forever holds the GIL inside weft_loop_run; weft's wait hook
 * releases it while the loop waits in the kernel (released_tstate) and takes
 * it back before any callback runs. After a batch of thread-safe posts that
 * left nothing to do, the loop releases it at once (released_early) rather
 * than at the next wait; the next callback that needs it claims it back
 * (weft_py_gil_claim). When the loop is stepped by a host (hosted mode) the
 * callback takes the GIL with PyGILState_Ensure only if the host's thread
 * does not hold it.
 */
#ifndef WEFT_PY_LOOP_H
#define WEFT_PY_LOOP_H

#include "native/native.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "weft/weft.h"

#define WEFT_PY_INLINE_ARGS 3

typedef struct WeftPyLoop WeftPyLoop;

/* asyncio.Handle's counterpart (weft._capi.Handle); TimerHandle is a subtype
 * with the same layout. */
typedef struct WeftPyHandle {
  PyObject_HEAD
  PyObject* callback;  /* NULL once run or cancelled */
  PyObject* args[WEFT_PY_INLINE_ARGS];
  PyObject* args_tuple; /* instead of args when there are more */
  Py_ssize_t nargs;
  PyObject* context;    /* a contextvars.Context; NULL when empty_context */
  WeftPyLoop* loop;     /* strong */
  PyObject* source_traceback; /* debug mode only */
  PyObject* weakrefs;
  int64_t when_ns;      /* timers: the deadline on the loop clock */
  double when;          /* timers: what call_at was given */
  uint64_t seq;         /* timers: arming order, for equal deadlines */
  char cancelled;
  char scheduled;       /* timers: in the heap */
  char reusable;        /* runs more than once (readers, signals): keeps its refs */
  char empty_context;   /* captured an empty context: runs in the loop's shared one */
} WeftPyHandle;

struct WeftPyLoop {
  PyObject_HEAD
  weft_runtime_t* runtime;
  weft_loop_t* wloop;
  int owns_runtime;  /* 0: attached to a host's runtime (hosted mode) */
  int manual_clock;
  /* Ready queue: a ring of owned handles. */
  WeftPyHandle** ready;
  size_t ready_cap, ready_head, ready_count;
  /* Timer heap: owned handles ordered by (when_ns, seq); cancelled ones are
   * dropped lazily. */
  WeftPyHandle** heap;
  size_t heap_len, heap_cap, heap_cancelled;
  uint64_t timer_seq;
  int64_t armed_ns; /* earliest weft timer armed and not yet fired; INT64_MAX: none */
  /* State, loop thread. */
  int drain_scheduled;
  int in_batch;
  int running;
  int stopping;
  int closed;
  int debug;
  double slow_callback_duration;
  unsigned long thread_id;
  PyThreadState* released_tstate;
  /* released_tstate was released after the inbox's batch, not by the wait
   * hook: the next callback needing the GIL takes it (weft_py_gil_claim). */
  int released_early;
  weft_future_t* keepalive;
  PyObject* task_factory; /* NULL: asyncio.Task */
  /* The empty context that handles which captured an empty one run in
   * (handle.c, "Empty contexts"); replaced once a callback leaves a variable
   * set in it. NULL until needed. in_use: a callback runs in it now. */
  PyObject* shared_context;
  int shared_context_in_use;
  /* A KeyboardInterrupt or SystemExit raised by a callback, re-raised by
   * run_forever. */
  PyObject *exc_type, *exc_value, *exc_tb;
  /* Jobs on the runtime's pool not finished yet (pool_work.c). */
  atomic_long pool_in_flight;
  /* Thread-safe inbox. */
  pthread_mutex_t inbox_lock;
  WeftPyHandle** inbox;
  size_t inbox_len, inbox_cap;
  int inbox_signaled;
  atomic_int inbox_pending; /* inbox_len > 0, readable without the lock */
};

extern PyTypeObject WeftPyHandle_Type;
extern PyTypeObject WeftPyTimerHandle_Type;
extern PyTypeObject WeftPyLoop_Type;

/* Python hooks set by weft/loop.py (_capi._configure). Borrowed from the
 * module's state; NULL until configured. */
extern PyObject* weft_py_handle_repr;     /* handle -> str */
extern PyObject* weft_py_capture_stack;   /* () -> traceback list */
extern PyObject* weft_py_future_type;     /* asyncio.Future */
extern PyObject* weft_py_task_type;       /* asyncio.Task */
extern PyObject* weft_py_asyncio_handle;  /* asyncio.Handle */
extern PyObject* weft_py_asyncio_timer_handle; /* asyncio.TimerHandle */
extern PyObject* weft_py_set_running_loop; /* asyncio.events._set_running_loop */
extern PyObject* weft_py_get_running_loop; /* asyncio.events._get_running_loop */

/* handle.c */
WeftPyHandle* weft_py_handle_new(PyTypeObject* type, WeftPyLoop* loop, PyObject* callback,
                                 PyObject* const* args, Py_ssize_t nargs, PyObject* context);
/* The handle's context (materialised if it captured an empty one), or NULL
 * once run or cancelled. New reference; NULL with an error set on failure. */
PyObject* weft_py_handle_context(WeftPyHandle* handle);
/* With a Python error set: a KeyboardInterrupt or SystemExit is kept on the
 * loop (the first one; run_forever re-raises it) and cleared, returning 1;
 * any other error stays set, returning 0. */
int weft_py_keep_exit_exception(WeftPyLoop* loop);
/* The Python error set now as one exception object (normalised, its
 * traceback attached), the error cleared. New reference; NULL if none. */
PyObject* weft_py_take_exception(void);
/* Runs the handle's callback in its context; the loop's error path for an
 * exception. Returns 0, or -1 when a KeyboardInterrupt/SystemExit was stored
 * in the loop for run_forever to raise. */
int weft_py_handle_run(WeftPyHandle* handle);
void weft_py_handle_clear_refs(WeftPyHandle* handle);
/* Visits what the handle holds (for the loop's tp_traverse). */
int weft_py_handle_traverse_contents(WeftPyHandle* handle, visitproc visit, void* arg);

/* loop_queue.c: the ready ring and the timer heap (GIL held). */
int weft_py_ready_push(WeftPyLoop* loop, WeftPyHandle* handle); /* steals; -1: no memory */
WeftPyHandle* weft_py_ready_pop(WeftPyLoop* loop);
int weft_py_heap_push(WeftPyLoop* loop, WeftPyHandle* handle);  /* steals */
WeftPyHandle* weft_py_heap_pop(WeftPyLoop* loop);
void weft_py_heap_compact(WeftPyLoop* loop);
void weft_py_queues_clear(WeftPyLoop* loop);

/* loop_dispatch.c: scheduling the weft callbacks that run the queues. */
void weft_py_schedule_drain(WeftPyLoop* loop);
/* One iteration now (due timers, then the ready handles). */
void weft_py_run_batch(WeftPyLoop* loop);
void weft_py_arm_timer(WeftPyLoop* loop);
int weft_py_post_inbox(WeftPyLoop* loop, WeftPyHandle* handle); /* steals; -1 w/ error */
/* Moves what other threads posted into the ready queue (loop thread): call_soon
 * does it first, so posts and call_soon keep one FIFO order, as asyncio's. */
void weft_py_inbox_take(WeftPyLoop* loop);
/* Runs the loop until stop (GIL held on entry and exit). Returns 0 or -1
 * with an error set. */
int weft_py_loop_run(WeftPyLoop* loop);
int64_t weft_py_loop_now_ns(WeftPyLoop* loop);

/* Loop thread, in a weft callback that is about to touch Python: takes back
 * the GIL released early after the inbox's batch. No-op otherwise. */
void weft_py_gil_claim(WeftPyLoop* loop);

/* stream_transport.c: sends what the loop's transports gathered during a
 * batch (called at each batch's end). */
void weft_py_stream_flush_writes(WeftPyLoop* loop);

int weft_py_loop_init(PyObject* module);
int weft_py_fdwatch_init(PyObject* module);
int weft_py_pool_init(PyObject* module);
void weft_py_pool_wait_idle(WeftPyLoop* loop);

#endif /* WEFT_PY_LOOP_H */
