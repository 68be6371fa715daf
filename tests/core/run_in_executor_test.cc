// weft::run_in_executor: results, void, exceptions, refusal, cancellation,
// and continuations that run on the loop thread while loop.run() waits.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/executor/inline_executor.h"
#include "core/executor/loop_executor.h"
#include "core/executor/run_in_executor.h"
#include "core/executor/strand.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "core/task/task.h"
#include "tests/core/executor_fixtures.h"

using weft_test::Gate;
using weft_test::ManualExecutor;

namespace {

using namespace std::chrono_literals;

// Occupies the only worker of `pool` until `gate` opens.
void occupy_worker(weft::ThreadPool& pool, Gate& gate) {
  std::atomic<bool> started{false};
  REQUIRE(pool.post([&] {
    started.store(true);
    started.notify_all();
    gate.wait();
  }));
  started.wait(false);
}

}  // namespace

TEST_CASE("run_in_executor runs the function on the pool and its continuation on the loop",
          "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(2);
  const std::thread::id main_thread = std::this_thread::get_id();
  std::atomic<std::thread::id> worker_thread{};

  weft::Future<int> future = weft::run_in_executor(loop, pool, [&] {
    worker_thread = std::this_thread::get_id();
    std::this_thread::sleep_for(20ms);  // loop.run() must wait for it
    return 42;
  });
  CHECK(future.home_loop() == &loop);

  std::optional<int> value;
  std::thread::id continuation_thread;
  std::move(future).then([&](weft::Result<int> r) {  // the home loop
    value = r.value();
    continuation_thread = std::this_thread::get_id();
  });
  loop.run();  // returns once the continuation ran

  REQUIRE(value.has_value());
  CHECK(*value == 42);
  CHECK(continuation_thread == main_thread);
  CHECK(worker_thread.load() != main_thread);
}

TEST_CASE("run_in_executor supports functions that return nothing", "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  std::atomic<bool> ran{false};
  weft::Future<void> future = weft::run_in_executor(loop, pool, [&ran] { ran = true; });
  bool ok = false;
  std::move(future).then([&ok](weft::Result<void> r) { ok = r.ok(); });
  loop.run();
  CHECK(ran.load());
  CHECK(ok);
}

TEST_CASE("run_in_executor moves the result out of the function", "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  auto future = weft::run_in_executor(loop, pool, [] { return std::string(1000, 'x'); });
  weft::Result<std::string> result = weft::run_until_complete(loop, future);
  REQUIRE(result.ok());
  CHECK(result.value().size() == 1000);
}

TEST_CASE("an exception thrown by the function fails the future with that exception",
          "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  auto future = weft::run_in_executor(loop, pool, []() -> int { throw std::runtime_error("boom"); });
  weft::Result<int> result = weft::run_until_complete(loop, future);
  REQUIRE(result.has_exception());
  CHECK_THROWS_WITH(result.value(), "boom");
  CHECK(pool.stats().jobs_failed == 0);  // the job itself did not throw
}

TEST_CASE("an executor that refuses the job fails the future with closed", "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  pool.shutdown();
  bool called = false;
  auto future = weft::run_in_executor(loop, pool, [&called] {
    called = true;
    return 1;
  });
  REQUIRE(future.ready());
  weft::Result<int> result = future.result();
  CHECK(result.has_error());
  CHECK(result.error().code() == weft::Errc::closed);
  CHECK_FALSE(called);
}

TEST_CASE("a pool shut down in cancel mode ends the future as cancelled, not broken",
          "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  Gate gate;
  occupy_worker(pool, gate);
  std::atomic<bool> called{false};
  auto future = weft::run_in_executor(loop, pool, [&called] { called = true; });

  std::thread closer([&] { pool.shutdown(weft::ShutdownMode::cancel); });
  future.wait();  // completed by shutdown on the closer thread
  gate.open();
  closer.join();

  CHECK(future.cancelled());
  weft::Result<void> result = future.result();
  CHECK(result.is_cancelled());
  CHECK(result.error().code() == weft::Errc::cancelled);
  CHECK_FALSE(called.load());
}

TEST_CASE("a future cancelled before its job starts skips the function", "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  Gate gate;
  occupy_worker(pool, gate);
  std::atomic<bool> called{false};
  auto future = weft::run_in_executor(loop, pool, [&called] {
    called = true;
    return 7;
  });
  CHECK(future.cancel());
  gate.open();
  pool.shutdown();  // the job has run (and skipped the function)
  CHECK_FALSE(called.load());
  CHECK(future.result().is_cancelled());
}

TEST_CASE("a strand that drops an accepted job cancels its future; one it refuses is closed",
          "[run_in_executor][strand]") {
  weft::Loop loop;
  ManualExecutor manual;
  weft::Strand strand(manual);
  std::vector<weft::Future<int>> accepted;
  for (int i = 0; i < 100; ++i) {
    accepted.push_back(weft::run_in_executor(loop, strand, [i] { return i; }));
  }
  REQUIRE(manual.pending.size() == 1);
  manual.refuse = true;
  weft::Callback drain = std::move(manual.pending.front());
  manual.pending.clear();
  drain.invoke_once();  // runs one batch, then its re-post is refused

  const std::size_t batch = weft::Strand::kBatch;
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    REQUIRE(accepted[i].ready());
    weft::Result<int> r = accepted[i].result();
    if (i < batch) {
      CHECK(r.value() == static_cast<int>(i));
    } else {
      CHECK(r.is_cancelled());
    }
  }
  auto refused = weft::run_in_executor(loop, strand, [] { return 0; });
  CHECK(refused.result().error().code() == weft::Errc::closed);
}

TEST_CASE("run_in_executor works on an InlineExecutor and a LoopExecutor", "[run_in_executor]") {
  weft::Loop loop;
  const std::thread::id main_thread = std::this_thread::get_id();

  weft::InlineExecutor inline_executor;
  auto now = weft::run_in_executor(loop, inline_executor, [] { return 1; });
  CHECK(now.ready());  // ran inside run_in_executor
  CHECK(now.get() == 1);

  weft::LoopExecutor loop_executor(loop);
  std::thread::id ran_on;
  auto later = weft::run_in_executor(loop, loop_executor, [&ran_on] {
    ran_on = std::this_thread::get_id();
    return 2;
  });
  CHECK_FALSE(later.ready());
  CHECK(weft::run_until_complete(loop, later).value() == 2);
  CHECK(ran_on == main_thread);
}

TEST_CASE("many offloaded calls with a bounded number in flight all complete on the loop",
          "[run_in_executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(2);
  constexpr std::uint64_t kCalls = 5'000;
  constexpr std::uint64_t kMaxInFlight = 64;
  struct State {
    weft::Loop& loop;
    weft::ThreadPool& pool;
    std::uint64_t launched = 0;
    std::uint64_t completed = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t sum = 0;
    int off_loop = 0;
    std::thread::id loop_thread = std::this_thread::get_id();
  } state{loop, pool};

  struct Launch {
    static void one(State& s) {
      const std::uint64_t i = s.launched++;
      ++s.in_flight;
      weft::run_in_executor(s.loop, s.pool, [i] { return i; })
          .then([&s](weft::Result<std::uint64_t> r) {
            if (std::this_thread::get_id() != s.loop_thread) ++s.off_loop;
            s.sum += r.value();
            --s.in_flight;
            ++s.completed;
            if (s.launched < kCalls) one(s);
          });
    }
  };
  loop.call_soon([&state] {
    while (state.launched < kCalls && state.in_flight < kMaxInFlight) Launch::one(state);
  });
  loop.run();
  pool.shutdown();
  CHECK(state.completed == kCalls);
  CHECK(state.sum == kCalls * (kCalls - 1) / 2);
  CHECK(state.off_loop == 0);
}
