/* native/streams_writer.c: the C bases of weft.StreamReaderProtocol and
 * weft.StreamWriter (streams.h has the whole picture).
 *
 * StreamsProtocol: data_received hands the bytes to the reader (a C call
 * for a weft.StreamReader; feed_data otherwise), and _drain_helper answers
 * at once while writing is not paused and the connection is up; asyncio's
 * FlowControlMixin state (_paused, _connection_lost, _drain_waiters, _loop)
 * and the reader's weak reference (_stream_reader_wr) are properties over
 * the C state, so asyncio's own __init__, pause_writing, resume_writing,
 * connection_lost and eof_received run unchanged in the Python class, and
 * its _drain_helper_slow (FlowControlMixin._drain_helper) waits when paused.
 *
 * StreamsWriter: write(data) is transport.write(data); drain() returns the
 * shared done awaitable when nothing needs waiting for (no reader
 * exception, the transport not closing, the protocol a StreamsProtocol that
 * is neither paused nor lost), an awaitable raising the reader's exception,
 * or else the Python class's _drain_slow() (asyncio's StreamWriter.drain).
 * _transport, _protocol, _reader and _loop are properties over the C state
 * (asyncio's __init__ and start_tls assign them).
 *
 * Thread: the loop's thread, GIL held. Ownership: strong references to what
 * the properties hold; the protocol holds its reader weakly, as asyncio's.
 */
#include "native/streams.h"

#include <stddef.h>

typedef struct {
  PyObject_HEAD
  PyObject* reader_wr; /* weakref.ref(reader) or another callable; NULL: none */
  PyObject* loop;
  PyObject* drain_waiters;
  char paused;
  char connection_lost;
} StreamsProtocol;

typedef struct {
  PyObject_HEAD
  PyObject* transport;
  PyObject* protocol;
  PyObject* reader;
  PyObject* loop;
} StreamsWriter;

static PyTypeObject StreamsProtocol_Type;
static PyObject* str_write;
static PyObject* str_feed_data;
static PyObject* str_is_closing;
static PyObject* str_exception;
static PyObject* str_drain_slow;
static PyObject* str_drain_helper_slow;

static PyObject* any_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  (void)args;
  (void)kwargs;
  return type->tp_alloc(type, 0);
}

/* -- StreamsProtocol ------------------------------------------------------------- */

/* The reader, borrowed (None if there is none or it is gone); NULL with an
 * error set if calling a non-weakref reference failed. *owned is set when
 * the returned reference must be released. */
static PyObject* protocol_reader(StreamsProtocol* self, int* owned) {
  *owned = 0;
  if (self->reader_wr == NULL) return Py_None;
  if (PyWeakref_CheckRef(self->reader_wr)) return PyWeakref_GET_OBJECT(self->reader_wr);
  *owned = 1;
  return PyObject_CallNoArgs(self->reader_wr);
}

/* Hands the bytes to the reader (`whole`: see streams_reader_feed). */
static int protocol_feed(StreamsProtocol* self, PyObject* data, int whole) {
  int owned;
  PyObject* reader = protocol_reader(self, &owned);
  if (reader == NULL) return -1;
  int rc = 0;
  if (PyObject_TypeCheck(reader, &StreamsReader_Type)) {
    rc = streams_reader_feed((StreamsReader*)reader, data, whole);
  } else if (reader != Py_None) {
    PyObject* r = PyObject_CallMethodOneArg(reader, str_feed_data, data);
    Py_XDECREF(r);
    rc = r == NULL ? -1 : 0;
  }
  if (owned) Py_DECREF(reader);
  return rc;
}

static PyObject* protocol_data_received(StreamsProtocol* self, PyObject* data) {
  if (protocol_feed(self, data, 0) != 0) return NULL;
  Py_RETURN_NONE;
}

int streams_is_protocol_data_received(PyObject* bound) {
  return PyCFunction_Check(bound) &&
         PyCFunction_GET_FUNCTION(bound) == (PyCFunction)protocol_data_received &&
         PyObject_TypeCheck(PyCFunction_GET_SELF(bound), &StreamsProtocol_Type);
}

int streams_protocol_received(PyObject* protocol, PyObject* data) {
  return protocol_feed((StreamsProtocol*)protocol, data, 1);
}

static PyObject* protocol_drain_helper(StreamsProtocol* self, PyObject* unused) {
  (void)unused;
  if (self->connection_lost) {
    PyObject* exc = PyObject_CallFunction(PyExc_ConnectionResetError, "s", "Connection lost");
    if (exc == NULL) return NULL;
    PyObject* op = streams_op_raising(exc);
    Py_DECREF(exc);
    return op;
  }
  if (!self->paused) return streams_op_done();
  return PyObject_CallMethodNoArgs((PyObject*)self, str_drain_helper_slow);
}

#define POFF(field) ((void*)offsetof(StreamsProtocol, field))

static PyGetSetDef protocol_getset[] = {
    {"_stream_reader_wr", streams_get_object, streams_set_object, NULL, POFF(reader_wr)},
    {"_loop", streams_get_object, streams_set_object, NULL, POFF(loop)},
    {"_drain_waiters", streams_get_object, streams_set_object, NULL, POFF(drain_waiters)},
    {"_paused", streams_get_flag, streams_set_flag, NULL, POFF(paused)},
    {"_connection_lost", streams_get_flag, streams_set_flag, NULL, POFF(connection_lost)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef protocol_methods[] = {
    {"data_received", (PyCFunction)protocol_data_received, METH_O,
     "Hands the bytes to the reader."},
    {"_drain_helper", (PyCFunction)protocol_drain_helper, METH_NOARGS,
     "An awaitable done once writing may go on."},
    {NULL, NULL, 0, NULL},
};

static int protocol_traverse(StreamsProtocol* self, visitproc visit, void* arg) {
  Py_VISIT(self->reader_wr);
  Py_VISIT(self->loop);
  Py_VISIT(self->drain_waiters);
  return 0;
}

static int protocol_clear(StreamsProtocol* self) {
  Py_CLEAR(self->reader_wr);
  Py_CLEAR(self->loop);
  Py_CLEAR(self->drain_waiters);
  return 0;
}

static void protocol_dealloc(StreamsProtocol* self) {
  PyObject_GC_UnTrack(self);
  protocol_clear(self);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyTypeObject StreamsProtocol_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.StreamsProtocol",
    .tp_basicsize = sizeof(StreamsProtocol),
    .tp_dealloc = (destructor)protocol_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of weft.StreamReaderProtocol: data_received and drain's state.",
    .tp_traverse = (traverseproc)protocol_traverse,
    .tp_clear = (inquiry)protocol_clear,
    .tp_methods = protocol_methods,
    .tp_getset = protocol_getset,
    .tp_new = any_new,
};

/* -- StreamsWriter --------------------------------------------------------------------- */

static PyObject* writer_write(StreamsWriter* self, PyObject* data) {
  if (self->transport == NULL) {
    PyErr_SetString(PyExc_AttributeError, "'NoneType' object has no attribute 'write'");
    return NULL;
  }
  return PyObject_CallMethodOneArg(self->transport, str_write, data);
}

static PyObject* writer_drain(StreamsWriter* self, PyObject* unused) {
  (void)unused;
  PyObject* reader = self->reader;
  if (reader != NULL) {
    PyObject* exc;
    if (PyObject_TypeCheck(reader, &StreamsReader_Type)) {
      exc = Py_XNewRef(((StreamsReader*)reader)->exception);
    } else {
      exc = PyObject_CallMethodNoArgs(reader, str_exception);
      if (exc == NULL) return NULL;
      if (exc == Py_None) Py_CLEAR(exc);
    }
    if (exc != NULL) {
      PyObject* op = streams_op_raising(exc);
      Py_DECREF(exc);
      return op;
    }
  }
  if (self->transport != NULL && self->protocol != NULL &&
      PyObject_TypeCheck(self->protocol, &StreamsProtocol_Type)) {
    StreamsProtocol* protocol = (StreamsProtocol*)self->protocol;
    if (!protocol->paused && !protocol->connection_lost) {
      PyObject* closing = PyObject_CallMethodNoArgs(self->transport, str_is_closing);
      if (closing == NULL) return NULL;
      int is = PyObject_IsTrue(closing);
      Py_DECREF(closing);
      if (is < 0) return NULL;
      if (!is) return streams_op_done();
    }
  }
  return PyObject_CallMethodNoArgs((PyObject*)self, str_drain_slow);
}

#define WOFF(field) ((void*)offsetof(StreamsWriter, field))

static PyGetSetDef writer_getset[] = {
    {"_transport", streams_get_object, streams_set_object, NULL, WOFF(transport)},
    {"_protocol", streams_get_object, streams_set_object, NULL, WOFF(protocol)},
    {"_reader", streams_get_object, streams_set_object, NULL, WOFF(reader)},
    {"_loop", streams_get_object, streams_set_object, NULL, WOFF(loop)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef writer_methods[] = {
    {"write", (PyCFunction)writer_write, METH_O, "transport.write(data)."},
    {"drain", (PyCFunction)writer_drain, METH_NOARGS,
     "An awaitable done once the transport takes more (flow control)."},
    {NULL, NULL, 0, NULL},
};

static int writer_traverse(StreamsWriter* self, visitproc visit, void* arg) {
  Py_VISIT(self->transport);
  Py_VISIT(self->protocol);
  Py_VISIT(self->reader);
  Py_VISIT(self->loop);
  return 0;
}

static int writer_clear(StreamsWriter* self) {
  Py_CLEAR(self->transport);
  Py_CLEAR(self->protocol);
  Py_CLEAR(self->reader);
  Py_CLEAR(self->loop);
  return 0;
}

static void writer_dealloc(StreamsWriter* self) {
  PyObject_GC_UnTrack(self);
  writer_clear(self);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyTypeObject StreamsWriter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.StreamsWriter",
    .tp_basicsize = sizeof(StreamsWriter),
    .tp_dealloc = (destructor)writer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of weft.StreamWriter: write and drain.",
    .tp_traverse = (traverseproc)writer_traverse,
    .tp_clear = (inquiry)writer_clear,
    .tp_methods = writer_methods,
    .tp_getset = writer_getset,
    .tp_new = any_new,
};

int weft_py_streams_writer_init(PyObject* module) {
  static const StreamsName names[] = {
      {&str_write, "write"},
      {&str_feed_data, "feed_data"},
      {&str_is_closing, "is_closing"},
      {&str_exception, "exception"},
      {&str_drain_slow, "_drain_slow"},
      {&str_drain_helper_slow, "_drain_helper_slow"},
  };
  if (streams_intern(names, sizeof(names) / sizeof(names[0])) != 0) return -1;
  if (PyType_Ready(&StreamsProtocol_Type) < 0) return -1;
  if (PyType_Ready(&StreamsWriter_Type) < 0) return -1;
  if (PyModule_AddObjectRef(module, "StreamsProtocol", (PyObject*)&StreamsProtocol_Type) != 0) {
    return -1;
  }
  return PyModule_AddObjectRef(module, "StreamsWriter", (PyObject*)&StreamsWriter_Type);
}
