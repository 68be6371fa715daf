/* io.c: weft's I/O for Lua tasks — TCP and Unix stream sockets (listen,
 * accept, connect, read, read_until, read_exactly, write, shutdown, close),
 * name resolution, whole-file reads and writes, subprocesses and signals.
 *
 * Operations that produce a value weft_value can carry start with a NULL
 * callback and hand their future back: the Lua side awaits it like any
 * future (and cancels it if the task is cancelled). Operations that produce
 * a handle (connect, accept) or an address list (resolve) resume the task
 * through a wl_wait (see task.c).
 *
 * Thread: the loop thread.
 * Ownership: every handle (stream, listener, process, signal watch) is a
 * userdata owning its weft handle; close() or __gc ends it, exactly once,
 * and never after its runtime is gone.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/lua/weft_lua.h"

enum wl_handle_kind { WL_STREAM, WL_TCP_LISTENER, WL_UNIX_LISTENER, WL_PROCESS, WL_SIGNAL };
static const char* const handle_mt[] = {WL_STREAM_MT, WL_LISTENER_MT, "weft.UnixListener",
                                        "weft.Process", "weft.Signal"};

typedef struct wl_handle {
  void* handle; /* NULL once closed */
  uint64_t epoch;
  int kind;
} wl_handle;

static void push_handle(lua_State* L, void* handle, int kind) {
  wl_handle* h = (wl_handle*)lua_newuserdata(L, sizeof *h);
  h->handle = handle;
  h->epoch = wl_state_get(L)->epoch;
  h->kind = kind;
  wl_setmetatable(L, handle_mt[kind]);
}

void wl_push_stream(lua_State* L, weft_stream_t* stream) { push_handle(L, stream, WL_STREAM); }

static void* check_handle(lua_State* L, int index, int kind) {
  wl_handle* h = (wl_handle*)luaL_checkudata(L, index, handle_mt[kind]);
  if (h->handle == NULL || h->epoch != wl_state_get(L)->epoch)
    wl_raise(L, WEFT_ERR_CLOSED, "the handle is closed");
  return h->handle;
}

static void close_handle(lua_State* L, wl_handle* h) {
  void* handle = h->handle;
  if (handle == NULL) return;
  h->handle = NULL;
  wl_state* S = wl_state_get(L);
  if (S->runtime == NULL || h->epoch != S->epoch) return; /* went with its runtime */
  switch (h->kind) {
    case WL_STREAM: weft_stream_close((weft_stream_t*)handle); break;
    case WL_TCP_LISTENER: weft_tcp_listener_close((weft_tcp_listener_t*)handle); break;
    case WL_UNIX_LISTENER: weft_pipe_listener_close((weft_pipe_listener_t*)handle); break;
    case WL_PROCESS: weft_process_close((weft_process_t*)handle); break;
    case WL_SIGNAL: weft_signal_close((weft_signal_t*)handle); break;
  }
}

/* close() and __gc of every handle type: refuses anything else. */
static int l_handle_close(lua_State* L) {
  for (size_t kind = 0; kind < sizeof handle_mt / sizeof handle_mt[0]; kind++) {
    wl_handle* h = (wl_handle*)luaL_testudata(L, 1, handle_mt[kind]);
    if (h != NULL) {
      close_handle(L, h);
      return 0;
    }
  }
  return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "close: not a weft stream, listener, process or signal watch");
}

/* Pushes the future of an operation just started, or raises. (Call the
 * operation first: `f` is only set once it has returned.) */
static int op_result(lua_State* L, weft_status status, weft_future_t* future, const char* what) {
  if (status != WEFT_OK) return wl_raise_op(L, status, what);
  wl_push_future(L, future);
  return 1;
}

/* ---- waits that resume with a handle or addresses ---- */

/* Registers a stream wait for the running task; returns 1 (true pushed) or
 * 2 (false, error). */
static int stream_wait(lua_State* L, weft_status (*start)(lua_State*, weft_future_t**, wl_wait*),
                       const char* what) {
  wl_state* S = wl_state_get(L);
  wl_wait* w = wl_wait_new(L, S, WL_WAIT_STREAM, what);
  weft_future_t* op = NULL;
  weft_status status = start(L, &op, w);
  if (status != WEFT_OK) {
    wl_wait_discard(L, w);
    lua_pushboolean(L, 0);
    wl_push_error(L, status, what);
    return 2;
  }
  w->op = op;
  wl_wait_begin(L, w);
  lua_pushboolean(L, 1);
  return 1;
}

static weft_status start_tcp_connect(lua_State* L, weft_future_t** op, wl_wait* w) {
  wl_state* S = wl_state_get(L);
  return weft_tcp_connect(op, S->loop, luaL_checkstring(L, 1), (uint16_t)luaL_checkinteger(L, 2),
                          (uint64_t)(luaL_optnumber(L, 3, 0) * 1e9), wl_on_stream, w);
}
static weft_status start_unix_connect(lua_State* L, weft_future_t** op, wl_wait* w) {
  wl_state* S = wl_state_get(L);
  return weft_pipe_connect(op, S->loop, luaL_checkstring(L, 1),
                           (uint64_t)(luaL_optnumber(L, 2, 0) * 1e9), wl_on_stream, w);
}
static weft_status start_tcp_accept(lua_State* L, weft_future_t** op, wl_wait* w) {
  return weft_tcp_accept(op, (weft_tcp_listener_t*)check_handle(L, 1, WL_TCP_LISTENER), wl_on_stream, w);
}
static weft_status start_unix_accept(lua_State* L, weft_future_t** op, wl_wait* w) {
  return weft_pipe_accept(op, (weft_pipe_listener_t*)check_handle(L, 1, WL_UNIX_LISTENER), wl_on_stream, w);
}

static int l_wait_tcp_connect(lua_State* L) {
  luaL_checkstring(L, 1);
  lua_Integer port = luaL_checkinteger(L, 2);
  if (port < 1 || port > 65535) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "tcp.connect: port must be 1..65535");
  return stream_wait(L, start_tcp_connect, "tcp.connect");
}
static int l_wait_unix_connect(lua_State* L) { return stream_wait(L, start_unix_connect, "unix.connect"); }
static int l_wait_tcp_accept(lua_State* L) { return stream_wait(L, start_tcp_accept, "listener:accept"); }
static int l_wait_unix_accept(lua_State* L) { return stream_wait(L, start_unix_accept, "listener:accept"); }

/* Resolve: resumes with a list of {host=, port=, family=} tables. */
static void on_resolved(void* user, weft_status status, const char* message,
                        const weft_address* addresses, size_t count) {
  /* Reuse the stream path's claim/resume through wl_on_bytes' helpers: the
   * addresses are formatted into one string "host port family\n..." and
   * parsed by the Lua side. */
  if (status != WEFT_OK) {
    wl_on_bytes(user, status, message, NULL, 0);
    return;
  }
  size_t cap = count * (WEFT_ADDRESS_HOST_SIZE + 16) + 1;
  char* text = (char*)malloc(cap);
  if (text == NULL) {
    wl_on_bytes(user, WEFT_ERR_NO_MEMORY, "out of memory", NULL, 0);
    return;
  }
  size_t len = 0;
  for (size_t i = 0; i < count; i++)
    len += (size_t)snprintf(text + len, cap - len, "%s %u %d\n", addresses[i].host,
                            (unsigned)addresses[i].port, (int)addresses[i].family);
  wl_on_bytes(user, WEFT_OK, NULL, text, len);
  free(text);
}

static int l_wait_resolve(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* host = luaL_checkstring(L, 1);
  lua_Integer port = luaL_optinteger(L, 2, 0);
  if (port < 0 || port > 65535) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "weft.resolve: port must be 0..65535");
  wl_wait* w = wl_wait_new(L, S, WL_WAIT_BYTES, "weft.resolve");
  weft_future_t* op = NULL;
  weft_status status = weft_resolve(&op, S->loop, host, (uint16_t)port, NULL, on_resolved, w);
  if (status != WEFT_OK) {
    wl_wait_discard(L, w);
    return wl_raise_op(L, status, "weft.resolve");
  }
  w->op = op;
  wl_wait_begin(L, w);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- listeners ---- */

static int l_tcp_listen(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* host = luaL_checkstring(L, 1);
  lua_Integer port = luaL_checkinteger(L, 2);
  wl_state_check_runtime(L, S, "tcp.listen");
  if (port < 0 || port > 65535) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "tcp.listen: port must be 0..65535");
  weft_tcp_listen_options options;
  weft_tcp_listen_options_init(&options, sizeof options);
  options.backlog = (int)luaL_optinteger(L, 3, 0);
  weft_tcp_listener_t* listener = NULL;
  weft_status status = weft_tcp_listen(&listener, S->loop, host, (uint16_t)port, &options);
  if (status != WEFT_OK) return wl_raise_op(L, status, "tcp.listen");
  push_handle(L, listener, WL_TCP_LISTENER);
  return 1;
}

static int l_tcp_listener_port(lua_State* L) {
  uint16_t port = 0;
  weft_status status = weft_tcp_listener_port(&port, (weft_tcp_listener_t*)check_handle(L, 1, WL_TCP_LISTENER));
  if (status != WEFT_OK) return wl_raise_op(L, status, "listener:port");
  lua_pushinteger(L, port);
  return 1;
}

static int l_unix_listen(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* path = luaL_checkstring(L, 1);
  wl_state_check_runtime(L, S, "unix.listen");
  weft_pipe_listener_t* listener = NULL;
  weft_status status = weft_pipe_listen(&listener, S->loop, path, NULL);
  if (status != WEFT_OK) return wl_raise_op(L, status, "unix.listen");
  push_handle(L, listener, WL_UNIX_LISTENER);
  return 1;
}

/* ---- stream operations: each returns the operation's future ---- */

static weft_stream_t* check_stream(lua_State* L) { return (weft_stream_t*)check_handle(L, 1, WL_STREAM); }

static int l_stream_read(lua_State* L) {
  weft_stream_t* s = check_stream(L);
  lua_Integer max = luaL_optinteger(L, 2, 65536);
  if (max < 1) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "stream:read: max must be at least 1");
  weft_future_t* f = NULL;
  weft_status status = weft_stream_read(&f, s, (size_t)max, NULL, NULL);
  return op_result(L, status, f, "stream:read");
}

static int l_stream_read_exactly(lua_State* L) {
  weft_stream_t* s = check_stream(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 0) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "stream:read_exactly: n must be >= 0");
  weft_future_t* f = NULL;
  weft_status status = weft_stream_read_exactly(&f, s, (size_t)n, NULL, NULL);
  return op_result(L, status, f, "stream:read_exactly");
}

static int l_stream_read_until(lua_State* L) {
  weft_stream_t* s = check_stream(L);
  size_t delimiter_len = 0;
  const char* delimiter = luaL_checklstring(L, 2, &delimiter_len);
  lua_Integer max = luaL_optinteger(L, 3, 65536);
  if (max < 1) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "stream:read_until: max must be at least 1");
  weft_future_t* f = NULL;
  weft_status status = weft_stream_read_until(&f, s, delimiter, delimiter_len, (size_t)max, NULL, NULL);
  return op_result(L, status, f, "stream:read_until");
}

static int l_stream_write(lua_State* L) {
  weft_stream_t* s = check_stream(L);
  size_t len = 0;
  const char* bytes = luaL_checklstring(L, 2, &len);
  weft_future_t* f = NULL;
  weft_status status = weft_stream_write(&f, s, bytes, len, NULL, NULL);
  return op_result(L, status, f, "stream:write");
}

static int l_stream_shutdown(lua_State* L) {
  weft_stream_t* s = check_stream(L);
  weft_future_t* f = NULL;
  weft_status status = weft_stream_shutdown(&f, s, NULL, NULL);
  return op_result(L, status, f, "stream:shutdown");
}

/* ---- files ---- */

static int l_file_read_all(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* path = luaL_checkstring(L, 1);
  wl_state_check_runtime(L, S, "weft.read_file");
  weft_future_t* f = NULL;
  weft_status status = weft_file_read_all(&f, S->loop, path, NULL, NULL, NULL);
  return op_result(L, status, f, "weft.read_file");
}

static int l_file_write_all(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* path = luaL_checkstring(L, 1);
  size_t len = 0;
  const char* bytes = luaL_checklstring(L, 2, &len);
  wl_state_check_runtime(L, S, "weft.write_file");
  weft_future_t* f = NULL;
  weft_status status = weft_file_write_all(&f, S->loop, path, bytes, len, NULL, NULL, NULL);
  return op_result(L, status, f, "weft.write_file");
}

/* ---- subprocesses ---- */

static weft_stdio_mode stdio_mode(lua_State* L, int options, const char* field) {
  lua_getfield(L, options, field);
  const char* mode = lua_isnil(L, -1) ? "inherit" : luaL_checkstring(L, -1);
  lua_pop(L, 1);
  if (strcmp(mode, "pipe") == 0) return WEFT_STDIO_PIPE;
  if (strcmp(mode, "null") == 0) return WEFT_STDIO_NULL;
  if (strcmp(mode, "inherit") == 0) return WEFT_STDIO_INHERIT;
  lua_pushfstring(L, "weft.spawn_process: %s must be \"pipe\", \"null\" or \"inherit\"", field);
  wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, lua_tostring(L, -1));
  return WEFT_STDIO_INHERIT;
}

/* weft.spawn_process(file, {args...}, {stdin=, stdout=, stderr=, cwd=}). */
static int l_process_spawn(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* file = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  wl_state_check_runtime(L, S, "weft.spawn_process");
  size_t nargs = wl_rawlen(L, 2);
  if (nargs == 0) return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "weft.spawn_process: args needs at least args[1]");
  weft_process_options options;
  weft_process_options_init(&options, sizeof options);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    options.stdin_mode = stdio_mode(L, 3, "stdin");
    options.stdout_mode = stdio_mode(L, 3, "stdout");
    options.stderr_mode = stdio_mode(L, 3, "stderr");
    lua_getfield(L, 3, "cwd");
    options.cwd = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_pop(L, 1); /* the string stays alive in the options table */
  }
  /* The strings stay alive in the args table during the call. */
  const char** args = (const char**)lua_newuserdata(L, (nargs + 1) * sizeof *args);
  for (size_t i = 0; i < nargs; i++) {
    lua_rawgeti(L, 2, (int)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      return wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "weft.spawn_process: every argument must be a string");
    args[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  args[nargs] = NULL;
  options.file = file;
  options.args = args;
  weft_process_t* process = NULL;
  weft_status status = weft_process_spawn(&process, S->loop, &options);
  if (status != WEFT_OK) {
    lua_pushfstring(L, "weft.spawn_process: cannot start %s", file);
    return wl_raise_op(L, status, lua_tostring(L, -1));
  }
  push_handle(L, process, WL_PROCESS);
  return 1;
}

static int l_process_pid(lua_State* L) {
  int pid = 0;
  weft_process_pid(&pid, (weft_process_t*)check_handle(L, 1, WL_PROCESS));
  lua_pushinteger(L, pid);
  return 1;
}

/* process:wait_future(): resolves with the exit code (minus the signal). */
static int l_process_wait(lua_State* L) {
  weft_future_t* f = NULL;
  weft_status status = weft_process_wait(&f, (weft_process_t*)check_handle(L, 1, WL_PROCESS), NULL, NULL);
  return op_result(L, status, f, "process:wait");
}

static int l_process_kill(lua_State* L) {
  weft_process_t* p = (weft_process_t*)check_handle(L, 1, WL_PROCESS);
  weft_status status = weft_process_kill(p, (int)luaL_optinteger(L, 2, SIGTERM));
  if (status != WEFT_OK && status != WEFT_ERR_ALREADY_COMPLETED) return wl_raise_op(L, status, "process:kill");
  lua_pushboolean(L, status == WEFT_OK);
  return 1;
}

static int process_stdio(lua_State* L, weft_status (*take)(weft_stream_t**, weft_process_t*),
                         const char* what) {
  weft_stream_t* s = NULL;
  weft_status status = take(&s, (weft_process_t*)check_handle(L, 1, WL_PROCESS));
  if (status != WEFT_OK) return wl_raise_op(L, status, what);
  wl_push_stream(L, s);
  return 1;
}
static int l_process_stdin(lua_State* L) { return process_stdio(L, weft_process_stdin, "process:stdin"); }
static int l_process_stdout(lua_State* L) { return process_stdio(L, weft_process_stdout, "process:stdout"); }
static int l_process_stderr(lua_State* L) { return process_stdio(L, weft_process_stderr, "process:stderr"); }

/* ---- signals ---- */

static int l_signal_watch(lua_State* L) {
  wl_state* S = wl_state_get(L);
  int signum = (int)luaL_checkinteger(L, 1);
  wl_state_check_runtime(L, S, "weft.watch_signal");
  weft_signal_t* watch = NULL;
  weft_status status = weft_signal_watch(&watch, S->loop, signum);
  if (status != WEFT_OK) return wl_raise_op(L, status, "weft.watch_signal");
  push_handle(L, watch, WL_SIGNAL);
  return 1;
}

static int l_signal_wait(lua_State* L) {
  weft_future_t* f = NULL;
  weft_status status = weft_signal_wait(&f, (weft_signal_t*)check_handle(L, 1, WL_SIGNAL), NULL, NULL);
  return op_result(L, status, f, "signal:wait");
}

/* The type's metatable; its method table also goes into the module as
 * `name`, where the Lua part adds the waiting methods. */
static void new_handle_type(lua_State* L, int module, const char* name, int kind,
                            const luaL_Reg* methods) {
  luaL_newmetatable(L, handle_mt[kind]);
  lua_pushcfunction(L, l_handle_close);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushcfunction(L, l_handle_close);
  lua_setfield(L, -2, "close");
  lua_pushvalue(L, -1);
  lua_setfield(L, module, name);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void wl_io_open(lua_State* L) {
  int module = lua_gettop(L);
  static const luaL_Reg stream_methods[] = {
      {"_read", l_stream_read},   {"_read_exactly", l_stream_read_exactly},
      {"_read_until", l_stream_read_until}, {"_write", l_stream_write},
      {"_shutdown", l_stream_shutdown}, {NULL, NULL}};
  static const luaL_Reg tcp_listener_methods[] = {
      {"port", l_tcp_listener_port}, {"_wait_accept", l_wait_tcp_accept}, {NULL, NULL}};
  static const luaL_Reg unix_listener_methods[] = {{"_wait_accept", l_wait_unix_accept}, {NULL, NULL}};
  static const luaL_Reg process_methods[] = {
      {"pid", l_process_pid},       {"_wait", l_process_wait},     {"kill", l_process_kill},
      {"stdin", l_process_stdin},   {"stdout", l_process_stdout}, {"stderr", l_process_stderr},
      {NULL, NULL}};
  static const luaL_Reg signal_methods[] = {{"_wait", l_signal_wait}, {NULL, NULL}};
  new_handle_type(L, module, "Stream", WL_STREAM, stream_methods);
  new_handle_type(L, module, "Listener", WL_TCP_LISTENER, tcp_listener_methods);
  new_handle_type(L, module, "UnixListener", WL_UNIX_LISTENER, unix_listener_methods);
  new_handle_type(L, module, "Process", WL_PROCESS, process_methods);
  new_handle_type(L, module, "Signal", WL_SIGNAL, signal_methods);
  static const luaL_Reg functions[] = {
      {"_tcp_listen", l_tcp_listen},
      {"_unix_listen", l_unix_listen},
      {"_wait_tcp_connect", l_wait_tcp_connect},
      {"_wait_unix_connect", l_wait_unix_connect},
      {"_wait_resolve", l_wait_resolve},
      {"_read_file", l_file_read_all},
      {"_write_file", l_file_write_all},
      {"spawn_process", l_process_spawn},
      {"_watch_signal", l_signal_watch},
      {NULL, NULL},
  };
  luaL_setfuncs(L, functions, 0);
}
