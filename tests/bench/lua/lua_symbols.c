/* lua_symbols.c: a bare Lua interpreter linked with Debian's static
 * liblua5.4.a (lua54_symbols) or libluajit-5.1.a (luajit_symbols), so that
 * profilers see the interpreter's own functions (luaV_execute,
 * propagatemark, lj_alloc_free, ...) by name; Debian's /usr/bin/lua5.4 and
 * luajit are stripped. Runs `lua54_symbols SCRIPT [ARGS...]` as lua5.4
 * does (the global `arg` with the script at 0, its arguments from 1
 * and also passed to the chunk), with the standard libraries and
 * LUA_PATH/LUA_CPATH honoured; prints an error and exits 1 if the script
 * fails. Used by functions.sh (instructions per operation, per function).
 *
 * Thread: the main thread only.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
    return 2;
  }
  lua_State* L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "lua_symbols: cannot create a Lua state\n");
    return 1;
  }
  luaL_openlibs(L);
  lua_createtable(L, argc, 2);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1); /* argv[0] at -1, the script at 0 */
  }
  lua_setglobal(L, "arg");
  int status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK) {
    for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 0, 0);
  }
  if (status != LUA_OK) {
    const char* message = lua_tostring(L, -1);
    fprintf(stderr, "lua_symbols: %s\n", message != NULL ? message : "(error object is not a string)");
  }
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
