/* native/streams_reader.c: weft._capi.StreamsReader, the C base of
 * weft.StreamReader (streams.h has the whole picture). The buffer,
 * feed_data / feed_eof / set_exception (which wake the future a waiting read
 * waits on: streams_waiter.c), the transport's read flow control
 * (pause_reading past twice the limit, resume_reading back at the limit), and
 * the read methods, each returning a StreamsOp (streams_op.c) that does the
 * work when awaited.
 *
 * asyncio's StreamReader attributes (_buffer, _limit, _loop, _eof, _waiter,
 * _exception, _transport, _paused) are properties over the C state, so
 * asyncio's own __init__ and __repr__ run unchanged in the Python class;
 * _buffer reads as a copy (a bytearray) and assigning it replaces the
 * buffer's contents.
 *
 * Thread: the loop's thread, GIL held. Ownership: see streams.h.
 */
#include "native/streams.h"

#include "native/loop.h"

#include <stddef.h>
#include <string.h>

/* Above this capacity an emptied buffer gives its memory back. */
#define KEEP_CAPACITY ((Py_ssize_t)256 * 1024)

static PyObject* str_pause_reading;
static PyObject* str_resume_reading;

/* -- the buffer ---------------------------------------------------------------- */

Py_ssize_t streams_reader_size(StreamsReader* self) {
  if (self->chunk != NULL) return PyBytes_GET_SIZE(self->chunk) - self->chunk_off;
  return self->len;
}

const char* streams_reader_data(StreamsReader* self) {
  if (self->chunk != NULL) return PyBytes_AS_STRING(self->chunk) + self->chunk_off;
  return self->buf != NULL ? self->buf + self->start : "";
}

static void buffer_emptied(StreamsReader* self) {
  self->start = 0;
  if (self->cap > KEEP_CAPACITY) {
    PyMem_Free(self->buf);
    self->buf = NULL;
    self->cap = 0;
  }
}

void streams_reader_consume(StreamsReader* self, Py_ssize_t n) {
  if (n <= 0) return;
  if (self->chunk != NULL) {
    self->chunk_off += n;
    if (self->chunk_off >= PyBytes_GET_SIZE(self->chunk)) Py_CLEAR(self->chunk);
    return;
  }
  self->start += n;
  self->len -= n;
  if (self->len == 0) buffer_emptied(self);
}

PyObject* streams_reader_take(StreamsReader* self, Py_ssize_t n) {
  if (self->chunk != NULL && self->chunk_off == 0 && n == PyBytes_GET_SIZE(self->chunk)) {
    PyObject* whole = self->chunk; /* the reference moves to the caller */
    self->chunk = NULL;
    return whole;
  }
  PyObject* bytes = PyBytes_FromStringAndSize(streams_reader_data(self), n);
  if (bytes != NULL) streams_reader_consume(self, n);
  return bytes;
}

/* Room for `more` bytes after the buffered ones in buf; the chunk, if one is
 * held, is copied in first. 0, or -1 with MemoryError. */
static int buffer_reserve(StreamsReader* self, Py_ssize_t more) {
  Py_ssize_t held = streams_reader_size(self);
  if (held > PY_SSIZE_T_MAX - more) {
    PyErr_NoMemory();
    return -1;
  }
  Py_ssize_t need = held + more;
  if (self->chunk == NULL && self->start + need <= self->cap) return 0;
  if (self->chunk == NULL && need <= self->cap) {
    if (self->len > 0) memmove(self->buf, self->buf + self->start, (size_t)self->len);
    self->start = 0;
    return 0;
  }
  Py_ssize_t cap = self->cap > 0 ? self->cap : 4096;
  while (cap < need) cap = cap > PY_SSIZE_T_MAX / 2 ? need : cap * 2;
  char* grown = PyMem_Malloc((size_t)cap);
  if (grown == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  if (held > 0) memcpy(grown, streams_reader_data(self), (size_t)held);
  Py_CLEAR(self->chunk);
  PyMem_Free(self->buf);
  self->buf = grown;
  self->cap = cap;
  self->start = 0;
  self->len = held;
  return 0;
}

static int buffer_append(StreamsReader* self, const char* bytes, Py_ssize_t n) {
  if (n == 0) return 0;
  if (buffer_reserve(self, n) != 0) return -1;
  memcpy(self->buf + self->start + self->len, bytes, (size_t)n);
  self->len += n;
  return 0;
}

static void buffer_clear(StreamsReader* self) {
  Py_CLEAR(self->chunk);
  self->len = 0;
  buffer_emptied(self);
}

/* -- raising ---------------------------------------------------------------------- */

void streams_raise(PyObject* exc) {
  if (PyExceptionInstance_Check(exc)) {
    PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
  } else if (PyExceptionClass_Check(exc)) {
    PyErr_SetNone(exc);
  } else {
    PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
  }
}

/* -- feeding ------------------------------------------------------------------------ */

int streams_reader_feed(StreamsReader* self, PyObject* data, int whole) {
  if (self->eof) {
    PyErr_SetString(PyExc_AssertionError, "feed_data after feed_eof");
    return -1;
  }
  if (PyBytes_CheckExact(data)) {
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    if (n == 0) return 0;
    if (whole && streams_reader_size(self) == 0) {
      /* Held whole: a read of all of it returns this very object. */
      buffer_clear(self);
      Py_INCREF(data);
      self->chunk = data;
      self->chunk_off = 0;
    } else if (buffer_append(self, PyBytes_AS_STRING(data), n) != 0) {
      return -1;
    }
  } else {
    /* bytearray.extend's argument: any bytes-like object, or an iterable
     * of ints. */
    PyObject* bytes = PyBytes_FromObject(data);
    if (bytes == NULL) return -1;
    Py_ssize_t n = PyBytes_GET_SIZE(bytes);
    int rc = n == 0 ? 0 : buffer_append(self, PyBytes_AS_STRING(bytes), n);
    Py_DECREF(bytes);
    if (rc != 0 || n == 0) return rc;
  }
  if (streams_reader_wake_waiter(self, NULL) != 0) return -1;
  if (self->transport != NULL && !self->paused &&
      streams_reader_size(self) > 2 * self->limit) {
    PyObject* r = PyObject_CallMethodNoArgs(self->transport, str_pause_reading);
    if (r == NULL) {
      if (!PyErr_ExceptionMatches(PyExc_NotImplementedError)) return -1;
      /* The transport cannot pause: keep everything, stop asking. */
      PyErr_Clear();
      Py_CLEAR(self->transport);
    } else {
      Py_DECREF(r);
      self->paused = 1;
    }
  }
  return 0;
}

int streams_reader_maybe_resume(StreamsReader* self) {
  if (!self->paused || streams_reader_size(self) > self->limit) return 0;
  self->paused = 0;
  if (self->transport == NULL) {
    PyErr_SetString(PyExc_AttributeError, "the reader was paused without a transport");
    return -1;
  }
  PyObject* r = PyObject_CallMethodNoArgs(self->transport, str_resume_reading);
  if (r == NULL) return -1;
  Py_DECREF(r);
  return 0;
}

/* -- methods ------------------------------------------------------------------------- */

static PyObject* reader_feed_data(StreamsReader* self, PyObject* data) {
  if (streams_reader_feed(self, data, 0) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* reader_feed_eof(StreamsReader* self, PyObject* unused) {
  (void)unused;
  self->eof = 1;
  if (streams_reader_wake_waiter(self, NULL) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* reader_set_exception(StreamsReader* self, PyObject* exc) {
  Py_INCREF(exc);
  Py_XSETREF(self->exception, exc);
  if (streams_reader_wake_waiter(self, exc) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* reader_wakeup_waiter(StreamsReader* self, PyObject* unused) {
  (void)unused;
  if (streams_reader_wake_waiter(self, NULL) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* reader_exception(StreamsReader* self, PyObject* unused) {
  (void)unused;
  return Py_NewRef(self->exception != NULL ? self->exception : Py_None);
}

static PyObject* reader_at_eof(StreamsReader* self, PyObject* unused) {
  (void)unused;
  return PyBool_FromLong(self->eof && streams_reader_size(self) == 0);
}

static PyObject* reader_set_transport(StreamsReader* self, PyObject* transport) {
  if (self->transport != NULL) {
    PyErr_SetString(PyExc_AssertionError, "Transport already set");
    return NULL;
  }
  if (transport != Py_None) self->transport = Py_NewRef(transport);
  Py_RETURN_NONE;
}

static PyObject* reader_maybe_resume_transport(StreamsReader* self, PyObject* unused) {
  (void)unused;
  if (streams_reader_maybe_resume(self) != 0) return NULL;
  Py_RETURN_NONE;
}

/* The one optional argument of read(n=-1) and readuntil(separator=b'\n'),
 * positional or by keyword. 0, or -1 with TypeError. */
static int one_optional_arg(const char* method, const char* keyword, PyObject* const* args,
                            Py_ssize_t nargs, PyObject* kwnames, PyObject** out) {
  Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
  if (nargs + nkw > 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", method,
                 nargs + nkw);
    return -1;
  }
  if (nargs == 1) {
    *out = args[0];
  } else if (nkw == 1) {
    if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), keyword) != 0) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", method,
                   PyTuple_GET_ITEM(kwnames, 0));
      return -1;
    }
    *out = args[0];
  }
  return 0;
}

/* A read's size, an int. 0, or -1 with an error set. */
static int size_argument(PyObject* arg, Py_ssize_t* n) {
  *n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
  return *n == -1 && PyErr_Occurred() ? -1 : 0;
}

/* With an error set: an awaitable that raises it when awaited (a bad size
 * fails the await, as in asyncio's coroutine methods, not the call). */
static PyObject* raising_op(void) {
  PyObject* value = weft_py_take_exception();
  if (value == NULL) return NULL;
  PyObject* op = streams_op_raising(value);
  Py_DECREF(value);
  return op;
}

static PyObject* reader_read(StreamsReader* self, PyObject* const* args, Py_ssize_t nargs,
                             PyObject* kwnames) {
  PyObject* arg = NULL;
  if (one_optional_arg("read", "n", args, nargs, kwnames, &arg) != 0) return NULL;
  Py_ssize_t n = -1;
  if (arg != NULL && size_argument(arg, &n) != 0) return raising_op();
  return streams_op_new(self, n < 0 ? STREAMS_READ_ALL : STREAMS_READ, n, NULL);
}

static PyObject* reader_readexactly(StreamsReader* self, PyObject* arg) {
  Py_ssize_t n;
  if (size_argument(arg, &n) != 0) return raising_op();
  return streams_op_new(self, STREAMS_READEXACTLY, n, NULL);
}

static PyObject* reader_readuntil(StreamsReader* self, PyObject* const* args, Py_ssize_t nargs,
                                  PyObject* kwnames) {
  PyObject* separator = NULL;
  if (one_optional_arg("readuntil", "separator", args, nargs, kwnames, &separator) != 0) {
    return NULL;
  }
  /* No separator: b'\n' (streams_op.c). */
  return streams_op_new(self, STREAMS_READUNTIL, 0, separator);
}

static PyObject* reader_readline(StreamsReader* self, PyObject* unused) {
  (void)unused;
  return streams_op_new(self, STREAMS_READLINE, 0, NULL);
}

static PyObject* reader_aiter(PyObject* self) {
  return Py_NewRef(self);
}

static PyObject* reader_anext(PyObject* self) {
  return streams_op_new((StreamsReader*)self, STREAMS_ANEXT, 0, NULL);
}

/* -- asyncio's attributes -------------------------------------------------------------- */

static PyObject* get_buffer(StreamsReader* self, void* unused) {
  (void)unused;
  return PyByteArray_FromStringAndSize(streams_reader_data(self), streams_reader_size(self));
}

static int set_buffer(StreamsReader* self, PyObject* value, void* unused) {
  (void)unused;
  if (value == NULL) {
    PyErr_SetString(PyExc_AttributeError, "_buffer cannot be deleted");
    return -1;
  }
  PyObject* bytes = PyBytes_FromObject(value);
  if (bytes == NULL) return -1;
  buffer_clear(self);
  int rc = buffer_append(self, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
  Py_DECREF(bytes);
  return rc;
}

static PyObject* get_limit(StreamsReader* self, void* unused) {
  (void)unused;
  return PyLong_FromSsize_t(self->limit);
}

static int set_limit(StreamsReader* self, PyObject* value, void* unused) {
  (void)unused;
  if (value == NULL) {
    PyErr_SetString(PyExc_AttributeError, "_limit cannot be deleted");
    return -1;
  }
  Py_ssize_t limit = PyNumber_AsSsize_t(value, PyExc_OverflowError);
  if (limit == -1 && PyErr_Occurred()) return -1;
  if (limit <= 0) {
    PyErr_SetString(PyExc_ValueError, "Limit cannot be <= 0");
    return -1;
  }
  self->limit = limit;
  return 0;
}

int streams_intern(const StreamsName* names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    *names[i].slot = PyUnicode_InternFromString(names[i].text);
    if (*names[i].slot == NULL) return -1;
  }
  return 0;
}

/* Properties over struct fields (the closure is the field's offset): an
 * object (NULL reads as None; None or deleting stores NULL), or a flag. */
PyObject* streams_get_object(PyObject* self, void* offset) {
  PyObject* value = *(PyObject**)((char*)self + (size_t)offset);
  return Py_NewRef(value != NULL ? value : Py_None);
}

int streams_set_object(PyObject* self, PyObject* value, void* offset) {
  PyObject** slot = (PyObject**)((char*)self + (size_t)offset);
  Py_XSETREF(*slot, value == NULL || value == Py_None ? NULL : Py_NewRef(value));
  return 0;
}

PyObject* streams_get_flag(PyObject* self, void* offset) {
  return PyBool_FromLong(*((char*)self + (size_t)offset));
}

int streams_set_flag(PyObject* self, PyObject* value, void* offset) {
  int truth = value == NULL ? 0 : PyObject_IsTrue(value);
  if (truth < 0) return -1;
  *((char*)self + (size_t)offset) = (char)truth;
  return 0;
}

static int set_loop(StreamsReader* self, PyObject* value, void* offset) {
  Py_CLEAR(self->create_future);
  Py_CLEAR(self->future_kwargs);
  Py_CLEAR(self->spare_futures[0]);
  Py_CLEAR(self->spare_futures[1]);
  return streams_set_object((PyObject*)self, value, offset);
}

#define OFFSET(field) ((void*)offsetof(StreamsReader, field))

static PyGetSetDef reader_getset[] = {
    {"_buffer", (getter)get_buffer, (setter)set_buffer, "the buffered bytes (a copy)", NULL},
    {"_limit", (getter)get_limit, (setter)set_limit, NULL, NULL},
    {"_loop", streams_get_object, (setter)set_loop, NULL, OFFSET(loop)},
    {"_transport", streams_get_object, streams_set_object, NULL, OFFSET(transport)},
    {"_waiter", streams_get_object, streams_set_object, NULL, OFFSET(waiter)},
    {"_exception", streams_get_object, streams_set_object, NULL, OFFSET(exception)},
    {"_eof", streams_get_flag, streams_set_flag, NULL, OFFSET(eof)},
    {"_paused", streams_get_flag, streams_set_flag, NULL, OFFSET(paused)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef reader_methods[] = {
    {"feed_data", (PyCFunction)reader_feed_data, METH_O, "Buffers bytes; wakes a waiting read."},
    {"feed_eof", (PyCFunction)reader_feed_eof, METH_NOARGS, "Marks the end of the stream."},
    {"set_exception", (PyCFunction)reader_set_exception, METH_O,
     "Fails the waiting read and every later one."},
    {"exception", (PyCFunction)reader_exception, METH_NOARGS, NULL},
    {"at_eof", (PyCFunction)reader_at_eof, METH_NOARGS,
     "True if the buffer is empty and feed_eof was called."},
    {"set_transport", (PyCFunction)reader_set_transport, METH_O, NULL},
    {"_maybe_resume_transport", (PyCFunction)reader_maybe_resume_transport, METH_NOARGS, NULL},
    {"_wakeup_waiter", (PyCFunction)reader_wakeup_waiter, METH_NOARGS, NULL},
    {"read", (PyCFunction)(void (*)(void))reader_read, METH_FASTCALL | METH_KEYWORDS,
     "read(n=-1): up to n bytes (at least one unless at EOF); n < 0: all until EOF."},
    {"readexactly", (PyCFunction)reader_readexactly, METH_O,
     "readexactly(n): n bytes, or IncompleteReadError at EOF."},
    {"readuntil", (PyCFunction)(void (*)(void))reader_readuntil, METH_FASTCALL | METH_KEYWORDS,
     "readuntil(separator=b'\\n'): up to and including the separator."},
    {"readline", (PyCFunction)reader_readline, METH_NOARGS, "readuntil(b'\\n'), the rest at EOF."},
    {NULL, NULL, 0, NULL},
};

static int reader_traverse(StreamsReader* self, visitproc visit, void* arg) {
  Py_VISIT(self->loop);
  Py_VISIT(self->create_future);
  Py_VISIT(self->spare_futures[0]);
  Py_VISIT(self->spare_futures[1]);
  Py_VISIT(self->future_kwargs);
  Py_VISIT(self->spare_op);
  Py_VISIT(self->transport);
  Py_VISIT(self->waiter);
  Py_VISIT(self->exception);
  Py_VISIT(self->chunk);
  return 0;
}

static int reader_clear(StreamsReader* self) {
  Py_CLEAR(self->loop);
  Py_CLEAR(self->create_future);
  Py_CLEAR(self->spare_futures[0]);
  Py_CLEAR(self->spare_futures[1]);
  Py_CLEAR(self->future_kwargs);
  Py_CLEAR(self->spare_op);
  Py_CLEAR(self->transport);
  Py_CLEAR(self->waiter);
  Py_CLEAR(self->exception);
  return 0;
}

static PyObject* reader_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  (void)args;
  (void)kwargs;
  StreamsReader* self = (StreamsReader*)type->tp_alloc(type, 0);
  if (self != NULL) self->limit = 64 * 1024;
  return (PyObject*)self;
}

/* A Python subclass's instance comes here from subtype_dealloc, which
 * releases the instance's reference to its class. */
static void reader_dealloc(StreamsReader* self) {
  PyObject_GC_UnTrack(self);
  reader_clear(self);
  Py_CLEAR(self->chunk);
  PyMem_Free(self->buf);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyAsyncMethods reader_async = {
    .am_aiter = reader_aiter,
    .am_anext = reader_anext,
};

PyTypeObject StreamsReader_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.StreamsReader",
    .tp_basicsize = sizeof(StreamsReader),
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_as_async = &reader_async,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of weft.StreamReader: the buffer, its waiter and the reads.",
    .tp_traverse = (traverseproc)reader_traverse,
    .tp_clear = (inquiry)reader_clear,
    .tp_methods = reader_methods,
    .tp_getset = reader_getset,
    .tp_new = reader_new,
};

int weft_py_streams_reader_init(PyObject* module) {
  static const StreamsName names[] = {
      {&str_pause_reading, "pause_reading"},
      {&str_resume_reading, "resume_reading"},
  };
  if (streams_intern(names, sizeof(names) / sizeof(names[0])) != 0) return -1;
  if (streams_waiter_init() != 0) return -1;
  if (PyType_Ready(&StreamsReader_Type) < 0) return -1;
  return PyModule_AddObjectRef(module, "StreamsReader", (PyObject*)&StreamsReader_Type);
}
