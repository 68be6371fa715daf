/* native/pool_work.c: Python callables on weft's thread pool — the default
 * executor of weft.Loop (weft/executors.py).
 *
 *   _pool_submit(loop, target, func, args): runs func(*args) on the loop's
 *   runtime pool (weft_executor_submit). `target` gets the outcome: an
 *   asyncio.Future of the loop (set on the loop thread by a handle the
 *   worker posts to the loop's thread-safe inbox, or by the completion
 *   callback if that post failed), or a concurrent.futures.Future (set on
 *   the worker).
 *   _pool_configure(deliver): the Python function that handle calls.
 *   _pool_in_flight(loop): how many of the loop's jobs have not finished.
 *   _pool_at_exit(): refuses new Python work and waits for the running
 *   work, before the interpreter finalizes (registered with atexit): a
 *   worker must not take the GIL once finalization has begun.
 *
 * Threads: submit on the loop thread; the work function on a pool worker,
 * where it takes the GIL (PyGILState_Ensure) for the call only; the
 * completion callback on the loop thread. A job owns its references until
 * its completion callback, which weft calls exactly once; if the runtime is
 * destroyed while the work may still run (a host destroying its runtime
 * under an open loop), the job is left allocated rather than freed under it.
 */
#include "native/loop.h"

#include <time.h>

typedef struct {
  WeftPyLoop* loop;
  PyObject* target;
  PyObject* func;
  PyObject* args;
  int is_asyncio;
  /* Outcome for an asyncio target (set on the worker, read on the loop). */
  PyObject* result;
  PyObject *exc_type, *exc_value, *exc_tb;
  int ran;
  int delivered; /* the outcome was posted to the loop's inbox */
  /* Set by the work function when it is done with the job (release): the
   * completion callback may then use and free it. */
  atomic_int finished;
} pool_job;

/* Blocks (GIL released) until none of the loop's jobs is queued or running:
 * close() calls it before destroying the runtime. */
void weft_py_pool_wait_idle(WeftPyLoop* loop) {
  if (atomic_load(&loop->pool_in_flight) == 0) return;
  Py_BEGIN_ALLOW_THREADS
  struct timespec pause = {0, 500000};
  while (atomic_load(&loop->pool_in_flight) > 0) nanosleep(&pause, NULL);
  Py_END_ALLOW_THREADS
}

/* The exit gate, shared by every loop. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_idle = PTHREAD_COND_INITIALIZER;
static int gate_closed = 0;
static long gate_running = 0;

static _Thread_local int worker_keeps_tstate = 0;

static PyObject* cf_future_type = NULL; /* concurrent.futures.Future */
static PyObject* deliver = NULL; /* weft.executors._deliver(future, failed, value) */

/* obj.name(arg), arg passed as is (PyObject_CallMethod's "O" would unpack
 * a tuple). */
static PyObject* call_method1(PyObject* obj, const char* name, PyObject* arg) {
  PyObject* method = PyObject_GetAttrString(obj, name);
  if (method == NULL) return NULL;
  PyObject* r = PyObject_CallOneArg(method, arg);
  Py_DECREF(method);
  return r;
}

static int gate_enter(void) {
  pthread_mutex_lock(&gate_lock);
  int open = !gate_closed;
  if (open) gate_running++;
  pthread_mutex_unlock(&gate_lock);
  return open;
}

static void gate_leave(void) {
  pthread_mutex_lock(&gate_lock);
  if (--gate_running == 0) pthread_cond_broadcast(&gate_idle);
  pthread_mutex_unlock(&gate_lock);
}

static weft_status job_work(void* user, weft_value* result) {
  (void)result;
  pool_job* job = user;
  if (!gate_enter()) {
    atomic_fetch_sub(&job->loop->pool_in_flight, 1);
    atomic_store(&job->finished, 1);
    return WEFT_ERR_CLOSED;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  if (!worker_keeps_tstate) {
    /* Keep this worker's thread state between jobs (one per worker) instead
     * of creating and deleting one per job. */
    worker_keeps_tstate = 1;
    PyGILState_Ensure();
  }
  int skip = 0;
  if (job->is_asyncio) {
    PyObject* done = PyObject_CallMethod(job->target, "done", NULL);
    skip = done == NULL || PyObject_IsTrue(done) == 1;
    Py_XDECREF(done);
    PyErr_Clear();
  } else {
    PyObject* go = PyObject_CallMethod(job->target, "set_running_or_notify_cancel", NULL);
    skip = go == NULL || PyObject_IsTrue(go) != 1;
    Py_XDECREF(go);
    PyErr_Clear();
  }
  if (!skip) {
    PyObject* value = PyObject_Call(job->func, job->args, NULL);
    job->ran = 1;
    if (job->is_asyncio) {
      if (value != NULL) {
        job->result = value;
      } else {
        PyErr_Fetch(&job->exc_type, &job->exc_value, &job->exc_tb);
        PyErr_NormalizeException(&job->exc_type, &job->exc_value, &job->exc_tb);
        if (job->exc_tb != NULL) PyException_SetTraceback(job->exc_value, job->exc_tb);
      }
      /* The outcome goes through the loop's thread-safe inbox, behind what
       * the work posted with call_soon_threadsafe before returning (as
       * asyncio's executor futures do). */
      if (deliver != NULL && !job->loop->closed) {
        PyObject* outcome[3] = {job->target, job->result ? Py_False : Py_True,
                                job->result ? job->result : job->exc_value};
        WeftPyHandle* h =
            weft_py_handle_new(&WeftPyHandle_Type, job->loop, deliver, outcome, 3, NULL);
        if (h != NULL && weft_py_post_inbox(job->loop, h) == 0) {
          job->delivered = 1;
        } else {
          PyErr_Clear();
        }
      }
    } else {
      PyObject* r;
      if (value != NULL) {
        r = call_method1(job->target, "set_result", value);
        Py_DECREF(value);
      } else {
        PyObject *type, *exc, *tb;
        PyErr_Fetch(&type, &exc, &tb);
        PyErr_NormalizeException(&type, &exc, &tb);
        if (tb != NULL) PyException_SetTraceback(exc, tb);
        r = call_method1(job->target, "set_exception", exc);
        Py_XDECREF(type);
        Py_XDECREF(exc);
        Py_XDECREF(tb);
      }
      if (r == NULL) PyErr_WriteUnraisable(job->target);
      Py_XDECREF(r);
    }
  }
  atomic_fetch_sub(&job->loop->pool_in_flight, 1);
  atomic_store(&job->finished, 1);
  PyGILState_Release(gil);
  gate_leave();
  return WEFT_OK;
}

static void set_on_target(PyObject* target, const char* method, PyObject* arg) {
  PyObject* done = PyObject_CallMethod(target, "done", NULL);
  int is_done = done == NULL ? 1 : PyObject_IsTrue(done);
  Py_XDECREF(done);
  if (is_done != 0) {
    PyErr_Clear();
    return;
  }
  PyObject* r = arg ? call_method1(target, method, arg)
                    : PyObject_CallMethod(target, method, NULL);
  if (r == NULL) PyErr_WriteUnraisable(target);
  Py_XDECREF(r);
}

static void job_done(void* user, weft_future_t* future, weft_status status,
                     const weft_value* value, const char* message) {
  (void)future;
  (void)value;
  (void)message;
  pool_job* job = user;
  PyGILState_STATE gil = 0;
  int ensured = 0;
  weft_py_gil_claim(job->loop);
  if (!PyGILState_Check()) {
    gil = PyGILState_Ensure();
    ensured = 1;
  }
  if (!atomic_load(&job->finished)) {
    /* The runtime is being destroyed with the job queued or running (a
     * host destroying its runtime under an open loop; close() waits for
     * the jobs first): the work may still start or be running, so the job
     * stays allocated and its references held. Its future is cancelled. */
    PyObject* r = PyObject_CallMethod(job->target, "cancel", NULL);
    if (r == NULL) PyErr_Clear();
    Py_XDECREF(r);
    if (ensured) PyGILState_Release(gil);
    return;
  }
  if (job->is_asyncio && job->delivered) {
    /* Done through the inbox. */
  } else if (job->is_asyncio) {
    if (job->result != NULL) {
      set_on_target(job->target, "set_result", job->result);
    } else if (job->exc_value != NULL) {
      set_on_target(job->target, "set_exception", job->exc_value);
    } else if (!job->ran) {
      set_on_target(job->target, "cancel", NULL);
    }
  } else if (!job->ran) {
    PyObject* r = PyObject_CallMethod(job->target, "cancel", NULL);
    if (r == NULL) PyErr_Clear();
    Py_XDECREF(r);
    /* A future left pending (running) would hang its waiters. */
    PyObject* d = PyObject_CallMethod(job->target, "done", NULL);
    if (d != NULL && PyObject_IsTrue(d) == 0) {
      PyObject* exc = PyObject_CallFunction(PyExc_RuntimeError, "s",
                                            "the weft pool was shut down before the work ran");
      if (exc != NULL) {
        r = call_method1(job->target, "set_exception", exc);
        Py_XDECREF(r);
        Py_DECREF(exc);
      }
      PyErr_Clear();
    }
    Py_XDECREF(d);
  }
  Py_XDECREF(job->result);
  Py_XDECREF(job->exc_type);
  Py_XDECREF(job->exc_value);
  Py_XDECREF(job->exc_tb);
  Py_DECREF(job->target);
  Py_DECREF(job->func);
  Py_DECREF(job->args);
  Py_DECREF(job->loop);
  PyMem_RawFree(job);
  if (ensured) PyGILState_Release(gil);
}

static PyObject* pool_submit(PyObject* module, PyObject* args) {
  (void)module;
  PyObject *loop, *target, *func, *fargs;
  if (!PyArg_ParseTuple(args, "O!OOO!:_pool_submit", &WeftPyLoop_Type, &loop, &target, &func,
                        &PyTuple_Type, &fargs)) {
    return NULL;
  }
  WeftPyLoop* l = (WeftPyLoop*)loop;
  if (l->closed) {
    PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
    return NULL;
  }
  if (!PyCallable_Check(func)) {
    PyErr_Format(PyExc_TypeError, "a callable was expected, got %R", func);
    return NULL;
  }
  int is_cf = cf_future_type != NULL && PyObject_TypeCheck(target, (PyTypeObject*)cf_future_type);
  weft_executor_t* pool = NULL;
  weft_status status = weft_runtime_pool(&pool, l->runtime);
  if (status != WEFT_OK) {
    PyErr_Format(PyExc_RuntimeError, "weft pool: %s", weft_status_name(status));
    return NULL;
  }
  pool_job* job = PyMem_RawCalloc(1, sizeof(*job));
  if (job == NULL) return PyErr_NoMemory();
  job->loop = l;
  job->target = target;
  job->func = func;
  job->args = fargs;
  job->is_asyncio = !is_cf;
  if (l->running == 0) weft_loop_claim(l->wloop);
  atomic_fetch_add(&l->pool_in_flight, 1);
  status = weft_executor_submit(NULL, pool, l->wloop, job_work, job_done, job);
  if (status != WEFT_OK) {
    atomic_fetch_sub(&l->pool_in_flight, 1);
    PyMem_RawFree(job);
    PyErr_Format(PyExc_RuntimeError, "weft pool: cannot submit (%s)", weft_status_name(status));
    return NULL;
  }
  Py_INCREF(loop);
  Py_INCREF(target);
  Py_INCREF(func);
  Py_INCREF(fargs);
  Py_RETURN_NONE;
}

static PyObject* pool_in_flight(PyObject* module, PyObject* loop) {
  (void)module;
  if (!PyObject_TypeCheck(loop, &WeftPyLoop_Type)) {
    PyErr_SetString(PyExc_TypeError, "a weft loop was expected");
    return NULL;
  }
  return PyLong_FromLong(atomic_load(&((WeftPyLoop*)loop)->pool_in_flight));
}

static PyObject* pool_at_exit(PyObject* module, PyObject* unused) {
  (void)module;
  (void)unused;
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&gate_lock);
  gate_closed = 1;
  while (gate_running > 0) pthread_cond_wait(&gate_idle, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject* pool_configure(PyObject* module, PyObject* function) {
  (void)module;
  Py_XSETREF(deliver, Py_NewRef(function));
  Py_RETURN_NONE;
}

static PyMethodDef pool_functions[] = {
    {"_pool_configure", pool_configure, METH_O,
     "_pool_configure(deliver): deliver(future, failed, value) sets a job's outcome."},
    {"_pool_submit", pool_submit, METH_VARARGS,
     "_pool_submit(loop, target_future, func, args): func(*args) on weft's pool"},
    {"_pool_in_flight", pool_in_flight, METH_O, "Jobs of the loop not finished yet."},
    {"_pool_at_exit", pool_at_exit, METH_NOARGS,
     "Refuses new Python work on weft pools and waits for the running work."},
    {NULL, NULL, 0, NULL},
};

int weft_py_pool_init(PyObject* module) {
  PyObject* cf = PyImport_ImportModule("concurrent.futures");
  if (cf == NULL) return -1;
  cf_future_type = PyObject_GetAttrString(cf, "Future");
  Py_DECREF(cf);
  if (cf_future_type == NULL) return -1;
  return PyModule_AddFunctions(module, pool_functions);
}
