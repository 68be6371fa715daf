/* native/handle.c: weft._capi.Handle and weft._capi.TimerHandle, the
 * handles weft.Loop's call_soon/call_later/call_at return (asyncio.Handle's
 * surface: cancel, cancelled, when, get_context, repr), and running one.
 *
 * Thread: any thread with the GIL held; handles run on the loop thread.
 * A handle owns its callback, arguments (inline up to three, no tuple) and
 * context until it has run or is cancelled, then drops them (readers',
 * writers' and signal handlers' handles, which run again, keep them until
 * cancelled). Handles are not GC-tracked: what they hold is either about
 * to run or dropped, the loop's traversal reports what its queued handles
 * hold, and every handle holds its loop; so a handle is never the only
 * link of a lasting cycle, and call_soon allocates nothing the cyclic GC
 * has to count or scan.
 *
 * Empty contexts: asyncio runs each callback in a copy of the context that
 * was current when it was scheduled. When that context holds no variables,
 * its copy is indistinguishable from any other empty context, and Python
 * code can never reach the context a callback runs in (copy_context()
 * copies). Such a handle captures nothing (empty_context) and runs in the
 * loop's shared empty context, which is checked before and after each run
 * and replaced as soon as it holds a variable, so no callback ever sees what
 * another one set. That saves a GC-tracked allocation per call. A context
 * asked for with get_context() is made then and kept. Debug mode, other
 * Python versions, and a nested run while the shared one is in use, take
 * a context of their own.
 */
#include "native/loop.h"

#include <math.h>
#include <time.h>

/* A small free list: call_soon's handle lives for one iteration. */
#define HANDLE_FREE_MAX 1024
static PyObject* tuple_from_array(PyObject* const* items, Py_ssize_t n) {
  PyObject* t = PyTuple_New(n);
  if (t == NULL) return NULL;
  for (Py_ssize_t i = 0; i < n; i++) {
    Py_INCREF(items[i]);
    PyTuple_SET_ITEM(t, i, items[i]);
  }
  return t;
}

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#define WEFT_PY_SHARED_EMPTY_CONTEXT 1
/* CPython 3.11's context and HAMT objects (Include/internal/pycore_context.h
 * and pycore_hamt.h), read for the number of variables a context holds:
 * len(context) without a call. */
typedef struct {
  PyObject_HEAD
  PyObject* ctx_prev;
  struct {
    PyObject_HEAD
    void* h_root;
    PyObject* h_weakreflist;
    Py_ssize_t h_count;
  } * ctx_vars;
  PyObject* ctx_weakreflist;
  int ctx_entered;
} context_layout_311;

static inline int context_is_empty(PyObject* ctx) {
  return ((context_layout_311*)ctx)->ctx_vars->h_count == 0;
}
#else
#define WEFT_PY_SHARED_EMPTY_CONTEXT 0
static inline int context_is_empty(PyObject* ctx) { return PyObject_Size(ctx) == 0; }
#endif

/* Whether the calling thread's current context holds no variables. Reads
 * the thread state's context (3.11's layout), so other versions always
 * copy. */
static inline int current_context_is_empty(void) {
#if WEFT_PY_SHARED_EMPTY_CONTEXT
  PyObject* ctx = PyThreadState_GET()->context;
  return ctx == NULL || (PyContext_CheckExact(ctx) && context_is_empty(ctx));
#else
  return 0;
#endif
}

static WeftPyHandle* handle_free_list[HANDLE_FREE_MAX];
static int handle_free_count = 0;

void weft_py_handle_clear_refs(WeftPyHandle* h) {
  Py_CLEAR(h->callback);
  for (Py_ssize_t i = 0; i < WEFT_PY_INLINE_ARGS; i++) Py_CLEAR(h->args[i]);
  Py_CLEAR(h->args_tuple);
  Py_CLEAR(h->context);
  h->empty_context = 0;
  Py_CLEAR(h->source_traceback);
}

WeftPyHandle* weft_py_handle_new(PyTypeObject* type, WeftPyLoop* loop, PyObject* callback,
                                 PyObject* const* args, Py_ssize_t nargs, PyObject* context) {
  WeftPyHandle* h;
  if (handle_free_count > 0) {
    h = handle_free_list[--handle_free_count];
  } else {
    h = PyObject_Malloc(sizeof(WeftPyHandle));
    if (h == NULL) {
      PyErr_NoMemory();
      return NULL;
    }
  }
  PyObject_Init((PyObject*)h, type);
  h->args[0] = h->args[1] = h->args[2] = NULL;
  h->args_tuple = NULL;
  h->nargs = nargs;
  h->source_traceback = NULL;
  h->weakrefs = NULL;
  h->when_ns = 0;
  h->when = 0.0;
  h->seq = 0;
  h->cancelled = 0;
  h->scheduled = 0;
  h->reusable = 0;
  h->empty_context = 0;
  h->context = NULL;
  if (nargs <= WEFT_PY_INLINE_ARGS) {
    for (Py_ssize_t i = 0; i < nargs; i++) {
      Py_INCREF(args[i]);
      h->args[i] = args[i];
    }
  } else {
    h->args_tuple = tuple_from_array(args, nargs);
    if (h->args_tuple == NULL) {
      h->callback = NULL;
      h->context = NULL;
      h->loop = NULL;
      Py_DECREF(h);
      return NULL;
    }
  }
  Py_INCREF(callback);
  h->callback = callback;
  if ((context == NULL || context == Py_None) && !loop->debug && current_context_is_empty()) {
    h->empty_context = 1;
  } else if (context == NULL || context == Py_None) {
    h->context = PyContext_CopyCurrent();
    if (h->context == NULL) {
      h->loop = NULL;
      Py_DECREF(h);
      return NULL;
    }
  } else {
    Py_INCREF(context);
    h->context = context;
  }
  Py_INCREF(loop);
  h->loop = loop;
  if (loop->debug && weft_py_capture_stack != NULL) {
    h->source_traceback = PyObject_CallNoArgs(weft_py_capture_stack);
    if (h->source_traceback == NULL) {
      Py_DECREF(h);
      return NULL;
    }
  }
  return h;
}

static void handle_dealloc(WeftPyHandle* h) {
  if (h->weakrefs != NULL) PyObject_ClearWeakRefs((PyObject*)h);
  weft_py_handle_clear_refs(h);
  Py_CLEAR(h->loop);
  if (handle_free_count < HANDLE_FREE_MAX) {
    handle_free_list[handle_free_count++] = h;
    return;
  }
  PyObject_Free(h);
}

int weft_py_handle_traverse_contents(WeftPyHandle* h, visitproc visit, void* arg) {
  Py_VISIT(h->callback);
  for (Py_ssize_t i = 0; i < WEFT_PY_INLINE_ARGS; i++) Py_VISIT(h->args[i]);
  Py_VISIT(h->args_tuple);
  Py_VISIT(h->context);
  Py_VISIT(h->source_traceback);
  return 0;
}

int weft_py_keep_exit_exception(WeftPyLoop* loop) {
  if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) &&
      !PyErr_ExceptionMatches(PyExc_SystemExit)) {
    return 0;
  }
  if (loop->exc_type == NULL) {
    PyErr_Fetch(&loop->exc_type, &loop->exc_value, &loop->exc_tb);
    PyErr_NormalizeException(&loop->exc_type, &loop->exc_value, &loop->exc_tb);
    if (loop->exc_tb != NULL) PyException_SetTraceback(loop->exc_value, loop->exc_tb);
  } else {
    PyErr_Clear();
  }
  return 1;
}

PyObject* weft_py_take_exception(void) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
}

/* The loop's reaction to an exception escaping a callback: KeyboardInterrupt
 * and SystemExit stop the loop and leave run_forever; anything else goes to
 * the loop's exception handler (asyncio's Handle._run). */
static int handle_report_error(WeftPyHandle* h) {
  WeftPyLoop* loop = h->loop;
  if (weft_py_keep_exit_exception(loop)) return -1;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL) PyException_SetTraceback(value, tb);
  PyObject* result = PyObject_CallMethod((PyObject*)loop, "_report_callback_error", "OO",
                                         (PyObject*)h, value);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  if (result == NULL) {
    /* The handler itself failed with a KeyboardInterrupt/SystemExit. */
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
        PyErr_ExceptionMatches(PyExc_SystemExit)) {
      return handle_report_error(h);
    }
    PyErr_WriteUnraisable((PyObject*)loop);
    return 0;
  }
  Py_DECREF(result);
  return 0;
}

static double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

PyObject* weft_py_handle_context(WeftPyHandle* h) {
  if (h->empty_context) {
    h->context = PyContext_New();
    if (h->context == NULL) return NULL;
    h->empty_context = 0;
  }
  if (h->context == NULL) Py_RETURN_NONE;
  return Py_NewRef(h->context);
}

/* The context an empty-context handle runs in: the loop's shared one
 * (fresh if the last run left a variable in it), or a new one if the
 * shared one is in use by the callback that runs this one. New reference. */
static PyObject* enter_shared_context(WeftPyLoop* loop, int* shared) {
  *shared = 0;
  if (loop->shared_context_in_use) return PyContext_New();
  if (loop->shared_context == NULL || !context_is_empty(loop->shared_context)) {
    PyObject* fresh = PyContext_New();
    if (fresh == NULL) return NULL;
    Py_XSETREF(loop->shared_context, fresh);
  }
  loop->shared_context_in_use = 1;
  *shared = 1;
  return Py_NewRef(loop->shared_context);
}

static void leave_shared_context(WeftPyLoop* loop, PyObject* context) {
  loop->shared_context_in_use = 0;
  /* A variable left set: the next callback gets a fresh context, and what
   * the variables hold goes now, as it would with the handle's copy. */
  if (loop->shared_context == context && !context_is_empty(context)) {
    Py_CLEAR(loop->shared_context);
  }
}

int weft_py_handle_run(WeftPyHandle* h) {
  PyObject* callback = h->callback;
  PyObject* context = h->context;
  WeftPyLoop* loop = h->loop;
  int shared = 0;
  if (callback == NULL) return 0;
  /* Ours for the call: a callback may cancel its own handle, which drops
   * what the handle holds (not its loop: the caller holds the handle). */
  if (context == NULL) {
    context = enter_shared_context(loop, &shared);
    if (context == NULL) return handle_report_error(h);
  } else {
    Py_INCREF(context);
  }
  Py_INCREF(callback);
  PyObject* args[WEFT_PY_INLINE_ARGS];
  PyObject* args_tuple = h->args_tuple;
  Py_XINCREF(args_tuple);
  Py_ssize_t nargs = h->nargs;
  if (args_tuple == NULL) {
    for (Py_ssize_t i = 0; i < nargs; i++) {
      args[i] = h->args[i];
      Py_INCREF(args[i]);
    }
  }
  double started = loop->debug ? monotonic_seconds() : 0.0;
  int rc = 0;
  if (PyContext_Enter(context) != 0) {
    rc = handle_report_error(h);
  } else {
    PyObject* result;
    if (args_tuple != NULL) {
      result = PyObject_Call(callback, args_tuple, NULL);
    } else {
      result = PyObject_Vectorcall(callback, args, (size_t)nargs, NULL);
    }
    if (PyContext_Exit(context) != 0) PyErr_WriteUnraisable(context);
    if (result == NULL) {
      rc = handle_report_error(h);
    } else {
      Py_DECREF(result);
    }
  }
  if (shared) leave_shared_context(loop, context);
  if (loop->debug) {
    double took = monotonic_seconds() - started;
    if (took >= loop->slow_callback_duration) {
      PyObject* r = PyObject_CallMethod((PyObject*)loop, "_report_slow_callback", "Od",
                                        (PyObject*)h, took);
      if (r == NULL) PyErr_WriteUnraisable((PyObject*)loop);
      Py_XDECREF(r);
    }
  }
  Py_DECREF(callback);
  Py_DECREF(context);
  if (args_tuple != NULL) {
    Py_DECREF(args_tuple);
  } else {
    for (Py_ssize_t i = 0; i < nargs; i++) Py_DECREF(args[i]);
  }
  return rc;
}

/* ---- Python surface ---- */

static PyObject* handle_cancel(WeftPyHandle* h, PyObject* unused) {
  (void)unused;
  if (!h->cancelled) {
    h->cancelled = 1;
    if (h->scheduled && h->loop != NULL) {
      h->loop->heap_cancelled++;
      if (h->loop->heap_cancelled > 100 && h->loop->heap_cancelled * 2 > h->loop->heap_len) {
        weft_py_heap_compact(h->loop);
      }
    }
    /* Drop what the callback holds now, as asyncio does. */
    PyObject* tb = h->source_traceback;
    h->source_traceback = NULL;
    weft_py_handle_clear_refs(h);
    h->source_traceback = tb;
  }
  Py_RETURN_NONE;
}

static PyObject* handle_cancelled(WeftPyHandle* h, PyObject* unused) {
  (void)unused;
  return PyBool_FromLong(h->cancelled);
}

static PyObject* handle_get_context(WeftPyHandle* h, PyObject* unused) {
  (void)unused;
  return weft_py_handle_context(h);
}

static PyObject* handle_when(WeftPyHandle* h, PyObject* unused) {
  (void)unused;
  return PyFloat_FromDouble(h->when);
}

static PyObject* handle_repr(WeftPyHandle* h) {
  if (weft_py_handle_repr == NULL) {
    return PyUnicode_FromFormat("<%s at %p>", Py_TYPE(h)->tp_name, h);
  }
  return PyObject_CallOneArg(weft_py_handle_repr, (PyObject*)h);
}

static PyObject* handle_get_args(WeftPyHandle* h, void* unused) {
  (void)unused;
  if (h->args_tuple != NULL) {
    Py_INCREF(h->args_tuple);
    return h->args_tuple;
  }
  if (h->callback == NULL) Py_RETURN_NONE;
  return tuple_from_array(h->args, h->nargs);
}

static PyObject* get_or_none(PyObject* o) {
  if (o == NULL) Py_RETURN_NONE;
  Py_INCREF(o);
  return o;
}
static PyObject* handle_get_callback(WeftPyHandle* h, void* u) {
  (void)u;
  return get_or_none(h->callback);
}
static PyObject* handle_get_loop(WeftPyHandle* h, void* u) {
  (void)u;
  return get_or_none((PyObject*)h->loop);
}
static PyObject* handle_get_context_attr(WeftPyHandle* h, void* u) {
  (void)u;
  return weft_py_handle_context(h);
}
static PyObject* handle_get_cancelled(WeftPyHandle* h, void* u) {
  (void)u;
  return PyBool_FromLong(h->cancelled);
}
static PyObject* handle_get_scheduled(WeftPyHandle* h, void* u) {
  (void)u;
  return PyBool_FromLong(h->scheduled);
}
static PyObject* handle_get_source_traceback(WeftPyHandle* h, void* u) {
  (void)u;
  return get_or_none(h->source_traceback);
}

/* isinstance(handle, asyncio.Handle) (and asyncio.TimerHandle for timers)
 * holds: isinstance falls back to __class__, which names asyncio's class.
 * type(handle) stays the weft type; nothing on the hot paths reads this. */
static PyObject* handle_get_class(WeftPyHandle* h, void* u) {
  (void)u;
  PyObject* cls = Py_TYPE(h) == &WeftPyTimerHandle_Type ? weft_py_asyncio_timer_handle
                                                        : weft_py_asyncio_handle;
  if (cls == NULL) cls = (PyObject*)Py_TYPE(h);
  return Py_NewRef(cls);
}

static PyMethodDef handle_methods[] = {
    {"cancel", (PyCFunction)handle_cancel, METH_NOARGS, "Cancels the callback (idempotent)."},
    {"cancelled", (PyCFunction)handle_cancelled, METH_NOARGS, "True once cancelled."},
    {"get_context", (PyCFunction)handle_get_context, METH_NOARGS, "The callback's context."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef handle_getset[] = {
    {"_callback", (getter)handle_get_callback, NULL, NULL, NULL},
    {"_args", (getter)handle_get_args, NULL, NULL, NULL},
    {"_loop", (getter)handle_get_loop, NULL, NULL, NULL},
    {"_context", (getter)handle_get_context_attr, NULL, NULL, NULL},
    {"_cancelled", (getter)handle_get_cancelled, NULL, NULL, NULL},
    {"_source_traceback", (getter)handle_get_source_traceback, NULL, NULL, NULL},
    {"__class__", (getter)handle_get_class, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef timer_methods[] = {
    {"when", (PyCFunction)handle_when, METH_NOARGS, "The time (loop clock) it is scheduled for."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef timer_getset[] = {
    {"_scheduled", (getter)handle_get_scheduled, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject* handle_no_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  (void)args;
  (void)kwargs;
  PyErr_Format(PyExc_TypeError, "%s objects are created by the loop's call_* methods",
               type->tp_name);
  return NULL;
}

PyTypeObject WeftPyHandle_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.Handle",
    .tp_basicsize = sizeof(WeftPyHandle),
    .tp_dealloc = (destructor)handle_dealloc,
    .tp_repr = (reprfunc)handle_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A callback scheduled with call_soon (asyncio.Handle's interface).",
    .tp_weaklistoffset = offsetof(WeftPyHandle, weakrefs),
    .tp_methods = handle_methods,
    .tp_getset = handle_getset,
    .tp_new = handle_no_new,
};

PyTypeObject WeftPyTimerHandle_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.TimerHandle",
    .tp_basicsize = sizeof(WeftPyHandle),
    .tp_dealloc = (destructor)handle_dealloc,
    .tp_repr = (reprfunc)handle_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A callback scheduled with call_later/call_at (asyncio.TimerHandle's interface).",
    .tp_methods = timer_methods,
    .tp_getset = timer_getset,
    .tp_base = &WeftPyHandle_Type,
    .tp_new = handle_no_new,
};
