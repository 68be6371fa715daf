// weft::TaskHandle<T>: what spawn() returns — a task that is itself a future
// (part of core/task/task.h).
//
//   weft::TaskHandle<int> h = weft::spawn(loop, fetch(url), "fetch");
//   int n = co_await h;          // in another task: waits, then the value (or throws)
//   h.cancel();                  // any thread
//   h.then([](weft::Result<int> r) { ... });   // a continuation on the task's loop
//
// - Copyable (a reference count on the task's state); copies refer to the same
//   task. weft::TaskRef is the same handle without the value type, for
//   collections of tasks of different types (wait(), TaskGroup).
// - done(), cancelled(), failed(), cancel() and wait() may be called from any
//   thread; result() from any thread once done(); name(), status(), info()
//   and co_await on the loop's thread.
// - result() returns the outcome (a Result<T>: value, exception or
//   cancelled) of a finished task, and throws Exception(invalid_state) before;
//   get() returns the value or throws the failure. Reading the outcome in any
//   way (result, get, co_await, then, gather...) marks it retrieved; a task
//   that failed and whose failure nobody retrieved is reported through the
//   loop's exception handler when its last handle goes ("Task exception was
//   never retrieved"), like asyncio.
// - co_await handle waits for the task; the task is not cancelled if the
//   awaiting task is (it just stops waiting). co_await std::move(handle)
//   owns the task: cancelling the awaiting task cancels it and waits for it
//   to finish. Awaiting a task of another loop: co_await h.to_future().
// - A handle may be released on any thread, but not after its loop was
//   destroyed.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "core/future/future.h"
#include "core/task/promise.h"

namespace weft {

namespace detail {
struct TaskRefAccess;
}

class TaskRef {
 public:
  TaskRef() noexcept = default;
  TaskRef(const TaskRef& other) noexcept : state_(other.state_) {
    if (state_ != nullptr) state_->add_ref();
  }
  TaskRef(TaskRef&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  TaskRef& operator=(const TaskRef& other) noexcept {
    TaskRef copy(other);
    std::swap(state_, copy.state_);
    return *this;
  }
  TaskRef& operator=(TaskRef&& other) noexcept {
    TaskRef moved(std::move(other));
    std::swap(state_, moved.state_);
    return *this;
  }
  ~TaskRef() {
    if (state_ != nullptr) state_->release();
  }

  bool valid() const noexcept { return state_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }

  // Any thread.
  bool done() const noexcept { return state_ != nullptr && state_->done(); }
  bool cancelled() const noexcept { return finished_with(detail::TaskState::kCancelled); }
  bool failed() const noexcept { return finished_with(detail::TaskState::kFailed); }
  // Asks the task to cancel: it sees weft::Cancelled at its current or next
  // suspension point. Returns false if it had finished. Any thread (from
  // another thread the request is posted to the loop).
  bool cancel() noexcept { return state_ != nullptr && state_->cancel_from_any_thread(); }
  // Blocks the calling thread until the task finishes. Not on the loop's
  // thread (the task could never finish).
  void wait() const {
    require_valid("wait");
    state_->wait_done();
  }

  // Loop thread.
  std::uint64_t id() const noexcept { return state_ != nullptr ? state_->id() : 0; }
  std::string name() const { return state_ != nullptr ? state_->name() : std::string(); }
  TaskStatus status() const noexcept {
    return state_ != nullptr ? state_->status() : TaskStatus::pending;
  }
  TaskInfo info() const {
    require_valid("info");
    return state_->info();
  }
  // Cancellation requests not withdrawn (asyncio's Task.cancelling()).
  int cancelling() const noexcept { return state_ != nullptr ? state_->cancelling() : 0; }
  // Withdraws one request; when none is left, a pending one is not delivered.
  int uncancel() noexcept { return state_ != nullptr ? state_->uncancel() : 0; }
  Loop& loop() const {
    require_valid("loop");
    return state_->loop();
  }

  // The exception of a failed task (marks it retrieved); null otherwise.
  std::exception_ptr exception() const {
    if (!failed()) return nullptr;
    state_->mark_retrieved();
    return state_->exception();
  }

  friend bool operator==(const TaskRef& a, const TaskRef& b) noexcept { return a.state_ == b.state_; }

 protected:
  explicit TaskRef(detail::TaskState* adopted) noexcept : state_(adopted) {}

  bool finished_with(std::uint32_t bit) const noexcept {
    if (state_ == nullptr) return false;
    const std::uint32_t bits = state_->done_bits();
    return (bits & detail::TaskState::kDone) && (bits & bit);
  }
  void require_valid(const char* what) const {
    if (state_ == nullptr) {
      throw Exception(Errc::invalid_state, std::string("TaskHandle::") + what + " on an empty handle");
    }
  }
  void require_done(const char* what) const {
    require_valid(what);
    if (!state_->done()) {
      throw Exception(Errc::invalid_state,
                      std::string("TaskHandle::") + what + ": the task has not finished");
    }
  }

  detail::TaskState* state_ = nullptr;

 private:
  friend struct detail::TaskRefAccess;
};

template <class T>
class TaskHandle : public TaskRef {
 public:
  using value_type = T;

  TaskHandle() noexcept = default;

  // The outcome of a finished task (see the header comment). Any thread.
  Result<T> result() const {
    require_done("result");
    state()->mark_retrieved();
    return state()->get_result();
  }
  // The value of a finished task, or throws its failure.
  T get() const { return result().value(); }

  // A future completed with the task's outcome, whose then() runs on the
  // task's loop by default. Any thread.
  Future<T> to_future() const;

  // Runs `f(Result<T>)` on `loop` when the task finishes.
  template <class F>
  void then(Loop& loop, F&& f) const {
    to_future().then(loop, std::forward<F>(f));
  }
  template <class F>
  void then(F&& f) const {
    then(this->loop(), std::forward<F>(f));
  }

 private:
  friend struct detail::TaskRefAccess;
  explicit TaskHandle(detail::TaskState* adopted) noexcept : TaskRef(adopted) {}
  detail::TaskStateT<T>* state() const noexcept { return static_cast<detail::TaskStateT<T>*>(state_); }
};

namespace detail {

struct TaskRefAccess {
  // Wraps a state whose reference the handle takes over.
  template <class T>
  static TaskHandle<T> adopt(TaskState* state) noexcept {
    return TaskHandle<T>(state);
  }
  static TaskRef adopt_ref(TaskState* state) noexcept { return TaskRef(state); }
  static TaskState* state(const TaskRef& ref) noexcept { return ref.state_; }
};

// to_future(): a waiter node that completes a promise, then deletes itself.
template <class T>
class FutureLink final : public TaskWaiter {
 public:
  FutureLink(TaskHandle<T> task, Promise<T> promise)
      : task_(std::move(task)), promise_(std::move(promise)) {
    on_done = [](TaskWaiter& self, TaskState&) { static_cast<FutureLink&>(self).complete(); };
  }

  // Loop thread: waits for the task (or completes at once if it finished).
  static void attach(std::unique_ptr<FutureLink> link) {
    TaskState* state = TaskRefAccess::state(link->task_);
    if (state->done()) {
      link->complete_now();
      return;
    }
    state->add_waiter(*link.release());
  }

 private:
  void complete_now() { promise_.set_result(task_.result()); }
  void complete() {
    std::unique_ptr<FutureLink> self(this);
    complete_now();
  }

  TaskHandle<T> task_;
  Promise<T> promise_;
};

}  // namespace detail

template <class T>
Future<T> TaskHandle<T>::to_future() const {
  require_valid("to_future");
  auto [promise, future] = make_promise<T>();
  Loop& loop = this->loop();
  future.set_home_loop(loop);
  auto link = std::make_unique<detail::FutureLink<T>>(*this, std::move(promise));
  if (loop.in_loop_thread()) {
    detail::FutureLink<T>::attach(std::move(link));
  } else if (!loop.call_soon_threadsafe([link = std::move(link)]() mutable {
               detail::FutureLink<T>::attach(std::move(link));
             })) {
    // The loop is closed: the link was destroyed, breaking the promise.
  }
  return std::move(future);
}

namespace detail {

// co_await on a TaskHandle (see the header comment).
template <class T>
class HandleAwaiter : public Suspension, public TaskWaiter {
 public:
  HandleAwaiter(TaskHandle<T> target, bool owned) noexcept
      : Suspension{&kOps}, target_(std::move(target)), owned_(owned) {
    on_done = &HandleAwaiter::target_done;
  }
  HandleAwaiter(HandleAwaiter&& other) noexcept
      : Suspension{&kOps}, target_(std::move(other.target_)), owned_(other.owned_) {
    on_done = &HandleAwaiter::target_done;
  }
  HandleAwaiter& operator=(HandleAwaiter&&) = delete;
  ~HandleAwaiter() {
    if (registered_) {
      target()->remove_waiter(*this);
      if (owned_) target()->request_cancel();
    }
  }

  bool await_ready() const {
    if (!target_.valid()) throw Exception(Errc::invalid_state, "co_await on an empty TaskHandle");
    return target_.done();
  }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) {
    root_ = &root_of(handle);
    if (&target()->loop() != &root_->loop()) {
      throw Exception(Errc::invalid_state,
                      "co_await on a task of another loop: await handle.to_future() instead");
    }
    if (target() == root_) throw Exception(Errc::invalid_state, "a task cannot await itself");
    if (root_->take_pending_cancel()) {
      if (!owned_) {
        interrupted_ = true;
        return false;
      }
      target()->request_cancel();  // owned: cancel it and wait for it
    }
    handle_ = handle;
    target()->add_waiter(*this);
    registered_ = true;
    root_->set_wait(this);
    return true;
  }

  T await_resume() {
    if (interrupted_) throw Cancelled();
    TaskStateT<T>* state = target();
    state->mark_retrieved();
    const std::uint32_t bits = state->done_bits();
    if (bits & (TaskState::kFailed | TaskState::kCancelled)) state->rethrow_failure();
    if constexpr (!std::is_void_v<T>) return state->get_value();
  }

 private:
  TaskStateT<T>* target() const noexcept {
    return static_cast<TaskStateT<T>*>(TaskRefAccess::state(target_));
  }

  static void target_done(TaskWaiter& waiter, TaskState&) {
    auto& self = static_cast<HandleAwaiter&>(waiter);
    self.registered_ = false;
    self.root_->clear_wait(&self);
    schedule_resume(self.root_->loop(), self.handle_);
  }
  static bool cancel(Suspension& suspension) noexcept {
    auto& self = static_cast<HandleAwaiter&>(suspension);
    if (self.owned_) {
      self.target()->request_cancel();  // forwarded: its outcome will tell
      return true;
    }
    self.target()->remove_waiter(self);
    self.registered_ = false;
    self.interrupted_ = true;
    self.root_->clear_wait(&self);
    schedule_resume(self.root_->loop(), self.handle_);
    return true;
  }
  static void describe(const Suspension& suspension, std::string& out) {
    const auto& self = static_cast<const HandleAwaiter&>(suspension);
    out += "task '" + self.target()->name() + "'";
  }
  static constexpr SuspensionOps kOps{&HandleAwaiter::cancel, &HandleAwaiter::describe};

  TaskHandle<T> target_;
  TaskState* root_ = nullptr;
  std::coroutine_handle<> handle_;
  bool owned_;
  bool registered_ = false;
  bool interrupted_ = false;
};

template <class T>
HandleAwaiter<T> operator co_await(Shielded<TaskHandle<T>>&& shielded) noexcept {
  return HandleAwaiter<T>(std::move(shielded.inner), false);
}

}  // namespace detail

// co_await on a handle in a weft coroutine: an rvalue handle is owned (see
// the header comment).
template <class T>
detail::HandleAwaiter<T> operator co_await(TaskHandle<T>&& handle) noexcept {
  return detail::HandleAwaiter<T>(std::move(handle), true);
}
template <class T>
detail::HandleAwaiter<T> operator co_await(const TaskHandle<T>& handle) noexcept {
  return detail::HandleAwaiter<T>(handle, false);
}

}  // namespace weft
