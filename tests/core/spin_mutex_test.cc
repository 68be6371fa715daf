// weft::detail::SpinMutex: mutual exclusion whether callers spin or sleep at
// once, sleepers are woken when the holder unlocks, and it works as a
// Lockable (std::lock_guard). Stress cases for TSan.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/detail/spin_mutex.h"

using namespace std::chrono_literals;

TEST_CASE("SpinMutex excludes: threads that spin and threads that sleep add without losing an update",
          "[spin_mutex][stress]") {
  weft::detail::SpinMutex mutex;
  std::uint64_t counter = 0;  // guarded by mutex (TSan checks it)
  int inside = 0;             // guarded: never 2
  int overlaps = 0;
  constexpr int kThreads = 4;
  constexpr int kRounds = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        // Half the callers spin, half sleep at once; some hold the lock
        // long enough for the others to reach the futex.
        weft::detail::SpinMutexGuard guard(mutex, (t + i) % 2 == 0);
        if (++inside != 1) ++overlaps;
        ++counter;
        if (i % 997 == 0) std::this_thread::yield();
        --inside;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE(overlaps == 0);
  REQUIRE(counter == static_cast<std::uint64_t>(kThreads) * kRounds);
}

TEST_CASE("SpinMutex wakes a thread sleeping on it when the holder unlocks", "[spin_mutex]") {
  for (const bool spin : {false, true}) {
    weft::detail::SpinMutex mutex;
    mutex.lock();
    std::atomic<bool> acquired{false};
    std::thread waiter([&] {
      weft::detail::SpinMutexGuard guard(mutex, spin);
      acquired.store(true);
    });
    // Long enough for the waiter to give up spinning and sleep.
    std::this_thread::sleep_for(20ms);
    REQUIRE_FALSE(acquired.load());
    mutex.unlock();
    waiter.join();
    REQUIRE(acquired.load());
    // Free again: a plain lock() takes it at once.
    std::lock_guard<weft::detail::SpinMutex> again(mutex);
  }
}
