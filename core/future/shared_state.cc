#include "core/future/shared_state.h"

#include <cstdio>
#include <cstdlib>

#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

std::uint32_t StateBase::scheduled_here(std::uint32_t word) const noexcept {
  // kHasContinuation seen (acquire): loop_ is the continuation's loop.
  return (word & kHasContinuation) != 0 && continuation_loop()->in_loop_thread() ? kScheduled : 0;
}

bool StateBase::complete(std::uint32_t bits, bool now) noexcept {
  std::uint32_t old = word_.load(std::memory_order_acquire);
  std::uint32_t set;
  do {
    if (old & kReady) return false;
    set = kReady | bits | scheduled_here(old);
  } while (!word_.compare_exchange_weak(old, old | set, std::memory_order_acq_rel,
                                        std::memory_order_acquire));
  if (CancelHook* hook = cancel_hook(old); hook != nullptr) hook->fn(hook, (bits & kCancelled) != 0);
  after_completion(old, set, now);
  return true;
}

void StateBase::set_cancel_hook(CancelHook* hook) noexcept {
  if (!has_hook_room()) {
    std::fputs("weft: a cancel hook set on a future state made without room for one\n", stderr);
    std::abort();
  }
  *hook_slot() = hook;
}

void StateBase::after_completion(std::uint32_t old_word, std::uint32_t set, bool now) noexcept {
  if (old_word & kWaiter) word_.notify_all();
  if (!(old_word & kHasContinuation)) return;
  if (set & kScheduled) {
    schedule_here(now);
    return;
  }
  // Another thread: post through the inbox, then tell a closing loop the post
  // is done. The loop cannot be destroyed before it sees kScheduled.
  LoopAccess::post_continuation(*continuation_loop(), this);
  word_.fetch_or(kScheduled, std::memory_order_release);
}

void StateBase::publish_continuation(Loop& loop, bool after_now) {
  loop_.store(&loop, std::memory_order_relaxed);
  std::uint32_t old = word_.load(std::memory_order_relaxed);
  std::uint32_t set;
  do {
    // Already complete: due now, and queued here.
    set = kHasContinuation | ((old & kReady) ? kScheduled : 0);
  } while (!word_.compare_exchange_weak(old, old | set, std::memory_order_acq_rel,
                                        std::memory_order_relaxed));
  if (set & kScheduled) {
    if (after_now) {
      LoopAccess::run_after_continuation_now(loop, this);
    } else {
      schedule_here();
    }
  }
}

bool StateBase::exclusive_on_loop_thread(const StateOps* idle) const noexcept {
  // kHasContinuation seen (acquire): loop_ and the continuation are set. On
  // loop_'s thread the table is ours to read: while it is not `idle` the
  // continuation has not been taken, so two references are the caller's and
  // the continuation's, and acquiring the count sees every earlier holder's
  // last access done.
  if (!(word_.load(std::memory_order_acquire) & kHasContinuation)) return false;
  return continuation_loop()->in_loop_thread() && refs_.load(std::memory_order_acquire) == 2 &&
         ops_ != idle;
}

void StateBase::schedule_here(bool now) noexcept {
  if (now) {
    LoopAccess::run_continuation_here(*continuation_loop(), this);
  } else {
    LoopAccess::schedule_continuation_here(*continuation_loop(), this);
  }
}

void StateBase::untrack() noexcept { LoopAccess::untrack_future(*continuation_loop(), this); }

void StateBase::wait() noexcept {
  std::uint32_t old = word_.fetch_or(kWaiter, std::memory_order_acq_rel);
  while (!(old & kReady)) {
    word_.wait(old, std::memory_order_acquire);
    old = word_.load(std::memory_order_acquire);
  }
}

}  // namespace weft::detail
