#include "core/io/tcp_stream.h"

#include <memory>
#include <utility>

#include "core/io/detail/stream_impl.h"
#include "core/io/io_error.h"

namespace weft {

TcpStream::TcpStream(detail::IoRef<detail::StreamImpl> impl) noexcept : Stream(std::move(impl)) {}

Future<TcpStream> TcpStream::connect(Loop& loop, const SocketAddress& address,
                                     TcpConnectOptions options) {
  if (address.empty()) {
    return make_failed_future<TcpStream>(Error(Errc::invalid_argument, "connect: empty address"));
  }
  detail::IoRef<detail::StreamImpl> impl;
  try {
    impl = detail::StreamImpl::create(loop, detail::StreamImpl::Type::tcp, address.family());
  } catch (const Exception& e) {
    if (e.code() == Errc::wrong_thread) throw;
    return make_failed_future<TcpStream>(e.error());
  }
  impl->set_limits(options.limits);
  if (options.no_delay) uv_tcp_nodelay(impl->uv_tcp(), 1);
  auto [promise, future] = detail::make_hooked_promise<TcpStream>();
  impl->connect_tcp(address, std::make_unique<detail::StreamResultOpFor<TcpStream>>(std::move(promise)),
                    options.timeout);
  return std::move(future);
}

namespace {
// A TcpStream's object is always a StreamImpl (its constructor takes one).
detail::StreamImpl* tcp_impl(detail::StreamBase* base) noexcept { return static_cast<detail::StreamImpl*>(base); }

using GetName = int (*)(const uv_tcp_t*, sockaddr*, int*);

SocketAddress tcp_name(detail::StreamImpl* impl, GetName get) {
  if (impl == nullptr || !impl->is_open()) return {};
  sockaddr_storage storage{};
  int length = sizeof(storage);
  if (get(impl->uv_tcp(), reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage));
}

detail::StreamImpl& open_impl(detail::StreamImpl* impl, const char* what) {
  if (impl == nullptr || !impl->is_open()) {
    throw Exception(Errc::closed, std::string(what) + ": the TCP stream is closed");
  }
  impl->check_thread(what);
  return *impl;
}
}  // namespace

SocketAddress TcpStream::local_address() const { return tcp_name(tcp_impl(impl()), &uv_tcp_getsockname); }

SocketAddress TcpStream::peer_address() const { return tcp_name(tcp_impl(impl()), &uv_tcp_getpeername); }

void TcpStream::set_no_delay(bool on) {
  detail::StreamImpl& s = open_impl(tcp_impl(impl()), "set_no_delay");
  throw_if_uv_error(uv_tcp_nodelay(s.uv_tcp(), on ? 1 : 0), "set_no_delay");
}

void TcpStream::set_keep_alive(bool on, std::chrono::seconds idle) {
  detail::StreamImpl& s = open_impl(tcp_impl(impl()), "set_keep_alive");
  throw_if_uv_error(uv_tcp_keepalive(s.uv_tcp(), on ? 1 : 0, static_cast<unsigned>(idle.count())),
                    "set_keep_alive");
}

void TcpStream::abort() noexcept {
  if (impl() != nullptr && impl()->is_open() && impl()->loop().in_loop_thread()) {
    tcp_impl(impl())->abort();
  } else {
    close();
  }
}

}  // namespace weft
