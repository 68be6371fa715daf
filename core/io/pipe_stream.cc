#include "core/io/pipe_stream.h"

#include <unistd.h>

#include <memory>
#include <utility>

#include "core/io/detail/connections.h"
#include "core/io/detail/listener_impl.h"
#include "core/io/detail/stream_impl.h"
#include "core/io/io_error.h"

namespace weft {

PipeStream::PipeStream(detail::IoRef<detail::StreamImpl> impl) noexcept : Stream(std::move(impl)) {}

Future<PipeStream> PipeStream::connect(Loop& loop, const std::string& path, Duration timeout) {
  detail::IoRef<detail::StreamImpl> impl;
  try {
    impl = detail::StreamImpl::create(loop, detail::StreamImpl::Type::pipe);
  } catch (const Exception& e) {
    if (e.code() == Errc::wrong_thread) throw;
    return make_failed_future<PipeStream>(e.error());
  }
  auto [promise, future] = detail::make_hooked_promise<PipeStream>();
  impl->connect_pipe(path, std::make_unique<detail::StreamResultOpFor<PipeStream>>(std::move(promise)),
                     timeout);
  return std::move(future);
}

PipeStream PipeStream::open(Loop& loop, int fd) {
  auto impl = detail::StreamImpl::create(loop, detail::StreamImpl::Type::pipe);
  int rc = uv_pipe_open(impl->uv_pipe(), fd);
  if (rc < 0) {
    impl->close();
    throw Exception(uv_error(rc, "open descriptor " + std::to_string(fd)));
  }
  return PipeStream(std::move(impl));
}

std::pair<PipeStream, PipeStream> PipeStream::pair(Loop& loop) {
  uv_os_sock_t fds[2];
  throw_if_uv_error(uv_socketpair(SOCK_STREAM, 0, fds, UV_NONBLOCK_PIPE, UV_NONBLOCK_PIPE),
                    "socketpair");
  PipeStream first;
  try {
    first = open(loop, fds[0]);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  try {
    return {std::move(first), open(loop, fds[1])};
  } catch (...) {
    ::close(fds[1]);
    throw;
  }
}

PipeListener::PipeListener(detail::IoRef<detail::ListenerImpl> impl) noexcept : IoHandle(std::move(impl)) {}

detail::ListenerImpl* PipeListener::impl() const noexcept {
  return static_cast<detail::ListenerImpl*>(object());
}

PipeListener PipeListener::bind(Loop& loop, const std::string& path, int backlog) {
  detail::ListenerImpl::Options options;
  options.backlog = backlog;
  options.accept_retry_delay = std::chrono::milliseconds(100);
  return PipeListener(detail::ListenerImpl::listen_pipe(loop, path, options));
}

Future<PipeStream> PipeListener::accept() {
  if (impl() == nullptr) return make_failed_future<PipeStream>(Error(Errc::closed, "the listener is empty"));
  auto [promise, future] = detail::make_hooked_promise<PipeStream>();
  impl()->accept(std::make_unique<detail::StreamResultOpFor<PipeStream>>(std::move(promise)));
  return std::move(future);
}

Generator<PipeStream> PipeListener::connections() {
  return detail::accept_connections<PipeStream>(detail::IoRef<detail::ListenerImpl>::share(impl()));
}

std::string PipeListener::path() const { return impl() != nullptr ? impl()->path() : std::string(); }

}  // namespace weft
