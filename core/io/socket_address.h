// weft::SocketAddress: an IPv4 or IPv6 address and port, as the socket calls
// take it (a sockaddr_storage inside).
//
//   auto address = weft::SocketAddress::parse("127.0.0.1", 8080);
//   address.to_string();   // "127.0.0.1:8080"; IPv6 as "[::1]:8080"
//
// parse() takes numeric addresses only; names go through weft::resolve
// (core/io/resolver.h). A default-constructed address is empty (family
// AF_UNSPEC). A plain value: copyable, any thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

class SocketAddress {
 public:
  SocketAddress() noexcept;

  // A numeric IPv4 or IPv6 address ("127.0.0.1", "::1"); throws
  // Exception(invalid_argument) for anything else.
  static SocketAddress parse(std::string_view ip, std::uint16_t port);
  static std::optional<SocketAddress> try_parse(std::string_view ip, std::uint16_t port) noexcept;
  // 127.0.0.1 and ::1.
  static SocketAddress loopback_v4(std::uint16_t port = 0) noexcept;
  static SocketAddress loopback_v6(std::uint16_t port = 0) noexcept;
  // From a sockaddr of family AF_INET or AF_INET6 (anything else: empty).
  static SocketAddress from_sockaddr(const sockaddr* address) noexcept;

  int family() const noexcept { return storage_.ss_family; }
  bool empty() const noexcept { return family() == AF_UNSPEC; }
  bool is_v4() const noexcept { return family() == AF_INET; }
  bool is_v6() const noexcept { return family() == AF_INET6; }

  std::uint16_t port() const noexcept;
  // The address without the port ("127.0.0.1", "::1"); empty if empty().
  std::string ip() const;
  // "127.0.0.1:80", "[::1]:80"; "" if empty().
  std::string to_string() const;

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_;
};

}  // namespace weft
