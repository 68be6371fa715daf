/* native/streams.h: the C halves of weft.streams (weft/streams.py), asyncio's
 * streams API with the per-message work in C. Three base classes, each the
 * first base of a Python class that adds asyncio's own class after it (so
 * isinstance(reader, asyncio.StreamReader) holds and asyncio's methods
 * serve the rare paths through the attributes these expose):
 *
 *   StreamsReader    weft.StreamReader's buffer, waiter and reads
 *                    (streams_reader.c; the waiter future in
 *                    streams_waiter.c)
 *   StreamsProtocol  weft.StreamReaderProtocol's data_received and the
 *                    state drain asks for (streams_writer.c)
 *   StreamsWriter    weft.StreamWriter's write and drain (streams_writer.c)
 *
 * and the awaitable every read returns, StreamsOp (streams_op.c): a
 * coroutine-like object (send, throw, close, __await__; am_send, so an
 * await that needs no wait runs no Python frame) that waits on a future of
 * the loop (loop.create_future()) when the buffer cannot answer yet. The
 * reader wakes that future from feed_data/feed_eof/set_exception, and the
 * task that awaited it resumes through asyncio's C Task and Future.
 *
 * Nothing here depends on weft's loop: on any asyncio loop the transport
 * calls data_received and the futures are that loop's. On weft's loop the
 * transport's C read callback feeds the reader directly
 * (streams_protocol_received), and a read returns the bytes it made.
 *
 * Per message the reader makes no new objects but the bytes a read returns:
 * a read op and a waiter future (on weft's loop) are kept by the reader once
 * done and reused when nothing else holds them (reference count 1).
 *
 * Thread: the loop's thread, GIL held. Ownership: a reader owns its buffer,
 * the bytes chunk it holds whole, its waiter future, its spare op and future,
 * and references to its loop, transport and exception; an op owns its reader
 * (until it is done) and the future it waits on. Internal to the extension.
 */
#ifndef WEFT_PY_STREAMS_H
#define WEFT_PY_STREAMS_H

#include "native/native.h"

typedef struct {
  PyObject_HEAD
  PyObject* loop;
  PyObject* create_future; /* loop.create_future, bound once asked for */
  /* On weft's loop (whose create_future is asyncio.Future(loop=loop)): the
   * last two waiters once woken, re-initialised for a later wait when
   * nothing else holds them, with these keyword arguments ({"loop": loop}).
   * Two: the handle that wakes the task still holds the last one while the
   * task's step waits again. */
  PyObject* spare_futures[2];
  PyObject* future_kwargs;
  PyObject* spare_op; /* the last op made, reused once only the reader holds it */
  PyObject* transport;
  PyObject* waiter;    /* the future a read waits on; NULL: none */
  PyObject* exception; /* NULL: none */
  /* The buffered bytes: either `chunk` (a bytes object the transport gave,
   * held whole so that a read of all of it returns it without a copy) from
   * chunk_off on, or buf[start, start + len). Never both. */
  PyObject* chunk;
  Py_ssize_t chunk_off;
  char* buf;
  Py_ssize_t start, len, cap;
  Py_ssize_t limit;
  char eof;
  char paused; /* the transport's reading was paused by feed_data */
} StreamsReader;

extern PyTypeObject StreamsReader_Type;

/* -- streams_reader.c ------------------------------------------------------- */

/* The buffered bytes, contiguous. */
Py_ssize_t streams_reader_size(StreamsReader* self);
const char* streams_reader_data(StreamsReader* self);
/* The first n buffered bytes (n <= size) as bytes, consumed. New reference. */
PyObject* streams_reader_take(StreamsReader* self, Py_ssize_t n);
/* Drops the first n buffered bytes. */
void streams_reader_consume(StreamsReader* self, Py_ssize_t n);
/* feed_data(data). `whole`: data is a bytes object made for the reader
 * alone (weft's transport makes one per chunk), which may be kept as it is
 * and returned by a read without a copy; other transports' bytes are copied
 * (asyncio's socket transport hands over bytes that sit in a 256 KiB
 * allocation, mapped for each read: keeping them costs the kernel more than
 * the copy). 0, or -1 with an error set. */
int streams_reader_feed(StreamsReader* self, PyObject* data, int whole);
/* Resumes the transport's reading once the buffer is back at the limit.
 * 0, or -1 with an error set. */
int streams_reader_maybe_resume(StreamsReader* self);

/* -- streams_waiter.c --------------------------------------------------------- */

/* asyncio's _wait_for_data(name) up to the await: a new future in
 * self->waiter, returned (new reference), or NULL with an error set. */
PyObject* streams_reader_new_waiter(StreamsReader* self, const char* name);
/* waiter._asyncio_future_blocking = True, as awaiting a future marks it
 * before yielding it to the task. 0, or -1 with an error set. */
int streams_mark_blocking(PyObject* waiter);
/* asyncio's _wakeup_waiter: self->waiter.set_result(None), or
 * set_exception(exc), unless it was cancelled; the reader forgets it
 * first. 0, or -1 with an error set. */
int streams_reader_wake_waiter(StreamsReader* self, PyObject* exc);
/* The names and members the functions above use. 0, or -1. */
int streams_waiter_init(void);

/* -- streams_reader.c (continued) ------------------------------------------- */

/* Raises `exc` (an exception instance or class), as `raise exc` does. */
void streams_raise(PyObject* exc);
/* A name a file keeps interned: *slot = the interned `text`. */
typedef struct {
  PyObject** slot;
  const char* text;
} StreamsName;
/* Interns the n names (at the extension's start). 0, or -1 with an error
 * set. */
int streams_intern(const StreamsName* names, size_t n);
/* Getters and setters of properties over struct fields (the closure is the
 * field's offset): an object (NULL reads as None; assigning None or
 * deleting stores NULL), or a char flag. */
PyObject* streams_get_object(PyObject* self, void* offset);
int streams_set_object(PyObject* self, PyObject* value, void* offset);
PyObject* streams_get_flag(PyObject* self, void* offset);
int streams_set_flag(PyObject* self, PyObject* value, void* offset);

/* -- streams_op.c ------------------------------------------------------------- */

typedef enum {
  STREAMS_READ,       /* read(n), n > 0 (n == 0: b'') */
  STREAMS_READ_ALL,   /* read(-1): read(limit) until b'' */
  STREAMS_READEXACTLY,
  STREAMS_READUNTIL,
  STREAMS_READLINE,
  STREAMS_ANEXT,      /* readline, StopAsyncIteration at b'' */
  STREAMS_READY,      /* returns `value` or raises `error` at once, reusable */
} streams_op_kind;

/* A new op on `reader` (not started: the work happens when it is awaited,
 * as a coroutine's). `arg` is the separator for READUNTIL. */
PyObject* streams_op_new(StreamsReader* reader, streams_op_kind kind, Py_ssize_t n,
                         PyObject* arg);
/* An awaitable that raises `exc` when awaited. New reference. */
PyObject* streams_op_raising(PyObject* exc);
/* The awaitable that returns None at once (shared). New reference. */
PyObject* streams_op_done(void);
/* asyncio.exceptions.IncompleteReadError / LimitOverrunError (borrowed;
 * NULL with an error set if asyncio cannot be imported). */
PyObject* streams_incomplete_read_error(void);
PyObject* streams_limit_overrun_error(void);
PyObject* streams_invalid_state_error(void);

/* -- streams_writer.c ------------------------------------------------------------ */

/* Whether `bound` (a protocol's bound data_received) is StreamsProtocol's
 * own C method, which weft's transport may bypass with
 * streams_protocol_received. */
int streams_is_protocol_data_received(PyObject* bound);
/* data_received(data) of a StreamsProtocol, from weft's transport: the
 * bytes are kept whole. 0, or -1 with an error set. */
int streams_protocol_received(PyObject* protocol, PyObject* data);

int weft_py_streams_op_init(PyObject* module);
int weft_py_streams_reader_init(PyObject* module);
int weft_py_streams_writer_init(PyObject* module);

#endif /* WEFT_PY_STREAMS_H */
