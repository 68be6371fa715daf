// weft::ThreadPool's scheduling promise: a queued job starts as soon as any
// worker is idle — no worker idles while a job waits, whether the job is in
// the shared queue or in a batch another worker took and has not started.
//
// No wall-clock assertions: each job meets the others at a rendezvous that
// only opens when the expected number of jobs run at once, with a generous
// timeout so that a broken pool fails the test instead of hanging it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/executor/thread_pool.h"
#include "tests/core/executor_fixtures.h"

using weft_test::Gate;

namespace {

using namespace std::chrono_literals;

constexpr auto kRendezvousTimeout = 5s;

// Opens once `expected` jobs have arrived; a job that waits longer than
// kRendezvousTimeout gives up and counts as a miss.
class Rendezvous {
 public:
  explicit Rendezvous(int expected) : expected_(expected) {}

  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (++arrived_ >= expected_) {
      all_met_.notify_all();
      return;
    }
    if (!all_met_.wait_for(lock, kRendezvousTimeout, [this] { return arrived_ >= expected_; })) ++misses_;
  }
  int misses() {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_met_;
  const int expected_;
  int arrived_ = 0;
  int misses_ = 0;
};

void wait_for_count(const std::atomic<int>& counter, int target) {
  for (int seen = counter.load(); seen < target; seen = counter.load()) counter.wait(seen);
}

void bump(std::atomic<int>& counter) {
  counter.fetch_add(1);
  counter.notify_all();
}

}  // namespace

TEST_CASE("n jobs posted at once to n started workers all run at the same time",
          "[thread_pool][scheduling]") {
  const unsigned threads = GENERATE(2u, 3u, 4u);
  weft::ThreadPool pool(threads);
  // Rounds alternate between workers that are parked (after the pause) and
  // workers still spinning from the previous round.
  for (int round = 0; round < 20; ++round) {
    if (round % 2 == 0) std::this_thread::sleep_for(2ms);
    Rendezvous rendezvous(static_cast<int>(threads));
    std::atomic<int> done{0};
    for (unsigned i = 0; i < threads; ++i) {
      REQUIRE(pool.post([&] {
        rendezvous.arrive_and_wait();
        bump(done);
      }));
    }
    wait_for_count(done, static_cast<int>(threads));
    INFO("threads " << threads << ", round " << round);
    REQUIRE(rendezvous.misses() == 0);
  }
}

// Posts that find a wake-up on its way send none: the woken worker passes it
// on while work waits (thread_pool.cc, "No lost wake-up"). Here every round
// starts with the workers parked (spinning off) or mostly parked, and its
// jobs come one after another, from one thread or from several at once.
TEST_CASE("jobs posted one by one to parked workers all run at the same time",
          "[thread_pool][scheduling][stress]") {
  const unsigned threads = GENERATE(2u, 4u, 8u);
  const weft::SpinPolicy spin = GENERATE(weft::SpinPolicy::off, weft::SpinPolicy::adaptive);
  const unsigned posters = GENERATE(1u, 3u);
  weft::ThreadPoolOptions options;
  options.threads = threads;
  options.spin = spin;
  weft::ThreadPool pool(options);
  for (int round = 0; round < 30; ++round) {
    if (round % 3 != 2) std::this_thread::sleep_for(1ms);
    Rendezvous rendezvous(static_cast<int>(threads));
    std::atomic<int> done{0};
    std::atomic<int> refused{0};
    auto post_some = [&](unsigned count) {
      for (unsigned i = 0; i < count; ++i) {
        if (!pool.post([&] {
              rendezvous.arrive_and_wait();
              bump(done);
            })) {
          refused.fetch_add(1);
        }
      }
    };
    std::vector<std::thread> extra;
    for (unsigned p = 1; p < posters; ++p) {
      extra.emplace_back(post_some, threads / posters);
    }
    post_some(threads - (posters - 1) * (threads / posters));
    for (std::thread& t : extra) t.join();
    REQUIRE(refused.load() == 0);
    wait_for_count(done, static_cast<int>(threads));
    INFO("threads " << threads << ", posters " << posters << ", round " << round);
    REQUIRE(rendezvous.misses() == 0);
  }
  pool.shutdown();
  const weft::ThreadPoolStats stats = pool.stats();
  REQUIRE(stats.jobs_run == 30u * threads);
  REQUIRE(stats.wakeups <= stats.parks);
}

TEST_CASE("a job in a busy worker's batch starts when another worker becomes idle",
          "[thread_pool][scheduling]") {
  weft::ThreadPool pool(2);
  for (int round = 0; round < 5; ++round) {
    Gate gate_a;
    Gate gate_b;
    std::atomic<int> blockers_started{0};
    std::atomic<int> pair_started{0};
    std::atomic<int> done{0};
    // Both workers busy (one job at a time: the first one's worker cannot
    // take the second).
    REQUIRE(pool.post([&] {
      bump(blockers_started);
      gate_a.wait();
      bump(done);
    }));
    wait_for_count(blockers_started, 1);
    REQUIRE(pool.post([&] {
      bump(blockers_started);
      gate_b.wait();
      bump(done);
    }));
    wait_for_count(blockers_started, 2);
    // Two jobs that must run together, queued while both workers are busy.
    Rendezvous rendezvous(2);
    for (int i = 0; i < 2; ++i) {
      REQUIRE(pool.post([&] {
        bump(pair_started);
        rendezvous.arrive_and_wait();
        bump(done);
      }));
    }
    // One worker comes free and takes what is queued (possibly both jobs),
    // starts one of them; then the other worker comes free.
    gate_b.open();
    wait_for_count(pair_started, 1);
    gate_a.open();
    wait_for_count(done, 4);
    INFO("round " << round);
    REQUIRE(rendezvous.misses() == 0);
    // The worker that came free first took both jobs (the queue held two)
    // and waits in the first: the other worker took the second from its
    // batch.
    REQUIRE(pool.stats().steals == static_cast<std::uint64_t>(round) + 1);
  }
}

TEST_CASE("jobs run exactly once while idle workers take them from busy workers' batches",
          "[thread_pool][scheduling][stress]") {
  constexpr int kJobs = 4000;
  const unsigned threads = GENERATE(1u, 2u, 4u);
  std::vector<std::atomic<int>> runs(kJobs);
  std::atomic<int> done{0};
  {
    weft::ThreadPool pool(threads);
    std::thread posters[2];
    for (int p = 0; p < 2; ++p) {
      posters[p] = std::thread([&, p] {
        std::minstd_rand random(static_cast<unsigned>(p + 1));
        for (int i = p; i < kJobs; i += 2) {
          const bool slow = random() % 16 == 0;
          while (!pool.post([&, i, slow] {
            runs[i].fetch_add(1, std::memory_order_relaxed);
            if (slow) std::this_thread::sleep_for(50us);
            bump(done);
          })) {
          }
        }
      });
    }
    for (std::thread& poster : posters) poster.join();
    wait_for_count(done, kJobs);
  }
  int wrong = 0;
  for (const std::atomic<int>& count : runs) wrong += count.load() != 1;
  REQUIRE(wrong == 0);
}

TEST_CASE("shutdown in cancel mode runs or destroys each job exactly once while workers share batches",
          "[thread_pool][scheduling][stress]") {
  constexpr int kJobs = 2000;
  struct Tracked {
    std::atomic<int>* ran;
    std::atomic<int>* gone;
    bool slow;
    Tracked(std::atomic<int>* r, std::atomic<int>* g, bool s) : ran(r), gone(g), slow(s) {}
    Tracked(Tracked&& other) noexcept
        : ran(std::exchange(other.ran, nullptr)), gone(std::exchange(other.gone, nullptr)), slow(other.slow) {}
    ~Tracked() {
      if (gone != nullptr) gone->fetch_add(1);
    }
    void operator()() {
      ran->fetch_add(1);
      if (slow) std::this_thread::sleep_for(20us);
    }
  };
  std::vector<std::atomic<int>> ran(kJobs);
  std::vector<std::atomic<int>> gone(kJobs);
  weft::ThreadPool pool(3);
  for (int i = 0; i < kJobs; ++i) {
    REQUIRE(pool.post(Tracked(&ran[i], &gone[i], i % 7 == 0)));
  }
  pool.shutdown(weft::ShutdownMode::cancel);
  int wrong = 0;
  int ran_total = 0;
  for (int i = 0; i < kJobs; ++i) {
    wrong += gone[i].load() != 1 || ran[i].load() > 1;
    ran_total += ran[i].load();
  }
  REQUIRE(wrong == 0);
  const weft::ThreadPoolStats stats = pool.stats();
  REQUIRE(stats.jobs_run == static_cast<std::uint64_t>(ran_total));
  REQUIRE(stats.jobs_run + stats.jobs_cancelled == static_cast<std::uint64_t>(kJobs));
}

// The owner claims from the front of its batch without a read-modify-write
// and idle workers claim from the back (thread_pool.cc, "Hands"): here every
// round ends with the workers racing for the last items of full batches, and
// each job must be run once and destroyed once.
TEST_CASE("owner and thieves racing for the last items of a batch run each job exactly once",
          "[thread_pool][scheduling][stress]") {
  const unsigned threads = GENERATE(2u, 3u);
  constexpr int kRounds = 150;
  constexpr int kJobsPerRound = 4 * static_cast<int>(weft::ThreadPool::kMaxBatch);
  struct Job {
    std::atomic<int>* ran;
    std::atomic<int>* gone;
    std::atomic<int>* done;
    unsigned work;
    Job(std::atomic<int>* r, std::atomic<int>* g, std::atomic<int>* d, unsigned w)
        : ran(r), gone(g), done(d), work(w) {}
    Job(Job&& other) noexcept
        : ran(std::exchange(other.ran, nullptr)),
          gone(std::exchange(other.gone, nullptr)),
          done(std::exchange(other.done, nullptr)),
          work(other.work) {}
    ~Job() {
      if (gone != nullptr) gone->fetch_add(1);
    }
    void operator()() {
      ran->fetch_add(1);
      // Uneven lengths, so that owners and thieves meet at different items.
      for (unsigned i = 0; i < work; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);
      if (work % 8 == 1) std::this_thread::yield();
      bump(*done);
    }
  };
  std::vector<std::atomic<int>> ran(kJobsPerRound);
  std::vector<std::atomic<int>> gone(kJobsPerRound);
  std::minstd_rand random(threads);
  // Outlive the pool: a holder may still be returning from its gate's wait()
  // when the round ends.
  const auto gates = std::make_unique<Gate[]>(kRounds);
  std::atomic<int> holding{0};
  std::atomic<int> done{0};
  weft::ThreadPool pool(threads);
  int wrong = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kJobsPerRound; ++i) {
      ran[i].store(0);
      gone[i].store(0);
    }
    // Hold every worker, so the jobs pile up in the queue and the workers
    // take full batches when they are let go.
    Gate& gate = gates[round];
    for (unsigned w = 0; w < threads; ++w) {
      REQUIRE(pool.post([&] {
        bump(holding);
        gate.wait();
      }));
      wait_for_count(holding, round * static_cast<int>(threads) + static_cast<int>(w) + 1);
    }
    for (int i = 0; i < kJobsPerRound; ++i) {
      // Mostly empty jobs: the owner runs through its batch while the
      // others come for the back of it.
      const unsigned work = random() % 4 == 0 ? static_cast<unsigned>(random() % 64) : 0;
      REQUIRE(pool.post(Job(&ran[i], &gone[i], &done, work)));
    }
    gate.open();
    wait_for_count(done, (round + 1) * kJobsPerRound);
    // A job is destroyed just after it returns: wait for the last ones.
    for (int i = 0; i < kJobsPerRound; ++i) {
      while (gone[i].load() == 0) std::this_thread::yield();
    }
    for (int i = 0; i < kJobsPerRound; ++i) wrong += ran[i].load() != 1 || gone[i].load() != 1;
  }
  pool.shutdown();
  REQUIRE(wrong == 0);
  REQUIRE(pool.stats().jobs_run == static_cast<std::uint64_t>(kRounds) * (kJobsPerRound + threads));
}
