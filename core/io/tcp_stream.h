// weft::TcpStream: a TCP connection (a weft::Stream, see stream.h for reading,
// writing, backpressure, half-close and closing).
//
//   weft::Future<weft::TcpStream> c = weft::TcpStream::connect(loop, address, {.timeout = 2s});
//
// connect() fails with Errc::connection_refused, timed_out (the timeout, if
// any, expired first: the attempt is abandoned and its socket closed),
// host_unreachable, ... Cancelling its future abandons the attempt the same
// way. TcpListener::accept() is the other way to get one.
//
// New connections have TCP_NODELAY on (small writes go out at once, as in
// asyncio); set_no_delay(false) turns Nagle's algorithm back on.
//
// Threads: as Stream — the loop's thread.
#pragma once

#include <chrono>

#include "core/clock/clock.h"
#include "core/future/future.h"
#include "core/io/socket_address.h"
#include "core/io/stream.h"

namespace weft {

struct TcpConnectOptions {
  // Gives up with Errc::timed_out after this long (loop clock); 0: no limit
  // but the kernel's own (about two minutes).
  Duration timeout{0};
  bool no_delay = true;
  StreamLimits limits;
};

class TcpStream final : public Stream {
 public:
  TcpStream() noexcept = default;

  // Loop thread.
  [[nodiscard]] static Future<TcpStream> connect(Loop& loop, const SocketAddress& address,
                                                 TcpConnectOptions options = {});

  // Empty if the stream is closed.
  SocketAddress local_address() const;
  SocketAddress peer_address() const;

  // TCP_NODELAY. Throws Exception on failure.
  void set_no_delay(bool on);
  // SO_KEEPALIVE, probing after `idle` without traffic. Throws on failure.
  void set_keep_alive(bool on, std::chrono::seconds idle = std::chrono::seconds(60));

  // Closes with a reset (RST) instead of an orderly close: the peer's reads
  // and writes fail with Errc::connection_reset. Pending operations fail with
  // Errc::closed.
  void abort() noexcept;

 private:
  friend struct detail::StreamAccess;
  explicit TcpStream(detail::IoRef<detail::StreamImpl> impl) noexcept;
};

}  // namespace weft
