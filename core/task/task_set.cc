#include "core/task/task_set.h"

#include "core/loop/loop_access.h"

namespace weft::detail {

const SuspensionOps TaskSet::kOps{&TaskSet::cancel, &TaskSet::describe};

TaskSet::TaskSet(std::vector<TaskState*> members, Options options)
    : Suspension{&kOps},
      TimerNode(&TaskSet::on_deadline),
      members_(std::move(members)),
      deadline_(options.deadline),
      owned_(options.owned),
      cancel_on_failure_(options.cancel_on_failure) {
  const std::size_t n = members_.size();
  nodes_ = std::make_unique<Node[]>(n);
  order_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Node& node = nodes_[i];
    node.set = this;
    node.index = static_cast<std::uint32_t>(i);
    node.on_done = &TaskSet::on_member_done;
    if (members_[i]->done()) {
      record(node.index);
    } else {
      members_[i]->add_waiter(node);
      node.registered = true;
    }
  }
}

TaskSet::~TaskSet() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (nodes_[i].registered) members_[i]->remove_waiter(nodes_[i]);
  }
  if (armed()) LoopAccess::cancel_timer_node(root_->loop(), *this);
  if (waiting_) root_->clear_wait(this);
}

void TaskSet::record(std::uint32_t index) noexcept {
  order_.push_back(index);
  const std::uint32_t bits = members_[index]->done_bits();
  const bool failed = bits & TaskState::kFailed;
  const bool cancelled = bits & TaskState::kCancelled;
  if (failed && first_exception_ < 0) first_exception_ = index;
  if ((failed || cancelled) && first_failure_ < 0 && !cancelling_) {
    first_failure_ = index;
    if (cancel_on_failure_) cancel_members();
  }
}

void TaskSet::cancel_members() noexcept {
  cancelling_ = true;
  for (TaskState* member : members_) member->request_cancel();
}

bool TaskSet::satisfied() const noexcept {
  if (timed_out_) return true;
  const bool all = order_.size() == members_.size();
  if (cancelled_) return all;
  switch (until_) {
    case Until::all_done:
      return all;
    case Until::first_done:
      return !order_.empty() || all;
    case Until::first_exception:
      return first_exception_ >= 0 || all;
    case Until::next_done:
      return order_.size() > taken_;
  }
  return all;
}

bool TaskSet::suspend(TaskState& root, std::coroutine_handle<> handle) {
  root_ = &root;
  if (root.cancel_pending()) {
    if (!owned_) return false;  // await_resume throws it
    root.take_pending_cancel();
    cancelled_ = true;
    cancel_members();
    if (satisfied()) return false;
  }
  handle_ = handle;
  if (deadline_ && !armed()) {
    if (*deadline_ <= root.loop().time()) {
      timed_out_ = true;
      return false;
    }
    LoopAccess::arm_timer_node(root.loop(), *this, *deadline_);
  }
  waiting_ = true;
  root.set_wait(this);
  return true;
}

void TaskSet::resume() {
  if (root_ == nullptr) return;  // satisfied at once, never suspended
  if (cancelled_) throw Cancelled();
  if (!owned_ && root_->take_pending_cancel()) throw Cancelled();
}

void TaskSet::wake() noexcept {
  waiting_ = false;
  if (armed()) LoopAccess::cancel_timer_node(root_->loop(), *this);
  root_->clear_wait(this);
  schedule_resume(root_->loop(), handle_);
}

void TaskSet::on_member_done(TaskWaiter& waiter, TaskState&) {
  Node& node = static_cast<Node&>(waiter);
  TaskSet& set = *node.set;
  node.registered = false;
  set.record(node.index);
  if (set.waiting_ && set.satisfied()) set.wake();
}

void TaskSet::on_deadline(TimerNode& node) {
  TaskSet& set = static_cast<TaskSet&>(node);
  set.timed_out_ = true;
  if (set.waiting_) set.wake();
}

bool TaskSet::cancel(Suspension& self) noexcept {
  TaskSet& set = static_cast<TaskSet&>(self);
  if (set.owned_) {
    // Forwarded: wait for the members to finish, then throw Cancelled.
    set.cancelled_ = true;
    set.cancel_members();
    if (set.waiting_ && set.satisfied()) set.wake();
    return true;
  }
  if (set.waiting_) set.wake();  // await_resume throws the pending request
  return false;
}

void TaskSet::describe(const Suspension& self, std::string& out) {
  const TaskSet& set = static_cast<const TaskSet&>(self);
  out += std::to_string(set.members_.size() - set.order_.size()) + " of " +
         std::to_string(set.members_.size()) + " tasks";
}

}  // namespace weft::detail
