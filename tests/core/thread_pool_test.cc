// weft::ThreadPool: every job runs exactly once, shutdown modes, refusal,
// exceptions, current(), and the park/wake path.
//
// Assertions run on the test's main thread only: workers record what they see
// and the main thread checks it after joining or waiting.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "core/error.h"
#include "core/executor/thread_pool.h"
#include "tests/core/executor_fixtures.h"

using weft_test::Gate;

namespace {

using namespace std::chrono_literals;

static_assert(weft::ExecutorLike<weft::ThreadPool>);

// Waits until `counter` reaches `target`.
void wait_for_count(const std::atomic<int>& counter, int target) {
  for (int seen = counter.load(); seen < target; seen = counter.load()) counter.wait(seen);
}

void bump(std::atomic<int>& counter) {
  counter.fetch_add(1);
  counter.notify_all();
}

// Counts how often instances of it were destroyed while still owning their
// "job" (i.e. destroyed unrun) and how often they ran.
struct Tracked {
  std::atomic<int>* ran;
  std::atomic<int>* dropped;
  bool live = true;

  Tracked(std::atomic<int>* r, std::atomic<int>* d) : ran(r), dropped(d) {}
  Tracked(Tracked&& other) noexcept : ran(other.ran), dropped(other.dropped), live(other.live) {
    other.live = false;
  }
  ~Tracked() {
    if (live) bump(*dropped);
  }
  void operator()() {
    live = false;
    ran->fetch_add(1);
  }
};

// Blocks `count` workers of `pool` (one at a time, so each lands on its own
// worker) until `gate` opens.
void occupy_workers(weft::ThreadPool& pool, int count, Gate& gate, std::atomic<int>& started) {
  for (int i = 0; i < count; ++i) {
    REQUIRE(pool.post([&] {
      bump(started);
      gate.wait();
    }));
    wait_for_count(started, i + 1);
  }
}

}  // namespace

TEST_CASE("a thread pool runs every job exactly once when several threads post at once",
          "[thread_pool]") {
  constexpr int kPosters = 4;
  constexpr int kJobsPerPoster = 250'000;
  constexpr int kJobs = kPosters * kJobsPerPoster;
  auto hits = std::make_unique<std::atomic<std::uint8_t>[]>(kJobs);
  std::atomic<int> refused{0};
  {
    weft::ThreadPool pool(2);
    std::vector<std::thread> posters;
    for (int p = 0; p < kPosters; ++p) {
      posters.emplace_back([&, p] {
        for (int i = 0; i < kJobsPerPoster; ++i) {
          const int id = p * kJobsPerPoster + i;
          if (!pool.post([&hits, id] { hits[id].fetch_add(1, std::memory_order_relaxed); })) {
            refused.fetch_add(1);
          }
        }
      });
    }
    for (std::thread& t : posters) t.join();
    pool.shutdown();
    CHECK(pool.stats().jobs_run == kJobs);
    CHECK(pool.stats().queued == 0);
  }
  CHECK(refused.load() == 0);
  int lost = 0;
  int duplicated = 0;
  for (int id = 0; id < kJobs; ++id) {
    const int n = hits[id].load();
    if (n == 0) ++lost;
    if (n > 1) ++duplicated;
  }
  CHECK(lost == 0);
  CHECK(duplicated == 0);
}

TEST_CASE("a job posted to an idle pool wakes a parked worker", "[thread_pool]") {
  weft::ThreadPool pool(2);
  std::atomic<int> done{0};
  // Round trips: each job is posted only after the previous one ran, so
  // workers keep going idle, spinning and parking between jobs.
  for (int i = 0; i < 2000; ++i) {
    if (i % 500 == 0) std::this_thread::sleep_for(20ms);  // let both workers park
    REQUIRE(pool.post([&] { bump(done); }));
    wait_for_count(done, i + 1);
  }
  CHECK(done.load() == 2000);
  pool.shutdown();
  const weft::ThreadPoolStats stats = pool.stats();
  CHECK(stats.jobs_run == 2000);
  CHECK(stats.parks >= 1);
}

TEST_CASE("shutdown in drain mode runs every job that was queued", "[thread_pool]") {
  weft::ThreadPool pool(2);
  Gate gate;
  std::atomic<int> started{0};
  occupy_workers(pool, 2, gate, started);
  std::atomic<int> ran{0};
  std::atomic<int> dropped{0};
  for (int i = 0; i < 1000; ++i) REQUIRE(pool.post(Tracked(&ran, &dropped)));

  std::thread closer([&] { pool.shutdown(weft::ShutdownMode::drain); });
  while (!pool.is_shut_down()) std::this_thread::yield();
  CHECK_FALSE(pool.post([] {}));  // refused at once, while the drain goes on
  gate.open();
  closer.join();

  CHECK(ran.load() == 1000);
  CHECK(dropped.load() == 0);
  CHECK(pool.stats().jobs_run == 1002);
  CHECK(pool.stats().jobs_cancelled == 0);
}

TEST_CASE("shutdown in cancel mode destroys queued jobs without running them",
          "[thread_pool]") {
  weft::ThreadPool pool(2);
  Gate gate;
  std::atomic<int> started{0};
  occupy_workers(pool, 2, gate, started);
  std::atomic<int> ran{0};
  std::atomic<int> dropped{0};
  for (int i = 0; i < 1000; ++i) REQUIRE(pool.post(Tracked(&ran, &dropped)));

  std::thread closer([&] { pool.shutdown(weft::ShutdownMode::cancel); });
  wait_for_count(dropped, 1000);  // destroyed by shutdown before it joins
  gate.open();
  closer.join();

  CHECK(ran.load() == 0);
  CHECK(dropped.load() == 1000);
  const weft::ThreadPoolStats stats = pool.stats();
  CHECK(stats.jobs_cancelled == 1000);
  CHECK(stats.jobs_run == 2);
}

TEST_CASE("a pool refuses work after shutdown and destroys a refused callback",
          "[thread_pool]") {
  weft::ThreadPool pool(1);
  pool.shutdown();
  CHECK(pool.is_shut_down());

  std::atomic<int> ran{0};
  std::atomic<int> dropped{0};
  CHECK_FALSE(pool.execute(weft::Callback(Tracked(&ran, &dropped))));
  CHECK(dropped.load() == 1);

  bool called = false;
  CHECK_FALSE(pool.post([&called] { called = true; }));
  CHECK_FALSE(called);
  CHECK(ran.load() == 0);
}

TEST_CASE("shutdown can be repeated and called from several threads at once", "[thread_pool]") {
  weft::ThreadPool pool(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10'000; ++i) REQUIRE(pool.post([&] { ran.fetch_add(1); }));
  std::vector<std::thread> closers;
  for (int i = 0; i < 3; ++i) closers.emplace_back([&] { pool.shutdown(); });
  for (std::thread& t : closers) t.join();
  pool.shutdown();
  pool.shutdown(weft::ShutdownMode::cancel);
  CHECK(ran.load() == 10'000);
}

TEST_CASE("destroying a pool runs what is still queued", "[thread_pool]") {
  std::atomic<int> ran{0};
  {
    weft::ThreadPool pool(2);
    for (int i = 0; i < 10'000; ++i) REQUIRE(pool.post([&] { ran.fetch_add(1); }));
  }
  CHECK(ran.load() == 10'000);
}

TEST_CASE("an exception thrown by a job goes to the handler and the worker carries on",
          "[thread_pool]") {
  std::mutex mutex;
  std::vector<std::string> messages;
  weft::ThreadPoolOptions options;
  options.threads = 1;
  options.on_exception = [&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.emplace_back(ex.what());
    }
  };
  weft::ThreadPool pool(options);
  std::atomic<int> ran{0};
  REQUIRE(pool.post([] { throw std::runtime_error("first"); }));
  REQUIRE(pool.post([&] { ran.fetch_add(1); }));
  REQUIRE(pool.post([] { throw std::runtime_error("second"); }));
  REQUIRE(pool.post([&] { ran.fetch_add(1); }));
  pool.shutdown();

  CHECK(ran.load() == 2);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == "first");
  CHECK(messages[1] == "second");
  CHECK(pool.stats().jobs_failed == 2);
  CHECK(pool.stats().jobs_run == 4);
}

TEST_CASE("without a handler an exception from a job is reported and the worker carries on",
          "[thread_pool]") {
  weft::ThreadPool pool(1);
  std::atomic<int> ran{0};
  REQUIRE(pool.post([] { throw std::runtime_error("expected by the test: reported on stderr"); }));
  REQUIRE(pool.post([] { throw 42; }));
  REQUIRE(pool.post([&] { ran.fetch_add(1); }));
  pool.shutdown();
  CHECK(ran.load() == 1);
  CHECK(pool.stats().jobs_failed == 2);
}

TEST_CASE("shutdown called from a worker of the same pool is refused instead of deadlocking",
          "[thread_pool]") {
  weft::ThreadPool pool(2);
  std::atomic<int> done{0};
  std::atomic<int> code{-1};
  REQUIRE(pool.post([&] {
    try {
      weft::ThreadPool::current()->shutdown();
    } catch (const weft::Exception& e) {
      code.store(static_cast<int>(e.code()));
    }
    bump(done);
  }));
  wait_for_count(done, 1);
  CHECK(code.load() == static_cast<int>(weft::Errc::invalid_state));
  CHECK_FALSE(pool.is_shut_down());
  CHECK(pool.post([&] { bump(done); }));  // still accepting work
  wait_for_count(done, 2);
}

TEST_CASE("current() names the pool of the calling worker and is null elsewhere",
          "[thread_pool]") {
  weft::ThreadPool first(1);
  weft::ThreadPool second(1);
  CHECK(weft::ThreadPool::current() == nullptr);
  std::atomic<weft::ThreadPool*> seen_first{nullptr};
  std::atomic<weft::ThreadPool*> seen_second{nullptr};
  REQUIRE(first.post([&] { seen_first = weft::ThreadPool::current(); }));
  REQUIRE(second.post([&] { seen_second = weft::ThreadPool::current(); }));
  first.shutdown();
  second.shutdown();
  CHECK(seen_first.load() == &first);
  CHECK(seen_second.load() == &second);
}

TEST_CASE("a pool has the number of workers asked for, at least one by default",
          "[thread_pool]") {
  weft::ThreadPool three(3);
  CHECK(three.thread_count() == 3);
  weft::ThreadPool by_default;
  CHECK(by_default.thread_count() >= 1);
  weft::ThreadPoolOptions options;
  options.threads = 2;
  options.name = "crunch";
  weft::ThreadPool named(options);
  CHECK(named.thread_count() == 2);
  CHECK(named.name() == "crunch");
}

#if defined(__linux__)
TEST_CASE("workers are named after the pool", "[thread_pool]") {
  weft::ThreadPoolOptions options;
  options.threads = 1;
  options.name = "crunch";
  weft::ThreadPool pool(options);
  std::string name;
  REQUIRE(pool.post([&name] {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    name = buffer;
  }));
  pool.shutdown();
  CHECK(name == "crunch-0");
}
#endif

TEST_CASE("a job can post more jobs to its own pool", "[thread_pool]") {
  weft::ThreadPool pool(2);
  std::atomic<int> done{0};
  constexpr int kChain = 10'000;
  struct Chain {
    std::atomic<int>* done;
    int left;
    void operator()() const {
      bump(*done);
      if (left > 0) (void)weft::ThreadPool::current()->post(Chain{done, left - 1});
    }
  };
  REQUIRE(pool.post(Chain{&done, kChain - 1}));
  wait_for_count(done, kChain);
  pool.shutdown();
  CHECK(done.load() == kChain);
}

TEST_CASE("a pool runs callables too big for the inline buffer", "[thread_pool]") {
  weft::ThreadPool pool(2);
  std::atomic<long> sum{0};
  for (int i = 0; i < 100; ++i) {
    std::array<long, 32> payload{};
    payload.fill(i);
    REQUIRE(pool.post([payload, &sum] { sum.fetch_add(payload[0] + payload[31]); }));
  }
  pool.shutdown();
  CHECK(sum.load() == 2 * (99 * 100 / 2));
}
