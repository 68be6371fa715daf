// weft::LoopExecutor: an Executor that runs callbacks on a Loop's thread.
//
// execute() posts with Loop::call_soon_threadsafe, so it may be called from
// any thread, including the loop's own; callbacks run on the loop thread in
// the order they were posted, during the loop's run calls. An exception
// escaping a callback goes to the loop's exception handler.
//
// Refuses work (returns false, destroys the callback on the calling thread)
// once the loop is closed. Does not own the loop: the loop must outlive the
// executor and every execute() call.
#pragma once

#include "core/detail/callback.h"
#include "core/executor/executor.h"

namespace weft {

class Loop;

class LoopExecutor final : public Executor {
 public:
  explicit LoopExecutor(Loop& loop) noexcept : loop_(&loop) {}

  [[nodiscard]] bool execute(Callback callback) override;

  Loop& loop() const noexcept { return *loop_; }

 private:
  Loop* loop_;
};

}  // namespace weft
