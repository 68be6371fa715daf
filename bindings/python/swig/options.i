/* swig/options.i: the option structs, constructed with their defaults.
 *
 * weft_X_options() (and the weft_X_options_init() functions, which return a
 * new struct instead of filling one) give the defaults with struct_size
 * set; fields are then set as attributes. Strings set on them are copied
 * and owned by the struct (freed with it). weft_process_options takes its
 * argv and environment as lists: set_args([...]) and set_env([...] or None);
 * weft_tls_context_options its ALPN protocols as set_alpn([...] or None).
 * weft_runtime_options.set_allocator(alloc, free, user) takes C function
 * addresses (see swig/handlers.i). Structs weft hands out during a callback
 * (weft_event, weft_object_info) reach Python as dicts; weft_stats and
 * weft_run_report are read-only, as is weft_tls_info. */

%{
static char* weft_py_strdup(const char* text) {
  if (text == NULL) return NULL;
  size_t size = strlen(text) + 1;
  char* copy = (char*)malloc(size);
  if (copy != NULL) memcpy(copy, text, size);
  return copy;
}

static void weft_py_free_strings(const char* const* strings) {
  if (strings == NULL) return;
  for (size_t i = 0; strings[i] != NULL; ++i) free((void*)strings[i]);
  free((void*)strings);
}

/* A NULL-terminated copy of a sequence of str (GIL held); NULL with an error set. */
static const char* const* weft_py_string_array(PyObject* seq_object, const char* what) {
  PyObject* seq = PySequence_Fast(seq_object, what);
  if (seq == NULL) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  char** strings = (char**)calloc((size_t)n + 1, sizeof *strings);
  if (strings == NULL) {
    Py_DECREF(seq);
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    const char* text = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
    strings[i] = text != NULL ? weft_py_strdup(text) : NULL;
    if (strings[i] == NULL) {
      if (!PyErr_Occurred()) PyErr_NoMemory();
      weft_py_free_strings((const char* const*)strings);
      Py_DECREF(seq);
      return NULL;
    }
  }
  Py_DECREF(seq);
  return (const char* const*)strings;
}
%}

/* String fields: owned copies. */
%typemap(memberin) const char* name, const char* file, const char* cwd,
                    const char* ca_file, const char* ca_pem, const char* cert_file,
                    const char* key_file, const char* cert_pem, const char* key_pem {
  char* copy = weft_py_strdup($input);
  if ($input != NULL && copy == NULL) SWIG_exception_fail(SWIG_MemoryError, "out of memory");
  free((void*)$1);
  $1 = copy;
}

/* An options struct: default constructor, the _init function returning a
 * new one, and a destructor freeing what the binding copied into it. */
%define WEFT_OPTIONS(TYPE, INIT, FREE_OWNED)
%typemap(in, numinputs=0) (TYPE* options, size_t struct_size) (TYPE* tmp = NULL) {
  tmp = (TYPE*)calloc(1, sizeof(TYPE));
  if (tmp == NULL) { PyErr_NoMemory(); SWIG_fail; }
  $1 = tmp;
  $2 = sizeof(TYPE);
}
%typemap(argout) (TYPE* options, size_t struct_size) {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $descriptor(TYPE*), SWIG_POINTER_OWN));
  tmp$argnum = NULL;
}
%typemap(freearg) (TYPE* options, size_t struct_size) { free(tmp$argnum); }
%extend TYPE {
  TYPE() {
    TYPE* o = (TYPE*)calloc(1, sizeof(TYPE));
    if (o != NULL) INIT(o, sizeof(TYPE));
    return o;
  }
  ~TYPE() {
    FREE_OWNED
    free($self);
  }
}
%immutable TYPE::struct_size;
%enddef

WEFT_OPTIONS(weft_runtime_options, weft_runtime_options_init, free((void*)$self->name);)
WEFT_OPTIONS(weft_pool_options, weft_pool_options_init, free((void*)$self->name);)
WEFT_OPTIONS(weft_resolve_options, weft_resolve_options_init, )
WEFT_OPTIONS(weft_file_options, weft_file_options_init, )
WEFT_OPTIONS(weft_tcp_listen_options, weft_tcp_listen_options_init, )
WEFT_OPTIONS(weft_udp_bind_options, weft_udp_bind_options_init, )
WEFT_OPTIONS(weft_pipe_listen_options, weft_pipe_listen_options_init, )
WEFT_OPTIONS(weft_process_options, weft_process_options_init,
             free((void*)$self->file); free((void*)$self->cwd);
             weft_py_free_strings($self->args); weft_py_free_strings($self->env);)
WEFT_OPTIONS(weft_tls_context_options, weft_tls_context_options_init,
             free((void*)$self->ca_file); free((void*)$self->ca_pem);
             free((void*)$self->cert_file); free((void*)$self->key_file);
             free((void*)$self->cert_pem); free((void*)$self->key_pem);
             weft_py_free_strings($self->alpn);)

/* weft_stream_limits: the same shape, its own parameter name. */
%typemap(in, numinputs=0) (weft_stream_limits* limits, size_t struct_size) (weft_stream_limits* tmp = NULL) {
  tmp = (weft_stream_limits*)calloc(1, sizeof(weft_stream_limits));
  if (tmp == NULL) { PyErr_NoMemory(); SWIG_fail; }
  $1 = tmp;
  $2 = sizeof(weft_stream_limits);
}
%typemap(argout) (weft_stream_limits* limits, size_t struct_size) {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $descriptor(weft_stream_limits*), SWIG_POINTER_OWN));
  tmp$argnum = NULL;
}
%typemap(freearg) (weft_stream_limits* limits, size_t struct_size) { free(tmp$argnum); }
%extend weft_stream_limits {
  weft_stream_limits() {
    weft_stream_limits* o = (weft_stream_limits*)calloc(1, sizeof *o);
    if (o != NULL) weft_stream_limits_init(o, sizeof *o);
    return o;
  }
  ~weft_stream_limits() { free($self); }
}
%immutable weft_stream_limits::struct_size;

/* The process's argv and environment. */
%ignore weft_process_options::args;
%ignore weft_process_options::env;
%nothreadallow;
%extend weft_process_options {
  PyObject* set_args(PyObject* args) {
    const char* const* copy = weft_py_string_array(args, "args: expected a sequence of str");
    if (copy == NULL) return NULL;
    weft_py_free_strings($self->args);
    $self->args = copy;
    Py_RETURN_NONE;
  }
  PyObject* set_env(PyObject* env) {
    const char* const* copy = NULL;
    if (env != Py_None && (copy = weft_py_string_array(env, "env: expected a sequence of str or None")) == NULL)
      return NULL;
    weft_py_free_strings($self->env);
    $self->env = copy;
    Py_RETURN_NONE;
  }
}
%clearnothreadallow;

/* TLS: the ALPN protocols as a list (alpn_count follows it). */
%ignore weft_tls_context_options::alpn;
%immutable weft_tls_context_options::alpn_count;
%nothreadallow;
%extend weft_tls_context_options {
  PyObject* set_alpn(PyObject* protocols) {
    const char* const* copy = NULL;
    size_t count = 0;
    if (protocols != Py_None) {
      copy = weft_py_string_array(protocols, "alpn: expected a sequence of str or None");
      if (copy == NULL) return NULL;
      while (copy[count] != NULL) ++count;
    }
    weft_py_free_strings($self->alpn);
    $self->alpn = count != 0 ? copy : NULL;
    $self->alpn_count = count;
    if (count == 0) weft_py_free_strings(copy);
    Py_RETURN_NONE;
  }
}
%clearnothreadallow;

/* The allocator: C functions by address. */
%ignore weft_runtime_options::allocator;
%ignore weft_allocator;
%nothreadallow weft_runtime_options::set_allocator;
%extend weft_runtime_options {
  /* alloc(user, size, alignment) / free(user, pointer, size, alignment), as
   * ints (e.g. ctypes.cast(fn, c_void_p).value); 0, 0: malloc and free. */
  PyObject* set_allocator(PyObject* alloc, PyObject* free_fn, PyObject* user) {
    void* a = PyLong_AsVoidPtr(alloc);
    void* f = PyErr_Occurred() ? NULL : PyLong_AsVoidPtr(free_fn);
    void* u = PyErr_Occurred() ? NULL : PyLong_AsVoidPtr(user);
    if (PyErr_Occurred()) return NULL;
    $self->allocator.alloc = (void* (*)(void*, size_t, size_t))a;
    $self->allocator.free = (void (*)(void*, void*, size_t, size_t))f;
    $self->allocator.user = u;
    Py_RETURN_NONE;
  }
}

/* Borrowed strings in what weft hands out: never freed by the binding. */
%immutable weft_object_info::name;
%immutable weft_object_info::scope;
%immutable weft_object_info::state;
%immutable weft_event::message;
%immutable weft_event::scope;

/* What a TLS handshake agreed on (weft_tls_get_info's result): read-only. */
%immutable weft_tls_info::struct_size;
%immutable weft_tls_info::peer_verified;
%immutable weft_tls_info::alpn;
%immutable weft_tls_info::server_name;
%immutable weft_tls_info::version;
%immutable weft_tls_info::cipher;
