/* native/streams_op.c: weft._capi.StreamsOp, what weft.StreamReader's reads
 * (read, readexactly, readuntil, readline, __anext__) and
 * weft.StreamWriter's drain return: a coroutine-like awaitable that does
 * the read when awaited.
 *
 * Awaiting it runs op_send (the am_send slot, which the interpreter's
 * `await` and asyncio's C Task call directly): the read is answered from the
 * reader's buffer at once when it can be, with no Python frame and no
 * suspension; otherwise it takes a future from the loop
 * (streams_reader_new_waiter), marks it blocking and yields it, as awaiting
 * an asyncio future does, and the task adds its wake-up to it. feed_data,
 * feed_eof and set_exception complete that future; the task's next step
 * sends into the op again and the read goes on. Cancelling the task
 * cancels the future and throws CancelledError into the op (throw), which
 * forgets the waiter, consumes nothing and raises it.
 *
 * The checks and results follow asyncio 3.11's StreamReader exactly:
 * which errors come first, the messages, IncompleteReadError and
 * LimitOverrunError with their partial bytes and counts, what stays in the
 * buffer after each. The op has send, throw and close methods and
 * __await__, so asyncio takes it for a coroutine (create_task, wait_for and
 * gather accept it).
 *
 * Thread: the loop's thread, GIL held. Ownership: an op owns its reader,
 * its separator, the blocks of a read(-1) so far, and the future it waits
 * on; the reader owns that future too while it is its waiter.
 */
#include "native/streams.h"

#include <string.h>

enum { OP_NEW, OP_RUNNING, OP_WAITING, OP_DONE };

typedef struct {
  PyObject_HEAD
  StreamsReader* reader; /* NULL for STREAMS_READY */
  PyObject* waiter;      /* the future yielded, while waiting */
  PyObject* separator;   /* READUNTIL: as given, bytes once started */
  PyObject* blocks;      /* READ_ALL: a list, from the second block on */
  PyObject* value;       /* READY: the result (NULL: None) */
  PyObject* error;       /* READY: the exception it raises instead */
  Py_ssize_t n;
  Py_ssize_t offset; /* READUNTIL/READLINE/ANEXT: bytes known not to hold the separator */
  char kind;
  char state;
  char resumed; /* op_step: back from a wait (the reader was fed) */
} StreamsOp;

static PyTypeObject StreamsOp_Type;
static PyObject* done_op;
static PyObject* str_result;
static PyObject* incomplete_read_error;
static PyObject* limit_overrun_error;
static PyObject* invalid_state_error;

static const char* const op_names[] = {
    [STREAMS_READ] = "read",           [STREAMS_READ_ALL] = "read",
    [STREAMS_READEXACTLY] = "readexactly", [STREAMS_READUNTIL] = "readuntil",
    [STREAMS_READLINE] = "readuntil",  [STREAMS_ANEXT] = "readuntil",
    [STREAMS_READY] = "drain",
};

static int load_asyncio_exceptions(void) {
  if (invalid_state_error != NULL) return 0;
  PyObject* module = PyImport_ImportModule("asyncio.exceptions");
  if (module == NULL) return -1;
  PyObject* incomplete = PyObject_GetAttrString(module, "IncompleteReadError");
  PyObject* overrun = incomplete == NULL ? NULL : PyObject_GetAttrString(module, "LimitOverrunError");
  PyObject* invalid = overrun == NULL ? NULL : PyObject_GetAttrString(module, "InvalidStateError");
  Py_DECREF(module);
  if (invalid == NULL) {
    Py_XDECREF(incomplete);
    Py_XDECREF(overrun);
    return -1;
  }
  incomplete_read_error = incomplete;
  limit_overrun_error = overrun;
  invalid_state_error = invalid;
  return 0;
}

PyObject* streams_incomplete_read_error(void) {
  return load_asyncio_exceptions() == 0 ? incomplete_read_error : NULL;
}

PyObject* streams_limit_overrun_error(void) {
  return load_asyncio_exceptions() == 0 ? limit_overrun_error : NULL;
}

PyObject* streams_invalid_state_error(void) {
  return load_asyncio_exceptions() == 0 ? invalid_state_error : NULL;
}

/* -- construction ----------------------------------------------------------------- */

static void op_init(StreamsOp* op, StreamsReader* reader, streams_op_kind kind, Py_ssize_t n,
                    PyObject* arg) {
  op->reader = (StreamsReader*)Py_XNewRef(reader);
  op->waiter = NULL;
  op->separator = Py_XNewRef(arg);
  op->blocks = NULL;
  op->value = NULL;
  op->error = NULL;
  op->n = n;
  op->offset = 0;
  op->kind = (char)kind;
  op->state = OP_NEW;
  op->resumed = 0;
}

static int op_clear(StreamsOp* op);

/* A reader's reads reuse its spare op once only the reader holds it (the
 * last read was awaited and dropped); a new op becomes the spare. */
PyObject* streams_op_new(StreamsReader* reader, streams_op_kind kind, Py_ssize_t n,
                         PyObject* arg) {
  StreamsOp* spare = reader != NULL ? (StreamsOp*)reader->spare_op : NULL;
  if (spare != NULL && Py_REFCNT(spare) == 1) {
    op_clear(spare);
    op_init(spare, reader, kind, n, arg);
    return Py_NewRef(spare);
  }
  StreamsOp* op = PyObject_GC_New(StreamsOp, &StreamsOp_Type);
  if (op == NULL) return NULL;
  op_init(op, reader, kind, n, arg);
  PyObject_GC_Track(op);
  if (reader != NULL) Py_XSETREF(reader->spare_op, Py_NewRef(op));
  return (PyObject*)op;
}

PyObject* streams_op_raising(PyObject* exc) {
  StreamsOp* op = (StreamsOp*)streams_op_new(NULL, STREAMS_READY, 0, NULL);
  if (op != NULL) op->error = Py_NewRef(exc);
  return (PyObject*)op;
}

PyObject* streams_op_done(void) {
  return Py_NewRef(done_op);
}

/* -- the reads ------------------------------------------------------------------------ */

/* The op's result: the first n bytes, consumed; then the transport reads
 * again if the buffer fell back to the limit. New reference or NULL. */
static PyObject* take(StreamsReader* r, Py_ssize_t n) {
  PyObject* data = streams_reader_take(r, n);
  if (data != NULL && streams_reader_maybe_resume(r) != 0) Py_CLEAR(data);
  return data;
}

static int raise_incomplete(StreamsReader* r, PyObject* expected) {
  PyObject* type = streams_incomplete_read_error();
  if (type == NULL) return -1;
  PyObject* partial = streams_reader_take(r, streams_reader_size(r));
  if (partial == NULL) return -1;
  PyObject* exc = PyObject_CallFunctionObjArgs(type, partial, expected, NULL);
  Py_DECREF(partial);
  if (exc == NULL) return -1;
  streams_raise(exc);
  Py_DECREF(exc);
  return -1;
}

/* LimitOverrunError(message, consumed); readline turns it into ValueError
 * after dropping the line (or the whole buffer if the line's end is not in
 * it), as asyncio's readline does. */
static int raise_overrun(StreamsOp* op, const char* message, Py_ssize_t consumed) {
  StreamsReader* r = op->reader;
  if (op->kind == STREAMS_READLINE || op->kind == STREAMS_ANEXT) {
    Py_ssize_t size = streams_reader_size(r);
    if (consumed < size && streams_reader_data(r)[consumed] == '\n') {
      streams_reader_consume(r, consumed + 1);
    } else {
      streams_reader_consume(r, size);
    }
    if (streams_reader_maybe_resume(r) != 0) return -1;
    PyErr_SetString(PyExc_ValueError, message);
    return -1;
  }
  PyObject* type = streams_limit_overrun_error();
  if (type == NULL) return -1;
  PyObject* exc = PyObject_CallFunction(type, "sn", message, consumed);
  if (exc == NULL) return -1;
  streams_raise(exc);
  Py_DECREF(exc);
  return -1;
}

/* readuntil, readline, __anext__. 1: *result set; 0: wait; -1: error. */
static int step_until(StreamsOp* op, int first, PyObject** result) {
  StreamsReader* r = op->reader;
  if (first) {
    if (op->kind == STREAMS_READUNTIL && op->separator != NULL) {
      PyObject* sep = PyBytes_FromObject(op->separator);
      if (sep == NULL) return -1;
      Py_SETREF(op->separator, sep);
      if (PyBytes_GET_SIZE(sep) == 0) {
        PyErr_SetString(PyExc_ValueError, "Separator should be at least one-byte string");
        return -1;
      }
    }
    if (r->exception != NULL) {
      streams_raise(r->exception);
      return -1;
    }
  }
  const char* sep = op->separator != NULL ? PyBytes_AS_STRING(op->separator) : "\n";
  Py_ssize_t seplen = op->separator != NULL ? PyBytes_GET_SIZE(op->separator) : 1;
  Py_ssize_t isep = -1;
  for (;;) {
    Py_ssize_t buflen = streams_reader_size(r);
    if (buflen - op->offset >= seplen) {
      const char* data = streams_reader_data(r);
      const char* found = seplen == 1
                              ? memchr(data + op->offset, sep[0], (size_t)(buflen - op->offset))
                              : memmem(data + op->offset, (size_t)(buflen - op->offset), sep,
                                       (size_t)seplen);
      if (found != NULL) {
        isep = found - data;
        break;
      }
      op->offset = buflen + 1 - seplen;
      if (op->offset > r->limit) {
        return raise_overrun(op, "Separator is not found, and chunk exceed the limit",
                             op->offset);
      }
    }
    if (r->eof) {
      if (op->kind == STREAMS_READUNTIL) return raise_incomplete(r, Py_None);
      PyObject* partial = take(r, buflen);
      if (partial == NULL) return -1;
      if (op->kind == STREAMS_ANEXT && PyBytes_GET_SIZE(partial) == 0) {
        Py_DECREF(partial);
        PyErr_SetNone(PyExc_StopAsyncIteration);
        return -1;
      }
      *result = partial;
      return 1;
    }
    return 0;
  }
  if (isep > r->limit) {
    return raise_overrun(op, "Separator is found, but chunk is longer than limit", isep);
  }
  *result = take(r, isep + seplen);
  return *result != NULL ? 1 : -1;
}

/* One attempt at the read on what the reader holds. `first`: the op's first
 * step (asyncio's checks before any wait); op->resumed: back from a wait.
 * 1: *result set; 0: wait for the reader; -1: error. */
static int op_step(StreamsOp* op, int first, PyObject** result) {
  StreamsReader* r = op->reader;
  switch (op->kind) {
    case STREAMS_READ:
      if (first) {
        if (r->exception != NULL) {
          streams_raise(r->exception);
          return -1;
        }
        if (op->n == 0) {
          *result = PyBytes_FromStringAndSize(NULL, 0);
          return *result != NULL ? 1 : -1;
        }
        if (streams_reader_size(r) == 0 && !r->eof) return 0;
      }
      /* Even when woken by the end of the stream: b''. */
      {
        Py_ssize_t size = streams_reader_size(r);
        *result = take(r, size < op->n ? size : op->n);
      }
      return *result != NULL ? 1 : -1;
    case STREAMS_READ_ALL:
      /* read(limit) until it returns b'', each one checked as a read. */
      for (;;) {
        if (!op->resumed) {
          if (r->exception != NULL) {
            streams_raise(r->exception);
            return -1;
          }
          if (streams_reader_size(r) == 0 && !r->eof) return 0;
        }
        op->resumed = 0;
        Py_ssize_t size = streams_reader_size(r);
        PyObject* block = take(r, size < r->limit ? size : r->limit);
        if (block == NULL) return -1;
        if (PyBytes_GET_SIZE(block) == 0) {
          Py_DECREF(block);
          if (op->blocks == NULL) {
            *result = PyBytes_FromStringAndSize(NULL, 0);
          } else {
            PyObject* empty = PyBytes_FromStringAndSize(NULL, 0);
            *result = empty == NULL ? NULL : _PyBytes_Join(empty, op->blocks);
            Py_XDECREF(empty);
          }
          return *result != NULL ? 1 : -1;
        }
        if (op->blocks == NULL) {
          op->blocks = PyList_New(0);
          if (op->blocks == NULL) {
            Py_DECREF(block);
            return -1;
          }
        }
        int rc = PyList_Append(op->blocks, block);
        Py_DECREF(block);
        if (rc != 0) return -1;
      }
    case STREAMS_READEXACTLY:
      if (first) {
        if (op->n < 0) {
          PyErr_SetString(PyExc_ValueError, "readexactly size can not be less than zero");
          return -1;
        }
        if (r->exception != NULL) {
          streams_raise(r->exception);
          return -1;
        }
        if (op->n == 0) {
          *result = PyBytes_FromStringAndSize(NULL, 0);
          return *result != NULL ? 1 : -1;
        }
      }
      if (streams_reader_size(r) < op->n) {
        if (!r->eof) return 0;
        PyObject* expected = PyLong_FromSsize_t(op->n);
        if (expected == NULL) return -1;
        raise_incomplete(r, expected);
        Py_DECREF(expected);
        return -1;
      }
      *result = take(r, op->n);
      return *result != NULL ? 1 : -1;
    default:
      return step_until(op, first, result);
  }
}

/* -- the coroutine protocol -------------------------------------------------------------- */

/* Stops waiting: the reader forgets the op's future if it is still its
 * waiter (asyncio's `finally: self._waiter = None`). */
static void op_forget_waiter(StreamsOp* op) {
  PyObject* waiter = op->waiter;
  if (waiter == NULL) return;
  op->waiter = NULL;
  StreamsReader* r = op->reader;
  if (r != NULL && r->waiter == waiter) Py_CLEAR(r->waiter);
  Py_DECREF(waiter);
}

/* Done: what the op holds goes (its reader too, so that a reader and the
 * spare op it keeps make no cycle at rest). */
static void op_finish(StreamsOp* op) {
  op->state = OP_DONE;
  op_forget_waiter(op);
  Py_CLEAR(op->blocks);
  Py_CLEAR(op->separator);
  Py_CLEAR(op->reader);
}

static PySendResult op_send(StreamsOp* op, PyObject* arg, PyObject** presult) {
  (void)arg;
  *presult = NULL;
  if (op->kind == STREAMS_READY) {
    if (op->error != NULL) {
      streams_raise(op->error);
      return PYGEN_ERROR;
    }
    *presult = Py_NewRef(op->value != NULL ? op->value : Py_None);
    return PYGEN_RETURN;
  }
  int first = 0;
  switch (op->state) {
    case OP_NEW:
      first = 1;
      break;
    case OP_WAITING: {
      PyObject* waiter = op->waiter;
      StreamsReader* r = op->reader;
      if (r->waiter == waiter) {
        /* Not woken by the reader: the future's own outcome decides. */
        PyObject* outcome = PyObject_CallMethodNoArgs(waiter, str_result);
        if (outcome == NULL) {
          op_finish(op);
          return PYGEN_ERROR;
        }
        Py_DECREF(outcome);
      }
      op_forget_waiter(op);
      op->resumed = 1;
      break;
    }
    case OP_RUNNING:
      PyErr_SetString(PyExc_RuntimeError, "coroutine is being awaited already");
      return PYGEN_ERROR;
    default:
      PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
      return PYGEN_ERROR;
  }
  op->state = OP_RUNNING;
  PyObject* result = NULL;
  int rc = op_step(op, first, &result);
  op->resumed = 0;
  if (rc != 0) {
    op_finish(op);
    if (rc < 0) return PYGEN_ERROR;
    *presult = result;
    return PYGEN_RETURN;
  }
  PyObject* waiter = streams_reader_new_waiter(op->reader, op_names[(int)op->kind]);
  if (waiter == NULL || streams_mark_blocking(waiter) != 0) {
    if (waiter != NULL && op->reader->waiter == waiter) Py_CLEAR(op->reader->waiter);
    Py_XDECREF(waiter);
    op_finish(op);
    return PYGEN_ERROR;
  }
  op->waiter = waiter;
  op->state = OP_WAITING;
  *presult = Py_NewRef(waiter);
  return PYGEN_NEXT;
}

/* A PYGEN_RETURN's value as the StopIteration an iterator raises. */
static void set_stop_iteration(PyObject* value) {
  if (value == Py_None) {
    PyErr_SetNone(PyExc_StopIteration);
    return;
  }
  PyObject* exc = PyObject_CallOneArg(PyExc_StopIteration, value);
  if (exc != NULL) {
    PyErr_SetObject(PyExc_StopIteration, exc);
    Py_DECREF(exc);
  }
}

static PyObject* op_iternext(StreamsOp* op) {
  PyObject* result;
  PySendResult status = op_send(op, Py_None, &result);
  if (status == PYGEN_NEXT) return result;
  if (status == PYGEN_RETURN) {
    set_stop_iteration(result);
    Py_DECREF(result);
  }
  return NULL;
}

static PyObject* op_send_method(StreamsOp* op, PyObject* value) {
  PyObject* result;
  PySendResult status = op_send(op, value, &result);
  if (status == PYGEN_NEXT) return result;
  if (status == PYGEN_RETURN) {
    set_stop_iteration(result);
    Py_DECREF(result);
  }
  return NULL;
}

/* throw(exc) or throw(type[, value[, traceback]]): the op stops waiting and
 * raises it (a coroutine suspended in asyncio's _wait_for_data does the
 * same). */
static PyObject* op_throw(StreamsOp* op, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 3) {
    PyErr_Format(PyExc_TypeError, "throw expected 1 to 3 arguments, got %zd", nargs);
    return NULL;
  }
  PyObject* type = args[0];
  PyObject* value = nargs > 1 ? args[1] : NULL;
  PyObject* tb = nargs > 2 ? args[2] : NULL;
  if (tb == Py_None) tb = NULL;
  if (tb != NULL && !PyTraceBack_Check(tb)) {
    PyErr_SetString(PyExc_TypeError, "throw() third argument must be a traceback object");
    return NULL;
  }
  if (op->kind != STREAMS_READY) op_finish(op);
  if (PyExceptionClass_Check(type)) {
    Py_INCREF(type);
    Py_XINCREF(value);
    Py_XINCREF(tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
    PyErr_Restore(type, value, tb);
  } else if (PyExceptionInstance_Check(type)) {
    if (value != NULL && value != Py_None) {
      PyErr_SetString(PyExc_TypeError, "instance exception may not have a separate value");
      return NULL;
    }
    if (tb != NULL) PyException_SetTraceback(type, tb);
    PyErr_SetObject((PyObject*)Py_TYPE(type), type);
  } else {
    PyErr_Format(PyExc_TypeError,
                 "exceptions must be classes or instances deriving from BaseException, not %s",
                 Py_TYPE(type)->tp_name);
  }
  return NULL;
}

static PyObject* op_close(StreamsOp* op, PyObject* unused) {
  (void)unused;
  if (op->kind != STREAMS_READY) op_finish(op);
  Py_RETURN_NONE;
}

static PyObject* op_await(PyObject* self) {
  return Py_NewRef(self);
}

static PyObject* op_get_name(StreamsOp* op, void* unused) {
  (void)unused;
  return PyUnicode_FromString(op_names[(int)op->kind]);
}

static PyObject* op_get_qualname(StreamsOp* op, void* unused) {
  (void)unused;
  return PyUnicode_FromFormat("%s.%s", op->kind == STREAMS_READY ? "StreamWriter" : "StreamReader",
                              op_names[(int)op->kind]);
}

static PyObject* op_get_running(StreamsOp* op, void* unused) {
  (void)unused;
  return PyBool_FromLong(op->state == OP_RUNNING);
}

static PyObject* op_get_await(StreamsOp* op, void* unused) {
  (void)unused;
  return Py_NewRef(op->waiter != NULL ? op->waiter : Py_None);
}

static int op_traverse(StreamsOp* op, visitproc visit, void* arg) {
  Py_VISIT(op->reader);
  Py_VISIT(op->waiter);
  Py_VISIT(op->separator);
  Py_VISIT(op->blocks);
  Py_VISIT(op->value);
  Py_VISIT(op->error);
  return 0;
}

static int op_clear(StreamsOp* op) {
  op_forget_waiter(op);
  Py_CLEAR(op->reader);
  Py_CLEAR(op->separator);
  Py_CLEAR(op->blocks);
  Py_CLEAR(op->value);
  Py_CLEAR(op->error);
  return 0;
}

static void op_dealloc(StreamsOp* op) {
  PyObject_GC_UnTrack(op);
  op_clear(op);
  PyObject_GC_Del(op);
}

static PyMethodDef op_methods[] = {
    {"send", (PyCFunction)op_send_method, METH_O, "Runs the read on; as coroutine.send."},
    {"throw", (PyCFunction)(void (*)(void))op_throw, METH_FASTCALL,
     "Stops waiting and raises the exception; as coroutine.throw."},
    {"close", (PyCFunction)op_close, METH_NOARGS, "Stops waiting; as coroutine.close."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef op_getset[] = {
    {"__name__", (getter)op_get_name, NULL, NULL, NULL},
    {"__qualname__", (getter)op_get_qualname, NULL, NULL, NULL},
    {"cr_running", (getter)op_get_running, NULL, NULL, NULL},
    {"cr_await", (getter)op_get_await, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyAsyncMethods op_async = {
    .am_await = op_await,
    .am_send = (sendfunc)op_send,
};

static PyTypeObject StreamsOp_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.StreamsOp",
    .tp_basicsize = sizeof(StreamsOp),
    .tp_dealloc = (destructor)op_dealloc,
    .tp_as_async = &op_async,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A read of a weft.StreamReader (or a drain), awaited as a coroutine.",
    .tp_traverse = (traverseproc)op_traverse,
    .tp_clear = (inquiry)op_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)op_iternext,
    .tp_methods = op_methods,
    .tp_getset = op_getset,
};

int weft_py_streams_op_init(PyObject* module) {
  str_result = PyUnicode_InternFromString("result");
  if (str_result == NULL) return -1;
  if (PyType_Ready(&StreamsOp_Type) < 0) return -1;
  done_op = streams_op_new(NULL, STREAMS_READY, 0, NULL);
  if (done_op == NULL) return -1;
  return PyModule_AddObjectRef(module, "StreamsOp", (PyObject*)&StreamsOp_Type);
}
