// Time limits for tasks (part of core/task/task.h): wait_for, with_timeout,
// with_deadline — asyncio's wait_for and asyncio.timeout.
//
//   int n = co_await weft::wait_for(fetch(url), 2s);          // a Task, Future or TaskHandle
//   co_await weft::with_timeout(500ms, step());                // the same, for a Task
//   co_await weft::with_deadline(loop.time() + 1s, step());
//
// - The work runs in the awaiting task (a Task as an inline child; a future
//   or a handle is awaited as owned). When the time is up, the awaiting task
//   is cancelled: the work sees Cancelled at its suspension point, cleans up,
//   and when Cancelled comes out of it, the await throws weft::TimedOut
//   (Errc::timed_out) instead. A handle's task is cancelled and waited for.
// - TimedOut is not a Cancelled: the caller was not cancelled, its operation
//   failed. If someone else also cancelled the task meanwhile, Cancelled wins
//   (the request is counted; see TaskHandle::cancelling()).
// - If the work finishes (or swallows the cancellation) in time, its value
//   comes back and the deadline's request is withdrawn.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "core/clock/clock.h"
#include "core/future/future.h"
#include "core/loop/loop_access.h"
#include "core/task/future_awaiter.h"
#include "core/task/promise.h"
#include "core/task/task_handle.h"
#include "core/timer/timer_node.h"

namespace weft {

namespace detail {

// Cancels `root` when `deadline` passes, and tells afterwards whether a
// Cancelled that came out of the work was its doing.
class DeadlineScope : private TimerNode {
 public:
  DeadlineScope(TaskState& root, TimePoint deadline)
      : TimerNode(&DeadlineScope::fired), root_(root), requests_at_entry_(root.cancelling()) {
    detail::LoopAccess::arm_timer_node(root.loop(), *this, deadline);
  }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;
  ~DeadlineScope() {
    disarm();
    if (expired_ && !settled_) root_.uncancel();  // the work finished anyway
  }

  // The work ended with Cancelled: true if the deadline caused it and no
  // other cancellation is outstanding.
  bool cancelled_by_deadline() noexcept {
    disarm();
    if (!expired_) return false;
    settled_ = true;
    return root_.uncancel() <= requests_at_entry_;
  }

 private:
  static void fired(TimerNode& node) {
    auto& self = static_cast<DeadlineScope&>(node);
    self.expired_ = true;
    self.root_.request_cancel();
  }
  void disarm() noexcept {
    if (armed()) detail::LoopAccess::cancel_timer_node(root_.loop(), *this);
  }

  TaskState& root_;
  int requests_at_entry_;
  bool expired_ = false;
  bool settled_ = false;
};

template <class T>
Task<T> run_with_deadline(std::int64_t ns, bool relative, Task<T> work) {
  TaskState* root = co_await CurrentRoot{};
  const TimePoint deadline =
      relative ? root->loop().time() + Duration(ns) : TimePoint(Duration(ns));
  DeadlineScope scope(*root, deadline);
  try {
    co_return co_await std::move(work);
  } catch (const Cancelled&) {
    if (scope.cancelled_by_deadline()) throw TimedOut("the time limit passed");
    throw;
  }
}

template <class T>
Task<T> await_owned(Future<T> future) {
  co_return co_await std::move(future);
}

template <class T>
Task<T> await_owned(TaskHandle<T> handle) {
  co_return co_await std::move(handle);
}

}  // namespace detail

template <class T>
Task<T> with_timeout(Duration timeout, Task<T> work) {
  return detail::run_with_deadline(timeout.count(), true, std::move(work));
}

template <class T>
Task<T> with_deadline(TimePoint deadline, Task<T> work) {
  return detail::run_with_deadline(deadline.time_since_epoch().count(), false, std::move(work));
}

template <class T>
Task<T> wait_for(Task<T> work, Duration timeout) {
  return with_timeout(timeout, std::move(work));
}

template <class T>
Task<T> wait_for(Future<T> future, Duration timeout) {
  return with_timeout(timeout, detail::await_owned(std::move(future)));
}

// The task is cancelled (and waited for) if the time runs out.
template <class T>
Task<T> wait_for(TaskHandle<T> handle, Duration timeout) {
  return with_timeout(timeout, detail::await_owned(std::move(handle)));
}

}  // namespace weft
