// Adaptive spinning (core/spin_policy.h) in the loop and the thread pool: a
// loop or pool whose work comes rarely stops spinning, one in a fast
// ping-pong spins again, SpinPolicy::off never spins, an idle runtime (a
// loop waiting on another thread, a pool) uses almost no CPU, and posts at
// every kind of pace all run once (a stress case for TSan), and a loop
// measures its wake-ups' latency.
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/executor/run_in_executor.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/loop/loop.h"

using namespace std::chrono_literals;

namespace {

weft::LoopOptions loop_options(weft::SpinPolicy spin) {
  weft::LoopOptions options;
  options.spin = spin;
  return options;
}

weft::ThreadPoolOptions pool_options(weft::SpinPolicy spin) {
  weft::ThreadPoolOptions options;
  options.threads = 2;
  options.spin = spin;
  return options;
}

// Catch2's assertions are for the test's own thread; other threads abort.
void check(bool ok) {
  if (!ok) std::abort();
}

// CPU time of the whole process so far (every thread), in seconds.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Another thread posts `count` callbacks to `loop`, `gap` apart; the last
// one lets the loop's run() return. Returns after run() returned.
void run_with_spaced_posts(weft::Loop& loop, int count, std::chrono::microseconds gap) {
  auto keep = std::make_shared<weft::Loop::KeepAlive>(loop.keep_alive());
  std::atomic<int> ran{0};
  std::thread poster([&] {
    for (int i = 0; i < count; ++i) {
      std::this_thread::sleep_for(gap);
      const bool last = i + 1 == count;
      check(loop.call_soon_threadsafe([&ran, keep, last] {
        ran.fetch_add(1, std::memory_order_relaxed);
        if (last) keep->reset();
      }));
    }
  });
  loop.run();
  poster.join();
  REQUIRE(ran.load() == count);
}

// A thread posts `rounds` pings, each as soon as it sees the previous reply
// (watching an atomic, not sleeping), while the loop runs with a KeepAlive.
void run_pingpong(weft::Loop& loop, int rounds) {
  auto keep = std::make_shared<weft::Loop::KeepAlive>(loop.keep_alive());
  std::atomic<int> replies{0};
  std::thread poster([&] {
    for (int i = 1; i <= rounds; ++i) {
      const bool last = i == rounds;
      check(loop.call_soon_threadsafe([&replies, keep, last] {
        replies.fetch_add(1, std::memory_order_release);
        if (last) keep->reset();
      }));
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (replies.load(std::memory_order_acquire) < i) {
        check(std::chrono::steady_clock::now() <= deadline);
        std::this_thread::yield();
      }
    }
  });
  loop.run();
  poster.join();
  REQUIRE(replies.load() == rounds);
}

}  // namespace

TEST_CASE("a loop whose posts come rarely stops spinning, and spins again in a ping-pong",
          "[spin][loop]") {
  weft::Loop loop;
  // 2 ms between posts, far beyond the 20 us ceiling: after a few halvings
  // (20, 10, 5, 2.5, 1.25 us) the loop sleeps at once. (A loop thread kept
  // off its core for 2 ms sees the next post at once, without a wait, which
  // may bring one more probe: on a loaded machine a few waits of the 100
  // do not happen.)
  run_with_spaced_posts(loop, 100, 2000us);
  const weft::LoopStats rare = loop.stats();
  INFO("spins " << rare.spins << ", sleeps " << rare.sleeps);
  REQUIRE(rare.sleeps >= 75);
  REQUIRE(rare.spins <= 20);  // a fixed spin before every wait would make 100

  // Posts that come right after each reply: the governor sees the short
  // gaps (from when each sender asked for the wake-up) and probes with a
  // spin again. Whether the spins then find the posts depends on whether
  // the sender has a core of its own meanwhile (on a busy machine it may
  // run only once the loop stops spinning, and the spins back off).
  run_pingpong(loop, 2000);
  const weft::LoopStats fast = loop.stats();
  INFO("spins " << fast.spins - rare.spins << ", hits " << fast.spin_hits - rare.spin_hits);
  REQUIRE(fast.spins > rare.spins);
}

TEST_CASE("a loop measures how long its wake-ups take", "[spin][loop]") {
  weft::Loop loop;
  REQUIRE(loop.stats().spin_ceiling == weft::Loop::kSpinBeforeSleep);
  REQUIRE(loop.stats().wake_latency == weft::Duration::zero());
  // Posts 2 ms apart: after a few empty spins the loop sleeps, and each post
  // wakes it. The time from each sender's request to the loop running is a
  // sample (on a fast machine a few microseconds, on an idle VM tens).
  run_with_spaced_posts(loop, 50, 2000us);
  const weft::LoopStats stats = loop.stats();
  INFO("wake-up latency " << stats.wake_latency.count() << " ns, ceiling "
                          << stats.spin_ceiling.count() << " ns");
  REQUIRE(stats.wake_latency > weft::Duration::zero());
  REQUIRE(stats.spin_ceiling >= weft::Loop::kSpinBeforeSleep);
  REQUIRE(stats.spin_ceiling <= weft::Loop::kSpinBeforeSleepMax);
  // Twice the average, unless the base or the top of the range bounds it.
  const weft::Duration twice = 2 * stats.wake_latency;
  if (twice > weft::Loop::kSpinBeforeSleep && twice < weft::Loop::kSpinBeforeSleepMax) {
    REQUIRE(stats.spin_ceiling == twice);
  }

  weft::Loop quiet(loop_options(weft::SpinPolicy::off));
  run_with_spaced_posts(quiet, 10, 2000us);
  REQUIRE(quiet.stats().spin_ceiling == weft::Duration::zero());
  REQUIRE(quiet.stats().wake_latency == weft::Duration::zero());
}

TEST_CASE("a loop with SpinPolicy::off never spins", "[spin][loop]") {
  weft::Loop loop(loop_options(weft::SpinPolicy::off));
  run_pingpong(loop, 500);
  const weft::LoopStats stats = loop.stats();
  REQUIRE(stats.spins == 0);
  REQUIRE(stats.spin_hits == 0);
  REQUIRE(stats.sleeps > 0);
  REQUIRE(stats.threadsafe_posts == 500);
}

TEST_CASE("a pool whose jobs come rarely stops spinning", "[spin][pool]") {
  weft::ThreadPool pool(pool_options(weft::SpinPolicy::adaptive));
  std::atomic<int> ran{0};
  constexpr int kJobs = 100;
  for (int i = 0; i < kJobs; ++i) {
    std::this_thread::sleep_for(2ms);
    REQUIRE(pool.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); }));
  }
  pool.shutdown();
  REQUIRE(ran.load() == kJobs);
  const weft::ThreadPoolStats stats = pool.stats();
  INFO("spins " << stats.spins << ", parks " << stats.parks);
  // 100, 50, 25, 12.5, 6.25, 3.1, 1.6 us, then none (7 spins); more on a
  // busy machine, where a worker kept off its core for milliseconds may see
  // the next job as soon as it goes idle and probe. A fixed spin before
  // every park would make about 100.
  REQUIRE(stats.spins <= 30);
  REQUIRE(stats.parks >= kJobs / 2);
}

TEST_CASE("a pool with SpinPolicy::off never spins and loses no job", "[spin][pool]") {
  weft::ThreadPool pool(pool_options(weft::SpinPolicy::off));
  std::atomic<int> ran{0};
  constexpr int kJobs = 20'000;
  for (int i = 0; i < kJobs; ++i) {
    REQUIRE(pool.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); }));
    if (i % 100 == 0) std::this_thread::sleep_for(50us);
  }
  pool.shutdown();
  REQUIRE(ran.load() == kJobs);
  const weft::ThreadPoolStats stats = pool.stats();
  REQUIRE(stats.spins == 0);
  REQUIRE(stats.spin_hits == 0);
  REQUIRE(stats.jobs_run == static_cast<std::uint64_t>(kJobs));
}

// Idleness is a correctness property, not a speed figure: a runtime nobody
// posts to must leave the CPU to others. The bound (5 % of one core) is far
// above what sleeping threads use and far below a thread that spins.
TEST_CASE("an idle loop and pool use almost no CPU for a second", "[spin][idle]") {
  for (weft::SpinPolicy policy : {weft::SpinPolicy::adaptive, weft::SpinPolicy::off}) {
    weft::Loop loop(loop_options(policy));
    weft::ThreadPool pool(pool_options(policy));
    // Busy first, so both have been spinning: 2,000 offloads round trip
    // through the pool, one at a time.
    std::uint64_t sum = 0;
    std::function<void(std::uint64_t)> next = [&](std::uint64_t i) {
      if (i == 2000) return;
      weft::run_in_executor(loop, pool, [i] { return i; })
          .then(loop, [&, i](weft::Result<std::uint64_t> r) {
            sum += r.value();
            next(i + 1);
          });
    };
    loop.call_soon([&] { next(0); });
    loop.run();
    REQUIRE(sum == 1999u * 2000u / 2);

    // Then idle: the loop waits for a future another thread resolves in a
    // second (so it expects a post from another thread the whole time), and
    // nobody posts to the pool.
    auto [promise, future] = weft::make_promise<int>();
    const double cpu_before = process_cpu_seconds();
    const auto wall_before = std::chrono::steady_clock::now();
    std::thread resolver([p = std::move(promise)]() mutable {
      std::this_thread::sleep_for(1s);
      p.set_value(7);
    });
    weft::Result<int> result = weft::run_until_complete(loop, future);
    const double cpu = process_cpu_seconds() - cpu_before;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
    resolver.join();
    REQUIRE(result.value() == 7);
    INFO("policy " << (policy == weft::SpinPolicy::off ? "off" : "adaptive") << ": " << cpu * 1e3
                   << " ms of CPU in " << wall * 1e3 << " ms");
    REQUIRE(wall >= 0.99);
    REQUIRE(cpu < 0.05 * wall);
  }
}

// Posts to a loop and jobs to a pool from several threads, with gaps that
// change all the time (none, a few microseconds, around the ceilings, a
// millisecond), so the governors keep growing and shrinking while the
// wake-up protocols run: every callback runs exactly once.
TEST_CASE("posts at every pace all run once while the spin adapts", "[spin][stress]") {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kPerThread = 1500;
#else
  constexpr int kPerThread = 6000;
#endif
  constexpr int kThreads = 3;
  weft::Loop loop;
  weft::ThreadPool pool(pool_options(weft::SpinPolicy::adaptive));
  std::atomic<int> pool_ran{0};
  int loop_ran = 0;  // loop thread only
  auto keep = std::make_shared<weft::Loop::KeepAlive>(loop.keep_alive());
  std::atomic<int> producers_left{kThreads};

  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      std::minstd_rand random(static_cast<unsigned>(t) + 1);
      const std::chrono::microseconds gaps[] = {0us, 0us, 2us, 15us, 30us, 120us, 1000us};
      for (int i = 0; i < kPerThread; ++i) {
        const auto gap = gaps[random() % std::size(gaps)];
        if (gap > 0us) std::this_thread::sleep_for(gap);
        check(loop.call_soon_threadsafe([&loop_ran] { ++loop_ran; }));
        check(pool.post([&pool_ran] { pool_ran.fetch_add(1, std::memory_order_relaxed); }));
      }
      if (producers_left.fetch_sub(1) == 1) {
        // The last producer: a post that runs after every other of this
        // thread's, then lets the loop go once all have run.
        check(loop.call_soon_threadsafe([keep] { keep->reset(); }));
      }
    });
  }
  loop.run();
  for (auto& p : producers) p.join();
  pool.shutdown();
  REQUIRE(loop_ran == kThreads * kPerThread);
  REQUIRE(pool_ran.load() == kThreads * kPerThread);
  REQUIRE(loop.stats().threadsafe_posts == static_cast<std::uint64_t>(kThreads * kPerThread + 1));
}
