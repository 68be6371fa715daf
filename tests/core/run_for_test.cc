// run_for(budget): how a host's frame loop gives weft a slice of time.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "core/clock/clock.h"
#include "core/loop/loop.h"

using namespace std::chrono_literals;

TEST_CASE("run_for runs at least one callback even with a zero budget", "[run_for]") {
  weft::Loop loop;
  int ran = 0;
  for (int i = 0; i < 5; ++i) loop.call_soon([&] { ++ran; });
  auto report = loop.run_for(0ns);
  REQUIRE(report.ran == 1);
  REQUIRE(ran == 1);
  REQUIRE(report.ready == 4);
}

TEST_CASE("run_for stops when its budget is spent and reports what is left", "[run_for]") {
  weft::Loop loop;
  int ran = 0;
  for (int i = 0; i < 100; ++i) {
    loop.call_soon([&] {
      ++ran;
      std::this_thread::sleep_for(1ms);
    });
  }
  auto start = std::chrono::steady_clock::now();
  auto report = loop.run_for(10ms);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(report.ran == static_cast<std::size_t>(ran));
  REQUIRE(ran >= 1);
  REQUIRE(ran < 100);
  REQUIRE(report.ready == static_cast<std::size_t>(100 - ran));
  // The budget is checked after every callback: the overshoot is at most one
  // callback (1 ms here) plus scheduling noise, never the whole queue.
  REQUIRE(took < 100ms);
}

TEST_CASE("run_for returns early when nothing is ready and reports the next timer", "[run_for]") {
  weft::ManualClock clock;
  weft::Loop loop(weft::LoopOptions{&clock});
  int fired = 0;
  loop.call_later(50ms, [&] { ++fired; });
  loop.call_soon([] {});
  auto report = loop.run_for(1s);
  REQUIRE(report.ran == 1);
  REQUIRE(report.ready == 0);
  REQUIRE(report.next_timer.has_value());
  REQUIRE(*report.next_timer == clock.now() + 50ms);
  clock.advance(50ms);
  report = loop.run_for(1s);
  REQUIRE(fired == 1);
  REQUIRE(report.ran == 1);
  REQUIRE_FALSE(report.next_timer.has_value());
}

TEST_CASE("run_for never sleeps when nothing is ready", "[run_for]") {
  weft::Loop loop;
  loop.call_later(10s, [] {});
  auto start = std::chrono::steady_clock::now();
  auto report = loop.run_for(200ms);
  REQUIRE(report.ran == 0);
  REQUIRE(std::chrono::steady_clock::now() - start < 150ms);
}

TEST_CASE("a frame loop stepping a manual clock runs every timer on its frame", "[run_for]") {
  weft::ManualClock clock;
  weft::Loop loop(weft::LoopOptions{&clock});
  std::vector<int> fired_on_frame;
  int frame = 0;
  for (int i = 1; i <= 5; ++i) {
    loop.call_later(std::chrono::milliseconds(16 * i), [&] { fired_on_frame.push_back(frame); });
  }
  for (frame = 1; frame <= 6; ++frame) {
    clock.advance(16ms);
    loop.run_for(2ms);
  }
  REQUIRE(fired_on_frame == std::vector<int>{1, 2, 3, 4, 5});
}

TEST_CASE("stop during run_for is reported", "[run_for]") {
  weft::Loop loop;
  loop.call_soon([&] { loop.stop(); });
  loop.call_soon([] {});
  auto report = loop.run_for(1s);
  REQUIRE(report.stopped);
  REQUIRE(report.ran == 1);
  REQUIRE(report.ready == 1);
}
