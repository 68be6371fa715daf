// weft::TcpListener: a listening TCP socket; accept() yields TcpStreams.
//
//   auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
//   listener.local_address().port();            // the port the kernel chose
//   weft::Future<weft::TcpStream> next = listener.accept();
//
// - bind() binds and listens at once; it throws weft::Exception
//   (Errc::address_in_use, permission_denied, ...). Port 0 lets the kernel
//   choose.
// - accept() completes with the next connection. Several may be pending; they
//   are served in order. While no accept() waits, connections stay in the
//   kernel's backlog (weft does not take them). Cancelling an accept's future
//   gives up the wait; a connection that arrives as it is cancelled stays for
//   the next accept, never lost.
// - connections(): the same as an async generator, for tasks:
//     auto incoming = listener.connections();
//     while (auto conn = co_await incoming.next()) spawn(loop, serve(std::move(*conn)));
//   Each next() accepts one connection. The iteration ends (std::nullopt)
//   when the listener closes; other errors (too_many_open_files, ...) are
//   thrown from next(), after which the generator is finished (call
//   connections() again to go on). Stopping early (destroying the generator,
//   or co_await aclose()) accepts nothing more: the backlog waits for the
//   next accept. Cancelling the consuming task cancels the pending accept,
//   losing no connection. The generator keeps the listener's socket alive
//   but not open: destroying or closing the TcpListener ends it.
// - Out of file descriptors: libuv first uses its reserve descriptor to
//   accept and close the waiting connections (those clients see their
//   connection closed), so the loop never spins on a listening socket it
//   cannot serve. If that reserve is gone (another thread took the
//   descriptor), the pending accept fails with Errc::too_many_open_files and
//   the listener pauses for accept_retry_delay, using a reserve descriptor of
//   its own to get libuv out of its accept loop; it resumes by itself. If even
//   that fails twice in a row, the listener closes (pending accepts fail with
//   too_many_open_files) rather than spin.
// - close() stops listening; pending accepts fail with Errc::closed.
//
// Threads: the loop's thread; destroying it elsewhere is allowed.
#pragma once

#include <chrono>

#include "core/clock/clock.h"
#include "core/future/future.h"
#include "core/generator/generator.h"
#include "core/io/detail/io_object.h"
#include "core/io/io_handle.h"
#include "core/io/socket_address.h"
#include "core/io/stream.h"
#include "core/io/tcp_stream.h"

namespace weft {

namespace detail {
class ListenerImpl;
}

struct TcpListenOptions {
  int backlog = 511;
  // For an IPv6 address: accept IPv6 only (no IPv4-mapped connections).
  bool ipv6_only = false;
  // For accepted connections.
  bool no_delay = true;
  StreamLimits limits;
  // How long to pause accepting after running out of file descriptors.
  Duration accept_retry_delay = std::chrono::milliseconds(100);
};

// is_open(), close() and wait_closed() come from IoHandle (io_handle.h).
class TcpListener final : public IoHandle {
 public:
  TcpListener() noexcept = default;

  // Loop thread. Throws weft::Exception.
  static TcpListener bind(Loop& loop, const SocketAddress& address, TcpListenOptions options = {});

  [[nodiscard]] Future<TcpStream> accept();
  // An async generator of accepted connections (see above). Loop thread.
  Generator<TcpStream> connections();
  SocketAddress local_address() const;

 private:
  explicit TcpListener(detail::IoRef<detail::ListenerImpl> impl) noexcept;
  detail::ListenerImpl* impl() const noexcept;
};

}  // namespace weft
