/* weft_lua_host_futures.h: handing weft futures between a C host and the Lua
 * scripts it runs (see weft_lua_host.h). A future the host (or a C plugin,
 * or another language on the same runtime) made becomes a weft.Future in a
 * script, which can await it; a weft.Future a script made (weft.future(),
 * task:future()) becomes a weft_future_t the host can await with
 * weft_future_then.
 *
 *   weft_lua_host_push_future(L, future);   // now a weft.Future on L's stack
 *   weft_future_t* f;
 *   weft_lua_host_to_future(&f, L, -1);     // the C side's own reference
 *   ...
 *   weft_future_release(f);
 *
 * References: each side holds its own. Pushing retains a reference for Lua
 * (dropped by fut:release() or when the value is collected, at the latest
 * when the script is unloaded and its values collected); taking one gives
 * the caller a new reference to release. The future must belong to the
 * runtime the script is bound to (awaiting one of another runtime fails in
 * the script with WEFT_ERR_INVALID_ARGUMENT).
 *
 * Thread: the loop thread, like every Lua call. Link:
 * //bindings/lua:weft_lua_host.
 */
#ifndef WEFT_LUA_HOST_FUTURES_H
#define WEFT_LUA_HOST_FUTURES_H

#include <lua.h>

#include "bindings/lua/weft_lua_host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pushes a weft.Future for `future` onto L's stack, with a reference of its
 * own (the caller keeps its reference). On an error nothing is pushed and
 * no reference is taken.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL L or future), WEFT_ERR_INVALID_STATE
 * (L is not bound to a runtime: weft_lua_host_open first, or it was
 * unloaded), WEFT_ERR_STALE_HANDLE / WEFT_ERR_INVALID_HANDLE (not a live
 * future), WEFT_ERR_NO_MEMORY (Lua could not allocate). */
WEFT_LUA_HOST_API weft_status weft_lua_host_push_future(lua_State* L, weft_future_t* future);

/* *out receives a new reference to the future of the weft.Future at
 * `index` of L's stack (the value stays where it is; release *out when done).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL out or L, or the value is not a
 * weft.Future), WEFT_ERR_INVALID_STATE (L has no weft module),
 * WEFT_ERR_STALE_HANDLE (the script released it, or it belongs to a runtime
 * the script is no longer bound to). *out is untouched on an error. */
WEFT_LUA_HOST_API weft_status weft_lua_host_to_future(weft_future_t** out, lua_State* L, int index);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LUA_HOST_FUTURES_H */
