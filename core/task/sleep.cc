#include "core/task/sleep.h"

#include <cstdio>

namespace weft::detail {

void SleepAwaiter::describe(const Suspension& suspension, std::string& out) {
  const auto& self = static_cast<const SleepAwaiter&>(suspension);
  if (!self.armed()) {
    out += "sleep (due)";
    return;
  }
  const double left =
      std::chrono::duration<double>(TimePoint(Duration(self.deadline_ns)) - self.root_->loop().time())
          .count();
  char text[64];
  std::snprintf(text, sizeof text, "sleep (%.3g s left)", left > 0 ? left : 0.0);
  out += text;
}

}  // namespace weft::detail
