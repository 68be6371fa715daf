// weft::this_task: what a coroutine can learn about the task it runs in
// (part of core/task/task.h). Each is co_awaited but never suspends (so it is
// not a point where a cancellation is delivered).
//
//   weft::TaskRef me = co_await weft::this_task::handle();
//   weft::Loop& loop = co_await weft::this_task::loop();
//   auto token = co_await weft::this_task::cancellation_token();
//   co_await weft::run_in_executor(loop, pool, [token] { while (!token.cancelled()) step(); });
//
// cancellation_token() is cancelled when the task is first asked to cancel
// (and stays so: a token cannot be reset, even if the task withdraws the
// request with uncancel()).
#pragma once

#include <coroutine>

#include "core/cancel/cancellation.h"
#include "core/task/promise.h"
#include "core/task/task_handle.h"

namespace weft::this_task {

namespace detail {

template <class Get>
struct Query {
  Get get;
  weft::detail::TaskState* root = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> handle) noexcept {
    root = &weft::detail::root_of(handle);
    return false;
  }
  decltype(auto) await_resume() { return get(*root); }
};

template <class Get>
Query<Get> query(Get get) {
  return Query<Get>{get};
}

}  // namespace detail

// A handle to the current task.
inline auto handle() {
  return detail::query([](weft::detail::TaskState& root) {
    root.add_ref();
    return weft::detail::TaskRefAccess::adopt_ref(&root);
  });
}

inline auto loop() {
  return detail::query([](weft::detail::TaskState& root) -> Loop& { return root.loop(); });
}

inline auto cancellation_token() {
  return detail::query([](weft::detail::TaskState& root) { return root.cancellation_token(); });
}

}  // namespace weft::this_task
