// weft::detail::StreamBase: a read's checks and its PendingRead, the same
// in every stream implementation (which begins the read). Loop thread.
#include "core/io/detail/stream_base.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace weft::detail {

Future<std::string> StreamBase::read(ReadKind kind, std::size_t n, std::string_view delimiter) {
  if (!is_open()) return make_failed_future<std::string>(closed_error());
  check_thread("read");
  if (refuse_second_read()) {
    return make_failed_future<std::string>(
        Error(Errc::invalid_state, "another read is already pending on this stream"));
  }
  if ((kind == ReadKind::some && n == 0) || (kind == ReadKind::until && delimiter.empty())) {
    return make_failed_future<std::string>(
        Error(Errc::invalid_argument, kind == ReadKind::some ? "read_some of 0 bytes"
                                                             : "read_until with an empty delimiter"));
  }
  auto [promise, future] = detail::make_hooked_promise<std::string>();
  PendingRead pending(kind, n, std::string(delimiter), std::move(promise));
  begin_read(pending);
  return std::move(future);
}

Future<std::size_t> StreamBase::read_into(ReadTarget target) {
  if (!is_open()) return make_failed_future<std::size_t>(closed_error());
  check_thread("read_some_into");
  if (refuse_second_read()) {
    return make_failed_future<std::size_t>(
        Error(Errc::invalid_state, "another read is already pending on this stream"));
  }
  auto [promise, future] = detail::make_hooked_promise<std::size_t>();
  PendingRead pending(target, std::move(promise));
  begin_read(pending);
  return std::move(future);
}

void StreamBase::PendingRead::end() {
  switch (kind) {
    case ReadKind::some:
      promise.set_value(std::string());
      break;
    case ReadKind::into:
      into_promise.set_value(std::size_t{0});
      break;
    case ReadKind::exactly:
      promise.set_error(Error(Errc::end_of_file, "read_exactly: the stream ended first"));
      break;
    case ReadKind::until:
      promise.set_error(Error(Errc::end_of_file, "read_until: the stream ended first"));
      break;
  }
}

std::size_t StreamBase::PendingRead::copy_into(const char* data, std::size_t available) {
  const std::span<char> memory = target.buffer();
  if (memory.empty()) {
    into_promise.set_error(Error(Errc::no_memory, "read_some_into: no memory was lent to read into"));
    return 0;
  }
  std::size_t n = std::min(memory.size(), available);
  std::memcpy(memory.data(), data, n);
  return into_promise.set_value(n) ? n : 0;
}

void StreamBase::PendingRead::take_into(std::string& in, std::size_t& in_pos) {
  in_pos += copy_into(in.data() + in_pos, in.size() - in_pos);
  if (in_pos == in.size()) {
    in.clear();
    in_pos = 0;
  }
}

}  // namespace weft::detail
