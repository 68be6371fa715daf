/* module.c: joins the parts of weft's Lua module — called from the
 * SWIG-generated luaopen_weft (weft_lua.i's %init) with the module table at
 * the top: registers the glue's functions and types, then runs the Lua parts
 * (scheduler.lua, task_table.lua, tasks.lua and weft.lua, compiled in as *_lua_part.h)
 * with the module table.
 *
 * Thread: the thread that runs `require "weft"`.
 */
#include <string.h>

#include "bindings/lua/weft_lua.h"
#include "bindings/lua/scheduler_lua_part.h" /* wl_scheduler_part, wl_scheduler_part_size */
#include "bindings/lua/task_table_lua_part.h" /* wl_task_table_part, wl_task_table_part_size */
#include "bindings/lua/tasks_lua_part.h"     /* wl_tasks_part, wl_tasks_part_size */
#include "bindings/lua/weft_lua_part.h"      /* wl_lua_part, wl_lua_part_size */

void wl_open_glue(lua_State* L);
void wl_host_open(lua_State* L);

static void run_part(lua_State* L, const unsigned char* code, size_t size, const char* name) {
  int module = lua_gettop(L);
  if (luaL_loadbuffer(L, (const char*)code, size, name) != LUA_OK) lua_error(L);
  lua_pushvalue(L, module);
  lua_call(L, 1, 0);
}

void wl_run_lua_part(lua_State* L) {
  run_part(L, wl_scheduler_part, wl_scheduler_part_size, "=scheduler.lua");
  run_part(L, wl_task_table_part, wl_task_table_part_size, "=task_table.lua");
  run_part(L, wl_tasks_part, wl_tasks_part_size, "=tasks.lua");
  run_part(L, wl_lua_part, wl_lua_part_size, "=weft.lua");
}

void wl_open_glue(lua_State* L) {
  int module = lua_gettop(L);
  wl_state_open(L);
  wl_future_open(L);
  wl_task_open(L);
  wl_task_core_open(L);
  wl_scheduler_open(L);
  wl_io_open(L);
  wl_host_open(L);
  lua_settop(L, module);
  wl_run_lua_part(L);
}
