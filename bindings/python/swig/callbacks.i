/* swig/callbacks.i: Python callables as the callbacks of weft's
 * asynchronous operations.
 *
 * Each callback type takes callable(status, message, *results) — the C
 * callback's arguments without `user` — with message None on WEFT_OK:
 *   weft_callback               (status, message)
 *   weft_bytes_callback         (status, message, data: bytes | None)
 *   weft_stream_callback        (status, message, stream | None)
 *   weft_file_callback          (status, message, file | None)
 *   weft_file_size_callback     (status, message, size)
 *   weft_resolve_callback       (status, message, [(host, port), ...])
 *   weft_udp_recv_callback      (status, message, data, (host, port) | None, truncated)
 *   weft_process_wait_callback  (status, message, exit_code, term_signal)
 *   weft_signal_callback        (status, message, signum)
 *   weft_fd_callback            (status, message, events)
 *   weft_future_callback        (status, value, message)  (no future argument)
 * None passes a NULL callback (the operation then only completes its
 * future). weft calls each exactly once, on the loop thread, which is when
 * the binding drops its reference; if the C call fails, the reference is
 * dropped at once. Trampolines take the GIL (the loop runs with it
 * released), so callbacks arriving from any thread are safe; an exception a
 * callback raises goes to sys.unraisablehook and the loop goes on. */

%{
/* Takes the GIL for a trampoline (weft_py_enter), or returns from it when
 * the interpreter is exiting (the reference is left). */
#define WEFT_PY_ENTER(gil) \
  PyGILState_STATE gil; \
  if (!weft_py_enter(&gil)) return

/* Ends a once-only trampoline: reports a failed call, drops the callable. */
static void weft_py_leave_once(PyObject* callable, PyObject* result, PyGILState_STATE gil) {
  if (result == NULL) PyErr_WriteUnraisable(callable);
  Py_XDECREF(result);
  Py_DECREF(callable);
  weft_py_leave(gil);
}

static PyObject* weft_py_address(const weft_address* address) {
  if (address == NULL) Py_RETURN_NONE;
  return Py_BuildValue("(si)", address->host, (int)address->port);
}

static PyObject* weft_py_address_list(const weft_address* addresses, size_t count) {
  PyObject* list = PyList_New((Py_ssize_t)count);
  for (size_t i = 0; list != NULL && i < count; ++i) {
    PyObject* item = weft_py_address(&addresses[i]);
    if (item == NULL) Py_CLEAR(list);
    else PyList_SET_ITEM(list, (Py_ssize_t)i, item);
  }
  return list;
}

static void weft_py_callback(void* user, weft_status status, const char* message) {
  WEFT_PY_ENTER(gil);
  weft_py_leave_once((PyObject*)user, PyObject_CallFunction((PyObject*)user, "iz", (int)status, message), gil);
}

static void weft_py_bytes_callback(void* user, weft_status status, const char* message,
                                   const void* bytes, size_t len) {
  WEFT_PY_ENTER(gil);
  PyObject* data = bytes != NULL || status == WEFT_OK
                       ? PyBytes_FromStringAndSize((const char*)bytes, (Py_ssize_t)len)
                       : (Py_INCREF(Py_None), Py_None);
  PyObject* result = data == NULL ? NULL
                     : PyObject_CallFunction((PyObject*)user, "izN", (int)status, message, data);
  weft_py_leave_once((PyObject*)user, result, gil);
}

static void weft_py_stream_callback(void* user, weft_status status, const char* message,
                                    weft_stream_t* stream) {
  WEFT_PY_ENTER(gil);
  PyObject* handle = SWIG_NewPointerObj(stream, SWIGTYPE_p_weft_stream, 0);
  weft_py_leave_once((PyObject*)user,
                     PyObject_CallFunction((PyObject*)user, "izN", (int)status, message, handle), gil);
}

static void weft_py_file_callback(void* user, weft_status status, const char* message,
                                  weft_file_t* file) {
  WEFT_PY_ENTER(gil);
  PyObject* handle = SWIG_NewPointerObj(file, SWIGTYPE_p_weft_file, 0);
  weft_py_leave_once((PyObject*)user,
                     PyObject_CallFunction((PyObject*)user, "izN", (int)status, message, handle), gil);
}

static void weft_py_file_size_callback(void* user, weft_status status, const char* message,
                                       uint64_t size) {
  WEFT_PY_ENTER(gil);
  weft_py_leave_once((PyObject*)user,
                     PyObject_CallFunction((PyObject*)user, "izK", (int)status, message,
                                           (unsigned long long)size), gil);
}

static void weft_py_resolve_callback(void* user, weft_status status, const char* message,
                                     const weft_address* addresses, size_t count) {
  WEFT_PY_ENTER(gil);
  PyObject* list = weft_py_address_list(addresses, count);
  PyObject* result = list == NULL ? NULL
                     : PyObject_CallFunction((PyObject*)user, "izN", (int)status, message, list);
  weft_py_leave_once((PyObject*)user, result, gil);
}

static void weft_py_udp_recv_callback(void* user, weft_status status, const char* message,
                                      const void* bytes, size_t len, const weft_address* from,
                                      int truncated) {
  WEFT_PY_ENTER(gil);
  PyObject* data = status == WEFT_OK ? PyBytes_FromStringAndSize((const char*)bytes, (Py_ssize_t)len)
                                     : (Py_INCREF(Py_None), Py_None);
  PyObject* sender = weft_py_address(from);
  PyObject* result = data == NULL || sender == NULL
                         ? NULL
                         : PyObject_CallFunction((PyObject*)user, "izOOO", (int)status, message, data,
                                                 sender, truncated ? Py_True : Py_False);
  Py_XDECREF(data);
  Py_XDECREF(sender);
  weft_py_leave_once((PyObject*)user, result, gil);
}

static void weft_py_process_wait_callback(void* user, weft_status status, const char* message,
                                          int64_t exit_code, int term_signal) {
  WEFT_PY_ENTER(gil);
  weft_py_leave_once((PyObject*)user,
                     PyObject_CallFunction((PyObject*)user, "izLi", (int)status, message,
                                           (long long)exit_code, term_signal), gil);
}

static void weft_py_signal_callback(void* user, weft_status status, const char* message, int signum) {
  WEFT_PY_ENTER(gil);
  weft_py_leave_once((PyObject*)user,
                     PyObject_CallFunction((PyObject*)user, "izi", (int)status, message, signum), gil);
}

static void weft_py_fd_callback(void* user, weft_status status, const char* message, int events) {
  WEFT_PY_ENTER(gil);
  weft_py_leave_once((PyObject*)user,
                     PyObject_CallFunction((PyObject*)user, "izi", (int)status, message, events), gil);
}

static void weft_py_future_callback(void* user, weft_future_t* future, weft_status status,
                                    const weft_value* value, const char* message) {
  (void)future;
  WEFT_PY_ENTER(gil);
  PyObject* py_value = weft_py_from_value(value);
  PyObject* result = py_value == NULL ? NULL
                     : PyObject_CallFunction((PyObject*)user, "iNz", (int)status, py_value, message);
  weft_py_leave_once((PyObject*)user, result, gil);
}
%}

/* (TYPE callback, void* user) <- a callable or None. */
%define WEFT_PY_ONCE_CALLBACK(TYPE, TRAMPOLINE)
%typemap(in) (TYPE callback, void* user) (PyObject* pending_ref = NULL) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = NULL;
  } else {
    if (!PyCallable_Check($input)) SWIG_exception_fail(SWIG_TypeError, "expected a callable or None");
    Py_INCREF($input);
    pending_ref = $input;
    $1 = TRAMPOLINE;
    $2 = (void*)$input;
  }
}
%typemap(argout) (TYPE callback, void* user) { pending_ref$argnum = NULL; /* weft owns it now */ }
%typemap(freearg) (TYPE callback, void* user) { Py_XDECREF(pending_ref$argnum); }
%enddef

WEFT_PY_ONCE_CALLBACK(weft_callback, weft_py_callback)
WEFT_PY_ONCE_CALLBACK(weft_bytes_callback, weft_py_bytes_callback)
WEFT_PY_ONCE_CALLBACK(weft_stream_callback, weft_py_stream_callback)
WEFT_PY_ONCE_CALLBACK(weft_file_callback, weft_py_file_callback)
WEFT_PY_ONCE_CALLBACK(weft_file_size_callback, weft_py_file_size_callback)
WEFT_PY_ONCE_CALLBACK(weft_resolve_callback, weft_py_resolve_callback)
WEFT_PY_ONCE_CALLBACK(weft_udp_recv_callback, weft_py_udp_recv_callback)
WEFT_PY_ONCE_CALLBACK(weft_process_wait_callback, weft_py_process_wait_callback)
WEFT_PY_ONCE_CALLBACK(weft_signal_callback, weft_py_signal_callback)
WEFT_PY_ONCE_CALLBACK(weft_future_callback, weft_py_future_callback)
WEFT_PY_ONCE_CALLBACK(weft_fd_callback, weft_py_fd_callback)
