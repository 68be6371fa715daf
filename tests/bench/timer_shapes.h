// What the weft and libuv timer workloads (W3, W4) share besides their delays:
// the W3 outcome (arm and cancel phases timed apart), W4's firing record, and
// the longest delay a W4 run must have waited for.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {

// W3's result: the two timed phases, their sum, and the memory high point.
inline Outcome arm_cancel_outcome(Stopwatch::time_point start, Stopwatch::time_point armed,
                                  Stopwatch::time_point cancel_start, Stopwatch::time_point end,
                                  std::uint64_t n, long rss) {
  Outcome outcome;
  outcome.seconds = seconds_between(start, armed) + seconds_between(cancel_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"arm_ns_per_op", seconds_between(start, armed) * 1e9 / n},
                   {"cancel_ns_per_op", seconds_between(cancel_start, end) * 1e9 / n}};
  return outcome;
}

// W4: how many timers fired and when the last one did.
struct FireState {
  std::uint64_t n;
  std::uint64_t fired = 0;
  Stopwatch::time_point last_fired{};
};

// W4's result, after checking that the last timer fired no sooner than the
// longest delay allows (`early_ms`: how early the implementation's clock may
// let a timer fire, as measured on the stopwatch).
inline Outcome fire_outcome(double elapsed_ms, Stopwatch::time_point start,
                            Stopwatch::time_point armed, std::uint64_t n,
                            std::uint64_t longest_ms, double early_ms) {
  if (elapsed_ms < static_cast<double>(longest_ms) - early_ms) {
    return failed("all timers fired after " + std::to_string(elapsed_ms) +
                  " ms, before the longest delay (" + std::to_string(longest_ms) + " ms)");
  }
  Outcome outcome;
  outcome.seconds = elapsed_ms / 1e3;
  outcome.ops = n;
  outcome.extra = {{"elapsed_ms", elapsed_ms},
                   {"arm_ms", seconds_between(start, armed) * 1e3},
                   {"longest_delay_ms", static_cast<double>(longest_ms)}};
  return outcome;
}

inline std::uint64_t longest_delay_ms(const std::vector<std::uint64_t>& delays) {
  return delays.empty() ? 0 : *std::max_element(delays.begin(), delays.end());
}

}  // namespace bench
