// weft::as_completed: the tasks of a set, yielded as they finish (asyncio's
// as_completed, as an async generator).
//
//   auto finished = weft::as_completed(std::move(handles));
//   while (auto h = co_await finished.next()) {
//     use(co_await *h);          // done: does not suspend
//   }
//
// - Yields each handle once, in the order the tasks finish (those already
//   finished first, in the order given). The tasks are not cancelled by it,
//   not even when the iteration stops early.
// - With a timeout, next() throws weft::TimedOut once it passes with tasks
//   still running.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/generator/generator.h"
#include "core/task/task_set.h"

namespace weft {

template <class H>
Generator<H> as_completed(std::vector<H> handles, std::optional<Duration> timeout = std::nullopt) {
  detail::TaskState* root = co_await detail::CurrentRoot{};
  detail::TaskSet::Options options;
  if (timeout) options.deadline = root->loop().time() + *timeout;
  detail::TaskSet set(detail::TaskSet::states_of(handles), options);
  for (std::size_t yielded = 0; yielded < handles.size(); ++yielded) {
    co_await set.until(detail::TaskSet::Until::next_done);
    if (set.finished() <= yielded) throw TimedOut("as_completed: the timeout passed");
    co_yield handles[set.take_next()];
  }
}

}  // namespace weft
