#include "core/task/task_group.h"

#include <memory>

namespace weft {

// Suspends the body's task until no child runs. If that task is cancelled
// meanwhile, the children are cancelled and still waited for.
class TaskGroup::JoinAwaiter : public detail::Suspension {
 public:
  explicit JoinAwaiter(TaskGroup& group) noexcept : Suspension{&kOps}, group_(&group) {}

  bool await_ready() const noexcept { return group_->children_.empty(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) {
    root_ = &detail::root_of(handle);
    if (root_->take_pending_cancel()) {
      group_->cancelled_while_joining_ = true;
      group_->cancel();
      if (group_->children_.empty()) return false;
    }
    group_->joiner_ = handle;
    root_->set_wait(this);
    return true;
  }
  void await_resume() noexcept {
    if (root_ != nullptr) root_->clear_wait(this);
  }

 private:
  static bool cancel(detail::Suspension& self) noexcept {
    TaskGroup& group = *static_cast<JoinAwaiter&>(self).group_;
    group.cancelled_while_joining_ = true;
    group.cancel();
    return true;  // forwarded to the children; still waiting for them
  }
  static void describe(const detail::Suspension& self, std::string& out) {
    out += "task group (" + std::to_string(static_cast<const JoinAwaiter&>(self).group_->children_.size()) +
           " children)";
  }
  static constexpr detail::SuspensionOps kOps{&JoinAwaiter::cancel, &JoinAwaiter::describe};

  TaskGroup* group_;
  detail::TaskState* root_ = nullptr;
};

TaskGroup::~TaskGroup() {
  // Only when the frame holding the group is destroyed before join finished
  // (a pending task destroyed by Loop::close): let go of the children.
  while (!children_.empty()) {
    std::unique_ptr<Child> child(children_.pop_front());
    detail::TaskRefAccess::state(child->task)->remove_waiter(*child);
    child->task.cancel();
  }
}

void TaskGroup::require_open() const {
  if (closed_) throw Exception(Errc::invalid_state, "the task group has finished");
  if (aborting_) throw Exception(Errc::invalid_state, "the task group is shutting down after a failure");
}

void TaskGroup::adopt(const TaskRef& task) {
  auto child = std::make_unique<Child>();
  child->group = this;
  child->task = task;
  child->on_done = &TaskGroup::child_done;
  children_.push_front(child.get());
  detail::TaskRefAccess::state(task)->add_waiter(*child.release());
}

void TaskGroup::cancel() noexcept {
  for (Child* child = children_.front(); child != nullptr; child = children_.next(child)) {
    child->task.cancel();
  }
}

void TaskGroup::abort() noexcept {
  if (aborting_) return;
  aborting_ = true;
  cancel();
  // The body is still running: stop it too (the request is withdrawn in join).
  if (!joining_ && !parent_cancel_requested_) {
    parent_cancel_requested_ = true;
    parent_.request_cancel();
  }
}

void TaskGroup::child_done(detail::TaskWaiter& waiter, detail::TaskState& task) {
  std::unique_ptr<Child> child(static_cast<Child*>(&waiter));
  TaskGroup& group = *child->group;
  group.children_.remove(child.get());
  if (task.done_bits() & detail::TaskState::kFailed) {
    task.mark_retrieved();
    group.errors_.push_back(task.exception());
    group.abort();
  }
  if (group.children_.empty() && group.joiner_) {
    detail::schedule_resume(group.parent_.loop(), std::exchange(group.joiner_, {}));
  }
}

Task<void> TaskGroup::join(std::exception_ptr body_error) {
  joining_ = true;
  bool propagate_cancel = false;
  // Withdraw the group's own cancellation of the body, delivered or not.
  const bool requested_by_group = std::exchange(parent_cancel_requested_, false);
  const int others = requested_by_group ? parent_.uncancel() : parent_.cancelling();
  if (body_error) {
    try {
      std::rethrow_exception(body_error);
    } catch (const Cancelled&) {
      // Ours (the abort) unless someone else cancelled the task too.
      propagate_cancel = !requested_by_group || others > 0;
    } catch (...) {
      errors_.push_back(body_error);
    }
    abort();
  }
  while (!children_.empty()) co_await JoinAwaiter(*this);
  closed_ = true;
  if (!errors_.empty()) throw ErrorGroup(std::move(errors_), "task group");
  if (propagate_cancel || cancelled_while_joining_) throw Cancelled();
}

}  // namespace weft
