// weft::Event and weft::Condition: asyncio's Event and Condition for tasks.
//
//   weft::Event ready;
//   co_await ready.wait();          // suspends until set() (at once if set)
//   ready.set();                    // wakes every waiter
//
//   weft::Mutex mutex;
//   weft::Condition changed(mutex);
//   auto lock = co_await mutex.lock_guard();
//   co_await changed.wait([&] { return !items.empty(); });   // unlocks while waiting
//   changed.notify_all();
//
// - Event: set() wakes every waiting task (in the order they came) and makes
//   later wait()s return at once, until clear(). A cancelled waiter sees
//   Cancelled even if the event was set meanwhile (it has nothing to lose).
// - Condition: wait() must be called with the mutex locked; it unlocks,
//   waits for notify()/notify_all(), and locks again before returning, also
//   when it throws Cancelled (like asyncio, so the caller's unlock stays
//   right). wait(predicate) loops until predicate() holds.
// - Loop thread only; set()/notify() may be called from plain loop callbacks.
#pragma once

#include <coroutine>
#include <cstddef>

#include "core/sync/mutex.h"
#include "core/sync/wait_queue.h"
#include "core/task/task.h"

namespace weft {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  class WaitAwaiter : public detail::SyncWaiter {
   public:
    explicit WaitAwaiter(Event& event) noexcept : SyncWaiter(event.waiters_, "Event"), event_(&event) {}
    bool await_ready() const noexcept { return event_->set_; }
    void await_resume() {
      if (root == nullptr) return;
      finish();
      if (root->take_pending_cancel()) throw Cancelled();  // nothing to lose
    }

   private:
    Event* event_;
  };

  WaitAwaiter wait() noexcept { return WaitAwaiter(*this); }
  void set();
  void clear() noexcept { set_ = false; }
  bool is_set() const noexcept { return set_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  detail::WaitQueue waiters_;
  bool set_ = false;
};

class Condition {
 public:
  explicit Condition(Mutex& mutex) noexcept : mutex_(&mutex) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // See the header comment. Exception(invalid_state) if the mutex is not
  // locked.
  Task<void> wait();
  template <class Predicate>
  Task<void> wait(Predicate predicate) {
    while (!predicate()) co_await wait();
  }

  // Wakes up to `n` waiters (each then re-locks the mutex in turn).
  void notify(std::size_t n = 1);
  void notify_all();
  std::size_t waiting() const noexcept { return waiters_.size(); }
  Mutex& mutex() const noexcept { return *mutex_; }

 private:
  class WaitAwaiter : public detail::SyncWaiter {
   public:
    explicit WaitAwaiter(Condition& condition) noexcept : SyncWaiter(condition.waiters_, "Condition") {}
    bool await_ready() const noexcept { return false; }
    void await_resume() { finish(); }
  };

  Mutex* mutex_;
  detail::WaitQueue waiters_;
};

}  // namespace weft
