/* weft/future.h: futures — a result that arrives later — and the
 * combinators all, any and with_timeout.
 *
 * A future completes once: resolved with a weft_value, rejected with a
 * failure status and message, or cancelled (WEFT_ERR_CANCELLED). Completing
 * (resolve, reject, cancel) is safe from any thread and races resolve
 * cleanly: the first wins, the others get WEFT_ERR_ALREADY_COMPLETED.
 *
 * Callbacks (weft_future_then) run on the loop thread, in the order they were
 * registered, from the loop's run functions — never inside the call that
 * registered them or completed the future — whichever thread completed it.
 * Each is called exactly once: with the future's outcome, or with
 * WEFT_ERR_CANCELLED if the scope it was registered through is cancelled
 * first.
 *
 * References: weft_future_create and every function with a `weft_future_t**
 * out` give the caller one reference; weft_future_retain adds one,
 * weft_future_release drops one. Registered callbacks and work in flight keep
 * the future alive by themselves. Once you have released your last
 * reference the handle is stale (WEFT_ERR_STALE_HANDLE) — except inside a
 * callback that is handed it, which may retain it to keep it. Releasing the
 * last reference to a pending future that nothing else can complete rejects
 * it with WEFT_ERR_BROKEN_PROMISE (its callbacks still run).
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"
#include "weft/value.h"

WEFT_EXTERN_C_BEGIN

/* A future's callback. `future` is borrowed for the call (retain it to keep
 * it). `status` is WEFT_OK with `value` the result; or a failure with `value`
 * of kind NONE and `message` saying why (NULL only with WEFT_OK). `value` and
 * `message` are valid until the callback returns. */
typedef void (*weft_future_callback)(void* user, weft_future_t* future, weft_status status,
                                     const weft_value* value, const char* message);

/* Creates a pending future in `loop`'s scope. The caller owns one reference.
 * Errors: WEFT_ERR_CLOSED (the scope was cancelled, or the runtime is being
 * destroyed), WEFT_ERR_NO_MEMORY.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_future_create(weft_future_t** out, weft_loop_t* loop);

/* Resolves the future with `value` (NULL: a NONE value); see weft/value.h for
 * what is copied and what is taken.
 * Errors: WEFT_ERR_ALREADY_COMPLETED (nothing taken), WEFT_ERR_INVALID_ARGUMENT
 * (a malformed value), WEFT_ERR_INVALID_STATE (an operation's future: only
 * its operation completes it), WEFT_ERR_NO_MEMORY.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_future_resolve(weft_future_t* future, const weft_value* value);

/* Rejects the future with `status` (negative: a weft code, or an application
 * code <= WEFT_STATUS_USER) and `message` (copied; NULL means
 * weft_status_str(status)).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (status >= 0 or an unassigned weft
 * code), WEFT_ERR_INVALID_STATE (an operation's future),
 * WEFT_ERR_ALREADY_COMPLETED, WEFT_ERR_NO_MEMORY (the copy of `message` was
 * refused: the future is left pending and unchanged; a NULL `message` needs
 * no memory, so rejecting with NULL cannot fail for memory).
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_future_reject(weft_future_t* future, weft_status status,
                                        const char* message);

/* Completes the future as cancelled if it is still pending. Work not yet
 * started for it (weft_executor_submit) will not start. A combinator's
 * future passes the cancellation on to its pending inputs.
 * An operation's future (a timer, a read, a connect, ... given a non-NULL
 * `out`) is completed only by its operation: this asks the operation to
 * stop. On the loop thread: WEFT_OK if it stopped (its callback ran with
 * WEFT_ERR_CANCELLED inside this call, and the future is cancelled), or
 * WEFT_ERR_ALREADY_COMPLETED if its outcome was already decided (it is
 * still delivered, from a loop run). From another thread the request is
 * posted to the loop (WEFT_OK), and the outcome is one of the two.
 * Errors: WEFT_ERR_ALREADY_COMPLETED.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_future_cancel(weft_future_t* future);

/* Registers `callback(user, ...)` to run on the loop thread once the future
 * completes (see the top of this file). `loop` must be a loop handle of the
 * future's runtime; the registration belongs to that handle's scope, so a
 * plugin awaiting another plugin's future registers through its own loop.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (callback NULL, loop of another
 * runtime), WEFT_ERR_CLOSED (the loop's scope was cancelled, or the runtime
 * is being destroyed), WEFT_ERR_NO_MEMORY.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_future_then(weft_future_t* future, weft_loop_t* loop,
                                      weft_future_callback callback, void* user);

/* Adds a reference. Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_future_retain(weft_future_t* future);

/* Drops a reference; the handle is stale once your last one is gone. NULL is
 * accepted and does nothing. Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_future_release(weft_future_t* future);

/* Reads a completed future's outcome: WEFT_OK with *status set to the
 * future's status, *value to its value (NONE unless resolved) and *message
 * to its message (NULL when resolved). Any out pointer may be NULL. What
 * they point to is borrowed: valid while you hold a reference.
 * Errors: WEFT_ERR_NOT_READY (still pending; nothing written).
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_future_result(weft_status* status, weft_value* value,
                                        const char** message, weft_future_t* future);

/* Names the future in dumps and straggler lists (copied; NULL clears).
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_future_set_name(weft_future_t* future, const char* name);

/* A future that resolves (with NONE) once every input has resolved, or
 * rejects with the outcome of the first input that fails or is cancelled.
 * count 0 gives a resolved future. Inputs are not consumed (the combinator
 * takes its own references) and must belong to the loop's runtime.
 * Cancelling the result cancels the inputs still pending.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (futures NULL with count > 0, a NULL or
 * foreign input), handle errors of an input, WEFT_ERR_NO_MEMORY.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_future_all(weft_future_t** out, weft_loop_t* loop,
                                     weft_future_t* const* futures, size_t count);

/* A future that resolves with the index (INT64) of the first input to
 * complete, however it completed; read that input for its outcome. count
 * must be at least 1. Otherwise as weft_future_all.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_future_any(weft_future_t** out, weft_loop_t* loop,
                                     weft_future_t* const* futures, size_t count);

/* A future with `future`'s outcome (the same value, shared) if it completes
 * within `timeout_ns` of the loop clock; otherwise it rejects with
 * WEFT_ERR_TIMED_OUT and cancels `future` (asyncio's wait_for). Cancelling
 * the result cancels `future`.
 * Errors: as weft_future_all.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_future_with_timeout(weft_future_t** out, weft_loop_t* loop,
                                              weft_future_t* future, uint64_t timeout_ns);

WEFT_EXTERN_C_END

#endif /* WEFT_FUTURE_H */
