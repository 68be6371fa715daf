/* weft/signal.h: POSIX signals as loop events, and a graceful shutdown on
 * SIGINT/SIGTERM.
 *
 *   weft_signal_t* usr1;
 *   weft_signal_watch(&usr1, loop, SIGUSR1);
 *   weft_signal_wait(usr1, on_signal, user);      (on_signal(user, WEFT_OK, SIGUSR1))
 *   weft_signal_close(usr1);
 *
 *   weft_signal_t* shutdown;
 *   weft_signal_shutdown(&shutdown, loop, on_shutdown, host);
 *   (on the first SIGINT or SIGTERM: on_shutdown(host, WEFT_OK, signum);
 *    close the listeners there and let weft_loop_run return)
 *
 * The callbacks are ordinary loop callbacks, not signal handlers: they run
 * on the loop thread, from a loop run, and may call any loop-thread
 * function. While a handle watches a signal, the signal no longer has its
 * default action (SIGINT does not end the process); once no handle watches
 * it any more, its default action is back (SIG_DFL, not whatever handler the
 * process had before). Signals are process-wide: every runtime watching one
 * sees each delivery.
 *
 * Handles. A signal handle belongs to the scope of the loop handle it was
 * made through, and to the caller, who ends it with weft_signal_close; the
 * scope's cancellation or destruction and the runtime's destruction end it
 * too. Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: when its signal arrives, or with WEFT_ERR_CANCELLED (signum 0)
 * inside the call that ended its handle (weft_signal_close,
 * weft_scope_cancel/destroy, weft_runtime_destroy). If a function returns an
 * error, its callback is never called and `user` stays yours.
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_SIGNAL_H
#define WEFT_SIGNAL_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* A watched signal (weft_signal_watch), or the SIGINT/SIGTERM watch of
 * weft_signal_shutdown. */
typedef struct weft_signal weft_signal_t;

/* The callback of weft_signal_wait and weft_signal_shutdown: `signum` is the
 * signal that arrived with WEFT_OK; otherwise 0, and `message` says why. */
typedef void (*weft_signal_callback)(void* user, weft_status status, const char* message,
                                     int signum);

/* Starts watching `signum` (SIGUSR1, SIGHUP, SIGINT, ...): from now on it
 * does not end the process, and deliveries are kept for weft_signal_wait.
 * The caller owns *out; end it with weft_signal_close.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL, signum not a signal number,
 * SIGKILL or SIGSTOP, which cannot be caught), WEFT_ERR_CLOSED (the scope
 * was cancelled). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_signal_watch(weft_signal_t** out, weft_loop_t* loop, int signum);

/* Waits for the next delivery of the watched signal: `callback(user,
 * WEFT_OK, NULL, signum)`, and the future (weft/weft.h's one asynchronous
 * model) resolves with the signal number (INT64). Every wait pending at a delivery completes with it.
 * Deliveries while no wait is pending are not lost: they are kept
 * (several coalesce into one) and complete the next wait at the loop's next
 * pass. A pending wait keeps weft_loop_run(WEFT_RUN_DEFAULT) running.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (a handle made by
 * weft_signal_shutdown), WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_signal_wait(weft_future_t** out, weft_signal_t* handle,
                                      weft_signal_callback callback, void* user);

/* Stops watching and ends the handle: pending waits (and a shutdown
 * callback not yet called) are called with WEFT_ERR_CANCELLED before this
 * returns. NULL is fine. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_signal_close(weft_signal_t* handle);

/* A graceful shutdown on SIGINT or SIGTERM: watches both, and on the first
 * of them calls `callback(user, WEFT_OK, NULL, signum)` — once; the host then
 * stops taking work (closes its listeners, ...) and lets the loop run dry,
 * or calls weft_loop_stop. `callback` NULL: weft_loop_stop is called
 * instead. Keep the handle while shutting down: a second SIGINT or SIGTERM
 * then ends the process with the signal's default action, so a shutdown
 * that hangs can still be interrupted (a second Ctrl-C). Closing the handle
 * gives both signals their default action back.
 * The watch alone does not keep weft_loop_run(WEFT_RUN_DEFAULT) running,
 * and its callback does not count as outstanding work of its scope
 * (weft_scope_drain does not wait for it).
 * The caller owns *out; end it with weft_signal_close.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_signal_shutdown(weft_signal_t** out, weft_loop_t* loop,
                                          weft_signal_callback callback, void* user);

WEFT_EXTERN_C_END

#endif /* WEFT_SIGNAL_H */
