/* weft_lua_host.h: for a C host (a game engine, a server) that runs Lua
 * scripts on its own weft runtime. Each script gets its own lua_State and its
 * own weft scope, so that unloading it cancels and drains exactly what it
 * started:
 *
 *   lua_State* L = luaL_newstate(); luaL_openlibs(L);
 *   weft_lua_host_open(L, runtime, "enemy-ai");      // require "weft" now uses it
 *   luaL_dofile(L, "enemy_ai.lua");                   // spawns tasks
 *   ... each frame: weft_loop_run_for(&report, loop, WEFT_MS(2));
 *   weft_lua_host_unload(L, WEFT_MS(100), print_straggler, NULL, &left);
 *   lua_close(L);
 *
 * Lua code runs only on the loop thread: open, unload, register and the
 * loop's run functions must all be called there.
 * Link: //bindings/lua:weft_lua_host (Lua 5.4).
 */
#ifndef WEFT_LUA_HOST_H
#define WEFT_LUA_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "weft/weft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The host functions are exported even from objects built with hidden
 * visibility (the module's own symbols stay hidden). */
#define WEFT_LUA_HOST_API __attribute__((visibility("default")))

/* The SWIG-generated module entry (what `require "weft"` calls). */
int luaopen_weft(lua_State* L);

/* Loads the weft module into L (package.loaded.weft) and binds it to
 * `runtime` through a new scope named `scope_name` (copied). The runtime is
 * borrowed: unload before destroying it, and unload before lua_close(L) —
 * the script's pending callbacks point into L.
 * Errors: WEFT_ERR_INVALID_STATE (L is already bound to a runtime),
 * WEFT_ERR_INVALID_ARGUMENT (L or runtime NULL), the scope's errors. */
WEFT_LUA_HOST_API weft_status weft_lua_host_open(lua_State* L, weft_runtime_t* runtime, const char* scope_name);

/* The script's scope (borrowed), or NULL if L is not bound. */
WEFT_LUA_HOST_API weft_scope_t* weft_lua_host_scope(lua_State* L);

/* Unloads the script's weft side: cancels every task it still has (each
 * sees the cancellation error at its pending wait and may clean up), drains
 * its scope for up to `drain_timeout_ns` (running the loop), then, if
 * something is still outstanding, lists it through `stragglers` (may be
 * NULL), cancels the scope outright and destroys it. *left (may be NULL)
 * receives how many things were outstanding after the drain. L stays
 * usable for plain Lua (lua_close it next).
 * Errors: WEFT_ERR_INVALID_STATE (L is not bound), WEFT_ERR_REENTRANT_RUN
 * (called from inside a loop callback). */
WEFT_LUA_HOST_API weft_status weft_lua_host_unload(lua_State* L, uint64_t drain_timeout_ns,
                                 weft_object_visitor stragglers, void* user, size_t* left);

/* A C work function the host offers to scripts: runs on a pool worker with
 * the argument the script passed (nil, boolean, number or string; borrowed
 * for the call) and sets *result (copied by weft as for a future). */
typedef weft_status (*weft_lua_work_fn)(void* user, const weft_value* argument, weft_value* result);

/* Makes fn available as weft.offload(name, argument) in L's scripts, which
 * runs it on the runtime's default pool and returns its result (raising its
 * failure). `user` is passed to every call and must outlive L.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL L, name or fn). */
WEFT_LUA_HOST_API weft_status weft_lua_host_register_work(lua_State* L, const char* name, weft_lua_work_fn fn, void* user);

/* How many errors the script's tasks and callbacks reported to the error
 * handler so far. */
WEFT_LUA_HOST_API size_t weft_lua_host_errors(lua_State* L);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LUA_HOST_H */
