#include "core/detail/frame_pool.h"

#include <cstdlib>
#include <new>
#include <utility>

#include "core/detail/fast_tls.h"

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_FRAME_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_FRAME_POOL_ASAN 1
#endif
#endif
#if defined(WEFT_FRAME_POOL_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace weft::detail {

WEFT_FAST_TLS thread_local FramePool* tls_current_pool = nullptr;

namespace {

// Under AddressSanitizer, memory the pool holds and has not handed out (free
// blocks, the unused rest of a chunk) is poisoned, so a use after free of a
// pooled frame or future state is reported as it would be with operator new;
// the pool unpoisons a free block's link only while it reads or writes it.
#if defined(WEFT_FRAME_POOL_ASAN)
void poison(void* p, std::size_t n) noexcept { ASAN_POISON_MEMORY_REGION(p, n); }
void unpoison(void* p, std::size_t n) noexcept { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
void poison(void*, std::size_t) noexcept {}
void unpoison(void*, std::size_t) noexcept {}
#endif

// The pool of a thread where no loop runs; retired when the thread exits.
struct ThreadPoolHolder {
  FramePool* pool = nullptr;
  ~ThreadPoolHolder() {
    if (pool != nullptr) std::exchange(pool, nullptr)->retire();
  }
};
thread_local ThreadPoolHolder tls_thread_pool;

}  // namespace

FramePool& FramePool::current() {
  if (tls_current_pool != nullptr) return *tls_current_pool;
  if (tls_thread_pool.pool == nullptr) tls_thread_pool.pool = new FramePool();
  return *tls_thread_pool.pool;
}

FramePool::Scope::Scope(FramePool* pool) noexcept : previous_(tls_current_pool) {
  tls_current_pool = pool;
}

FramePool::Scope::~Scope() { tls_current_pool = previous_; }

FramePool::~FramePool() {
  // The newest chunk is first; the first kSmallChunks made are one segment.
  std::size_t index = chunk_count_;
  while (chunks_ != nullptr) {
    --index;
    Segment* next = chunks_->next;
    unpoison(chunks_, index >= kSmallChunks ? kLargeChunkBytes : kSegmentBytes);
    std::free(chunks_);
    chunks_ = next;
  }
}

void* FramePool::pop_free(std::size_t c) noexcept {
  FreeBlock* block = free_[c];
  unpoison(block, sizeof(FreeBlock));
  free_[c] = block->next;
  unpoison(block, (c + 1) * kGranule);
  ++live_;
  return block;
}

void* FramePool::allocate(std::size_t bytes) {
  const std::size_t c = size_class(bytes);
  if (free_[c] != nullptr) return pop_free(c);
  return allocate_slow(c);
}

void* FramePool::allocate_slow(std::size_t c) {
  if (remote_pending_.load(std::memory_order_relaxed) && take_back_remote_frees()) {
    if (free_[c] != nullptr) return pop_free(c);
  }
  const std::size_t size = (c + 1) * kGranule;
  // A block never crosses a segment boundary (its pool is found from the
  // segment it starts in); the tail of a segment too small for it stays
  // unused.
  if (bump_ == nullptr || static_cast<std::size_t>(segment_end_ - bump_) < size) next_segment();
  void* block = bump_;
  bump_ += size;
  unpoison(block, size);
  ++live_;
  return block;
}

void FramePool::next_segment() {
  if (segment_end_ == nullptr || segment_end_ == chunk_end_) {
    add_chunk();
    return;
  }
  unpoison(segment_end_, kSegmentHeader);
  auto* segment = reinterpret_cast<Segment*>(segment_end_);
  segment->pool = this;
  segment->next = nullptr;
  bump_ = segment_end_ + kSegmentHeader;
  segment_end_ += kSegmentBytes;
}

void FramePool::add_chunk() {
  const bool large = chunk_count_ >= kSmallChunks;
  const std::size_t bytes = large ? kLargeChunkBytes : kSegmentBytes;
  void* memory = std::aligned_alloc(bytes, bytes);
  if (memory == nullptr) throw std::bad_alloc();
  poison(static_cast<char*>(memory) + kSegmentHeader, bytes - kSegmentHeader);
  auto* segment = static_cast<Segment*>(memory);
  segment->pool = this;
  segment->next = chunks_;
  chunks_ = segment;
  ++chunk_count_;
  bytes_reserved_ += bytes;
  bump_ = static_cast<char*>(memory) + kSegmentHeader;
  segment_end_ = static_cast<char*>(memory) + kSegmentBytes;
  chunk_end_ = static_cast<char*>(memory) + bytes;
}

void FramePool::deallocate(void* block, std::size_t bytes) noexcept {
  const std::size_t c = size_class(bytes);
  // The loop running here is the common case, and a cheaper check than the
  // thread id.
  if (this == tls_current_pool || owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    auto* free_block = static_cast<FreeBlock*>(block);
    free_block->next = free_[c];
    free_[c] = free_block;
    poison(block, (c + 1) * kGranule);
    --live_;
    return;
  }
  deallocate_remote(block, c);
}

void FramePool::deallocate_remote(void* block, std::size_t c) noexcept {
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    if (retired_) {
      last = --outstanding_ == 0;
    } else {
      auto* free_block = static_cast<FreeBlock*>(block);
      free_block->next = remote_;
      free_block->size_class = c;
      poison(block, (c + 1) * kGranule);
      remote_ = free_block;
      ++remote_count_;
      remote_pending_.store(true, std::memory_order_relaxed);
    }
  }
  if (last) delete this;
}

bool FramePool::take_back_remote_frees() {
  FreeBlock* list;
  std::size_t count;
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    list = remote_;
    count = remote_count_;
    remote_ = nullptr;
    remote_count_ = 0;
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  while (list != nullptr) {
    unpoison(list, sizeof(FreeBlock));
    FreeBlock* next = list->next;
    list->next = free_[list->size_class];
    free_[list->size_class] = list;
    poison(list, sizeof(FreeBlock));
    list = next;
  }
  live_ -= count;
  return count > 0;
}

void FramePool::retire() noexcept {
  owner_.store(std::thread::id(), std::memory_order_relaxed);
  bool unused;
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    retired_ = true;
    outstanding_ = live_ - remote_count_;
    unused = outstanding_ == 0;
  }
  if (unused) delete this;
}

void* allocate_frame(std::size_t bytes) {
  if (bytes > FramePool::kMaxBlock) return ::operator new(bytes);
  return FramePool::current().allocate(bytes);
}

void deallocate_frame(void* block, std::size_t bytes) noexcept {
  if (bytes > FramePool::kMaxBlock) {
    ::operator delete(block);
    return;
  }
  FramePool::owner_of(block)->deallocate(block, bytes);
}

}  // namespace weft::detail
