// weft::detail::TaskSet: waits on a fixed set of tasks — the engine behind
// gather, wait, when_any and as_completed (core/task/combinators.h,
// core/generator/as_completed.h).
//
// It registers one waiter node per unfinished member (one allocation for
// all), records the order in which members finish and the first that failed,
// and is itself the awaitable: co_await set.until(condition) suspends the
// awaiting task until the condition holds.
//
// Cancellation of the awaiting task:
// - owned sets (gather): the members are cancelled, and the await goes on
//   until every member has finished, then throws Cancelled;
// - other sets (wait, when_any, as_completed): the await ends at once with
//   Cancelled; members are left alone.
// With cancel_on_failure (gather's default), the first member to fail or be
// cancelled (by someone else) makes the set cancel all the others.
//
// The members' handles must outlive the set (the combinators hold them).
// Loop thread only; members and the awaiting task on one loop.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock/clock.h"
#include "core/task/promise.h"
#include "core/task/task_handle.h"
#include "core/timer/timer_node.h"

namespace weft::detail {

class TaskSet : public Suspension, private TimerNode {
 public:
  enum class Until {
    all_done,         // every member finished
    first_done,       // at least one finished
    first_exception,  // one failed with an exception, or all finished
    next_done,        // a member finished since the last take_next()
  };

  template <class H>
  static std::vector<TaskState*> states_of(const std::vector<H>& handles) {
    std::vector<TaskState*> states;
    states.reserve(handles.size());
    for (const TaskRef& h : handles) {
      if (!h.valid()) throw Exception(Errc::invalid_argument, "an empty TaskHandle in a task set");
      states.push_back(TaskRefAccess::state(h));
    }
    return states;
  }

  struct Options {
    bool owned = false;
    bool cancel_on_failure = false;
    // The await ends then (loop clock) even if the condition does not hold;
    // timed_out() tells.
    std::optional<TimePoint> deadline;
  };

  TaskSet(std::vector<TaskState*> members, Options options);
  TaskSet(const TaskSet&) = delete;
  TaskSet& operator=(const TaskSet&) = delete;
  ~TaskSet();

  // co_await set.until(condition). (A small awaiter that refers to the set:
  // gcc 12 copies an awaiter given as an lvalue.)
  class Awaiter {
   public:
    explicit Awaiter(TaskSet& set) noexcept : set_(&set) {}
    bool await_ready() const noexcept { return set_->satisfied(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> handle) {
      return set_->suspend(root_of(handle), handle);
    }
    void await_resume() { set_->resume(); }

   private:
    TaskSet* set_;
  };
  Awaiter until(Until condition) noexcept {
    until_ = condition;
    return Awaiter(*this);
  }

  std::size_t size() const noexcept { return members_.size(); }
  std::size_t finished() const noexcept { return order_.size(); }
  bool timed_out() const noexcept { return timed_out_; }
  // Index of the first member that failed or was cancelled by someone else
  // than this set; -1 if none.
  std::ptrdiff_t first_failure() const noexcept { return first_failure_; }
  // Members in the order they finished (those finished before the set was
  // made come first, in input order).
  const std::vector<std::uint32_t>& completion_order() const noexcept { return order_; }
  bool member_done(std::size_t index) const noexcept { return members_[index]->done(); }
  // For Until::next_done: the next member in completion order not taken yet.
  std::uint32_t take_next() noexcept { return order_[taken_++]; }

  // Cancels every unfinished member.
  void cancel_members() noexcept;

 private:
  struct Node : TaskWaiter {
    TaskSet* set = nullptr;
    std::uint32_t index = 0;
    bool registered = false;
  };

  bool suspend(TaskState& root, std::coroutine_handle<> handle);
  void resume();
  bool satisfied() const noexcept;
  void record(std::uint32_t index) noexcept;
  void wake() noexcept;
  static void on_member_done(TaskWaiter& waiter, TaskState& task);
  static void on_deadline(TimerNode& node);
  static bool cancel(Suspension& self) noexcept;
  static void describe(const Suspension& self, std::string& out);
  static const SuspensionOps kOps;

  std::vector<TaskState*> members_;
  std::unique_ptr<Node[]> nodes_;
  std::vector<std::uint32_t> order_;
  std::size_t taken_ = 0;
  std::ptrdiff_t first_failure_ = -1;
  std::ptrdiff_t first_exception_ = -1;
  Until until_ = Until::all_done;
  std::optional<TimePoint> deadline_;
  TaskState* root_ = nullptr;
  std::coroutine_handle<> handle_;
  bool owned_;
  bool cancel_on_failure_;
  bool cancelling_ = false;  // this set cancelled the members
  bool cancelled_ = false;   // the awaiting task was cancelled (owned set)
  bool waiting_ = false;
  bool timed_out_ = false;
};

}  // namespace weft::detail
