/* weft/fd.h: readiness of a file descriptor the program owns (a socket, a
 * pipe, an eventfd, the wake-up fd of a signal handler...) as loop events,
 * for a host that does its own reads and writes on it.
 *
 *   weft_fd_watch_t* watch;
 *   weft_fd_watch(&watch, loop, fd);
 *   weft_fd_wait(NULL, watch, WEFT_FD_READABLE, on_readable, user);
 *     (on_readable(user, WEFT_OK, NULL, WEFT_FD_READABLE): read(fd, ...)
 *      now, then wait again for the next time)
 *   weft_fd_watch_close(watch);
 *   close(fd);
 *
 * Waits are one-shot and level-triggered: a descriptor that is ready when
 * the wait starts completes it at the loop's next iteration, and a reader
 * that did not read everything is told again by its next wait. An error or
 * a hang-up on the descriptor counts as ready (the read or write then says
 * what happened). Waiting again from the callback is the intended pattern
 * and costs no system call: the kernel registration stays while waits are
 * pending and changes only when the directions waited on change.
 *
 * The descriptor. It stays the caller's: weft never closes it, but it is put
 * in non-blocking mode. Close the watch before closing the descriptor (a
 * closed descriptor's number may be reused by the next open). A descriptor
 * is watched at most once per runtime, and not by a watch and a weft stream
 * at once: one watch waits for both directions.
 *
 * Handles. A watch belongs to the scope of the loop handle it was made
 * through, and to the caller, who ends it with weft_fd_watch_close; the
 * scope's cancellation or destruction and the runtime's destruction end it
 * too. Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: when the descriptor is ready, or with WEFT_ERR_CANCELLED (events
 * 0) when the wait's future was cancelled or inside the call that ended its
 * watch (weft_fd_watch_close, weft_scope_cancel/destroy,
 * weft_runtime_destroy). If a function returns an error, its callback is
 * never called and `user` stays yours.
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_FD_H
#define WEFT_FD_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* A watched file descriptor (weft_fd_watch). */
typedef struct weft_fd_watch weft_fd_watch_t;

/* The directions of weft_fd_wait, as bits. */
#define WEFT_FD_READABLE 1
#define WEFT_FD_WRITABLE 2

/* The callback of weft_fd_wait: `events` holds the WEFT_FD_* bits that are
 * ready (among those waited for) with WEFT_OK; 0 otherwise, and `message`
 * says why. */
typedef void (*weft_fd_callback)(void* user, weft_status status, const char* message, int events);

/* Starts watching `fd`, any descriptor the kernel can poll (a socket, a
 * pipe, a tty, an eventfd, ...; not a regular file). The descriptor stays
 * the caller's (see above); close the watch before closing it. The caller
 * owns *out; end it with weft_fd_watch_close.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL, fd negative, or one that
 * cannot be polled or is already watched on this runtime's loop; the
 * message says which), WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 1.1. */
WEFT_API weft_status weft_fd_watch(weft_fd_watch_t** out, weft_loop_t* loop, int fd);

/* Waits once until the descriptor is ready for any of `events`
 * (WEFT_FD_READABLE, WEFT_FD_WRITABLE or both): `callback(user, WEFT_OK,
 * NULL, ready)`, `ready` being the bits of `events` that are ready, and the
 * future (weft/weft.h's one asynchronous model), if `out` asks for it,
 * resolves with `ready` (INT64) just before. At most one wait per direction
 * is pending: a READABLE wait and a WRITABLE wait may be pending together.
 * The wait's future can be cancelled on its own (weft_future_cancel): the
 * callback then gets WEFT_ERR_CANCELLED. A pending wait keeps
 * weft_loop_run(WEFT_RUN_DEFAULT) running.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (events 0 or with other bits; out and
 * callback both NULL), WEFT_ERR_INVALID_STATE (a wait for one of these
 * directions is already pending), WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 1.1. */
WEFT_API weft_status weft_fd_wait(weft_future_t** out, weft_fd_watch_t* watch, int events,
                                  weft_fd_callback callback, void* user);

/* Stops watching and ends the handle; the descriptor stays open. Pending
 * waits are called with WEFT_ERR_CANCELLED before this returns. NULL is
 * fine. Thread: loop thread. Since 1.1. */
WEFT_API weft_status weft_fd_watch_close(weft_fd_watch_t* watch);

WEFT_EXTERN_C_END

#endif /* WEFT_FD_H */
