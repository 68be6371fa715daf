// Tasks: starting, values and errors, children, handles, awaiting futures,
// sleep and yield on the manual clock.
#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock/clock.h"
#include "core/executor/run_in_executor.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "core/sync/event.h"
#include "core/task/task.h"
#include "tests/core/counted.h"

using namespace std::chrono_literals;

namespace {

weft::Task<int> answer() { co_return 42; }

weft::Task<int> add(int a, int b) { co_return a + b; }

weft::Task<int> add_later(int a, int b) {
  co_await weft::yield();
  co_return a + b;
}

weft::Task<void> fail_with(std::string message) {
  co_await weft::yield();
  throw std::runtime_error(message);
}

template <class T>
T run(weft::Loop& loop, weft::Task<T> task) {
  return weft::run_until_complete(loop, std::move(task)).value();
}

}  // namespace

TEST_CASE("a task does not start until it is spawned or awaited", "[task]") {
  weft::Loop loop;
  bool started = false;
  auto body = [&]() -> weft::Task<void> {
    started = true;
    co_return;
  };
  {
    weft::Task<void> t = body();
    REQUIRE(t.valid());
    REQUIRE_FALSE(started);
  }  // destroyed unrun
  REQUIRE_FALSE(started);
  auto h = weft::spawn(loop, body());
  REQUIRE_FALSE(started);  // scheduled, like asyncio.create_task
  loop.run();
  REQUIRE(started);
  REQUIRE(h.done());
}

TEST_CASE("a spawned task's handle gives its value", "[task]") {
  weft::Loop loop;
  auto h = weft::spawn(loop, add_later(2, 3), "adder");
  REQUIRE_FALSE(h.done());
  REQUIRE_THROWS_AS(h.result(), weft::Exception);  // not finished yet
  loop.run();
  REQUIRE(h.done());
  REQUIRE(h.get() == 5);
  REQUIRE(h.result().value() == 5);  // read again: copied
  REQUIRE(h.name() == "adder");
  REQUIRE(h.status() == weft::TaskStatus::done);
}

TEST_CASE("an awaited task runs inline and hands over its value", "[task]") {
  weft::Loop loop;
  auto outer = []() -> weft::Task<int> {
    int a = co_await answer();
    int b = co_await add(a, 1);
    int c = co_await add_later(b, 1);
    co_return c;
  };
  REQUIRE(run(loop, outer()) == 44);
}

TEST_CASE("a million synchronous awaits in a row do not grow the stack", "[task]") {
  weft::Loop loop;
  auto outer = []() -> weft::Task<long> {
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await add(i, 0);
    co_return sum;
  };
  REQUIRE(run(loop, outer()) == 499'999'500'000L);
}

TEST_CASE("an exception leaves a child, then the task, and reaches the handle", "[task]") {
  weft::Loop loop;
  auto outer = []() -> weft::Task<int> {
    co_await fail_with("broken");
    co_return 1;
  };
  auto h = weft::spawn(loop, outer());
  loop.run();
  REQUIRE(h.failed());
  auto r = h.result();
  REQUIRE(r.has_exception());
  REQUIRE_THROWS_WITH(h.get(), "broken");
}

TEST_CASE("a task can catch a child's exception and go on", "[task]") {
  weft::Loop loop;
  auto outer = []() -> weft::Task<std::string> {
    try {
      co_await fail_with("first");
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not reached";
  };
  REQUIRE(run(loop, outer()) == "caught first");
}

TEST_CASE("move-only values travel out of tasks", "[task]") {
  weft::Loop loop;
  auto make = []() -> weft::Task<std::unique_ptr<int>> {
    co_await weft::yield();
    co_return std::make_unique<int>(7);
  };
  auto outer = [&]() -> weft::Task<int> {
    std::unique_ptr<int> p = co_await make();
    co_return *p;
  };
  REQUIRE(run(loop, outer()) == 7);
  auto h = weft::spawn(loop, make());
  loop.run();
  REQUIRE(*h.get() == 7);
}

TEST_CASE("another task awaits a handle and gets the value or the error", "[task]") {
  weft::Loop loop;
  auto child = weft::spawn(loop, add_later(20, 22), "child");
  auto failing = weft::spawn(loop, fail_with("nope"));
  auto parent = [&]() -> weft::Task<std::string> {
    int v = co_await child;
    try {
      co_await failing;
    } catch (const std::runtime_error& e) {
      co_return std::to_string(v) + " " + e.what();
    }
    co_return "";
  };
  REQUIRE(run(loop, parent()) == "42 nope");
  // Awaiting a finished handle does not suspend.
  auto again = [&]() -> weft::Task<int> { co_return co_await child; };
  REQUIRE(run(loop, again()) == 42);
}

TEST_CASE("a task cannot await itself, nor a task of another loop", "[task]") {
  weft::Loop loop;
  weft::Loop other;
  auto foreign = weft::spawn(other, answer());
  auto await_foreign = [&]() -> weft::Task<std::string> {
    std::string seen;
    try {
      co_await foreign;
    } catch (const weft::Exception& e) {
      seen = e.what();
    }
    co_return seen;
  };
  REQUIRE(run(loop, await_foreign()).find("another loop") != std::string::npos);
  other.run();
  REQUIRE(foreign.get() == 42);

  weft::TaskHandle<int> me;
  auto await_self = [&]() -> weft::Task<int> {
    co_await weft::yield();
    co_return co_await me;
  };
  me = weft::spawn(loop, await_self());
  loop.run();
  REQUIRE_THROWS_WITH(me.get(), Catch::Contains("itself"));
}

TEST_CASE("then on a handle runs on the loop with the task's result", "[task]") {
  weft::Loop loop;
  auto h = weft::spawn(loop, add_later(1, 2));
  int got = 0;
  h.then([&](weft::Result<int> r) { got = r.value(); });
  loop.run();
  REQUIRE(got == 3);
  // On a finished task too.
  h.then([&](weft::Result<int> r) { got += r.value(); });
  loop.run();
  REQUIRE(got == 6);
}

TEST_CASE("a handle can be waited for from another thread", "[task]") {
  weft::Loop loop;
  auto keep = loop.keep_alive();
  auto h = weft::spawn(loop, add_later(4, 5));
  std::thread runner([&] { loop.run(); });
  h.wait();
  REQUIRE(h.get() == 9);
  loop.stop();
  keep.reset();
  runner.join();
}

TEST_CASE("co_await on a future resumes on the loop with its value or error", "[task][future]") {
  weft::Loop loop;
  weft::ThreadPool pool(2);
  auto body = [&]() -> weft::Task<int> {
    int a = co_await weft::run_in_executor(loop, pool, [] { return 40; });
    auto [promise, future] = weft::make_promise<int>();
    loop.call_soon([p = std::move(promise)]() mutable { p.set_value(2); });
    int b = co_await future;
    auto failing = weft::run_in_executor(loop, pool, []() -> int { throw std::logic_error("pool"); });
    try {
      co_await std::move(failing);
    } catch (const std::logic_error&) {
      co_return a + b;
    }
    co_return -1;
  };
  REQUIRE(run(loop, body()) == 42);
}

TEST_CASE("a ready future does not suspend the task", "[task][future]") {
  weft::Loop loop;
  auto body = []() -> weft::Task<int> {
    int v = co_await weft::make_ready_future<int>(5);
    co_return v;
  };
  REQUIRE(run(loop, body()) == 5);
}

TEST_CASE("yield lets ready callbacks run before the task resumes", "[task]") {
  weft::Loop loop;
  std::vector<std::string> order;
  auto body = [&]() -> weft::Task<void> {
    order.push_back("task 1");
    loop.call_soon([&] { order.push_back("callback"); });
    co_await weft::yield();
    order.push_back("task 2");
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(order == std::vector<std::string>{"task 1", "callback", "task 2"});
}

TEST_CASE("sleep follows the manual clock and never wakes early", "[task][time]") {
  weft::ManualClock clock;
  weft::Loop loop({.clock = &clock});
  std::vector<int> woke;
  auto sleeper = [&](int ms) -> weft::Task<void> {
    co_await weft::sleep(std::chrono::milliseconds(ms));
    woke.push_back(ms);
  };
  auto a = weft::spawn(loop, sleeper(30));
  auto b = weft::spawn(loop, sleeper(10));
  auto c = weft::spawn(loop, sleeper(20));
  loop.run();  // with a manual clock, pending sleeps do not keep run() going
  REQUIRE(woke.empty());
  clock.advance(9ms);
  loop.run();
  REQUIRE(woke.empty());
  clock.advance(1ms);
  loop.run();
  REQUIRE(woke == std::vector<int>{10});
  clock.advance(1s);
  loop.run();
  REQUIRE(woke == std::vector<int>{10, 20, 30});
}

TEST_CASE("sleep_until and sleep(0) resume in deadline order", "[task][time]") {
  weft::ManualClock clock;
  weft::Loop loop({.clock = &clock});
  std::vector<std::string> order;
  auto until = [&]() -> weft::Task<void> {
    co_await weft::sleep_until(loop.time() + 5ms);
    order.push_back("until");
  };
  auto zero = [&]() -> weft::Task<void> {
    co_await weft::sleep(0ms);
    order.push_back("zero");
  };
  auto h1 = weft::spawn(loop, until());
  auto h2 = weft::spawn(loop, zero());
  loop.run();
  REQUIRE(order == std::vector<std::string>{"zero"});
  clock.advance(5ms);
  loop.run();
  REQUIRE(order == std::vector<std::string>{"zero", "until"});
}

TEST_CASE("a sleep and a call_later with the same deadline fire in arming order", "[task][time]") {
  weft::ManualClock clock;
  weft::Loop loop({.clock = &clock});
  std::vector<std::string> order;
  loop.call_later(10ms, [&] { order.push_back("timer 1"); });
  auto sleeper = [&]() -> weft::Task<void> {
    co_await weft::sleep(10ms);
    order.push_back("sleep");
  };
  auto h = weft::spawn(loop, sleeper());
  loop.run();  // the task arms its sleep after timer 1
  loop.call_later(10ms, [&] { order.push_back("timer 2"); });
  clock.advance(10ms);
  loop.run();
  REQUIRE(order == std::vector<std::string>{"timer 1", "sleep", "timer 2"});
}

TEST_CASE("the loop lists live tasks with their names and what they await", "[task][diagnostics]") {
  weft::ManualClock clock;
  weft::Loop loop({.clock = &clock});
  weft::Event never;
  // A coroutine lambda must outlive its task (the frame refers to it).
  auto sleep_body = []() -> weft::Task<void> { co_await weft::sleep(5s); };
  auto wait_body = [&]() -> weft::Task<void> { co_await never.wait(); };
  auto sleeping = weft::spawn(loop, sleep_body(), "sleeper");
  auto waiting = weft::spawn(loop, wait_body(), "waiter");
  auto fresh = weft::spawn(loop, answer());
  auto tasks = loop.tasks();
  REQUIRE(tasks.size() == 3);
  for (const auto& t : tasks) REQUIRE(t.status == weft::TaskStatus::pending);
  loop.run();
  tasks = loop.tasks();
  REQUIRE(tasks.size() == 2);
  for (const auto& t : tasks) {
    REQUIRE(t.status == weft::TaskStatus::waiting);
    if (t.name == "sleeper") {
      REQUIRE(t.awaiting.find("sleep") == 0);
    } else {
      REQUIRE(t.name == "waiter");
      REQUIRE(t.awaiting == "Event");
    }
  }
  REQUIRE(fresh.name() == "Task-" + std::to_string(fresh.id()));
  REQUIRE(loop.stats().tasks_alive == 2);
  REQUIRE(loop.stats().tasks_spawned == 3);
  never.set();
  clock.advance(5s);
  loop.run();
  REQUIRE(loop.tasks().empty());
}

TEST_CASE("an error nobody retrieved is reported when the last handle goes", "[task][diagnostics]") {
  weft::Loop loop;
  std::vector<std::string> reports;
  loop.set_exception_handler([&](const weft::ExceptionContext& c) {
    REQUIRE(c.kind == weft::ExceptionContext::Kind::unretrieved_error);
    REQUIRE(c.exception);
    reports.push_back(c.message);
  });
  {
    auto h = weft::spawn(loop, fail_with("lost"), "careless");
    loop.run();
    REQUIRE(reports.empty());  // the handle could still read it
  }
  REQUIRE(reports.size() == 1);
  REQUIRE(reports[0].find("never retrieved") != std::string::npos);
  REQUIRE(reports[0].find("careless") != std::string::npos);

  {
    auto h = weft::spawn(loop, fail_with("seen"));
    loop.run();
    REQUIRE_THROWS(h.get());
  }
  REQUIRE(reports.size() == 1);  // retrieved: not reported

  // No handle at all: reported when the task finishes.
  (void)weft::spawn(loop, fail_with("dropped"));
  loop.run();
  REQUIRE(reports.size() == 2);
}

TEST_CASE("frames come from the loop's pool and go back to it", "[task][memory]") {
  weft::Loop loop;
  weft_test::Counts counts;
  auto body = [&](int i) -> weft::Task<int> {
    weft_test::Counted local(counts, i);
    co_await weft::yield();
    co_return local.value();
  };
  auto spawner = [&]() -> weft::Task<long> {
    std::vector<weft::TaskHandle<int>> handles;
    for (int i = 0; i < 1000; ++i) handles.push_back(weft::spawn(body(i)));
    REQUIRE(loop.stats().frames_in_use >= 1000);
    long sum = 0;
    for (auto& h : handles) sum += co_await h;
    co_return sum;
  };
  REQUIRE(run(loop, spawner()) == 499'500);
  REQUIRE(counts.alive() == 0);
  REQUIRE(loop.stats().frames_in_use == 0);
}

// What a spawned Task<int> costs before its coroutine frame (docs/performance.md,
// "Memory per task and per future"): the state, rounded to the frame's 16-byte
// alignment. A yield adds nothing to the frame.
static_assert(weft::detail::TaskStateT<int>::header_bytes() == 80, "a Task<int>'s state is 80 bytes");
static_assert(std::is_empty_v<weft::detail::YieldAwaiter>, "a yield keeps nothing in the frame");
