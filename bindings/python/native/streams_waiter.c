/* native/streams_waiter.c: the future a weft.StreamReader's read waits on
 * (streams.h has the whole picture): made for each wait
 * (streams_reader_new_waiter; on weft's loop one of the reader's two spare
 * futures, re-initialised, when nothing else holds it), marked blocking as
 * the op yields it (streams_mark_blocking), and completed by feed_data,
 * feed_eof and set_exception (streams_reader_wake_waiter), as asyncio's
 * _wait_for_data and _wakeup_waiter do.
 *
 * asyncio.Future is a C type whose attributes cannot change, so its
 * set_result method and _asyncio_future_blocking property are looked up
 * once and called directly on futures of exactly that type.
 *
 * Thread: the loop's thread, GIL held. Ownership: the reader owns its
 * waiter and spare futures; the looked-up members live as long as the
 * extension.
 */
#include "native/streams.h"

#include "native/loop.h"

static PyObject* str_cancelled;
static PyObject* str_set_result;
static PyObject* str_set_exception;
static PyObject* str_resume_reading;
static PyObject* str_create_future;
static PyObject* str_blocking;
/* asyncio.Future's set_result (a C method) and _asyncio_future_blocking (a
 * C property) when asyncio.Future is an immutable C type, looked up once a
 * reader on weft's loop made a future; NULL otherwise. */
static PyObject* future_set_result;
static PyObject* future_blocking;

/* Whether `future` is an asyncio.Future itself (not a subclass) with no
 * instance __dict__, so that its set_result can only be the type's: the
 * type is immutable, and no instance attribute can shadow the method. */
static int is_plain_future(PyObject* future) {
  PyTypeObject* type = Py_TYPE(future);
  if ((PyObject*)type != weft_py_future_type || type->tp_dictoffset <= 0) return 0;
  return *(PyObject**)((char*)future + type->tp_dictoffset) == NULL;
}

/* waiter.set_result(None), or set_exception(exc), unless it was cancelled;
 * the reader forgets it first (asyncio's _wakeup_waiter). A waiter that was
 * cancelled refuses the result with InvalidStateError: asked cancelled()
 * only then, not before every wake-up. 0 or -1. */
int streams_reader_wake_waiter(StreamsReader* self, PyObject* exc) {
  PyObject* waiter = self->waiter;
  if (waiter == NULL) return 0;
  self->waiter = NULL;
  PyObject* r;
  if (exc == NULL && future_set_result != NULL && is_plain_future(waiter)) {
    PyObject* args[2] = {waiter, Py_None};
    r = PyObject_Vectorcall(future_set_result, args, 2, NULL);
  } else {
    r = PyObject_CallMethodOneArg(waiter, exc == NULL ? str_set_result : str_set_exception,
                                  exc == NULL ? Py_None : exc);
  }
  int rc = 0;
  if (r != NULL) {
    Py_DECREF(r);
  } else {
    PyObject* invalid_state = streams_invalid_state_error();
    rc = -1;
    if (invalid_state != NULL && PyErr_ExceptionMatches(invalid_state)) {
      PyObject *type, *value, *tb;
      PyErr_Fetch(&type, &value, &tb);
      PyObject* cancelled = PyObject_CallMethodNoArgs(waiter, str_cancelled);
      int is = cancelled == NULL ? -1 : PyObject_IsTrue(cancelled);
      Py_XDECREF(cancelled);
      if (is == 0) {
        PyErr_Restore(type, value, tb);
      } else {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        rc = is < 0 ? -1 : 0;
      }
    }
  }
  if (rc == 0 && exc == NULL && self->future_kwargs != NULL) {
    int slot = self->spare_futures[0] == NULL ? 0 : 1;
    Py_XSETREF(self->spare_futures[slot], waiter); /* the reference moves */
  } else {
    Py_DECREF(waiter);
  }
  return rc;
}

/* Fills future_set_result and future_blocking, if asyncio.Future has them
 * as C members of an immutable type (otherwise they stay NULL and the
 * attributes are looked up on each future). 0, or -1 with an error set. */
static int look_up_future_type(void) {
  PyObject* type = weft_py_future_type;
  if (type == NULL || !PyType_HasFeature((PyTypeObject*)type, Py_TPFLAGS_IMMUTABLETYPE)) return 0;
  PyObject* method = PyObject_GetAttr(type, str_set_result);
  if (method == NULL) return -1;
  PyObject* blocking = PyObject_GetAttr(type, str_blocking);
  if (blocking == NULL) {
    Py_DECREF(method);
    return -1;
  }
  if (Py_IS_TYPE(method, &PyMethodDescr_Type) && Py_IS_TYPE(blocking, &PyGetSetDescr_Type) &&
      Py_TYPE(blocking)->tp_descr_set != NULL) {
    future_set_result = method;
    future_blocking = blocking;
    return 0;
  }
  Py_DECREF(method);
  Py_DECREF(blocking);
  return 0;
}

int streams_mark_blocking(PyObject* waiter) {
  if (future_blocking != NULL && (PyObject*)Py_TYPE(waiter) == weft_py_future_type) {
    return Py_TYPE(future_blocking)->tp_descr_set(future_blocking, waiter, Py_True);
  }
  return PyObject_SetAttr(waiter, str_blocking, Py_True);
}

/* A pending future for the next wait: loop.create_future(), or on weft's
 * loop the spare one re-initialised (Future.__init__(loop=loop) resets a
 * future) when the reader alone holds it. New reference or NULL. */
static PyObject* make_future(StreamsReader* self) {
  if (self->create_future == NULL) {
    PyObject* bound = PyObject_GetAttr(self->loop, str_create_future);
    if (bound == NULL) return NULL;
    self->create_future = bound;
    /* weft's own create_future (a C method of the loop, not one a subclass
     * or the instance replaced) makes asyncio.Future(loop=loop). */
    if (PyCFunction_Check(bound) && PyCFunction_GET_SELF(bound) == self->loop &&
        PyObject_TypeCheck(self->loop, &WeftPyLoop_Type)) {
      self->future_kwargs = Py_BuildValue("{sO}", "loop", self->loop);
      if (self->future_kwargs == NULL) return NULL;
      if (future_set_result == NULL && look_up_future_type() != 0) return NULL;
    }
  }
  for (int slot = 0; slot < 2; slot++) {
    PyObject* spare = self->spare_futures[slot];
    if (spare == NULL || Py_REFCNT(spare) != 1 || Py_TYPE(spare)->tp_init == NULL) continue;
    self->spare_futures[slot] = NULL;
    /* With loop=loop: Future.__init__() would look up the running loop,
     * and CPython's lookup calls getpid(), a system call. */
    PyObject* no_args = PyTuple_New(0);
    int rc = no_args == NULL ? -1 : Py_TYPE(spare)->tp_init(spare, no_args, self->future_kwargs);
    Py_XDECREF(no_args);
    if (rc == 0) return spare;
    Py_DECREF(spare);
    return NULL;
  }
  return PyObject_CallNoArgs(self->create_future);
}

PyObject* streams_reader_new_waiter(StreamsReader* self, const char* name) {
  if (self->waiter != NULL) {
    PyErr_Format(PyExc_RuntimeError,
                 "%s() called while another coroutine is already waiting for incoming data", name);
    return NULL;
  }
  if (self->eof) {
    PyErr_SetString(PyExc_AssertionError, "_wait_for_data after EOF");
    return NULL;
  }
  /* Waiting while paused would wait for ever (readexactly(n > limit)). */
  if (self->paused) {
    self->paused = 0;
    if (self->transport == NULL) {
      PyErr_SetString(PyExc_AttributeError, "the reader was paused without a transport");
      return NULL;
    }
    PyObject* r = PyObject_CallMethodNoArgs(self->transport, str_resume_reading);
    if (r == NULL) return NULL;
    Py_DECREF(r);
  }
  if (self->loop == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "the StreamReader has no loop");
    return NULL;
  }
  PyObject* waiter = make_future(self);
  if (waiter == NULL) return NULL;
  Py_INCREF(waiter);
  self->waiter = waiter;
  return waiter;
}

int streams_waiter_init(void) {
  static const StreamsName names[] = {
      {&str_cancelled, "cancelled"},
      {&str_set_result, "set_result"},
      {&str_set_exception, "set_exception"},
      {&str_resume_reading, "resume_reading"},
      {&str_create_future, "create_future"},
      {&str_blocking, "_asyncio_future_blocking"},
  };
  if (streams_intern(names, sizeof(names) / sizeof(names[0])) != 0) return -1;
  return 0;
}
