#include "core/executor/loop_executor.h"

#include <utility>

#include "core/loop/loop.h"

namespace weft {

bool LoopExecutor::execute(Callback callback) {
  return loop_->call_soon_threadsafe(std::move(callback));
}

}  // namespace weft
