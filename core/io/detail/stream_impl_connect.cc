// weft::detail::StreamImpl, its connecting: a fresh handle connects to a
// TCP address or a Unix socket path, with an optional timeout; the
// StreamResultOp gets the connected stream or the failure. Reading and
// closing are in stream_impl.cc, writing in stream_impl_write.cc;
// stream_impl.h says what runs where and who owns what. Loop thread.
#include <memory>
#include <string>
#include <utility>

#include "core/io/detail/stream_impl.h"
#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

void StreamImpl::connect_tcp(const SocketAddress& address, std::unique_ptr<StreamResultOp> op,
                             Duration timeout) {
  connect_target_ = address.to_string();
  connect_request_.data = this;
  int rc = uv_tcp_connect(&connect_request_, uv_tcp(), address.data(), &StreamImpl::on_connect);
  if (rc < 0) {
    op->fail(uv_error(rc, "connect " + connect_target_));
    close();
    return;
  }
  op->set_cancel_hook(take_hook());
  connect_op_ = std::move(op);
  start_connect_timer(timeout);
}

void StreamImpl::connect_pipe(const std::string& path, std::unique_ptr<StreamResultOp> op,
                              Duration timeout) {
  connect_target_ = path;
  connect_request_.data = this;
  uv_pipe_connect(&connect_request_, uv_pipe(), path.c_str(), &StreamImpl::on_connect);
  op->set_cancel_hook(take_hook());
  connect_op_ = std::move(op);
  start_connect_timer(timeout);
}

void StreamImpl::start_connect_timer(Duration timeout) {
  if (timeout <= Duration::zero()) return;
  connect_timer_ = loop().call_later(
      timeout, [self = IoRef<StreamImpl>::share(this)] { self->connect_timed_out(); });
}

void StreamImpl::connect_timed_out() {
  if (!connect_op_ || !is_open()) return;
  std::unique_ptr<StreamResultOp> op = std::move(connect_op_);
  op->fail(Error(Errc::timed_out, "connect " + connect_target_ + ": timed out"));
  close();
}

void StreamImpl::on_connect(uv_connect_t* request, int status) {
  auto* self = static_cast<StreamImpl*>(request->data);
  std::unique_ptr<StreamResultOp> op = std::move(self->connect_op_);
  if (!op) return;  // timed out, cancelled or closed: already settled
  self->connect_timer_.cancel();
  if (status < 0) {
    op->fail(uv_error(status, "connect " + self->connect_target_));
    self->close();
    return;
  }
  auto stream = IoRef<StreamImpl>::share(self);
  if (!op->deliver(stream)) self->close();  // cancelled as it connected
}

}  // namespace weft::detail
