/* weft/tcp.h: TCP listeners and connections on the loop.
 *
 *   weft_tcp_listener_t* listener;
 *   weft_tcp_listen(&listener, loop, "127.0.0.1", 0, NULL);
 *   weft_tcp_accept(listener, on_accept, user);    (on_accept gets a stream)
 *   weft_tcp_read(stream, 65536, on_read, user);   (bytes valid in on_read)
 *   weft_tcp_write(stream, bytes, len, on_written, user);
 *   weft_tcp_peer_address(&address, stream);       (a weft_address value)
 *   weft_tcp_close(stream);
 *
 * Handles. A listener or stream belongs to the scope of the loop handle it
 * was made through (an accepted stream: its listener's scope). The caller
 * owns it and ends it with weft_tcp_listener_close / weft_tcp_close; the
 * scope's cancellation or destruction and the runtime's destruction end it
 * too. Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: from a loop run when its operation completes, or with
 * WEFT_ERR_CANCELLED inside the call that ended its handle (weft_tcp_close,
 * weft_tcp_listener_close, weft_scope_cancel/destroy, weft_runtime_destroy).
 * If a function returns an error, its callback is never called and `user`
 * stays yours. Failures are statuses of the one error table
 * (WEFT_ERR_CONNECTION_REFUSED, WEFT_ERR_CONNECTION_RESET,
 * WEFT_ERR_BROKEN_PIPE, WEFT_ERR_ADDRESS_IN_USE, WEFT_ERR_TIMED_OUT, ...).
 *
 * A TCP stream is a stream (weft/stream.h): weft_tcp_as_stream gives its
 * handle as a weft_stream_t* for the weft_stream_* functions.
 *
 * Addresses are numeric IPv4 or IPv6 ("127.0.0.1", "::1"); names are not
 * resolved here.
 *
 * Thread: every function here is loop thread only.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_TCP_H
#define WEFT_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "weft/address.h"
#include "weft/common.h"
#include "weft/stream.h"

WEFT_EXTERN_C_BEGIN

/* A listening TCP socket. */
typedef struct weft_tcp_listener weft_tcp_listener_t;

/* A TCP connection. */
typedef struct weft_tcp_stream weft_tcp_stream_t;

/* Options of weft_tcp_listen. Set struct_size (WEFT_TCP_LISTEN_OPTIONS_INIT);
 * zero fields mean defaults. */
typedef struct weft_tcp_listen_options {
  size_t struct_size;
  int backlog;        /* 0: 511 */
  int ipv6_only;      /* for an IPv6 address: no IPv4-mapped connections */
  int nagle;          /* accepted connections keep Nagle's algorithm (default: TCP_NODELAY on) */
} weft_tcp_listen_options;

#define WEFT_TCP_LISTEN_OPTIONS_INIT { sizeof(weft_tcp_listen_options), 0, 0, 0 }

/* The callback of weft_tcp_accept and weft_tcp_connect: `stream` is the new
 * connection if status is WEFT_OK (the callback's receiver owns it; end it
 * with weft_tcp_close), NULL otherwise. */
typedef void (*weft_tcp_stream_callback)(void* user, weft_status status,
                                         weft_tcp_stream_t* stream);

/* The callback of weft_tcp_read: `len` bytes at `bytes` (1..max) with
 * WEFT_OK; borrowed, valid until the callback returns. At the end of the
 * stream (the peer shut down or closed its side): WEFT_ERR_END_OF_FILE with
 * len 0. On failure bytes is NULL and len 0. */
typedef void (*weft_tcp_read_callback)(void* user, weft_status status, const void* bytes,
                                       size_t len);

/* Binds `host`:`port` and listens (port 0: the kernel chooses one, see
 * weft_tcp_listener_port). `options` may be NULL. The caller owns *out; end
 * it with weft_tcp_listener_close.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL out or host, a host that is not a
 * numeric address, bad options), WEFT_ERR_ADDRESS_IN_USE,
 * WEFT_ERR_PERMISSION_DENIED, WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_listen(weft_tcp_listener_t** out, weft_loop_t* loop, const char* host,
                                     uint16_t port, const weft_tcp_listen_options* options);

/* The port a listener is bound to. Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_listener_port(uint16_t* out, weft_tcp_listener_t* listener);

/* Waits for the next connection: `callback(user, WEFT_OK, stream)` once one
 * arrives. Several accepts may be pending; they are served in order. A
 * connection that arrives while no accept waits stays in the kernel's
 * backlog. Errors: WEFT_ERR_INVALID_ARGUMENT (callback NULL).
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_accept(weft_tcp_listener_t* listener,
                                     weft_tcp_stream_callback callback, void* user);

/* Cancels the pending accepts: each callback is called with
 * WEFT_ERR_CANCELLED (and a NULL stream), in the order they were made,
 * before this returns; the listener keeps listening (connections that
 * arrive wait in the backlog for the next accept).
 * WEFT_ERR_ALREADY_COMPLETED if none was pending (not an error in the
 * caller's use). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_tcp_cancel_accept(weft_tcp_listener_t* listener);

/* Stops listening and ends the handle: pending accepts are called with
 * WEFT_ERR_CANCELLED before this returns. NULL is fine.
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_listener_close(weft_tcp_listener_t* listener);

/* Connects to `host`:`port`; `callback` gets the stream, or
 * WEFT_ERR_CONNECTION_REFUSED, WEFT_ERR_TIMED_OUT (after `timeout_ms`; 0: no
 * limit but the kernel's), WEFT_ERR_HOST_UNREACHABLE, ... The attempt
 * belongs to the loop handle's scope.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL host or callback, a host that is
 * not a numeric address), WEFT_ERR_CLOSED. Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_connect(weft_loop_t* loop, const char* host, uint16_t port,
                                      uint32_t timeout_ms, weft_tcp_stream_callback callback,
                                      void* user);

/* Reads what is available, 1..max bytes (see weft_tcp_read_callback). One
 * read at a time per stream. Bytes that arrive while no read waits are
 * buffered by weft (up to 256 KiB, then the kernel's buffer fills).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (callback NULL, max 0),
 * WEFT_ERR_INVALID_STATE (a read is pending). Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_read(weft_tcp_stream_t* stream, size_t max,
                                   weft_tcp_read_callback callback, void* user);

/* Writes `len` bytes, copied during the call (what the kernel does not take
 * at once is buffered). `callback(user, WEFT_OK)` once the kernel has them
 * all, or with the failure (WEFT_ERR_BROKEN_PIPE, WEFT_ERR_CONNECTION_RESET,
 * ...). Writes go out in the order made. `callback` may be NULL (nothing is
 * then called). Errors: WEFT_ERR_INVALID_ARGUMENT (bytes NULL with len > 0).
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_write(weft_tcp_stream_t* stream, const void* bytes, size_t len,
                                    weft_callback callback, void* user);

/* Half-closes: sends end-of-stream after the queued writes; reading goes
 * on. `callback` (may be NULL) runs once the shutdown is done.
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_shutdown(weft_tcp_stream_t* stream, weft_callback callback,
                                       void* user);

/* Closes the connection at once and ends the handle: pending reads, writes
 * and shutdowns are called with WEFT_ERR_CANCELLED before this returns
 * (bytes still queued for writing are dropped). NULL is fine.
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_close(weft_tcp_stream_t* stream);

/* Turns TCP_NODELAY on (`enable` non-zero: small writes go out at once, the
 * default for weft's connections) or off (Nagle's algorithm).
 * Errors: WEFT_ERR_INVALID_HANDLE / WEFT_ERR_STALE_HANDLE, or the kernel's
 * refusal. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_tcp_set_nodelay(weft_tcp_stream_t* stream, int enable);

/* Turns SO_KEEPALIVE on (`enable` non-zero), probing after `delay_seconds`
 * without traffic (1..32767 on Linux), or off (delay_seconds is then
 * ignored). Errors: WEFT_ERR_INVALID_ARGUMENT (enable with delay_seconds 0,
 * or a delay the kernel refuses). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_tcp_set_keepalive(weft_tcp_stream_t* stream, int enable,
                                            unsigned delay_seconds);

/* The connection's local address and port (*out, a plain value).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_NOT_CONNECTED (the
 * socket has no address any more). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_tcp_local_address(weft_address* out, weft_tcp_stream_t* stream);

/* The peer's address and port (*out, a plain value).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_NOT_CONNECTED (the
 * connection is gone, say reset by the peer). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_tcp_peer_address(weft_address* out, weft_tcp_stream_t* stream);

/* The address and port a listener is bound to (*out, a plain value; the
 * port is the one the kernel chose for port 0).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_tcp_listener_address(weft_address* out, weft_tcp_listener_t* listener);

/* The same handle as a weft_stream_t*, for weft/stream.h's functions. */
static inline weft_stream_t* weft_tcp_as_stream(weft_tcp_stream_t* stream) {
  return (weft_stream_t*)stream;
}

WEFT_EXTERN_C_END

#endif /* WEFT_TCP_H */
