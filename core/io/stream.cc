#include "core/io/stream.h"

#include <utility>

#include "core/io/detail/stream_base.h"

namespace weft {

namespace {
Error empty_stream() { return Error(Errc::closed, "the stream is empty (moved from or never opened)"); }
}  // namespace

Stream::Stream(detail::IoRef<detail::StreamBase> impl) noexcept : IoHandle(std::move(impl)) {}

detail::StreamBase* Stream::impl() const noexcept { return static_cast<detail::StreamBase*>(object()); }

Future<std::string> Stream::read_some(std::size_t max) {
  if (impl() == nullptr) return make_failed_future<std::string>(empty_stream());
  return impl()->read(detail::StreamBase::ReadKind::some, max, {});
}

Future<std::string> Stream::read_exactly(std::size_t n) {
  if (impl() == nullptr) return make_failed_future<std::string>(empty_stream());
  return impl()->read(detail::StreamBase::ReadKind::exactly, n, {});
}

Future<std::string> Stream::read_until(std::string_view delimiter, std::size_t max) {
  if (impl() == nullptr) return make_failed_future<std::string>(empty_stream());
  return impl()->read(detail::StreamBase::ReadKind::until, max, delimiter);
}

Future<std::size_t> Stream::read_some_into(std::span<char> buffer) {
  if (impl() == nullptr) return make_failed_future<std::size_t>(empty_stream());
  if (buffer.empty()) {
    return make_failed_future<std::size_t>(Error(Errc::invalid_argument, "read_some_into an empty buffer"));
  }
  return impl()->read_into(detail::StreamBase::ReadTarget{nullptr, buffer});
}

Future<std::size_t> Stream::read_some_into(ReadBufferSource& source) {
  if (impl() == nullptr) return make_failed_future<std::size_t>(empty_stream());
  return impl()->read_into(detail::StreamBase::ReadTarget{&source, {}});
}

Future<void> Stream::write(std::string_view data) {
  if (impl() == nullptr) return make_failed_future<void>(empty_stream());
  return impl()->write(data.data(), data.size(), nullptr);
}

Future<void> Stream::write(std::string&& data) {
  if (impl() == nullptr) return make_failed_future<void>(empty_stream());
  return impl()->write(data.data(), data.size(), &data);
}

Future<void> Stream::drain() {
  if (impl() == nullptr) return make_failed_future<void>(empty_stream());
  return impl()->drain();
}

Future<void> Stream::shutdown() {
  if (impl() == nullptr) return make_failed_future<void>(empty_stream());
  return impl()->shutdown();
}

std::size_t Stream::write_buffered() const noexcept { return impl() != nullptr ? impl()->write_buffered() : 0; }
std::size_t Stream::read_buffered() const noexcept { return impl() != nullptr ? impl()->read_buffered() : 0; }

void Stream::unread(std::string_view data) {
  if (impl() != nullptr) impl()->unread(data);
}

void Stream::set_limits(const StreamLimits& limits) noexcept {
  if (impl() != nullptr) impl()->set_limits(limits);
}

StreamLimits Stream::limits() const noexcept { return impl() != nullptr ? impl()->limits() : StreamLimits{}; }

}  // namespace weft
