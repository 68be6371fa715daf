/* host.c: running a script inside a C host's runtime (weft_lua_host.h) —
 * binding a lua_State to a scope of the host's runtime, unloading it
 * (cancel, drain, list stragglers, destroy the scope) — and weft.offload,
 * which runs C work functions the host registered on the runtime's pool.
 *
 * Thread: the loop thread, except the work trampoline (a pool worker),
 * which touches no Lua state.
 * Ownership: the scope is created by weft_lua_host_open and destroyed by
 * weft_lua_host_unload. Work registrations are userdata in a registry
 * table; each offloaded call carries a malloc'd job (function, user, a copy
 * of the argument) that its done callback frees, exactly once.
 */
#include <stdlib.h>
#include <string.h>

#include "bindings/lua/weft_lua.h"
#include "bindings/lua/weft_lua_host.h"

static const char WL_WORK_KEY = 'k';

weft_status weft_lua_host_open(lua_State* L, weft_runtime_t* runtime, const char* scope_name) {
  if (L == NULL || runtime == NULL) return WEFT_ERR_INVALID_ARGUMENT;
#if LUA_VERSION_NUM >= 502
  luaL_requiref(L, "weft", luaopen_weft, 0);
  lua_pop(L, 1);
#else
  lua_getglobal(L, "require");
  lua_pushstring(L, "weft");
  lua_call(L, 1, 0);
#endif
  wl_state* S = wl_state_get(L);
  if (S->runtime != NULL) return WEFT_ERR_INVALID_STATE;
  weft_scope_t* scope = NULL;
  weft_status status = weft_scope_create(&scope, runtime, scope_name);
  if (status != WEFT_OK) return status;
  weft_scope_loop(&S->loop, scope);
  S->scope = scope;
  S->runtime = runtime;
  S->owns_runtime = 0;
  S->L = L;
  return WEFT_OK;
}

weft_scope_t* weft_lua_host_scope(lua_State* L) {
  wl_state* S = wl_state_get(L);
  return S->scope;
}

weft_status weft_lua_host_unload(lua_State* L, uint64_t drain_timeout_ns,
                                 weft_object_visitor stragglers, void* user, size_t* left) {
  wl_state* S = wl_state_get(L);
  if (S->scope == NULL) return WEFT_ERR_INVALID_STATE;
  wl_cancel_all(S);
  size_t outstanding = 0;
  weft_status status = weft_scope_drain(&outstanding, S->scope, drain_timeout_ns);
  if (status == WEFT_ERR_REENTRANT_RUN) return status;
  if (left != NULL) *left = outstanding;
  if (outstanding > 0 && stragglers != NULL) weft_scope_list(S->scope, stragglers, user);
  S->closing = 1; /* what is left ends without resuming Lua */
  wl_scheduler_reset(S);
  weft_scope_cancel(S->scope);
  lua_gc(L, LUA_GCCOLLECT, 0);
  weft_scope_destroy(S->scope);
  S->scope = NULL;
  S->runtime = NULL;
  S->loop = NULL;
  S->epoch++;
  S->closing = 0;
  return WEFT_OK;
}

size_t weft_lua_host_errors(lua_State* L) { return wl_state_get(L)->errors_reported; }

/* ---- offloaded work ---- */

typedef struct wl_work_entry {
  weft_lua_work_fn fn;
  void* user;
} wl_work_entry;

typedef struct wl_job {
  wl_work_entry entry;
  weft_value argument; /* bytes point into `text` */
  char* text;
} wl_job;

weft_status weft_lua_host_register_work(lua_State* L, const char* name, weft_lua_work_fn fn, void* user) {
  if (L == NULL || name == NULL || fn == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  lua_pushlightuserdata(L, (void*)&WL_WORK_KEY);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushlightuserdata(L, (void*)&WL_WORK_KEY);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }
  wl_work_entry* entry = (wl_work_entry*)lua_newuserdata(L, sizeof *entry);
  entry->fn = fn;
  entry->user = user;
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
  return WEFT_OK;
}

/* On a pool worker: no Lua here. */
static weft_status job_work(void* user, weft_value* result) {
  wl_job* job = (wl_job*)user;
  return job->entry.fn(job->entry.user, &job->argument, result);
}

/* On the loop thread, exactly once: the result went to the future. */
static void job_done(void* user, weft_future_t* future, weft_status status,
                     const weft_value* value, const char* message) {
  (void)future, (void)status, (void)value, (void)message;
  wl_job* job = (wl_job*)user;
  free(job->text);
  free(job);
}

/* weft._offload(name, argument): the future of the work's result. */
static int l_offload(lua_State* L) {
  wl_state* S = wl_state_get(L);
  const char* name = luaL_checkstring(L, 1);
  wl_state_check_runtime(L, S, "weft.offload");
  lua_pushlightuserdata(L, (void*)&WL_WORK_KEY);
  lua_rawget(L, LUA_REGISTRYINDEX);
  wl_work_entry* entry = NULL;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, name);
    entry = (wl_work_entry*)lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (entry == NULL) {
    lua_pushfstring(L, "weft.offload: no work function named '%s' (the host registers them)", name);
    return wl_raise(L, WEFT_ERR_NOT_FOUND, lua_tostring(L, -1));
  }
  weft_value argument = wl_to_value(L, 2);
  wl_job* job = (wl_job*)calloc(1, sizeof *job);
  if (job == NULL) return wl_raise(L, WEFT_ERR_NO_MEMORY, "weft.offload");
  job->entry = *entry;
  job->argument = argument;
  if (argument.kind == WEFT_VALUE_STRING || argument.kind == WEFT_VALUE_BYTES) {
    job->text = (char*)malloc(argument.as.bytes.size + 1);
    if (job->text == NULL) {
      free(job);
      return wl_raise(L, WEFT_ERR_NO_MEMORY, "weft.offload");
    }
    memcpy(job->text, argument.as.bytes.data, argument.as.bytes.size);
    job->text[argument.as.bytes.size] = '\0';
    job->argument.as.bytes.data = job->text;
  }
  weft_executor_t* pool = NULL;
  weft_runtime_pool(&pool, S->runtime);
  weft_future_t* future = NULL;
  weft_status status = weft_executor_submit(&future, pool, S->loop, job_work, job_done, job);
  if (status != WEFT_OK) {
    free(job->text);
    free(job);
    return wl_raise_op(L, status, "weft.offload");
  }
  wl_push_future(L, future);
  return 1;
}

void wl_host_open(lua_State* L) {
  lua_pushcfunction(L, l_offload);
  lua_setfield(L, -2, "_offload");
}
