// weft::capi::Allocator: the runtime's allocator hooks (weft_allocator), with
// a count of the bytes held, and helpers to build objects and strings in it.
//
// Thread-safe as far as the hooks are (they must be). Allocations made on the
// loop thread are counted without atomics; others with one relaxed atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <new>
#include <string_view>
#include <utility>

#include "weft/runtime.h"

namespace weft::capi {

class Allocator {
 public:
  explicit Allocator(const weft_allocator& hooks) noexcept;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // From now on, allocations on the owner thread (the runtime's loop thread,
  // as `is_owner(context)` tells) use the cheap counter.
  void set_owner(bool (*is_owner)(const void*) noexcept, const void* context) noexcept {
    is_owner_ = is_owner;
    owner_context_ = context;
  }

  // Throws std::bad_alloc when the hook returns NULL.
  void* allocate(std::size_t size, std::size_t alignment);
  void deallocate(void* pointer, std::size_t size, std::size_t alignment) noexcept;

  // Bytes held now. Exact on the loop thread when no other thread allocates.
  std::size_t bytes() const noexcept {
    return static_cast<std::size_t>(local_bytes_ +
                                    remote_bytes_.load(std::memory_order_relaxed));
  }

  template <class T, class... A>
  T* make(A&&... args) {
    void* memory = allocate(sizeof(T), alignof(T));
    try {
      return ::new (memory) T(std::forward<A>(args)...);
    } catch (...) {
      deallocate(memory, sizeof(T), alignof(T));
      throw;
    }
  }

  template <class T>
  void destroy(T* object) noexcept {
    if (object == nullptr) return;
    object->~T();
    deallocate(object, sizeof(T), alignof(T));
  }

  const weft_allocator& hooks() const noexcept { return hooks_; }

 private:
  bool on_loop_thread() const noexcept;

  weft_allocator hooks_;
  bool (*is_owner_)(const void*) noexcept = nullptr;
  const void* owner_context_ = nullptr;
  std::ptrdiff_t local_bytes_ = 0;                 // loop thread only
  std::atomic<std::ptrdiff_t> remote_bytes_{0};    // other threads
};

// A NUL-terminated copy of a string, held in an Allocator: one pointer (the
// block remembers its allocator and size). Move-only.
class Text {
 public:
  Text() noexcept = default;
  Text(Allocator& allocator, std::string_view text);
  Text(Text&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  Text& operator=(Text&& other) noexcept {
    if (this != &other) {
      reset();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  ~Text() { reset(); }

  // The text, or `fallback` if empty.
  const char* c_str(const char* fallback = "") const noexcept {
    return block_ != nullptr ? block_->text : fallback;
  }
  bool empty() const noexcept { return block_ == nullptr; }
  void reset() noexcept;

 private:
  struct Block {
    Allocator* allocator;
    std::size_t size;  // bytes allocated
    char text[1];
  };
  Block* block_ = nullptr;
};

}  // namespace weft::capi
