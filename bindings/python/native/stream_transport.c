/* native/stream_transport.c: weft._capi.StreamCore, the hot half of
 * weft.transports.SocketTransport. It adopts a connected socket's
 * descriptor as a weft stream (weft_pipe_open on a dup the transport hands
 * over), keeps one weft_stream_read pending while the transport reads and
 * hands each chunk to the protocol at once (data_received, or
 * get_buffer/buffer_updated for a BufferedProtocol), and writes with
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
 * uvloop gathers them. They count in the write buffer size and the flow
 * control at once; a failure to send them is reported when they go out, as
 * a later write's would be. Writes from anywhere else (a protocol's
 * data_received, a reader callback) are sent at once.
 *
 * Thread: loop thread, GIL held (weft callbacks take it back as fdwatch.c's
 * do). Ownership: the core owns its weft stream (ended by close(), abort(),
 * or deallocation), and strong references to the loop, the transport and the
 * protocol (a cycle the collector sees, broken by detach()). Each pending
 * weft read or write owns one reference to the core.
 */
#include "native/loop.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What one weft_stream_read asks for (asyncio's sockets read 256 KiB). */
#define READ_CHUNK ((size_t)256 * 1024)
/* The most a batch's writes gather before they are sent (larger ones go at
 * once, after what was gathered). */
#define CORK_LIMIT ((size_t)64 * 1024)

typedef struct {
  PyObject_HEAD
  WeftPyLoop* loop;
  weft_stream_t* stream; /* NULL once ended */
  int fd;                /* the stream's descriptor (weft's): direct sends */
  char direct_send;      /* send(2) first while weft queues nothing */
  PyObject* transport;   /* NULL once detached */
  PyObject* protocol;
  PyObject* data_received;  /* bound method; NULL for a BufferedProtocol */
  PyObject* get_buffer;     /* bound methods of a BufferedProtocol */
  PyObject* buffer_updated;
  PyObject* stash;          /* bytes a read brought while reading was paused */
  PyObject* stash_error;    /* the failure a read brought while paused */
  int stash_eof;            /* the end of the stream, likewise */
  size_t high_water, low_water;
  Py_ssize_t writes_after_lost;
  char started;       /* start() was called: reads may be armed */
  char reading;       /* not paused */
  char read_pending;
  char eof_seen;      /* the end of the stream was delivered: no more reads */
  char eof_written;
  char closing;       /* close(): ends once the queued writes are out */
  char close_called;  /* close() or abort() was called: is_closing() */
  char protocol_paused;
  char flush_scheduled;
  char drain_notify;  /* notify_drained(): call _write_drained() when empty */
  char corked_listed; /* in the corked list below (it holds a reference) */
  char* corked;       /* bytes written during a batch, not sent yet */
  size_t corked_len, corked_cap;
} StreamCore;

/* The cores with corked bytes (each listed once, holding a reference), of
 * every loop: the GIL guards it; a loop flushes its own at a batch's end. */
static StreamCore** corked_cores;
static size_t corked_count, corked_capacity;

static PyTypeObject StreamCore_Type;

/* -- helpers ----------------------------------------------------------------- */

typedef struct {
  int ensured;
  PyGILState_STATE state;
} gil_hold;

static void gil_take(WeftPyLoop* loop, gil_hold* g) {
  weft_py_gil_claim(loop);
  g->ensured = 0;
  if (!PyGILState_Check()) {
    g->state = PyGILState_Ensure();
    g->ensured = 1;
  }
}

static void gil_give(gil_hold* g) {
  if (g->ensured) PyGILState_Release(g->state);
}

/* An OSError (the errno subclass: ConnectionResetError, BrokenPipeError...)
 * for a weft status. New reference, or NULL with an error set. */
static PyObject* status_exception(weft_status status, const char* message) {
  int err;
  switch (status) {
    case WEFT_ERR_CONNECTION_RESET: err = ECONNRESET; break;
    case WEFT_ERR_BROKEN_PIPE: err = EPIPE; break;
    case WEFT_ERR_CONNECTION_ABORTED: err = ECONNABORTED; break;
    case WEFT_ERR_CONNECTION_REFUSED: err = ECONNREFUSED; break;
    case WEFT_ERR_TIMED_OUT: err = ETIMEDOUT; break;
    case WEFT_ERR_NOT_CONNECTED: err = ENOTCONN; break;
    case WEFT_ERR_HOST_UNREACHABLE: err = EHOSTUNREACH; break;
    case WEFT_ERR_NETWORK_UNREACHABLE: err = ENETUNREACH; break;
    case WEFT_ERR_NO_MEMORY: err = ENOMEM; break;
    default: err = EIO; break;
  }
  return PyObject_CallFunction(PyExc_OSError, "is", err,
                               message != NULL ? message : weft_status_name(status));
}

/* With a Python error set: KeyboardInterrupt and SystemExit stop the loop and
 * leave run_forever (as a callback's do); anything else is taken (*exc, new
 * reference) for the caller to report. Returns 1 when *exc was set. */
static int take_error(StreamCore* self, PyObject** exc) {
  WeftPyLoop* loop = self->loop;
  *exc = NULL;
  if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
      PyErr_ExceptionMatches(PyExc_SystemExit)) {
    if (loop->exc_type == NULL) {
      PyErr_Fetch(&loop->exc_type, &loop->exc_value, &loop->exc_tb);
      PyErr_NormalizeException(&loop->exc_type, &loop->exc_value, &loop->exc_tb);
      if (loop->exc_tb != NULL) PyException_SetTraceback(loop->exc_value, loop->exc_tb);
    } else {
      PyErr_Clear();
    }
    loop->stopping = 1;
    if (loop->owns_runtime && loop->running) weft_loop_stop(loop->wloop);
    return 0;
  }
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  *exc = value;
  return value != NULL;
}

/* Calls transport.<name>(args...) for a rare path; errors are handled as a
 * callback's (take_error), the rest written as unraisable. */
static void call_transport(StreamCore* self, const char* name, PyObject* a, const char* b) {
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
    if (take_error(self, &exc)) {
      PyErr_Restore(Py_NewRef((PyObject*)Py_TYPE(exc)), exc, NULL);
      PyErr_WriteUnraisable(transport);
    }
  }
  Py_XDECREF(r);
  Py_DECREF(transport);
}

/* The protocol failed in `what`: report it through the transport
 * (_fatal_error closes it). */
static void protocol_failed(StreamCore* self, const char* message) {
  PyObject* exc;
  if (!take_error(self, &exc)) return;
  call_transport(self, "_fatal_error", exc, message);
  Py_DECREF(exc);
}

/* Once the loop is closed its runtime may be gone with the stream: the
 * core forgets the stream then and never touches it again (a runtime's
 * destruction ends its streams; a host destroys its runtime after closing
 * the loop). Called first by every method Python calls. */
static void forget_if_loop_closed(StreamCore* self) {
  if (self->stream != NULL && self->loop->closed) {
    self->stream = NULL;
    self->closing = 1;
    self->reading = 0;
  }
}

static size_t write_buffered(StreamCore* self) {
  size_t n = 0;
  if (self->stream != NULL) weft_stream_write_buffered(&n, self->stream);
  return n;
}

/* What the transport holds for the peer: weft's queue and the corked bytes. */
static size_t write_queued(StreamCore* self) {
  return write_buffered(self) + (self->stream != NULL ? self->corked_len : 0);
}

/* Ends the weft stream now: pending reads and writes are called back
 * (cancelled) inside weft_stream_close. */
static void end_stream(StreamCore* self) {
  weft_stream_t* stream = self->stream;
  if (stream == NULL) return;
  self->stream = NULL;
  Py_INCREF(self);
  if (!self->loop->closed) weft_stream_close(stream);
  Py_DECREF(self);
}

/* -- reading -------------------------------------------------------------------- */

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len);

/* Keeps one read pending while the transport reads. 0, or -1 with an error. */
static int arm_read(StreamCore* self) {
  if (self->read_pending || !self->started || !self->reading || self->closing ||
      self->eof_seen || self->stream == NULL || self->stash != NULL ||
      self->stash_error != NULL || self->stash_eof) {
    return 0;
  }
  Py_INCREF(self);
  weft_status status = weft_stream_read(NULL, self->stream, READ_CHUNK, on_read, self);
  if (status != WEFT_OK) {
    Py_DECREF(self);
    PyObject* exc = status_exception(status, "cannot read from the stream");
    if (exc != NULL) {
      PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
      Py_DECREF(exc);
    }
    return -1;
  }
  self->read_pending = 1;
  return 0;
}

/* Hands `len` bytes to a BufferedProtocol, as many get_buffer calls as it
 * takes. Returns how many bytes it took (less than len when the protocol
 * paused reading or the transport closed in between), or -1 after reporting
 * a protocol failure. */
static Py_ssize_t deliver_buffered(StreamCore* self, const char* bytes, size_t len) {
  size_t taken = 0;
  while (taken < len) {
    PyObject* hint = PyLong_FromLong(-1);
    PyObject* buffer = hint == NULL ? NULL : PyObject_CallOneArg(self->get_buffer, hint);
    Py_XDECREF(hint);
    if (buffer == NULL) {
      protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
      return -1;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE) != 0) {
      Py_DECREF(buffer);
      protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
      return -1;
    }
    if (view.len <= 0) {
      PyBuffer_Release(&view);
      Py_DECREF(buffer);
      PyErr_SetString(PyExc_RuntimeError, "get_buffer() returned an empty buffer");
      protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
      return -1;
    }
    size_t n = len - taken;
    if ((size_t)view.len < n) n = (size_t)view.len;
    memcpy(view.buf, bytes + taken, n);
    PyBuffer_Release(&view);
    Py_DECREF(buffer);
    taken += n;
    PyObject* count = PyLong_FromSize_t(n);
    PyObject* r = count == NULL ? NULL : PyObject_CallOneArg(self->buffer_updated, count);
    Py_XDECREF(count);
    if (r == NULL) {
      protocol_failed(self, "Fatal error: protocol.buffer_updated() call failed.");
      return -1;
    }
    Py_DECREF(r);
    if (!self->reading || self->closing || self->stream == NULL) break;
  }
  return (Py_ssize_t)taken;
}

/* Delivers bytes to the protocol. Bytes a BufferedProtocol did not take
 * because it paused reading meanwhile are stashed for resume_reading. */
static void deliver_bytes(StreamCore* self, const char* bytes, size_t len, PyObject* as_object) {
  if (self->protocol == NULL) return;
  if (self->get_buffer != NULL) {
    Py_ssize_t taken = deliver_buffered(self, bytes, len);
    if (taken >= 0 && (size_t)taken < len && !self->closing && self->stream != NULL) {
      self->stash = PyBytes_FromStringAndSize(bytes + taken, (Py_ssize_t)(len - (size_t)taken));
      if (self->stash == NULL) PyErr_WriteUnraisable((PyObject*)self);
    }
    return;
  }
  PyObject* data = as_object;
  if (data != NULL) {
    Py_INCREF(data);
  } else {
    data = PyBytes_FromStringAndSize(bytes, (Py_ssize_t)len);
    if (data == NULL) {
      protocol_failed(self, "Fatal error: cannot allocate the bytes read.");
      return;
    }
  }
  PyObject* r = PyObject_CallOneArg(self->data_received, data);
  Py_DECREF(data);
  if (r == NULL) {
    protocol_failed(self, "Fatal error: protocol.data_received() call failed.");
    return;
  }
  Py_DECREF(r);
}

static void deliver_eof(StreamCore* self) {
  self->eof_seen = 1;
  call_transport(self, "_eof_received", NULL, NULL);
}

static void deliver_error(StreamCore* self, PyObject* exc) {
  self->eof_seen = 1;
  call_transport(self, "_fatal_error", exc, "Fatal read error on socket transport");
}

/* asyncio's running loop is set while a host steps the loop only inside a
 * batch; a read delivered outside one sets it for the delivery. */
static PyObject* enter_hosted(WeftPyLoop* loop) {
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

static void leave_hosted(WeftPyLoop* loop, PyObject* previous) {
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

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  StreamCore* self = user;
  gil_hold g;
  gil_take(self->loop, &g);
  self->read_pending = 0;
  if (status == WEFT_ERR_CANCELLED || self->stream == NULL || self->closing) goto done;
  PyObject* previous = enter_hosted(self->loop);
  if (!self->reading) {
    /* Paused after this read was asked for: keep what it brought. */
    if (status == WEFT_OK) {
      self->stash = PyBytes_FromStringAndSize(bytes, (Py_ssize_t)len);
      if (self->stash == NULL) PyErr_WriteUnraisable((PyObject*)self);
    } else if (status == WEFT_ERR_END_OF_FILE) {
      self->stash_eof = 1;
    } else {
      self->stash_error = status_exception(status, message);
      if (self->stash_error == NULL) PyErr_WriteUnraisable((PyObject*)self);
    }
  } else if (status == WEFT_OK) {
    deliver_bytes(self, bytes, len, NULL);
    if (arm_read(self) != 0) protocol_failed(self, "Fatal read error on socket transport");
  } else if (status == WEFT_ERR_END_OF_FILE) {
    deliver_eof(self);
  } else {
    PyObject* exc = status_exception(status, message);
    if (exc == NULL) {
      PyErr_WriteUnraisable((PyObject*)self);
    } else {
      deliver_error(self, exc);
      Py_DECREF(exc);
    }
  }
  leave_hosted(self->loop, previous);
done:
  Py_DECREF(self);
  gil_give(&g);
}

/* Delivers what a paused read brought (scheduled by resume_reading with
 * call_soon, never inside it), then reads on. */
static PyObject* core_flush(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  self->flush_scheduled = 0;
  if (!self->reading || self->closing || self->stream == NULL) Py_RETURN_NONE;
  PyObject* stash = self->stash;
  self->stash = NULL;
  if (stash != NULL) {
    deliver_bytes(self, PyBytes_AS_STRING(stash), (size_t)PyBytes_GET_SIZE(stash), stash);
    Py_DECREF(stash);
    if (self->stash != NULL || !self->reading || self->closing || self->stream == NULL) {
      Py_RETURN_NONE;
    }
  }
  if (self->stash_eof) {
    self->stash_eof = 0;
    deliver_eof(self);
    Py_RETURN_NONE;
  }
  if (self->stash_error != NULL) {
    PyObject* exc = self->stash_error;
    self->stash_error = NULL;
    deliver_error(self, exc);
    Py_DECREF(exc);
    Py_RETURN_NONE;
  }
  if (arm_read(self) != 0) return NULL;
  Py_RETURN_NONE;
}

static int schedule_flush(StreamCore* self) {
  if (self->flush_scheduled) return 0;
  PyObject* flush = PyObject_GetAttrString((PyObject*)self, "_flush");
  if (flush == NULL) return -1;
  PyObject* r = PyObject_CallMethod((PyObject*)self->loop, "call_soon", "O", flush);
  Py_DECREF(flush);
  if (r == NULL) return -1;
  Py_DECREF(r);
  self->flush_scheduled = 1;
  return 0;
}

/* -- writing -------------------------------------------------------------------- */

static void protocol_flow(StreamCore* self, const char* method, const char* message) {
  if (self->protocol == NULL) return;
  PyObject* r = PyObject_CallMethod(self->protocol, method, NULL);
  if (r != NULL) {
    Py_DECREF(r);
    return;
  }
  PyObject* exc;
  if (!take_error(self, &exc)) return;
  call_transport(self, "_flow_control_error", exc, message);
  Py_DECREF(exc);
}

static void maybe_resume(StreamCore* self) {
  if (!self->protocol_paused) return;
  if (write_queued(self) > self->low_water) return;
  self->protocol_paused = 0;
  protocol_flow(self, "resume_writing", "protocol.resume_writing() failed");
}

static void on_written(void* user, weft_status status, const char* message) {
  StreamCore* self = user;
  gil_hold g;
  gil_take(self->loop, &g);
  if (status == WEFT_ERR_CANCELLED || self->stream == NULL) {
    /* Ended: nothing to report. */
  } else if (status != WEFT_OK) {
    PyObject* exc = status_exception(status, message);
    if (exc == NULL) {
      PyErr_WriteUnraisable((PyObject*)self);
    } else {
      call_transport(self, "_fatal_error", exc, "Fatal write error on socket transport");
      Py_DECREF(exc);
    }
  } else {
    PyObject* previous = enter_hosted(self->loop);
    maybe_resume(self);
    if (self->drain_notify && self->stream != NULL && write_buffered(self) == 0) {
      self->drain_notify = 0;
      call_transport(self, "_write_drained", NULL, NULL);
    }
    if (self->closing && self->stream != NULL && write_buffered(self) == 0) {
      end_stream(self);
      call_transport(self, "_closed_when_drained", NULL, NULL);
    }
    leave_hosted(self->loop, previous);
  }
  Py_DECREF(self);
  gil_give(&g);
}

/* pause_writing once more than the high-water mark is queued. Returns None,
 * or NULL for a KeyboardInterrupt/SystemExit to raise from write(). */
static PyObject* pause_if_over(StreamCore* self) {
  if (!self->protocol_paused && self->protocol != NULL && write_queued(self) > self->high_water) {
    self->protocol_paused = 1;
    PyObject* r = PyObject_CallMethod(self->protocol, "pause_writing", NULL);
    if (r == NULL) {
      if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
          PyErr_ExceptionMatches(PyExc_SystemExit)) {
        return NULL; /* raised from write(), as asyncio does */
      }
      PyObject* exc;
      if (take_error(self, &exc)) {
        call_transport(self, "_flow_control_error", exc, "protocol.pause_writing() failed");
        Py_DECREF(exc);
      }
    }
    Py_XDECREF(r);
  }
  Py_RETURN_NONE;
}

/* Appends to the corked bytes and lists the core. 0, or -1 with an error. */
static int cork(StreamCore* self, const char* bytes, size_t len) {
  if (self->corked_len + len > self->corked_cap) {
    size_t cap = self->corked_cap ? self->corked_cap : 4096;
    while (cap < self->corked_len + len) cap *= 2;
    char* grown = PyMem_Realloc(self->corked, cap);
    if (grown == NULL) {
      PyErr_NoMemory();
      return -1;
    }
    self->corked = grown;
    self->corked_cap = cap;
  }
  if (!self->corked_listed) {
    if (corked_count == corked_capacity) {
      size_t cap = corked_capacity ? corked_capacity * 2 : 64;
      StreamCore** grown = PyMem_Realloc(corked_cores, cap * sizeof(*grown));
      if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
      }
      corked_cores = grown;
      corked_capacity = cap;
    }
    Py_INCREF(self);
    corked_cores[corked_count++] = self;
    self->corked_listed = 1;
  }
  memcpy(self->corked + self->corked_len, bytes, len);
  self->corked_len += len;
  return 0;
}

/* Sends the corked bytes: what the kernel takes now, the rest queued in
 * weft (a failure goes to the transport's _fatal_error). Then
 * resume_writing if the queue fell to the low-water mark. */
static void uncork(StreamCore* self) {
  size_t len = self->corked_len;
  self->corked_len = 0;
  if (len == 0 || self->stream == NULL) return;
  const char* bytes = self->corked;
  size_t sent = 0;
  if (self->direct_send && write_buffered(self) == 0) {
    ssize_t n;
    do {
      n = send(self->fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      if (err == ENOTSOCK) {
        self->direct_send = 0;
      } else if (err != EAGAIN && err != EWOULDBLOCK) {
        PyObject* exc = PyObject_CallFunction(PyExc_OSError, "is", err, strerror(err));
        if (exc == NULL) {
          PyErr_WriteUnraisable((PyObject*)self);
          return;
        }
        call_transport(self, "_fatal_error", exc, "Fatal write error on socket transport");
        Py_DECREF(exc);
        return;
      }
      n = 0;
    }
    sent = (size_t)n;
  }
  if (sent < len) {
    Py_INCREF(self);
    weft_status status =
        weft_stream_write(NULL, self->stream, bytes + sent, len - sent, on_written, self);
    if (status != WEFT_OK) {
      Py_DECREF(self);
      PyObject* exc = status_exception(status, "cannot write to the stream");
      if (exc == NULL) {
        PyErr_WriteUnraisable((PyObject*)self);
        return;
      }
      call_transport(self, "_fatal_error", exc, "Fatal write error on socket transport");
      Py_DECREF(exc);
      return;
    }
  }
  maybe_resume(self);
}

void weft_py_stream_flush_writes(WeftPyLoop* loop) {
  /* Python runs inside (resume_writing, errors) and may cork again or list
   * more: this loop's entries are taken out first. */
  size_t mine = 0;
  for (size_t i = 0; i < corked_count; i++) {
    if (corked_cores[i]->loop == loop) mine++;
  }
  if (mine == 0) return;
  StreamCore* local[16];
  StreamCore** taken = mine <= 16 ? local : PyMem_Malloc(mine * sizeof(*taken));
  if (taken == NULL) {
    PyErr_WriteUnraisable((PyObject*)loop);
    return; /* stays listed: the next batch's end sends it */
  }
  size_t kept = 0, n = 0;
  for (size_t i = 0; i < corked_count; i++) {
    StreamCore* core = corked_cores[i];
    if (core->loop == loop) {
      taken[n++] = core;
    } else {
      corked_cores[kept++] = core;
    }
  }
  corked_count = kept;
  for (size_t i = 0; i < n; i++) {
    StreamCore* core = taken[i];
    core->corked_listed = 0;
    forget_if_loop_closed(core);
    uncork(core);
    Py_DECREF(core);
  }
  if (taken != local) PyMem_Free(taken);
}

static PyObject* core_write(StreamCore* self, PyObject* data) {
  forget_if_loop_closed(self);
  if (!PyBytes_Check(data) && !PyByteArray_Check(data) && !PyMemoryView_Check(data)) {
    PyErr_Format(PyExc_TypeError, "data argument must be a bytes-like object, not '%.100s'",
                 Py_TYPE(data)->tp_name);
    return NULL;
  }
  if (self->eof_written) {
    PyErr_SetString(PyExc_RuntimeError, "Cannot call write() after write_eof()");
    return NULL;
  }
  const char* bytes;
  Py_ssize_t len;
  Py_buffer view;
  int has_view = 0;
  if (PyBytes_CheckExact(data)) {
    bytes = PyBytes_AS_STRING(data);
    len = PyBytes_GET_SIZE(data);
  } else {
    if (PyObject_GetBuffer(data, &view, PyBUF_C_CONTIGUOUS) != 0) return NULL;
    has_view = 1;
    bytes = view.buf;
    len = view.len;
  }
  if (len == 0) {
    if (has_view) PyBuffer_Release(&view);
    Py_RETURN_NONE;
  }
  /* Bytes corked in a batch go first (a batch's end normally sent them). */
  if (self->corked_len > 0 && !self->loop->in_batch) uncork(self);
  if (self->stream == NULL) {
    if (has_view) PyBuffer_Release(&view);
    self->writes_after_lost++;
    call_transport(self, "_write_after_lost", NULL, NULL);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
  }
  if (self->loop->in_batch && self->direct_send &&
      (self->corked_len > 0 || write_buffered(self) == 0)) {
    if (self->corked_len + (size_t)len <= CORK_LIMIT) {
      /* In a batch: gathered, sent when the batch ends. */
      int corked = cork(self, bytes, (size_t)len);
      if (has_view) PyBuffer_Release(&view);
      if (corked != 0) return NULL;
      return pause_if_over(self);
    }
    /* Too much to gather: what was gathered goes first, this one after. */
    uncork(self);
    if (self->stream == NULL) { /* sending failed: reported (_fatal_error) */
      if (has_view) PyBuffer_Release(&view);
      if (PyErr_Occurred()) return NULL;
      Py_RETURN_NONE;
    }
  }
  if (self->direct_send && write_buffered(self) == 0) {
    /* Nothing queued in weft: what the kernel takes now goes out in order,
     * with no weft write to complete, and a failure is known now (as
     * asyncio's write knows it). Only the rest is queued in weft. */
    ssize_t sent;
    do {
      sent = send(self->fd, bytes, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        sent = 0;
      } else if (err == ENOTSOCK) {
        self->direct_send = 0; /* not a socket: weft writes it all */
        sent = 0;
      } else {
        if (has_view) PyBuffer_Release(&view);
        PyObject* exc = PyObject_CallFunction(PyExc_OSError, "is", err, strerror(err));
        if (exc == NULL) return NULL;
        call_transport(self, "_fatal_error", exc, "Fatal write error on socket transport");
        Py_DECREF(exc);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
      }
    }
    bytes += sent;
    len -= sent;
    if (len == 0) {
      if (has_view) PyBuffer_Release(&view);
      Py_RETURN_NONE;
    }
  }
  Py_INCREF(self);
  weft_status status = weft_stream_write(NULL, self->stream, bytes, (size_t)len, on_written, self);
  if (has_view) PyBuffer_Release(&view);
  if (status != WEFT_OK) {
    Py_DECREF(self);
    PyObject* exc = status_exception(status, "cannot write to the stream");
    if (exc != NULL) {
      PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
      Py_DECREF(exc);
    }
    return NULL;
  }
  return pause_if_over(self);
}

/* -- the Python surface ------------------------------------------------------------ */

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
  Py_XSETREF(self->get_buffer, get_buffer);
  Py_XSETREF(self->buffer_updated, buffer_updated);
  Py_RETURN_NONE;
}

static PyObject* core_start(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  self->started = 1;
  if (arm_read(self) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* core_pause_reading(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  self->reading = 0;
  Py_RETURN_NONE;
}

static PyObject* core_resume_reading(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  if (self->reading || self->closing) Py_RETURN_NONE;
  self->reading = 1;
  if (self->stash != NULL || self->stash_eof || self->stash_error != NULL) {
    if (schedule_flush(self) != 0) return NULL;
  } else if (arm_read(self) != 0) {
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject* core_write_eof(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  if (self->eof_written) Py_RETURN_NONE;
  uncork(self);
  self->eof_written = 1;
  if (self->stream != NULL) {
    weft_status status = weft_stream_shutdown(NULL, self->stream, NULL, NULL);
    if (status != WEFT_OK) {
      PyObject* exc = status_exception(status, "cannot shut the stream down");
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
}

/* close(): stops reading; True if the stream ended now (nothing queued),
 * False if it ends once the queued writes are out (the transport's
 * _closed_when_drained() is called then). */
static PyObject* core_close(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  begin_closing(self);
  if (self->corked_len > 0 && self->stream != NULL) {
    uncork(self);
    /* A failure to send them ended the transport (its _fatal_error): it
     * reports connection_lost itself. */
    if (self->stream == NULL) Py_RETURN_FALSE;
  }
  if (self->stream == NULL || write_buffered(self) == 0) {
    end_stream(self);
    Py_RETURN_TRUE;
  }
  Py_RETURN_FALSE;
}

static PyObject* core_abort(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  self->corked_len = 0;
  begin_closing(self);
  end_stream(self);
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
  forget_if_loop_closed(self);
  (void)unused;
  return PyLong_FromSize_t(write_queued(self));
}

/* notify_drained(): True if weft holds no bytes to write now; otherwise
 * False, and the transport's _write_drained() is called once it holds none
 * (not if the stream ends first: the transport learns that otherwise). */
static PyObject* core_notify_drained(StreamCore* self, PyObject* unused) {
  forget_if_loop_closed(self);
  (void)unused;
  uncork(self);
  if (write_buffered(self) == 0) {
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
  forget_if_loop_closed(self);
  Py_ssize_t high, low;
  if (!PyArg_ParseTuple(args, "nn:set_limits", &high, &low)) return NULL;
  if (high < low || low < 0) {
    PyErr_Format(PyExc_ValueError, "high (%zd) must be >= low (%zd) must be >= 0", high, low);
    return NULL;
  }
  self->high_water = (size_t)high;
  self->low_water = (size_t)low;
  if (!self->protocol_paused && self->stream != NULL && write_queued(self) > self->high_water) {
    self->protocol_paused = 1;
    PyObject* r = PyObject_CallMethod(self->protocol, "pause_writing", NULL);
    if (r == NULL) {
      if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
          PyErr_ExceptionMatches(PyExc_SystemExit)) {
        return NULL;
      }
      PyObject* exc;
      if (take_error(self, &exc)) {
        call_transport(self, "_flow_control_error", exc, "protocol.pause_writing() failed");
        Py_DECREF(exc);
      }
    }
    Py_XDECREF(r);
  } else {
    maybe_resume(self);
  }
  Py_RETURN_NONE;
}

static PyObject* core_get_reading(StreamCore* self, void* u) {
  (void)u;
  return PyBool_FromLong(self->reading && !self->closing);
}
static PyObject* core_get_closed(StreamCore* self, void* u) {
  (void)u;
  forget_if_loop_closed(self);
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
    {"write", (PyCFunction)core_write, METH_O, "Queues bytes for the peer."},
    {"set_protocol", (PyCFunction)core_set_protocol, METH_VARARGS,
     "set_protocol(protocol, buffered): where reads go."},
    {"start", (PyCFunction)core_start, METH_NOARGS, "Starts reading."},
    {"pause_reading", (PyCFunction)core_pause_reading, METH_NOARGS, NULL},
    {"resume_reading", (PyCFunction)core_resume_reading, METH_NOARGS, NULL},
    {"_flush", (PyCFunction)core_flush, METH_NOARGS, "Delivers what a paused read brought."},
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
