/* swig/values.i: weft_value <-> Python values.
 *
 * Python -> weft: None, bool, int (int64), float, bytes (and any buffer),
 * str; a weft.capi.weft_value (as the weft_value_* builders return for a
 * POINTER) is taken as it is; any other object travels as a POINTER value
 * that holds a reference to it (dropped, with the GIL, by whichever thread
 * frees the last future holding it).
 * weft -> Python: NONE/BOOL/INT64/DOUBLE/BYTES/STRING become None, bool,
 * int, float, bytes, str (copies); a POINTER holding a Python object gives
 * that object back; any other POINTER gives its address as an int (see
 * weft.capi.address_list_at / datagram_at for the ones weft's operations
 * produce).
 * The builders weft_value_*() return the Python value for the plain kinds,
 * and a weft_value object for weft_value_pointer (its ownership passes to
 * weft with the first call that accepts it; the object then reads NONE).
 * GIL: held in every function here. */

%{
/* Entering Python from weft's threads, and interpreter exit.
 *
 * Once the interpreter finalizes, a thread that waits for the GIL is ended
 * with pthread_exit, which would unwind through weft's C++ frames (and abort
 * there). So at exit (an atexit handler, before finalization) the binding
 * closes the door: no trampoline enters Python any more (callbacks are
 * dropped, Python work reports WEFT_ERR_CANCELLED, references are left), and
 * the handler waits, with the GIL released, for the trampolines already
 * inside to leave (at most 10 s). */
#include <stdatomic.h>
#include <time.h>

static atomic_int weft_py_closing;
static atomic_long weft_py_inside;

static int weft_py_finalizing(void) { return atomic_load(&weft_py_closing) || _Py_IsFinalizing(); }

/* Takes the GIL for a call into Python from any thread; 0 (nothing taken)
 * once the interpreter is exiting. */
static int weft_py_enter(PyGILState_STATE* gil) {
  atomic_fetch_add(&weft_py_inside, 1);
  if (weft_py_finalizing()) {
    atomic_fetch_sub(&weft_py_inside, 1);
    return 0;
  }
  *gil = PyGILState_Ensure();
  return 1;
}

static void weft_py_leave(PyGILState_STATE gil) {
  PyGILState_Release(gil);
  atomic_fetch_sub(&weft_py_inside, 1);
}

/* The atexit handler (GIL held). */
static PyObject* weft_py_before_exit(PyObject* self, PyObject* unused) {
  (void)self;
  (void)unused;
  atomic_store(&weft_py_closing, 1);
  Py_BEGIN_ALLOW_THREADS
  for (int waited_ms = 0; atomic_load(&weft_py_inside) > 0 && waited_ms < 10000; ++waited_ms) {
    struct timespec one_ms = {0, 1000000};
    nanosleep(&one_ms, NULL);
  }
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef weft_py_before_exit_def = {"_before_exit", weft_py_before_exit, METH_NOARGS,
                                              "Stops weft's threads entering Python (atexit)."};

/* A Python object travelling as a POINTER value. */
static void weft_py_decref(void* object) {
  PyGILState_STATE gil;
  if (!weft_py_enter(&gil)) return;
  Py_DECREF((PyObject*)object);
  weft_py_leave(gil);
}

/* weft_value -> a new Python reference. */
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
      return PyUnicode_DecodeUTF8((const char*)v->as.bytes.data, (Py_ssize_t)v->as.bytes.size,
                                  "replace");
    case WEFT_VALUE_POINTER:
      if (v->as.pointer.destroy == weft_py_decref) {
        Py_INCREF((PyObject*)v->as.pointer.pointer);
        return (PyObject*)v->as.pointer.pointer;
      }
      return PyLong_FromVoidPtr(v->as.pointer.pointer);
    default:
      Py_RETURN_NONE;
  }
}

/* Python value -> weft_value. Bytes and strings are borrowed from `object`
 * (and *view, released by the caller with weft_py_value_done) for the call;
 * a new reference to an object sent as a POINTER is put in *owned (to drop
 * if weft did not take it). A weft_value object is copied as it is
 * (*proxy = its address). Returns 0, or -1 with a Python error set. */
typedef struct weft_py_value_in {
  PyObject* owned;
  weft_value* proxy;
  Py_buffer view;
  int has_view;
} weft_py_value_in;

static int weft_py_to_value(PyObject* object, weft_value* out, weft_py_value_in* in) {
  in->owned = NULL;
  in->proxy = NULL;
  in->has_view = 0;
  void* proxy = NULL;
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
  } else if (PyUnicode_Check(object)) {
    Py_ssize_t size;
    const char* text = PyUnicode_AsUTF8AndSize(object, &size);
    if (text == NULL) return -1;
    *out = weft_value_bytes(text, (size_t)size);
    out->kind = WEFT_VALUE_STRING;
  } else if (PyObject_CheckBuffer(object)) {
    if (PyObject_GetBuffer(object, &in->view, PyBUF_CONTIG_RO) != 0) return -1;
    in->has_view = 1;
    *out = weft_value_bytes(in->view.buf, (size_t)in->view.len);
  } else if (SWIG_IsOK(SWIG_ConvertPtr(object, &proxy, SWIGTYPE_p_weft_value, 0)) && proxy != NULL) {
    in->proxy = (weft_value*)proxy;
    *out = *in->proxy;
  } else {
    Py_INCREF(object);
    in->owned = object;
    *out = weft_value_pointer(object, weft_py_decref);
  }
  return 0;
}

/* After the call: `taken` says whether weft accepted the value (a POINTER's
 * ownership then passed to it). */
static void weft_py_value_done(weft_py_value_in* in, int taken) {
  if (in->has_view) PyBuffer_Release(&in->view);
  in->has_view = 0;
  if (taken) {
    in->owned = NULL;
    if (in->proxy != NULL && in->proxy->kind == WEFT_VALUE_POINTER) *in->proxy = weft_value_none();
  }
  Py_CLEAR(in->owned);
}

/* A weft_value handed back by a builder: the plain kinds as Python values,
 * a POINTER as a weft_value object. */
static PyObject* weft_py_built_value(weft_value v) {
  if (v.kind != WEFT_VALUE_POINTER) return weft_py_from_value(&v);
  weft_value* copy = (weft_value*)malloc(sizeof *copy);
  if (copy == NULL) return PyErr_NoMemory();
  *copy = v;
  return SWIG_NewPointerObj(copy, SWIGTYPE_p_weft_value, SWIG_POINTER_OWN);
}
%}

/* Values going in. weft_future_resolve takes a POINTER's ownership when it
 * succeeds; the readers (weft_value_get_*) only look. */
%typemap(in) const weft_value* value (weft_value tmp, weft_py_value_in value_in) {
  if (weft_py_to_value($input, &tmp, &value_in) != 0) SWIG_fail;
  $1 = &tmp;
}
%typemap(argout) const weft_value* value {
  weft_py_value_done(&value_in$argnum, strcmp("$symname", "weft_future_resolve") == 0);
}
%typemap(freearg) const weft_value* value {
  if (value_in$argnum.has_view || value_in$argnum.owned != NULL) weft_py_value_done(&value_in$argnum, 0);
}

/* Builders return Python values. */
%typemap(out) weft_value { $result = weft_py_built_value($1); if ($result == NULL) SWIG_fail; }
%typemap(in) (const void* data, size_t size) (Py_buffer view, int has_view = 0) {
  if (PyObject_GetBuffer($input, &view, PyBUF_CONTIG_RO) != 0) SWIG_fail;
  has_view = 1;
  $1 = view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg) (const void* data, size_t size) { if (has_view$argnum) PyBuffer_Release(&view$argnum); }

/* weft_value_pointer(address, destroy_address): C pointers as ints. */
%typemap(in) void* pointer {
  $1 = PyLong_AsVoidPtr($input);
  if ($1 == NULL && PyErr_Occurred()) SWIG_fail;
}
%typemap(in) weft_destroy_fn destroy {
  $1 = (weft_destroy_fn)PyLong_AsVoidPtr($input);
  if (PyErr_Occurred()) SWIG_fail;
}

/* Readers: the field as a result. */
%typemap(in, numinputs=0) (const void** data, size_t* size) (const void* data = NULL, size_t size = 0) {
  $1 = ($1_ltype)&data;
  $2 = &size;
}
%typemap(argout) (const void** data, size_t* size) {
  $result = SWIG_Python_AppendOutput($result, PyBytes_FromStringAndSize((const char*)*$1, (Py_ssize_t)*$2));
}
%typemap(in, numinputs=0) void** out (void* tmp = NULL) { $1 = &tmp; }
%typemap(argout) void** out { $result = SWIG_Python_AppendOutput($result, PyLong_FromVoidPtr(*$1)); }
%apply double* OUTPUT { double* out };
%typemap(in, numinputs=0) int* out (int tmp = 0) { $1 = &tmp; }
%typemap(argout) int* out {
  $result = SWIG_Python_AppendOutput($result, strcmp("$symname", "weft_value_get_bool") == 0
                                                  ? PyBool_FromLong(*$1) : PyLong_FromLong(*$1));
}

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
  if (py_value == NULL) SWIG_fail;
  $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(iNz)", (int)*$1, py_value, *$3));
}

%immutable weft_value::kind;
%immutable weft_value::as;
%nodefaultctor weft_value;

%init %{
  {
    PyObject* before_exit = PyCFunction_New(&weft_py_before_exit_def, NULL);
    PyObject* atexit_module = PyImport_ImportModule("atexit");
    PyObject* registered = before_exit != NULL && atexit_module != NULL
                               ? PyObject_CallMethod(atexit_module, "register", "O", before_exit)
                               : NULL;
    Py_XDECREF(atexit_module);
    Py_XDECREF(registered);
    if (registered == NULL) {
      Py_XDECREF(before_exit);
      return NULL;
    }
    if (PyModule_AddObject(m, "_before_exit", before_exit) != 0) {
      Py_DECREF(before_exit);
      return NULL;
    }
  }
%}
