// Loop::shutdown and what close() does with tasks. Run under ASan/LSan:
// nothing may leak.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/clock/clock.h"
#include "core/loop/loop.h"
#include "core/sync/event.h"
#include "core/sync/mutex.h"
#include "core/sync/queue.h"
#include "core/task/task.h"
#include "tests/core/counted.h"

using namespace std::chrono_literals;

TEST_CASE("shutdown cancels every task and runs until they have finished", "[shutdown]") {
  weft::Loop loop;
  weft_test::Counts counts;
  weft::Event never;
  auto waiter = [&]() -> weft::Task<void> {
    weft_test::Counted held(counts);
    co_await never.wait();
  };
  auto sleeper = [&]() -> weft::Task<void> {
    weft_test::Counted held(counts);
    co_await weft::sleep(1h);
  };
  std::vector<weft::TaskRef> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(weft::spawn(loop, waiter()));
    tasks.push_back(weft::spawn(loop, sleeper()));
  }
  loop.run_once();
  REQUIRE(loop.stats().tasks_alive == 10);
  auto report = loop.shutdown(1s);
  REQUIRE(report.cancelled == 10);
  REQUIRE(report.finished == 10);
  REQUIRE(report.stragglers.empty());
  for (auto& t : tasks) REQUIRE(t.cancelled());
  REQUIRE(counts.alive() == 0);
  REQUIRE(loop.stats().tasks_alive == 0);
}

TEST_CASE("shutdown returns the tasks still running at the deadline by name", "[shutdown]") {
  weft::Loop loop;
  auto ignores_cancel = []() -> weft::Task<void> {
    for (;;) {
      try {
        co_await weft::sleep(2ms);
      } catch (const weft::Cancelled&) {
        // ignores cancellation
      }
    }
  };
  auto polite = []() -> weft::Task<void> { co_await weft::sleep(1h); };
  auto s = weft::spawn(loop, ignores_cancel(), "ignores_cancel");
  auto p = weft::spawn(loop, polite(), "polite");
  loop.run_once();  // started (a task cancelled before it starts just ends)
  const auto start = std::chrono::steady_clock::now();
  auto report = loop.shutdown(30ms);
  REQUIRE(std::chrono::steady_clock::now() - start >= 30ms);
  REQUIRE(report.stragglers == std::vector<std::string>{"ignores_cancel"});
  REQUIRE(p.cancelled());
  REQUIRE_FALSE(s.done());
  // close() destroys it and reports it.
  std::vector<std::string> reports;
  loop.set_exception_handler([&](const weft::ExceptionContext& c) {
    if (c.kind == weft::ExceptionContext::Kind::task_destroyed) reports.push_back(c.message);
  });
  auto closed = loop.close();
  REQUIRE(closed.tasks_destroyed + closed.tasks_cancelled >= 1);
  REQUIRE(s.done());
  REQUIRE(s.cancelled());
}

TEST_CASE("shutdown on a manual clock stops when nothing can make progress", "[shutdown]") {
  weft::ManualClock clock;
  weft::Loop loop({.clock = &clock});
  auto ignores_cancel = []() -> weft::Task<void> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
    }
    co_await weft::sleep(1h);  // waits for a clock nobody advances
  };
  auto h = weft::spawn(loop, ignores_cancel(), "frozen");
  loop.run();
  auto report = loop.shutdown(1s);  // returns at once: no time can pass
  REQUIRE(report.stragglers == std::vector<std::string>{"frozen"});
}

TEST_CASE("close destroys tasks that cannot finish and reports each", "[shutdown][close]") {
  std::vector<std::string> reports;
  weft_test::Counts counts;
  weft::Event never;
  weft::TaskHandle<void> handle;
  {
    weft::Loop loop;
    loop.set_exception_handler([&](const weft::ExceptionContext& c) {
      REQUIRE(c.kind == weft::ExceptionContext::Kind::task_destroyed);
      reports.push_back(c.message);
    });
    // Catches every cancellation and waits again: only close() can end it.
    auto unkillable = [&]() -> weft::Task<void> {
      weft_test::Counted held(counts);
      for (;;) {
        try {
          co_await never.wait();
        } catch (const weft::Cancelled&) {
        }
      }
    };
    handle = weft::spawn(loop, unkillable(), "unkillable");
    loop.run();
    auto closed = loop.close();
    REQUIRE(closed.tasks_cancelled == 1);
    REQUIRE(closed.tasks_destroyed == 1);
    REQUIRE(handle.cancelled());
    REQUIRE(counts.alive() == 0);  // its locals were destroyed
    handle = {};
  }
  REQUIRE(reports.size() == 1);
  REQUIRE(reports[0].find("destroyed but it is pending: unkillable") != std::string::npos);
  REQUIRE(reports[0].find("Event") != std::string::npos);
}

TEST_CASE("10,000 pending tasks at shutdown are all cancelled and nothing leaks", "[shutdown][memory]") {
  weft::Loop loop;
  weft_test::Counts counts;
  weft::Event never;
  weft::Semaphore none(0);
  weft::Queue<int> empty(1);
  auto on_event = [&]() -> weft::Task<void> {
    weft_test::Counted held(counts);
    co_await never.wait();
  };
  auto on_sleep = [&]() -> weft::Task<void> {
    weft_test::Counted held(counts);
    co_await weft::sleep(1h);
  };
  auto on_semaphore = [&]() -> weft::Task<void> {
    weft_test::Counted held(counts);
    auto permit = co_await none.acquire_guard();
  };
  auto on_queue = [&]() -> weft::Task<void> {
    weft_test::Counted held(counts);
    co_await empty.get();
  };
  auto spawner = [&]() -> weft::Task<void> {
    for (int i = 0; i < 2500; ++i) {
      (void)weft::spawn(on_event());
      (void)weft::spawn(on_sleep());
      (void)weft::spawn(on_semaphore());
      (void)weft::spawn(on_queue());
    }
    co_return;
  };
  auto h = weft::spawn(loop, spawner());
  loop.run_once();
  loop.run_once();
  REQUIRE(loop.stats().tasks_alive == 10'000);
  REQUIRE(counts.alive() == 10'000);
  REQUIRE(loop.stats().frames_in_use == 10'000);  // spawned while the loop ran: its pool
  auto report = loop.shutdown(5s);
  REQUIRE(report.cancelled == 10'000);
  REQUIRE(report.stragglers.empty());
  REQUIRE(counts.alive() == 0);
  REQUIRE(loop.stats().tasks_alive == 0);
  REQUIRE(loop.stats().frames_in_use == 0);
  REQUIRE(never.waiting() == 0);
  REQUIRE(none.waiting() == 0);
}
