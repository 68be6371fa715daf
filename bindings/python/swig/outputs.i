/* swig/outputs.i: out parameters as results, and the other argument shapes
 * of the C API (byte buffers, arrays of futures, text buffers).
 *
 * - `T** out` handles, scalar outs (`size_t* out`, `uint16_t* out`, ...) and
 *   weft_pipe_pair's two streams come back as the function's result (a
 *   tuple when there are several).
 * - weft_stats, weft_run_report and weft_tls_info come back as new structs (struct_size
 *   set by the binding); weft_address as a (host, port) tuple.
 * - (const void* bytes, size_t len) and the delimiter take any buffer
 *   (bytes, bytearray, memoryview), read during the call only.
 * - weft_future_t* const* futures, size_t count take a sequence of futures.
 * - weft_runtime_dump_text and weft_pipe_listener_path return str.
 * Helpers for handing handles across languages: address_of(handle) -> int,
 * handle_from_address(address, "weft_runtime_t") -> handle, and
 * address_list_at / datagram_at to read the POINTER values that weft_resolve
 * and weft_udp_recv_from futures resolve with (while the future is held). */

/* Out handles: returned. */
%define WEFT_OUT_HANDLE(TYPE, NAME)
%typemap(in, numinputs=0) TYPE** NAME (TYPE* tmp = NULL) { $1 = &tmp; }
%typemap(argout) TYPE** NAME {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, $*1_descriptor, 0));
}
%enddef
WEFT_OUT_HANDLE(weft_runtime_t, out)
WEFT_OUT_HANDLE(weft_loop_t, out)
WEFT_OUT_HANDLE(weft_scope_t, out)
WEFT_OUT_HANDLE(weft_future_t, out)
WEFT_OUT_HANDLE(weft_executor_t, out)
WEFT_OUT_HANDLE(weft_stream_t, out)
WEFT_OUT_HANDLE(weft_stream_t, a)
WEFT_OUT_HANDLE(weft_stream_t, b)
WEFT_OUT_HANDLE(weft_tcp_listener_t, out)
WEFT_OUT_HANDLE(weft_pipe_listener_t, out)
WEFT_OUT_HANDLE(weft_udp_socket_t, out)
WEFT_OUT_HANDLE(weft_file_t, out)
WEFT_OUT_HANDLE(weft_process_t, out)
WEFT_OUT_HANDLE(weft_signal_t, out)
WEFT_OUT_HANDLE(weft_fd_watch_t, out)
WEFT_OUT_HANDLE(weft_tls_context_t, out)

/* Scalar outs. */
%apply uint64_t* OUTPUT { uint64_t* out };
%apply int64_t* OUTPUT { int64_t* out };
%apply unsigned short* OUTPUT { uint16_t* out };
%typemap(in, numinputs=0) size_t* out (size_t tmp = 0) { $1 = &tmp; }
%typemap(argout) size_t* out { $result = SWIG_Python_AppendOutput($result, PyLong_FromSize_t(*$1)); }

/* Struct outs: a new struct owned by Python. */
%define WEFT_OUT_STRUCT(TYPE)
%typemap(in, numinputs=0) TYPE* out (TYPE* tmp = NULL) {
  tmp = (TYPE*)calloc(1, sizeof(TYPE));
  if (tmp == NULL) { PyErr_NoMemory(); SWIG_fail; }
  tmp->struct_size = sizeof(TYPE);
  $1 = tmp;
}
%typemap(argout) TYPE* out {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $1_descriptor, SWIG_POINTER_OWN));
  tmp$argnum = NULL;
}
%typemap(freearg) TYPE* out { free(tmp$argnum); }
%enddef
WEFT_OUT_STRUCT(weft_stats)
WEFT_OUT_STRUCT(weft_run_report)
WEFT_OUT_STRUCT(weft_tls_info)

/* weft_address out: (host, port). */
%typemap(in, numinputs=0) weft_address* out (weft_address tmp) {
  memset(&tmp, 0, sizeof tmp);
  $1 = &tmp;
}
%typemap(argout) weft_address* out { $result = SWIG_Python_AppendOutput($result, weft_py_address($1)); }

/* Byte buffers in. */
%define WEFT_BUFFER_IN(DATA, SIZE)
%typemap(in) (const void* DATA, size_t SIZE) (Py_buffer view, int has_view = 0) {
  if (PyObject_GetBuffer($input, &view, PyBUF_CONTIG_RO) != 0) SWIG_fail;
  has_view = 1;
  $1 = view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg) (const void* DATA, size_t SIZE) { if (has_view$argnum) PyBuffer_Release(&view$argnum); }
%enddef
WEFT_BUFFER_IN(bytes, len)
WEFT_BUFFER_IN(delimiter, delimiter_len)

/* Arrays of futures in. */
%typemap(in) (weft_future_t* const* futures, size_t count) (weft_future_t** array = NULL) {
  PyObject* seq = PySequence_Fast($input, "futures: expected a sequence of futures");
  if (seq == NULL) SWIG_fail;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  array = (weft_future_t**)calloc(n > 0 ? (size_t)n : 1, sizeof *array);
  if (array == NULL) { Py_DECREF(seq); PyErr_NoMemory(); SWIG_fail; }
  for (Py_ssize_t i = 0; i < n; ++i) {
    void* p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(PySequence_Fast_GET_ITEM(seq, i), &p, SWIGTYPE_p_weft_future, 0))) {
      Py_DECREF(seq);
      SWIG_exception_fail(SWIG_TypeError, "futures: every item must be a weft_future_t");
    }
    array[i] = (weft_future_t*)p;
  }
  Py_DECREF(seq);
  $1 = array;
  $2 = (size_t)n;
}
%typemap(freearg) (weft_future_t* const* futures, size_t count) { free(array$argnum); }

/* Text outs: a hand-written wrapper each (sized by a first call). */
%typemap(in, numinputs=0) char** text (char* tmp = NULL) { $1 = &tmp; }
%typemap(argout) char** text {
  $result = SWIG_Python_AppendOutput($result, PyUnicode_DecodeUTF8(*$1, (Py_ssize_t)strlen(*$1), "replace"));
}
%typemap(freearg) char** text { free(*$1); }

%ignore weft_runtime_dump_text;
%rename(weft_runtime_dump_text) weft_py_runtime_dump_text;
%ignore weft_pipe_listener_path;
%rename(weft_pipe_listener_path) weft_py_pipe_listener_path;
%inline %{
static weft_status weft_py_runtime_dump_text(char** text, weft_runtime_t* runtime) {
  size_t length = 0;
  weft_status status = weft_runtime_dump_text(NULL, 0, &length, runtime);
  for (int attempt = 0; status == WEFT_OK && attempt < 4; ++attempt) {
    size_t capacity = length + 256; /* room for what appears between the calls */
    char* buffer = (char*)malloc(capacity);
    if (buffer == NULL) return WEFT_ERR_NO_MEMORY;
    status = weft_runtime_dump_text(buffer, capacity, &length, runtime);
    if (status == WEFT_OK && length < capacity) {
      *text = buffer;
      return WEFT_OK;
    }
    free(buffer);
  }
  return status == WEFT_OK ? WEFT_ERR_NO_MEMORY : status;
}

static weft_status weft_py_pipe_listener_path(char** text, weft_pipe_listener_t* listener) {
  char* buffer = (char*)malloc(WEFT_PIPE_PATH_MAX + 1);
  if (buffer == NULL) return WEFT_ERR_NO_MEMORY;
  weft_status status = weft_pipe_listener_path(buffer, WEFT_PIPE_PATH_MAX + 1, NULL, listener);
  if (status != WEFT_OK) {
    free(buffer);
    return status;
  }
  *text = buffer;
  return WEFT_OK;
}
%}

/* Handles across languages (ctypes, C plugins): raw addresses. */
%nothreadallow;
%inline %{
/* The address of a weft handle (any SWIG pointer object) as an int. */
static PyObject* address_of(PyObject* handle) {
  void* p = NULL;
  if (handle == Py_None) return PyLong_FromLong(0);
  if (!SWIG_IsOK(SWIG_ConvertPtr(handle, &p, NULL, 0))) {
    PyErr_SetString(PyExc_TypeError, "address_of: expected a weft handle");
    return NULL;
  }
  return PyLong_FromVoidPtr(p);
}

/* A handle of type `type_name` ("weft_runtime_t", "weft_future_t", ...) at
 * `address`; 0 gives None. weft checks handles on every call, so a wrong
 * address fails there with WEFT_ERR_INVALID_HANDLE, never a crash. */
static PyObject* handle_from_address(PyObject* address, const char* type_name) {
  void* p = PyLong_AsVoidPtr(address);
  if (p == NULL && PyErr_Occurred()) return NULL;
  static const char* const known[] = {"weft_runtime_t", "weft_loop_t", "weft_scope_t", "weft_future_t",
                                      "weft_executor_t", "weft_stream_t", "weft_tcp_listener_t",
                                      "weft_pipe_listener_t", "weft_udp_socket_t", "weft_file_t",
                                      "weft_process_t", "weft_signal_t", "weft_fd_watch_t", NULL};
  int ok = 0;
  for (int i = 0; type_name != NULL && known[i] != NULL; ++i) ok |= strcmp(known[i], type_name) == 0;
  char query[64];
  snprintf(query, sizeof query, "%s *", type_name != NULL ? type_name : "");
  swig_type_info* type = ok ? SWIG_TypeQuery(query) : NULL;
  if (type == NULL) {
    PyErr_Format(PyExc_ValueError, "handle_from_address: unknown handle type '%s'", type_name);
    return NULL;
  }
  return SWIG_NewPointerObj(p, type, 0);
}

/* The weft_address_list a resolve's POINTER value points to, as
 * [(host, port), ...] (read now: hold the future while calling). */
static PyObject* address_list_at(PyObject* address) {
  const weft_address_list* list = (const weft_address_list*)PyLong_AsVoidPtr(address);
  if (list == NULL) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "address_list_at: NULL");
    return NULL;
  }
  return weft_py_address_list(list->addresses, list->count);
}

/* The weft_datagram a receive's POINTER value points to, as
 * (data, (host, port), truncated). */
static PyObject* datagram_at(PyObject* address) {
  const weft_datagram* d = (const weft_datagram*)PyLong_AsVoidPtr(address);
  if (d == NULL) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "datagram_at: NULL");
    return NULL;
  }
  return Py_BuildValue("(y#NO)", (const char*)d->data.data, (Py_ssize_t)d->data.size,
                       weft_py_address(&d->from), d->truncated ? Py_True : Py_False);
}
%}
%clearnothreadallow;
