// co_await on a weft::Future<T> inside a task (part of core/task/task.h).
//
//   int n = co_await weft::run_in_executor(loop, pool, [] { return count(); });
//
// - The future's continuation runs on the task's loop and resumes the task
//   there, whichever thread completes the future. A future that is already
//   complete does not suspend the task.
// - The future belongs to the await (an lvalue future is moved from): if the
//   task is cancelled while waiting, the future is cancelled, and the task
//   sees the future's outcome (Cancelled, or the value if the future had
//   already completed; a cancellation that came too late is delivered at the
//   task's next suspension point instead).
// - co_await weft::shield(std::move(future)) stops waiting when the task is
//   cancelled (it throws Cancelled) but leaves the future to complete; its
//   result is then dropped.
#pragma once

#include <coroutine>
#include <optional>
#include <string>
#include <utility>

#include "core/future/future.h"
#include "core/task/promise.h"

namespace weft::detail {

template <class T>
class FutureAwaiter : public Suspension {
 public:
  FutureAwaiter(Future<T> future, bool shielded) noexcept
      : Suspension{&kOps}, future_(std::move(future)), shielded_(shielded) {}
  FutureAwaiter(FutureAwaiter&& other) noexcept
      : Suspension{&kOps}, future_(std::move(other.future_)), shielded_(other.shielded_) {}
  FutureAwaiter& operator=(FutureAwaiter&&) = delete;
  ~FutureAwaiter() {
    // The frame is destroyed while waiting (a pending task destroyed by
    // close()): nobody will read the result.
    if (waiting_) {
      if (!shielded_) future_.cancel();
      stop_waiting();
    }
  }

  bool await_ready() const noexcept { return future_.ready(); }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) {
    root_ = &root_of(handle);
    if (root_->take_pending_cancel()) {
      if (!shielded_) future_.cancel();
      interrupted_ = true;
      return false;
    }
    handle_ = handle;
    future_.then(root_->loop(), Continuation{this});
    waiting_ = true;
    root_->set_wait(this);
    return true;
  }

  T await_resume() {
    if (interrupted_) throw Cancelled();
    if (result_) return std::move(*result_).value();
    return future_.result().value();  // complete before the await
  }

 private:
  struct Continuation {
    FutureAwaiter* self;
    void operator()(Result<T>&& result) const { self->on_result(std::move(result)); }
  };

  void on_result(Result<T>&& result) {
    waiting_ = false;
    root_->clear_wait(this);
    result_.emplace(std::move(result));
    handle_.resume();
  }

  // The continuation will run (it is attached, or already queued) but must no
  // longer touch this awaiter.
  void stop_waiting() noexcept {
    waiting_ = false;
    root_->clear_wait(this);
    future_.state_->replace_continuation([](Result<T>&&) {});
  }

  static bool cancel(Suspension& self) noexcept {
    auto& awaiter = static_cast<FutureAwaiter&>(self);
    if (!awaiter.shielded_) return awaiter.future_.cancel();  // its continuation brings Cancelled
    awaiter.stop_waiting();
    awaiter.interrupted_ = true;
    schedule_resume(awaiter.root_->loop(), awaiter.handle_);
    return true;
  }
  static void describe(const Suspension& self, std::string& out) {
    out += static_cast<const FutureAwaiter&>(self).shielded_ ? "shielded future" : "future";
  }
  static constexpr SuspensionOps kOps{&FutureAwaiter::cancel, &FutureAwaiter::describe};

  Future<T> future_;
  std::optional<Result<T>> result_;
  std::coroutine_handle<> handle_;
  TaskState* root_ = nullptr;
  bool shielded_;
  bool waiting_ = false;
  bool interrupted_ = false;
};

template <class T>
FutureAwaiter<T> operator co_await(Shielded<Future<T>>&& shielded) noexcept {
  return FutureAwaiter<T>(std::move(shielded.inner), true);
}

}  // namespace weft::detail

namespace weft {

// co_await on a future in a weft coroutine (an lvalue future is moved from).
template <class T>
detail::FutureAwaiter<T> operator co_await(Future<T>&& future) noexcept {
  return detail::FutureAwaiter<T>(std::move(future), false);
}
template <class T>
detail::FutureAwaiter<T> operator co_await(Future<T>& future) noexcept {
  return detail::FutureAwaiter<T>(std::move(future), false);
}

}  // namespace weft
