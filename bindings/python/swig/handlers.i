/* swig/handlers.i: Python callables for weft's other function pointers —
 * executor work, the error and misuse handlers, dump/list visitors — and C
 * function pointers given by address.
 *
 * - weft_executor_submit(executor, loop, work, done, user=None):
 *   `work` is a Python callable (run on a worker with the GIL taken; its
 *   return value is the result, converted as weft.capi values are; a
 *   weft.Error it raises rejects with its status, any other exception with
 *   WEFT_ERR_EXCEPTION and "Type: text" as the message), or the address
 *   (int) of a C weft_work_fn — e.g. from ctypes — run without the GIL with
 *   `user` (an int address) as its argument. `done(status, value, message)`
 *   (or None) runs on the loop thread.
 * - weft_runtime_set_error_handler(runtime, handler): handler(event) with a
 *   dict {kind, status, message, scope, duration_ns}, on the loop thread;
 *   None restores weft's default. The binding keeps the callable until it is
 *   replaced or the runtime is destroyed.
 * - weft_set_misuse_handler(handler): handler(function, status, message),
 *   on the thread that misused weft. The binding's own handler is always
 *   installed underneath: it records the message for the exception the
 *   call raises, then forwards to the Python handler if one is set. None
 *   removes the Python handler (misuse then only shows in the exceptions).
 * - weft_loop_set_wait_hook(loop, hook, user=None): hook(entering) — a
 *   Python callable, called with the GIL taken on the loop thread around
 *   each wait (it must not call weft) — or a C weft_wait_hook's address
 *   (int) with `user` (int); None removes it. Kept like the error handler.
 * - weft_runtime_dump / weft_scope_list(…, visit): visit(info) with a dict
 *   {kind, scope, name, state, count}, during the call only.
 * - The allocator: weft_runtime_options.set_allocator(alloc, free, user)
 *   takes the addresses of C functions (a Python allocator would have to
 *   take the GIL inside every allocation of every weft thread).
 */

%{
/* --- executor work --- */
typedef struct weft_py_work {
  PyObject* work;        /* a Python callable, or NULL for a C work function */
  PyObject* done;        /* or NULL */
  weft_work_fn c_work;
  void* c_user;
  PyObject* result;      /* work's return value: its bytes are copied after work returns */
  PyObject* exception;   /* what work raised */
} weft_py_work;

static void weft_py_work_free(weft_py_work* w) {
  Py_XDECREF(w->work);
  Py_XDECREF(w->done);
  Py_XDECREF(w->result);
  Py_XDECREF(w->exception);
  free(w);
}

static weft_status weft_py_work_run(void* user, weft_value* result) {
  weft_py_work* w = (weft_py_work*)user;
  if (w->c_work != NULL) return w->c_work(w->c_user, result);
  PyGILState_STATE gil;
  if (!weft_py_enter(&gil)) return WEFT_ERR_CANCELLED;
  PyObject* value = PyObject_CallNoArgs(w->work);
  /* Only immutable bytes (and str's UTF-8) stay put until weft copies
   * them after this returns: other buffers are copied into bytes first. */
  if (value != NULL && !PyBytes_Check(value) && !PyUnicode_Check(value) && PyObject_CheckBuffer(value)) {
    PyObject* copy = PyBytes_FromObject(value);
    Py_SETREF(value, copy);
  }
  weft_py_value_in in;
  weft_status status = WEFT_OK;
  if (value != NULL && weft_py_to_value(value, result, &in) == 0) {
    /* A POINTER's reference passes to weft as work returns WEFT_OK; the
     * view can go: w->result keeps the bytes' storage alive until done. */
    if (in.has_view) PyBuffer_Release(&in.view);
    w->result = value;
  } else {
    Py_XDECREF(value);
    *result = weft_value_none();
    PyObject *type, *exception, *traceback;
    PyErr_Fetch(&type, &exception, &traceback);
    PyErr_NormalizeException(&type, &exception, &traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    w->exception = exception;
    status = weft_py_status_of(exception);
  }
  weft_py_leave(gil);
  return status;
}

static void weft_py_work_done(void* user, weft_future_t* future, weft_status status,
                              const weft_value* value, const char* message) {
  (void)future;
  weft_py_work* w = (weft_py_work*)user;
  PyGILState_STATE gil;
  if (!weft_py_enter(&gil)) return;
  if (w->done != NULL) {
    PyObject* py_value = weft_py_from_value(value);
    PyObject* py_message = w->exception != NULL && status != WEFT_OK && status != WEFT_ERR_CANCELLED
                               ? weft_py_describe(w->exception)
                               : (message != NULL ? PyUnicode_FromString(message) : (Py_INCREF(Py_None), Py_None));
    PyObject* result = py_value == NULL || py_message == NULL
                           ? NULL
                           : PyObject_CallFunction(w->done, "iOO", (int)status, py_value, py_message);
    if (result == NULL) PyErr_WriteUnraisable(w->done);
    Py_XDECREF(result);
    Py_XDECREF(py_value);
    Py_XDECREF(py_message);
  } else if (w->exception != NULL && status == WEFT_ERR_EXCEPTION) {
    /* Nobody to tell: as an exception escaping a callback. */
    PyErr_SetObject((PyObject*)Py_TYPE(w->exception), w->exception);
    PyErr_WriteUnraisable(w->work);
  }
  weft_py_work_free(w);
  weft_py_leave(gil);
}

/* --- per-runtime handlers (the error handler, the wait hook), kept alive
 * by the binding: {(runtime address, kind): callable}; dropped when the
 * runtime is destroyed. --- */
static PyObject* weft_py_runtime_handlers = NULL;

/* Keeps `callable` (NULL: drops it) as the runtime's handler of `kind`. */
static int weft_py_keep_handler(weft_runtime_t* runtime, const char* kind, PyObject* callable) {
  PyObject* key = Py_BuildValue("(Ns)", PyLong_FromVoidPtr(runtime), kind);
  if (key == NULL) return -1;
  int rc = 0;
  if (callable != NULL) rc = PyDict_SetItem(weft_py_runtime_handlers, key, callable);
  else if (PyDict_Contains(weft_py_runtime_handlers, key) == 1) rc = PyDict_DelItem(weft_py_runtime_handlers, key);
  Py_DECREF(key);
  return rc;
}

static void weft_py_wait_hook(void* user, int entering) {
  WEFT_PY_ENTER(gil);
  PyObject* result = PyObject_CallFunction((PyObject*)user, "i", entering);
  if (result == NULL) PyErr_WriteUnraisable((PyObject*)user);
  Py_XDECREF(result);
  weft_py_leave(gil);
}

static void weft_py_error_handler(void* user, const weft_event* event) {
  WEFT_PY_ENTER(gil);
  PyObject* info = Py_BuildValue("{s:i,s:i,s:s,s:z,s:K}", "kind", (int)event->kind, "status",
                                 (int)event->status, "message", event->message, "scope", event->scope,
                                 "duration_ns", (unsigned long long)event->duration_ns);
  PyObject* result = info == NULL ? NULL : PyObject_CallOneArg((PyObject*)user, info);
  if (result == NULL) PyErr_WriteUnraisable((PyObject*)user);
  Py_XDECREF(result);
  Py_XDECREF(info);
  weft_py_leave(gil);
}

/* --- the misuse handler: always the binding's; forwards to Python. --- */
static PyObject* weft_py_misuse_callable = NULL; /* guarded by the GIL */

static void weft_py_misuse_handler(void* user, const char* function, weft_status status,
                                   const char* message) {
  (void)user;
  weft_py_misuse_record(status, function, message);
  PyGILState_STATE gil;
  if (!weft_py_enter(&gil)) return;
  PyObject* callable = weft_py_misuse_callable;
  if (callable != NULL) {
    Py_INCREF(callable);
    PyObject* result = PyObject_CallFunction(callable, "siz", function, (int)status, message);
    if (result == NULL) PyErr_WriteUnraisable(callable);
    Py_XDECREF(result);
    Py_DECREF(callable);
  }
  weft_py_leave(gil);
}

/* --- visitors: borrowed for the call --- */
static void weft_py_object_visitor(void* user, const weft_object_info* info) {
  WEFT_PY_ENTER(gil);
  PyObject* item = Py_BuildValue("{s:i,s:z,s:z,s:z,s:n}", "kind", (int)info->kind, "scope", info->scope,
                                 "name", info->name, "state", info->state, "count", (Py_ssize_t)info->count);
  PyObject* result = item == NULL ? NULL : PyObject_CallOneArg((PyObject*)user, item);
  if (result == NULL) PyErr_WriteUnraisable((PyObject*)user);
  Py_XDECREF(result);
  Py_XDECREF(item);
  weft_py_leave(gil);
}

%}

%init %{
  weft_py_runtime_handlers = PyDict_New();
  if (weft_py_runtime_handlers == NULL) return NULL;
  weft_set_misuse_handler(weft_py_misuse_handler, NULL);
%}

/* weft_executor_submit(executor, loop, work, done=None, user=None): a
 * hand-written wrapper (its three C arguments come from three Python ones). */
%ignore weft_executor_submit;
%rename(weft_executor_submit) weft_py_executor_submit;
%typemap(default) PyObject* done { $1 = Py_None; }
%typemap(default) PyObject* user { $1 = Py_None; }
%nothreadallow weft_py_executor_submit;
%inline %{
static weft_status weft_py_executor_submit(weft_future_t** out, weft_executor_t* executor,
                                           weft_loop_t* loop, PyObject* work, PyObject* done,
                                           PyObject* user) {
  weft_py_work* w = (weft_py_work*)calloc(1, sizeof *w);
  if (w == NULL) return WEFT_ERR_NO_MEMORY;
  if (PyLong_Check(work)) {
    w->c_work = (weft_work_fn)PyLong_AsVoidPtr(work);
    if (user != Py_None) w->c_user = PyLong_AsVoidPtr(user);
    if (PyErr_Occurred() || w->c_work == NULL) {
      PyErr_Clear();
      weft_py_work_free(w);
      weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_executor_submit",
                            "work: a C work function's address must be a non-zero int, user an int or None");
      return WEFT_ERR_INVALID_ARGUMENT;
    }
  } else if (PyCallable_Check(work) && user == Py_None) {
    Py_INCREF(work);
    w->work = work;
  } else {
    weft_py_work_free(w);
    weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_executor_submit",
                          "work: expected a callable (user None) or a C work function's address (int)");
    return WEFT_ERR_INVALID_ARGUMENT;
  }
  if (done != Py_None) {
    if (!PyCallable_Check(done)) {
      weft_py_work_free(w);
      weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_executor_submit",
                            "done: expected a callable or None");
      return WEFT_ERR_INVALID_ARGUMENT;
    }
    Py_INCREF(done);
    w->done = done;
  }
  weft_status status;
  Py_BEGIN_ALLOW_THREADS
  status = weft_executor_submit(out, executor, loop, weft_py_work_run, weft_py_work_done, w);
  Py_END_ALLOW_THREADS
  if (status != WEFT_OK) weft_py_work_free(w); /* nothing was called */
  return status;
}
%}

/* weft_runtime_set_error_handler(runtime, handler) */
%typemap(in) (weft_error_handler handler, void* user) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = NULL;
  } else {
    if (!PyCallable_Check($input)) SWIG_exception_fail(SWIG_TypeError, "expected a callable or None");
    $1 = weft_py_error_handler;
    $2 = $input;
  }
}
%typemap(argout) (weft_error_handler handler, void* user) {
  /* Installed: keep the new handler alive (replacing the old) for the runtime. */
  if (weft_py_keep_handler(arg1, "error", $input == Py_None ? NULL : $input) != 0) SWIG_fail;
}

/* weft_runtime_destroy drops the runtime's handlers once it succeeded. */
%exception weft_runtime_destroy {
  weft_py_misuse_clear();
  $action
  if (result == WEFT_OK && arg1 != NULL) {
    SWIG_PYTHON_THREAD_BEGIN_BLOCK;
    if (weft_py_keep_handler(arg1, "error", NULL) != 0 || weft_py_keep_handler(arg1, "wait_hook", NULL) != 0)
      PyErr_Clear();
    SWIG_PYTHON_THREAD_END_BLOCK;
  }
}

/* weft_set_misuse_handler(handler) */
%typemap(in) (weft_misuse_handler handler, void* user) {
  if ($input != Py_None && !PyCallable_Check($input)) SWIG_exception_fail(SWIG_TypeError, "expected a callable or None");
  $1 = weft_py_misuse_handler;
  $2 = NULL;
}
%typemap(argout) (weft_misuse_handler handler, void* user) {
  PyObject* old = weft_py_misuse_callable;
  weft_py_misuse_callable = $input == Py_None ? NULL : $input;
  Py_XINCREF(weft_py_misuse_callable);
  Py_XDECREF(old);
}

/* weft_runtime_dump / weft_scope_list (…, visit) */
%typemap(in) (weft_object_visitor visit, void* user) {
  if (!PyCallable_Check($input)) SWIG_exception_fail(SWIG_TypeError, "expected a callable");
  $1 = weft_py_object_visitor;
  $2 = $input;
}

/* weft_loop_set_wait_hook(loop, hook, user=None) */
%ignore weft_loop_set_wait_hook;
%rename(weft_loop_set_wait_hook) weft_py_loop_set_wait_hook;
%nothreadallow weft_py_loop_set_wait_hook;
%inline %{
static weft_status weft_py_loop_set_wait_hook(weft_loop_t* loop, PyObject* hook, PyObject* user) {
  weft_runtime_t* runtime = NULL;
  weft_status status = weft_loop_runtime(&runtime, loop);
  if (status != WEFT_OK) return status;
  weft_wait_hook c_hook = NULL;
  void* c_user = NULL;
  if (PyLong_Check(hook)) {
    c_hook = (weft_wait_hook)PyLong_AsVoidPtr(hook);
    if (user != Py_None) c_user = PyLong_AsVoidPtr(user);
    if (PyErr_Occurred() || c_hook == NULL) {
      PyErr_Clear();
      weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_loop_set_wait_hook",
                            "hook: a C hook's address must be a non-zero int, user an int or None");
      return WEFT_ERR_INVALID_ARGUMENT;
    }
  } else if (hook != Py_None) {
    if (!PyCallable_Check(hook) || user != Py_None) {
      weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_loop_set_wait_hook",
                            "hook: expected a callable (user None), a C hook's address (int) or None");
      return WEFT_ERR_INVALID_ARGUMENT;
    }
    c_hook = weft_py_wait_hook;
    c_user = hook;
  }
  status = weft_loop_set_wait_hook(loop, c_hook, c_user);
  if (status == WEFT_OK &&
      weft_py_keep_handler(runtime, "wait_hook", c_hook == weft_py_wait_hook ? hook : NULL) != 0) {
    PyErr_Clear();
    weft_loop_set_wait_hook(loop, NULL, NULL); /* cannot keep the callable alive: do not leave it installed */
    return WEFT_ERR_NO_MEMORY;
  }
  return status;
}
%}
