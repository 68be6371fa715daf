// weft's callback workloads (tests/bench/README.md): W1 callbacks_chain, W2
// callbacks_burst, W5 futures, W10 threadsafe_pingpong. Each builds a fresh
// weft::Loop outside the timed part, runs the workload once and checks that
// every callback ran exactly once. W10 also runs as "weft-spin-off", with
// the loop's SpinPolicy::off, and reports process CPU beside wall time.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/weft.h"
#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

// ---- W1: one callback re-posting itself with call_soon -------------------

struct ChainState {
  weft::Loop* loop;
  std::uint64_t n;
  std::uint64_t ran = 0;
  Stopwatch::time_point last_ran{};
};

// The chain's callback: counts itself and posts the next, until n have run.
struct ChainStep {
  ChainState* state;
  void operator()() const {
    if (++state->ran < state->n) {
      state->loop->call_soon(ChainStep{state});
    } else {
      state->last_ran = now();
    }
  }
};

Outcome callbacks_chain(std::uint64_t n) {
  weft::Loop loop;
  ChainState state{&loop, n};
  const auto start = now();
  loop.call_soon(ChainStep{&state});
  loop.run();
  if (state.ran != n) {
    return failed("ran " + std::to_string(state.ran) + " callbacks, expected " + std::to_string(n));
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, state.last_ran);
  outcome.ops = n;
  return outcome;
}

// ---- W2: n no-op callbacks posted at once, then run ----------------------

Outcome callbacks_burst(std::uint64_t n) {
  weft::Loop loop;
  std::uint64_t ran = 0;
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) loop.call_soon([&ran] { ++ran; });
  const auto posted = now();
  const long rss = rss_kb();  // every callback queued: the high point
  const auto run_start = now();
  loop.run();
  const auto end = now();
  if (ran != n) return failed("ran " + std::to_string(ran) + " callbacks, expected " + std::to_string(n));
  Outcome outcome;
  outcome.seconds = seconds_between(start, posted) + seconds_between(run_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"post_ns_per_op", seconds_between(start, posted) * 1e9 / n},
                   {"run_ns_per_op", seconds_between(run_start, end) * 1e9 / n}};
  return outcome;
}

// ---- W5: promise/future pairs, each with a continuation, resolved --------

Outcome futures(std::uint64_t n) {
  weft::Loop loop;
  std::uint64_t ran = 0;
  std::uint64_t sum = 0;
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    auto [promise, future] = weft::make_promise<std::uint64_t>();
    std::move(future).then(loop, [&ran, &sum](weft::Result<std::uint64_t> result) {
      sum += result.value();
      ++ran;
    });
    promise.set_value(i);
  }
  const auto resolved = now();
  const long rss = rss_kb();  // every continuation queued: the high point
  const auto run_start = now();
  loop.run();
  const auto end = now();
  const std::uint64_t expected_sum = n * (n - 1) / 2;
  if (ran != n || sum != expected_sum) {
    return failed("ran " + std::to_string(ran) + " continuations (sum " + std::to_string(sum) +
                  "), expected " + std::to_string(n) + " (sum " + std::to_string(expected_sum) + ")");
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, resolved) + seconds_between(run_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"setup_ns_per_op", seconds_between(start, resolved) * 1e9 / n},
                   {"run_ns_per_op", seconds_between(run_start, end) * 1e9 / n}};
  return outcome;
}

// ---- W10: another thread posts, the loop replies through a condvar -------

// The outside thread's side of the ping-pong. `replies` counts the loop's
// answers; the thread posts the next ping only after the previous answer.
struct PingPong {
  std::mutex mutex;
  std::condition_variable replied;
  std::uint64_t replies = 0;
};

Outcome threadsafe_pingpong(std::uint64_t n, weft::SpinPolicy spin) {
  weft::LoopOptions options;
  options.spin = spin;
  weft::Loop loop(options);
  PingPong channel;
  // Keeps run() going while the loop waits for the next ping: a future whose
  // continuation waits on this loop; the loop resolves it with the last reply.
  auto done_pair = weft::make_promise<void>();
  weft::Promise<void>& done = done_pair.first;
  weft::Future<void>& all_replied = done_pair.second;
  const std::uint64_t total = n + 1;  // one untimed warm-up round trip first
  auto pong = [&channel, &done, total] {
    bool last;
    {
      std::lock_guard<std::mutex> lock(channel.mutex);
      last = ++channel.replies == total;
    }
    channel.replied.notify_one();
    if (last) done.set_value();
  };

  Stopwatch::time_point start;
  Stopwatch::time_point end;
  double cpu_start = 0;
  double cpu_end = 0;
  bool posts_refused = false;
  std::thread outside([&] {
    for (std::uint64_t i = 1; i <= total; ++i) {
      if (i == 2) {
        start = now();
        cpu_start = process_cpu_seconds();
      }
      if (!loop.call_soon_threadsafe(pong)) {
        posts_refused = true;
        return;
      }
      std::unique_lock<std::mutex> lock(channel.mutex);
      channel.replied.wait(lock, [&] { return channel.replies == i; });
    }
    end = now();
    cpu_end = process_cpu_seconds();
  });
  weft::Result<void> outcome_of_run = weft::run_until_complete(loop, all_replied);
  outside.join();
  if (posts_refused || !outcome_of_run.ok() || channel.replies != total) {
    return failed("got " + std::to_string(channel.replies) + " replies, expected " +
                  std::to_string(total));
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, end);
  outcome.ops = n;
  const CpuFields cpu = cpu_fields(cpu_end - cpu_start, outcome.seconds, n);
  const weft::LoopStats stats = loop.stats();
  outcome.extra = {{"us_per_round_trip", outcome.seconds * 1e6 / n},
                   {"cpu_ns_per_op", cpu.cpu_ns_per_op},
                   {"cpu_per_wall", cpu.cpu_per_wall},
                   {"loop_spins", static_cast<double>(stats.spins)},
                   {"loop_spin_hits", static_cast<double>(stats.spin_hits)},
                   {"loop_sleeps", static_cast<double>(stats.sleeps)},
                   {"loop_spin_ceiling_us",
                    std::chrono::duration<double, std::micro>(stats.spin_ceiling).count()},
                   {"loop_wake_latency_us",
                    std::chrono::duration<double, std::micro>(stats.wake_latency).count()}};
  return outcome;
}

Outcome threadsafe_pingpong_adaptive(std::uint64_t n) {
  return threadsafe_pingpong(n, weft::SpinPolicy::adaptive);
}
Outcome threadsafe_pingpong_spin_off(std::uint64_t n) {
  return threadsafe_pingpong(n, weft::SpinPolicy::off);
}

const bool registered = register_workloads({
    {"weft", "W1_callbacks_chain", 1'000'000, callbacks_chain},
    {"weft", "W2_callbacks_burst", 1'000'000, callbacks_burst},
    {"weft", "W5_futures", 1'000'000, futures},
    {"weft", "W10_threadsafe_pingpong", 100'000, threadsafe_pingpong_adaptive},
    {"weft-spin-off", "W10_threadsafe_pingpong", 100'000, threadsafe_pingpong_spin_off},
});

}  // namespace
}  // namespace bench
