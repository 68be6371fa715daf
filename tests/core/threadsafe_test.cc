// call_soon_threadsafe from many threads: nothing lost, nothing duplicated,
// per-thread order kept. Runs under TSan.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/loop/loop.h"

using namespace std::chrono_literals;

TEST_CASE("a million posts from four threads all run once, in each thread's order",
          "[threadsafe][stress]") {
  constexpr int kThreads = 4;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kPerThread = 50'000;
#else
  constexpr int kPerThread = 250'000;
#endif
  weft::Loop loop;
  std::vector<int> last_seen(kThreads, -1);
  std::vector<int> count(kThreads, 0);
  bool out_of_order = false;
  std::atomic<int> producers_done{0};
  int total = 0;

  // Keep the loop alive until every producer has finished and every post ran.
  std::function<void()> watchdog = [&] {
    if (producers_done.load() == kThreads && total == kThreads * kPerThread) return;
    loop.call_later(1ms, watchdog);
  };
  loop.call_soon(watchdog);

  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bool accepted = loop.call_soon_threadsafe([&, t, i] {
          if (i != last_seen[t] + 1) out_of_order = true;
          last_seen[t] = i;
          ++count[t];
          ++total;
        });
        if (!accepted) std::abort();
      }
      producers_done.fetch_add(1);
    });
  }
  loop.run();
  for (auto& p : producers) p.join();
  REQUIRE_FALSE(out_of_order);
  for (int t = 0; t < kThreads; ++t) REQUIRE(count[t] == kPerThread);
  REQUIRE(loop.stats().threadsafe_posts == static_cast<std::uint64_t>(kThreads * kPerThread));
}

TEST_CASE("a post from another thread wakes a loop blocked waiting", "[threadsafe]") {
  weft::Loop loop;
  bool got = false;
  loop.call_later(30s, [] {});  // gives the loop a reason to block
  std::thread poster([&] {
    std::this_thread::sleep_for(20ms);
    loop.call_soon_threadsafe([&] {
      got = true;
      loop.stop();
    });
  });
  auto start = std::chrono::steady_clock::now();
  loop.run();
  poster.join();
  REQUIRE(got);
  REQUIRE(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("ping-pong between a thread and the loop completes every round", "[threadsafe][stress]") {
  weft::Loop loop;
  constexpr int kRounds = 2000;
  std::mutex mutex;
  std::condition_variable cv;
  int replies = 0;
  std::thread peer([&] {
    for (int i = 0; i < kRounds; ++i) {
      loop.call_soon_threadsafe([&] {
        std::lock_guard<std::mutex> lock(mutex);
        ++replies;
        cv.notify_one();
      });
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return replies == i + 1; });
    }
    loop.call_soon_threadsafe([&] { loop.stop(); });
  });
  loop.call_later(60s, [] {});  // keep run() waiting between posts
  loop.run();
  peer.join();
  REQUIRE(replies == kRounds);
}
