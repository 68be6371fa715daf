// weft::detail::SyncWaiter / WaitQueue: the FIFO of suspended tasks behind
// Mutex, Semaphore, Event, Condition and Queue.
//
// A SyncWaiter is the awaiter itself (it lives in the waiting coroutine's
// frame); the queue links them intrusively, so waiting allocates nothing.
// Whoever releases what a waiter waits for (unlock, release, set, put, ...)
// pops it, hands it the lock / permit / item directly (Outcome::granted:
// first come, first served, no barging), and queues its resume.
//
// Cancellation: a waiter cancelled while queued leaves the queue and throws
// Cancelled. One cancelled after it was granted keeps what it got (a lock, a
// permit, an item is never lost) and the cancellation is delivered at the
// task's next suspension point — except for Event, which has nothing to lose
// and throws at once.
//
// Thread: like the primitives, loop thread only; all waiters on one loop.
#pragma once

#include <coroutine>
#include <cstddef>
#include <string>

#include "core/detail/intrusive_list.h"
#include "core/task/promise.h"
#include "core/task/task_state.h"

namespace weft::detail {

class WaitQueue;

struct SyncWaiter : Suspension {
  enum class Outcome : unsigned char { waiting, granted, interrupted, closed };

  // `what` names the wait in Loop::tasks() ("Mutex", "Queue.get", ...).
  SyncWaiter(WaitQueue& queue, const char* what) noexcept
      : Suspension{&kOps}, queue(&queue), what(what) {}
  SyncWaiter(const SyncWaiter& other) noexcept : SyncWaiter(*other.queue, other.what) {}
  SyncWaiter& operator=(const SyncWaiter&) = delete;
  // A frame destroyed while waiting (Loop::close) leaves the queue.
  ~SyncWaiter();

  // The usual await_suspend: joins the queue, unless a cancellation is
  // pending (then it does not suspend, and finish() throws).
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle);

  // At the await: a pending cancellation interrupts the wait before it starts.
  bool cancelled_before_wait(TaskState& task) noexcept {
    root = &task;
    if (!task.cancel_pending()) return false;
    outcome = Outcome::interrupted;
    return true;
  }
  // After the wait: throws Cancelled if it was interrupted (consuming the
  // request); else returns how it ended.
  Outcome finish() {
    if (outcome == Outcome::interrupted) {
      root->take_pending_cancel();
      throw Cancelled();
    }
    return outcome;
  }

  WaitQueue* queue;
  const char* what;
  ListHook hook;  // in queue's list while queued
  TaskState* root = nullptr;
  std::coroutine_handle<> handle;
  Outcome outcome = Outcome::waiting;
  bool queued = false;

 private:
  // Cancelled while queued: interrupted (finish() throws); already granted:
  // keeps what it got, and the request stays pending.
  static bool cancel(Suspension& self) noexcept;
  static void describe(const Suspension& self, std::string& out) {
    out += static_cast<const SyncWaiter&>(self).what;
  }
  static const SuspensionOps kOps;
};

class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  bool empty() const noexcept { return waiters_.empty(); }
  std::size_t size() const noexcept { return waiters_.size(); }
  SyncWaiter* front() const noexcept { return waiters_.front(); }

  // Suspends `waiter` (of the task `root`, coroutine `handle`) at the back.
  void push_back(SyncWaiter& waiter, TaskState& root, std::coroutine_handle<> handle) noexcept {
    waiter.root = &root;
    waiter.handle = handle;
    waiter.outcome = SyncWaiter::Outcome::waiting;
    waiter.queued = true;
    waiters_.push_back(&waiter);
    root.set_wait(&waiter);
  }

  void remove(SyncWaiter& waiter) noexcept {
    waiters_.remove(&waiter);
    waiter.queued = false;
  }

  // Takes `waiter` out of the queue with `outcome` and queues its resume.
  void wake(SyncWaiter& waiter, SyncWaiter::Outcome outcome) {
    remove(waiter);
    waiter.outcome = outcome;
    waiter.root->clear_wait(&waiter);
    schedule_resume(waiter.root->loop(), waiter.handle);
  }
  void wake_front(SyncWaiter::Outcome outcome) { wake(*waiters_.front(), outcome); }
  void wake_all(SyncWaiter::Outcome outcome) {
    while (!waiters_.empty()) wake(*waiters_.front(), outcome);
  }

 private:
  IntrusiveList<SyncWaiter, &SyncWaiter::hook> waiters_;
};

template <class P>
bool SyncWaiter::await_suspend(std::coroutine_handle<P> handle) {
  TaskState& task = root_of(handle);
  if (cancelled_before_wait(task)) return false;
  queue->push_back(*this, task, handle);
  return true;
}

inline SyncWaiter::~SyncWaiter() {
  if (queued) {
    queue->remove(*this);
    root->clear_wait(this);
  }
}

inline bool SyncWaiter::cancel(Suspension& self) noexcept {
  auto& waiter = static_cast<SyncWaiter&>(self);
  if (waiter.queued) waiter.queue->wake(waiter, Outcome::interrupted);
  return false;
}

inline const SuspensionOps SyncWaiter::kOps{&SyncWaiter::cancel, &SyncWaiter::describe};

}  // namespace weft::detail
