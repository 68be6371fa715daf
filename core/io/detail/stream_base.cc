// weft::detail::StreamBase::PendingRead: completing a pending read the same
// way in every stream implementation. Loop thread.
#include "core/io/detail/stream_base.h"

#include <algorithm>
#include <cstring>

namespace weft::detail {

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

}  // namespace weft::detail
