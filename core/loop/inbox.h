// weft::detail::Inbox: the loop's multi-producer queue for work posted from
// other threads (call_soon_threadsafe, futures completed off the loop thread).
//
// Producers append under a short lock; the loop takes the whole batch at once
// by swapping queues, so one lock acquisition and at most one wake-up serve a
// whole batch. `has_items()` is a lock-free hint the loop polls between
// callbacks. After close() every post is refused (returns false) and the
// callback is destroyed without running, on the posting thread.
//
// Continuations (futures completed on another thread) must be posted from a
// path that cannot fail, so their room is reserved beforehand: the loop
// reserves entries (reserve(), which may throw std::bad_alloc) when a
// continuation is published, post_continuation() then allocates nothing,
// and release() gives back room not needed. The queue always holds at
// least `reserved_` free entries (its tail chunk's rest and spare chunks):
// an ordinary post() makes room for itself beyond them first, and take_all()
// hands the batch queue's empty chunk and the spare chunks back to the
// inbox with the swap (the batch always keeps one chunk, see take_all).
//
// Thread: post(), post_continuation() from any thread; reserve(), release(),
// take_all() and close() on the loop thread.
#pragma once

#include <atomic>
#include <mutex>
#include <utility>

#include "core/detail/callback.h"
#include "core/detail/chunked_queue.h"

namespace weft::detail {

class StateBase;

// Destroys a posted continuation unrun (StateBase::drop_queued, defined
// with the loop): an inbox entry dropped without reaching the loop.
void discard_posted_continuation(StateBase* state) noexcept;

class Inbox {
 public:
  // A posted callback, or a completed future's continuation (`continuation`
  // set, `callback` empty).
  struct Entry {
    Callback callback;
    StateBase* continuation = nullptr;

    template <class F>
    explicit Entry(F&& f) : callback(std::forward<F>(f)) {}
    explicit Entry(StateBase* state) noexcept : continuation(state) {}
    Entry(Entry&& other) noexcept
        : callback(std::move(other.callback)), continuation(std::exchange(other.continuation, nullptr)) {}
    Entry& operator=(Entry&&) = delete;
    ~Entry() {
      if (continuation != nullptr) discard_posted_continuation(continuation);
    }
  };
  using Queue = ChunkedQueue<Entry, 64>;

  // Appends `callback`; returns false (and destroys it) if the inbox is closed.
  template <class F>
  bool post(F&& f) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return false;
      // Room for this one beyond the reserved entries (may throw: nothing
      // queued).
      if (reserved_ != 0) queue_.add_room(reserved_ + 1);
      queue_.emplace_back(std::forward<F>(f));
      // seq_cst: pairs with the loop's "about to sleep" store (see Loop::sleep).
      has_items_.store(true, std::memory_order_seq_cst);
    }
    return true;
  }

  // Appends a completed future's continuation into reserved room: allocates
  // nothing. False if the inbox is closed (the caller still owns `state`'s
  // continuation).
  bool post_continuation(StateBase* state) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    --reserved_;
    queue_.emplace_back(state);  // a free entry is there: no allocation
    has_items_.store(true, std::memory_order_seq_cst);
    return true;
  }

  // Reserves room for `n` continuation posts. Throws std::bad_alloc with
  // nothing reserved.
  void reserve(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.add_room(reserved_ + n);
    reserved_ += n;
  }
  // Gives back `n` reserved entries that will not be used.
  void release(std::size_t n) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    reserved_ -= n;
  }

  bool has_items() const noexcept { return has_items_.load(std::memory_order_seq_cst); }
  bool has_items_relaxed() const noexcept { return has_items_.load(std::memory_order_relaxed); }

  // Moves everything posted so far into `out` (which must be empty, and
  // hold a chunk or a spare one: a drained queue keeps its last chunk). The
  // reserved room stays here: `out`'s empty chunk (a whole chunk, more than
  // the rest of the tail chunk the posted entries leave with) and every
  // spare chunk come back with the swap.
  void take_all(Queue& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.swap(out);
    queue_.take_spares(out);
    has_items_.store(false, std::memory_order_relaxed);
  }

  // Refuses all further posts; moves what is still queued into `out`.
  void close(Queue& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    queue_.swap(out);
    has_items_.store(false, std::memory_order_relaxed);
  }

 private:
  std::mutex mutex_;
  Queue queue_;
  std::size_t reserved_ = 0;  // continuation posts the queue has room for
  bool closed_ = false;
  std::atomic<bool> has_items_{false};
};

}  // namespace weft::detail
