// weft::UdpSocket: datagrams on the loop.
//
//   auto socket = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
//   socket.send_to("ping", peer);                      // Future<void>
//   socket.recv_from().then(loop, [](weft::Result<weft::Datagram> d) { ... });
//
// - send_to() completes when the datagram is handed to the kernel (at once in
//   the common case); Errc::message_too_long for one over the path's limit.
// - recv_from() completes with the next datagram, its sender, and whether it
//   was truncated (longer than the 64 KiB receive buffer). One receive at a
//   time (a second fails with Errc::invalid_state). Once a receive has been
//   asked for, datagrams arriving while nothing waits are queued, up to
//   UdpOptions::max_queued; beyond that the socket stops reading and the
//   kernel's buffer (then the kernel) drops them, as UDP does.
// - Cancelling a pending receive frees the socket for the next one; a
//   datagram arriving as the receive is cancelled by another thread may be
//   lost (UDP promises nothing more).
// - close() fails pending operations with Errc::closed.
//
// Threads: the loop's thread; destroying elsewhere is allowed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/io_handle.h"
#include "core/io/socket_address.h"

namespace weft {

namespace detail {
class UdpImpl;
}

struct Datagram {
  std::string data;
  SocketAddress peer;
  bool truncated = false;
};

struct UdpOptions {
  // SO_REUSEADDR (several sockets on one address and port).
  bool reuse_address = false;
  // For an IPv6 address: IPv6 only.
  bool ipv6_only = false;
  // Datagrams kept while no receive waits.
  std::size_t max_queued = 256;
};

// is_open(), close() and wait_closed() come from IoHandle (io_handle.h).
class UdpSocket final : public IoHandle {
 public:
  UdpSocket() noexcept = default;

  // Binds to `address` (port 0: the kernel chooses). Throws weft::Exception.
  static UdpSocket bind(Loop& loop, const SocketAddress& address, UdpOptions options = {});

  [[nodiscard]] Future<void> send_to(std::string_view data, const SocketAddress& to);
  [[nodiscard]] Future<Datagram> recv_from();
  SocketAddress local_address() const;

 private:
  explicit UdpSocket(detail::IoRef<detail::UdpImpl> impl) noexcept;
  detail::UdpImpl* impl() const noexcept;
};

}  // namespace weft
