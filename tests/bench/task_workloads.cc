// weft's coroutine workloads (tests/bench/README.md): W6 tasks and W7 tasks_memory.
// Each builds a fresh weft::Loop outside the timed part and checks its result.
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/weft.h"
#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

// ---- W6: spawn n tasks that each yield once and return an int; gather ------

weft::Task<int> yield_once(int value) {
  co_await weft::yield();
  co_return value;
}

struct SpawnGather {
  std::uint64_t n;
  long rss_when_spawned = -1;
};

weft::Task<std::uint64_t> spawn_and_gather(SpawnGather& run) {
  std::vector<weft::TaskHandle<int>> handles;
  handles.reserve(run.n);
  for (std::uint64_t i = 0; i < run.n; ++i) handles.push_back(weft::spawn(yield_once(static_cast<int>(i))));
  run.rss_when_spawned = rss_kb();  // every task exists: the high point
  std::vector<int> values = co_await weft::gather(std::move(handles));
  std::uint64_t sum = 0;
  for (int v : values) sum += static_cast<std::uint64_t>(v);
  co_return sum;
}

Outcome tasks(std::uint64_t n) {
  // The peak is this run's: memory that earlier workloads or repeats freed
  // goes back to the kernel, then the kernel's peak is lowered to now.
  malloc_trim(0);
  const bool own_peak = reset_peak_rss();
  weft::Loop loop;
  SpawnGather run{n};
  const double cpu_start = thread_cpu_seconds();
  const auto start = now();
  weft::Result<std::uint64_t> sum = weft::run_until_complete(loop, spawn_and_gather(run));
  const auto end = now();
  const double cpu = thread_cpu_seconds() - cpu_start;
  const std::uint64_t expected = n * (n - 1) / 2;
  if (!sum.ok() || sum.value() != expected) {
    return failed("sum " + (sum.ok() ? std::to_string(sum.value()) : sum.error().message()) +
                  ", expected " + std::to_string(expected));
  }
  if (loop.stats().tasks_alive != 0) return failed("tasks still alive after gather");
  Outcome outcome;
  outcome.seconds = seconds_between(start, end);
  outcome.ops = n;
  outcome.rss_kb = run.rss_when_spawned;
  // The peak since this run began; where it could not be reset, the
  // process's (peak_rss_kb_process instead, so that it is not mistaken).
  outcome.extra = {{own_peak ? "peak_rss_kb" : "peak_rss_kb_process", static_cast<double>(peak_rss_kb())},
                   {"cpu_ns_per_op", cpu * 1e9 / static_cast<double>(n)}};
  return outcome;
}

// ---- W7: n tasks suspended on a long sleep: memory per task; cancel all ---

weft::Task<void> sleep_long() { co_await weft::sleep(std::chrono::hours(1)); }

// Spawns in batches, letting each batch reach its sleep before the next, so
// the ready queue stays small and what remains is the tasks themselves.
weft::Task<void> spawn_sleepers(std::uint64_t n) {
  constexpr std::uint64_t kBatch = 1024;
  for (std::uint64_t i = 0; i < n; ++i) {
    (void)weft::spawn(sleep_long());
    if (i % kBatch == kBatch - 1) co_await weft::yield();
  }
  co_await weft::yield();
}

Outcome tasks_memory(std::uint64_t n) {
  weft::Loop loop;
  // The loop's own structures exist before the baseline: run it once. Memory
  // that earlier workloads freed goes back to the kernel first, else reusing
  // it would hide the growth.
  weft::run_until_complete(loop, []() -> weft::Task<void> { co_return; }());
  malloc_trim(0);
  const long before = rss_kb();
  const auto start = now();
  weft::run_until_complete(loop, spawn_sleepers(n));
  const auto spawned = now();
  const long after = rss_kb();
  const weft::LoopStats stats = loop.stats();
  if (stats.tasks_alive != n || stats.timers_pending != n) {
    return failed(std::to_string(stats.tasks_alive) + " tasks alive, " +
                  std::to_string(stats.timers_pending) + " sleeping, expected " + std::to_string(n));
  }
  // Then cancel them all (Loop::shutdown cancels every task).
  const auto cancel_start = now();
  const weft::ShutdownReport report = loop.shutdown(std::chrono::seconds(10));
  const auto end = now();
  if (report.cancelled != n || !report.stragglers.empty() || loop.stats().tasks_alive != 0) {
    return failed("cancelled " + std::to_string(report.cancelled) + " of " + std::to_string(n) +
                  ", " + std::to_string(report.stragglers.size()) + " left");
  }
  const double bytes_per_task = static_cast<double>(after - before) * 1024.0 / static_cast<double>(n);
  Outcome outcome;
  outcome.seconds = seconds_between(start, spawned);
  outcome.ops = n;
  outcome.rss_kb = after;
  outcome.extra = {{"bytes_per_task", bytes_per_task},
                   {"rss_growth_kb", static_cast<double>(after - before)},
                   {"cancel_ns_per_task", seconds_between(cancel_start, end) * 1e9 / static_cast<double>(n)}};
  return outcome;
}

const bool registered = register_workloads({
    {"weft", "W6_tasks", 1'000'000, tasks},
    {"weft", "W7_tasks_memory", 100'000, tasks_memory},
});

}  // namespace
}  // namespace bench
