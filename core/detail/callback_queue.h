// weft::detail::CallbackQueue: the loop's FIFO of ready callbacks, stored as
// variable-size records in chunks of bytes.
//
// A record is an ops pointer followed by the callable itself, rounded up to 8
// bytes: a callback capturing one pointer takes 16 bytes, not a 64-byte slot,
// so a burst of a million callbacks touches a quarter of the memory. Callables
// larger than kMaxInlineBytes (or over-aligned, or throwing on move) are boxed.
// Records are never moved once written; emptied chunks are kept on a short
// spare list, so a steady-state queue allocates nothing.
//
// run_front() invokes the front record in place and moves past it afterwards,
// so a callback may post more callbacks (even into the same chunk) while it
// runs: the write position only rewinds when the read position has caught up
// with it, which cannot happen while a record is running.
//
// Not thread-safe: owned and used by the loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace weft::detail {

class CallbackQueue {
 public:
  // A chunk (with its two header words) stays under 64 KiB: freeing blocks of
  // 64 KiB or more makes glibc consolidate its fast bins every time.
  static constexpr std::size_t kChunkBytes = 64 * 1024 - 64;
  static constexpr std::size_t kMaxInlineBytes = 120;

  CallbackQueue() = default;
  CallbackQueue(const CallbackQueue&) = delete;
  CallbackQueue& operator=(const CallbackQueue&) = delete;
  ~CallbackQueue();

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  template <class F>
  void emplace_back(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (sizeof(D) <= kMaxInlineBytes && alignof(D) <= kAlign &&
                  std::is_nothrow_move_constructible_v<D>) {
      void* storage = reserve(&inline_ops<D>);
      ::new (storage) D(std::forward<F>(f));
    } else {
      D* boxed = new D(std::forward<F>(f));
      void* storage = reserve(&boxed_ops<D>);
      ::new (storage) D*(boxed);
    }
    commit();
  }

  // Appends `f` only if it is stored inline and fits the current chunk, so
  // nothing is allocated and nothing throws; false: use emplace_back. For
  // callers with a no-throw fast path (the C API's call_soon).
  template <class F>
  bool try_emplace_back(F&& f) noexcept {
    using D = std::decay_t<F>;
    static_assert(sizeof(D) <= kMaxInlineBytes && alignof(D) <= kAlign &&
                  std::is_nothrow_move_constructible_v<D>);
    constexpr std::size_t size = record_size(sizeof(D));
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    if (tail_ == nullptr || tail_->used + size > kChunkBytes) [[unlikely]] return false;
    unsigned char* at = tail_->bytes + tail_->used;
    ::new (at) Header{&inline_ops<D>};
    ::new (at + kHeader) D(std::forward<F>(f));
    tail_->used += size;
    ++size_;
    return true;
  }

  // Runs the front callback and pops it (also when it throws).
  void run_front() {
    Header* header = front_header();
    // size_ counts records not yet started; the read position moves past the
    // record only once it has finished (updating the two apart also keeps the
    // compiler from fusing them into one wide store).
    --size_;
    struct Advance {
      std::size_t* offset;
      std::uint32_t size;
      ~Advance() { *offset += size; }
    } advance{&head_offset_, header->ops->record_size};
    header->ops->invoke_destroy(reinterpret_cast<unsigned char*>(header) + kHeader);
  }
  // Destroys the front callback unrun and pops it.
  void pop_front() noexcept;
  // Destroys every callback unrun.
  void clear() noexcept;

 private:
  static constexpr std::size_t kAlign = 8;

  struct Ops {
    void (*invoke_destroy)(void* storage);
    void (*destroy)(void* storage) noexcept;
    std::uint32_t record_size;  // header + callable, rounded up
  };

  struct Chunk {
    Chunk* next = nullptr;
    std::size_t used = 0;  // bytes written
    alignas(16) unsigned char bytes[kChunkBytes];
  };

  // Record header: the ops table (which also knows the record's size).
  struct Header {
    const Ops* ops;
  };
  static constexpr std::size_t kHeader = sizeof(Header);

  static constexpr std::size_t record_size(std::size_t callable) noexcept {
    return kHeader + ((callable + kAlign - 1) & ~(kAlign - 1));
  }

  template <class D>
  static constexpr Ops inline_ops = {
      [](void* s) {
        D* callable = std::launder(static_cast<D*>(s));
        struct Destroy {
          D* callable;
          ~Destroy() { std::destroy_at(callable); }
        } destroy{callable};
        (*callable)();
      },
      [](void* s) noexcept { std::destroy_at(std::launder(static_cast<D*>(s))); },
      static_cast<std::uint32_t>(record_size(sizeof(D))),
  };

  template <class D>
  static constexpr Ops boxed_ops = {
      [](void* s) {
        struct Delete {
          D* callable;
          ~Delete() { delete callable; }
        } destroy{*std::launder(static_cast<D**>(s))};
        (*destroy.callable)();
      },
      [](void* s) noexcept { delete *std::launder(static_cast<D**>(s)); },
      static_cast<std::uint32_t>(record_size(sizeof(D*))),
  };

  // Returns where the callable goes; the record counts once commit() is called.
  void* reserve(const Ops* ops) {
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    if (tail_ == nullptr || tail_->used + ops->record_size > kChunkBytes) add_chunk();
    unsigned char* at = tail_->bytes + tail_->used;
    ::new (at) Header{ops};
    pending_ = ops->record_size;
    return at + kHeader;
  }
  void commit() noexcept {
    tail_->used += pending_;
    ++size_;
  }

  Header* front_header() noexcept {
    // The previous front may have ended its chunk; move on lazily, so a chunk
    // is never released while one of its records is running.
    if (head_offset_ == head_->used && head_ != tail_) next_head_chunk();
    return std::launder(reinterpret_cast<Header*>(head_->bytes + head_offset_));
  }
  void next_head_chunk() noexcept;
  void add_chunk();
  void rewind() noexcept;
  void recycle(Chunk* chunk) noexcept;

  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  Chunk* spare_ = nullptr;
  std::size_t spare_count_ = 0;
  std::size_t head_offset_ = 0;
  std::size_t size_ = 0;
  std::size_t pending_ = 0;
};

}  // namespace weft::detail
