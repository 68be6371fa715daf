// weft's executor workloads (tests/bench/README.md): W8 pool_submit, W9
// offload and W13 blocking_offload, on a 2-worker weft::ThreadPool. Kept in
// their own file so the rest of the benchmark builds without core/executor.
// W8 and W9 report process CPU beside wall time, and also run as
// "weft-spin-off": the pool (and W9's loop) with SpinPolicy::off.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "core/executor/run_in_executor.h"
#include "core/executor/thread_pool.h"
#include "core/weft.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

constexpr unsigned kPoolWorkers = 2;

weft::ThreadPoolOptions pool_options(weft::SpinPolicy spin) {
  weft::ThreadPoolOptions options;
  options.threads = kPoolWorkers;
  options.spin = spin;
  return options;
}

// ---- W8: n tiny jobs posted from the main thread -------------------------

Outcome pool_submit(std::uint64_t n, weft::SpinPolicy spin) {
  weft::ThreadPool pool(pool_options(spin));
  std::atomic<std::uint64_t> counter{0};
  std::atomic<bool> all_done{false};
  const double cpu_start = process_cpu_seconds();
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    const bool accepted = pool.post([&counter, &all_done, n] {
      if (counter.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        all_done.store(true, std::memory_order_release);
        all_done.notify_one();
      }
    });
    if (!accepted) return failed("the pool refused job " + std::to_string(i));
  }
  all_done.wait(false, std::memory_order_acquire);
  const auto end = now();
  const double cpu_end = process_cpu_seconds();
  pool.shutdown();
  const weft::ThreadPoolStats stats = pool.stats();
  if (counter.load() != n || stats.jobs_run != n) {
    return failed("counter " + std::to_string(counter.load()) + ", jobs run " +
                  std::to_string(stats.jobs_run) + ", expected " + std::to_string(n));
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, end);
  outcome.ops = n;
  const CpuFields cpu = cpu_fields(cpu_end - cpu_start, outcome.seconds, n);
  outcome.extra = {{"cpu_ns_per_op", cpu.cpu_ns_per_op},
                   {"cpu_per_wall", cpu.cpu_per_wall},
                   {"parks", static_cast<double>(stats.parks)},
                   {"wakeups", static_cast<double>(stats.wakeups)},
                   {"pool_spins", static_cast<double>(stats.spins)},
                   {"pool_spin_hits", static_cast<double>(stats.spin_hits)}};
  return outcome;
}

Outcome pool_submit_adaptive(std::uint64_t n) { return pool_submit(n, weft::SpinPolicy::adaptive); }
Outcome pool_submit_spin_off(std::uint64_t n) { return pool_submit(n, weft::SpinPolicy::off); }

// ---- W9: n blocking calls run from the loop, at most 64 in flight --------

constexpr std::uint64_t kMaxInFlight = 64;

struct Offload {
  weft::Loop& loop;
  weft::ThreadPool& pool;
  std::uint64_t n;
  std::uint64_t launched = 0;
  std::uint64_t completed = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t max_in_flight = 0;
  std::uint64_t sum = 0;
  Stopwatch::time_point last_completed{};
  double cpu_at_last_completed = 0;
};

// Starts call number `launched` on the pool; its continuation, on the loop,
// adds up the result and starts the next call while any are left.
void launch(Offload& s) {
  const std::uint64_t i = s.launched++;
  if (++s.in_flight > s.max_in_flight) s.max_in_flight = s.in_flight;
  weft::run_in_executor(s.loop, s.pool, [i] { return i; })
      .then(s.loop, [&s](weft::Result<std::uint64_t> result) {
        s.sum += result.value();
        --s.in_flight;
        if (++s.completed == s.n) {
          s.last_completed = now();
          s.cpu_at_last_completed = process_cpu_seconds();
        }
        if (s.launched < s.n) launch(s);
      });
}

Outcome offload(std::uint64_t n, weft::SpinPolicy spin) {
  weft::ThreadPool pool(pool_options(spin));
  weft::LoopOptions loop_options;
  loop_options.spin = spin;
  weft::Loop loop(loop_options);
  Offload state{loop, pool, n};
  const double cpu_start = process_cpu_seconds();
  const auto start = now();
  loop.call_soon([&state] {
    while (state.launched < state.n && state.in_flight < kMaxInFlight) launch(state);
  });
  loop.run();  // returns once no future waits on the loop any more
  pool.shutdown();
  const std::uint64_t expected_sum = n * (n - 1) / 2;
  if (state.completed != n || state.sum != expected_sum || state.max_in_flight > kMaxInFlight) {
    return failed("completed " + std::to_string(state.completed) + " calls (sum " +
                  std::to_string(state.sum) + ", at most " + std::to_string(state.max_in_flight) +
                  " in flight), expected " + std::to_string(n) + " (sum " +
                  std::to_string(expected_sum) + ", at most 64)");
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, state.last_completed);
  outcome.ops = n;
  const CpuFields cpu = cpu_fields(state.cpu_at_last_completed - cpu_start, outcome.seconds, n);
  const weft::ThreadPoolStats pool_stats = pool.stats();
  const weft::LoopStats loop_stats = loop.stats();
  outcome.extra = {{"cpu_ns_per_op", cpu.cpu_ns_per_op},
                   {"cpu_per_wall", cpu.cpu_per_wall},
                   {"pool_spins", static_cast<double>(pool_stats.spins)},
                   {"pool_spin_hits", static_cast<double>(pool_stats.spin_hits)},
                   {"pool_parks", static_cast<double>(pool_stats.parks)},
                   {"loop_spins", static_cast<double>(loop_stats.spins)},
                   {"loop_spin_hits", static_cast<double>(loop_stats.spin_hits)},
                   {"loop_sleeps", static_cast<double>(loop_stats.sleeps)}};
  return outcome;
}

Outcome offload_adaptive(std::uint64_t n) { return offload(n, weft::SpinPolicy::adaptive); }
Outcome offload_spin_off(std::uint64_t n) { return offload(n, weft::SpinPolicy::off); }

// ---- W13: n jobs that sleep 10 ms, run from the loop, at most kPoolWorkers
// in flight ------------------------------------------------------------------
//
// The pool's scheduling promise made visible: with a job started as soon as
// a worker is idle, the makespan is ceil(n / workers) x 10 ms (8 x 10 ms at
// the full n = 8 x 2); a job left waiting behind a busy worker shows as a
// makespan_over_ideal above 1.

constexpr auto kBlockingJob = std::chrono::milliseconds(10);

struct BlockingOffload {
  weft::Loop& loop;
  weft::ThreadPool& pool;
  std::uint64_t n;
  std::uint64_t launched = 0;
  std::uint64_t completed = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t max_in_flight = 0;
  Stopwatch::time_point last_completed{};
};

void launch_blocking(BlockingOffload& s) {
  const std::uint64_t i = s.launched++;
  if (++s.in_flight > s.max_in_flight) s.max_in_flight = s.in_flight;
  weft::run_in_executor(s.loop, s.pool, [i] {
    std::this_thread::sleep_for(kBlockingJob);
    return i;
  }).then(s.loop, [&s](weft::Result<std::uint64_t> result) {
    (void)result.value();
    --s.in_flight;
    if (++s.completed == s.n) s.last_completed = now();
    if (s.launched < s.n) launch_blocking(s);
  });
}

Outcome blocking_offload(std::uint64_t n) {
  weft::ThreadPool pool(kPoolWorkers);  // workers started before the clock
  weft::Loop loop;
  BlockingOffload state{loop, pool, n};
  const auto start = now();
  loop.call_soon([&state] {
    while (state.launched < state.n && state.in_flight < kPoolWorkers) launch_blocking(state);
  });
  loop.run();
  pool.shutdown();
  if (state.completed != n || state.max_in_flight > kPoolWorkers) {
    return failed("completed " + std::to_string(state.completed) + " jobs (at most " +
                  std::to_string(state.max_in_flight) + " in flight), expected " + std::to_string(n) +
                  " (at most " + std::to_string(kPoolWorkers) + ")");
  }
  const double makespan = seconds_between(start, state.last_completed);
  const double rounds = static_cast<double>((n + kPoolWorkers - 1) / kPoolWorkers);
  const double ideal = rounds * std::chrono::duration<double>(kBlockingJob).count();
  Outcome outcome;
  outcome.seconds = makespan;
  outcome.ops = n;
  outcome.extra = {{"makespan_over_ideal", makespan / ideal}};
  return outcome;
}

const bool registered = register_workloads({
    {"weft", "W8_pool_submit", 1'000'000, pool_submit_adaptive},
    {"weft-spin-off", "W8_pool_submit", 1'000'000, pool_submit_spin_off},
    {"weft", "W9_offload", 100'000, offload_adaptive},
    {"weft-spin-off", "W9_offload", 100'000, offload_spin_off},
    {"weft", "W13_blocking_offload", 8 * kPoolWorkers, blocking_offload},
});

}  // namespace
}  // namespace bench
