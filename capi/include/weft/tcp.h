/* weft/tcp.h: TCP listeners and connections on the loop.
 *
 *   weft_tcp_listener_t* listener;
 *   weft_tcp_listen(&listener, loop, "127.0.0.1", 0, NULL);
 *   weft_tcp_accept(NULL, listener, on_accept, user);  (on_accept gets a stream)
 *   weft_tcp_connect(NULL, loop, "127.0.0.1", port, WEFT_SEC(5), on_connect, user);
 *   weft_tcp_peer_address(&address, stream);           (a weft_address value)
 *
 * A TCP connection is a weft_stream_t: read, write, shut down and close it
 * with weft/stream.h's functions. The functions here that take a stream
 * (options, addresses) accept only TCP streams (WEFT_ERR_INVALID_HANDLE for
 * another kind).
 *
 * Handles. A listener or stream belongs to the scope of the loop handle it
 * was made through (an accepted stream: its listener's scope). The caller
 * owns it and ends it with weft_tcp_listener_close / weft_stream_close; the
 * scope's cancellation or destruction and the runtime's destruction end it
 * too. Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Accept and connect follow weft's one asynchronous model (weft/weft.h):
 * an optional future `out` (it resolves with a POINTER value holding the
 * new weft_stream_t*), a callback (weft_stream_callback, may be NULL), a
 * status and a message. Each is called exactly once, on the loop thread:
 * from a loop run when its operation completes, or with WEFT_ERR_CANCELLED
 * inside the call that ended its handle (weft_tcp_listener_close,
 * weft_scope_cancel/destroy, weft_runtime_destroy). If a function returns
 * an error, its callback is never called and `user` stays yours. Failures
 * are statuses of the one error table (WEFT_ERR_CONNECTION_REFUSED,
 * WEFT_ERR_ADDRESS_IN_USE, WEFT_ERR_TIMED_OUT, ...) with the core's message
 * ("connect 127.0.0.1:9: connection refused (ECONNREFUSED)").
 *
 * Addresses are numeric IPv4 or IPv6 ("127.0.0.1", "::1"); names are not
 * resolved here.
 *
 * Thread: loop thread, for every function here.
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

/* Options of weft_tcp_listen. Set struct_size (WEFT_TCP_LISTEN_OPTIONS_INIT
 * or weft_tcp_listen_options_init); zero fields mean defaults. */
typedef struct weft_tcp_listen_options {
  size_t struct_size;
  int backlog;        /* 0: 511 */
  int ipv6_only;      /* for an IPv6 address: no IPv4-mapped connections */
  int nagle;          /* accepted connections keep Nagle's algorithm (default: TCP_NODELAY on) */
} weft_tcp_listen_options;

#define WEFT_TCP_LISTEN_OPTIONS_INIT { sizeof(weft_tcp_listen_options), 0, 0, 0 }

/* Fills `options` with WEFT_TCP_LISTEN_OPTIONS_INIT's values for a struct
 * of `struct_size` bytes (sizeof(weft_tcp_listen_options) of the caller's
 * headers). Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL, struct_size too
 * small). Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_tcp_listen_options_init(weft_tcp_listen_options* options,
                                                  size_t struct_size);

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

/* Waits for the next connection: callback(user, WEFT_OK, NULL, stream) and
 * the future once one arrives. Several accepts may be pending; they are
 * served in order. A connection that arrives while no accept waits stays in
 * the kernel's backlog; a cancelled accept leaves it there for the next.
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_accept(weft_future_t** out, weft_tcp_listener_t* listener,
                                     weft_stream_callback callback, void* user);

/* Stops listening and ends the handle: pending accepts are called with
 * WEFT_ERR_CANCELLED before this returns. NULL is fine.
 * Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_listener_close(weft_tcp_listener_t* listener);

/* Connects to `host`:`port`: the new stream, or WEFT_ERR_CONNECTION_REFUSED,
 * WEFT_ERR_TIMED_OUT (after `timeout_ns`; 0: no limit but the kernel's),
 * WEFT_ERR_HOST_UNREACHABLE, ... The attempt belongs to the loop handle's
 * scope. Errors: WEFT_ERR_INVALID_ARGUMENT (NULL host, a host that is not a
 * numeric address), WEFT_ERR_CLOSED. Thread: loop thread. Since 0.2. */
WEFT_API weft_status weft_tcp_connect(weft_future_t** out, weft_loop_t* loop, const char* host,
                                      uint16_t port, uint64_t timeout_ns,
                                      weft_stream_callback callback, void* user);

/* Turns TCP_NODELAY on (`enable` non-zero: small writes go out at once, the
 * default for weft's connections) or off (Nagle's algorithm).
 * Errors: WEFT_ERR_INVALID_HANDLE (not a TCP stream) /
 * WEFT_ERR_STALE_HANDLE, or the kernel's refusal. Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_tcp_set_nodelay(weft_stream_t* stream, int enable);

/* Turns SO_KEEPALIVE on (`enable` non-zero), probing after `delay_ns`
 * without traffic (whole seconds, rounded up, 1..32767 s on Linux), or off
 * (delay_ns is then ignored). Errors: WEFT_ERR_INVALID_ARGUMENT (enable with
 * delay_ns 0, or a delay the kernel refuses). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_tcp_set_keepalive(weft_stream_t* stream, int enable, uint64_t delay_ns);

/* The connection's local address and port (*out, a plain value).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_NOT_CONNECTED (the
 * socket has no address any more). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_tcp_local_address(weft_address* out, weft_stream_t* stream);

/* The peer's address and port (*out, a plain value).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_NOT_CONNECTED (the
 * connection is gone, say reset by the peer). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_tcp_peer_address(weft_address* out, weft_stream_t* stream);

/* The address and port a listener is bound to (*out, a plain value; the
 * port is the one the kernel chose for port 0).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL). Thread: loop thread.
 * Since 0.3. */
WEFT_API weft_status weft_tcp_listener_address(weft_address* out, weft_tcp_listener_t* listener);

WEFT_EXTERN_C_END

#endif /* WEFT_TCP_H */
