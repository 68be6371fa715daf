#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/loop/loop.h"

using namespace std::chrono_literals;
using Kind = weft::ExceptionContext::Kind;

TEST_CASE("an exception escaping a callback goes to the handler and the loop goes on",
          "[exceptions]") {
  weft::Loop loop;
  std::vector<std::string> seen;
  loop.set_exception_handler([&](const weft::ExceptionContext& c) {
    REQUIRE(c.kind == Kind::callback_exception);
    try {
      std::rethrow_exception(c.exception);
    } catch (const std::exception& e) {
      seen.emplace_back(e.what());
    }
  });
  int after = 0;
  loop.call_soon([] { throw std::runtime_error("first"); });
  loop.call_soon([&] { ++after; });
  loop.call_later(1ms, [] { throw std::logic_error("from a timer"); });
  loop.call_later(2ms, [&] { ++after; });
  loop.run();
  REQUIRE(seen == std::vector<std::string>{"first", "from a timer"});
  REQUIRE(after == 2);
  REQUIRE(loop.stats().exceptions == 2);
}

TEST_CASE("the default handler writes to stderr and does not terminate", "[exceptions]") {
  weft::Loop loop;
  int after = 0;
  loop.call_soon([] { throw 42; });  // not even a std::exception
  loop.call_soon([&] { ++after; });
  loop.run();
  REQUIRE(after == 1);
}

TEST_CASE("a throwing exception handler does not break the loop", "[exceptions]") {
  weft::Loop loop;
  loop.set_exception_handler([](const weft::ExceptionContext&) { throw std::runtime_error("x"); });
  int after = 0;
  loop.call_soon([] { throw std::runtime_error("y"); });
  loop.call_soon([&] { ++after; });
  loop.run();
  REQUIRE(after == 1);
}

TEST_CASE("debug mode reports slow callbacks above the threshold", "[exceptions][diagnostics]") {
  weft::Loop loop(weft::LoopOptions{nullptr, /*debug=*/true, 5ms});
  std::vector<weft::Duration> slow;
  loop.set_exception_handler([&](const weft::ExceptionContext& c) {
    if (c.kind == Kind::slow_callback) slow.push_back(c.duration);
  });
  loop.call_soon([] {});
  loop.call_soon([] { std::this_thread::sleep_for(20ms); });
  loop.run();
  REQUIRE(slow.size() == 1);
  REQUIRE(slow[0] >= 20ms);
  REQUIRE(loop.stats().slow_callbacks == 1);

  loop.set_debug(false);
  loop.call_soon([] { std::this_thread::sleep_for(10ms); });
  loop.run();
  REQUIRE(slow.size() == 1);
}
