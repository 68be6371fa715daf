// Wall-clock timing for the workloads: steady_clock, read the same way by the
// weft and libuv variants.
#pragma once

#include <chrono>

namespace bench {

using Stopwatch = std::chrono::steady_clock;

inline Stopwatch::time_point now() { return Stopwatch::now(); }

inline double seconds_between(Stopwatch::time_point from, Stopwatch::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace bench
