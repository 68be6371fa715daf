#include "core/io/socket_address.h"

#include <netinet/in.h>
#include <uv.h>

#include <cstring>
#include <string>

#include "core/error.h"

namespace weft {

SocketAddress::SocketAddress() noexcept {
  std::memset(&storage_, 0, sizeof(storage_));
  storage_.ss_family = AF_UNSPEC;
}

std::optional<SocketAddress> SocketAddress::try_parse(std::string_view ip, std::uint16_t port) noexcept {
  char text[64];
  // A NUL inside would end the text early: "127.0.0.1\0junk" is not an address.
  if (ip.empty() || ip.size() >= sizeof(text) || ip.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  SocketAddress address;
  if (ip.find(':') == std::string_view::npos) {
    if (uv_ip4_addr(text, port, reinterpret_cast<sockaddr_in*>(&address.storage_)) != 0) {
      return std::nullopt;
    }
  } else if (uv_ip6_addr(text, port, reinterpret_cast<sockaddr_in6*>(&address.storage_)) != 0) {
    return std::nullopt;
  }
  return address;
}

SocketAddress SocketAddress::parse(std::string_view ip, std::uint16_t port) {
  if (auto address = try_parse(ip, port)) return *address;
  throw Exception(Errc::invalid_argument,
                  "not a numeric IPv4 or IPv6 address: '" + std::string(ip) + "'");
}

SocketAddress SocketAddress::loopback_v4(std::uint16_t port) noexcept { return *try_parse("127.0.0.1", port); }

SocketAddress SocketAddress::loopback_v6(std::uint16_t port) noexcept { return *try_parse("::1", port); }

SocketAddress SocketAddress::from_sockaddr(const sockaddr* address) noexcept {
  SocketAddress result;
  if (address == nullptr) return result;
  if (address->sa_family == AF_INET) {
    std::memcpy(&result.storage_, address, sizeof(sockaddr_in));
  } else if (address->sa_family == AF_INET6) {
    std::memcpy(&result.storage_, address, sizeof(sockaddr_in6));
  }
  return result;
}

std::uint16_t SocketAddress::port() const noexcept {
  if (is_v4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (is_v6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string SocketAddress::ip() const {
  char text[64] = {0};
  if (is_v4()) {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&storage_), text, sizeof(text));
  } else if (is_v6()) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&storage_), text, sizeof(text));
  }
  return text;
}

std::string SocketAddress::to_string() const {
  if (empty()) return {};
  if (is_v6()) return "[" + ip() + "]:" + std::to_string(port());
  return ip() + ":" + std::to_string(port());
}

socklen_t SocketAddress::size() const noexcept {
  if (is_v4()) return sizeof(sockaddr_in);
  if (is_v6()) return sizeof(sockaddr_in6);
  return 0;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.family() == b.family() && a.size() == b.size() && a.port() == b.port() &&
         std::memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace weft
