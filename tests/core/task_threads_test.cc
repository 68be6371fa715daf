// Tasks and other threads: cancelling while a future completes from another
// thread, cancel/wait/release from other threads, frames freed elsewhere.
// Meant for ThreadSanitizer (bazel test --config=tsan).
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/executor/run_in_executor.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/task/combinators.h"
#include "core/task/task.h"

using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kRounds = 200;
#else
constexpr int kRounds = 2000;
#endif

}  // namespace

TEST_CASE("cancelling a task while another thread completes its future: one outcome, no race",
          "[threads][cancel]") {
  int values = 0;
  int cancellations = 0;
  for (int round = 0; round < kRounds; ++round) {
    weft::Loop loop;
    auto [promise, future] = weft::make_promise<int>();
    auto body = [f = std::move(future)]() mutable -> weft::Task<int> { co_return co_await std::move(f); };
    auto h = weft::spawn(loop, body());
    loop.run_once();  // the task waits on the future now
    std::atomic<bool> go{false};
    std::thread completer([&, p = std::move(promise)]() mutable {
      while (!go.load(std::memory_order_acquire)) {
      }
      p.set_value(round);
    });
    std::thread canceller([&, handle = h]() mutable {
      while (!go.load(std::memory_order_acquire)) {
      }
      handle.cancel();  // posted to the loop
    });
    go.store(true, std::memory_order_release);
    completer.join();
    canceller.join();
    loop.run();
    REQUIRE(h.done());
    if (h.cancelled()) {
      ++cancellations;
    } else {
      REQUIRE(h.get() == round);
      ++values;
    }
  }
  REQUIRE(values + cancellations == kRounds);
}

TEST_CASE("a running loop takes cancellations, waits and handle releases from other threads",
          "[threads]") {
  weft::Loop loop;
  auto keep = loop.keep_alive();
  std::atomic<bool> ready{false};
  std::vector<weft::TaskHandle<int>> handles;
  auto body = [](int i) -> weft::Task<int> {
    co_await weft::sleep(1h);
    co_return i;
  };
  // Spawned on the loop's thread, once it runs there.
  loop.call_soon_threadsafe([&] {
    for (int i = 0; i < 100; ++i) handles.push_back(weft::spawn(body(i)));
    ready.store(true, std::memory_order_release);
  });
  std::thread runner([&] { loop.run(); });
  while (!ready.load(std::memory_order_acquire)) std::this_thread::yield();
  std::atomic<int> confirmed{0};  // (Catch2 v2 assertions are not thread-safe)
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 100; i += 4) {
        weft::TaskHandle<int> mine = handles[i];  // copied here
        const bool asked = mine.cancel();
        mine.wait();
        if (asked && mine.cancelled()) ++confirmed;
      }  // released here, on another thread
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(confirmed == 100);
  loop.call_soon_threadsafe([&] { handles.clear(); });  // the last references, on the loop
  loop.stop();
  keep.reset();
  runner.join();
  REQUIRE(loop.stats().tasks_alive == 0);
}

TEST_CASE("a task's last handle may be released on another thread while the loop runs", "[threads]") {
  weft::Loop loop;
  auto body = []() -> weft::Task<int> { co_return 5; };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.get() == 5);
  std::thread([moved = std::move(h)]() mutable { moved = {}; }).join();  // frees via the pool's remote list
  auto again = weft::spawn(loop, body());  // the pool takes the block back
  loop.run();
  REQUIRE(again.get() == 5);
}

TEST_CASE("tasks await results computed on a thread pool", "[threads][executor]") {
  weft::Loop loop;
  weft::ThreadPool pool(2);
  auto body = [&](int i) -> weft::Task<int> {
    auto square = [i] { return i * i; };
    int v = co_await weft::run_in_executor(pool, square);  // the running loop
    co_return v;
  };
  auto all = [&]() -> weft::Task<long> {
    std::vector<weft::TaskHandle<int>> handles;
    for (int i = 0; i < 200; ++i) handles.push_back(weft::spawn(body(i)));
    long sum = 0;
    for (int v : co_await weft::gather(std::move(handles))) sum += v;
    co_return sum;
  };
  REQUIRE(weft::run_until_complete(loop, all()).value() == 2'646'700);
}
