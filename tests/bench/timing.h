// Wall-clock timing for the workloads: steady_clock, read the same way by the
// weft and libuv variants.
#pragma once

#include <time.h>

#include <chrono>

namespace bench {

using Stopwatch = std::chrono::steady_clock;

inline Stopwatch::time_point now() { return Stopwatch::now(); }

inline double seconds_between(Stopwatch::time_point from, Stopwatch::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// CPU time the calling thread has used, in seconds: unlike wall time, it does
// not grow while the thread waits for a core on a busy machine.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace bench
