// weft::capi addresses: between weft::SocketAddress and the C API's
// weft_address (weft/address.h), and parsing the (host, port) arguments the
// C functions take. Any thread.
#pragma once

#include <cstdint>

#include "core/io/socket_address.h"
#include "weft/address.h"

namespace weft::capi {

// Fills `out` from an IPv4 or IPv6 address.
void to_c_address(const SocketAddress& address, weft_address* out) noexcept;

// A numeric IPv4 or IPv6 address; fails with invalid_argument (naming the
// text) for NULL or anything else.
SocketAddress parse_c_address(const char* host, std::uint16_t port);

}  // namespace weft::capi
