#include "core/io/tcp_listener.h"

#include <memory>
#include <utility>

#include "core/io/detail/connections.h"
#include "core/io/detail/listener_impl.h"

namespace weft {

TcpListener::TcpListener(detail::IoRef<detail::ListenerImpl> impl) noexcept : IoHandle(std::move(impl)) {}

detail::ListenerImpl* TcpListener::impl() const noexcept {
  return static_cast<detail::ListenerImpl*>(object());
}

TcpListener TcpListener::bind(Loop& loop, const SocketAddress& address, TcpListenOptions options) {
  detail::ListenerImpl::Options o;
  o.backlog = options.backlog;
  o.ipv6_only = options.ipv6_only;
  o.no_delay = options.no_delay;
  o.limits = options.limits;
  o.accept_retry_delay = options.accept_retry_delay;
  return TcpListener(detail::ListenerImpl::listen_tcp(loop, address, o));
}

Future<TcpStream> TcpListener::accept() {
  if (impl() == nullptr) return make_failed_future<TcpStream>(Error(Errc::closed, "the listener is empty"));
  auto [promise, future] = detail::make_hooked_promise<TcpStream>();
  impl()->accept(std::make_unique<detail::StreamResultOpFor<TcpStream>>(std::move(promise)));
  return std::move(future);
}

Generator<TcpStream> TcpListener::connections() {
  return detail::accept_connections<TcpStream>(detail::IoRef<detail::ListenerImpl>::share(impl()));
}

SocketAddress TcpListener::local_address() const { return impl() != nullptr ? impl()->local_address() : SocketAddress(); }

}  // namespace weft
