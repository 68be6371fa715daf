/* weft/address.h: socket addresses as the C API hands them out — a numeric
 * IP address as text and a port — for TCP peers, UDP senders and DNS
 * results. Functions that take an address take the same text and port
 * ("127.0.0.1", "::1"; names go through weft/dns.h first).
 *
 * A weft_address is a plain value: the caller owns it (on the stack, in an
 * array weft fills); nothing in it needs freeing.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_ADDRESS_H
#define WEFT_ADDRESS_H

#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* Room for any numeric IPv6 address as text, with its NUL (INET6_ADDRSTRLEN). */
#define WEFT_ADDRESS_HOST_SIZE 46

typedef enum weft_address_family {
  WEFT_ADDRESS_IPV4 = 4,
  WEFT_ADDRESS_IPV6 = 6,
  WEFT_ADDRESS_FAMILY_FORCE32 = 0x7FFFFFFF
} weft_address_family;

/* An IP address and port. `host` is NUL-terminated: "127.0.0.1", "::1". */
typedef struct weft_address {
  weft_address_family family;
  uint16_t port;
  char host[WEFT_ADDRESS_HOST_SIZE];
} weft_address;

WEFT_EXTERN_C_END

#endif /* WEFT_ADDRESS_H */
