// weft::task_group / TaskGroup: structured concurrency, like asyncio's
// TaskGroup (`async with asyncio.TaskGroup() as tg:`).
//
//   co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
//     group.spawn(read_side(conn), "reader");
//     group.spawn(write_side(conn), "writer");
//     co_return;
//   });
//
// - The body runs in the calling task; the group's children run as tasks of
//   their own on the same loop. task_group returns (the body's value) only
//   once every child has finished: no child outlives the group.
// - When a child fails (an exception; a cancelled child is not a failure),
//   the group cancels its other children and the body (if it is still
//   running: it sees Cancelled at its next suspension point).
// - When the body throws, the children are cancelled too.
// - Then, once all have finished: if anything failed, task_group throws a
//   weft::ErrorGroup holding every failure (the body's and each child's, in
//   the order they happened; none is dropped). Otherwise, if the calling task
//   was cancelled from outside, Cancelled. The group's own cancellation of
//   the body is withdrawn, never leaking out as Cancelled.
// - If the calling task is cancelled while waiting for the children, they
//   are cancelled and still waited for.
// - spawn() after the group started shutting down (a failure, or the body
//   finished and the children are being waited for... and then done) throws
//   Exception(invalid_state). Children may spawn more children while the
//   group is open.
//
// The TaskGroup& is valid inside the body and the children it spawns, not
// after task_group returns. Loop thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/task/task.h"

namespace weft {

class TaskGroup {
 public:
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Spawns a child on the group's loop.
  template <class T>
  TaskHandle<T> spawn(Task<T> task, std::string_view name = {}) {
    require_open();
    TaskHandle<T> handle = weft::spawn(parent_.loop(), std::move(task), name);
    adopt(handle);
    return handle;
  }

  // Cancels every child still running (not the body).
  void cancel() noexcept;

  // Children not finished yet.
  std::size_t running() const noexcept { return children_.size(); }
  // A failure happened: the group is cancelling everything.
  bool aborting() const noexcept { return aborting_; }

 private:
  template <class F>
  friend auto task_group(F body)
      -> Task<typename std::invoke_result_t<F&, TaskGroup&>::value_type>;

  // A running child: the waiter node on its task, linked in the group.
  struct Child : detail::TaskWaiter {
    detail::ListHook group_hook;  // in children_ while running
    TaskGroup* group = nullptr;
    TaskRef task;
  };
  class JoinAwaiter;

  explicit TaskGroup(detail::TaskState& parent) noexcept : parent_(parent) {}
  ~TaskGroup();

  void require_open() const;
  void adopt(const TaskRef& child);
  void abort() noexcept;
  static void child_done(detail::TaskWaiter& waiter, detail::TaskState& task);
  // After the body: waits for the children, then throws what is due.
  Task<void> join(std::exception_ptr body_error);

  detail::TaskState& parent_;
  detail::IntrusiveList<Child, &Child::group_hook> children_;  // the running ones
  std::vector<std::exception_ptr> errors_;
  std::coroutine_handle<> joiner_;
  bool aborting_ = false;
  bool joining_ = false;
  bool closed_ = false;
  bool parent_cancel_requested_ = false;
  bool cancelled_while_joining_ = false;
};

template <class F>
auto task_group(F body) -> Task<typename std::invoke_result_t<F&, TaskGroup&>::value_type> {
  using R = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
  detail::TaskState* parent = co_await detail::CurrentRoot{};
  TaskGroup group(*parent);
  std::exception_ptr body_error;
  if constexpr (std::is_void_v<R>) {
    try {
      co_await body(group);
    } catch (...) {
      body_error = std::current_exception();
    }
    co_await group.join(body_error);
  } else {
    std::optional<R> value;
    try {
      value.emplace(co_await body(group));
    } catch (...) {
      body_error = std::current_exception();
    }
    co_await group.join(body_error);
    co_return std::move(*value);
  }
}

}  // namespace weft
