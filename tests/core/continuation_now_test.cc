// Promise::set_value_or_keep_now: the continuation runs before the call
// returns when the loop it waits on is running on this thread, with a bound
// on how deeply such runs nest (LoopAccess::kMaxContinuationsNow); otherwise
// (not running, debug mode, a stop asked for, too deep) it is queued as
// set_value_or_keep queues it. Nothing is lost either way.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"
#include "tests/core/reported.h"

namespace {

constexpr int kMax = weft::detail::LoopAccess::kMaxContinuationsNow;

// A chain of promises: continuation i completes promise i + 1 with
// set_value_or_keep_now. Records, for each continuation, how many of the
// chain's calls were on the stack when it ran.
struct Chain {
  explicit Chain(weft::Loop& loop, int length) {
    for (int i = 0; i < length; ++i) {
      auto [promise, future] = weft::make_promise<std::string>();
      promises.push_back(std::move(promise));
      futures.push_back(std::move(future));
    }
    for (int i = 0; i < length; ++i) {
      std::move(futures[i]).then(loop, [this, i](weft::Result<std::string> r) {
        depth_at.push_back(calls_on_stack);
        values.push_back(std::move(r).value());
        if (i + 1 < static_cast<int>(promises.size())) complete(i + 1);
      });
    }
    depth_at.reserve(length);
  }
  void complete(int i) {
    std::string value = "value " + std::to_string(i);
    ++calls_on_stack;
    REQUIRE(promises[i].set_value_or_keep_now(value));
    --calls_on_stack;
  }
  std::vector<weft::Promise<std::string>> promises;
  std::vector<weft::Future<std::string>> futures;
  std::vector<int> depth_at;
  std::vector<std::string> values;
  int calls_on_stack = 0;
};

}  // namespace

TEST_CASE("set_value_or_keep_now runs the continuation at once, nested at most kMaxContinuationsNow deep",
          "[future][now]") {
  REQUIRE(kMax >= 1);
  weft::Loop loop;
  Chain chain(loop, 3 * kMax + 2);
  loop.call_soon([&] { chain.complete(0); });
  loop.run();
  REQUIRE(chain.values.size() == chain.promises.size());
  for (std::size_t i = 0; i < chain.values.size(); ++i) {
    REQUIRE(chain.values[i] == "value " + std::to_string(i));
    // Continuation i ran inside the call that completed it, unless kMax
    // were already running: then it was queued, and the nesting begins again.
    REQUIRE(chain.depth_at[i] == static_cast<int>(i % (kMax + 1) == kMax ? 0 : i % (kMax + 1) + 1));
  }
  loop.close();
}

TEST_CASE("set_value_or_keep_now queues the continuation when the loop is not running here",
          "[future][now]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<std::string>();
  bool ran = false;
  std::move(future).then(loop, [&](weft::Result<std::string> r) {
    ran = true;
    REQUIRE(r.value() == "x");
  });
  std::string value = "x";
  REQUIRE(promise.set_value_or_keep_now(value));
  REQUIRE_FALSE(ran);
  loop.run();
  REQUIRE(ran);
  loop.close();
}

TEST_CASE("set_value_or_keep_now queues the continuation in debug mode and after stop()",
          "[future][now]") {
  for (const bool debug : {true, false}) {
    weft::Loop loop;
    loop.set_debug(debug);
    auto [promise, future] = weft::make_promise<std::string>();
    bool ran = false;
    std::move(future).then(loop, [&](weft::Result<std::string>) { ran = true; });
    bool ran_inside = false;
    loop.call_soon([&, p = std::move(promise)]() mutable {
      if (!debug) loop.stop();
      std::string value = "x";
      p.set_value_or_keep_now(value);
      ran_inside = ran;
    });
    loop.run();
    if (!debug) loop.run();  // the stop ended the first run
    REQUIRE(ran);
    REQUIRE_FALSE(ran_inside);
    loop.close();
  }
}

TEST_CASE("a continuation run by set_value_or_keep_now that throws is reported like a callback's",
          "[future][now]") {
  weft::Loop loop;
  std::vector<std::string> reported;
  weft_test::collect_reported(loop, reported);
  auto [promise, future] = weft::make_promise<std::string>();
  std::move(future).then(loop, [](weft::Result<std::string>) { throw std::runtime_error("boom"); });
  bool returned = false;
  loop.call_soon([&, p = std::move(promise)]() mutable {
    std::string value = "x";
    REQUIRE(p.set_value_or_keep_now(value));
    returned = true;
    REQUIRE(reported.size() == 1);  // already reported: it ran inside the call
  });
  loop.run();
  REQUIRE(returned);
  REQUIRE(reported == std::vector<std::string>{"boom"});
  REQUIRE(loop.stats().exceptions == 1);
  loop.close();
}

TEST_CASE("set_value_or_keep_now on a cancelled future keeps the value", "[future][now]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<std::string>();
  bool ran = false;
  future.then(loop, [&](weft::Result<std::string> r) {
    ran = true;
    REQUIRE(r.is_cancelled());
  });
  REQUIRE(future.cancel());
  loop.call_soon([&, p = std::move(promise)]() mutable {
    std::string value = "kept";
    REQUIRE_FALSE(p.set_value_or_keep_now(value));
    REQUIRE(value == "kept");
  });
  loop.run();
  REQUIRE(ran);
  loop.close();
}
