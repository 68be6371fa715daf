/* Python glue for bindings/weft.i: statuses as exceptions, out handles as
 * results, Python callables as callbacks, weft_value <-> Python values.
 * Built with `swig -python -threads`: every C call releases the GIL, and the
 * trampolines below take it back, whichever thread weft calls them on. */

%{
#include "native/native.h"

static PyObject* weft_py_error = NULL; /* weft.Error */

static void weft_py_raise(weft_status status) {
  PyObject* args = Py_BuildValue("(iss)", (int)status, weft_status_name(status), weft_status_str(status));
  if (args != NULL) {
    PyErr_SetObject(weft_py_error, args);
    Py_DECREF(args);
  }
}

/* A Python object travelling as a POINTER value: its reference is dropped
 * by weft when the last holder lets go, on any thread. */
static void weft_py_decref(void* object) {
  PyGILState_STATE gil = PyGILState_Ensure();
  Py_DECREF((PyObject*)object);
  PyGILState_Release(gil);
}

/* weft_value -> a new Python reference (GIL held). */
static PyObject* weft_py_from_value(const weft_value* v) {
  switch (v->kind) {
    case WEFT_VALUE_BOOL:
      return PyBool_FromLong(v->as.boolean);
    case WEFT_VALUE_INT64:
      return PyLong_FromLongLong((long long)v->as.int64);
    case WEFT_VALUE_DOUBLE:
      return PyFloat_FromDouble(v->as.f64);
    case WEFT_VALUE_BYTES:
      return PyBytes_FromStringAndSize((const char*)v->as.bytes.data, (Py_ssize_t)v->as.bytes.size);
    case WEFT_VALUE_STRING:
      return PyUnicode_DecodeUTF8((const char*)v->as.bytes.data, (Py_ssize_t)v->as.bytes.size, "replace");
    case WEFT_VALUE_POINTER:
      if (v->as.pointer.destroy == weft_py_decref) {
        Py_INCREF((PyObject*)v->as.pointer.pointer);
        return (PyObject*)v->as.pointer.pointer;
      }
      return PyLong_FromVoidPtr(v->as.pointer.pointer); /* a foreign pointer */
    default:
      Py_RETURN_NONE;
  }
}

/* Python value -> weft_value (GIL held). Strings and bytes are borrowed from
 * `object` for the call (weft copies them); any other object becomes a
 * POINTER holding a new reference, which *owned is set to (to drop if the
 * call fails). Returns 0, or -1 with a Python error set. */
static int weft_py_to_value(PyObject* object, weft_value* out, PyObject** owned) {
  *owned = NULL;
  if (object == Py_None) {
    *out = weft_value_none();
  } else if (PyBool_Check(object)) {
    *out = weft_value_bool(object == Py_True);
  } else if (PyLong_Check(object)) {
    long long v = PyLong_AsLongLong(object);
    if (v == -1 && PyErr_Occurred()) return -1;
    *out = weft_value_int64((int64_t)v);
  } else if (PyFloat_Check(object)) {
    *out = weft_value_double(PyFloat_AsDouble(object));
  } else if (PyBytes_Check(object)) {
    *out = weft_value_bytes(PyBytes_AsString(object), (size_t)PyBytes_Size(object));
  } else if (PyUnicode_Check(object)) {
    Py_ssize_t size;
    const char* text = PyUnicode_AsUTF8AndSize(object, &size);
    if (text == NULL) return -1;
    *out = weft_value_bytes(text, (size_t)size);
    out->kind = WEFT_VALUE_STRING;
  } else {
    Py_INCREF(object);
    *owned = object;
    *out = weft_value_pointer(object, weft_py_decref);
  }
  return 0;
}

/* weft_callback -> callable(status, message): message is None with
 * WEFT_OK, otherwise a str saying why. Called exactly once: drops the
 * callable's reference afterwards. */
static void weft_py_callback(void* user, weft_status status, const char* message) {
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* result = PyObject_CallFunction((PyObject*)user, "iz", (int)status, message);
  if (result == NULL) PyErr_WriteUnraisable((PyObject*)user); /* never propagate into C */
  Py_XDECREF(result);
  Py_DECREF((PyObject*)user);
  PyGILState_Release(gil);
}

/* weft_future_callback -> callable(status, value, message). */
static void weft_py_future_callback(void* user, weft_future_t* future, weft_status status,
                                    const weft_value* value, const char* message) {
  (void)future;
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* py_value = weft_py_from_value(value);
  PyObject* result = py_value == NULL ? NULL
                     : PyObject_CallFunction((PyObject*)user, "iOz", (int)status, py_value, message);
  if (result == NULL) PyErr_WriteUnraisable((PyObject*)user);
  Py_XDECREF(result);
  Py_XDECREF(py_value);
  Py_DECREF((PyObject*)user);
  PyGILState_Release(gil);
}
%}

%init %{
  weft_py_error = PyErr_NewException("weft.Error", NULL, NULL);
  Py_INCREF(weft_py_error);
  PyModule_AddObject(m, "Error", weft_py_error);
  /* The hand-written parts of the extension (native/): the loop's hot paths. */
  if (weft_py_native_init(m) != 0) return NULL;
%}

%pythoncode %{
# weft.Error(status, name, message): raised for any status but WEFT_OK.
Error = _capi.Error
%}

/* Statuses: WEFT_OK returns None (or the out values); others raise. */
%typemap(out) weft_status {
  if ($1 != WEFT_OK) {
    weft_py_raise($1);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}
/* ...but weft_status_str/name take a status and return strings: untouched. */

/* Out handles: returned. */
%define WEFT_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE** out (TYPE* tmp = NULL) { $1 = &tmp; }
%typemap(argout) TYPE** out {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, $*1_descriptor, 0));
}
%enddef
WEFT_OUT_HANDLE(weft_runtime_t)
WEFT_OUT_HANDLE(weft_loop_t)
WEFT_OUT_HANDLE(weft_scope_t)
WEFT_OUT_HANDLE(weft_future_t)
WEFT_OUT_HANDLE(weft_executor_t)

%apply uint64_t* OUTPUT { uint64_t* out };  /* weft_loop_now: nanoseconds */
%apply int64_t* OUTPUT { int64_t* out };    /* weft_loop_backend_timeout: ns, -1 none */
%apply int* OUTPUT { int* out };
%apply size_t* OUTPUT { size_t* stragglers };

/* Callbacks: any Python callable; the reference goes to weft on success.
 * A weft_callback may also be None (no callback: weft_loop_call_later then
 * only completes its future; weft_loop_call_soon refuses it). */
%typemap(in) (weft_callback callback, void* user) (PyObject* pending_ref = NULL) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = NULL;
  } else {
    if (!PyCallable_Check($input)) SWIG_exception_fail(SWIG_TypeError, "expected a callable or None");
    Py_INCREF($input);
    pending_ref = $input;
    $1 = weft_py_callback;
    $2 = (void*)$input;
  }
}
%typemap(argout) (weft_callback callback, void* user) { pending_ref$argnum = NULL; /* weft owns it now */ }
%typemap(freearg) (weft_callback callback, void* user) { Py_XDECREF(pending_ref$argnum); }

%typemap(in) (weft_future_callback callback, void* user) (PyObject* pending_ref = NULL) {
  if (!PyCallable_Check($input)) SWIG_exception_fail(SWIG_TypeError, "expected a callable");
  Py_INCREF($input);
  pending_ref = $input;
  $1 = weft_py_future_callback;
  $2 = (void*)$input;
}
%typemap(argout) (weft_future_callback callback, void* user) { pending_ref$argnum = NULL; }
%typemap(freearg) (weft_future_callback callback, void* user) { Py_XDECREF(pending_ref$argnum); }

/* Values going in (weft_future_resolve). */
%typemap(in) const weft_value* value (weft_value tmp, PyObject* owned = NULL) {
  if (weft_py_to_value($input, &tmp, &owned) != 0) SWIG_fail;
  $1 = &tmp;
}
%typemap(argout) const weft_value* value { owned$argnum = NULL; /* weft took it */ }
%typemap(freearg) const weft_value* value { Py_XDECREF(owned$argnum); }

/* weft_future_result: returns (status, value, message). */
%typemap(in, numinputs=0) (weft_status* status, weft_value* value, const char** message)
    (weft_status s = WEFT_OK, weft_value v, const char* m = NULL) {
  v = weft_value_none();
  $1 = &s;
  $2 = &v;
  $3 = ($3_ltype)&m; /* SWIG declares the argument without its const */
}
%typemap(argout) (weft_status* status, weft_value* value, const char** message) {
  PyObject* py_value = weft_py_from_value($2);
  PyObject* tuple = Py_BuildValue("(iNz)", (int)*$1, py_value, *$3);
  $result = SWIG_Python_AppendOutput($result, tuple);
}

/* Option structs: constructed with their defaults and struct_size set. */
%extend weft_runtime_options {
  weft_runtime_options() {
    weft_runtime_options* o = (weft_runtime_options*)calloc(1, sizeof(*o));
    if (o != NULL) weft_runtime_options_init(o, sizeof(*o));
    return o;
  }
}
%ignore weft_runtime_options_init;
