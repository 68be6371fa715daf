/* native/fdwatch.c: weft._capi.FdWatcher, one file descriptor watched for
 * weft.Loop's add_reader/add_writer (weft_fd_watch + one-shot
 * weft_fd_wait per direction, waited for again after each callback, which
 * makes it level-triggered as asyncio's readers are).
 *
 * Thread: loop thread, GIL held. The watcher owns its weft watch (ended by
 * close()), its reader and writer handles, and a reference to the loop;
 * each pending wait owns a reference to the watcher. The descriptor stays
 * the caller's.
 */
#include "native/loop.h"

typedef struct {
  PyObject_HEAD
  WeftPyLoop* loop;
  weft_fd_watch_t* watch; /* NULL once closed */
  int fd;
  WeftPyHandle* reader;
  WeftPyHandle* writer;
  int read_pending, write_pending;
} FdWatcher;

static PyTypeObject FdWatcher_Type;

static int arm(FdWatcher* self, int events);

typedef struct {
  FdWatcher* watcher;
  int events;
} pending_wait;

static void wait_done(void* user, weft_status status, const char* message, int ready) {
  (void)message;
  (void)ready;
  pending_wait* wait = user;
  FdWatcher* self = wait->watcher;
  int events = wait->events;
  PyMem_RawFree(wait);
  PyGILState_STATE gil = 0;
  int ensured = 0;
  weft_py_gil_claim(self->loop);
  if (!PyGILState_Check()) {
    gil = PyGILState_Ensure();
    ensured = 1;
  }
  if (events == WEFT_FD_READABLE) {
    self->read_pending = 0;
  } else {
    self->write_pending = 0;
  }
  WeftPyHandle* handle = events == WEFT_FD_READABLE ? self->reader : self->writer;
  if (status == WEFT_OK && handle != NULL && !handle->cancelled && self->watch != NULL &&
      !self->loop->closed) {
    Py_INCREF(handle);
    if (weft_py_ready_push(self->loop, handle) != 0) {
      PyErr_WriteUnraisable((PyObject*)self);
    } else if (!self->loop->in_batch) {
      weft_py_run_batch(self->loop);
    }
    /* Still wanted after the callback ran: wait again (level-triggered). */
    WeftPyHandle* now = events == WEFT_FD_READABLE ? self->reader : self->writer;
    if (now != NULL && !now->cancelled && self->watch != NULL && !self->loop->closed) {
      if (arm(self, events) != 0) PyErr_WriteUnraisable((PyObject*)self);
    }
  }
  Py_DECREF(self);
  if (ensured) PyGILState_Release(gil);
}

static int arm(FdWatcher* self, int events) {
  int* pending = events == WEFT_FD_READABLE ? &self->read_pending : &self->write_pending;
  if (*pending) return 0;
  pending_wait* wait = PyMem_RawMalloc(sizeof(*wait));
  if (wait == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  wait->watcher = self;
  wait->events = events;
  Py_INCREF(self);
  weft_status status = weft_fd_wait(NULL, self->watch, events, wait_done, wait);
  if (status != WEFT_OK) {
    PyMem_RawFree(wait);
    Py_DECREF(self);
    PyErr_Format(PyExc_OSError, "weft_fd_wait(%d): %s", self->fd, weft_status_name(status));
    return -1;
  }
  *pending = 1;
  return 0;
}

/* FdWatcher(loop, fd) */
static PyObject* watcher_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static char* names[] = {"loop", "fd", NULL};
  PyObject* loop;
  int fd;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!i:FdWatcher", names, &WeftPyLoop_Type, &loop,
                                   &fd)) {
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
  weft_fd_watch_t* watch = NULL;
  weft_status status = weft_fd_watch(&watch, l->wloop, fd);
  if (status != WEFT_OK) {
    PyErr_Format(status == WEFT_ERR_INVALID_ARGUMENT ? PyExc_ValueError : PyExc_OSError,
                 "cannot watch file descriptor %d (%s)", fd, weft_status_name(status));
    return NULL;
  }
  FdWatcher* self = (FdWatcher*)type->tp_alloc(type, 0);
  if (self == NULL) {
    weft_fd_watch_close(watch);
    return NULL;
  }
  Py_INCREF(loop);
  self->loop = l;
  self->watch = watch;
  self->fd = fd;
  return (PyObject*)self;
}

static PyObject* set_handle(FdWatcher* self, PyObject* handle, int events) {
  if (!PyObject_TypeCheck(handle, &WeftPyHandle_Type)) {
    PyErr_SetString(PyExc_TypeError, "a weft handle was expected");
    return NULL;
  }
  if (self->watch == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "the watcher is closed");
    return NULL;
  }
  WeftPyHandle** slot = events == WEFT_FD_READABLE ? &self->reader : &self->writer;
  WeftPyHandle* old = *slot;
  Py_INCREF(handle);
  *slot = (WeftPyHandle*)handle;
  if (arm(self, events) != 0) {
    *slot = old;
    Py_DECREF(handle);
    return NULL;
  }
  if (old != NULL) {
    PyObject* r = PyObject_CallMethod((PyObject*)old, "cancel", NULL);
    Py_XDECREF(r);
    Py_DECREF(old);
    if (r == NULL) return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject* clear_handle(FdWatcher* self, int events) {
  WeftPyHandle** slot = events == WEFT_FD_READABLE ? &self->reader : &self->writer;
  WeftPyHandle* old = *slot;
  *slot = NULL;
  if (old == NULL) Py_RETURN_FALSE;
  PyObject* r = PyObject_CallMethod((PyObject*)old, "cancel", NULL);
  Py_DECREF(old);
  if (r == NULL) return NULL;
  Py_DECREF(r);
  Py_RETURN_TRUE;
}

static PyObject* watcher_set_reader(FdWatcher* self, PyObject* h) {
  return set_handle(self, h, WEFT_FD_READABLE);
}
static PyObject* watcher_set_writer(FdWatcher* self, PyObject* h) {
  return set_handle(self, h, WEFT_FD_WRITABLE);
}
static PyObject* watcher_remove_reader(FdWatcher* self, PyObject* u) {
  (void)u;
  return clear_handle(self, WEFT_FD_READABLE);
}
static PyObject* watcher_remove_writer(FdWatcher* self, PyObject* u) {
  (void)u;
  return clear_handle(self, WEFT_FD_WRITABLE);
}

static void watcher_end(FdWatcher* self) {
  if (self->watch != NULL) {
    weft_fd_watch_t* watch = self->watch;
    self->watch = NULL;
    /* Pending waits are called back (cancelled) inside this call; a watch
     * the runtime already ended is stale, which is fine. */
    if (!self->loop->closed || !self->loop->owns_runtime) weft_fd_watch_close(watch);
  }
}

static PyObject* watcher_close(FdWatcher* self, PyObject* u) {
  (void)u;
  Py_INCREF(self);
  watcher_end(self);
  Py_CLEAR(self->reader);
  Py_CLEAR(self->writer);
  Py_DECREF(self);
  Py_RETURN_NONE;
}

static PyObject* watcher_get_reader(FdWatcher* self, void* u) {
  (void)u;
  if (self->reader == NULL) Py_RETURN_NONE;
  Py_INCREF(self->reader);
  return (PyObject*)self->reader;
}
static PyObject* watcher_get_writer(FdWatcher* self, void* u) {
  (void)u;
  if (self->writer == NULL) Py_RETURN_NONE;
  Py_INCREF(self->writer);
  return (PyObject*)self->writer;
}

static int watcher_traverse(FdWatcher* self, visitproc visit, void* arg) {
  /* Handles are not GC objects: report what they hold. */
  if (self->reader != NULL) {
    int r = weft_py_handle_traverse_contents(self->reader, visit, arg);
    if (r != 0) return r;
  }
  if (self->writer != NULL) {
    int r = weft_py_handle_traverse_contents(self->writer, visit, arg);
    if (r != 0) return r;
  }
  Py_VISIT(self->loop);
  return 0;
}

static int watcher_clear(FdWatcher* self) {
  Py_CLEAR(self->reader);
  Py_CLEAR(self->writer);
  return 0;
}

static void watcher_dealloc(FdWatcher* self) {
  PyObject_GC_UnTrack(self);
  /* Pending waits hold references: none is left, so the watch has no
   * waits; end it if still open and the loop can. */
  if (self->watch != NULL && !self->loop->closed) weft_fd_watch_close(self->watch);
  watcher_clear(self);
  Py_CLEAR(self->loop);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyMethodDef watcher_methods[] = {
    {"set_reader", (PyCFunction)watcher_set_reader, METH_O, "Runs the handle when readable."},
    {"set_writer", (PyCFunction)watcher_set_writer, METH_O, "Runs the handle when writable."},
    {"remove_reader", (PyCFunction)watcher_remove_reader, METH_NOARGS, "True if there was one."},
    {"remove_writer", (PyCFunction)watcher_remove_writer, METH_NOARGS, "True if there was one."},
    {"close", (PyCFunction)watcher_close, METH_NOARGS, "Ends the watch (before closing the fd)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef watcher_getset[] = {
    {"reader", (getter)watcher_get_reader, NULL, NULL, NULL},
    {"writer", (getter)watcher_get_writer, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject FdWatcher_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._capi.FdWatcher",
    .tp_basicsize = sizeof(FdWatcher),
    .tp_dealloc = (destructor)watcher_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A file descriptor watched for weft.Loop's readers and writers.",
    .tp_traverse = (traverseproc)watcher_traverse,
    .tp_clear = (inquiry)watcher_clear,
    .tp_methods = watcher_methods,
    .tp_getset = watcher_getset,
    .tp_new = watcher_new,
};

int weft_py_fdwatch_init(PyObject* module) {
  if (PyType_Ready(&FdWatcher_Type) < 0) return -1;
  return PyModule_AddObjectRef(module, "FdWatcher", (PyObject*)&FdWatcher_Type);
}
