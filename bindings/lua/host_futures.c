/* host_futures.c: weft futures between a C host and its Lua scripts
 * (weft_lua_host_futures.h): a weft_future_t pushed as a weft.Future, and a
 * weft.Future's weft_future_t taken by the host.
 *
 * Thread: the loop thread.
 * Ownership: pushing retains one reference that the weft.Future userdata
 * owns (future.c releases it); taking retains one for the caller. Every Lua
 * call that could raise (a missing module state, an allocation) runs under
 * lua_pcall, so a bad call returns a status and never unwinds into the host.
 */
#include "bindings/lua/weft_lua.h"
#include "bindings/lua/weft_lua_host_futures.h"

/* Under lua_pcall: [1] the future (light userdata). Pushes the weft.Future,
 * or returns no value when the state has no runtime. */
static int push_protected(lua_State* L) {
  weft_future_t* future = (weft_future_t*)lua_touserdata(L, 1);
  wl_state* S = wl_state_get(L);
  if (S->runtime == NULL || S->closing) return 0;
  wl_push_future(L, future);
  return 1;
}

weft_status weft_lua_host_push_future(lua_State* L, weft_future_t* future) {
  if (L == NULL || future == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  weft_status status = weft_future_retain(future); /* checks the handle too */
  if (status != WEFT_OK) return status;
  int top = lua_gettop(L);
  lua_pushcfunction(L, push_protected);
  lua_pushlightuserdata(L, future);
  int rc = lua_pcall(L, 1, 1, 0);
  if (rc == LUA_OK && wl_test_future(L, -1) != NULL)
    return WEFT_OK; /* the userdata owns the reference */
  status = rc == LUA_ERRMEM ? WEFT_ERR_NO_MEMORY : WEFT_ERR_INVALID_STATE;
  lua_settop(L, top);
  weft_future_release(future);
  return status;
}

/* Under lua_pcall: [1] the value. Returns its wl_future (light userdata)
 * and whether it is live for this state, or nothing if it is not a future. */
static int take_protected(lua_State* L) {
  wl_state* S = wl_state_get(L);
  wl_future* f = wl_test_future(L, 1);
  if (f == NULL) return 0;
  lua_pushlightuserdata(L, f);
  lua_pushboolean(L, f->future != NULL && f->epoch == S->epoch && S->runtime != NULL);
  return 2;
}

weft_status weft_lua_host_to_future(weft_future_t** out, lua_State* L, int index) {
  if (out == NULL || L == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  int top = lua_gettop(L);
  int absolute = lua_absindex(L, index);
  if (absolute < 1 || absolute > top) return WEFT_ERR_INVALID_ARGUMENT;
  lua_pushcfunction(L, take_protected);
  lua_pushvalue(L, absolute);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
    lua_settop(L, top);
    return WEFT_ERR_INVALID_STATE;
  }
  wl_future* f = (wl_future*)lua_touserdata(L, -2);
  int live = lua_toboolean(L, -1);
  lua_settop(L, top);
  if (f == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  if (!live) return WEFT_ERR_STALE_HANDLE;
  weft_status status = weft_future_retain(f->future);
  if (status != WEFT_OK) return status;
  *out = f->future;
  return WEFT_OK;
}
