/* native/stream_read.c: StreamCore's read side. While the transport reads,
 * one weft read is pending. For a Protocol it is a weft_stream_read
 * (READ_CHUNK bytes at most), and each chunk goes to the protocol at once
 * (data_received; weft.streams' reader directly,
 * streams_protocol_received, and then the task it woke runs:
 * run_woken_now); after a read of BULK_BYTES or more it is a
 * weft_stream_read_into a new bytes object (lend_fresh_bytes), which the
 * protocol gets shrunk to what came, with no copy. For a BufferedProtocol it is a weft_stream_read_into
 * whose memory is the protocol's get_buffer(), asked for as the loop reads
 * the stream (lend_protocol_buffer): the kernel reads straight into it, the
 * export is released, and buffer_updated(n) follows, as asyncio's sockets
 * do. (Bytes weft holds already go the copying way, deliver_buffered, so no
 * export is held between a read's start and its end; after a full read the
 * loop's next try may find nothing, and the export then waits for the next
 * bytes, released before get_buffer() is asked again.) What a read brings after
 * pause_reading (bytes, the end of the stream, an error) is kept and
 * delivered by _flush(), which resume_reading schedules with call_soon.
 * Thread: loop thread, GIL held. Each pending read owns a reference to the
 * core. */
#include "native/stream_core.h"
#include "native/streams.h"

#include <string.h>

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len);
static void* lend_protocol_buffer(void* user, size_t* len);
static void* lend_fresh_bytes(void* user, size_t* len);
static void deliver_end_or_failure(StreamCore* self, weft_status status, const char* message);
static void read_on(StreamCore* self);
static void deliver_bytes(StreamCore* self, const char* bytes, size_t len, PyObject* as_object);
static void run_woken_now(StreamCore* self, size_t len);
static void on_read_into(void* user, weft_status status, const char* message, const void* bytes,
                         size_t len);

/* Keeps one read pending while the transport reads. 0, or -1 with an error. */
int stream_core_arm_read(StreamCore* self) {
  if (self->read_pending || !self->started || !self->reading || self->closing || self->eof_seen ||
      self->stream == NULL || self->stash != NULL || self->stash_error != NULL || self->stash_eof) {
    return 0;
  }
  size_t buffered = 1;
  const int into = (self->get_buffer != NULL || self->bulk) &&
                   weft_stream_read_buffered(&buffered, self->stream) == WEFT_OK && buffered == 0;
  Py_INCREF(self);
  weft_status status;
  if (into) {
    self->lend_declined = 0;
    status = weft_stream_read_into(NULL, self->stream,
                                   self->get_buffer != NULL ? lend_protocol_buffer : lend_fresh_bytes,
                                   on_read_into, self);
  } else {
    status = weft_stream_read(NULL, self->stream, READ_CHUNK, on_read, self);
  }
  if (status != WEFT_OK) {
    Py_DECREF(self);
    PyObject* exc = stream_core_status_exception(status, "cannot read from the stream");
    if (exc != NULL) {
      PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
      Py_DECREF(exc);
    }
    return -1;
  }
  self->read_pending = 1;
  return 0;
}

/* After a delivery: the next read, if the transport still reads. */
static void read_on(StreamCore* self) {
  if (stream_core_arm_read(self) != 0)
    stream_core_protocol_failed(self, "Fatal read error on socket transport");
}

void stream_core_release_lent(StreamCore* self) {
  if (self->lent_held) {
    self->lent_held = 0;
    PyBuffer_Release(&self->lent);
  }
  Py_CLEAR(self->lent_updated);
}

/* weft_stream_read_into's memory: the protocol's get_buffer(-1), exported
 * until the read ends (or the loop asks again). Declined (NULL) once the
 * transport is paused, closing or no longer has a BufferedProtocol; a
 * get_buffer() that fails is kept for on_read_into, which reports it.
 * Called by weft as the loop reads the stream. */
static void* lend_protocol_buffer(void* user, size_t* len) {
  StreamCore* self = user;
  gil_hold g;
  stream_core_gil_take(self->loop, &g);
  stream_core_release_lent(self);  /* the kernel had nothing for the last one */
  void* memory = NULL;
  if (!self->reading || self->closing || self->stream == NULL || self->get_buffer == NULL ||
      self->protocol == NULL || self->lend_error != NULL) {
    self->lend_declined = 1;
    stream_core_gil_give(&g);
    return NULL;
  }
  PyObject* previous = stream_core_enter_hosted(self->loop);
  PyObject* hint = PyLong_FromLong(-1);
  PyObject* buffer = hint == NULL ? NULL : PyObject_CallOneArg(self->get_buffer, hint);
  Py_XDECREF(hint);
  if (buffer != NULL) {
    if (PyObject_GetBuffer(buffer, &self->lent, PyBUF_WRITABLE) == 0) {
      if (self->lent.len > 0) {
        self->lent_held = 1;
        Py_INCREF(self->buffer_updated);
        self->lent_updated = self->buffer_updated;
        memory = self->lent.buf;
        *len = (size_t)self->lent.len < READ_INTO_MAX ? (size_t)self->lent.len : READ_INTO_MAX;
      } else {
        PyBuffer_Release(&self->lent);
        PyErr_SetString(PyExc_RuntimeError, "get_buffer() returned an empty buffer");
      }
    }
    Py_DECREF(buffer);
  }
  if (memory == NULL && !stream_core_take_error(self, &self->lend_error)) {
    self->lend_declined = 1;  /* KeyboardInterrupt/SystemExit: the loop stops */
  }
  stream_core_leave_hosted(self->loop, previous);
  stream_core_gil_give(&g);
  return memory;
}

/* A Protocol's bulk read: straight into a new bytes object of
 * READ_INTO_MAX bytes (kept for the next lend if the kernel had nothing),
 * shrunk to what came (on_read_into), as asyncio's sock.recv does: no copy
 * from weft's buffer into a bytes object. Declined as lend_protocol_buffer. */
static void* lend_fresh_bytes(void* user, size_t* len) {
  StreamCore* self = user;
  gil_hold g;
  stream_core_gil_take(self->loop, &g);
  void* memory = NULL;
  if (!self->reading || self->closing || self->stream == NULL || self->get_buffer != NULL ||
      self->protocol == NULL) {
    self->lend_declined = 1;
  } else {
    if (self->fresh == NULL) self->fresh = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)READ_INTO_MAX);
    if (self->fresh != NULL) {
      memory = PyBytes_AS_STRING(self->fresh);
      *len = READ_INTO_MAX;
    } else {
      PyErr_Clear();
      self->lend_declined = 1;  /* read again the copying way */
      self->bulk = 0;
    }
  }
  stream_core_gil_give(&g);
  return memory;
}

/* The end of a weft_stream_read_into: the export is released, then
 * buffer_updated(n), and the next read; or the failure of get_buffer(),
 * the end of the stream, an error; a declined read is asked for again as
 * the transport now reads (not at all while paused). */
static void on_read_into(void* user, weft_status status, const char* message, const void* bytes,
                         size_t len) {
  (void)bytes;
  StreamCore* self = user;
  gil_hold g;
  stream_core_gil_take(self->loop, &g);
  self->read_pending = 0;
  PyObject* updated = self->lent_updated;
  self->lent_updated = NULL;
  stream_core_release_lent(self);
  PyObject* lend_error = self->lend_error;
  self->lend_error = NULL;
  PyObject* fresh = self->fresh;
  self->fresh = NULL;
  if (status == WEFT_ERR_CANCELLED || self->stream == NULL || self->closing) goto done;
  PyObject* previous = stream_core_enter_hosted(self->loop);
  if (status == WEFT_OK && fresh != NULL) {
    self->bulk = len >= BULK_BYTES;
    if (_PyBytes_Resize(&fresh, (Py_ssize_t)len) != 0) {  /* fresh is NULL now */
      stream_core_protocol_failed(self, "Fatal error: cannot allocate the bytes read.");
    } else {
      deliver_bytes(self, PyBytes_AS_STRING(fresh), len, fresh);
      run_woken_now(self, len);
      read_on(self);
    }
  } else if (lend_error != NULL) {
    PyErr_SetObject((PyObject*)Py_TYPE(lend_error), lend_error);
    stream_core_protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
  } else if (status == WEFT_OK && updated != NULL) {
    PyObject* count = PyLong_FromSize_t(len);
    PyObject* r = count == NULL ? NULL : PyObject_CallOneArg(updated, count);
    Py_XDECREF(count);
    if (r == NULL) {
      stream_core_protocol_failed(self, "Fatal error: protocol.buffer_updated() call failed.");
    } else {
      Py_DECREF(r);
      read_on(self);
    }
  } else if (status == WEFT_ERR_NO_MEMORY && self->lend_declined) {
    read_on(self);
  } else {
    deliver_end_or_failure(self, status, message);
  }
  stream_core_leave_hosted(self->loop, previous);
done:
  Py_XDECREF(fresh);
  Py_XDECREF(lend_error);
  Py_XDECREF(updated);
  Py_DECREF(self);
  stream_core_gil_give(&g);
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
      stream_core_protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
      return -1;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE) != 0) {
      Py_DECREF(buffer);
      stream_core_protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
      return -1;
    }
    if (view.len <= 0) {
      PyBuffer_Release(&view);
      Py_DECREF(buffer);
      PyErr_SetString(PyExc_RuntimeError, "get_buffer() returned an empty buffer");
      stream_core_protocol_failed(self, "Fatal error: protocol.get_buffer() call failed.");
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
      stream_core_protocol_failed(self, "Fatal error: protocol.buffer_updated() call failed.");
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
      stream_core_protocol_failed(self, "Fatal error: cannot allocate the bytes read.");
      return;
    }
  }
  int failed;
  if (self->streams_direct) {
    /* weft.streams' C data_received, without the call: these bytes were
     * made for it alone, so the reader may keep them whole. */
    failed = streams_protocol_received(self->protocol, data) != 0;
  } else {
    PyObject* r = PyObject_CallOneArg(self->data_received, data);
    failed = r == NULL;
    Py_XDECREF(r);
  }
  Py_DECREF(data);
  if (failed) {
    stream_core_protocol_failed(self, "Fatal error: protocol.data_received() call failed.");
  }
}

/* After weft.streams' reader was fed `len` bytes (and woke the task
 * waiting on it): for a read of RUN_WOKEN_BYTES or more, the loop's ready
 * handles run now, in the read callback, rather than once every
 * connection's read of this round of I/O has been delivered. The task then
 * echoes (or parses) its bytes while they are in the cache: at 16 KiB and 64
 * connections, the batch after the round found a megabyte of bytes objects
 * made apart from their reads. Smaller reads wait for that batch, whose
 * tasks' steps run back to back (cheaper for them). A batch runs only the
 * handles ready when it starts, as each of the loop's does; none runs
 * inside a batch (a stash's flush delivers from one), nor once the loop is
 * stopping. */
static void run_woken_now(StreamCore* self, size_t len) {
  WeftPyLoop* loop = self->loop;
  if (!self->streams_direct || len < RUN_WOKEN_BYTES || loop->ready_count == 0 ||
      loop->in_batch || loop->stopping || loop->closed) {
    return;
  }
  weft_py_run_batch(loop);
}

static void deliver_eof(StreamCore* self) {
  self->eof_seen = 1;
  stream_core_call_transport(self, "_eof_received", NULL, NULL);
}

static void deliver_error(StreamCore* self, PyObject* exc) {
  self->eof_seen = 1;
  stream_core_call_transport(self, "_fatal_error", exc, "Fatal read error on socket transport");
}

/* A read that ended with the end of the stream or a failure. */
static void deliver_end_or_failure(StreamCore* self, weft_status status, const char* message) {
  if (status == WEFT_ERR_END_OF_FILE) {
    deliver_eof(self);
    return;
  }
  PyObject* exc = stream_core_status_exception(status, message);
  if (exc == NULL) {
    PyErr_WriteUnraisable((PyObject*)self);
  } else {
    deliver_error(self, exc);
    Py_DECREF(exc);
  }
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  StreamCore* self = user;
  gil_hold g;
  stream_core_gil_take(self->loop, &g);
  self->read_pending = 0;
  if (status == WEFT_ERR_CANCELLED || self->stream == NULL || self->closing) goto done;
  PyObject* previous = stream_core_enter_hosted(self->loop);
  if (!self->reading) {
    /* Paused after this read was asked for: keep what it brought. */
    if (status == WEFT_OK) {
      self->stash = PyBytes_FromStringAndSize(bytes, (Py_ssize_t)len);
      if (self->stash == NULL) PyErr_WriteUnraisable((PyObject*)self);
    } else if (status == WEFT_ERR_END_OF_FILE) {
      self->stash_eof = 1;
    } else {
      self->stash_error = stream_core_status_exception(status, message);
      if (self->stash_error == NULL) PyErr_WriteUnraisable((PyObject*)self);
    }
  } else if (status == WEFT_OK) {
    self->bulk = len >= BULK_BYTES;
    deliver_bytes(self, bytes, len, NULL);
    run_woken_now(self, len);
    read_on(self);
  } else {
    deliver_end_or_failure(self, status, message);
  }
  stream_core_leave_hosted(self->loop, previous);
done:
  Py_DECREF(self);
  stream_core_gil_give(&g);
}

/* Delivers what a paused read brought (scheduled by resume_reading with
 * call_soon, never inside it), then reads on. */
PyObject* stream_core_flush_stash(StreamCore* self, PyObject* unused) {
  stream_core_forget_if_loop_closed(self);
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
  if (stream_core_arm_read(self) != 0) return NULL;
  Py_RETURN_NONE;
}

int stream_core_schedule_flush(StreamCore* self) {
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
