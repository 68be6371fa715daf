#include "core/clock/clock.h"

namespace weft {

MonotonicClock& MonotonicClock::instance() noexcept {
  static MonotonicClock clock;
  return clock;
}

}  // namespace weft
