// weft::spawn: start a Task<T> as a task of its own on a loop (part of
// core/task/task.h), like asyncio.create_task.
//
//   auto h = weft::spawn(loop, download(url), "download");
//   auto h2 = weft::spawn(loop, worker(), {.name = "worker", .token = stop.token()});
//
// - Loop thread. The task is scheduled at once (its first step runs from the
//   ready queue, in order with other callbacks) and registered with the loop
//   (Loop::tasks(), shutdown(), close()).
// - Without a loop argument: the loop running on this thread
//   (Exception(invalid_state) if none).
// - SpawnOptions::token cancels the task when that token is cancelled, from
//   any thread.
// - The task keeps itself alive until it finishes; dropping the handle does
//   not cancel it (keep the handle, or its failure is only reported).
//
// run_until_complete(loop, task) spawns a task and runs the loop until it
// finishes, returning its outcome (the host-side equivalent of asyncio.run's
// core).
#pragma once

#include <string_view>
#include <utility>

#include "core/cancel/cancellation.h"
#include "core/future/future.h"
#include "core/task/promise.h"
#include "core/task/task_handle.h"

namespace weft {

struct SpawnOptions {
  std::string_view name;      // copied; empty: "Task-<id>"
  CancellationToken token;    // cancels the task when cancelled
};

namespace detail {

template <class T>
TaskHandle<T> spawn_on(Loop& loop, Task<T>& task, std::string_view name, const CancellationToken* token) {
  if (!loop.in_loop_thread()) {
    throw Exception(Errc::wrong_thread, "spawn must be called on the loop's thread");
  }
  if (loop.is_closed()) throw Exception(Errc::closed);
  auto handle = TaskAccess::release(task);
  if (!handle) throw Exception(Errc::invalid_state, "spawn of an empty Task");
  TaskStateT<T>& state = handle.promise().state();
  try {
    state.start_as_root(loop, name);
  } catch (...) {
    handle.destroy();
    throw;
  }
  TaskHandle<T> result = TaskRefAccess::adopt<T>(&state);
  if (token != nullptr) state.link_token(*token);
  state.queue_first_step();
  return result;
}

}  // namespace detail

template <class T>
TaskHandle<T> spawn(Loop& loop, Task<T> task, const SpawnOptions& options) {
  return detail::spawn_on(loop, task, options.name, &options.token);
}

template <class T>
TaskHandle<T> spawn(Loop& loop, Task<T> task, std::string_view name = {}) {
  return detail::spawn_on(loop, task, name, nullptr);
}

template <class T>
TaskHandle<T> spawn(Task<T> task, std::string_view name = {}) {
  Loop* loop = Loop::current();
  if (loop == nullptr) {
    throw Exception(Errc::invalid_state, "spawn without a loop: no loop runs on this thread");
  }
  return detail::spawn_on(*loop, task, name, nullptr);
}

// Runs `loop` until the task finishes and returns its outcome (see Future's
// run_until_complete for what happens if the loop stops first).
template <class T>
Result<T> run_until_complete(Loop& loop, const TaskHandle<T>& handle) {
  Future<T> future = handle.to_future();
  return run_until_complete(loop, future);
}

template <class T>
Result<T> run_until_complete(Loop& loop, Task<T> task) {
  TaskHandle<T> handle = spawn(loop, std::move(task));
  return run_until_complete(loop, handle);
}

}  // namespace weft
