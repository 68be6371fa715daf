// W5's floor ("impl":"floor"): futures_floor.c timed like loop_workloads.cc's
// W5 (setup, then run), in the same run, so W5 can be read as a ratio to the
// least a future costs on this machine. Main thread only.
#include <cstdint>
#include <string>

#include "tests/bench/futures_floor.h"
#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

Outcome futures_floor(std::uint64_t n) {
  floor_queue queue{nullptr, nullptr};
  floor_tally tally{0, 0};
  const auto start = now();
  const int setup_status = floor_futures_setup(&queue, &tally, n);
  const auto resolved = now();
  const long rss = rss_kb();  // every continuation queued: the high point
  const auto run_start = now();
  floor_futures_run(&queue);
  const auto end = now();
  const std::uint64_t expected_sum = n * (n - 1) / 2;
  if (setup_status != 0) return failed("out of memory");
  if (tally.ran != n || tally.sum != expected_sum) {
    return failed("ran " + std::to_string(tally.ran) + " continuations (sum " +
                  std::to_string(tally.sum) + "), expected " + std::to_string(n) + " (sum " +
                  std::to_string(expected_sum) + ")");
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, resolved) + seconds_between(run_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"setup_ns_per_op", seconds_between(start, resolved) * 1e9 / n},
                   {"run_ns_per_op", seconds_between(run_start, end) * 1e9 / n}};
  return outcome;
}

const bool registered = register_workloads({
    {"floor", "W5_futures", 1'000'000, futures_floor},
});

}  // namespace
}  // namespace bench
