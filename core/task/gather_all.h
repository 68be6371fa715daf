// weft::detail::GatherAll<T>: the engine behind gather() of a vector of
// handles (core/task/combinators.h has the contract).
//
// Built for a million members: one 32-byte waiter node per member (one
// allocation for all), and as each member finishes its value is moved into
// the result and its handle released on the spot, while the member is still
// in cache; a second pass over a million cold task states would cost more
// than the gather itself.
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
class GatherAll : public Suspension {
  using Slots = typename GatherSlots<T, kReturnExceptions>::type;
  static constexpr bool kHasSlots = kReturnExceptions || !std::is_void_v<T>;

 public:
  // The gather's result: nothing for void tasks, else a vector in input order.
  using Values = std::conditional_t<kReturnExceptions, std::vector<Result<T>>,
                                    std::conditional_t<std::is_void_v<T>, void, std::vector<T>>>;

  explicit GatherAll(std::vector<TaskHandle<T>>& handles)
      : Suspension{&kOps}, handles_(handles), nodes_(std::make_unique<Node[]>(handles.size() + 1)) {
    if constexpr (kHasSlots) slots_.resize(handles.size());
    nodes_[0].owner = this;  // see owner()
    for (std::size_t i = 0; i < handles.size(); ++i) {
      if (!handles[i].valid()) throw Exception(Errc::invalid_argument, "gather of an empty TaskHandle");
    }
    for (std::size_t i = 0; i < handles.size(); ++i) {
      TaskState* member = TaskRefAccess::state(handles[i]);
      if (member->done()) {
        collect(i, *member);
        continue;
      }
      Node& node = nodes_[i + 1];
      node.index = static_cast<std::uint32_t>(i);
      node.on_done = &GatherAll::member_done;
      member->add_waiter(node);
      ++remaining_;
    }
  }
  GatherAll(const GatherAll&) = delete;
  GatherAll& operator=(const GatherAll&) = delete;
  ~GatherAll() {
    // Only if the awaiting frame is destroyed before every member finished.
    for (std::size_t i = 0; i < handles_.size(); ++i) {
      if (handles_[i].valid() && !handles_[i].done()) {
        TaskRefAccess::state(handles_[i])->remove_waiter(nodes_[i + 1]);
      }
    }
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
  struct Node : TaskWaiter {
    union {
      std::uint32_t index = 0;  // nodes_[index + 1]: a member's node
      GatherAll* owner;         // nodes_[0]
    };
  };
  static_assert(sizeof(Node) == 4 * sizeof(void*), "a member's node stays 32 bytes");

  // nodes_[0] holds no member: it points back at the engine, so a member's
  // node (nodes_[index + 1]) finds it without a pointer of its own.
  static GatherAll& owner(Node& node) noexcept {
    Node* first = &node - (node.index + 1);
    return *first->owner;
  }

  static void member_done(TaskWaiter& waiter, TaskState& member) {
    Node& node = static_cast<Node&>(waiter);
    GatherAll& self = owner(node);
    --self.remaining_;
    self.collect(node.index, member);
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
  std::unique_ptr<Node[]> nodes_;
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
