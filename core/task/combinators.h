// Waiting for several tasks: gather, wait, when_any (asyncio's gather and
// wait). as_completed, an async generator, is in core/generator/as_completed.h.
//
//   std::vector<int> sizes = co_await weft::gather(std::move(handles));
//   auto [a, b] = co_await weft::gather(fetch(x), parse(y));     // Tasks: spawned here
//   auto results = co_await weft::gather(std::move(handles), weft::return_exceptions);
//   auto [done, pending] = co_await weft::wait(handles, weft::ReturnWhen::first_completed, 1s);
//   std::size_t first = co_await weft::when_any(handles);
//
// gather
// - Waits for every task and returns their values in the order given (a
//   vector for a vector, a tuple for several arguments; a void task gives
//   std::monostate in a tuple, and a vector of void tasks gives nothing).
// - The tasks belong to the gather: when one fails (or is cancelled by
//   someone else), the others are cancelled, gather waits for them all, then
//   throws that first failure. If the gathering task is cancelled, all the
//   tasks are cancelled, waited for, and Cancelled is thrown.
// - With weft::return_exceptions nothing is cancelled on failure: each slot
//   holds that task's Result (value, exception or cancelled).
// - Task arguments are spawned on the running loop (named "gather").
// - Several arguments with return_exceptions: gather(weft::return_exceptions,
//   a, b) gives a tuple of Results.
//
// wait(handles, return_when, timeout)
// - Returns {done, pending} (each in the order given) once return_when holds
//   (first_completed, first_exception — a task failed with an exception, or
//   all finished — or all_completed) or the timeout passes. Never cancels
//   the tasks; if the waiting task is cancelled it just stops waiting.
//
// when_any(handles): the index of the first task to finish (tasks already
// finished count, the first of them in the order given); the others go on.
//
// Loop thread; the tasks must belong to the awaiting task's loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/task/gather_all.h"
#include "core/task/spawn.h"
#include "core/task/task_set.h"

namespace weft {

struct ReturnExceptions {};
inline constexpr ReturnExceptions return_exceptions{};

enum class ReturnWhen { first_completed, first_exception, all_completed };

template <class H>
struct WaitResult {
  std::vector<H> done;
  std::vector<H> pending;
};

namespace detail {

template <class T>
using GatherSlot = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
struct HandleOf {
  using type = TaskHandle<T>;
};

// A gather argument as a handle: Tasks are spawned on the running loop.
template <class T>
TaskHandle<T> to_handle(TaskHandle<T> handle) {
  return handle;
}
template <class T>
TaskHandle<T> to_handle(Task<T> task) {
  return spawn(std::move(task), "gather");
}

template <class X>
struct HandleValue;
template <class T>
struct HandleValue<TaskHandle<T>> {
  using type = T;
};
template <class T>
struct HandleValue<Task<T>> {
  using type = T;
};
template <class X>
using handle_value_t = typename HandleValue<std::remove_cvref_t<X>>::type;

// A TaskHandle or a Task.
template <class X>
concept Gatherable = requires { typename HandleValue<std::remove_cvref_t<X>>::type; };

// Throws the failure of member `index` (marks it retrieved).
inline void rethrow_member(TaskState* member) {
  member->mark_retrieved();
  member->rethrow_failure();
}

template <class T>
GatherSlot<T> take_value(const TaskHandle<T>& handle) {
  auto* state = static_cast<TaskStateT<T>*>(TaskRefAccess::state(handle));
  state->mark_retrieved();
  if constexpr (std::is_void_v<T>) {
    return std::monostate{};
  } else {
    return state->get_value();
  }
}

template <class... T>
Task<std::tuple<GatherSlot<T>...>> gather_tuple(std::tuple<TaskHandle<T>...> handles) {
  std::vector<TaskState*> members = std::apply(
      [](const auto&... h) { return std::vector<TaskState*>{TaskRefAccess::state(h)...}; }, handles);
  TaskSet set(members, {.owned = true, .cancel_on_failure = true, .deadline = std::nullopt});
  co_await set.until(TaskSet::Until::all_done);
  if (set.first_failure() >= 0) rethrow_member(members[static_cast<std::size_t>(set.first_failure())]);
  co_return std::apply([](const auto&... h) { return std::tuple<GatherSlot<T>...>(take_value(h)...); },
                       handles);
}

template <class... T>
Task<std::tuple<Result<T>...>> gather_tuple_results(std::tuple<TaskHandle<T>...> handles) {
  std::vector<TaskState*> members = std::apply(
      [](const auto&... h) { return std::vector<TaskState*>{TaskRefAccess::state(h)...}; }, handles);
  TaskSet set(members, {.owned = true, .cancel_on_failure = false, .deadline = std::nullopt});
  co_await set.until(TaskSet::Until::all_done);
  co_return std::apply([](const auto&... h) { return std::tuple<Result<T>...>(h.result()...); },
                       handles);
}

}  // namespace detail

template <class T>
Task<typename detail::GatherAll<T, false>::Values> gather(std::vector<TaskHandle<T>> handles) {
  detail::GatherAll<T, false> all(handles);
  co_await all;
  co_return all.take();
}

template <class T>
Task<std::vector<Result<T>>> gather(std::vector<TaskHandle<T>> handles, ReturnExceptions) {
  detail::GatherAll<T, true> all(handles);
  co_await all;
  co_return all.take();
}

// Vectors of Tasks are spawned on the running loop first.
template <class T>
auto gather(std::vector<Task<T>> tasks) {
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(detail::to_handle(std::move(t)));
  return gather(std::move(handles));
}

template <class T>
auto gather(std::vector<Task<T>> tasks, ReturnExceptions) {
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(detail::to_handle(std::move(t)));
  return gather(std::move(handles), return_exceptions);
}

// Several handles or tasks (of any types): a tuple of their values.
template <detail::Gatherable First, detail::Gatherable... Rest>
auto gather(First&& first, Rest&&... rest)
    -> Task<std::tuple<detail::GatherSlot<detail::handle_value_t<First>>,
                       detail::GatherSlot<detail::handle_value_t<Rest>>...>> {
  return detail::gather_tuple(std::make_tuple(detail::to_handle(std::forward<First>(first)),
                                              detail::to_handle(std::forward<Rest>(rest))...));
}

template <detail::Gatherable... X>
auto gather(ReturnExceptions, X&&... args)
    -> Task<std::tuple<Result<detail::handle_value_t<X>>...>> {
  return detail::gather_tuple_results(std::make_tuple(detail::to_handle(std::forward<X>(args))...));
}

template <class H>
Task<WaitResult<H>> wait(std::vector<H> handles, ReturnWhen return_when = ReturnWhen::all_completed,
                         std::optional<Duration> timeout = std::nullopt) {
  detail::TaskState* root = co_await detail::CurrentRoot{};
  detail::TaskSet::Options options;
  if (timeout) options.deadline = root->loop().time() + *timeout;
  detail::TaskSet set(detail::TaskSet::states_of(handles), options);
  using Until = detail::TaskSet::Until;
  co_await set.until(return_when == ReturnWhen::first_completed   ? Until::first_done
                     : return_when == ReturnWhen::first_exception ? Until::first_exception
                                                                  : Until::all_done);
  WaitResult<H> result;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    (set.member_done(i) ? result.done : result.pending).push_back(std::move(handles[i]));
  }
  co_return result;
}

template <class H>
Task<std::size_t> when_any(std::vector<H> handles) {
  if (handles.empty()) throw Exception(Errc::invalid_argument, "when_any of no tasks");
  detail::TaskSet set(detail::TaskSet::states_of(handles), {});
  co_await set.until(detail::TaskSet::Until::first_done);
  co_return set.completion_order().front();
}

}  // namespace weft
