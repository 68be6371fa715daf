/* future.c: weft futures as Lua userdata ("weft.Future") and weft_value <->
 * Lua value conversion.
 *
 * Thread: the loop thread.
 * Ownership: a weft.Future holds one reference to its future, dropped by
 * fut:release() or when the userdata is collected (__gc) — whichever comes
 * first, exactly once. Futures of a runtime that is gone (weft.run returned)
 * are not touched again.
 */
#include <string.h>

#include "bindings/lua/weft_lua.h"

void wl_push_future(lua_State* L, weft_future_t* future) {
  wl_state* S = wl_state_get(L);
  wl_future* f = (wl_future*)lua_newuserdata(L, sizeof *f);
  f->future = future;
  f->epoch = S->epoch;
  wl_setmetatable(L, WL_FUTURE_MT);
}

wl_future* wl_test_future(lua_State* L, int index) {
  return (wl_future*)luaL_testudata(L, index, WL_FUTURE_MT);
}

weft_future_t* wl_check_future(lua_State* L, int index) {
  wl_future* f = (wl_future*)luaL_checkudata(L, index, WL_FUTURE_MT);
  if (f->future == NULL || f->epoch != wl_state_get(L)->epoch)
    wl_raise(L, WEFT_ERR_STALE_HANDLE, "the future was released or its runtime is gone");
  return f->future;
}

static void release(lua_State* L, wl_future* f) {
  if (f->future == NULL) return;
  wl_state* S = wl_state_get(L);
  if (S->runtime != NULL && f->epoch == S->epoch) weft_future_release(f->future);
  f->future = NULL;
}

static int l_future_gc(lua_State* L) {
  wl_future* f = wl_test_future(L, 1);
  if (f != NULL) release(L, f);
  return 0;
}

/* fut:release(): drops the reference now (the handle is dead afterwards). */
static int l_future_release(lua_State* L) {
  release(L, (wl_future*)luaL_checkudata(L, 1, WL_FUTURE_MT));
  return 0;
}

static int l_future_tostring(lua_State* L) {
  wl_future* f = (wl_future*)luaL_checkudata(L, 1, WL_FUTURE_MT);
  lua_pushfstring(L, "weft.Future(%p)", (void*)f->future);
  return 1;
}

void wl_push_value(lua_State* L, const weft_value* value) {
  switch (value->kind) {
    case WEFT_VALUE_BOOL:
      lua_pushboolean(L, value->as.boolean);
      break;
    case WEFT_VALUE_INT64:
      lua_pushinteger(L, (lua_Integer)value->as.int64);
      break;
    case WEFT_VALUE_DOUBLE:
      lua_pushnumber(L, value->as.f64);
      break;
    case WEFT_VALUE_BYTES:
    case WEFT_VALUE_STRING:
      lua_pushlstring(L, (const char*)value->as.bytes.data, value->as.bytes.size);
      break;
    case WEFT_VALUE_POINTER:
      lua_pushlightuserdata(L, value->as.pointer.pointer);
      break;
    default:
      lua_pushnil(L);
  }
}

weft_value wl_to_value(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TNONE:
    case LUA_TNIL:
      return weft_value_none();
    case LUA_TBOOLEAN:
      return weft_value_bool(lua_toboolean(L, index));
    case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
      if (lua_isinteger(L, index)) return weft_value_int64((int64_t)lua_tointeger(L, index));
#else
      {
        lua_Number n = lua_tonumber(L, index);
        if (n == (lua_Number)(int64_t)n && n > -9007199254740992.0 && n < 9007199254740992.0)
          return weft_value_int64((int64_t)n);
      }
#endif
      return weft_value_double(lua_tonumber(L, index));
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      weft_value v = weft_value_bytes(s, len);
      v.kind = WEFT_VALUE_STRING;
      return v;
    }
    default:
      lua_pushfstring(L, "a %s cannot travel in a weft future (nil, boolean, number or string)",
                      luaL_typename(L, index));
      wl_raise(L, WEFT_ERR_INVALID_ARGUMENT, lua_tostring(L, -1));
      return weft_value_none();
  }
}

void wl_future_open(lua_State* L) {
  int module = lua_gettop(L);
  luaL_newmetatable(L, WL_FUTURE_MT);
  lua_pushcfunction(L, l_future_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_future_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L); /* methods: the Lua part adds those over the generated functions */
  lua_pushcfunction(L, l_future_release);
  lua_setfield(L, -2, "release");
  lua_setfield(L, -2, "__index");
  lua_setfield(L, module, "Future");
}
