/* weft/scope.h: scopes — everything one plugin or script has in flight,
 * owned as a unit so that it can be cancelled, drained and listed.
 *
 * What a scope owns: whatever is created or registered through its loop
 * handle (weft_scope_loop): queued callbacks, timers, futures it created,
 * callbacks it registered on any future (its own or another scope's), and
 * work it submitted. Unloading a plugin:
 *
 *   weft_scope_cancel(scope);              // everything pending: cancelled
 *   size_t left;
 *   if (weft_scope_drain(&left, scope, 100000000) != WEFT_OK)   // 100 ms
 *     weft_scope_list(scope, print_straggler, NULL);            // what is stuck
 *   weft_scope_destroy(scope);
 *   dlclose(plugin);                        // nothing can call into it now
 *
 * A runtime always has a root scope (weft_runtime_loop's handle belongs to
 * it); it lives as long as the runtime.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_SCOPE_H
#define WEFT_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"
#include "weft/diagnostics.h"

WEFT_EXTERN_C_BEGIN

/* Creates a scope named `name` (copied; NULL means "scope").
 * Ownership: the caller owns *out; free it with weft_scope_destroy (or let
 * weft_runtime_destroy do it).
 * Errors: WEFT_ERR_CLOSED, WEFT_ERR_NO_MEMORY.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_scope_create(weft_scope_t** out, weft_runtime_t* runtime,
                                       const char* name);

/* The loop handle that creates and registers things in this scope.
 * Ownership: borrowed, valid until the scope is destroyed.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_scope_loop(weft_loop_t** out, weft_scope_t* scope);

/* The scope a loop handle belongs to (the root scope for weft_runtime_loop's).
 * Ownership: borrowed. Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_scope(weft_scope_t** out, weft_loop_t* loop);

/* Cancels everything the scope has pending: its timers' and its future
 * callbacks' callbacks are called with WEFT_ERR_CANCELLED inside this call;
 * its pending futures complete as cancelled (their callbacks run at the
 * loop's next iteration); queued callbacks will be called with
 * WEFT_ERR_CANCELLED; work not started will not start. From now on the
 * scope refuses new work (WEFT_ERR_CLOSED). Work already running cannot be
 * interrupted: weft_scope_drain waits for it.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_scope_cancel(weft_scope_t* scope);

/* Runs the loop until nothing the scope owns is outstanding (every callback
 * called, every timer done, every future it created completed, every work
 * item finished running) or `timeout_ns` of wall time has passed.
 * *out (if not NULL) receives how many things are still outstanding.
 * Errors: WEFT_ERR_TIMED_OUT (some are; weft_scope_list names them),
 * WEFT_ERR_REENTRANT_RUN (called from inside a callback: the loop cannot run
 * there).
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_scope_drain(size_t* out, weft_scope_t* scope,
                                      uint64_t timeout_ns);

/* Calls `visit` for each thing the scope still has outstanding (see
 * weft_runtime_dump). Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_scope_list(weft_scope_t* scope, weft_object_visitor visit, void* user);

/* Cancels the scope (weft_scope_cancel) and frees it; its handle and its
 * loop handle become stale. Anything it still had outstanding (see
 * weft_scope_drain) finishes later and its callbacks are still called, with
 * WEFT_ERR_CANCELLED: drain first before unloading the code they point to.
 * NULL is accepted and does nothing.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (the root scope).
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_scope_destroy(weft_scope_t* scope);

WEFT_EXTERN_C_END

#endif /* WEFT_SCOPE_H */
