/* native/stream_core.c: the helpers StreamCore's read side, write side and
 * Python type share (stream_core.h): the GIL in weft callbacks, weft
 * statuses as OSError, errors raised by the protocol, calls into the
 * transport's rare-path methods, the write queue's size, ending the stream,
 * and asyncio's running loop around a hosted delivery.
 * Thread: loop thread, GIL held (or taken by stream_core_gil_take). */
#include "native/stream_core.h"

#include <errno.h>

void stream_core_gil_take(WeftPyLoop* loop, gil_hold* g) {
  weft_py_gil_claim(loop);
  g->ensured = 0;
  if (!PyGILState_Check()) {
    g->state = PyGILState_Ensure();
    g->ensured = 1;
  }
}

void stream_core_gil_give(gil_hold* g) {
  if (g->ensured) PyGILState_Release(g->state);
}

/* An OSError (the errno subclass: ConnectionResetError, BrokenPipeError...)
 * for a weft status. New reference, or NULL with an error set. */
PyObject* stream_core_status_exception(weft_status status, const char* message) {
  int err;
  switch (status) {
    case WEFT_ERR_CONNECTION_RESET:
      err = ECONNRESET;
      break;
    case WEFT_ERR_BROKEN_PIPE:
      err = EPIPE;
      break;
    case WEFT_ERR_CONNECTION_ABORTED:
      err = ECONNABORTED;
      break;
    case WEFT_ERR_CONNECTION_REFUSED:
      err = ECONNREFUSED;
      break;
    case WEFT_ERR_TIMED_OUT:
      err = ETIMEDOUT;
      break;
    case WEFT_ERR_NOT_CONNECTED:
      err = ENOTCONN;
      break;
    case WEFT_ERR_HOST_UNREACHABLE:
      err = EHOSTUNREACH;
      break;
    case WEFT_ERR_NETWORK_UNREACHABLE:
      err = ENETUNREACH;
      break;
    case WEFT_ERR_NO_MEMORY:
      err = ENOMEM;
      break;
    default:
      err = EIO;
      break;
  }
  return PyObject_CallFunction(PyExc_OSError, "is", err,
                               message != NULL ? message : weft_status_name(status));
}

/* With a Python error set: KeyboardInterrupt and SystemExit stop the loop and
 * leave run_forever (as a callback's do); anything else is taken (*exc, new
 * reference) for the caller to report. Returns 1 when *exc was set. */
int stream_core_take_error(StreamCore* self, PyObject** exc) {
  WeftPyLoop* loop = self->loop;
  *exc = NULL;
  if (weft_py_keep_exit_exception(loop)) {
    loop->stopping = 1;
    if (loop->owns_runtime && loop->running) weft_loop_stop(loop->wloop);
    return 0;
  }
  *exc = weft_py_take_exception();
  return *exc != NULL;
}

/* Calls transport.<name>(args...) for a rare path; errors are handled as a
 * callback's (stream_core_take_error), the rest written as unraisable. */
void stream_core_call_transport(StreamCore* self, const char* name, PyObject* a, const char* b) {
  if (self->transport == NULL) return;
  PyObject* transport = self->transport;
  Py_INCREF(transport);
  PyObject* r;
  if (a == NULL) {
    r = PyObject_CallMethod(transport, name, NULL);
  } else if (b == NULL) {
    r = PyObject_CallMethod(transport, name, "O", a);
  } else {
    r = PyObject_CallMethod(transport, name, "Os", a, b);
  }
  if (r == NULL) {
    PyObject* exc;
    if (stream_core_take_error(self, &exc)) {
      PyErr_Restore(Py_NewRef((PyObject*)Py_TYPE(exc)), exc, NULL);
      PyErr_WriteUnraisable(transport);
    }
  }
  Py_XDECREF(r);
  Py_DECREF(transport);
}

/* The protocol failed in `what`: report it through the transport
 * (_fatal_error closes it). */
void stream_core_protocol_failed(StreamCore* self, const char* message) {
  PyObject* exc;
  if (!stream_core_take_error(self, &exc)) return;
  stream_core_call_transport(self, "_fatal_error", exc, message);
  Py_DECREF(exc);
}

/* Once the loop is closed its runtime may be gone with the stream: the
 * core forgets the stream then and never touches it again (a runtime's
 * destruction ends its streams; a host destroys its runtime after closing
 * the loop). Called first by every method Python calls. */
void stream_core_forget_if_loop_closed(StreamCore* self) {
  if (self->stream != NULL && self->loop->closed) {
    self->stream = NULL;
    self->closing = 1;
    self->reading = 0;
  }
}

size_t stream_core_write_buffered(StreamCore* self) {
  size_t n = 0;
  if (self->stream != NULL && self->weft_writes > 0) weft_stream_write_buffered(&n, self->stream);
  return n;
}

/* What the transport holds for the peer: weft's queue and the corked bytes. */
size_t stream_core_write_queued(StreamCore* self) {
  return stream_core_write_buffered(self) + (self->stream != NULL ? self->corked_len : 0);
}

/* Ends the weft stream now: pending reads and writes are called back
 * (cancelled) inside weft_stream_close. */
void stream_core_end_stream(StreamCore* self) {
  weft_stream_t* stream = self->stream;
  if (stream == NULL) return;
  self->stream = NULL;
  Py_INCREF(self);
  if (!self->loop->closed) weft_stream_close(stream);
  Py_DECREF(self);
}

/* asyncio's running loop is set while a host steps the loop only inside a
 * batch; a read delivered outside one sets it for the delivery. */
PyObject* stream_core_enter_hosted(WeftPyLoop* loop) {
  if (loop->owns_runtime || weft_py_set_running_loop == NULL) return NULL;
  PyObject* previous = PyObject_CallNoArgs(weft_py_get_running_loop);
  if (previous == NULL) {
    PyErr_WriteUnraisable((PyObject*)loop);
    return NULL;
  }
  if (previous != (PyObject*)loop) {
    PyObject* r = PyObject_CallOneArg(weft_py_set_running_loop, (PyObject*)loop);
    if (r == NULL) PyErr_WriteUnraisable((PyObject*)loop);
    Py_XDECREF(r);
  }
  return previous;
}

void stream_core_leave_hosted(WeftPyLoop* loop, PyObject* previous) {
  if (previous == NULL) return;
  if (previous != (PyObject*)loop) {
    PyObject* r = PyObject_CallOneArg(weft_py_set_running_loop, previous);
    if (r == NULL) PyErr_WriteUnraisable((PyObject*)loop);
    Py_XDECREF(r);
  }
  Py_DECREF(previous);
  if (loop->exc_type != NULL) {
    PyErr_Restore(loop->exc_type, loop->exc_value, loop->exc_tb);
    loop->exc_type = loop->exc_value = loop->exc_tb = NULL;
    PyErr_WriteUnraisable((PyObject*)loop);
  }
}
