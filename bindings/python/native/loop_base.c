/* native/loop_base.c: weft._capi.LoopBase, the C base class of weft.Loop:
 * the runtime it runs on (its own, or a host's), and the scheduling methods
 * asyncio calls most (call_soon, call_later, call_at, call_soon_threadsafe,
 * time, create_future, stop, is_running, is_closed).
 *
 * Thread: the loop thread with the GIL held, except call_soon_threadsafe
 * (any Python thread). The object owns its runtime unless it was attached to
 * a host's (LoopBase(runtime=address)), and everything in its queues.
 */
#include "native/loop.h"

#include <math.h>

PyObject* weft_py_handle_repr = NULL;
PyObject* weft_py_capture_stack = NULL;
PyObject* weft_py_future_type = NULL;
PyObject* weft_py_task_type = NULL;
PyObject* weft_py_asyncio_handle = NULL;
PyObject* weft_py_asyncio_timer_handle = NULL;
PyObject* weft_py_set_running_loop = NULL;
PyObject* weft_py_get_running_loop = NULL;
static PyObject* kwnames_loop = NULL; /* ("loop",) */
static PyObject* str_context = NULL;  /* "context", interned */
static PyObject* str_name = NULL;     /* "name", interned */
static PyObject* kwnames_task = NULL; /* ("loop", "name", "context") */

/* asyncio's C Future and Task pass the keyword "context" to call_soon as a
 * str object of their own (not the interned one), the same object on every
 * call: it is remembered once it matched, so later calls compare pointers. */
static PyObject* context_alias = NULL;

static int is_context_key(PyObject* key) {
  if (key == str_context || key == context_alias) return 1;
  if (PyUnicode_CompareWithASCIIString(key, "context") != 0) return 0;
  Py_XSETREF(context_alias, Py_NewRef(key));
  return 1;
}

static int check_open(WeftPyLoop* self) {
  if (self->closed) {
    PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
    return -1;
  }
  return 0;
}

static int check_thread(WeftPyLoop* self) {
  if (self->debug && self->running && self->thread_id != PyThread_get_thread_ident()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "Non-thread-safe operation invoked on an event loop other than the current one");
    return -1;
  }
  return 0;
}

/* Splits (callback, *args, context=None) of a vectorcall. */
static int parse_callback_args(const char* name, PyObject* const* args, Py_ssize_t nargs,
                               PyObject* kwnames, Py_ssize_t skip, PyObject** callback,
                               PyObject** context) {
  *context = NULL;
  if (nargs < skip + 1) {
    PyErr_Format(PyExc_TypeError, "%s() missing a required argument: 'callback'", name);
    return -1;
  }
  *callback = args[skip];
  if (kwnames != NULL) {
    Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nkw; i++) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, i);
      if (is_context_key(key)) {
        *context = args[nargs + i];
      } else {
        PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", name, key);
        return -1;
      }
    }
  }
  if (*context != NULL && *context != Py_None && !PyContext_CheckExact(*context)) {
    PyErr_Format(PyExc_TypeError, "%s(): context must be a contextvars.Context, not %.100s",
                 name, Py_TYPE(*context)->tp_name);
    return -1;
  }
  if (!PyCallable_Check(*callback)) {
    /* asyncio checks this in debug mode only; a non-callable would fail
     * later, far from its cause. */
    PyErr_Format(PyExc_TypeError, "a callable object was expected by %s(), got %R", name,
                 *callback);
    return -1;
  }
  return 0;
}

static PyObject* loop_call_soon(WeftPyLoop* self, PyObject* const* args, size_t nargsf,
                                PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject *callback, *context;
  if (parse_callback_args("call_soon", args, nargs, kwnames, 0, &callback, &context) != 0) {
    return NULL;
  }
  if (check_open(self) != 0 || check_thread(self) != 0) return NULL;
  WeftPyHandle* h =
      weft_py_handle_new(&WeftPyHandle_Type, self, callback, args + 1, nargs - 1, context);
  if (h == NULL) return NULL;
  Py_INCREF(h);
  if (atomic_load_explicit(&self->inbox_pending, memory_order_relaxed)) weft_py_inbox_take(self);
  if (weft_py_ready_push(self, h) != 0) {
    Py_DECREF(h);
    return NULL;
  }
  if (!self->drain_scheduled && !self->in_batch) weft_py_schedule_drain(self);
  return (PyObject*)h;
}

static PyObject* schedule_timer(WeftPyLoop* self, double when, PyObject* callback,
                                PyObject* const* args, Py_ssize_t nargs, PyObject* context) {
  if (check_open(self) != 0 || check_thread(self) != 0) return NULL;
  if (isnan(when)) {
    PyErr_SetString(PyExc_ValueError, "the time of a timer must not be NaN");
    return NULL;
  }
  WeftPyHandle* h =
      weft_py_handle_new(&WeftPyTimerHandle_Type, self, callback, args, nargs, context);
  if (h == NULL) return NULL;
  h->when = when;
  /* Never early: the deadline rounds up to the next nanosecond. */
  double ns = ceil(when * 1e9);
  h->when_ns = ns >= 9.2e18 ? INT64_MAX : ns <= -9.2e18 ? INT64_MIN : (int64_t)ns;
  Py_INCREF(h);
  if (weft_py_heap_push(self, h) != 0) {
    Py_DECREF(h);
    return NULL;
  }
  if (self->heap[0] == h && !self->in_batch) weft_py_arm_timer(self);
  return (PyObject*)h;
}

static int parse_time(PyObject* o, double* out) {
  if (PyFloat_CheckExact(o)) {
    *out = PyFloat_AS_DOUBLE(o);
    return 0;
  }
  if (!PyNumber_Check(o)) {
    PyErr_Format(PyExc_TypeError, "a number was expected for the time, got %.100s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  *out = PyFloat_AsDouble(o);
  return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject* loop_call_later(WeftPyLoop* self, PyObject* const* args, size_t nargsf,
                                 PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject *callback, *context;
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "call_later() missing a required argument: 'delay'");
    return NULL;
  }
  if (parse_callback_args("call_later", args, nargs, kwnames, 1, &callback, &context) != 0) {
    return NULL;
  }
  double delay;
  if (parse_time(args[0], &delay) != 0) return NULL;
  double now = (double)weft_py_loop_now_ns(self) * 1e-9;
  return schedule_timer(self, now + delay, callback, args + 2, nargs - 2, context);
}

static PyObject* loop_call_at(WeftPyLoop* self, PyObject* const* args, size_t nargsf,
                              PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject *callback, *context;
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "call_at() missing a required argument: 'when'");
    return NULL;
  }
  if (parse_callback_args("call_at", args, nargs, kwnames, 1, &callback, &context) != 0) {
    return NULL;
  }
  double when;
  if (parse_time(args[0], &when) != 0) return NULL;
  return schedule_timer(self, when, callback, args + 2, nargs - 2, context);
}

static PyObject* loop_call_soon_threadsafe(WeftPyLoop* self, PyObject* const* args,
                                           size_t nargsf, PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject *callback, *context;
  if (parse_callback_args("call_soon_threadsafe", args, nargs, kwnames, 0, &callback,
                          &context) != 0) {
    return NULL;
  }
  if (check_open(self) != 0) return NULL;
  WeftPyHandle* h =
      weft_py_handle_new(&WeftPyHandle_Type, self, callback, args + 1, nargs - 1, context);
  if (h == NULL) return NULL;
  Py_INCREF(h);
  if (self->running && self->thread_id == PyThread_get_thread_ident()) {
    /* On the running loop's own thread it is call_soon (asyncio's ready
     * queue takes both): it runs in the next iteration. */
    if (atomic_load_explicit(&self->inbox_pending, memory_order_relaxed)) {
      weft_py_inbox_take(self);
    }
    if (weft_py_ready_push(self, h) != 0) {
      Py_DECREF(h);
      return NULL;
    }
    weft_py_schedule_drain(self);
    return (PyObject*)h;
  }
  if (weft_py_post_inbox(self, h) != 0) {
    Py_DECREF(h);
    return NULL;
  }
  return (PyObject*)h;
}

/* _handle(callback, *args, context=None): a Handle not scheduled (readers,
 * writers and signal handlers reuse theirs). */
static PyObject* loop_make_handle(WeftPyLoop* self, PyObject* const* args, size_t nargsf,
                                  PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject *callback, *context;
  if (parse_callback_args("_handle", args, nargs, kwnames, 0, &callback, &context) != 0) {
    return NULL;
  }
  WeftPyHandle* h =
      weft_py_handle_new(&WeftPyHandle_Type, self, callback, args + 1, nargs - 1, context);
  if (h != NULL) h->reusable = 1;
  return (PyObject*)h;
}

/* _add_ready(handle): queues an existing handle for the next iteration. */
static PyObject* loop_add_ready(WeftPyLoop* self, PyObject* handle) {
  if (!PyObject_TypeCheck(handle, &WeftPyHandle_Type)) {
    PyErr_SetString(PyExc_TypeError, "a weft handle was expected");
    return NULL;
  }
  if (check_open(self) != 0) return NULL;
  Py_INCREF(handle);
  if (weft_py_ready_push(self, (WeftPyHandle*)handle) != 0) return NULL;
  weft_py_schedule_drain(self);
  Py_RETURN_NONE;
}

static PyObject* loop_time(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  return PyFloat_FromDouble((double)weft_py_loop_now_ns(self) * 1e-9);
}

static PyObject* loop_create_future(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  if (weft_py_future_type == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "weft loop: not configured");
    return NULL;
  }
  PyObject* args[1] = {(PyObject*)self};
  return PyObject_Vectorcall(weft_py_future_type, args, 0, kwnames_loop);
}

/* create_task(coro, *, name=None, context=None): asyncio.Task(coro,
 * loop=self, name=name, context=context), or the task factory's task
 * (weft/loop.py's _create_task_with_factory). Debug mode also takes the
 * Python path (it trims the task's creation traceback). */
static PyObject* loop_create_task(WeftPyLoop* self, PyObject* const* args, size_t nargsf,
                                  PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* name = Py_None;
  PyObject* context = Py_None;
  if (nargs != 1) {
    PyErr_Format(PyExc_TypeError, "create_task() takes 1 positional argument (%zd given)",
                 nargs);
    return NULL;
  }
  if (kwnames != NULL) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, i);
      if (key == str_name || PyUnicode_CompareWithASCIIString(key, "name") == 0) {
        name = args[nargs + i];
      } else if (is_context_key(key)) {
        context = args[nargs + i];
      } else {
        PyErr_Format(PyExc_TypeError, "create_task() got an unexpected keyword argument '%U'",
                     key);
        return NULL;
      }
    }
  }
  if (check_open(self) != 0) return NULL;
  if (self->task_factory != NULL || self->debug || weft_py_task_type == NULL) {
    return PyObject_CallMethod((PyObject*)self, "_create_task_slow", "OOO", args[0], name,
                               context);
  }
  PyObject* call_args[4] = {args[0], (PyObject*)self, name, context};
  /* Task's defaults need not be passed: its keywords become a dict. */
  return PyObject_Vectorcall(weft_py_task_type, call_args, 1,
                             name == Py_None && context == Py_None ? kwnames_loop : kwnames_task);
}

static PyObject* loop_set_task_factory(WeftPyLoop* self, PyObject* factory) {
  if (factory != Py_None && !PyCallable_Check(factory)) {
    PyErr_SetString(PyExc_TypeError, "task factory must be a callable or None");
    return NULL;
  }
  Py_XSETREF(self->task_factory, factory == Py_None ? NULL : Py_NewRef(factory));
  Py_RETURN_NONE;
}

static PyObject* loop_get_task_factory(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  if (self->task_factory == NULL) Py_RETURN_NONE;
  return Py_NewRef(self->task_factory);
}

static PyObject* loop_stop(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  self->stopping = 1;
  if (self->running) weft_py_schedule_drain(self);
  Py_RETURN_NONE;
}

static PyObject* loop_is_running(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  return PyBool_FromLong(self->running);
}

static PyObject* loop_is_closed(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  return PyBool_FromLong(self->closed);
}

static PyObject* loop_get_debug(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  return PyBool_FromLong(self->debug);
}

static PyObject* loop_set_debug(WeftPyLoop* self, PyObject* enabled) {
  int v = PyObject_IsTrue(enabled);
  if (v < 0) return NULL;
  self->debug = v;
  Py_RETURN_NONE;
}

/* run_forever's wait: the Python layer has set the running loop. */
static PyObject* loop_run(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  if (check_open(self) != 0) return NULL;
  if (!self->owns_runtime) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this loop is stepped by its host (weft_loop_run_for); it cannot run_forever");
    return NULL;
  }
  if (self->running) {
    PyErr_SetString(PyExc_RuntimeError, "This event loop is already running");
    return NULL;
  }
  self->thread_id = PyThread_get_thread_ident();
  if (weft_py_loop_run(self) != 0) return NULL;
  Py_RETURN_NONE;
}

/* Destroys the own runtime without the GIL: its pool waits for running work,
 * which may need the GIL to finish; the callbacks it cancels take it back
 * (released_tstate). */
static weft_status destroy_runtime(WeftPyLoop* self, int in_dealloc) {
  /* Queued Python work would race its completion's cancellation. */
  weft_py_pool_wait_idle(self);
  if (!in_dealloc) Py_INCREF(self);
  self->released_tstate = PyEval_SaveThread();
  weft_status status = weft_runtime_destroy(self->runtime);
  PyThreadState* tstate = self->released_tstate;
  self->released_tstate = NULL;
  PyEval_RestoreThread(tstate);
  if (!in_dealloc) Py_DECREF(self);
  return status;
}

/* Closes the loop: drops what is queued; destroys an own runtime (which
 * cancels what weft still holds for it). */
static PyObject* loop_close(WeftPyLoop* self, PyObject* unused) {
  (void)unused;
  if (self->running) {
    PyErr_SetString(PyExc_RuntimeError, "Cannot close a running event loop");
    return NULL;
  }
  if (self->closed) Py_RETURN_NONE;
  self->closed = 1;
  weft_py_queues_clear(self);
  if (self->owns_runtime && self->runtime != NULL) {
    weft_status status = weft_loop_claim(self->wloop);
    if (status == WEFT_OK) status = destroy_runtime(self, 0);
    if (status != WEFT_OK) {
      PyErr_Format(PyExc_RuntimeError, "weft loop: cannot destroy its runtime (%s)",
                   weft_status_name(status));
      return NULL;
    }
    self->runtime = NULL;
    self->wloop = NULL;
  }
  Py_RETURN_NONE;
}

static PyObject* loop_runtime_address(WeftPyLoop* self, void* unused) {
  (void)unused;
  if (self->runtime == NULL) Py_RETURN_NONE;
  return PyLong_FromVoidPtr(self->runtime);
}

static PyObject* loop_get_thread_id(WeftPyLoop* self, void* unused) {
  (void)unused;
  if (!self->running) Py_RETURN_NONE;
  return PyLong_FromUnsignedLong(self->thread_id);
}

static PyObject* loop_get_hosted(WeftPyLoop* self, void* unused) {
  (void)unused;
  return PyBool_FromLong(!self->owns_runtime);
}

static PyObject* loop_get_slow(WeftPyLoop* self, void* unused) {
  (void)unused;
  return PyFloat_FromDouble(self->slow_callback_duration);
}

static int loop_set_slow(WeftPyLoop* self, PyObject* value, void* unused) {
  (void)unused;
  if (value == NULL) {
    PyErr_SetString(PyExc_AttributeError, "slow_callback_duration cannot be deleted");
    return -1;
  }
  double v = PyFloat_AsDouble(value);
  if (v == -1.0 && PyErr_Occurred()) return -1;
  self->slow_callback_duration = v;
  return 0;
}

/* LoopBase(runtime=None): its own runtime, or attached to the runtime at
 * `runtime` (an int address or a capsule holding a weft_runtime_t*). */
static PyObject* loop_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static char* names[] = {"runtime", NULL};
  PyObject* runtime_arg = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:LoopBase", names, &runtime_arg)) {
    return NULL;
  }
  weft_runtime_t* runtime = NULL;
  int owns = 1;
  if (runtime_arg != Py_None) {
    if (PyCapsule_CheckExact(runtime_arg)) {
      runtime = PyCapsule_GetPointer(runtime_arg, PyCapsule_GetName(runtime_arg));
    } else {
      PyObject* as_int = PyNumber_Index(runtime_arg);
      if (as_int == NULL) {
        PyErr_Clear();
        as_int = PyObject_CallOneArg((PyObject*)&PyLong_Type, runtime_arg);
        if (as_int == NULL) {
          PyErr_Format(PyExc_TypeError,
                       "runtime: an address (int), a capsule or a weft.capi runtime was "
                       "expected, got %.100s",
                       Py_TYPE(runtime_arg)->tp_name);
          return NULL;
        }
      }
      runtime = PyLong_AsVoidPtr(as_int);
      Py_DECREF(as_int);
    }
    if (runtime == NULL) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "runtime: a NULL address");
      return NULL;
    }
    owns = 0;
  }
  weft_loop_t* wloop = NULL;
  if (owns) {
    weft_runtime_options options;
    weft_runtime_options_init(&options, sizeof(options));
    options.name = "weft-py";
    weft_status status = weft_runtime_create(&runtime, &options);
    if (status != WEFT_OK) {
      PyErr_Format(PyExc_RuntimeError, "weft loop: cannot create a runtime (%s)",
                   weft_status_name(status));
      return NULL;
    }
  }
  weft_status status = weft_runtime_loop(&wloop, runtime);
  if (status != WEFT_OK) {
    if (owns) weft_runtime_destroy(runtime);
    PyErr_Format(PyExc_ValueError, "runtime: not a live weft runtime (%s)",
                 weft_status_name(status));
    return NULL;
  }
  WeftPyLoop* self = (WeftPyLoop*)type->tp_alloc(type, 0);
  if (self == NULL) {
    if (owns) weft_runtime_destroy(runtime);
    return NULL;
  }
  self->runtime = runtime;
  self->wloop = wloop;
  self->owns_runtime = owns;
  /* A host's runtime may run a manual clock: read it through weft. */
  self->manual_clock = !owns;
  self->armed_ns = INT64_MAX;
  self->slow_callback_duration = 0.1;
  pthread_mutex_init(&self->inbox_lock, NULL);
  return (PyObject*)self;
}

static int loop_traverse(WeftPyLoop* self, visitproc visit, void* arg) {
  /* Handles are not GC objects: the loop reports what its queued ones
   * hold, each once. A reusable handle (reader, writer, signal) may be
   * queued more than once and is reported by its owner (FdWatcher) or not
   * at all (signal handlers: kept alive, never wrongly collected). */
  for (size_t i = 0; i < self->ready_count; i++) {
    WeftPyHandle* h = self->ready[(self->ready_head + i) & (self->ready_cap - 1)];
    if (h->reusable) continue;
    int r = weft_py_handle_traverse_contents(h, visit, arg);
    if (r != 0) return r;
  }
  for (size_t i = 0; i < self->heap_len; i++) {
    int r = weft_py_handle_traverse_contents(self->heap[i], visit, arg);
    if (r != 0) return r;
  }
  Py_VISIT(self->exc_value);
  Py_VISIT(self->task_factory);
  Py_VISIT(self->shared_context);
  return 0;
}

static int loop_clear(WeftPyLoop* self) {
  WeftPyHandle* h;
  while ((h = weft_py_ready_pop(self)) != NULL) Py_DECREF(h);
  while ((h = weft_py_heap_pop(self)) != NULL) Py_DECREF(h);
  Py_CLEAR(self->exc_type);
  Py_CLEAR(self->exc_value);
  Py_CLEAR(self->exc_tb);
  Py_CLEAR(self->task_factory);
  Py_CLEAR(self->shared_context);
  return 0;
}

static void loop_dealloc(WeftPyLoop* self) {
  PyObject_GC_UnTrack(self);
  PyTypeObject* type = Py_TYPE(self);
  /* Scheduled weft callbacks hold references: none is left here. An
   * unclosed own runtime is destroyed if this is its loop thread, else
   * leaked (asyncio warns about unclosed loops in weft/loop.py). */
  if (!self->closed && self->owns_runtime && self->runtime != NULL) {
    self->closed = 1;
    weft_py_queues_clear(self);
    if (weft_loop_claim(self->wloop) == WEFT_OK) destroy_runtime(self, 1);
  }
  loop_clear(self);
  weft_py_queues_clear(self);
  PyMem_Free(self->ready);
  PyMem_Free(self->heap);
  pthread_mutex_destroy(&self->inbox_lock);
  type->tp_free((PyObject*)self);
}

static PyMethodDef loop_methods[] = {
    {"call_soon", (PyCFunction)(void (*)(void))loop_call_soon, METH_FASTCALL | METH_KEYWORDS,
     "call_soon(callback, *args, context=None) -> Handle"},
    {"call_later", (PyCFunction)(void (*)(void))loop_call_later, METH_FASTCALL | METH_KEYWORDS,
     "call_later(delay, callback, *args, context=None) -> TimerHandle"},
    {"call_at", (PyCFunction)(void (*)(void))loop_call_at, METH_FASTCALL | METH_KEYWORDS,
     "call_at(when, callback, *args, context=None) -> TimerHandle"},
    {"call_soon_threadsafe", (PyCFunction)(void (*)(void))loop_call_soon_threadsafe,
     METH_FASTCALL | METH_KEYWORDS,
     "call_soon_threadsafe(callback, *args, context=None) -> Handle, from any thread"},
    {"_handle", (PyCFunction)(void (*)(void))loop_make_handle, METH_FASTCALL | METH_KEYWORDS,
     "_handle(callback, *args, context=None) -> an unscheduled Handle"},
    {"_add_ready", (PyCFunction)loop_add_ready, METH_O, "Queues a handle."},
    {"time", (PyCFunction)loop_time, METH_NOARGS, "The loop clock, in seconds."},
    {"create_future", (PyCFunction)loop_create_future, METH_NOARGS,
     "An asyncio.Future on this loop."},
    {"create_task", (PyCFunction)(void (*)(void))loop_create_task, METH_FASTCALL | METH_KEYWORDS,
     "create_task(coro, *, name=None, context=None) -> asyncio.Task"},
    {"set_task_factory", (PyCFunction)loop_set_task_factory, METH_O,
     "Sets the task factory (None: asyncio.Task)."},
    {"get_task_factory", (PyCFunction)loop_get_task_factory, METH_NOARGS, NULL},
    {"stop", (PyCFunction)loop_stop, METH_NOARGS, "Stops run_forever after this iteration."},
    {"is_running", (PyCFunction)loop_is_running, METH_NOARGS, NULL},
    {"is_closed", (PyCFunction)loop_is_closed, METH_NOARGS, NULL},
    {"get_debug", (PyCFunction)loop_get_debug, METH_NOARGS, NULL},
    {"_set_debug_flag", (PyCFunction)loop_set_debug, METH_O, NULL},
    {"_run", (PyCFunction)loop_run, METH_NOARGS, "Runs until stop() (run_forever's core)."},
    {"_close", (PyCFunction)loop_close, METH_NOARGS, "Drops the queues, destroys the runtime."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef loop_getset[] = {
    {"_runtime_address", (getter)loop_runtime_address, NULL,
     "The weft_runtime_t* as an int (None once closed).", NULL},
    {"_thread_id", (getter)loop_get_thread_id, NULL, NULL, NULL},
    {"hosted", (getter)loop_get_hosted, NULL, "True if stepped by a host's runtime.", NULL},
    {"slow_callback_duration", (getter)loop_get_slow, (setter)loop_set_slow,
     "Debug mode: callbacks running longer (seconds) are logged.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject WeftPyLoop_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.LoopBase",
    .tp_basicsize = sizeof(WeftPyLoop),
    .tp_dealloc = (destructor)loop_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C core of weft.Loop.",
    .tp_traverse = (traverseproc)loop_traverse,
    .tp_clear = (inquiry)loop_clear,
    .tp_methods = loop_methods,
    .tp_getset = loop_getset,
    .tp_new = loop_new,
};

/* _configure(handle_repr, capture_stack, future_type, task_type, set_running_loop,
 * get_running_loop, asyncio.Handle, asyncio.TimerHandle): the Python pieces the C core calls. */
static PyObject* configure(PyObject* module, PyObject* args) {
  (void)module;
  PyObject *repr, *stack, *future, *task, *set_running, *get_running, *handle, *timer_handle;
  if (!PyArg_ParseTuple(args, "OOOOOOOO:_configure", &repr, &stack, &future, &task,
                        &set_running, &get_running, &handle, &timer_handle)) {
    return NULL;
  }
  Py_XSETREF(weft_py_handle_repr, Py_NewRef(repr));
  Py_XSETREF(weft_py_capture_stack, Py_NewRef(stack));
  Py_XSETREF(weft_py_future_type, Py_NewRef(future));
  Py_XSETREF(weft_py_task_type, Py_NewRef(task));
  Py_XSETREF(weft_py_asyncio_handle, Py_NewRef(handle));
  Py_XSETREF(weft_py_asyncio_timer_handle, Py_NewRef(timer_handle));
  Py_XSETREF(weft_py_set_running_loop, Py_NewRef(set_running));
  Py_XSETREF(weft_py_get_running_loop, Py_NewRef(get_running));
  Py_RETURN_NONE;
}

static PyMethodDef module_functions[] = {
    {"_loop_configure", configure, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

int weft_py_loop_init(PyObject* module) {
  if (PyType_Ready(&WeftPyHandle_Type) < 0) return -1;
  if (PyType_Ready(&WeftPyTimerHandle_Type) < 0) return -1;
  if (PyType_Ready(&WeftPyLoop_Type) < 0) return -1;
  str_context = PyUnicode_InternFromString("context");
  if (str_context == NULL) return -1;
  str_name = PyUnicode_InternFromString("name");
  if (str_name == NULL) return -1;
  kwnames_task = Py_BuildValue("(sss)", "loop", "name", "context");
  if (kwnames_task == NULL) return -1;
  kwnames_loop = Py_BuildValue("(s)", "loop");
  if (kwnames_loop == NULL) return -1;
  if (PyModule_AddObjectRef(module, "Handle", (PyObject*)&WeftPyHandle_Type) < 0) return -1;
  if (PyModule_AddObjectRef(module, "TimerHandle", (PyObject*)&WeftPyTimerHandle_Type) < 0) {
    return -1;
  }
  if (PyModule_AddObjectRef(module, "LoopBase", (PyObject*)&WeftPyLoop_Type) < 0) return -1;
  if (PyModule_AddFunctions(module, module_functions) < 0) return -1;
  return 0;
}
