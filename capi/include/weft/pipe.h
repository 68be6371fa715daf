/* weft/pipe.h: Unix domain sockets and pipes on the loop, as byte streams
 * (weft/stream.h).
 *
 *   weft_pipe_listener_t* listener;
 *   weft_pipe_listen(&listener, loop, "/run/app.sock", NULL);
 *   weft_pipe_accept(NULL, listener, on_accept, user);  (on_accept gets a stream)
 *   weft_pipe_connect(NULL, loop, "/run/app.sock", WEFT_SEC(5), on_connect, user);
 *   weft_pipe_pair(&a, &b, loop);                       (a connected socketpair)
 *   weft_pipe_open(&stream, loop, fd);                  (adopt a pipe end)
 *   weft_stream_read(NULL, stream, 65536, on_read, user);
 *   weft_stream_close(stream);
 *
 * Every stream made here is a weft_stream_t: read, write, drain, shut down
 * and close it with the weft_stream_* functions.
 *
 * Handles. A listener or stream belongs to the scope of the loop handle it
 * was made through (an accepted stream: its listener's scope). The caller
 * owns it and ends it with weft_pipe_listener_close / weft_stream_close; the
 * scope's cancellation or destruction and the runtime's destruction end it
 * too. Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE). A listener
 * removes its socket file when it ends.
 *
 * Accept and connect follow weft's one asynchronous model (weft/weft.h):
 * an optional future `out` (it resolves with a POINTER value holding the
 * new weft_stream_t*), a callback (weft_stream_callback, may be NULL), a
 * status and a message. Each is called exactly once, on the loop
 * thread: from a loop run when its operation completes, or with
 * WEFT_ERR_CANCELLED inside the call that ended its handle
 * (weft_pipe_listener_close, weft_scope_cancel/destroy,
 * weft_runtime_destroy). If a function returns an error, its callback is
 * never called and `user` stays yours.
 *
 * Paths are file system paths of Unix domain sockets, at most
 * WEFT_PIPE_PATH_MAX bytes (the kernel's limit, without the NUL).
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_PIPE_H
#define WEFT_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"
#include "weft/stream.h"

WEFT_EXTERN_C_BEGIN

/* A listening Unix domain socket. */
typedef struct weft_pipe_listener weft_pipe_listener_t;

/* The longest socket path, in bytes without the NUL (sockaddr_un's
 * sun_path less one, on Linux). */
#define WEFT_PIPE_PATH_MAX 107

/* Options of weft_pipe_listen. Set struct_size
 * (WEFT_PIPE_LISTEN_OPTIONS_INIT); zero fields mean defaults. */
typedef struct weft_pipe_listen_options {
  size_t struct_size;
  int backlog; /* 0: 511 */
} weft_pipe_listen_options;

#define WEFT_PIPE_LISTEN_OPTIONS_INIT { sizeof(weft_pipe_listen_options), 0 }

/* Fills `options` with WEFT_PIPE_LISTEN_OPTIONS_INIT's values for a struct
 * of `struct_size` bytes. Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL,
 * struct_size too small). Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_pipe_listen_options_init(weft_pipe_listen_options* options,
                                                   size_t struct_size);

/* Binds a Unix domain socket at `path` (which must not exist) and listens.
 * `options` may be NULL. The caller owns *out; end it with
 * weft_pipe_listener_close (which removes the socket file).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL out or path, an empty path or one
 * longer than WEFT_PIPE_PATH_MAX, bad options), WEFT_ERR_ADDRESS_IN_USE (the
 * path exists), WEFT_ERR_PERMISSION_DENIED (also when its directory does
 * not exist: libuv reports that so), WEFT_ERR_CLOSED (the scope was
 * cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_listen(weft_pipe_listener_t** out, weft_loop_t* loop, const char* path,
                                      const weft_pipe_listen_options* options);

/* The listener's path, written to `buffer` (always NUL-terminated when
 * capacity > 0, truncated to fit). *length (if not NULL) receives the full
 * length without the NUL, as snprintf does. `buffer` may be NULL when
 * capacity is 0. Errors: WEFT_ERR_INVALID_ARGUMENT (buffer NULL with
 * capacity > 0). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_listener_path(char* buffer, size_t capacity, size_t* length,
                                             weft_pipe_listener_t* listener);

/* Waits for the next connection: callback(user, WEFT_OK, NULL, stream) and
 * the future once one arrives. Several accepts may be pending; they are
 * served in order. A connection that arrives while no accept waits stays in
 * the kernel's backlog; a cancelled accept leaves it there for the next.
 * Errors: WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_accept(weft_future_t** out, weft_pipe_listener_t* listener,
                                      weft_stream_callback callback, void* user);

/* Stops listening, removes the socket file and ends the handle: pending
 * accepts are called with WEFT_ERR_CANCELLED before this returns. NULL is
 * fine. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_listener_close(weft_pipe_listener_t* listener);

/* Connects to the Unix domain socket at `path`: the new stream, or
 * WEFT_ERR_NOT_FOUND (no such file), WEFT_ERR_CONNECTION_REFUSED (nobody
 * listens there), WEFT_ERR_PERMISSION_DENIED, WEFT_ERR_TIMED_OUT (after
 * `timeout_ns`; 0: no limit), ... The attempt belongs to the loop handle's
 * scope. Errors: WEFT_ERR_INVALID_ARGUMENT (NULL path, an empty path or one
 * longer than WEFT_PIPE_PATH_MAX), WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_connect(weft_future_t** out, weft_loop_t* loop, const char* path,
                                       uint64_t timeout_ns, weft_stream_callback callback, void* user);

/* Two connected streams (socketpair(2)): what one writes, the other reads.
 * The caller owns *a and *b (each ended with weft_stream_close); on failure
 * neither is written. Errors: WEFT_ERR_INVALID_ARGUMENT (a or b NULL, or the
 * same pointer), WEFT_ERR_TOO_MANY_OPEN_FILES, WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_pair(weft_stream_t** a, weft_stream_t** b, weft_loop_t* loop);

/* Takes over an open descriptor (a pipe end, a connected Unix or TCP
 * socket) as a stream in the loop handle's scope. On success the
 * stream owns `fd` and closes it when it ends (do not close it yourself); on
 * failure `fd` stays yours. The caller owns *out (weft_stream_close).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL, fd < 0 or not open, a regular
 * file or directory), WEFT_ERR_ALREADY_EXISTS (the loop already uses fd),
 * WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_pipe_open(weft_stream_t** out, weft_loop_t* loop, int fd);

WEFT_EXTERN_C_END

#endif /* WEFT_PIPE_H */
