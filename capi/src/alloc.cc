#include "capi/src/alloc.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>


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

bool Allocator::on_loop_thread() const noexcept { return is_owner_ != nullptr && is_owner_(owner_context_); }

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
  const std::size_t size = offsetof(Block, text) + text.size() + 1;
  block_ = static_cast<Block*>(allocator.allocate(size, alignof(Block)));
  block_->allocator = &allocator;
  block_->size = size;
  std::memcpy(block_->text, text.data(), text.size());
  block_->text[text.size()] = '\0';
}

void Text::reset() noexcept {
  Block* block = std::exchange(block_, nullptr);
  if (block != nullptr) block->allocator->deallocate(block, block->size, alignof(Block));
}

}  // namespace weft::capi
