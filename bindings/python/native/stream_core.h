/* native/stream_core.h: StreamCore, the state behind weft._capi.StreamCore
 * (a socket transport's weft stream; stream_transport.c has the whole
 * story), shared by its four files:
 *   stream_core.c       helpers: the GIL, errors, calls into the transport
 *   stream_read.c       the read side: one weft read pending, delivery to the
 *                       protocol, what a paused read brought
 *   stream_write.c      the write side: direct sends, corking during a batch,
 *                       weft writes, write flow control
 *   stream_transport.c  the Python type: construction, methods, teardown
 * Thread: loop thread, GIL held (weft callbacks take it back first).
 * Internal to the extension. */
#ifndef WEFT_PY_STREAM_CORE_H
#define WEFT_PY_STREAM_CORE_H

#include "native/loop.h"

/* What one weft_stream_read asks for (asyncio's sockets read 256 KiB). */
#define READ_CHUNK ((size_t)256 * 1024)
/* A Protocol's stream whose last read brought this much reads the next
 * straight into a new bytes object (stream_read.c, lend_fresh_bytes). */
#define BULK_BYTES ((size_t)64 * 1024)
/* The most one read into a protocol's memory takes: of a BufferedProtocol's
 * get_buffer(), and the size of a Protocol's bulk bytes object. */
#define READ_INTO_MAX ((size_t)128 * 1024)
/* The most a batch's writes gather before they are sent (larger ones go at
 * once, after what was gathered). */
#define CORK_LIMIT ((size_t)64 * 1024)
/* A write at least this large, with nothing gathered before it, is sent at
 * once: gathering it would cost a copy of it for little gain. */
#define CORK_DIRECT ((size_t)4 * 1024)
/* A read at least this large that weft.streams' reader was fed runs the
 * task it woke at once (stream_read.c, run_woken_now). */
#define RUN_WOKEN_BYTES ((size_t)4 * 1024)

typedef struct {
  PyObject_HEAD
  WeftPyLoop* loop;
  weft_stream_t* stream; /* NULL once ended */
  int fd;                /* the stream's descriptor (weft's): direct sends */
  char direct_send;      /* send(2) first while weft queues nothing */
  PyObject* transport;   /* NULL once detached */
  PyObject* protocol;
  PyObject* data_received; /* bound method; NULL for a BufferedProtocol */
  char streams_direct;     /* data_received is weft.streams' C one: fed directly */
  PyObject* get_buffer;    /* bound methods of a BufferedProtocol */
  PyObject* buffer_updated;
  Py_buffer lent;          /* get_buffer()'s memory, lent to a weft read */
  char lent_held;          /* `lent` is exported (released before buffer_updated) */
  char lend_declined;      /* it was declined (paused, closing, protocol changed) */
  PyObject* lent_updated;  /* the buffer_updated of the protocol that lent it */
  PyObject* lend_error;    /* what get_buffer() raised for it */
  PyObject* fresh;         /* a Protocol's bulk read: the bytes object it reads into */
  char bulk;               /* the last read brought BULK_BYTES or more */
  PyObject* stash;       /* bytes a read brought while reading was paused */
  PyObject* stash_error; /* the failure a read brought while paused */
  int stash_eof;         /* the end of the stream, likewise */
  size_t high_water, low_water;
  Py_ssize_t writes_after_lost;
  char started; /* start() was called: reads may be armed */
  char reading; /* not paused */
  char read_pending;
  char eof_seen; /* the end of the stream was delivered: no more reads */
  char eof_written;
  char closing;      /* close(): ends once the queued writes are out */
  char close_called; /* close() or abort() was called: is_closing() */
  char protocol_paused;
  char flush_scheduled;
  char drain_notify;  /* notify_drained(): call _write_drained() when empty */
  char corked_listed; /* in the corked list below (it holds a reference) */
  char* corked;       /* bytes written during a batch, not sent yet */
  size_t corked_len, corked_cap;
  size_t weft_writes; /* weft_stream_write calls whose callback has not run */
} StreamCore;

/* The GIL taken back in a weft callback (see stream_core_gil_take). */
typedef struct {
  int ensured;
  PyGILState_STATE state;
} gil_hold;

/* -- stream_core.c ---------------------------------------------------------- */

/* Takes the GIL (and the loop's claim on it) in a weft callback. */
void stream_core_gil_take(WeftPyLoop* loop, gil_hold* g);
void stream_core_gil_give(gil_hold* g);
/* An OSError (the errno subclass) for a weft status. New reference, or NULL
 * with an error set. */
PyObject* stream_core_status_exception(weft_status status, const char* message);
/* With a Python error set: KeyboardInterrupt/SystemExit stop the loop; any
 * other error is taken into *exc (new reference). 1 when *exc was set. */
int stream_core_take_error(StreamCore* self, PyObject** exc);
/* transport.<name>(a[, b]) for a rare path (errors as a callback's). */
void stream_core_call_transport(StreamCore* self, const char* name, PyObject* a, const char* b);
/* The protocol failed (an error is set): the transport's _fatal_error. */
void stream_core_protocol_failed(StreamCore* self, const char* message);
/* Forgets the stream once the loop is closed; first in every method. */
void stream_core_forget_if_loop_closed(StreamCore* self);
/* Bytes weft holds for the peer (0 without asking weft while no weft write
 * is pending: a write's callback runs once the kernel has its bytes); those
 * plus the corked ones. */
size_t stream_core_write_buffered(StreamCore* self);
size_t stream_core_write_queued(StreamCore* self);
/* Ends the weft stream now (pending operations are called back). */
void stream_core_end_stream(StreamCore* self);
/* asyncio's running loop set around a delivery outside a batch (hosted
 * loops); leave_hosted restores it. */
PyObject* stream_core_enter_hosted(WeftPyLoop* loop);
void stream_core_leave_hosted(WeftPyLoop* loop, PyObject* previous);

/* -- stream_read.c ------------------------------------------------------------ */

/* Keeps one weft read pending while the transport reads. 0, or -1 with an
 * error set. */
int stream_core_arm_read(StreamCore* self);
/* _flush(): delivers what a paused read brought, then reads on. */
PyObject* stream_core_flush_stash(StreamCore* self, PyObject* unused);
/* Schedules _flush() with call_soon (once). 0, or -1 with an error set. */
int stream_core_schedule_flush(StreamCore* self);
/* Releases get_buffer()'s memory if a read still holds it. */
void stream_core_release_lent(StreamCore* self);

/* -- stream_write.c ------------------------------------------------------------- */

/* write(data): bytes-like data for the peer. */
PyObject* stream_core_write(StreamCore* self, PyObject* data);
/* Sends the corked bytes now. */
void stream_core_uncork(StreamCore* self);
/* pause_writing once over the high-water mark: None, or NULL to raise a
 * KeyboardInterrupt/SystemExit. */
PyObject* stream_core_pause_if_over(StreamCore* self);
/* resume_writing once at or below the low-water mark. */
void stream_core_maybe_resume(StreamCore* self);

#endif /* WEFT_PY_STREAM_CORE_H */
