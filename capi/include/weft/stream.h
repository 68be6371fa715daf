/* weft/stream.h: byte streams on the loop — what a TCP connection, a Unix
 * domain socket connection, a pipe and a subprocess's stdin/stdout/stderr
 * have in common.
 *
 *   weft_stream_read(NULL, stream, 65536, on_read, user);   (bytes valid in on_read)
 *   weft_stream_read_until(NULL, stream, "\n", 1, 4096, on_line, user);
 *   weft_stream_read_into(NULL, stream, lend_memory, on_read, user);  (into your memory)
 *   weft_stream_read_exactly(&f, stream, 16, NULL, NULL);   (the bytes in future f)
 *   weft_stream_write(NULL, stream, bytes, len, on_written, user);
 *   weft_stream_drain(NULL, stream, on_drained, user);      (backpressure, below)
 *   weft_stream_shutdown(NULL, stream, NULL, NULL);         (end-of-stream to the peer)
 *   weft_stream_close(stream);
 *
 * Every connection is a weft_stream_t: TCP (weft/tcp.h), Unix domain
 * sockets and pipes (weft/pipe.h), a child's stdio (weft/process.h).
 *
 * Every operation here follows weft's one asynchronous model (weft/weft.h):
 * an optional future `out`, a callback that may be NULL, a status and a
 * message. The future of a read resolves with BYTES (a copy of what the
 * callback sees); the others resolve with NONE.
 *
 * Reading. One read at a time per stream, whichever kind (read, read_exactly,
 * read_until): a second one while the first is pending fails with
 * WEFT_ERR_INVALID_STATE. Once a read has been asked for, weft keeps reading
 * ahead into its own buffer while no read waits, up to the read high-water
 * mark (256 KiB, weft_stream_set_limits); then the kernel's buffer fills and
 * the peer's writes slow down. Bytes a cancelled read did not take stay
 * buffered (cancel a read with weft_future_cancel on its future). A read fails with the connection's error (WEFT_ERR_CONNECTION_RESET,
 * ...) only after the bytes that arrived before it have been read.
 *
 * Writing and backpressure. weft_stream_write copies the bytes and queues
 * what the kernel does not take at once; its callback runs when the kernel
 * has them. A writer that waits for each write's callback never holds more
 * than one write's bytes. A writer that queues several writes without
 * waiting watches weft_stream_write_buffered, or calls weft_stream_drain,
 * which completes at once (in a loop run) while the queue is at or below
 * the write high-water mark (1 MiB) and otherwise once it is back down to
 * the low-water mark (256 KiB).
 *
 * Cancelling a write or a shutdown stops the waiting, not the write: the
 * bytes were accepted when the call returned and still go out in order.
 *
 * Handles. A stream belongs to a scope (the one it was made in) and to the
 * caller, who ends it with weft_stream_close; the scope's cancellation or
 * destruction and the runtime's destruction end it too. Once ended, its
 * handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: from a loop run when its operation completes, or with
 * WEFT_ERR_CANCELLED inside the call that ended its handle. If a function
 * returns an error, its callback is never called, *out is untouched and
 * `user` stays yours.
 *
 * SIGPIPE. Making a stream (any kind) sets SIGPIPE to ignored, process-wide,
 * if it has its default action (which ends the process), so that a write to
 * a peer that is gone fails with WEFT_ERR_BROKEN_PIPE; a handler the host
 * installed, or SIG_IGN, stays as it is.
 *
 * Thread: loop thread, for every function here.
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

/* The callback of the operations that make a stream (TCP and Unix socket
 * accept and connect): `stream` is the new connection if status is
 * WEFT_OK (the caller owns it; end it with weft_stream_close), NULL
 * otherwise. Their future resolves with a POINTER value holding the same
 * weft_stream_t* (destroy NULL: the stream is still yours to close; with no
 * callback, read it from the future). */
typedef void (*weft_stream_callback)(void* user, weft_status status, const char* message,
                                     weft_stream_t* stream);

/* The most bytes weft_stream_read_exactly and weft_stream_read_until take
 * as n and max: 64 MiB. (They buffer the whole result in memory.) */
#define WEFT_STREAM_READ_MAX ((size_t)64 << 20)

/* Reads what is available, 1..max bytes (see weft_bytes_callback): at the
 * end of the stream (the peer shut down or closed its side) the status is
 * WEFT_ERR_END_OF_FILE with len 0. One
 * read at a time per stream. Bytes that arrive while no read waits are
 * buffered by weft (up to 256 KiB, then the kernel's buffer fills and the
 * peer's writes slow down).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (max 0), WEFT_ERR_INVALID_STATE (a
 * read is pending), WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_read(weft_future_t** out, weft_stream_t* stream, size_t max,
                                      weft_bytes_callback callback, void* user);

/* Lends the memory a weft_stream_read_into reads into: called on the loop
 * thread when bytes are about to be moved (inside the loop's read of the
 * stream, or inside weft_stream_read_into when weft holds bytes already).
 * Set *len to the memory's size and return it; return NULL (or set *len to
 * 0) to decline: the read then ends with WEFT_ERR_NO_MEMORY having taken
 * nothing. It may be called more than once for one read (the kernel had
 * nothing after all): the memory it returned before is then no longer used.
 * It must not call weft functions on this stream. */
typedef void* (*weft_stream_memory_callback)(void* user, size_t* len);

/* Reads what is available, 1..len bytes, into memory the caller lends when
 * the bytes are there (`memory`, see weft_stream_memory_callback):
 * callback(user, WEFT_OK, NULL, bytes, n), where `bytes` is that memory; at
 * the end of the stream WEFT_ERR_END_OF_FILE with len 0. The memory must
 * stay valid until the callback (or the next memory call). With nothing
 * buffered, the kernel reads straight into it: no copy (bytes weft read
 * ahead are copied into it). The future resolves with INT64, the count. As
 * weft_stream_read otherwise: one read at a time, of any kind, per stream;
 * on a TLS stream the plaintext is copied into the memory.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (memory NULL), WEFT_ERR_INVALID_STATE
 * (a read is pending), WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 1.4. */
WEFT_API weft_status weft_stream_read_into(weft_future_t** out, weft_stream_t* stream,
                                           weft_stream_memory_callback memory,
                                           weft_bytes_callback callback, void* user);

/* Reads exactly `n` bytes (1..WEFT_STREAM_READ_MAX): callback(user,
 * WEFT_OK, NULL, bytes, n), or WEFT_ERR_END_OF_FILE (len 0; the bytes that did
 * arrive stay buffered) if the stream ends first, or the failure.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (n 0 or above
 * WEFT_STREAM_READ_MAX), WEFT_ERR_INVALID_STATE (a read is pending),
 * WEFT_ERR_CLOSED (the scope was cancelled). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_read_exactly(weft_future_t** out, weft_stream_t* stream, size_t n,
                                              weft_bytes_callback callback, void* user);

/* Reads up to and including the first `delimiter` (`delimiter_len` bytes,
 * copied during the call; any bytes, NUL included): callback(user, WEFT_OK,
 * NULL, bytes, len) where the last delimiter_len bytes are the delimiter and len
 * <= max. WEFT_ERR_MESSAGE_TOO_LONG if `max` bytes arrive without a
 * delimiter (nothing is taken: the bytes stay buffered for the next read);
 * WEFT_ERR_END_OF_FILE if the stream ends first (likewise).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (delimiter NULL,
 * delimiter_len 0, max 0 or above WEFT_STREAM_READ_MAX),
 * WEFT_ERR_INVALID_STATE (a read is pending), WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_read_until(weft_future_t** out, weft_stream_t* stream,
                                            const void* delimiter, size_t delimiter_len, size_t max,
                                            weft_bytes_callback callback, void* user);

/* Writes `len` bytes, copied during the call (what the kernel does not take
 * at once is buffered). `callback(user, WEFT_OK, NULL)` once the kernel has
 * them all, or with the failure (WEFT_ERR_BROKEN_PIPE,
 * WEFT_ERR_CONNECTION_RESET, ...). Writes go out in the order made. A write
 * the kernel took whole, made in a read's callback, may have its callback
 * called right after that read callback returns, in the same loop run (an
 * echo then asks for its next read while the loop is still reading that
 * stream); otherwise it is called from the loop's queue. Never inside this
 * call.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (bytes NULL with len > 0),
 * WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_write(weft_future_t** out, weft_stream_t* stream, const void* bytes,
                                       size_t len, weft_callback callback, void* user);

/* Waits for the write queue to empty enough: callback(user, WEFT_OK, NULL) at
 * once (from a loop run, never inside this call) if no more than the write
 * high-water mark is queued, otherwise once the queue is back down to the
 * low-water mark; or the write failure that stopped the queue
 * (WEFT_ERR_BROKEN_PIPE, ...). Several drains may be pending. It does not
 * count as a read. Errors: WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_drain(weft_future_t** out, weft_stream_t* stream,
                                       weft_callback callback, void* user);

/* *out = the bytes queued for writing that the kernel has not taken yet.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_stream_write_buffered(size_t* out, weft_stream_t* stream);

/* *out = the bytes read from the kernel that no read has taken yet.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_stream_read_buffered(size_t* out, weft_stream_t* stream);

/* A stream's buffer limits (weft_stream_set_limits). Set struct_size
 * (WEFT_STREAM_LIMITS_INIT); zero fields mean the defaults. */
typedef struct weft_stream_limits {
  size_t struct_size;
  size_t read_high_water;  /* read ahead while fewer bytes are buffered; 0: 256 KiB */
  size_t write_high_water; /* weft_stream_drain waits while more are queued; 0: 1 MiB */
  size_t write_low_water;  /* ...until no more than this are; 0: write_high_water / 4 */
} weft_stream_limits;

#define WEFT_STREAM_LIMITS_INIT { sizeof(weft_stream_limits), 0, 0, 0 }

/* Fills `limits` with WEFT_STREAM_LIMITS_INIT's values for a struct of
 * `struct_size` bytes (sizeof(weft_stream_limits) of the caller's headers).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (limits NULL, struct_size too small).
 * Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_stream_limits_init(weft_stream_limits* limits, size_t struct_size);

/* Sets the stream's buffer limits (NULL: the defaults). They apply from now
 * on (a pending drain is checked again at the next write completion).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (bad struct_size, write_low_water above
 * write_high_water). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_set_limits(weft_stream_t* stream, const weft_stream_limits* limits);

/* Half-closes: sends end-of-stream after the queued writes; reading goes
 * on. `callback` runs once the shutdown is done. Writes made after it fail
 * (their callback gets WEFT_ERR_INVALID_STATE).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_shutdown(weft_future_t** out, weft_stream_t* stream,
                                          weft_callback callback, void* user);

/* Closes the stream at once and ends the handle: pending operations are
 * called with WEFT_ERR_CANCELLED before this returns (bytes still queued for
 * writing are dropped). NULL is fine. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_stream_close(weft_stream_t* stream);

WEFT_EXTERN_C_END

#endif /* WEFT_STREAM_H */
