/* weft/udp.h: UDP sockets on the loop — datagrams sent to and received from
 * numeric IPv4 or IPv6 addresses.
 *
 *   weft_udp_socket_t* socket;
 *   weft_udp_bind(&socket, loop, "127.0.0.1", 0, NULL);
 *   weft_udp_recv_from(NULL, socket, on_datagram, user);  (bytes, sender valid in on_datagram)
 *   weft_udp_send_to(NULL, socket, "ping", 4, "127.0.0.1", 9000, NULL, NULL);
 *   weft_udp_close(socket);
 *
 * Handles. A socket belongs to the scope of the loop handle it was made
 * through. The caller owns it and ends it with weft_udp_close; the scope's
 * cancellation or destruction and the runtime's destruction end it too.
 * Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE).
 *
 * Sends and receives follow weft's one asynchronous model (weft/weft.h):
 * an optional future `out`, a callback that may be NULL, a status and a
 * message; cancel a receive with weft_future_cancel on its future. Every
 * callback passed here is called exactly once, on the loop
 * thread: from a loop run when its operation completes, or with
 * WEFT_ERR_CANCELLED inside the call that ended its socket (weft_udp_close,
 * weft_scope_cancel/destroy, weft_runtime_destroy). If a function returns an
 * error, its callback is never called and `user` stays yours. Failures are
 * statuses of the one error table (WEFT_ERR_ADDRESS_IN_USE,
 * WEFT_ERR_MESSAGE_TOO_LONG, WEFT_ERR_PERMISSION_DENIED, ...).
 *
 * Datagrams. UDP promises neither delivery nor order. Once a receive has
 * been asked for, datagrams that arrive while no receive waits are queued
 * by weft (up to max_queued, see weft_udp_bind_options); beyond that the
 * kernel's buffer, then the kernel, drops them.
 *
 * Addresses are numeric IPv4 or IPv6 ("127.0.0.1", "::1"); names go through
 * weft/dns.h first.
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_UDP_H
#define WEFT_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "weft/address.h"
#include "weft/common.h"
#include "weft/value.h"

WEFT_EXTERN_C_BEGIN

/* A bound UDP socket. */
typedef struct weft_udp_socket weft_udp_socket_t;

/* Options of weft_udp_bind. Set struct_size (WEFT_UDP_BIND_OPTIONS_INIT);
 * zero fields mean defaults. */
typedef struct weft_udp_bind_options {
  size_t struct_size;
  int reuse_address;  /* SO_REUSEADDR: several sockets may bind one address and port */
  int ipv6_only;      /* for an IPv6 address: no IPv4-mapped traffic */
  size_t max_queued;  /* datagrams kept while no receive waits; 0: 256 */
} weft_udp_bind_options;

#define WEFT_UDP_BIND_OPTIONS_INIT { sizeof(weft_udp_bind_options), 0, 0, 0 }

/* Fills `options` with WEFT_UDP_BIND_OPTIONS_INIT's values for a struct of
 * `struct_size` bytes. Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL,
 * struct_size too small). Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_udp_bind_options_init(weft_udp_bind_options* options, size_t struct_size);

/* A received datagram, as a receive's future holds it (a POINTER value,
 * owned by weft: valid while you hold a reference to the future). */
typedef struct weft_datagram {
  weft_bytes data;     /* the payload (size may be 0: an empty datagram) */
  weft_address from;   /* the sender */
  int truncated;       /* the datagram was longer than 64 KiB; the rest is lost */
} weft_datagram;

/* The callback of weft_udp_recv_from. With WEFT_OK: the datagram's `len`
 * bytes at `bytes` (len may be 0: an empty datagram is a datagram), its
 * sender at `from`, and `truncated` non-zero if the datagram was longer than
 * the 64 KiB weft receives (the rest is lost). `bytes` and `from` are
 * borrowed, valid until the callback returns. On failure (and with
 * WEFT_ERR_CANCELLED) bytes and from are NULL, len and truncated 0, and
 * `message` says why. */
typedef void (*weft_udp_recv_callback)(void* user, weft_status status, const char* message,
                                       const void* bytes, size_t len, const weft_address* from,
                                       int truncated);

/* Binds a UDP socket to `host`:`port` (port 0: the kernel chooses one, see
 * weft_udp_local_address). `options` may be NULL. The caller owns *out; end
 * it with weft_udp_close.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL out or host, a host that is not a
 * numeric address, bad options), WEFT_ERR_ADDRESS_IN_USE (without
 * reuse_address), WEFT_ERR_PERMISSION_DENIED, WEFT_ERR_CLOSED (the scope was
 * cancelled). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_udp_bind(weft_udp_socket_t** out, weft_loop_t* loop, const char* host,
                                   uint16_t port, const weft_udp_bind_options* options);

/* The address and port `socket` is bound to, into *out.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_IO_ERROR (the
 * kernel did not say). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_udp_local_address(weft_address* out, weft_udp_socket_t* socket);

/* Sends `len` bytes (copied during the call; 0 sends an empty datagram) as
 * one datagram to `host`:`port`. `callback(user, WEFT_OK, NULL)` and the
 * future (NONE) once the kernel has it, or the failure
 * (WEFT_ERR_MESSAGE_TOO_LONG for a datagram over the path's limit, about 64
 * KiB on loopback; WEFT_ERR_NETWORK_UNREACHABLE, ...).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (bytes NULL with len > 0, host NULL or
 * not a numeric address), WEFT_ERR_MESSAGE_TOO_LONG (len over 4 GiB),
 * WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_udp_send_to(weft_future_t** out, weft_udp_socket_t* socket,
                                      const void* bytes, size_t len, const char* host, uint16_t port,
                                      weft_callback callback, void* user);

/* Waits for the next datagram (see weft_udp_recv_callback); the future
 * resolves with a POINTER to a weft_datagram. One receive at a time per
 * socket; a cancelled receive leaves the next datagram for the next one.
 * Errors: WEFT_ERR_INVALID_STATE (a receive is pending), WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_udp_recv_from(weft_future_t** out, weft_udp_socket_t* socket,
                                        weft_udp_recv_callback callback, void* user);

/* Closes the socket at once and ends the handle: a pending receive and
 * pending sends are called with WEFT_ERR_CANCELLED before this returns
 * (datagrams queued for sending are dropped). NULL is fine.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_udp_close(weft_udp_socket_t* socket);

WEFT_EXTERN_C_END

#endif /* WEFT_UDP_H */
