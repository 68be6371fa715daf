/* weft/dns.h: resolving host names to addresses (getaddrinfo) off the loop
 * thread.
 *
 *   weft_resolve_options options = WEFT_RESOLVE_OPTIONS_INIT;
 *   options.family = WEFT_RESOLVE_IPV4;
 *   weft_resolve(NULL, loop, "localhost", 8080, &options, on_resolved, user);
 *   // on_resolved(user, WEFT_OK, NULL, addresses, count) runs on the loop thread;
 *   // pass addresses[i].host and .port to weft_tcp_connect, weft_udp_send_to
 *
 * getaddrinfo blocks, so the lookup runs on an executor's worker (the
 * runtime's default pool unless the options name another), never on the
 * loop thread and never on libuv's process-wide thread pool. It consults
 * what the system's resolver does (/etc/hosts, DNS, ...); numeric addresses
 * resolve to themselves without a lookup.
 *
 * weft_resolve follows weft's one asynchronous model (weft/weft.h): an
 * optional future `out` (it resolves with a POINTER to a weft_address_list),
 * a callback that may be NULL, a status and a message; cancel a lookup with
 * weft_future_cancel on its future.
 *
 * A pending lookup belongs to the scope of the loop handle it was started
 * through: cancelling or destroying that scope, or destroying the runtime,
 * calls its callback with WEFT_ERR_CANCELLED. A lookup not yet started is
 * then skipped; one already inside getaddrinfo finishes on its worker and
 * its result is dropped.
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_DNS_H
#define WEFT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "weft/address.h"
#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* Which address families a lookup returns. */
typedef enum weft_resolve_family {
  WEFT_RESOLVE_ANY = 0,  /* IPv4 and IPv6 */
  WEFT_RESOLVE_IPV4 = 4,
  WEFT_RESOLVE_IPV6 = 6,
  WEFT_RESOLVE_FAMILY_FORCE32 = 0x7FFFFFFF
} weft_resolve_family;

/* The kind of socket the addresses are for (one address per result either
 * way). */
typedef enum weft_resolve_socktype {
  WEFT_RESOLVE_STREAM = 0,   /* TCP */
  WEFT_RESOLVE_DATAGRAM = 1, /* UDP */
  WEFT_RESOLVE_SOCKTYPE_FORCE32 = 0x7FFFFFFF
} weft_resolve_socktype;

/* Options of weft_resolve. Set struct_size (WEFT_RESOLVE_OPTIONS_INIT);
 * zero fields mean defaults. */
typedef struct weft_resolve_options {
  size_t struct_size;
  weft_resolve_family family;     /* default WEFT_RESOLVE_ANY */
  weft_resolve_socktype socktype; /* default WEFT_RESOLVE_STREAM */
  /* The executor getaddrinfo runs on (a pool or a strand of the same
   * runtime; borrowed: it must not be destroyed before this call returns,
   * and destroying it later waits for the lookup). NULL: the runtime's
   * default pool. */
  weft_executor_t* executor;
} weft_resolve_options;

#define WEFT_RESOLVE_OPTIONS_INIT \
  { sizeof(weft_resolve_options), WEFT_RESOLVE_ANY, WEFT_RESOLVE_STREAM, NULL }

/* Fills `options` with WEFT_RESOLVE_OPTIONS_INIT's values for a struct of
 * `struct_size` bytes. Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL,
 * struct_size too small). Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_resolve_options_init(weft_resolve_options* options, size_t struct_size);

/* The addresses a lookup found, as its future holds them (a POINTER value,
 * owned by weft: valid while you hold a reference to the future). */
typedef struct weft_address_list {
  const weft_address* addresses;
  size_t count;
} weft_address_list;

/* The callback of weft_resolve. With WEFT_OK: `count` (at least 1) addresses
 * in getaddrinfo's order, without duplicates, each with the port asked for;
 * the array is borrowed, valid until the callback returns. On failure
 * addresses is NULL and count 0: WEFT_ERR_HOST_NOT_FOUND (no such name, or no
 * address of the requested family, or the resolver could not be reached),
 * WEFT_ERR_CANCELLED, WEFT_ERR_NO_MEMORY, WEFT_ERR_IO_ERROR, with `message`
 * saying why. */
typedef void (*weft_resolve_callback)(void* user, weft_status status, const char* message,
                                      const weft_address* addresses, size_t count);

/* Resolves `host` (a name, or a numeric IPv4 or IPv6 address) with `port`;
 * `callback` gets the addresses on the loop thread. `options` may be NULL.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (host NULL or empty, bad
 * options: size, enum values, an executor of another runtime),
 * WEFT_ERR_INVALID_HANDLE / WEFT_ERR_STALE_HANDLE (options->executor),
 * WEFT_ERR_CLOSED (the scope was cancelled, the runtime or the executor is
 * being destroyed). Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_resolve(weft_future_t** out, weft_loop_t* loop, const char* host,
                                  uint16_t port, const weft_resolve_options* options,
                                  weft_resolve_callback callback, void* user);

WEFT_EXTERN_C_END

#endif /* WEFT_DNS_H */
