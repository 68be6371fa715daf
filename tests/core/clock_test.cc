#include "core/clock/clock.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;

TEST_CASE("the monotonic clock never goes back", "[clock]") {
  auto& clock = weft::MonotonicClock::instance();
  REQUIRE(clock.advances_by_itself());
  auto a = clock.now();
  std::this_thread::sleep_for(1ms);
  auto b = clock.now();
  REQUIRE(b - a >= 1ms);
}

TEST_CASE("a manual clock moves only when advanced, and never backwards", "[clock]") {
  weft::ManualClock clock;
  REQUIRE_FALSE(clock.advances_by_itself());
  auto start = clock.now();
  std::this_thread::sleep_for(1ms);
  REQUIRE(clock.now() == start);
  clock.advance(5ms);
  REQUIRE(clock.now() - start == 5ms);
  clock.advance(-3ms);
  REQUIRE(clock.now() - start == 5ms);
  clock.set(start + 2ms);
  REQUIRE(clock.now() - start == 5ms);
  clock.set(start + 9ms);
  REQUIRE(clock.now() - start == 9ms);
}
