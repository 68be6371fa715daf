// task_group: structure, failure paths, cancellation (manual clock).
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/task/task.h"
#include "core/task/task_group.h"
#include "tests/core/manual_loop.h"

using namespace std::chrono_literals;

namespace {

using Manual = weft_test::ManualLoop;

std::vector<std::string> messages(const weft::ErrorGroup& group) {
  std::vector<std::string> out;
  for (const auto& e : group.errors()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      out.push_back(ex.what());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a task group returns only when every child has finished", "[task_group]") {
  Manual m;
  std::vector<std::string> log;
  auto child = [&](std::string name, weft::Duration d) -> weft::Task<void> {
    co_await weft::sleep(d);
    log.push_back(name);
  };
  auto body = [&]() -> weft::Task<int> {
    int value = co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<int> {
      group.spawn(child("slow", 20ms));
      group.spawn(child("fast", 5ms));
      co_return 7;
    });
    log.push_back("group done");
    co_return value;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(10ms);
  REQUIRE(log == std::vector<std::string>{"fast"});
  m.advance(15ms);
  REQUIRE(log == std::vector<std::string>{"fast", "slow", "group done"});
  REQUIRE(h.get() == 7);
}

TEST_CASE("a failing child cancels its siblings and the body, and is thrown in an ErrorGroup", "[task_group]") {
  Manual m;
  std::vector<std::string> log;
  auto sibling = [&]() -> weft::Task<void> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      log.push_back("sibling cancelled");
      throw;
    }
  };
  auto failing = [&]() -> weft::Task<void> {
    co_await weft::sleep(5ms);
    throw std::runtime_error("child failed");
  };
  auto body = [&]() -> weft::Task<std::vector<std::string>> {
    try {
      co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
        group.spawn(sibling());
        group.spawn(failing());
        try {
          co_await weft::sleep(1h);
        } catch (const weft::Cancelled&) {
          log.push_back("body cancelled");
          throw;
        }
      });
    } catch (const weft::ErrorGroup& e) {
      REQUIRE(e.code() == weft::Errc::multiple_errors);
      co_return messages(e);
    }
    co_return {};
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(6ms);
  REQUIRE(h.get() == std::vector<std::string>{"child failed"});
  std::sort(log.begin(), log.end());
  REQUIRE(log == std::vector<std::string>{"body cancelled", "sibling cancelled"});
  REQUIRE(h.cancelling() == 0);  // the group's cancellation of the body was withdrawn
}

TEST_CASE("every failure is kept: children failing during cleanup and the body's own", "[task_group]") {
  Manual m;
  auto failing = [](std::string what, weft::Duration d) -> weft::Task<void> {
    co_await weft::sleep(d);
    throw std::runtime_error(what);
  };
  auto bad_cleanup = []() -> weft::Task<void> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      throw std::runtime_error("cleanup failed");
    }
  };
  auto body = [&]() -> weft::Task<std::vector<std::string>> {
    try {
      co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
        group.spawn(failing("a", 2ms));
        group.spawn(bad_cleanup());
        co_await weft::sleep(1ms);
        throw std::logic_error("body failed");
      });
    } catch (const weft::ErrorGroup& e) {
      co_return messages(e);
    }
    co_return {};
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(5ms);
  auto errors = h.get();
  // The body failed first; its abort cancelled both children ("a" never
  // failed), and the cleanup failure is kept too.
  REQUIRE(errors == std::vector<std::string>{"body failed", "cleanup failed"});
}

TEST_CASE("a cancelled child is not a failure", "[task_group]") {
  Manual m;
  weft::TaskHandle<void> victim;
  auto body = [&]() -> weft::Task<std::string> {
    co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
      victim = group.spawn([]() -> weft::Task<void> { co_await weft::sleep(1h); }());
      co_await weft::yield();
      victim.cancel();
      co_return;
    });
    co_return "fine";
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  REQUIRE(h.get() == "fine");
  REQUIRE(victim.cancelled());
}

TEST_CASE("cancelling the parent cancels the children, waits for them, then throws Cancelled", "[task_group]") {
  Manual m;
  int cleaned = 0;
  auto child = [&]() -> weft::Task<void> {
    bool cancelled = false;
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      cancelled = true;
    }
    if (cancelled) {
      co_await weft::sleep(2ms);
      ++cleaned;
      throw weft::Cancelled();
    }
  };
  auto body = [&]() -> weft::Task<void> {
    co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
      group.spawn(child());
      group.spawn(child());
      co_return;  // the body ends; the group waits for the children
    });
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  h.cancel();
  m.loop.run();
  REQUIRE_FALSE(h.done());
  m.advance(3ms);
  REQUIRE(cleaned == 2);
  REQUIRE(h.cancelled());
}

TEST_CASE("children may spawn into the group while it is open", "[task_group]") {
  Manual m;
  std::vector<std::string> log;
  weft::TaskGroup* current = nullptr;
  // Coroutine lambdas outlive their tasks (the body finishes before them).
  auto grandchild = [&]() -> weft::Task<void> {
    co_await weft::sleep(5ms);
    log.push_back("grandchild");
  };
  auto child = [&]() -> weft::Task<void> {
    co_await weft::sleep(1ms);
    current->spawn(grandchild(), "grandchild");
    log.push_back("child");
  };
  auto body = [&]() -> weft::Task<void> {
    co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
      current = &group;
      group.spawn(child(), "child");
      co_return;
    });
    log.push_back("group done");
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(10ms);
  REQUIRE(log == std::vector<std::string>{"child", "grandchild", "group done"});
  REQUIRE(h.done());
}

TEST_CASE("spawning after a failure is refused", "[task_group]") {
  Manual m;
  auto body = [&]() -> weft::Task<std::string> {
    std::string refused;
    try {
      co_await weft::task_group([&](weft::TaskGroup& group) -> weft::Task<void> {
        group.spawn([]() -> weft::Task<void> {
          co_await weft::yield();
          throw std::runtime_error("x");
        }());
        try {
          co_await weft::sleep(1h);
        } catch (const weft::Cancelled&) {
        }
        REQUIRE(group.aborting());
        try {
          group.spawn([]() -> weft::Task<void> { co_return; }());
        } catch (const weft::Exception& e) {
          refused = e.what();
        }
      });
    } catch (const weft::ErrorGroup&) {
    }
    co_return refused;
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  REQUIRE(h.get().find("shutting down") != std::string::npos);
}
