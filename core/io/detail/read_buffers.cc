#include "core/io/detail/read_buffers.h"

#include <new>
#include <utility>
#include <vector>

#include "core/detail/fast_tls.h"

namespace weft::detail {

struct ReadBufferPool {
  std::vector<std::string> buffers;  // each keeps its memory and its last size
  std::size_t bytes = 0;             // their capacities, summed
  std::vector<std::string> small;    // empty, capacity below kMinPooledCapacity
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

namespace {

std::string take_small_buffer() noexcept {
  std::vector<std::string>& small = tls_pool.small;
  if (small.empty()) return std::string();
  std::string buffer = std::move(small.back());
  small.pop_back();
  return buffer;
}

// Keeps an emptied small buffer, if there is room.
void keep_small_buffer(std::string&& buffer) noexcept {
  std::vector<std::string>& small = tls_pool.small;
  if (small.size() >= kMaxPooledSmall) return;
  try {
    if (small.capacity() == 0) small.reserve(kMaxPooledSmall);
  } catch (...) {
    return;  // no memory for the list itself: the buffer is freed
  }
  buffer.clear();
  small.push_back(std::move(buffer));  // within the reserved capacity: no throw
}

}  // namespace

std::string take_read_buffer() noexcept {
  std::string buffer = take_sized_read_buffer();
  buffer.clear();
  return buffer;
}

std::string make_read_result(const char* data, std::size_t size) {
  if (size < kSmallCapacity) {
    std::string result = take_small_buffer();
    if (size > result.capacity()) {
      // A new small buffer (none for bytes the string holds inline); if its
      // memory is refused, one of the bytes' size is tried, as ever.
      try {
        result.reserve(kSmallCapacity);
      } catch (const std::bad_alloc&) {
      }
    }
    result.assign(data, size);
    return result;
  }
  std::string result = take_sized_read_buffer();
  result.clear();
  result.assign(data, size);
  return result;
}

void recycle_read_buffer(std::string&& buffer) noexcept {
  std::string kept = std::move(buffer);
  buffer.clear();
  const std::size_t capacity = kept.capacity();
  if (capacity >= kSmallCapacity && capacity < kMinPooledCapacity) {
    keep_small_buffer(std::move(kept));
    return;
  }
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

std::size_t pooled_read_buffers() noexcept {
  return tls_pool.buffers.size() + tls_pool.small.size();
}

void release_read_buffers() noexcept {
  std::vector<std::string>().swap(tls_pool.buffers);
  std::vector<std::string>().swap(tls_pool.small);
  tls_pool.bytes = 0;
}

}  // namespace weft::detail
