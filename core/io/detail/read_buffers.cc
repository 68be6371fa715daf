#include "core/io/detail/read_buffers.h"

#include <utility>
#include <vector>

#include "core/detail/fast_tls.h"

namespace weft::detail {

struct ReadBufferPool {
  std::vector<std::string> buffers;  // each keeps its memory and its last size
  std::size_t bytes = 0;             // their capacities, summed
};

WEFT_FAST_TLS thread_local ReadBufferPool tls_pool;

std::string take_sized_read_buffer() noexcept {
  std::vector<std::string>& buffers = tls_pool.buffers;
  if (buffers.empty()) return std::string();
  std::string buffer = std::move(buffers.back());
  buffers.pop_back();
  tls_pool.bytes -= buffer.capacity();
  return buffer;
}

std::string take_read_buffer() noexcept {
  std::string buffer = take_sized_read_buffer();
  buffer.clear();
  return buffer;
}

std::string make_read_result(const char* data, std::size_t size) {
  std::string result = take_read_buffer();
  result.assign(data, size);
  return result;
}

void recycle_read_buffer(std::string&& buffer) noexcept {
  std::string kept = std::move(buffer);
  buffer.clear();
  const std::size_t capacity = kept.capacity();
  if (capacity < kMinPooledCapacity || capacity > kMaxPooledCapacity) return;
  // Sized for reading into (take_sized_read_buffer): at least the minimum.
  if (kept.size() < kMinPooledCapacity) kept.resize(kMinPooledCapacity);
  std::vector<std::string>& buffers = tls_pool.buffers;
  if (buffers.size() >= kMaxPooled || tls_pool.bytes + capacity > kMaxPooledBytes) return;
  try {
    if (buffers.capacity() == 0) buffers.reserve(kMaxPooled);
  } catch (...) {
    return;  // no memory for the pool itself: just free the buffer
  }
  buffers.push_back(std::move(kept));  // within the reserved capacity: no throw
  tls_pool.bytes += capacity;
}

std::size_t pooled_read_buffers() noexcept { return tls_pool.buffers.size(); }

}  // namespace weft::detail
