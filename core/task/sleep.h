// weft::sleep, sleep_until, yield: suspension points that wait for time only
// (part of core/task/task.h).
//
//   co_await weft::sleep(250ms);          // on the loop's clock
//   co_await weft::sleep_until(deadline);
//   co_await weft::yield();               // let the ready callbacks run, resume after them
//
// - A sleep is an intrusive timer in the task's frame (no allocation, no
//   callback slot); it fires in deadline order with the loop's other timers,
//   never early, and with a ManualClock only when the clock is advanced.
// - sleep(d) with d <= 0 (or a deadline already passed) behaves as yield().
// - Cancellation: a sleeping task is woken at once and sees Cancelled; a
//   cancellation that arrives after the timer fired (or during a yield) is
//   delivered when the task resumes.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/clock/clock.h"
#include "core/loop/loop_access.h"
#include "core/task/promise.h"
#include "core/timer/timer_node.h"

namespace weft {

namespace detail {

// "sleep (1.5 s left)".
void describe_sleep(bool armed, TimePoint deadline, TimePoint now, std::string& out);

// Relative: sleep(d), the node's deadline holds d until armed; else
// sleep_until(t), it holds t. (A type each, so no flag takes frame space.)
template <bool Relative>
class SleepAwaiter : public Suspension, private TimerNode {
 public:
  explicit SleepAwaiter(std::int64_t ns) noexcept : Suspension{&kOps}, TimerNode(&SleepAwaiter::fired) {
    deadline_ns = ns;
  }
  SleepAwaiter(SleepAwaiter&& other) noexcept : SleepAwaiter(other.deadline_ns) {}
  SleepAwaiter& operator=(SleepAwaiter&&) = delete;
  ~SleepAwaiter() {
    if (armed()) detail::LoopAccess::cancel_timer_node(root_->loop(), *this);
  }

  bool await_ready() const noexcept { return false; }

  // A pending cancellation makes it return false; await_resume throws it.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) {
    root_ = &root_of(handle);
    if (root_->cancel_pending()) return false;
    handle_ = handle;
    Loop& loop = root_->loop();
    const TimePoint now = loop.time();
    const TimePoint deadline = Relative ? now + Duration(deadline_ns) : TimePoint(Duration(deadline_ns));
    if (deadline <= now) {
      loop.call_soon(Resume{handle});
    } else {
      detail::LoopAccess::arm_timer_node(loop, *this, deadline);
    }
    root_->set_wait(this);
    return true;
  }

  void await_resume() {
    root_->clear_wait(this);
    if (root_->take_pending_cancel()) throw Cancelled();
  }

 private:
  static void fired(TimerNode& node) {
    auto& self = static_cast<SleepAwaiter&>(node);
    self.root_->loop().call_soon(Resume{self.handle_});
  }
  // Wakes the task now; the request stays pending and await_resume throws it
  // (also when the timer had already fired and the resume is queued).
  static bool cancel(Suspension& suspension) noexcept {
    auto& self = static_cast<SleepAwaiter&>(suspension);
    if (detail::LoopAccess::cancel_timer_node(self.root_->loop(), self))
      schedule_resume(self.root_->loop(), self.handle_);
    return false;
  }
  static void describe(const Suspension& suspension, std::string& out) {
    const auto& self = static_cast<const SleepAwaiter&>(suspension);
    describe_sleep(self.armed(), TimePoint(Duration(self.deadline_ns)), self.root_->loop().time(), out);
  }
  static constexpr SuspensionOps kOps{&SleepAwaiter::cancel, &SleepAwaiter::describe};

  TaskState* root_ = nullptr;
  std::coroutine_handle<> handle_;
};

// Keeps nothing in the coroutine's frame (a pointer there takes the frame
// of a Task<int> that yields once from 48 to 64 bytes with gcc 12): a Task's
// coroutine queues its resume as its own task state (an 8-byte object
// record, TaskState::run_queued), any other (an async generator's) as a
// callback that knows the task; either tells await_resume through
// take_cancel_on_resume whether a cancellation is delivered.
class YieldAwaiter {
 public:
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) {
    TaskState& root = root_of(handle);
    if (root.cancel_pending()) {
      root.take_pending_cancel();
      set_cancel_on_resume();
      return false;
    }
    if constexpr (kIsTaskPromise<P>) {
      detail::LoopAccess::queue_task_step(root.loop(), handle.promise().state());
    } else {
      root.loop().call_soon([task = &root, frame = std::coroutine_handle<>(handle)] {
        if (task->take_pending_cancel()) set_cancel_on_resume();
        frame.resume();
      });
    }
    return true;
  }
  void await_resume() const {
    if (take_cancel_on_resume()) throw Cancelled();
  }
};
static_assert(std::is_empty_v<YieldAwaiter>, "a yield keeps nothing in the coroutine's frame");

}  // namespace detail

inline detail::SleepAwaiter<true> sleep(Duration duration) noexcept {
  return detail::SleepAwaiter<true>(duration.count());
}
template <class Rep, class Period>
detail::SleepAwaiter<true> sleep(std::chrono::duration<Rep, Period> duration) noexcept {
  return sleep(std::chrono::duration_cast<Duration>(duration));
}
inline detail::SleepAwaiter<false> sleep_until(TimePoint deadline) noexcept {
  return detail::SleepAwaiter<false>(deadline.time_since_epoch().count());
}
inline detail::YieldAwaiter yield() noexcept { return {}; }

}  // namespace weft
