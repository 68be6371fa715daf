/* weft/stream.h: byte streams on the loop — what a TCP connection, a Unix
 * domain socket connection, a pipe and a subprocess's stdin/stdout/stderr
 * have in common.
 *
 *   weft_stream_read(stream, 65536, on_read, user);   (bytes valid in on_read)
 *   weft_stream_write(stream, bytes, len, on_written, user);
 *   weft_stream_shutdown(stream, NULL, NULL);          (end-of-stream to the peer)
 *   weft_stream_close(stream);
 *
 * A weft_tcp_stream_t is a stream: weft_tcp_as_stream() gives the same
 * handle as a weft_stream_t*, for these functions.
 *
 * Handles. A stream belongs to a scope (the one it was made in) and to the
 * caller, who ends it with weft_stream_close (a TCP stream: weft_tcp_close,
 * or weft_stream_close on its weft_stream_t*); the scope's cancellation or
 * destruction and the runtime's destruction end it too. Once ended, its
 * handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: from a loop run when its operation completes, or with
 * WEFT_ERR_CANCELLED inside the call that ended its handle. If a function
 * returns an error, its callback is never called and `user` stays yours.
 *
 * Thread: every function here is loop thread only.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_STREAM_H
#define WEFT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* A byte stream: a connection or a pipe. */
typedef struct weft_stream weft_stream_t;

/* The callback of the stream reads: `len` bytes at `bytes` with WEFT_OK;
 * borrowed, valid until the callback returns. At the end of the stream (the
 * peer shut down or closed its side): WEFT_ERR_END_OF_FILE with len 0. On
 * failure bytes is NULL and len 0. */
typedef void (*weft_stream_read_callback)(void* user, weft_status status, const void* bytes,
                                          size_t len);

/* Reads what is available, 1..max bytes (see weft_stream_read_callback). One
 * read at a time per stream. Bytes that arrive while no read waits are
 * buffered by weft (up to 256 KiB, then the kernel's buffer fills and the
 * peer's writes slow down).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (callback NULL, max 0),
 * WEFT_ERR_INVALID_STATE (a read is pending), WEFT_ERR_CLOSED (the scope was
 * cancelled). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_read(weft_stream_t* stream, size_t max,
                                      weft_stream_read_callback callback, void* user);

/* Writes `len` bytes, copied during the call (what the kernel does not take
 * at once is buffered). `callback(user, WEFT_OK)` once the kernel has them
 * all, or with the failure (WEFT_ERR_BROKEN_PIPE, WEFT_ERR_CONNECTION_RESET,
 * ...). Writes go out in the order made. `callback` may be NULL (nothing is
 * then called). Errors: WEFT_ERR_INVALID_ARGUMENT (bytes NULL with len > 0),
 * WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_write(weft_stream_t* stream, const void* bytes, size_t len,
                                       weft_callback callback, void* user);

/* Half-closes: sends end-of-stream after the queued writes; reading goes
 * on. `callback` (may be NULL) runs once the shutdown is done.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_shutdown(weft_stream_t* stream, weft_callback callback, void* user);

/* Closes the stream at once and ends the handle: pending operations are
 * called with WEFT_ERR_CANCELLED before this returns (bytes still queued for
 * writing are dropped). NULL is fine. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_close(weft_stream_t* stream);

WEFT_EXTERN_C_END

#endif /* WEFT_STREAM_H */
