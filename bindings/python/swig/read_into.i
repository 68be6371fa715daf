/* swig/read_into.i: weft_stream_read_into(stream, buffer, callback=None)
 * for weft.capi: reads 1..len(buffer) bytes into `buffer`, a writable
 * bytes-like object (bytearray, memoryview, array, mmap), held (exported)
 * until the read ends; callback(status, message, count), count 0 unless
 * WEFT_OK; the future (if asked for) resolves with the count. The C
 * function's memory callback lends that buffer whole, so its bytes are read
 * straight from the kernel into it when weft holds none already. (The
 * asyncio transports lend a BufferedProtocol's get_buffer() the same way,
 * natively: native/stream_read.c.) */

%{
/* One pending weft_stream_read_into from Python: the exported buffer and
 * the callable (a reference each, dropped by the done trampoline). */
typedef struct weft_py_read_into {
  Py_buffer view;
  PyObject* callback; /* or NULL */
} weft_py_read_into;

/* Loop thread; no Python call, so no GIL: the view is held already. */
static void* weft_py_read_into_memory(void* user, size_t* len) {
  weft_py_read_into* r = (weft_py_read_into*)user;
  *len = (size_t)r->view.len;
  return r->view.buf;
}

static void weft_py_read_into_done(void* user, weft_status status, const char* message,
                                   const void* bytes, size_t len) {
  (void)bytes;
  weft_py_read_into* r = (weft_py_read_into*)user;
  WEFT_PY_ENTER(gil);
  PyBuffer_Release(&r->view);
  PyObject* callback = r->callback;
  free(r);
  if (callback == NULL) {
    weft_py_leave(gil);
    return;
  }
  weft_py_leave_once(callback,
                     PyObject_CallFunction(callback, "izn", (int)status, message, (Py_ssize_t)len), gil);
}
%}

%ignore weft_stream_read_into;
%rename(weft_stream_read_into) weft_py_stream_read_into;
%typemap(default) PyObject* callback { $1 = Py_None; }
%nothreadallow weft_py_stream_read_into;
%inline %{
static weft_status weft_py_stream_read_into(weft_future_t** out, weft_stream_t* stream,
                                            PyObject* buffer, PyObject* callback) {
  if (callback != Py_None && !PyCallable_Check(callback)) {
    weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_stream_read_into",
                          "callback: expected a callable or None");
    return WEFT_ERR_INVALID_ARGUMENT;
  }
  weft_py_read_into* r = (weft_py_read_into*)calloc(1, sizeof *r);
  if (r == NULL) return WEFT_ERR_NO_MEMORY;
  if (PyObject_GetBuffer(buffer, &r->view, PyBUF_WRITABLE) != 0) {
    PyErr_Clear();
    free(r);
    weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_stream_read_into",
                          "buffer: expected a writable bytes-like object");
    return WEFT_ERR_INVALID_ARGUMENT;
  }
  if (r->view.len == 0) {
    PyBuffer_Release(&r->view);
    free(r);
    weft_py_misuse_record(WEFT_ERR_INVALID_ARGUMENT, "weft_stream_read_into", "buffer: empty");
    return WEFT_ERR_INVALID_ARGUMENT;
  }
  if (callback != Py_None) {
    Py_INCREF(callback);
    r->callback = callback;
  }
  weft_status status;
  Py_BEGIN_ALLOW_THREADS
  status = weft_stream_read_into(out, stream, weft_py_read_into_memory, weft_py_read_into_done, r);
  Py_END_ALLOW_THREADS
  if (status != WEFT_OK) { /* nothing was called */
    PyBuffer_Release(&r->view);
    Py_XDECREF(r->callback);
    free(r);
  }
  return status;
}
%}
