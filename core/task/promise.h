// weft::Task<T> and its promise: a lazily started C++20 coroutine.
//
// Include "core/task/task.h", which brings the pieces together (the adapters
// for co_await on futures and task handles live in their own headers).
//
// A Task<T> does nothing until it is started, by exactly one of:
// - spawn(loop, std::move(task), name): it becomes a root task on `loop`,
//   scheduled at once (like asyncio.create_task), with a TaskHandle;
// - co_await std::move(task) inside another weft coroutine: it becomes a child
//   that runs inline, in the awaiting task, and hands its value (or exception)
//   to the awaiter.
//
// Stack depth: starting a child resumes it inside the parent's await; if the
// child finishes without suspending, the await returns false and the parent
// simply continues (no frame stays on the stack), so a loop of a million
// synchronous child awaits runs in constant stack at any optimisation level
// (gcc turns symmetric transfer into a real tail call only when optimising).
// A child that suspended resumes its parent directly when it finishes.
//
// co_await works on Task, TaskHandle and Future operands through operator
// co_await overloads found by argument-dependent lookup, and on any other
// awaitable as usual. (There is deliberately no await_transform: with one, gcc
// keeps both the operand and the awaiter in the frame.)
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "core/detail/frame_pool.h"
#include "core/error.h"
#include "core/task/task_state.h"

namespace weft {

template <class T = void>
class Task;

namespace detail {

template <class T>
class TaskPromise;

// What shield() returns: an awaitable whose wait ends when the awaiting task
// is cancelled, without cancelling the operation itself (core/task/shield.h).
template <class X>
struct Shielded {
  X inner;
};

// Awaiters in weft coroutines reach the task through their promise.
template <class P>
concept WeftPromise = requires(P& promise) {
  { promise.root() } -> std::same_as<TaskState*>;
};

// The task a weft coroutine runs in (for awaiters).
template <class P>
TaskState& root_of(std::coroutine_handle<P> handle) noexcept {
  static_assert(WeftPromise<P>, "weft awaitables can be co_awaited only inside weft::Task or weft::Generator coroutines");
  return *handle.promise().root();
}

struct TaskAccess;

// Whether P is a Task's promise (its state precedes its frame).
template <class P>
inline constexpr bool kIsTaskPromise = false;
template <class T>
inline constexpr bool kIsTaskPromise<TaskPromise<T>> = true;

template <class T>
class TaskPromiseBase {
 public:
  // The frame comes with the task's state in front of it, from the pool.
  static void* operator new(std::size_t frame_bytes) {
    constexpr std::size_t header = TaskStateT<T>::header_bytes();
    const std::size_t total = header + frame_bytes;
    void* block = allocate_frame(total);
    ::new (block) TaskStateT<T>();
    return static_cast<char*>(block) + header;
  }
  // The frame is gone; the block goes when the state's last reference does.
  static void operator delete(void* frame, std::size_t frame_bytes) noexcept {
    TaskStateT<T>::from_frame(frame)->frame_destroyed(frame_bytes);
  }

  TaskStateT<T>& state() noexcept {
    return *TaskStateT<T>::from_frame(
        std::coroutine_handle<TaskPromise<T>>::from_promise(static_cast<TaskPromise<T>&>(*this))
            .address());
  }
  TaskState* root() noexcept { return state().root(); }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<TaskPromise<T>> self) noexcept {
      TaskState& state = self.promise().state();
      if (state.is_root()) {
        state.complete_root();
        self.destroy();  // the state stays while handles hold it
        return std::noop_coroutine();
      }
      if (state.flags() & TaskState::kInlineStart) {
        // Finished inside the parent's start: the parent's await returns false.
        state.set_flags(TaskState::kCompletedInline);
        return std::noop_coroutine();
      }
      return state.continuation();
    }
    void await_resume() const noexcept {}
  };

  // Lazy: spawn or co_await starts it.
  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { state().set_exception(std::current_exception()); }
};

template <class T>
class TaskPromise : public TaskPromiseBase<T> {
 public:
  Task<T> get_return_object() noexcept;
  template <class U = T>
  void return_value(U&& value) {
    this->state().set_value(std::forward<U>(value));
  }
};

template <>
class TaskPromise<void> : public TaskPromiseBase<void> {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() { state().set_value(); }
};

// co_await std::move(task): starts the child inline (see the header comment).
template <class T>
class ChildAwaiter {
 public:
  explicit ChildAwaiter(std::coroutine_handle<TaskPromise<T>> child) noexcept : child_(child) {}
  ChildAwaiter(ChildAwaiter&& other) noexcept : child_(std::exchange(other.child_, {})) {}
  ChildAwaiter& operator=(ChildAwaiter&&) = delete;
  ~ChildAwaiter() {
    if (child_) child_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> parent) {
    TaskState& state = child_.promise().state();
    state.start_as_child(root_of(parent), parent);
    child_.resume();
    if (state.flags() & TaskState::kCompletedInline) return false;
    state.clear_flags(TaskState::kInlineStart);
    return true;
  }
  T await_resume() { return child_.promise().state().take_for_parent(); }

 private:
  std::coroutine_handle<TaskPromise<T>> child_;
};

}  // namespace detail

// A coroutine returning T (see the header comment). Move-only; destroying a
// Task that was never started destroys its coroutine unrun.
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  Task() noexcept = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // False for a default-constructed or moved-from Task.
  bool valid() const noexcept { return static_cast<bool>(handle_); }

 private:
  friend class detail::TaskPromise<T>;
  friend struct detail::TaskAccess;
  explicit Task(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}
  void reset() noexcept {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace detail {

struct TaskAccess {
  template <class T>
  static std::coroutine_handle<TaskPromise<T>> release(Task<T>& task) noexcept {
    return std::exchange(task.handle_, {});
  }
};

template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

// co_await CurrentRoot{} gives the task a coroutine runs in, without
// suspending (not a suspension point: no cancellation is delivered).
struct CurrentRoot {
  TaskState* root = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) noexcept {
    root = &root_of(handle);
    return false;
  }
  TaskState* await_resume() const noexcept { return root; }
};

}  // namespace detail

// co_await std::move(task) in a weft coroutine: runs it as a child.
template <class T>
detail::ChildAwaiter<T> operator co_await(Task<T>&& task) {
  auto handle = detail::TaskAccess::release(task);
  if (!handle) throw Exception(Errc::invalid_state, "co_await on an empty Task");
  return detail::ChildAwaiter<T>(handle);
}

}  // namespace weft
