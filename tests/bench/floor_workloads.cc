// The floors ("impl":"floor"): callbacks_floor.c timed like loop_workloads.cc's
// W2 (post, then run) and futures_floor.c like its W5 (setup, then run), in
// the same run, so W2 and W5 can be read as ratios to the least a queued
// callback and a future cost on this machine. Main thread only.
#include <cstdint>
#include <string>

#include "tests/bench/callbacks_floor.h"
#include "tests/bench/futures_floor.h"
#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

void count_run(void* user) { ++*static_cast<std::uint64_t*>(user); }

Outcome callbacks_floor(std::uint64_t n) {
  floor_callback_queue queue{};
  std::uint64_t ran = 0;
  int post_status = 0;
  const auto start = now();
  for (std::uint64_t i = 0; i < n && post_status == 0; ++i)
    post_status = floor_post(&queue, count_run, &ran);
  const auto posted = now();
  const long rss = rss_kb();  // every callback queued: the high point
  const auto run_start = now();
  floor_run(&queue);
  const auto end = now();
  if (post_status != 0) return failed("out of memory");
  if (ran != n)
    return failed("ran " + std::to_string(ran) + " callbacks, expected " + std::to_string(n));
  Outcome outcome;
  outcome.seconds = seconds_between(start, posted) + seconds_between(run_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"post_ns_per_op", seconds_between(start, posted) * 1e9 / n},
                   {"run_ns_per_op", seconds_between(run_start, end) * 1e9 / n}};
  return outcome;
}

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
    {"floor", "W2_callbacks_burst", 1'000'000, callbacks_floor},
    {"floor", "W5_futures", 1'000'000, futures_floor},
});

}  // namespace
}  // namespace bench
