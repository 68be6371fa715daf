// Futures completed and cancelled from other threads. Runs under TSan.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/future/future.h"

using namespace std::chrono_literals;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kScale = 1;
#else
constexpr int kScale = 5;
#endif

TEST_CASE("continuations run on the loop thread whichever thread completes the future",
          "[future][threads]") {
  weft::Loop loop;
  const auto loop_thread = std::this_thread::get_id();
  constexpr int kFutures = 1000;
  std::vector<weft::Promise<int>> promises;
  int sum = 0;
  bool wrong_thread = false;
  for (int i = 0; i < kFutures; ++i) {
    auto [p, f] = weft::make_promise<int>();
    std::move(f).then(loop, [&](weft::Result<int> r) {
      if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
      sum += r.value();
    });
    promises.push_back(std::move(p));
  }
  std::thread completer([&] {
    for (int i = 0; i < kFutures; ++i) promises[i].set_value(i);
  });
  loop.run();  // pending continuations keep it running until all arrive
  completer.join();
  REQUIRE_FALSE(wrong_thread);
  REQUIRE(sum == kFutures * (kFutures - 1) / 2);
}

TEST_CASE("cancel racing set_value from two threads: exactly one wins, the continuation runs once",
          "[future][threads][stress]") {
  weft::Loop loop;
  const int rounds = 2000 * kScale;
  int continuations = 0;
  int values = 0;
  int cancels = 0;
  std::atomic<int> set_wins{0};
  std::atomic<int> cancel_wins{0};
  for (int i = 0; i < rounds; ++i) {
    auto [p, f] = weft::make_promise<int>();
    f.then(loop, [&](weft::Result<int> r) {
      ++continuations;
      if (r.ok()) ++values;
      if (r.is_cancelled()) ++cancels;
    });
    std::thread setter([p = std::move(p), &set_wins]() mutable {
      if (p.set_value(1)) set_wins.fetch_add(1);
    });
    weft::Future<int>* future = &f;
    std::thread canceller([future, &cancel_wins] {
      if (future->cancel()) cancel_wins.fetch_add(1);
    });
    setter.join();
    canceller.join();
    if (i % 64 == 0) loop.poll();
  }
  loop.run();
  REQUIRE(continuations == rounds);
  REQUIRE(set_wins + cancel_wins == rounds);
  REQUIRE(values == set_wins.load());
  REQUIRE(cancels == cancel_wins.load());
}

TEST_CASE("a continuation attached from another thread runs on the loop", "[future][threads]") {
  weft::Loop loop;
  const auto loop_thread = std::this_thread::get_id();
  auto [promise, future] = weft::make_promise<int>();
  std::thread::id ran_on;
  int got = 0;
  std::thread attacher([&, f = std::move(future)]() mutable {
    std::move(f).then(loop, [&](weft::Result<int> r) {
      ran_on = std::this_thread::get_id();
      got = r.value();
    });
  });
  attacher.join();
  promise.set_value(5);
  loop.run();
  REQUIRE(got == 5);
  REQUIRE(ran_on == loop_thread);
}

TEST_CASE("blocking get waits for a value set on another thread", "[future][threads]") {
  auto [promise, future] = weft::make_promise<int>();
  std::thread producer([p = std::move(promise)]() mutable {
    std::this_thread::sleep_for(5ms);
    p.set_value(31);
  });
  REQUIRE(future.get() == 31);
  producer.join();
}

TEST_CASE("many threads completing many futures lose none", "[future][threads][stress]") {
  weft::Loop loop;
  constexpr int kThreads = 4;
  const int per_thread = 25'000 * kScale;
  std::vector<std::vector<weft::Promise<int>>> work(kThreads);
  long long sum = 0;
  int done = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < per_thread; ++i) {
      auto [p, f] = weft::make_promise<int>();
      std::move(f).then(loop, [&](weft::Result<int> r) {
        sum += r.value();
        ++done;
      });
      work[t].push_back(std::move(p));
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (auto& p : work[t]) p.set_value(1);
    });
  }
  loop.run();
  for (auto& th : threads) th.join();
  REQUIRE(done == kThreads * per_thread);
  REQUIRE(sum == static_cast<long long>(kThreads) * per_thread);
}
