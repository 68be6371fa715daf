#include "capi/src/alloc.h"

#include <cstdlib>
#include <cstring>

#include "core/loop/loop.h"

namespace weft::capi {

namespace {

void* default_alloc(void*, std::size_t size, std::size_t alignment) {
  // malloc's alignment covers max_align_t, the most weft asks for.
  (void)alignment;
  return std::malloc(size);
}

void default_free(void*, void* pointer, std::size_t, std::size_t) { std::free(pointer); }

}  // namespace

Allocator::Allocator(const weft_allocator& hooks) noexcept : hooks_(hooks) {
  if (hooks_.alloc == nullptr && hooks_.free == nullptr) {
    hooks_.alloc = default_alloc;
    hooks_.free = default_free;
    hooks_.user = nullptr;
  }
}

bool Allocator::on_loop_thread() const noexcept { return loop_ != nullptr && loop_->in_loop_thread(); }

void* Allocator::allocate(std::size_t size, std::size_t alignment) {
  void* memory = hooks_.alloc(hooks_.user, size, alignment);
  if (memory == nullptr) throw std::bad_alloc();
  if (on_loop_thread()) {
    local_bytes_ += static_cast<std::ptrdiff_t>(size);
  } else {
    remote_bytes_.fetch_add(static_cast<std::ptrdiff_t>(size), std::memory_order_relaxed);
  }
  return memory;
}

void Allocator::deallocate(void* pointer, std::size_t size, std::size_t alignment) noexcept {
  if (pointer == nullptr) return;
  hooks_.free(hooks_.user, pointer, size, alignment);
  if (on_loop_thread()) {
    local_bytes_ -= static_cast<std::ptrdiff_t>(size);
  } else {
    remote_bytes_.fetch_sub(static_cast<std::ptrdiff_t>(size), std::memory_order_relaxed);
  }
}

Text::Text(Allocator& allocator, std::string_view text) {
  if (text.empty()) return;
  data_ = static_cast<char*>(allocator.allocate(text.size() + 1, 1));
  std::memcpy(data_, text.data(), text.size());
  data_[text.size()] = '\0';
  size_ = text.size();
  allocator_ = &allocator;
}

void Text::reset() noexcept {
  if (data_ != nullptr) allocator_->deallocate(data_, size_ + 1, 1);
  allocator_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace weft::capi
