/* swig/errors.i: weft statuses as Python exceptions (weft/errors.py).
 *
 * Any status but WEFT_OK raises the weft.errors class for that status,
 * built as Cls(status, name, message). The message is the C call's own when
 * weft gives one: weft reports every misuse (bad argument, stale handle,
 * wrong thread, ...) to the process-wide misuse handler just before the
 * function returns, on the calling thread; the binding's handler keeps the
 * last report in a thread-local slot, which every wrapper clears before its
 * C call and reads when the call fails. Otherwise the message is the
 * status's text (weft_status_str). */

%{
#include <string.h>

static PyObject* weft_py_error = NULL;           /* weft.errors.Error */
static PyObject* weft_py_class_for_name = NULL;  /* weft.errors.class_for_name */

/* The last misuse reported on this thread (set by the misuse handler,
 * see swig/handlers.i; cleared before each wrapped call). */
static _Thread_local weft_status weft_py_misuse_status = WEFT_OK;
static _Thread_local char weft_py_misuse_message[512];

static void weft_py_misuse_clear(void) { weft_py_misuse_status = WEFT_OK; }

static void weft_py_misuse_record(weft_status status, const char* function, const char* message) {
  weft_py_misuse_status = status;
  snprintf(weft_py_misuse_message, sizeof weft_py_misuse_message, "%s: %s",
           function != NULL ? function : "weft", message != NULL ? message : weft_status_str(status));
}

/* Sets the Python error for a failure `status` (GIL held), with `message`
 * (NULL: the misuse recorded on this thread for this status, else the
 * status's text). */
static void weft_py_raise_message(weft_status status, const char* message) {
  const char* name = weft_status_name(status);
  if (message == NULL) {
    message = (weft_py_misuse_status == status) ? weft_py_misuse_message : weft_status_str(status);
  }
  PyObject* cls = NULL;
  if (weft_py_class_for_name != NULL) cls = PyObject_CallFunction(weft_py_class_for_name, "s", name);
  if (cls == NULL) {
    PyErr_Clear();
    cls = weft_py_error;
    Py_XINCREF(cls);
  }
  if (cls == NULL) {
    PyErr_Format(PyExc_RuntimeError, "%s (%s)", message, name);
    return;
  }
  PyObject* exception = PyObject_CallFunction(cls, "iss", (int)status, name, message);
  if (exception != NULL) {
    PyErr_SetObject((PyObject*)Py_TYPE(exception), exception);
    Py_DECREF(exception);
  }
  Py_DECREF(cls);
  weft_py_misuse_clear();
}

static void weft_py_raise(weft_status status) { weft_py_raise_message(status, NULL); }

/* The status a Python exception stands for (GIL held): a weft.Error's own
 * failure status, otherwise WEFT_ERR_EXCEPTION. */
static weft_status weft_py_status_of(PyObject* exception) {
  if (exception != NULL && weft_py_error != NULL && PyObject_IsInstance(exception, weft_py_error) == 1) {
    PyObject* status = PyObject_GetAttrString(exception, "status");
    long value = status != NULL && PyLong_Check(status) ? PyLong_AsLong(status) : 0;
    Py_XDECREF(status);
    PyErr_Clear();
    if (value < 0 && value >= INT32_MIN) return (weft_status)value;
  }
  return WEFT_ERR_EXCEPTION;
}

/* "TypeName: text" for an exception (a new reference, or NULL). */
static PyObject* weft_py_describe(PyObject* exception) {
  if (exception == NULL) return NULL;
  return PyUnicode_FromFormat("%s: %S", Py_TYPE(exception)->tp_name, exception);
}
%}

%init %{
  {
    PyObject* errors = PyImport_ImportModule("weft.errors");
    if (errors == NULL) return NULL;
    weft_py_error = PyObject_GetAttrString(errors, "Error");
    weft_py_class_for_name = PyObject_GetAttrString(errors, "class_for_name");
    Py_DECREF(errors);
    if (weft_py_error == NULL || weft_py_class_for_name == NULL) return NULL;
    Py_INCREF(weft_py_error);
    if (PyModule_AddObject(m, "Error", weft_py_error) != 0) return NULL;
  }
%}

/* Every wrapped call starts with a clean misuse slot. */
%exception {
  weft_py_misuse_clear();
  $action
}

/* Statuses: WEFT_OK returns None (or the out values); others raise. */
%typemap(out) weft_status {
  if ($1 != WEFT_OK) {
    weft_py_raise($1);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}
