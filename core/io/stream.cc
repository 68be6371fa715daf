#include "core/io/stream.h"

#include <utility>

#include "core/io/detail/stream_impl.h"

namespace weft {

namespace {
Error empty_stream() { return Error(Errc::closed, "the stream is empty (moved from or never opened)"); }
}  // namespace

Stream::Stream() noexcept = default;
Stream::Stream(detail::IoRef<detail::StreamImpl> impl) noexcept : impl_(std::move(impl)) {}
Stream::Stream(Stream&& other) noexcept = default;

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Stream::~Stream() {
  if (impl_) impl_->close_from_any_thread();
}

bool Stream::is_open() const noexcept { return impl_ && impl_->is_open(); }

Future<std::string> Stream::read_some(std::size_t max) {
  if (!impl_) return make_failed_future<std::string>(empty_stream());
  return impl_->read(detail::StreamImpl::ReadKind::some, max, {});
}

Future<std::string> Stream::read_exactly(std::size_t n) {
  if (!impl_) return make_failed_future<std::string>(empty_stream());
  return impl_->read(detail::StreamImpl::ReadKind::exactly, n, {});
}

Future<std::string> Stream::read_until(std::string_view delimiter, std::size_t max) {
  if (!impl_) return make_failed_future<std::string>(empty_stream());
  return impl_->read(detail::StreamImpl::ReadKind::until, max, delimiter);
}

Future<void> Stream::write(std::string_view data) {
  if (!impl_) return make_failed_future<void>(empty_stream());
  return impl_->write(data.data(), data.size(), nullptr);
}

Future<void> Stream::write(std::string&& data) {
  if (!impl_) return make_failed_future<void>(empty_stream());
  return impl_->write(data.data(), data.size(), &data);
}

Future<void> Stream::drain() {
  if (!impl_) return make_failed_future<void>(empty_stream());
  return impl_->drain();
}

Future<void> Stream::shutdown() {
  if (!impl_) return make_failed_future<void>(empty_stream());
  return impl_->shutdown();
}

void Stream::close() noexcept {
  if (impl_) impl_->close_from_any_thread();
}

Future<void> Stream::wait_closed() {
  if (!impl_) return make_ready_future<void>();
  return impl_->wait_closed();
}

std::size_t Stream::write_buffered() const noexcept { return impl_ ? impl_->write_buffered() : 0; }
std::size_t Stream::read_buffered() const noexcept { return impl_ ? impl_->read_buffered() : 0; }

void Stream::set_limits(const StreamLimits& limits) noexcept {
  if (impl_) impl_->set_limits(limits);
}

StreamLimits Stream::limits() const noexcept { return impl_ ? impl_->limits() : StreamLimits{}; }

}  // namespace weft
