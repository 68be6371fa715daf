// Time limits: wait_for, with_timeout, with_deadline (manual clock).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/future/future.h"
#include "core/task/task.h"
#include "tests/core/manual_loop.h"

using namespace std::chrono_literals;

namespace {

using Manual = weft_test::ManualLoop;

weft::Task<int> slow(weft::Duration d, int value) {
  co_await weft::sleep(d);
  co_return value;
}

}  // namespace

TEST_CASE("wait_for returns the value when the work finishes in time", "[timeout]") {
  Manual m;
  auto body = []() -> weft::Task<int> { co_return co_await weft::wait_for(slow(5ms, 7), 10ms); };
  auto h = weft::spawn(m.loop, body());
  m.advance(20ms);
  REQUIRE(h.get() == 7);
}

TEST_CASE("wait_for throws TimedOut, not Cancelled, when time runs out", "[timeout]") {
  Manual m;
  std::vector<std::string> log;
  auto work = [&]() -> weft::Task<int> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      log.push_back("work cancelled");
      throw;
    }
    co_return 1;
  };
  auto body = [&]() -> weft::Task<std::string> {
    try {
      co_await weft::wait_for(work(), 10ms);
    } catch (const weft::Cancelled&) {
      co_return "cancelled";
    } catch (const weft::TimedOut& e) {
      REQUIRE(e.code() == weft::Errc::timed_out);
      co_return "timed out";
    }
    co_return "finished";
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();  // starts at t=0: the deadline is t=10ms
  m.advance(9ms);
  REQUIRE_FALSE(h.done());
  m.advance(1ms);
  REQUIRE(h.get() == "timed out");
  REQUIRE(log == std::vector<std::string>{"work cancelled"});
  REQUIRE(h.cancelling() == 0);  // the deadline's request was withdrawn
}

TEST_CASE("a task that keeps running after the timeout caught TimedOut goes on uncancelled", "[timeout]") {
  Manual m;
  auto body = []() -> weft::Task<int> {
    try {
      co_await weft::with_timeout(5ms, slow(1h, 0));
    } catch (const weft::TimedOut&) {
    }
    co_return co_await slow(10ms, 3);  // not cancelled by the expired deadline
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(20ms);
  REQUIRE(h.get() == 3);
}

TEST_CASE("work that swallows the cancellation returns its value despite the timeout", "[timeout]") {
  Manual m;
  auto ignores_cancel = []() -> weft::Task<int> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      co_return 99;
    }
    co_return 0;
  };
  auto body = [&]() -> weft::Task<int> {
    int v = co_await weft::wait_for(ignores_cancel(), 5ms);
    co_await weft::yield();  // no cancellation left pending
    co_return v;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(10ms);
  REQUIRE(h.get() == 99);
}

TEST_CASE("an outside cancellation during a timeout stays a cancellation", "[timeout]") {
  Manual m;
  auto body = []() -> weft::Task<void> { co_await weft::wait_for(slow(1h, 0), 1s); };
  auto h = weft::spawn(m.loop, body());
  m.advance(2ms);
  h.cancel();
  m.loop.run();
  REQUIRE(h.cancelled());
}

TEST_CASE("wait_for on a future cancels it on timeout", "[timeout][future]") {
  Manual m;
  auto [promise, future] = weft::make_promise<int>();
  auto body = [&, f = std::move(future)]() mutable -> weft::Task<bool> {
    try {
      co_await weft::wait_for(std::move(f), 5ms);
    } catch (const weft::TimedOut&) {
      co_return true;
    }
    co_return false;
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.poll();
  for (int i = 0; i < 6; ++i) {
    m.clock.advance(1ms);
    while (m.loop.poll() > 0) {
    }
  }
  REQUIRE(h.done());
  REQUIRE(h.get());
  REQUIRE(promise.cancelled());
}

TEST_CASE("wait_for on a handle cancels the task and waits for it", "[timeout]") {
  Manual m;
  std::vector<std::string> log;
  auto work = [&]() -> weft::Task<int> {
    bool cancelled = false;
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      cancelled = true;  // (no co_await inside a handler)
    }
    if (cancelled) {
      co_await weft::sleep(3ms);  // slow cleanup, still waited for
      log.push_back("cleaned up");
      throw weft::Cancelled();
    }
    co_return 1;
  };
  weft::TaskHandle<int> worker = weft::spawn(m.loop, work(), "worker");
  auto body = [&]() -> weft::Task<std::string> {
    try {
      co_await weft::wait_for(worker, 5ms);
    } catch (const weft::TimedOut&) {
      log.push_back("timed out");
    }
    co_return "done";
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(20ms);
  REQUIRE(h.get() == "done");
  REQUIRE(worker.cancelled());
  REQUIRE(log == std::vector<std::string>{"cleaned up", "timed out"});
}

TEST_CASE("with_deadline uses an absolute time; nested limits report the one that fired", "[timeout]") {
  Manual m;
  auto inner = []() -> weft::Task<std::string> {
    try {
      co_await weft::with_timeout(2ms, slow(1h, 0));
    } catch (const weft::TimedOut&) {
      co_return "inner timed out";
    }
    co_return "inner finished";
  };
  auto body = [&]() -> weft::Task<std::string> {
    co_return co_await weft::with_deadline(m.loop.time() + 10ms, inner());
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(20ms);
  REQUIRE(h.get() == "inner timed out");

  auto outer_first = []() -> weft::Task<std::string> {
    try {
      co_await weft::with_timeout(2ms, weft::with_timeout(1h, slow(1h, 0)));
    } catch (const weft::TimedOut&) {
      co_return "outer timed out";
    }
    co_return "finished";
  };
  auto h2 = weft::spawn(m.loop, outer_first());
  m.advance(5ms);
  REQUIRE(h2.get() == "outer timed out");
}
