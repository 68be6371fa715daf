/* native/loop_dispatch.c: how weft drives weft.Loop's queues — one weft
 * callback per batch of ready handles (the drain), one weft timer for the
 * earliest deadline of the timer heap, one thread-safe post per batch of
 * call_soon_threadsafe handles — and run_forever's wait in weft_loop_run.
 *
 * Thread: the weft callbacks run on the loop thread; they take the GIL back
 * from the waiting loop (released_tstate), or, stepped by a host that does
 * not hold it, with PyGILState_Ensure. After the inbox's batch the loop may
 * release the GIL before it waits (inbox_cb, released_early). Each scheduled weft callback owns a
 * reference to the loop, dropped when it runs (or is cancelled because the
 * runtime is destroyed).
 */
#include "native/loop.h"

#include <math.h>
#include <time.h>

typedef struct {
  PyThreadState* restore; /* took the GIL back from the waiting loop */
  int ensured;
  PyGILState_STATE state;
} gil_guard;

void weft_py_gil_claim(WeftPyLoop* loop) {
  if (!loop->released_early) return;
  PyThreadState* tstate = loop->released_tstate;
  loop->released_tstate = NULL;
  loop->released_early = 0;
  PyEval_RestoreThread(tstate);
}

static inline void gil_enter(WeftPyLoop* loop, gil_guard* g) {
  weft_py_gil_claim(loop);
  g->restore = loop->released_tstate;
  g->ensured = 0;
  if (g->restore != NULL) {
    PyEval_RestoreThread(g->restore);
  } else if (!PyGILState_Check()) {
    g->state = PyGILState_Ensure();
    g->ensured = 1;
  }
}

static inline void gil_exit(gil_guard* g) {
  if (g->restore != NULL) {
    PyEval_SaveThread();
  } else if (g->ensured) {
    PyGILState_Release(g->state);
  }
}

int64_t weft_py_loop_now_ns(WeftPyLoop* loop) {
  if (!loop->manual_clock) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  }
  uint64_t now = 0;
  weft_loop_now(&now, loop->wloop);
  return (int64_t)now;
}

/* Runs one iteration: due timers join the ready queue, then the handles
 * ready at this point run (not those they schedule), as asyncio's
 * _run_once. */
void weft_py_run_batch(WeftPyLoop* loop) {
  if (loop->closed) return;
  int hosted = !loop->owns_runtime;
  PyObject* previous_loop = NULL;
  if (hosted && weft_py_set_running_loop != NULL) {
    /* Host-driven: asyncio's running loop is set for the batch only. */
    previous_loop = PyObject_CallNoArgs(weft_py_get_running_loop);
    if (previous_loop == NULL) {
      PyErr_WriteUnraisable((PyObject*)loop);
    } else if (previous_loop != (PyObject*)loop) {
      PyObject* r = PyObject_CallOneArg(weft_py_set_running_loop, (PyObject*)loop);
      if (r == NULL) PyErr_WriteUnraisable((PyObject*)loop);
      Py_XDECREF(r);
    }
  }
  loop->in_batch = 1;
  if (loop->heap_len > 0) {
    int64_t now = weft_py_loop_now_ns(loop);
    while (loop->heap_len > 0 && loop->heap[0]->when_ns <= now) {
      WeftPyHandle* h = weft_py_heap_pop(loop);
      if (h->cancelled) {
        Py_DECREF(h);
        continue;
      }
      if (weft_py_ready_push(loop, h) != 0) PyErr_WriteUnraisable((PyObject*)loop);
    }
  }
  size_t n = loop->ready_count;
  for (size_t i = 0; i < n && loop->ready_count > 0; i++) {
    WeftPyHandle* h = weft_py_ready_pop(loop);
    int rc = 0;
    if (!h->cancelled) {
      rc = weft_py_handle_run(h);
      /* Run once: what it held goes now, breaking any cycle through it
       * (debug mode keeps it for reprs, as asyncio does). */
      if (!h->reusable && !loop->debug) weft_py_handle_clear_refs(h);
    }
    Py_DECREF(h);
    if (rc != 0) {
      loop->stopping = 1;
      break;
    }
  }
  loop->in_batch = 0;
  weft_py_stream_flush_writes(loop);
  if (previous_loop != NULL) {
    if (previous_loop != (PyObject*)loop) {
      PyObject* r = PyObject_CallOneArg(weft_py_set_running_loop, previous_loop);
      if (r == NULL) PyErr_WriteUnraisable((PyObject*)loop);
      Py_XDECREF(r);
    }
    Py_DECREF(previous_loop);
  }
  if (hosted && loop->exc_type != NULL) {
    /* No run_forever to raise it from: the host's step reports it through
     * sys.unraisablehook. */
    PyErr_Restore(loop->exc_type, loop->exc_value, loop->exc_tb);
    loop->exc_type = loop->exc_value = loop->exc_tb = NULL;
    PyErr_WriteUnraisable((PyObject*)loop);
  }
  if (loop->stopping && !hosted) {
    weft_loop_stop(loop->wloop);
    return;
  }
  if (hosted) loop->stopping = 0;
  if (loop->ready_count > 0) weft_py_schedule_drain(loop);
  weft_py_arm_timer(loop);
}

static void drain_cb(void* user, weft_status status, const char* message) {
  (void)message;
  WeftPyLoop* loop = user;
  gil_guard g;
  gil_enter(loop, &g);
  loop->drain_scheduled = 0;
  if (status == WEFT_OK) weft_py_run_batch(loop);
  Py_DECREF(loop);
  gil_exit(&g);
}

void weft_py_schedule_drain(WeftPyLoop* loop) {
  if (loop->drain_scheduled || loop->in_batch || loop->closed) return;
  Py_INCREF(loop);
  if (weft_loop_call_soon(loop->wloop, drain_cb, loop) == WEFT_OK) {
    loop->drain_scheduled = 1;
  } else {
    /* Not the loop thread yet (scheduled before run_forever claims it), or
     * closing: run_forever schedules it. */
    Py_DECREF(loop);
  }
}

typedef struct {
  WeftPyLoop* loop;
  int64_t deadline;
} timer_arm;

static void timer_cb(void* user, weft_status status, const char* message) {
  (void)message;
  timer_arm* arm = user;
  WeftPyLoop* loop = arm->loop;
  gil_guard g;
  gil_enter(loop, &g);
  if (loop->armed_ns == arm->deadline) loop->armed_ns = INT64_MAX;
  PyMem_RawFree(arm);
  if (status == WEFT_OK && !loop->drain_scheduled && !loop->in_batch) weft_py_run_batch(loop);
  Py_DECREF(loop);
  gil_exit(&g);
}

void weft_py_arm_timer(WeftPyLoop* loop) {
  /* Skip cancelled timers at the top so they do not wake the loop. */
  while (loop->heap_len > 0 && loop->heap[0]->cancelled) {
    WeftPyHandle* h = weft_py_heap_pop(loop);
    Py_DECREF(h);
  }
  if (loop->heap_len == 0 || loop->closed) return;
  int64_t deadline = loop->heap[0]->when_ns;
  if (deadline >= loop->armed_ns) return;
  timer_arm* arm = PyMem_RawMalloc(sizeof(*arm));
  if (arm == NULL) return;
  arm->loop = loop;
  arm->deadline = deadline;
  Py_INCREF(loop);
  if (weft_loop_call_at(NULL, loop->wloop, deadline < 0 ? 0 : (uint64_t)deadline, timer_cb,
                        arm) == WEFT_OK) {
    loop->armed_ns = deadline;
  } else {
    PyMem_RawFree(arm);
    Py_DECREF(loop);
  }
}

void weft_py_inbox_take(WeftPyLoop* loop) {
  pthread_mutex_lock(&loop->inbox_lock);
  WeftPyHandle** inbox = loop->inbox;
  size_t len = loop->inbox_len;
  loop->inbox = NULL;
  loop->inbox_len = loop->inbox_cap = 0;
  atomic_store_explicit(&loop->inbox_pending, 0, memory_order_relaxed);
  pthread_mutex_unlock(&loop->inbox_lock);
  for (size_t i = 0; i < len; i++) {
    if (weft_py_ready_push(loop, inbox[i]) != 0) PyErr_WriteUnraisable((PyObject*)loop);
  }
  PyMem_RawFree(inbox);
}

static void inbox_cb(void* user, weft_status status, const char* message) {
  (void)message;
  WeftPyLoop* loop = user;
  gil_guard g;
  gil_enter(loop, &g);
  pthread_mutex_lock(&loop->inbox_lock);
  WeftPyHandle** inbox = loop->inbox;
  size_t len = loop->inbox_len;
  loop->inbox = NULL;
  loop->inbox_len = loop->inbox_cap = 0;
  loop->inbox_signaled = 0;
  atomic_store_explicit(&loop->inbox_pending, 0, memory_order_relaxed);
  pthread_mutex_unlock(&loop->inbox_lock);
  for (size_t i = 0; i < len; i++) {
    if (status == WEFT_OK && !loop->closed) {
      if (weft_py_ready_push(loop, inbox[i]) != 0) PyErr_WriteUnraisable((PyObject*)loop);
    } else {
      Py_DECREF(inbox[i]);
    }
  }
  PyMem_RawFree(inbox);
  if (status == WEFT_OK && !loop->drain_scheduled && !loop->in_batch) weft_py_run_batch(loop);
  Py_DECREF(loop);
  /* Nothing left to run and nothing more posted: the loop is about to wait.
   * The thread that posted is most likely waiting for what the callback did
   * (a reply) and then needs the GIL; released now, it has it at once
   * instead of blocking on it until the loop reaches its wait. Not while
   * pool work is in flight: the loop would be taking it back for the next
   * result straight away. */
  int early = g.restore == NULL && !g.ensured && loop->running && loop->owns_runtime &&
              loop->ready_count == 0 && !loop->drain_scheduled && !loop->stopping &&
              !atomic_load_explicit(&loop->inbox_pending, memory_order_relaxed) &&
              atomic_load_explicit(&loop->pool_in_flight, memory_order_relaxed) == 0;
  gil_exit(&g);
  if (early) {
    loop->released_tstate = PyEval_SaveThread();
    loop->released_early = 1;
  }
}

int weft_py_post_inbox(WeftPyLoop* loop, WeftPyHandle* handle) {
  pthread_mutex_lock(&loop->inbox_lock);
  if (loop->inbox_len == loop->inbox_cap) {
    size_t cap = loop->inbox_cap ? loop->inbox_cap * 2 : 64;
    WeftPyHandle** inbox = PyMem_RawRealloc(loop->inbox, cap * sizeof(*inbox));
    if (inbox == NULL) {
      pthread_mutex_unlock(&loop->inbox_lock);
      Py_DECREF(handle);
      PyErr_NoMemory();
      return -1;
    }
    loop->inbox = inbox;
    loop->inbox_cap = cap;
  }
  loop->inbox[loop->inbox_len++] = handle;
  atomic_store_explicit(&loop->inbox_pending, 1, memory_order_relaxed);
  int wake = !loop->inbox_signaled;
  loop->inbox_signaled = 1;
  pthread_mutex_unlock(&loop->inbox_lock);
  if (!wake) return 0;
  Py_INCREF(loop);
  weft_status status = weft_loop_call_soon_threadsafe(loop->wloop, inbox_cb, loop);
  if (status != WEFT_OK) {
    /* The runtime is closing: take the handle back out. */
    pthread_mutex_lock(&loop->inbox_lock);
    loop->inbox_signaled = 0;
    int found = 0;
    for (size_t i = 0; i < loop->inbox_len; i++) {
      if (loop->inbox[i] == handle) {
        loop->inbox[i] = loop->inbox[--loop->inbox_len];
        found = 1;
        break;
      }
    }
    pthread_mutex_unlock(&loop->inbox_lock);
    if (found) Py_DECREF(handle);
    Py_DECREF(loop);
    PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
    return -1;
  }
  return 0;
}

static void keepalive_cb(void* user, weft_status status, const char* message) {
  (void)user;
  (void)status;
  (void)message;
}

/* The wait hook: the GIL is released while the loop waits in the kernel
 * (and, after an inbox batch, from then on); callbacks run with it held. */
static void wait_hook(void* user, int entering) {
  WeftPyLoop* loop = user;
  if (entering) {
    if (loop->released_early) {
      loop->released_early = 0; /* already released: now the wait's */
      return;
    }
    loop->released_tstate = PyEval_SaveThread();
  } else {
    PyThreadState* tstate = loop->released_tstate;
    loop->released_tstate = NULL;
    PyEval_RestoreThread(tstate);
  }
}

int weft_py_loop_run(WeftPyLoop* loop) {
  weft_status status = weft_loop_claim(loop->wloop);
  if (status != WEFT_OK) {
    PyErr_Format(PyExc_RuntimeError, "weft loop: cannot run on this thread (%s)",
                 weft_status_name(status));
    return -1;
  }
  /* What was scheduled before the loop thread was known. */
  if (loop->ready_count > 0 || loop->stopping) weft_py_schedule_drain(loop);
  if (loop->stopping && !loop->drain_scheduled) {
    PyErr_SetString(PyExc_RuntimeError, "weft loop: cannot schedule the first iteration");
    return -1;
  }
  weft_py_arm_timer(loop);
  /* Keeps weft_loop_run from returning when nothing is scheduled: asyncio's
   * run_forever waits for stop(). About 146 years away. */
  if (weft_loop_call_later(&loop->keepalive, loop->wloop, (uint64_t)1 << 62, keepalive_cb,
                           NULL) != WEFT_OK) {
    PyErr_SetString(PyExc_RuntimeError, "weft loop: cannot start");
    return -1;
  }
  loop->running = 1;
  weft_loop_set_wait_hook(loop->wloop, wait_hook, loop);
  status = weft_loop_run(loop->wloop, WEFT_RUN_DEFAULT);
  weft_loop_set_wait_hook(loop->wloop, NULL, NULL);
  weft_py_gil_claim(loop);
  loop->running = 0;
  loop->stopping = 0;
  weft_future_cancel(loop->keepalive);
  weft_future_release(loop->keepalive);
  loop->keepalive = NULL;
  if (loop->exc_type != NULL) {
    PyErr_Restore(loop->exc_type, loop->exc_value, loop->exc_tb);
    loop->exc_type = loop->exc_value = loop->exc_tb = NULL;
    return -1;
  }
  if (status != WEFT_OK) {
    PyErr_Format(PyExc_RuntimeError, "weft loop: weft_loop_run failed (%s)",
                 weft_status_name(status));
    return -1;
  }
  return 0;
}
