#include "core/io/tcp_listener.h"

#include <memory>
#include <utility>

#include "core/io/detail/listener_impl.h"

namespace weft {

TcpListener::TcpListener() noexcept = default;
TcpListener::TcpListener(detail::IoRef<detail::ListenerImpl> impl) noexcept : impl_(std::move(impl)) {}
TcpListener::TcpListener(TcpListener&&) noexcept = default;

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

TcpListener::~TcpListener() { close(); }

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
  if (!impl_) return make_failed_future<TcpStream>(Error(Errc::closed, "the listener is empty"));
  auto [promise, future] = make_promise<TcpStream>();
  impl_->accept(std::make_unique<detail::StreamResultOpFor<TcpStream>>(std::move(promise)));
  return std::move(future);
}

SocketAddress TcpListener::local_address() const { return impl_ ? impl_->local_address() : SocketAddress(); }

bool TcpListener::is_open() const noexcept { return impl_ && impl_->is_open(); }

void TcpListener::close() noexcept {
  if (impl_) impl_->close_from_any_thread();
}

Future<void> TcpListener::wait_closed() {
  if (!impl_) return make_ready_future<void>();
  return impl_->wait_closed();
}

}  // namespace weft
