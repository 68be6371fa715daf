/* c_plugin.h: the C plugin of the mixed example. It receives the host's
 * runtime and exchange, makes a scope of its own, and:
 * - publishes "c.go", a future it resolves with GO_VALUE after a delay (a
 *   timer in its scope); the Lua script awaits it;
 * - awaits a future someone else publishes (the host names it: the Python
 *   script's coroutine, "python.answer") and keeps its outcome;
 * - runs a heartbeat timer every 10 ms, so that it visibly goes on while
 *   the Lua script is unloaded;
 * - keeps background work ready at all times (10 us chunks, each queueing
 *   the next), as a game's streaming or AI work would: every frame's
 *   weft_loop_run_for spends its whole budget, and must stop on time.
 * Unloading cancels and drains exactly what its scope has in flight.
 *
 * Thread: every function runs on the runtime's loop thread.
 * Ownership: the caller owns the plugin from c_plugin_load to
 * c_plugin_unload. The plugin holds its own reference to "c.go" (the
 * exchange holds another) and one to the future it awaits, until unload.
 */
#ifndef EXAMPLES_MIXED_C_PLUGIN_H
#define EXAMPLES_MIXED_C_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <weft/weft.h>

#include "examples/mixed/exchange.h"

#define C_PLUGIN_GO_VALUE 20
/* go_after_ns for a plugin that never resolves "c.go" (it ends cancelled
 * when the plugin unloads). */
#define C_PLUGIN_GO_NEVER UINT64_MAX

typedef struct c_plugin c_plugin;

/* Loads the plugin into `runtime`: a scope named "c-plugin", the heartbeat,
 * and "c.go" published in `exchange`, resolved `go_after_ns` from now
 * (never for C_PLUGIN_GO_NEVER).
 * Errors: WEFT_ERR_INVALID_ARGUMENT, WEFT_ERR_NO_MEMORY, the scope's,
 * timers' and exchange's errors (nothing is left behind). */
weft_status c_plugin_load(c_plugin** out, weft_runtime_t* runtime, exchange* exchange,
                          uint64_t go_after_ns);

/* Starts awaiting the future published under `name`.
 * Errors: WEFT_ERR_NOT_FOUND (not published yet), WEFT_ERR_INVALID_STATE
 * (already awaiting one), weft_future_then's errors (nothing is kept). */
weft_status c_plugin_await(c_plugin* plugin, const char* name);

/* What the awaited future gave: 0 while pending, else 1 with its status and
 * (if WEFT_OK and an integer) its value. */
int c_plugin_awaited(const c_plugin* plugin, weft_status* status, int64_t* value);

/* Heartbeats so far. */
uint64_t c_plugin_heartbeats(const c_plugin* plugin);

/* Background chunks run so far. */
uint64_t c_plugin_chunks(const c_plugin* plugin);

/* Cancels the plugin's scope, drains it for up to `timeout_ns` (running the
 * loop: call it between frames, not from a callback), and frees the plugin.
 * *left (may be NULL): what was still outstanding after the drain.
 * Errors: WEFT_ERR_TIMED_OUT (something was: the plugin stays loaded, its
 * scope cancelled; call again), WEFT_ERR_REENTRANT_RUN (from a callback). */
weft_status c_plugin_unload(c_plugin* plugin, uint64_t timeout_ns, size_t* left);

#endif /* EXAMPLES_MIXED_C_PLUGIN_H */
