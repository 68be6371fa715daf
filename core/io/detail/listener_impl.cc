#include "core/io/detail/listener_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

namespace {
int open_reserve_fd() noexcept { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
}  // namespace

ListenerImpl::ListenerImpl(Loop& loop, StreamImpl::Type type, const Options& options)
    : IoObject(loop, type == StreamImpl::Type::tcp ? "TCP listener" : "pipe listener"),
      type_(type),
      options_(options) {}

IoRef<ListenerImpl> ListenerImpl::listen_tcp(Loop& loop, const SocketAddress& address,
                                             const Options& options) {
  auto impl = IoRef<ListenerImpl>::adopt(new ListenerImpl(loop, StreamImpl::Type::tcp, options));
  impl->check_thread("bind");
  throw_if_uv_error(uv_tcp_init_ex(LoopAccess::uv_loop(loop), &impl->handle_.tcp,
                                   static_cast<unsigned>(address.family())),
                    "uv_tcp_init");
  impl->handle_.handle.data = impl.get();
  impl->opened(&impl->handle_.handle);
  try {
    const unsigned flags = options.ipv6_only && address.is_v6() ? UV_TCP_IPV6ONLY : 0;
    // The failures name the address; it is written out only for them.
    if (const int rc = uv_tcp_bind(&impl->handle_.tcp, address.data(), flags); rc < 0) {
      throw Exception(uv_error(rc, "bind " + address.to_string()));
    }
    if (const int rc = impl->start_listening(); rc < 0) {
      throw Exception(uv_error(rc, "listen " + address.to_string()));
    }
  } catch (...) {
    impl->close();
    throw;
  }
  return impl;
}

IoRef<ListenerImpl> ListenerImpl::listen_pipe(Loop& loop, const std::string& path,
                                              const Options& options) {
  auto impl = IoRef<ListenerImpl>::adopt(new ListenerImpl(loop, StreamImpl::Type::pipe, options));
  impl->check_thread("bind");
  throw_if_uv_error(uv_pipe_init(LoopAccess::uv_loop(loop), &impl->handle_.pipe, 0),
                    "uv_pipe_init");
  impl->handle_.handle.data = impl.get();
  impl->opened(&impl->handle_.handle);
  try {
    if (const int rc = uv_pipe_bind(&impl->handle_.pipe, path.c_str()); rc < 0) {
      throw Exception(uv_error(rc, "bind " + path));
    }
    impl->path_ = path;
    if (const int rc = impl->start_listening(); rc < 0) throw Exception(uv_error(rc, "listen " + path));
  } catch (...) {
    impl->close();
    throw;
  }
  return impl;
}

int ListenerImpl::start_listening() {
  reserve_fd_ = open_reserve_fd();
  if (reserve_fd_ < 0) throw Exception(errno_error(errno, "open /dev/null (the listener's reserve)"));
  return uv_listen(&handle_.stream, options_.backlog, &ListenerImpl::on_connection);
}

SocketAddress ListenerImpl::local_address() const {
  if (type_ != StreamImpl::Type::tcp || !is_open()) return {};
  sockaddr_storage storage{};
  int length = sizeof(storage);
  if (uv_tcp_getsockname(&handle_.tcp, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage));
}

void ListenerImpl::fail_pending(const Error& error) noexcept {
  // One at a time from the front: moving a std::deque out allocates.
  while (!accepts_.empty()) {
    std::unique_ptr<StreamResultOp> op = std::move(accepts_.front());
    accepts_.pop_front();
    op->fail(error);
  }
  while (!kept_.empty()) {
    IoRef<StreamImpl> stream = std::move(kept_.front());
    kept_.pop_front();
    stream->close();
  }
  retry_timer_.cancel();
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
  }
  if (!path_.empty()) ::unlink(path_.c_str());
  // A connection libuv still holds is closed by libuv with the handle.
}

void ListenerImpl::sweep_cancelled() noexcept {
  std::erase_if(accepts_, [this](const std::unique_ptr<StreamResultOp>& op) {
    if (!op->cancelled()) return false;
    op_finished();
    return true;
  });
}

void ListenerImpl::drop_cancelled_front() noexcept {
  while (!accepts_.empty() && accepts_.front()->cancelled()) {
    accepts_.pop_front();
    op_finished();
  }
}

void ListenerImpl::accept(std::unique_ptr<StreamResultOp> op) {
  if (!is_open()) {
    op->fail(closed_error());
    return;
  }
  check_thread("accept");
  op->set_cancel_hook(take_hook());
  accepts_.push_back(std::move(op));
  op_started();
  serve();
}

IoRef<StreamImpl> ListenerImpl::take_held(Error& error) {
  IoRef<StreamImpl> stream;
  try {
    stream = StreamImpl::create(loop(), type_);
  } catch (const Exception& e) {
    error = e.error();  // libuv still holds the connection; the next accept retries
    return {};
  }
  held_ = false;
  int rc = uv_accept(&handle_.stream, stream->uv_stream());
  if (rc < 0) {
    error = uv_error(rc, "accept");
    stream->close();
    return {};
  }
  stream->set_limits(options_.limits);
  if (type_ == StreamImpl::Type::tcp && options_.no_delay) uv_tcp_nodelay(stream->uv_tcp(), 1);
  return stream;
}

void ListenerImpl::serve() {
  for (;;) {
    drop_cancelled_front();
    if (accepts_.empty() || !is_open()) return;
    IoRef<StreamImpl> stream;
    if (!kept_.empty()) {
      stream = std::move(kept_.front());
      kept_.pop_front();
    } else if (held_ && !paused_) {
      Error error;
      stream = take_held(error);
      if (!stream) {
        std::unique_ptr<StreamResultOp> op = std::move(accepts_.front());
        accepts_.pop_front();
        op_finished();
        op->fail(error);
        if (held_) return;  // could not even create the stream; do not spin
        continue;
      }
    } else {
      return;
    }
    std::unique_ptr<StreamResultOp> op = std::move(accepts_.front());
    accepts_.pop_front();
    op_finished();
    if (!op->deliver(stream)) kept_.push_front(std::move(stream));
  }
}

void ListenerImpl::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<ListenerImpl*>(server->data);
  if (status < 0) {
    self->on_accept_error(status);
    return;
  }
  // Left with libuv unless an accept waits: libuv then stops polling until
  // we take it.
  self->held_ = true;
  self->serve();
}

void ListenerImpl::on_accept_error(int status) {
  Error error = uv_error(status, "accept");
  drop_cancelled_front();
  if (!accepts_.empty()) {
    std::unique_ptr<StreamResultOp> op = std::move(accepts_.front());
    accepts_.pop_front();
    op_finished();
    op->fail(error);
  }
  if (status != UV_EMFILE && status != UV_ENFILE) return;
  // Out of descriptors, inside libuv's accept loop, which retries at once.
  if (reserve_fd_ < 0) {
    // Nothing left to free: closing the socket is the only way out of it.
    Error fatal(Errc::too_many_open_files,
                "accept: out of file descriptors with no reserve left; the listener closed");
    while (!accepts_.empty()) {  // from the front: moving a std::deque out allocates
      std::unique_ptr<StreamResultOp> op = std::move(accepts_.front());
      accepts_.pop_front();
      op->fail(fatal);
    }
    close();
    return;
  }
  // Free our reserve: libuv's next accept() succeeds, and as we are paused
  // that connection stays held, which stops libuv's polling.
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  paused_ = true;
  schedule_retry();
}

void ListenerImpl::schedule_retry() {
  retry_timer_ = loop().call_later(options_.accept_retry_delay,
                                   [self = IoRef<ListenerImpl>::share(this)] { self->retry_accepting(); });
}

void ListenerImpl::retry_accepting() {
  if (!is_open()) return;
  reserve_fd_ = open_reserve_fd();
  if (reserve_fd_ < 0) {
    schedule_retry();
    return;
  }
  paused_ = false;
  serve();
}

}  // namespace weft::detail
