#include "core/task/sleep.h"

#include <cstdio>

namespace weft::detail {

void describe_sleep(bool armed, TimePoint deadline, TimePoint now, std::string& out) {
  if (!armed) {
    out += "sleep (due)";
    return;
  }
  const double left = std::chrono::duration<double>(deadline - now).count();
  char text[64];
  std::snprintf(text, sizeof text, "sleep (%.3g s left)", left > 0 ? left : 0.0);
  out += text;
}

}  // namespace weft::detail
