#include "capi/src/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <optional>
#include <string>

#include "capi/src/guard.h"

namespace weft::capi {

void to_c_address(const SocketAddress& address, weft_address* out) noexcept {
  std::memset(out, 0, sizeof *out);
  out->port = address.port();
  if (address.is_v6()) {
    out->family = WEFT_ADDRESS_IPV6;
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address.data());
    inet_ntop(AF_INET6, &in6->sin6_addr, out->host, sizeof out->host);
  } else {
    out->family = WEFT_ADDRESS_IPV4;
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(address.data());
    inet_ntop(AF_INET, &in4->sin_addr, out->host, sizeof out->host);
  }
}

SocketAddress parse_c_address(const char* host, std::uint16_t port) {
  require(host, "host");
  std::optional<SocketAddress> address = SocketAddress::try_parse(host, port);
  if (!address) fail(Errc::invalid_argument, std::string("not a numeric IP address: \"") + host + "\"");
  return *address;
}

}  // namespace weft::capi
