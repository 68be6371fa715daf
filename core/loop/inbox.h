// weft::detail::Inbox: the loop's multi-producer queue for work posted from
// other threads (call_soon_threadsafe, futures completed off the loop thread).
//
// Producers append under a short lock; the loop takes the whole batch at once
// by swapping queues, so one lock acquisition and at most one wake-up serve a
// whole batch. `has_items()` is a lock-free hint the loop polls between
// callbacks. After close() every post is refused (returns false) and the
// callback is destroyed without running, on the posting thread.
//
// Thread: post() from any thread; take_all()/close() on the loop thread.
#pragma once

#include <atomic>
#include <mutex>
#include <utility>

#include "core/detail/callback.h"
#include "core/detail/chunked_queue.h"

namespace weft::detail {

class Inbox {
 public:
  using Queue = ChunkedQueue<Callback, 64>;

  // Appends `callback`; returns false (and destroys it) if the inbox is closed.
  template <class F>
  bool post(F&& f) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return false;
      queue_.emplace_back(std::forward<F>(f));
      // seq_cst: pairs with the loop's "about to sleep" store (see Loop::sleep).
      has_items_.store(true, std::memory_order_seq_cst);
    }
    return true;
  }

  bool has_items() const noexcept { return has_items_.load(std::memory_order_seq_cst); }
  bool has_items_relaxed() const noexcept { return has_items_.load(std::memory_order_relaxed); }

  // Moves everything posted so far into `out` (which must be empty).
  void take_all(Queue& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.swap(out);
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
  bool closed_ = false;
  std::atomic<bool> has_items_{false};
};

}  // namespace weft::detail
