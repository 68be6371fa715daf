// weft::detail::GatherAll<T>: the engine behind gather() of a vector of
// handles (core/task/combinators.h has the contract).
//
// Built for a million members: it waits on them as a WaiterArray
// (core/task/task_state.h), each member holding a word that names the
// gather's span and its index, so waiting costs no memory per member; a
// member that already has an array waiter (it is in another gather at the
// same time) gets a TaskWaiter node of its own instead. As each member
// finishes its value is moved into the result and its handle released on the
// spot, while the member is still in cache; a second pass over a million
// cold task states would cost more than the gather itself.
//
// Loop thread only; the members belong to the awaiting task's loop.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/task/promise.h"
#include "core/task/task_handle.h"

namespace weft::detail {

// Where the outcomes go: each Result (return_exceptions); nothing (void);
// values in place when T can be default-constructed, else in optionals.
template <class T, bool kReturnExceptions>
struct GatherSlots {
  using type = std::vector<std::optional<Result<T>>>;
};
template <class T>
struct GatherSlots<T, false> {
  using type = std::conditional_t<std::is_default_constructible_v<T>, std::vector<T>,
                                  std::vector<std::optional<T>>>;
};
template <>
struct GatherSlots<void, false> {
  using type = struct NoSlots {};
};

template <class T, bool kReturnExceptions>
class GatherAll : public Suspension, private WaiterArray {
  using Slots = typename GatherSlots<T, kReturnExceptions>::type;
  static constexpr bool kHasSlots = kReturnExceptions || !std::is_void_v<T>;

 public:
  // The gather's result: nothing for void tasks, else a vector in input order.
  using Values = std::conditional_t<kReturnExceptions, std::vector<Result<T>>,
                                    std::conditional_t<std::is_void_v<T>, void, std::vector<T>>>;

  explicit GatherAll(std::vector<TaskHandle<T>>& handles)
      : Suspension{&kOps},
        handles_(handles),
        spans_(new WaiterSpan[(handles.size() + WaiterSpan::kMembers - 1) / WaiterSpan::kMembers]) {
    WaiterArray::on_done = &GatherAll::array_member_done;
    for (std::size_t s = 0; s * WaiterSpan::kMembers < handles.size(); ++s) {
      spans_[s].array = this;
      spans_[s].first = s * WaiterSpan::kMembers;
    }
    if constexpr (kHasSlots) slots_.resize(handles.size());
    for (std::size_t i = 0; i < handles.size(); ++i) {
      if (!handles[i].valid()) throw Exception(Errc::invalid_argument, "gather of an empty TaskHandle");
    }
    try {
      for (std::size_t i = 0; i < handles.size(); ++i) {
        TaskState* member = TaskRefAccess::state(handles[i]);
        if (member->done()) {
          collect(i, *member);
          continue;
        }
        const std::uintptr_t word = word_for(i);
        if (word == 0 || !member->add_array_waiter(word)) {
          // Already in another gather (or twice in this one): a node of its own.
          auto node = std::make_unique<Node>();
          node->owner = this;
          node->index = i;
          node->on_done = &GatherAll::node_member_done;
          nodes_.push_back(std::move(node));
          member->add_waiter(*nodes_.back());
        }
        ++remaining_;
      }
    } catch (...) {
      stop_waiting();
      throw;
    }
  }
  GatherAll(const GatherAll&) = delete;
  GatherAll& operator=(const GatherAll&) = delete;
  ~GatherAll() {
    stop_waiting();
    if (waiting_) root_->clear_wait(this);
  }

  bool await_ready() const noexcept { return remaining_ == 0; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) {
    root_ = &root_of(handle);
    if (root_->take_pending_cancel()) {
      cancel_members(true);
      if (remaining_ == 0) return false;
    }
    handle_ = handle;
    waiting_ = true;
    root_->set_wait(this);
    return true;
  }
  void await_resume() {
    if (root_ != nullptr) root_->clear_wait(this);
  }

  // After the wait: the values (moved out), or the failure thrown.
  Values take() {
    if (cancelled_) throw Cancelled();
    if (failure_) std::rethrow_exception(failure_);
    if (failed_by_cancel_) throw Cancelled();
    if constexpr (kReturnExceptions) {
      std::vector<Result<T>> results;
      results.reserve(slots_.size());
      for (auto& slot : slots_) results.push_back(std::move(*slot));
      return results;
    } else if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (std::is_same_v<Slots, std::vector<T>>) {
      return std::move(slots_);
    } else {
      std::vector<T> values;
      values.reserve(slots_.size());
      for (auto& slot : slots_) values.push_back(std::move(*slot));
      return values;
    }
  }

 private:
  // A member that was already in another gather's array.
  struct Node : TaskWaiter {
    GatherAll* owner = nullptr;
    std::size_t index = 0;
  };

  // Member i's array word (0: it cannot have one).
  std::uintptr_t word_for(std::size_t i) const noexcept {
    return spans_[i / WaiterSpan::kMembers].word_for(i % WaiterSpan::kMembers);
  }

  // Leaves every member still waited on (the awaiting frame is destroyed
  // before all finished, or the constructor failed half-way). A member not
  // collected yet still has its handle; it holds this gather's word unless
  // it is waited on through a node (or was not reached).
  void stop_waiting() noexcept {
    if (remaining_ == 0) return;
    for (std::size_t i = 0; i < handles_.size(); ++i) {
      if (handles_[i].valid()) TaskRefAccess::state(handles_[i])->remove_array_waiter(word_for(i));
    }
    for (auto& node : nodes_) {
      if (node->hook.linked()) TaskRefAccess::state(handles_[node->index])->remove_waiter(*node);
    }
  }

  static void array_member_done(WaiterArray& array, std::size_t index, TaskState& member) {
    static_cast<GatherAll&>(array).member_done(index, member);
  }
  static void node_member_done(TaskWaiter& waiter, TaskState& member) {
    Node& node = static_cast<Node&>(waiter);
    node.owner->member_done(node.index, member);
  }

  void member_done(std::size_t index, TaskState& member) {
    GatherAll& self = *this;
    --self.remaining_;
    self.collect(index, member);
    if (self.waiting_ && self.remaining_ == 0) {
      self.waiting_ = false;
      self.root_->clear_wait(&self);
      schedule_resume(self.root_->loop(), self.handle_);
    }
  }

  // Takes member `index`'s outcome, then lets go of its handle.
  void collect(std::size_t index, TaskState& member) {
    auto& state = static_cast<TaskStateT<T>&>(member);
    const std::uint32_t bits = state.done_bits();
    if constexpr (kReturnExceptions) {
      state.mark_retrieved();
      slots_[index].emplace(state.get_result());
    } else if (bits & (TaskState::kFailed | TaskState::kCancelled)) {
      // The first failure (a member cancelled by someone else counts) is
      // thrown; the others are cancelled. Later failures stay unretrieved
      // and are reported when their last handle goes.
      if (!failure_ && !failed_by_cancel_ && !cancelling_) {
        state.mark_retrieved();
        if (bits & TaskState::kFailed) {
          failure_ = state.exception();
        } else {
          failed_by_cancel_ = true;
        }
        cancel_members(false);
      }
    } else if constexpr (!std::is_void_v<T>) {
      state.mark_retrieved();
      if constexpr (std::is_same_v<Slots, std::vector<T>>) {
        slots_[index] = state.get_value();
      } else {
        slots_[index].emplace(state.get_value());
      }
    }
    handles_[index] = TaskHandle<T>();
  }

  // Cancels every member still running; `by_waiter`: the gathering task was
  // cancelled (it throws Cancelled once all have finished).
  void cancel_members(bool by_waiter) noexcept {
    if (by_waiter) cancelled_ = true;
    if (!kReturnExceptions || by_waiter) cancelling_ = true;
    for (auto& h : handles_) {
      if (h.valid()) TaskRefAccess::state(h)->request_cancel();
    }
  }

  static bool cancel(Suspension& suspension) noexcept {
    auto& self = static_cast<GatherAll&>(suspension);
    self.cancel_members(true);  // forwarded: still waits for every member
    return true;
  }
  static void describe(const Suspension& suspension, std::string& out) {
    const auto& self = static_cast<const GatherAll&>(suspension);
    out += "gather (" + std::to_string(self.remaining_) + " of " + std::to_string(self.handles_.size()) +
           " tasks)";
  }
  static constexpr SuspensionOps kOps{&GatherAll::cancel, &GatherAll::describe};

  std::vector<TaskHandle<T>>& handles_;
  // The words members hold name these (one per WaiterSpan::kMembers members).
  std::unique_ptr<WaiterSpan[]> spans_;
  std::vector<std::unique_ptr<Node>> nodes_;
  Slots slots_{};
  std::exception_ptr failure_;
  std::size_t remaining_ = 0;
  TaskState* root_ = nullptr;
  std::coroutine_handle<> handle_;
  bool waiting_ = false;
  bool cancelled_ = false;
  bool cancelling_ = false;
  bool failed_by_cancel_ = false;
};

}  // namespace weft::detail
