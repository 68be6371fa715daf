#include "core/io/udp_socket.h"

#include <uv.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft {

namespace detail {

// The uv_udp_t behind a UdpSocket; see io_object.h for lifetime and closing.
class UdpImpl final : public IoObject {
 public:
  static IoRef<UdpImpl> bind(Loop& loop, const SocketAddress& address, const UdpOptions& options) {
    auto impl = IoRef<UdpImpl>::adopt(new UdpImpl(loop, options));
    impl->check_thread("bind");
    throw_if_uv_error(uv_udp_init_ex(detail::LoopAccess::uv_loop(loop), &impl->udp_,
                                     static_cast<unsigned>(address.family())),
                      "uv_udp_init");
    impl->udp_.data = impl.get();
    impl->opened(reinterpret_cast<uv_handle_t*>(&impl->udp_));
    unsigned flags = 0;
    if (options.reuse_address) flags |= UV_UDP_REUSEADDR;
    if (options.ipv6_only && address.is_v6()) flags |= UV_UDP_IPV6ONLY;
    int rc = uv_udp_bind(&impl->udp_, address.data(), flags);
    if (rc < 0) {
      impl->close();
      throw Exception(uv_error(rc, "bind " + address.to_string()));
    }
    return impl;
  }

  Future<void> send_to(std::string_view data, const SocketAddress& to) {
    if (!is_open()) return make_failed_future<void>(closed_error());
    check_thread("send_to");
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
    int rc = uv_udp_try_send(&udp_, &buf, 1, to.data());
    if (rc >= 0) return make_ready_future<void>();
    if (rc != UV_EAGAIN) return make_failed_future<void>(uv_error(rc, "send_to " + to.to_string()));
    // Earlier datagrams are still queued: queue this one behind them.
    auto request = std::make_unique<SendRequest>();
    request->data.assign(data);
    request->request.data = this;
    auto [promise, future] = make_promise<void>();
    request->promise = std::move(promise);
    buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
    rc = uv_udp_send(&request->request, &udp_, &buf, 1, to.data(), &UdpImpl::on_send);
    if (rc < 0) return make_failed_future<void>(uv_error(rc, "send_to " + to.to_string()));
    request.release();
    return std::move(future);
  }

  Future<Datagram> recv_from() {
    if (!is_open()) return make_failed_future<Datagram>(closed_error());
    check_thread("recv_from");
    if (receive_ && !receive_->cancelled()) {
      return make_failed_future<Datagram>(
          Error(Errc::invalid_state, "another receive is already pending on this socket"));
    }
    drop_receive();
    if (!queue_.empty()) {
      Datagram datagram = std::move(queue_.front());
      queue_.pop_front();
      start_receiving();  // there is room again
      return make_ready_future<Datagram>(std::move(datagram));
    }
    if (error_) {
      Error error = std::move(*error_);
      error_.reset();
      return make_failed_future<Datagram>(std::move(error));
    }
    start_receiving();
    if (error_) {
      Error error = std::move(*error_);
      error_.reset();
      return make_failed_future<Datagram>(std::move(error));
    }
    auto [promise, future] = detail::make_hooked_promise<Datagram>();
    watch(promise);
    receive_.emplace(std::move(promise));
    op_started();
    return std::move(future);
  }

  SocketAddress local_address() const {
    if (!is_open()) return {};
    sockaddr_storage storage{};
    int length = sizeof(storage);
    if (uv_udp_getsockname(&udp_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
    return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage));
  }

 private:
  struct SendRequest {
    uv_udp_send_t request;
    std::string data;
    Promise<void> promise;
  };

  UdpImpl(Loop& loop, const UdpOptions& options) : IoObject(loop, "UDP socket"), options_(options) {}

  void fail_pending(const Error& error) noexcept override {
    if (receive_) {
      Promise<Datagram> receive = std::move(*receive_);
      receive_.reset();
      receive.set_error(error);
    }
    queue_.clear();
    receiving_ = false;
    // Queued sends fail through on_send (UV_ECANCELED) while the handle closes.
  }

  void sweep_cancelled() noexcept override {
    if (receive_ && receive_->cancelled()) drop_receive();
  }

  void drop_receive() noexcept {
    if (!receive_) return;
    receive_.reset();
    op_finished();
  }

  void start_receiving() {
    if (receiving_ || queue_.size() >= options_.max_queued) return;
    int rc = uv_udp_recv_start(&udp_, &alloc_read_scratch, &UdpImpl::on_receive);
    if (rc < 0) {
      error_ = uv_error(rc, "recv_from");
      return;
    }
    receiving_ = true;
  }

  void stop_receiving() noexcept {
    if (!receiving_) return;
    uv_udp_recv_stop(&udp_);
    receiving_ = false;
  }

  static void on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                         unsigned flags) {
    auto* self = static_cast<UdpImpl*>(handle->data);
    if (nread == 0 && from == nullptr) return;  // nothing more to read this time
    std::optional<Error> error;
    Datagram datagram;
    if (nread < 0) {
      error = uv_error(static_cast<int>(nread), "recv_from");
    } else {
      datagram.data.assign(buf->base, static_cast<std::size_t>(nread));
      datagram.peer = SocketAddress::from_sockaddr(from);
      datagram.truncated = (flags & UV_UDP_PARTIAL) != 0;
    }
    if (self->receive_ && self->receive_->cancelled()) self->drop_receive();
    if (self->receive_) {
      Promise<Datagram> receive = std::move(*self->receive_);
      self->receive_.reset();
      self->op_finished();
      if (error) {
        receive.set_error(std::move(*error));
      } else {
        receive.set_value(std::move(datagram));
      }
      return;
    }
    if (error) {
      self->error_ = std::move(error);
      self->stop_receiving();
      return;
    }
    self->queue_.push_back(std::move(datagram));
    if (self->queue_.size() >= self->options_.max_queued) self->stop_receiving();
  }

  static void on_send(uv_udp_send_t* raw, int status) {
    std::unique_ptr<SendRequest> request(reinterpret_cast<SendRequest*>(raw));
    auto* self = static_cast<UdpImpl*>(raw->data);
    if (status == 0) {
      request->promise.set_value();
    } else if (status == UV_ECANCELED && !self->is_open()) {
      request->promise.set_error(self->closed_error());
    } else {
      request->promise.set_error(uv_error(status, "send_to"));
    }
  }

  uv_udp_t udp_;
  const UdpOptions options_;
  bool receiving_ = false;
  std::optional<Promise<Datagram>> receive_;
  std::deque<Datagram> queue_;
  std::optional<Error> error_;  // a receive error nobody has seen yet
};

}  // namespace detail

UdpSocket::UdpSocket(detail::IoRef<detail::UdpImpl> impl) noexcept : IoHandle(std::move(impl)) {}

detail::UdpImpl* UdpSocket::impl() const noexcept { return static_cast<detail::UdpImpl*>(object()); }

UdpSocket UdpSocket::bind(Loop& loop, const SocketAddress& address, UdpOptions options) {
  return UdpSocket(detail::UdpImpl::bind(loop, address, options));
}

Future<void> UdpSocket::send_to(std::string_view data, const SocketAddress& to) {
  if (impl() == nullptr) return make_failed_future<void>(Error(Errc::closed, "the socket is empty"));
  return impl()->send_to(data, to);
}

Future<Datagram> UdpSocket::recv_from() {
  if (impl() == nullptr) return make_failed_future<Datagram>(Error(Errc::closed, "the socket is empty"));
  return impl()->recv_from();
}

SocketAddress UdpSocket::local_address() const { return impl() != nullptr ? impl()->local_address() : SocketAddress(); }

}  // namespace weft
