/* native/stream_write.c: StreamCore's write side. write() sends what the
 * kernel takes at once while weft queues nothing (send(2) on the stream's
 * descriptor), queues the rest with weft_stream_write, and during a batch of
 * ready callbacks gathers ("corks") writes, sent together when the batch
 * ends (weft_py_stream_flush_writes); a write of CORK_DIRECT bytes or more
 * with nothing gathered before it is sent at once instead. Flow control as asyncio's:
 * pause_writing above the high-water mark, resume_writing at or below the
 * low-water mark.
 * Thread: loop thread, GIL held. Each pending weft write owns a reference
 * to the core; each listed corked core one more. */
#include "native/stream_core.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* The cores with corked bytes (each listed once, holding a reference), of
 * every loop: the GIL guards it; a loop flushes its own at a batch's end. */
static StreamCore** corked_cores;
static size_t corked_count, corked_capacity;

static void protocol_flow(StreamCore* self, const char* method, const char* message) {
  if (self->protocol == NULL) return;
  PyObject* r = PyObject_CallMethod(self->protocol, method, NULL);
  if (r != NULL) {
    Py_DECREF(r);
    return;
  }
  PyObject* exc;
  if (!stream_core_take_error(self, &exc)) return;
  stream_core_call_transport(self, "_flow_control_error", exc, message);
  Py_DECREF(exc);
}

void stream_core_maybe_resume(StreamCore* self) {
  if (!self->protocol_paused) return;
  if (stream_core_write_queued(self) > self->low_water) return;
  self->protocol_paused = 0;
  protocol_flow(self, "resume_writing", "protocol.resume_writing() failed");
}

static void on_written(void* user, weft_status status, const char* message) {
  StreamCore* self = user;
  gil_hold g;
  stream_core_gil_take(self->loop, &g);
  self->weft_writes--;
  if (status == WEFT_ERR_CANCELLED || self->stream == NULL) {
    /* Ended: nothing to report. */
  } else if (status != WEFT_OK) {
    PyObject* exc = stream_core_status_exception(status, message);
    if (exc == NULL) {
      PyErr_WriteUnraisable((PyObject*)self);
    } else {
      stream_core_call_transport(self, "_fatal_error", exc,
                                 "Fatal write error on socket transport");
      Py_DECREF(exc);
    }
  } else {
    PyObject* previous = stream_core_enter_hosted(self->loop);
    stream_core_maybe_resume(self);
    if (self->drain_notify && self->stream != NULL && stream_core_write_buffered(self) == 0) {
      self->drain_notify = 0;
      stream_core_call_transport(self, "_write_drained", NULL, NULL);
    }
    if (self->closing && self->stream != NULL && stream_core_write_buffered(self) == 0) {
      stream_core_end_stream(self);
      stream_core_call_transport(self, "_closed_when_drained", NULL, NULL);
    }
    stream_core_leave_hosted(self->loop, previous);
  }
  Py_DECREF(self);
  stream_core_gil_give(&g);
}

/* pause_writing once more than the high-water mark is queued. Returns None,
 * or NULL for a KeyboardInterrupt/SystemExit to raise from write(). */
PyObject* stream_core_pause_if_over(StreamCore* self) {
  if (!self->protocol_paused && self->protocol != NULL &&
      stream_core_write_queued(self) > self->high_water) {
    self->protocol_paused = 1;
    PyObject* r = PyObject_CallMethod(self->protocol, "pause_writing", NULL);
    if (r == NULL) {
      if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
          PyErr_ExceptionMatches(PyExc_SystemExit)) {
        return NULL; /* raised from write(), as asyncio does */
      }
      PyObject* exc;
      if (stream_core_take_error(self, &exc)) {
        stream_core_call_transport(self, "_flow_control_error", exc,
                                   "protocol.pause_writing() failed");
        Py_DECREF(exc);
      }
    }
    Py_XDECREF(r);
  }
  Py_RETURN_NONE;
}

/* send(2) straight to the stream's socket (only while weft queues nothing,
 * so the bytes stay in order). Returns how many bytes the kernel took (0 when
 * it would block; and when the descriptor is not a socket, which turns direct
 * sends off so that weft writes everything), or -1 once a failure went to the
 * transport's _fatal_error (with a Python error set if even that failed, or
 * if the transport raised a KeyboardInterrupt/SystemExit). */
static Py_ssize_t send_direct(StreamCore* self, const char* bytes, size_t len) {
  ssize_t sent;
  do {
    sent = send(self->fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent >= 0) return (Py_ssize_t)sent;
  int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK) return 0;
  if (err == ENOTSOCK) {
    self->direct_send = 0;
    return 0;
  }
  PyObject* exc = PyObject_CallFunction(PyExc_OSError, "is", err, strerror(err));
  if (exc == NULL) return -1;
  stream_core_call_transport(self, "_fatal_error", exc, "Fatal write error on socket transport");
  Py_DECREF(exc);
  return -1;
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
void stream_core_uncork(StreamCore* self) {
  size_t len = self->corked_len;
  self->corked_len = 0;
  if (len == 0 || self->stream == NULL) return;
  const char* bytes = self->corked;
  size_t sent = 0;
  if (self->direct_send && stream_core_write_buffered(self) == 0) {
    Py_ssize_t n = send_direct(self, bytes, len);
    if (n < 0) {
      if (PyErr_Occurred()) PyErr_WriteUnraisable((PyObject*)self);
      return;
    }
    sent = (size_t)n;
  }
  if (sent < len) {
    Py_INCREF(self);
    weft_status status =
        weft_stream_write(NULL, self->stream, bytes + sent, len - sent, on_written, self);
    if (status == WEFT_OK) self->weft_writes++;
    if (status != WEFT_OK) {
      Py_DECREF(self);
      PyObject* exc = stream_core_status_exception(status, "cannot write to the stream");
      if (exc == NULL) {
        PyErr_WriteUnraisable((PyObject*)self);
        return;
      }
      stream_core_call_transport(self, "_fatal_error", exc,
                                 "Fatal write error on socket transport");
      Py_DECREF(exc);
      return;
    }
  }
  stream_core_maybe_resume(self);
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
    stream_core_forget_if_loop_closed(core);
    stream_core_uncork(core);
    Py_DECREF(core);
  }
  if (taken != local) PyMem_Free(taken);
}

PyObject* stream_core_write(StreamCore* self, PyObject* data) {
  stream_core_forget_if_loop_closed(self);
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
  if (self->corked_len > 0 && !self->loop->in_batch) stream_core_uncork(self);
  if (self->stream == NULL) {
    if (has_view) PyBuffer_Release(&view);
    self->writes_after_lost++;
    stream_core_call_transport(self, "_write_after_lost", NULL, NULL);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
  }
  if (self->loop->in_batch && self->direct_send &&
      (self->corked_len > 0 ||
       ((size_t)len < CORK_DIRECT && stream_core_write_buffered(self) == 0))) {
    if (self->corked_len + (size_t)len <= CORK_LIMIT) {
      /* In a batch: gathered, sent when the batch ends. Weft holds nothing
       * while bytes are corked, so the corked ones are all that is queued. */
      int corked = cork(self, bytes, (size_t)len);
      if (has_view) PyBuffer_Release(&view);
      if (corked != 0) return NULL;
      if (self->corked_len <= self->high_water) Py_RETURN_NONE;
      return stream_core_pause_if_over(self);
    }
    /* Too much to gather: what was gathered goes first, this one after. */
    stream_core_uncork(self);
    if (self->stream == NULL) { /* sending failed: reported (_fatal_error) */
      if (has_view) PyBuffer_Release(&view);
      if (PyErr_Occurred()) return NULL;
      Py_RETURN_NONE;
    }
  }
  if (self->direct_send && stream_core_write_buffered(self) == 0) {
    /* Nothing queued in weft: what the kernel takes now goes out in order,
     * with no weft write to complete, and a failure is known now (as
     * asyncio's write knows it). Only the rest is queued in weft. */
    Py_ssize_t sent = send_direct(self, bytes, (size_t)len);
    if (sent < 0) {
      if (has_view) PyBuffer_Release(&view);
      if (PyErr_Occurred()) return NULL;
      Py_RETURN_NONE;
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
  if (status == WEFT_OK) self->weft_writes++;
  if (has_view) PyBuffer_Release(&view);
  if (status != WEFT_OK) {
    Py_DECREF(self);
    PyObject* exc = stream_core_status_exception(status, "cannot write to the stream");
    if (exc != NULL) {
      PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
      Py_DECREF(exc);
    }
    return NULL;
  }
  return stream_core_pause_if_over(self);
}
