// weft's timer workloads (tests/bench/README.md): W3 timers_churn (arm then cancel)
// and W4 timers_fire. Delays come from delays.h, the same ones the libuv
// variants use, and are armed with Loop::call_later.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/weft.h"
#include "tests/bench/delays.h"
#include "tests/bench/report.h"
#include "tests/bench/timer_shapes.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

// ---- W3: arm n timers 1..60 s out, then cancel each ----------------------

Outcome timers_churn(std::uint64_t n) {
  const std::vector<std::uint64_t> delays = churn_delays_ms(n);
  std::vector<weft::TimerHandle> handles(n);
  weft::Loop loop;
  std::uint64_t fired = 0;
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    handles[i] = loop.call_later(std::chrono::milliseconds(delays[i]), [&fired] { ++fired; });
  }
  const auto armed = now();
  const long rss = rss_kb();  // every timer armed: the high point
  const auto cancel_start = now();
  std::uint64_t cancelled = 0;
  for (std::uint64_t i = 0; i < n; ++i) cancelled += handles[i].cancel() ? 1 : 0;
  const auto end = now();
  loop.poll();  // a cancelled timer must never run
  const weft::LoopStats stats = loop.stats();
  if (cancelled != n || fired != 0 || stats.timers_pending != 0) {
    return failed("cancelled " + std::to_string(cancelled) + " of " + std::to_string(n) +
                  " timers, " + std::to_string(fired) + " fired, " +
                  std::to_string(stats.timers_pending) + " still pending");
  }
  return arm_cancel_outcome(start, armed, cancel_start, end, n, rss);
}

// ---- W4: arm n timers 0..50 ms out, run until all fired ------------------

Outcome timers_fire(std::uint64_t n) {
  const std::vector<std::uint64_t> delays = fire_delays_ms(n);
  const std::uint64_t longest_ms = longest_delay_ms(delays);
  weft::Loop loop;
  FireState state{n};
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    loop.call_later(std::chrono::milliseconds(delays[i]), [&state] {
      if (++state.fired == state.n) state.last_fired = now();
    });
  }
  const auto armed = now();
  loop.run();
  const double elapsed_ms = seconds_between(start, state.last_fired) * 1e3;
  if (state.fired != n) {
    return failed("fired " + std::to_string(state.fired) + " timers, expected " + std::to_string(n));
  }
  return fire_outcome(elapsed_ms, start, armed, n, longest_ms, /*early_ms=*/0.0);
}

const bool registered = register_workloads({
    {"weft", "W3_timers_churn", 1'000'000, timers_churn},
    {"weft", "W4_timers_fire", 200'000, timers_fire},
});

}  // namespace
}  // namespace bench
