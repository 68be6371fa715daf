// weft::Executor: something that runs callbacks somewhere — a thread pool, a
// loop, a strand, or inline.
//
// execute(cb) takes ownership of `cb` and arranges for it to run exactly once,
// or returns false if the executor no longer accepts work (shut down, loop
// closed); a refused callback is destroyed unrun on the calling thread.
// Implementations say which thread runs the callback; all accept execute() from
// any thread.
//
// The concept `ExecutorLike` names the same shape for templates; every weft
// executor also derives from Executor so it can be passed around type-erased
// (Strand wraps any Executor, run_in_executor takes any Executor).
#pragma once

#include <concepts>
#include <utility>

#include "core/detail/callback.h"

namespace weft {

class Executor {
 public:
  virtual ~Executor() = default;
  [[nodiscard]] virtual bool execute(Callback callback) = 0;
};

template <class E>
concept ExecutorLike = requires(E& executor, Callback callback) {
  { executor.execute(std::move(callback)) } -> std::convertible_to<bool>;
};

}  // namespace weft
