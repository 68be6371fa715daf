#include "core/future/shared_state.h"

#include <thread>

#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

bool StateBase::cancel() noexcept {
  std::uint32_t old = word_.load(std::memory_order_relaxed);
  do {
    if (old & kReady) return false;
  } while (!word_.compare_exchange_weak(old, old | kReady | kCancelled,
                                        std::memory_order_acq_rel, std::memory_order_relaxed));
  if (cancel_hook_ != nullptr) cancel_hook_->fn(cancel_hook_, true);
  after_completion(old);
  return true;
}

void StateBase::run_queued() {
  LoopAccess::untrack_future(*continuation_loop(), this);
  mark_continuation_taken();
  run_continuation();
}

void StateBase::drop_queued() noexcept {
  LoopAccess::untrack_future(*continuation_loop(), this);
  mark_continuation_taken();
  discard_continuation();
}

void StateBase::after_completion(std::uint32_t old_word) noexcept {
  if (old_word & kWaiter) word_.notify_all();
  if (old_word & kHasContinuation) schedule();
}

void StateBase::publish_continuation(Loop& loop) {
  loop_.store(&loop, std::memory_order_relaxed);
  continuation_pending_ = true;
  std::uint32_t old = word_.fetch_or(kHasContinuation, std::memory_order_acq_rel);
  if (old & kReady) schedule();
}

bool StateBase::exclusive_on_loop_thread() const noexcept {
  // kHasContinuation seen (acquire): loop_ and the continuation are set. On
  // loop_'s thread continuation_pending_ is ours to read; with it, two
  // references are the caller's and the continuation's, and acquiring the
  // count sees every earlier holder's last access done.
  if (!(word_.load(std::memory_order_acquire) & kHasContinuation)) return false;
  return continuation_loop()->in_loop_thread() && refs_.load(std::memory_order_acquire) == 2 &&
         continuation_pending_;
}

void StateBase::schedule_here() noexcept {
  scheduled_locally_ = true;
  LoopAccess::schedule_continuation_here(*continuation_loop(), this);
}

void StateBase::schedule() noexcept {
  Loop* loop = continuation_loop();
  if (loop->in_loop_thread()) {
    schedule_here();
    return;
  }
  // Another thread: post through the inbox, then tell a closing loop the post
  // is done. The loop cannot be destroyed before it sees kScheduled.
  LoopAccess::schedule_continuation(*loop, this);
  word_.fetch_or(kScheduled, std::memory_order_release);
}

void StateBase::wait() noexcept {
  std::uint32_t old = word_.fetch_or(kWaiter, std::memory_order_acq_rel);
  while (!(old & kReady)) {
    word_.wait(old, std::memory_order_acquire);
    old = word_.load(std::memory_order_acquire);
  }
}

}  // namespace weft::detail
