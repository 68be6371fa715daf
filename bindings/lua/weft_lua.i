/* weft_lua.i: the Lua side of bindings/weft.i — how SWIG maps weft's C API
 * into the Lua module `weft`, and where the hand-written glue (tasks,
 * callbacks, I/O: the .c files beside this one) and the Lua part (weft.lua)
 * join it.
 *
 * The generated functions keep the C names without the `weft_` prefix
 * (weft.future_create, weft.loop_call_soon, weft.status_name, ...):
 * - weft_status: WEFT_OK returns normally, anything else raises a
 *   weft.Error value ({status=, name=, message=}; tostring gives
 *   "WEFT_ERR_...: message"), catchable with pcall.
 * - `T** out` handles come back as results; futures as weft.Future userdata
 *   that release their reference when collected (or fut:release()).
 * - A callback (function pointer + void* user) takes a Lua function. The
 *   binding holds it through one registry reference, which the trampoline
 *   drops after weft's single call — or at once if the C call fails. Lua
 *   errors in it go to the error handler (weft.set_error_handler) with a
 *   traceback; the loop goes on.
 * - weft_value converts to and from nil, boolean, integer, number, string.
 *
 * Thread: Lua is single-threaded; every function runs on the loop thread.
 */

%{
#include "bindings/lua/weft_lua.h"

void wl_callbacks_run_status(void* user, weft_status status, const char* message);
void wl_callbacks_run_future(void* user, weft_future_t* future, weft_status status,
                             const weft_value* value, const char* message);
void* wl_callbacks_hold(lua_State* L, int index);
void wl_callbacks_drop(lua_State* L, void* box);
void wl_open_glue(lua_State* L);

void wl_push_loop(lua_State* L, weft_loop_t* loop) {
  SWIG_NewPointerObj(L, loop, SWIGTYPE_p_weft_loop, 0);
}
void wl_push_runtime(lua_State* L, weft_runtime_t* runtime) {
  SWIG_NewPointerObj(L, runtime, SWIGTYPE_p_weft_runtime, 0);
}
%}

%rename("%(strip:[weft_])s") "";

/* Statuses: WEFT_OK returns nothing (or the out values); others raise. */
%typemap(out) weft_status {
  if ($1 != WEFT_OK) {
    wl_push_error(L, $1, NULL);
    SWIG_fail;
  }
}

/* Out handles: returned. Futures are weft.Future userdata (they own their
 * reference); the others are borrowed pointers. */
%typemap(in, numinputs=0) weft_future_t** out (weft_future_t* tmp = NULL) { $1 = &tmp; }
%typemap(argout) weft_future_t** out {
  if (*$1 != NULL) wl_push_future(L, *$1); else lua_pushnil(L);
  SWIG_arg++;
}
%define WEFT_LUA_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE** out (TYPE* tmp = NULL) { $1 = &tmp; }
%typemap(argout) TYPE** out { SWIG_NewPointerObj(L, *$1, $*1_descriptor, 0); SWIG_arg++; }
%enddef
WEFT_LUA_OUT_HANDLE(weft_runtime_t)
WEFT_LUA_OUT_HANDLE(weft_loop_t)
WEFT_LUA_OUT_HANDLE(weft_scope_t)
WEFT_LUA_OUT_HANDLE(weft_executor_t)

/* Futures going in: weft.Future userdata. */
%typemap(in, checkfn="lua_isuserdata") weft_future_t* { $1 = wl_check_future(L, $input); }
%typemap(in, checkfn="lua_istable") (weft_future_t* const* futures, size_t count) {
  size_t n = wl_rawlen(L, $input);
  $1 = (weft_future_t**)lua_newuserdata(L, (n ? n : 1) * sizeof(weft_future_t*)); /* freed by the GC */
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, $input, (int)i + 1);
    $1[i] = wl_check_future(L, -1);
    lua_pop(L, 1);
  }
  $2 = n;
}

/* Scalars written through `out`. */
%typemap(in, numinputs=0) uint64_t* out (uint64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) uint64_t* out { lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++; }
%typemap(in, numinputs=0) int64_t* out (int64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) int64_t* out { lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++; }
%typemap(in, numinputs=0) int* out (int tmp = 0) { $1 = &tmp; }
%typemap(argout) int* out { lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++; }
%typemap(in, numinputs=0) size_t* out (size_t tmp = 0) { $1 = &tmp; }
%typemap(argout) size_t* out { lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++; }
%typemap(in) uint64_t { $1 = (uint64_t)luaL_checkinteger(L, $input); }

/* weft_runtime_stats: a table of the counters. */
%typemap(in, numinputs=0) weft_stats* out (weft_stats tmp) {
  memset(&tmp, 0, sizeof tmp);
  tmp.struct_size = sizeof tmp;
  $1 = &tmp;
}
%typemap(argout) weft_stats* out {
  lua_createtable(L, 0, 18);
#define WL_STAT(field) lua_pushinteger(L, (lua_Integer)$1->field); lua_setfield(L, -2, #field);
  WL_STAT(callbacks_run) WL_STAT(threadsafe_posts) WL_STAT(timers_armed) WL_STAT(timers_fired)
  WL_STAT(timers_cancelled) WL_STAT(iterations) WL_STAT(futures_created) WL_STAT(work_submitted)
  WL_STAT(errors_reported) WL_STAT(ready) WL_STAT(timers_pending) WL_STAT(futures_alive)
  WL_STAT(futures_pending) WL_STAT(work_pending) WL_STAT(scopes) WL_STAT(executors)
  WL_STAT(bytes_allocated)
#undef WL_STAT
  SWIG_arg++;
}

/* weft_loop_run_for: a table {ran=, ready=, next_timer_ns=, stopped=}. */
%typemap(in, numinputs=0) weft_run_report* out (weft_run_report tmp) {
  memset(&tmp, 0, sizeof tmp);
  tmp.struct_size = sizeof tmp;
  $1 = &tmp;
}
%typemap(argout) weft_run_report* out {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)$1->ran); lua_setfield(L, -2, "ran");
  lua_pushinteger(L, (lua_Integer)$1->ready); lua_setfield(L, -2, "ready");
  if ($1->has_next_timer) { lua_pushinteger(L, (lua_Integer)$1->next_timer_ns); lua_setfield(L, -2, "next_timer_ns"); }
  lua_pushboolean(L, $1->stopped); lua_setfield(L, -2, "stopped");
  SWIG_arg++;
}

/* Values going in (weft_future_resolve): nil, boolean, number, string. */
%typemap(in) const weft_value* value (weft_value tmp) {
  tmp = wl_to_value(L, $input);
  $1 = &tmp;
}
%typemap(checkfn) const weft_value* value "";

/* weft_future_result: returns status, value, message. */
%typemap(in, numinputs=0) (weft_status* status, weft_value* value, const char** message)
    (weft_status s = WEFT_OK, weft_value v, const char* m = NULL) {
  v = weft_value_none();
  $1 = &s;
  $2 = &v;
  $3 = ($3_ltype)&m;
}
%typemap(argout) (weft_status* status, weft_value* value, const char** message) {
  lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++;
  wl_push_value(L, $2); SWIG_arg++;
  if (*$3 != NULL) lua_pushstring(L, *$3); else lua_pushnil(L);
  SWIG_arg++;
}

/* Callbacks: a Lua function, held by one registry reference that the
 * trampoline drops after weft's single call; dropped here if the call fails.
 * weft_callback: fn(status, message); weft_future_callback:
 * fn(status, value, message). */
%typemap(in) (weft_callback callback, void* user) (void* held = NULL) {
  if (!lua_isfunction(L, $input)) wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "$symname: the callback must be a function");
  held = wl_callbacks_hold(L, $input);
  $1 = wl_callbacks_run_status;
  $2 = held;
}
%typemap(argout) (weft_callback callback, void* user) { held$argnum = NULL; /* weft holds it now */ }
%typemap(freearg) (weft_callback callback, void* user) { if (held$argnum) wl_callbacks_drop(L, held$argnum); }
%typemap(in) (weft_future_callback callback, void* user) (void* held = NULL) {
  if (!lua_isfunction(L, $input)) wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, "$symname: the callback must be a function");
  held = wl_callbacks_hold(L, $input);
  $1 = wl_callbacks_run_future;
  $2 = held;
}
%typemap(argout) (weft_future_callback callback, void* user) { held$argnum = NULL; }
%typemap(freearg) (weft_future_callback callback, void* user) { if (held$argnum) wl_callbacks_drop(L, held$argnum); }

/* Not for Lua: the runtime and its loop belong to weft.run or the host
 * (weft.runtime(), weft.loop()), and weft.run makes its own. Creating or
 * destroying runtimes and scopes, or running the loop, from a script would
 * pull the loop from under the tasks. */
%ignore weft_runtime_create;
%ignore weft_runtime_destroy;
%ignore weft_runtime_options;
%ignore weft_runtime_options_init;
%ignore weft_loop_run;
%ignore weft_loop_claim;
%ignore weft_scope_create;
%ignore weft_scope_destroy;
%ignore weft_scope_drain;
%ignore weft_pool_create;
%ignore weft_pool_options;
%ignore weft_pool_options_init;
%ignore weft_strand_create;
%ignore weft_executor_destroy;
%ignore weft_runtime_dump_text;
%ignore weft_event;
%ignore weft_object_info;
%ignore weft_stats;
%ignore weft_run_report;
%ignore weft_value;
%ignore weft_value_as;
%ignore weft_bytes;
%ignore weft_value_none;
%ignore weft_value_bool;
%ignore weft_value_int64;
%ignore weft_value_double;
%ignore weft_value_bytes;
%ignore weft_value_string;
%ignore weft_value_get_bool;
%ignore weft_value_get_int64;
%ignore weft_value_get_double;

%init %{
  wl_open_glue(L);
%}
