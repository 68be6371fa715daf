/* native/stream_transport.c: weft._capi.StreamCore, the hot half of
 * weft.transports.SocketTransport. It adopts a connected socket's
 * descriptor as a weft stream (weft_pipe_open on a dup the transport hands
 * over), keeps one weft_stream_read pending while the transport reads and
 * hands each chunk to the protocol at once (data_received, or
 * get_buffer/buffer_updated for a BufferedProtocol; weft.streams' protocol
 * gets it without a call, its bytes kept whole), and writes with
 * weft_stream_write, with asyncio's write flow control: pause_writing once
 * more than the high-water mark is queued, resume_writing once a write
 * completion finds no more than the low-water mark.
 *
 * The rare paths (end of stream, errors, closing) call back into the
 * transport's Python methods: _eof_received(), _fatal_error(exc, message),
 * _flow_control_error(exc, message), _write_after_lost(),
 * _closed_when_drained(), and _write_drained() once weft holds no more
 * bytes after notify_drained() asked for it (sendfile waits for that).
 *
 * Writes made while the loop runs a batch of ready callbacks (a task's
 * step, a call_soon callback) are gathered ("corked") in the core and go
 * out together when the batch ends (weft_py_stream_flush_writes, called by
 * weft_py_run_batch): an HTTP server's headers and body in one send(2), as
 * uvloop gathers them (a write of CORK_DIRECT bytes or more with nothing
 * gathered before it is sent at once: gathering would copy it for little
 * gain). They count in the write buffer size and the flow
 * control at once; a failure to send them is reported when they go out, as
 * a later write's would be. Writes from anywhere else (a protocol's
 * data_received, a reader callback) are sent at once.
 *
 * Thread: loop thread, GIL held (weft callbacks take it back as fdwatch.c's
 * do). Ownership: the core owns its weft stream (ended by close(), abort(),
 * or deallocation), and strong references to the loop, the transport and the
 * protocol (a cycle the collector sees, broken by detach()). Each pending
 * weft read or write owns one reference to the core.
 *
 * This file is the Python type (construction, methods, teardown); the state
 * and its shared helpers are in stream_core.h/.c, the read side in
 * stream_read.c, the write side in stream_write.c.
 */
#include "native/stream_core.h"
#include "native/streams.h"

/* StreamCore(loop, fd, transport): fd becomes the core's (its stream closes
 * it); on failure it stays the caller's. */
static PyObject* core_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static char* names[] = {"loop", "fd", "transport", NULL};
  PyObject* loop;
  int fd;
  PyObject* transport;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!iO:StreamCore", names, &WeftPyLoop_Type, &loop,
                                   &fd, &transport)) {
    return NULL;
  }
  WeftPyLoop* l = (WeftPyLoop*)loop;
  if (l->closed) {
    PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
    return NULL;
  }
  if (weft_loop_claim(l->wloop) != WEFT_OK && !l->running) {
    PyErr_SetString(PyExc_RuntimeError, "weft loop: not the loop thread");
    return NULL;
  }
  StreamCore* self = (StreamCore*)type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  weft_stream_t* stream = NULL;
  weft_status status = weft_pipe_open(&stream, l->wloop, fd);
  if (status != WEFT_OK) {
    Py_DECREF(self);
    PyErr_Format(status == WEFT_ERR_INVALID_ARGUMENT ? PyExc_ValueError : PyExc_OSError,
                 "cannot make a weft stream of file descriptor %d (%s)", fd,
                 weft_status_name(status));
    return NULL;
  }
  Py_INCREF(loop);
  self->loop = l;
  self->stream = stream;
  self->fd = fd;
  self->direct_send = 1;
  Py_INCREF(transport);
  self->transport = transport;
  self->high_water = 64 * 1024;
  self->low_water = 16 * 1024;
  self->reading = 1;
  return (PyObject*)self;
}

static PyObject* core_set_protocol(StreamCore* self, PyObject* args) {
  PyObject* protocol;
  int buffered;
  if (!PyArg_ParseTuple(args, "Op:set_protocol", &protocol, &buffered)) return NULL;
  PyObject *data_received = NULL, *get_buffer = NULL, *buffer_updated = NULL;
  if (buffered) {
    get_buffer = PyObject_GetAttrString(protocol, "get_buffer");
    if (get_buffer == NULL) return NULL;
    buffer_updated = PyObject_GetAttrString(protocol, "buffer_updated");
    if (buffer_updated == NULL) {
      Py_DECREF(get_buffer);
      return NULL;
    }
  } else {
    data_received = PyObject_GetAttrString(protocol, "data_received");
    if (data_received == NULL) return NULL;
  }
  Py_INCREF(protocol);
  Py_XSETREF(self->protocol, protocol);
  Py_XSETREF(self->data_received, data_received);
  self->streams_direct =
      (char)(data_received != NULL && streams_is_protocol_data_received(data_received));
  Py_XSETREF(self->get_buffer, get_buffer);
  Py_XSETREF(self->buffer_updated, buffer_updated);
  Py_RETURN_NONE;
}

static PyObject* core_start(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  self->started = 1;
  if (stream_core_arm_read(self) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* core_pause_reading(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  self->reading = 0;
  Py_RETURN_NONE;
}

static PyObject* core_resume_reading(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  if (self->reading || self->closing) Py_RETURN_NONE;
  self->reading = 1;
  /* A BufferedProtocol's next read may ask get_buffer() as it starts
   * (after a bulk read weft reads the kernel at once): it starts from the
   * loop's _flush, never inside the protocol's own call. */
  if (self->stash != NULL || self->stash_eof || self->stash_error != NULL ||
      self->get_buffer != NULL) {
    if (stream_core_schedule_flush(self) != 0) return NULL;
  } else if (stream_core_arm_read(self) != 0) {
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject* core_write_eof(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  if (self->eof_written) Py_RETURN_NONE;
  stream_core_uncork(self);
  self->eof_written = 1;
  if (self->stream != NULL) {
    weft_status status = weft_stream_shutdown(NULL, self->stream, NULL, NULL);
    if (status != WEFT_OK) {
      PyObject* exc = stream_core_status_exception(status, "cannot shut the stream down");
      if (exc != NULL) {
        PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
        Py_DECREF(exc);
      }
      return NULL;
    }
  }
  Py_RETURN_NONE;
}

/* What close() and abort() both do first: no more reading, nothing stashed
 * for the protocol, is_closing() true from now on. */
static void begin_closing(StreamCore* self) {
  self->closing = 1;
  self->close_called = 1;
  self->reading = 0;
  Py_CLEAR(self->stash);
  Py_CLEAR(self->stash_error);
  stream_core_release_lent(self);
  Py_CLEAR(self->lend_error);
  Py_CLEAR(self->fresh);
}

/* close(): stops reading; True if the stream ended now (nothing queued),
 * False if it ends once the queued writes are out (the transport's
 * _closed_when_drained() is called then). */
static PyObject* core_close(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  begin_closing(self);
  if (self->corked_len > 0 && self->stream != NULL) {
    stream_core_uncork(self);
    /* A failure to send them ended the transport (its _fatal_error): it
     * reports connection_lost itself. */
    if (self->stream == NULL) Py_RETURN_FALSE;
  }
  if (self->stream == NULL || stream_core_write_buffered(self) == 0) {
    stream_core_end_stream(self);
    Py_RETURN_TRUE;
  }
  Py_RETURN_FALSE;
}

static PyObject* core_abort(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  self->corked_len = 0;
  begin_closing(self);
  stream_core_end_stream(self);
  Py_RETURN_NONE;
}

/* detach(): drops the references to the transport and the protocol (after
 * connection_lost). */
static PyObject* core_detach(StreamCore* self, PyObject* unused) {
  (void)unused;
  Py_CLEAR(self->transport);
  Py_CLEAR(self->protocol);
  Py_CLEAR(self->data_received);
  Py_CLEAR(self->get_buffer);
  Py_CLEAR(self->buffer_updated);
  Py_RETURN_NONE;
}

static PyObject* core_write_buffer_size(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  return PyLong_FromSize_t(stream_core_write_queued(self));
}

/* notify_drained(): True if weft holds no bytes to write now; otherwise
 * False, and the transport's _write_drained() is called once it holds none
 * (not if the stream ends first: the transport learns that otherwise). */
static PyObject* core_notify_drained(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
  (void)unused;
  stream_core_uncork(self);
  if (stream_core_write_buffered(self) == 0) {
    self->drain_notify = 0;
    Py_RETURN_TRUE;
  }
  self->drain_notify = 1;
  Py_RETURN_FALSE;
}

/* is_closing(): the transport's is_closing itself (an instance attribute, as
 * write is): True once close() or abort() was called (the transport's
 * close, abort, or a fatal error).
 * asyncio's StreamWriter.drain asks it once per message. */
static PyObject* core_is_closing(StreamCore* self, PyObject* unused) {
  (void)unused;
  return PyBool_FromLong(self->close_called);
}

static PyObject* core_set_limits(StreamCore* self, PyObject* args) {
  stream_core_forget_if_loop_closed(self);
  Py_ssize_t high, low;
  if (!PyArg_ParseTuple(args, "nn:set_limits", &high, &low)) return NULL;
  if (high < low || low < 0) {
    PyErr_Format(PyExc_ValueError, "high (%zd) must be >= low (%zd) must be >= 0", high, low);
    return NULL;
  }
  self->high_water = (size_t)high;
  self->low_water = (size_t)low;
  if (self->stream != NULL && stream_core_write_queued(self) > self->high_water) {
    return stream_core_pause_if_over(self);
  }
  stream_core_maybe_resume(self);
  Py_RETURN_NONE;
}

static PyObject* core_get_reading(StreamCore* self, void* u) {
  (void)u;
  return PyBool_FromLong(self->reading && !self->closing);
}
static PyObject* core_get_closed(StreamCore* self, void* u) {
  (void)u;
  stream_core_forget_if_loop_closed(self);
  return PyBool_FromLong(self->stream == NULL);
}
static PyObject* core_get_eof_written(StreamCore* self, void* u) {
  (void)u;
  return PyBool_FromLong(self->eof_written);
}
static PyObject* core_get_protocol_paused(StreamCore* self, void* u) {
  (void)u;
  return PyBool_FromLong(self->protocol_paused);
}
static PyObject* core_get_writes_after_lost(StreamCore* self, void* u) {
  (void)u;
  return PyLong_FromSsize_t(self->writes_after_lost);
}

static int core_traverse(StreamCore* self, visitproc visit, void* arg) {
  Py_VISIT(self->loop);
  Py_VISIT(self->transport);
  Py_VISIT(self->protocol);
  Py_VISIT(self->data_received);
  Py_VISIT(self->get_buffer);
  Py_VISIT(self->buffer_updated);
  Py_VISIT(self->lent_updated);
  Py_VISIT(self->lend_error);
  return 0;
}

static int core_clear(StreamCore* self) {
  Py_CLEAR(self->transport);
  Py_CLEAR(self->protocol);
  Py_CLEAR(self->data_received);
  Py_CLEAR(self->get_buffer);
  Py_CLEAR(self->buffer_updated);
  Py_CLEAR(self->stash);
  Py_CLEAR(self->stash_error);
  stream_core_release_lent(self);
  Py_CLEAR(self->lend_error);
  Py_CLEAR(self->fresh);
  return 0;
}

static void core_dealloc(StreamCore* self) {
  PyObject_GC_UnTrack(self);
  /* Pending reads and writes hold references: none is pending now. */
  if (self->stream != NULL && self->loop != NULL) {
    weft_stream_t* stream = self->stream;
    self->stream = NULL;
    if (!self->loop->closed) weft_stream_close(stream);
  }
  core_clear(self);
  Py_CLEAR(self->loop);
  PyMem_Free(self->corked);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyMethodDef core_methods[] = {
    {"write", (PyCFunction)stream_core_write, METH_O, "Queues bytes for the peer."},
    {"set_protocol", (PyCFunction)core_set_protocol, METH_VARARGS,
     "set_protocol(protocol, buffered): where reads go."},
    {"start", (PyCFunction)core_start, METH_NOARGS, "Starts reading."},
    {"pause_reading", (PyCFunction)core_pause_reading, METH_NOARGS, NULL},
    {"resume_reading", (PyCFunction)core_resume_reading, METH_NOARGS, NULL},
    {"_flush", (PyCFunction)stream_core_flush_stash, METH_NOARGS,
     "Delivers what a paused read brought."},
    {"write_eof", (PyCFunction)core_write_eof, METH_NOARGS, "Shuts the writing side down."},
    {"close", (PyCFunction)core_close, METH_NOARGS,
     "Stops reading; True if ended now, False once the writes are out."},
    {"abort", (PyCFunction)core_abort, METH_NOARGS, "Ends the stream now (queued bytes dropped)."},
    {"detach", (PyCFunction)core_detach, METH_NOARGS, "Drops the transport and protocol."},
    {"write_buffer_size", (PyCFunction)core_write_buffer_size, METH_NOARGS, NULL},
    {"notify_drained", (PyCFunction)core_notify_drained, METH_NOARGS,
     "True if nothing is queued; else _write_drained() is called once nothing is."},
    {"is_closing", (PyCFunction)core_is_closing, METH_NOARGS, "close() or abort() was called."},
    {"set_limits", (PyCFunction)core_set_limits, METH_VARARGS, "set_limits(high, low)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef core_getset[] = {
    {"reading", (getter)core_get_reading, NULL, NULL, NULL},
    {"closed", (getter)core_get_closed, NULL, NULL, NULL},
    {"eof_written", (getter)core_get_eof_written, NULL, NULL, NULL},
    {"protocol_paused", (getter)core_get_protocol_paused, NULL, NULL, NULL},
    {"writes_after_lost", (getter)core_get_writes_after_lost, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject StreamCore_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.StreamCore",
    .tp_basicsize = sizeof(StreamCore),
    .tp_dealloc = (destructor)core_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A socket transport's weft stream: reads into the protocol, writes.",
    .tp_traverse = (traverseproc)core_traverse,
    .tp_clear = (inquiry)core_clear,
    .tp_methods = core_methods,
    .tp_getset = core_getset,
    .tp_new = core_new,
};

int weft_py_stream_transport_init(PyObject* module) {
  if (PyType_Ready(&StreamCore_Type) < 0) return -1;
  return PyModule_AddObjectRef(module, "StreamCore", (PyObject*)&StreamCore_Type);
}
