// Wall-clock timing for the workloads: steady_clock, read the same way by the
// weft and libuv variants.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

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

// CPU time the whole process (every thread) has used, in seconds: what a
// cross-thread workload costs in cores, spinning included. Any thread.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The fields a cross-thread workload (W8-W10) reports beside its wall time:
// process CPU per operation, and the cores it kept busy on average.
struct CpuFields {
  double cpu_ns_per_op;
  double cpu_per_wall;
};

inline CpuFields cpu_fields(double cpu_seconds, double wall_seconds, std::uint64_t ops) {
  return {cpu_seconds * 1e9 / static_cast<double>(ops), cpu_seconds / wall_seconds};
}

}  // namespace bench
