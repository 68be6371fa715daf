// Async generators: laziness, iteration, early exit, aclose, cancellation,
// Loop::shutdown_generators.
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/generator/generator.h"
#include "core/loop/loop.h"
#include "core/task/task.h"
#include "tests/core/manual_loop.h"
#include "tests/core/counted.h"

using namespace std::chrono_literals;

namespace {

using Manual = weft_test::ManualLoop;

weft::Generator<int> count_to(int n, std::vector<std::string>* log = nullptr) {
  for (int i = 1; i <= n; ++i) {
    if (log != nullptr) log->push_back("produce " + std::to_string(i));
    co_yield i;
  }
}

weft::Generator<int> ticks(int n, weft::Duration every) {
  for (int i = 0; i < n; ++i) {
    co_await weft::sleep(every);
    co_yield i;
  }
}

}  // namespace

TEST_CASE("values are produced lazily, one per next()", "[generator]") {
  weft::Loop loop;
  std::vector<std::string> log;
  auto body = [&]() -> weft::Task<void> {
    auto gen = count_to(3, &log);
    REQUIRE(log.empty());  // nothing runs before the first next()
    while (auto v = co_await gen.next()) log.push_back("consume " + std::to_string(*v));
    REQUIRE(gen.done());
    REQUIRE_FALSE((co_await gen.next()).has_value());
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.done());
  REQUIRE_NOTHROW(h.get());
  REQUIRE(log == std::vector<std::string>{"produce 1", "consume 1", "produce 2", "consume 2",
                                          "produce 3", "consume 3"});
}

TEST_CASE("a generator may await between values", "[generator]") {
  Manual m;
  auto body = []() -> weft::Task<std::vector<int>> {
    std::vector<int> got;
    auto gen = ticks(3, 10ms);
    while (auto v = co_await gen.next()) got.push_back(*v);
    co_return got;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(25ms);
  REQUIRE_FALSE(h.done());
  m.advance(10ms);
  REQUIRE(h.get() == std::vector<int>{0, 1, 2});
}

TEST_CASE("leaving the loop early destroys the generator and runs its cleanup", "[generator]") {
  weft::Loop loop;
  weft_test::Counts counts;
  auto resource = [&]() -> weft::Generator<int> {
    weft_test::Counted held(counts);  // released however the generator ends
    for (int i = 0;; ++i) co_yield i;
  };
  auto body = [&]() -> weft::Task<int> {
    auto gen = resource();
    int sum = 0;
    while (auto v = co_await gen.next()) {
      if (*v == 3) break;
      sum += *v;
    }
    REQUIRE(counts.alive() == 1);
    co_return sum;
  };  // gen destroyed here
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.get() == 3);
  REQUIRE(counts.alive() == 0);
  REQUIRE(loop.stats().generators_open == 0);
}

TEST_CASE("aclose resumes the generator with GeneratorExit so its cleanup can await", "[generator]") {
  Manual m;
  std::vector<std::string> log;
  auto gen_fn = [&]() -> weft::Generator<int> {
    bool closing = false;
    try {
      for (int i = 0;; ++i) co_yield i;
    } catch (const weft::GeneratorExit&) {
      closing = true;
    }
    if (closing) {
      co_await weft::sleep(5ms);  // asynchronous cleanup
      log.push_back("closed after cleanup");
    }
  };
  auto body = [&]() -> weft::Task<void> {
    auto gen = gen_fn();
    co_await gen.next();
    co_await gen.aclose();
    REQUIRE(gen.done());
    log.push_back("aclose returned");
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(10ms);
  REQUIRE_NOTHROW(h.get());
  REQUIRE(log == std::vector<std::string>{"closed after cleanup", "aclose returned"});
}

TEST_CASE("a generator that yields after GeneratorExit is an error", "[generator]") {
  weft::Loop loop;
  auto ignores_exit = []() -> weft::Generator<int> {
    for (;;) {
      try {
        co_yield 1;
      } catch (const weft::GeneratorExit&) {
      }
    }
  };
  auto body = [&]() -> weft::Task<void> {
    auto gen = ignores_exit();
    co_await gen.next();
    co_await gen.aclose();
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE_THROWS_WITH(h.get(), Catch::Contains("yielded after GeneratorExit"));
}

TEST_CASE("an exception in the generator comes out of next() and ends it", "[generator]") {
  weft::Loop loop;
  auto faulty = []() -> weft::Generator<int> {
    co_yield 1;
    throw std::runtime_error("producer broke");
  };
  auto body = [&]() -> weft::Task<std::string> {
    auto gen = faulty();
    std::string seen = std::to_string(*co_await gen.next());
    try {
      co_await gen.next();
    } catch (const std::runtime_error& e) {
      seen += std::string(" ") + e.what();
    }
    REQUIRE(gen.done());
    co_return seen;
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.get() == "1 producer broke");
}

TEST_CASE("cancelling the consumer cancels the generator's await; its cleanup runs", "[generator]") {
  Manual m;
  std::vector<std::string> log;
  weft_test::Counts counts;
  auto gen_fn = [&]() -> weft::Generator<int> {
    weft_test::Counted held(counts);
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      log.push_back("generator saw Cancelled");
      throw;
    }
    co_yield 1;
  };
  auto body = [&]() -> weft::Task<void> {
    auto gen = gen_fn();
    co_await gen.next();
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  REQUIRE(h.info().awaiting.find("sleep") == 0);  // the generator's await, in the consumer's task
  h.cancel();
  m.loop.run();
  REQUIRE(h.cancelled());
  REQUIRE(log == std::vector<std::string>{"generator saw Cancelled"});
  REQUIRE(counts.alive() == 0);
}

TEST_CASE("shutdown_generators finalises the generators still open", "[generator][shutdown]") {
  Manual m;
  std::vector<std::string> log;
  auto gen_fn = [&](std::string name) -> weft::Generator<int> {
    bool closing = false;
    try {
      for (int i = 0;; ++i) co_yield i;
    } catch (const weft::GeneratorExit&) {
      closing = true;
    }
    if (closing) {
      co_await weft::yield();
      log.push_back(name + " finalised");
    }
  };
  weft::Generator<int> kept_a = gen_fn("a");
  weft::Generator<int> kept_b = gen_fn("b");
  weft::Generator<int> never_started = gen_fn("c");
  auto body = [&]() -> weft::Task<void> {
    co_await kept_a.next();
    co_await kept_b.next();
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  REQUIRE(m.loop.stats().generators_open == 2);
  REQUIRE(m.loop.shutdown_generators() == 2);
  std::sort(log.begin(), log.end());
  REQUIRE(log == std::vector<std::string>{"a finalised", "b finalised"});
  REQUIRE(kept_a.done());
  REQUIRE(m.loop.stats().generators_open == 0);
}

TEST_CASE("a generator can be dropped while its finaliser runs", "[generator][shutdown]") {
  weft::Loop loop;
  int finalised = 0;
  auto gen_fn = [&]() -> weft::Generator<int> {
    bool closing = false;
    try {
      co_yield 1;
    } catch (const weft::GeneratorExit&) {
      closing = true;
    }
    if (closing) {
      co_await weft::yield();
      ++finalised;
    }
  };
  auto gen = std::make_unique<weft::Generator<int>>(gen_fn());
  auto body = [&]() -> weft::Task<void> { co_await gen->next(); };
  auto h = weft::spawn(loop, body());
  loop.run();
  // Start finalising, then drop the generator before the finaliser runs.
  loop.call_soon([&] { gen.reset(); });
  REQUIRE(loop.shutdown_generators() == 1);
  REQUIRE(finalised == 1);
}

TEST_CASE("a generator's yield lets the loop run and throws its task's cancellation", "[generator][cancel]") {
  weft::Loop loop;
  std::vector<std::string> log;
  auto numbers = [&]() -> weft::Generator<int> {
    for (int i = 0;; ++i) {
      try {
        co_await weft::yield();
      } catch (const weft::Cancelled&) {
        log.push_back("cancelled at the yield before " + std::to_string(i));
        throw;
      }
      co_yield i;
    }
  };
  weft::TaskHandle<int> h;
  auto body = [&]() -> weft::Task<int> {
    auto gen = numbers();
    int sum = 0;
    while (auto v = co_await gen.next()) {
      sum += *v;
      log.push_back("got " + std::to_string(*v));
      // Runs while the generator's next yield is queued.
      if (*v == 2) loop.call_soon([&] { h.cancel(); });
    }
    co_return sum;
  };
  h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.cancelled());
  REQUIRE(log == std::vector<std::string>{"got 0", "got 1", "got 2", "cancelled at the yield before 3"});
}
