/* lua_compat.h: the few Lua C API differences between Lua 5.4 and LuaJIT 2.1
 * (the Lua 5.1 API) that weft's Lua glue meets, behind one set of names.
 * Header only; any thread that may touch the lua_State it is given. */
#ifndef WEFT_LUA_COMPAT_H
#define WEFT_LUA_COMPAT_H

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM >= 504
/* Resumes `co` from `from` with `nargs` values; *nres receives how many
 * values it yielded or returned. */
static inline int wl_resume(lua_State* co, lua_State* from, int nargs, int* nres) {
  return lua_resume(co, from, nargs, nres);
}
#define wl_rawlen(L, i) lua_rawlen((L), (i))
#define wl_setmetatable(L, name) luaL_setmetatable((L), (name))
#else
static inline int wl_resume(lua_State* co, lua_State* from, int nargs, int* nres) {
  (void)from;
  int status = lua_resume(co, nargs);
  /* 5.1: on a yield or a return the stack holds just those values. */
  *nres = lua_gettop(co);
  return status;
}
#define wl_rawlen(L, i) lua_objlen((L), (i))
#define wl_setmetatable(L, name) (luaL_getmetatable((L), (name)), lua_setmetatable((L), -2))
#ifndef LUA_OK
#define LUA_OK 0
#endif
#endif

#endif /* WEFT_LUA_COMPAT_H */
