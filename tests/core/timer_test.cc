// Loop timers on the manual clock: exact, deterministic time.
#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "core/clock/clock.h"
#include "core/loop/loop.h"
#include "tests/core/manual_loop.h"

using namespace std::chrono_literals;
using weft_test::ManualLoop;

TEST_CASE("a timer fires exactly when the manual clock reaches its deadline", "[timer]") {
  ManualLoop m;
  int fired = 0;
  m.loop.call_later(10ms, [&] { ++fired; });
  m.loop.poll();
  REQUIRE(fired == 0);
  m.clock.advance(9ms);
  m.loop.poll();
  REQUIRE(fired == 0);  // never early
  m.clock.advance(1ms);
  m.loop.poll();
  REQUIRE(fired == 1);
}

TEST_CASE("timers fire in deadline order and equal deadlines in arming order", "[timer]") {
  ManualLoop m;
  std::vector<int> order;
  m.loop.call_later(30ms, [&] { order.push_back(30); });
  m.loop.call_later(10ms, [&] { order.push_back(10); });
  m.loop.call_later(20ms, [&] { order.push_back(21); });
  m.loop.call_later(20ms, [&] { order.push_back(22); });
  m.loop.call_at(m.clock.now() + 20ms, [&] { order.push_back(23); });
  m.clock.advance(1s);
  m.loop.poll();
  REQUIRE(order == std::vector<int>{10, 21, 22, 23, 30});
}

TEST_CASE("a cancelled timer never fires", "[timer]") {
  ManualLoop m;
  bool fired = false;
  auto handle = m.loop.call_later(5ms, [&] { fired = true; });
  REQUIRE(handle.pending());
  REQUIRE(handle.cancel());
  REQUIRE_FALSE(handle.pending());
  REQUIRE_FALSE(handle.cancel());
  m.clock.advance(1s);
  m.loop.poll();
  REQUIRE_FALSE(fired);
}

TEST_CASE("a timer handle stays harmless after the timer fired", "[timer]") {
  ManualLoop m;
  int fired = 0;
  auto handle = m.loop.call_later(1ms, [&] { ++fired; });
  m.clock.advance(1ms);
  m.loop.poll();
  REQUIRE(fired == 1);
  REQUIRE_FALSE(handle.pending());
  REQUIRE_FALSE(handle.cancel());
  weft::TimerHandle empty;
  REQUIRE_FALSE(empty.cancel());
  REQUIRE_FALSE(empty.pending());
}

TEST_CASE("a timer can cancel another timer due at the same moment", "[timer]") {
  ManualLoop m;
  bool second_fired = false;
  weft::TimerHandle second;
  m.loop.call_later(5ms, [&] { second.cancel(); });
  second = m.loop.call_later(5ms, [&] { second_fired = true; });
  m.clock.advance(5ms);
  m.loop.poll();
  // Both were due at the same pass: the first already moved the second to the
  // ready queue, so the cancel comes too late for it — like asyncio, a timer
  // that has become due runs.
  REQUIRE(second_fired);
}

TEST_CASE("pausing the manual clock pauses the timers", "[timer]") {
  ManualLoop m;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    m.loop.call_later(16ms, tick);
  };
  m.loop.call_later(16ms, tick);
  for (int frame = 0; frame < 10; ++frame) {
    m.clock.advance(16ms);
    m.loop.poll();
  }
  REQUIRE(ticks == 10);
  for (int frame = 0; frame < 10; ++frame) m.loop.poll();  // paused: no advance
  REQUIRE(ticks == 10);
}

TEST_CASE("run on a manual clock returns when only future timers remain", "[timer]") {
  ManualLoop m;
  bool fired = false;
  m.loop.call_later(1h, [&] { fired = true; });
  m.loop.run();  // cannot wait for a clock that does not move by itself
  REQUIRE_FALSE(fired);
  m.clock.advance(1h);
  m.loop.run();
  REQUIRE(fired);
}

TEST_CASE("timers on the real clock never fire early", "[timer]") {
  weft::Loop loop;
  std::vector<weft::Duration> lateness;
  auto start = loop.time();
  for (int ms : {1, 3, 7, 12}) {
    auto due = start + std::chrono::milliseconds(ms);
    loop.call_at(due, [&loop, &lateness, due] { lateness.push_back(loop.time() - due); });
  }
  loop.run();
  REQUIRE(lateness.size() == 4);
  for (auto late : lateness) REQUIRE(late >= 0ns);
}

TEST_CASE("a timer armed with a deadline in the past runs at the next pass", "[timer]") {
  ManualLoop m;
  m.clock.advance(1s);
  bool fired = false;
  m.loop.call_at(m.clock.now() - 500ms, [&] { fired = true; });
  m.loop.poll();
  REQUIRE(fired);
}
