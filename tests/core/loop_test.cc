#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("call_soon runs callbacks in the order they were posted", "[loop]") {
  weft::Loop loop;
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.run();
  REQUIRE(order.size() == 1000);
  for (int i = 0; i < 1000; ++i) REQUIRE(order[i] == i);
}

TEST_CASE("callbacks posted by a callback run after those already queued", "[loop]") {
  weft::Loop loop;
  std::vector<char> order;
  loop.call_soon([&] {
    order.push_back('a');
    loop.call_soon([&] { order.push_back('c'); });
  });
  loop.call_soon([&] { order.push_back('b'); });
  loop.run();
  REQUIRE(order == std::vector<char>{'a', 'b', 'c'});
}

TEST_CASE("run returns when nothing is left to do", "[loop]") {
  weft::Loop loop;
  loop.run();  // empty: returns at once
  int n = 0;
  loop.call_soon([&] { ++n; });
  loop.run();
  REQUIRE(n == 1);
}

TEST_CASE("a long chain of re-posting callbacks runs to the end", "[loop]") {
  weft::Loop loop;
  int remaining = 100000;
  struct Step {
    weft::Loop* loop;
    int* remaining;
    void operator()() const {
      if (--*remaining > 0) loop->call_soon(*this);
    }
  };
  loop.call_soon(Step{&loop, &remaining});
  loop.run();
  REQUIRE(remaining == 0);
  REQUIRE(loop.stats().callbacks_run == 100000);
}

TEST_CASE("stop makes run return after the current callback", "[loop]") {
  weft::Loop loop;
  std::vector<int> ran;
  loop.call_soon([&] { ran.push_back(1); });
  loop.call_soon([&] {
    ran.push_back(2);
    loop.stop();
  });
  loop.call_soon([&] { ran.push_back(3); });
  loop.run();
  REQUIRE(ran == std::vector<int>{1, 2});
  loop.run();
  REQUIRE(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("stop from another thread ends a run that waits on a timer", "[loop]") {
  weft::Loop loop;
  bool fired = false;
  loop.call_later(60s, [&] { fired = true; });
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    loop.stop();
  });
  auto start = std::chrono::steady_clock::now();
  loop.run();
  stopper.join();
  REQUIRE_FALSE(fired);
  REQUIRE(std::chrono::steady_clock::now() - start < 30s);
}

TEST_CASE("run_once runs only the callbacks that were ready when it started", "[loop]") {
  weft::Loop loop;
  int first = 0;
  int second = 0;
  loop.call_soon([&] {
    ++first;
    loop.call_soon([&] { ++second; });
  });
  REQUIRE(loop.run_once() == 1);
  REQUIRE(first == 1);
  REQUIRE(second == 0);
  REQUIRE(loop.run_once() == 1);
  REQUIRE(second == 1);
}

TEST_CASE("run_once with nothing that can happen returns at once", "[loop]") {
  weft::Loop loop;
  REQUIRE(loop.run_once() == 0);
}

TEST_CASE("run_once waits for the next timer when nothing is ready", "[loop]") {
  weft::Loop loop;
  bool fired = false;
  loop.call_later(5ms, [&] { fired = true; });
  std::size_t ran = 0;
  while (ran == 0) ran = loop.run_once();
  REQUIRE(fired);
}

TEST_CASE("poll never blocks", "[loop]") {
  weft::Loop loop;
  bool fired = false;
  loop.call_later(10s, [&] { fired = true; });
  auto start = std::chrono::steady_clock::now();
  REQUIRE(loop.poll() == 0);
  REQUIRE(std::chrono::steady_clock::now() - start < 1s);
  REQUIRE_FALSE(fired);
  loop.call_soon([] {});
  REQUIRE(loop.poll() == 1);
}

TEST_CASE("running a loop from inside its own callback is refused", "[loop]") {
  weft::Loop loop;
  weft::Errc seen = weft::Errc::ok;
  loop.call_soon([&] {
    try {
      loop.run();
    } catch (const weft::Exception& e) {
      seen = e.code();
    }
  });
  loop.run();
  REQUIRE(seen == weft::Errc::reentrant_run);
}

TEST_CASE("Loop::current names the loop running on this thread", "[loop]") {
  weft::Loop loop;
  REQUIRE(weft::Loop::current() == nullptr);
  weft::Loop* seen = nullptr;
  loop.call_soon([&] { seen = weft::Loop::current(); });
  loop.run();
  REQUIRE(seen == &loop);
  REQUIRE(weft::Loop::current() == nullptr);
}

TEST_CASE("counters report callbacks, timers and iterations", "[loop][diagnostics]") {
  weft::Loop loop;
  for (int i = 0; i < 10; ++i) loop.call_soon([] {});
  auto timer = loop.call_later(1ms, [] {});
  auto cancelled = loop.call_later(1h, [] {});
  REQUIRE(loop.stats().ready_depth == 10);
  REQUIRE(loop.stats().timers_pending == 2);
  cancelled.cancel();
  loop.run();
  auto stats = loop.stats();
  REQUIRE(stats.callbacks_run == 11);
  REQUIRE(stats.timers_armed == 2);
  REQUIRE(stats.timers_fired == 1);
  REQUIRE(stats.timers_cancelled == 1);
  REQUIRE(stats.iterations >= 1);
  REQUIRE(stats.ready_depth == 0);
  REQUIRE_FALSE(timer.pending());
}

#ifndef NDEBUG
TEST_CASE("debug builds refuse call_soon from a thread that does not own the loop", "[loop]") {
  weft::Loop loop;
  weft::Errc seen = weft::Errc::ok;
  std::thread other([&] {
    try {
      loop.call_soon([] {});
    } catch (const weft::Exception& e) {
      seen = e.code();
    }
  });
  other.join();
  REQUIRE(seen == weft::Errc::wrong_thread);
}
#endif

TEST_CASE("a loop not running may be run by another thread, which then owns it", "[loop]") {
  weft::Loop loop;
  std::thread::id ran_on;
  loop.call_soon([&] { ran_on = std::this_thread::get_id(); });
  std::thread other([&] {
    loop.run();
    REQUIRE_NOTHROW(loop.call_soon([] {}));  // the runner owns it now
    loop.run();
  });
  other.join();
  REQUIRE(ran_on != std::this_thread::get_id());
  REQUIRE(ran_on != std::thread::id());
}

TEST_CASE("a keep-alive keeps run() waiting for posts from another thread", "[loop]") {
  weft::Loop loop;
  auto hold = loop.keep_alive();
  int got = 0;
  std::thread poster([&, hold = std::move(hold)]() mutable {
    std::this_thread::sleep_for(10ms);
    for (int i = 0; i < 3; ++i) loop.call_soon_threadsafe([&] { ++got; });
    hold.reset();  // the last keep-alive gone: run() may return once idle
  });
  loop.run();
  poster.join();
  REQUIRE(got == 3);
}

TEST_CASE("the loop wakes for a timer that falls due just as libuv starts to poll", "[loop]") {
  // A libuv timer of someone else's, due at once, burns 60 ms and moves
  // libuv's clock on: weft's 50 ms sleep timer then falls due inside the same
  // pass of libuv's timers, before libuv computes how long to poll (the window
  // a preemption opens on a busy machine).
  uv_timer_t foreign;
  weft::Loop loop;
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 500 && !finished.load(); ++i) std::this_thread::sleep_for(10ms);
    loop.stop();  // a hung poll would only end here
  });
  uv_timer_init(weft::detail::LoopAccess::uv_loop(loop), &foreign);
  uv_timer_start(&foreign, [](uv_timer_t* timer) {
    const auto until = std::chrono::steady_clock::now() + 60ms;
    while (std::chrono::steady_clock::now() < until) {
    }
    uv_update_time(timer->loop);
  }, 0, 0);
  bool fired = false;
  // Armed from the loop, so that the loop goes straight to a blocking poll.
  loop.call_soon([&] { loop.call_later(50ms, [&] { fired = true; }); });
  const auto start = std::chrono::steady_clock::now();
  loop.run();
  const auto took = std::chrono::steady_clock::now() - start;
  finished = true;
  watchdog.join();
  REQUIRE(fired);
  REQUIRE(took < 1s);
  uv_close(reinterpret_cast<uv_handle_t*>(&foreign), nullptr);
  loop.poll();
}
