// weft::detail::ChunkedQueue<T>: an unbounded FIFO made of fixed-size chunks.
//
// Growing never moves existing elements (a ring buffer that doubles would move
// every queued callback), and emptied chunks are kept on a small free list, so a
// steady-state queue allocates nothing. Elements are constructed in place.
//
// Not thread-safe: its users guard it with a lock (the loop's inbox of
// cross-thread posts, the thread pool's queue, a strand's queue). The loop's
// ready queue is a CallbackQueue (callback_queue.h), not this.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace weft::detail {

template <class T, std::size_t kChunkSize = 256>
class ChunkedQueue {
 public:
  ChunkedQueue() = default;
  ChunkedQueue(const ChunkedQueue&) = delete;
  ChunkedQueue& operator=(const ChunkedQueue&) = delete;

  ChunkedQueue(ChunkedQueue&& other) noexcept { swap(other); }
  ChunkedQueue& operator=(ChunkedQueue&& other) noexcept {
    if (this != &other) {
      ChunkedQueue moved(std::move(other));
      swap(moved);
    }
    return *this;
  }

  ~ChunkedQueue() {
    clear();
    free_chunk(head_);
    while (spare_ != nullptr) {
      Chunk* next = spare_->next;
      delete spare_;
      spare_ = next;
    }
  }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  template <class... A>
  T& emplace_back(A&&... args) {
    if (tail_ == nullptr || tail_end_ == kChunkSize) grow();
    T* slot = ::new (static_cast<void*>(tail_->slot(tail_end_))) T(std::forward<A>(args)...);
    ++tail_end_;
    ++size_;
    return *slot;
  }

  T& front() noexcept { return *head_->item(head_begin_); }

  void pop_front() noexcept {
    head_->item(head_begin_)->~T();
    advance_head();
  }

  // Moves the front element out and pops it.
  T take_front() {
    T value(std::move(front()));
    pop_front();
    return value;
  }

  void clear() noexcept {
    while (size_ != 0) pop_front();
  }

  // Entries that fit without allocating: the tail chunk's rest and the
  // spare chunks.
  std::size_t free_slots() const noexcept {
    return (tail_ != nullptr ? kChunkSize - tail_end_ : 0) + spare_count_ * kChunkSize;
  }
  // Adds spare chunks until free_slots() >= slots. Throws std::bad_alloc
  // (keeping the chunks already added).
  void add_room(std::size_t slots) {
    while (free_slots() < slots) {
      Chunk* chunk = new Chunk;
      chunk->next = spare_;
      spare_ = chunk;
      ++spare_count_;
    }
  }
  // Moves every spare chunk of `other` here.
  void take_spares(ChunkedQueue& other) noexcept {
    while (other.spare_ != nullptr) {
      Chunk* chunk = other.spare_;
      other.spare_ = chunk->next;
      --other.spare_count_;
      chunk->next = spare_;
      spare_ = chunk;
      ++spare_count_;
    }
  }

  void swap(ChunkedQueue& other) noexcept {
    std::swap(head_, other.head_);
    std::swap(tail_, other.tail_);
    std::swap(spare_, other.spare_);
    std::swap(head_begin_, other.head_begin_);
    std::swap(tail_end_, other.tail_end_);
    std::swap(size_, other.size_);
    std::swap(spare_count_, other.spare_count_);
  }

 private:
  struct Chunk {
    Chunk* next = nullptr;
    alignas(T) unsigned char bytes[sizeof(T) * kChunkSize];
    void* slot(std::size_t i) noexcept { return bytes + i * sizeof(T); }
    T* item(std::size_t i) noexcept { return std::launder(reinterpret_cast<T*>(slot(i))); }
  };

  static constexpr std::size_t kMaxSpareChunks = 4;

  void grow() {
    Chunk* chunk = spare_;
    if (chunk != nullptr) {
      spare_ = chunk->next;
      --spare_count_;
      chunk->next = nullptr;
    } else {
      chunk = new Chunk;
    }
    if (tail_ == nullptr) {
      head_ = chunk;
      head_begin_ = 0;
    } else {
      tail_->next = chunk;
    }
    tail_ = chunk;
    tail_end_ = 0;
  }

  void advance_head() noexcept {
    --size_;
    ++head_begin_;
    if (head_ == tail_) {
      if (head_begin_ == tail_end_) {  // empty: rewind, keep the chunk
        head_begin_ = 0;
        tail_end_ = 0;
      }
      return;
    }
    if (head_begin_ == kChunkSize) {
      Chunk* done = head_;
      head_ = head_->next;
      head_begin_ = 0;
      free_chunk(done);
    }
  }

  void free_chunk(Chunk* chunk) noexcept {
    if (chunk == nullptr) return;
    if (spare_count_ < kMaxSpareChunks) {
      chunk->next = spare_;
      spare_ = chunk;
      ++spare_count_;
    } else {
      delete chunk;
    }
  }

  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  Chunk* spare_ = nullptr;
  std::size_t head_begin_ = 0;
  std::size_t tail_end_ = 0;
  std::size_t size_ = 0;
  std::size_t spare_count_ = 0;
};

}  // namespace weft::detail
