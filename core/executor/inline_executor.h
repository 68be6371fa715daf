// weft::InlineExecutor: runs each callback at once, on the thread that calls
// execute(), before execute() returns. For tests and for code that is
// generic over an executor but sometimes wants no hop.
//
// Never refuses work. An exception escaping the callback propagates out of
// execute() to the caller (the callback is destroyed either way). Stateless:
// one instance may be shared by any number of threads.
#pragma once

#include <utility>

#include "core/detail/callback.h"
#include "core/executor/executor.h"

namespace weft {

class InlineExecutor final : public Executor {
 public:
  [[nodiscard]] bool execute(Callback callback) override {
    callback.invoke_once();
    return true;
  }

  // Runs `f` now, without type-erasing it.
  template <class F>
  bool post(F&& f) {
    std::forward<F>(f)();
    return true;
  }
};

}  // namespace weft
