// ManualLoop: a loop on a ManualClock that a test steps through time.
//
//   weft_test::ManualLoop m;
//   auto h = weft::spawn(m.loop, body());
//   m.advance(10ms);          // 1 ms at a time, running the loop after each step
#pragma once

#include "core/clock/clock.h"
#include "core/loop/loop.h"

namespace weft_test {

struct ManualLoop {
  weft::ManualClock clock;
  weft::Loop loop{{.clock = &clock}};

  // Advances the clock by `total` in steps of `step`, running the loop after
  // each (run() returns when only timers are left: the clock does not move
  // by itself).
  void advance(weft::Duration total, weft::Duration step = std::chrono::milliseconds(1)) {
    for (weft::Duration d{0}; d < total; d += step) {
      clock.advance(step);
      loop.run();
    }
  }
};

}  // namespace weft_test
