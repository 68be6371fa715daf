// weft::detail::FramePool: where coroutine frames (and the task state that
// precedes each task's frame) come from.
//
// Each Loop owns a pool; while a loop runs on a thread, frames created on that
// thread come from its pool. Frames created on a thread where no loop runs
// come from that thread's own pool. Frames larger than kMaxBlock come from
// the heap.
//
// A pool is a set of chunks made of 64 KiB segments, each segment aligned to
// its size with the owning pool's address in its first bytes, carved into
// blocks in 16-byte size classes. A freed block goes on its class's free list
// and is reused; chunks are released only when the pool is. So spawning a
// task costs a pointer pop, and a block carries no header of its own:
// deallocate() finds the pool from the block's address, and the size class
// from the size the caller passes (the same size it allocated, as sized
// operator delete guarantees).
//
// The first chunks are one segment each, so a loop with a few tasks holds
// little memory; once a pool holds kSmallChunks of them, it grows by 2 MiB
// chunks (one allocation, one mapping, for 32 segments). Asking for
// transparent huge pages was tried and dropped: with the kernel compacting
// memory on fault, a run took 70 or 450 ns per task, unpredictably.
//
// Threads: a pool has an owner thread (the thread that runs its loop, or last
// ran it; the thread of a thread's own pool). allocate() only there.
// deallocate() from any thread: on the owner it is a free-list push; from
// elsewhere the block goes on a list under a mutex that the owner takes back
// at its next allocation that finds its free list empty.
//
// Lifetime: retire() (the loop's destructor, or the thread's exit) hands the
// pool over to its outstanding blocks: it deletes itself when the last one
// comes back, so a block may outlive the loop that allocated it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace weft::detail {

class FramePool {
 public:
  static constexpr std::size_t kSegmentBytes = 64 * 1024;
  static constexpr std::size_t kLargeChunkBytes = 2 * 1024 * 1024;
  static constexpr std::size_t kSmallChunks = 16;
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kMaxBlock = 2048;

  FramePool() noexcept : owner_(std::this_thread::get_id()) {}
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;

  // The pool frames come from on this thread: the running loop's, else this
  // thread's own (created on first use).
  static FramePool& current();

  // Makes `pool` the calling thread's current pool until destroyed (used by a
  // loop's run calls; nests).
  class Scope {
   public:
    explicit Scope(FramePool* pool) noexcept;
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    FramePool* previous_;
  };

  // Own thread. `bytes` <= kMaxBlock.
  void* allocate(std::size_t bytes);
  // Any thread; `bytes` as passed to allocate().
  void deallocate(void* block, std::size_t bytes) noexcept;

  // The loop moved to the calling thread (Loop's run calls).
  void set_owner(std::thread::id owner) noexcept { owner_.store(owner, std::memory_order_relaxed); }

  // Own thread, once: the owner is going away (see Lifetime above).
  void retire() noexcept;

  // Blocks handed out and not yet returned to this thread's free lists
  // (blocks freed from other threads count until taken back). Own thread.
  std::size_t blocks_in_use() const noexcept { return live_; }
  // Bytes of chunks held. Own thread.
  std::size_t bytes_reserved() const noexcept { return bytes_reserved_; }

 private:
  static constexpr std::size_t kClasses = kMaxBlock / kGranule;
  static constexpr std::size_t kSegmentHeader = 64;

  struct FreeBlock {
    FreeBlock* next;
    std::size_t size_class;  // for blocks on the remote list
  };
  // At the start of every segment; `next` links the chunks (in a chunk's
  // first segment).
  struct Segment {
    FramePool* pool;
    Segment* next;
  };

  ~FramePool();

  static std::size_t size_class(std::size_t bytes) noexcept {
    return (bytes + kGranule - 1) / kGranule - 1;
  }
  static FramePool* owner_of(void* block) noexcept {
    auto address = reinterpret_cast<std::uintptr_t>(block) & ~(kSegmentBytes - 1);
    return reinterpret_cast<Segment*>(address)->pool;
  }

  void* pop_free(std::size_t size_class) noexcept;
  void* allocate_slow(std::size_t size_class);
  void next_segment();
  void add_chunk();
  bool take_back_remote_frees();
  void deallocate_remote(void* block, std::size_t size_class) noexcept;

  FreeBlock* free_[kClasses] = {};
  char* bump_ = nullptr;          // next free byte in the current segment
  char* segment_end_ = nullptr;   // end of the current segment
  char* chunk_end_ = nullptr;     // end of the current chunk
  Segment* chunks_ = nullptr;
  std::size_t chunk_count_ = 0;
  std::size_t bytes_reserved_ = 0;
  std::size_t live_ = 0;
  std::atomic<std::thread::id> owner_;  // no thread once retired

  // Blocks freed by other threads, and retirement (both under remote_mutex_).
  std::mutex remote_mutex_;
  FreeBlock* remote_ = nullptr;
  std::size_t remote_count_ = 0;
  bool retired_ = false;
  std::size_t outstanding_ = 0;  // after retirement
  std::atomic<bool> remote_pending_{false};

  friend void deallocate_frame(void* block, std::size_t bytes) noexcept;
};

// A coroutine frame of `bytes` from the current pool (or the heap when large).
void* allocate_frame(std::size_t bytes);
// Returns a block from allocate_frame; any thread.
void deallocate_frame(void* block, std::size_t bytes) noexcept;

}  // namespace weft::detail
