// weft::shield: protect an awaited operation from the awaiting task's
// cancellation (part of core/task/task.h), like asyncio.shield.
//
//   auto saved = co_await weft::shield(std::move(commit_future));
//
// If the awaiting task is cancelled, the await ends at once with Cancelled,
// but the operation goes on: a future still completes (its result is then
// dropped), a task keeps running (its handle can still be awaited).
// shield(Task) spawns the task on the running loop first.
#pragma once

#include <utility>

#include "core/future/future.h"
#include "core/task/future_awaiter.h"
#include "core/task/spawn.h"
#include "core/task/task_handle.h"

namespace weft {

template <class T>
detail::Shielded<Future<T>> shield(Future<T> future) noexcept {
  return {std::move(future)};
}

template <class T>
detail::Shielded<TaskHandle<T>> shield(TaskHandle<T> handle) noexcept {
  return {std::move(handle)};
}

template <class T>
detail::Shielded<TaskHandle<T>> shield(Task<T> task) {
  return {spawn(std::move(task))};
}

}  // namespace weft
