// Future::then_in_reserved_room with after_now (LoopAccess::
// run_after_continuation_now): a continuation attached to a complete future
// from inside a continuation the loop runs now (Promise::
// set_value_or_keep_now) runs right after that continuation returns, before
// set_value_or_keep_now does, and never inside the attaching call; a chain
// of them is bounded by kMaxContinuationsAfterNow; outside a continuation
// run now, in debug mode and once stop() was asked for it is queued, behind
// what was queued before it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

namespace {

using weft::detail::LoopAccess;

struct Trace {
  std::vector<const char*> events;
  int attaching = 0;      // inside then_in_reserved_room
  int ran_attaching = 0;  // continuations that ran inside it
  int chain_left = 0;     // further attaches each after-now continuation makes
  int chained_ran = 0;
};

// Attaches, with after_now, a continuation to a future that is complete.
void attach_after_now(weft::Loop& loop, Trace& trace) {
  LoopAccess::reserve_continuation(loop);
  weft::Future<int> ready = weft::make_ready_future<int>(1);
  trace.attaching = 1;
  ready.then_in_reserved_room(
      loop,
      [&loop, &trace](weft::Result<int>) {
        if (trace.attaching != 0) ++trace.ran_attaching;
        ++trace.chained_ran;
        trace.events.push_back("after");
        if (trace.chain_left > 0) {
          --trace.chain_left;
          attach_after_now(loop, trace);
        }
      },
      /*after_now=*/true);
  trace.attaching = 0;
}

// In a callback of `loop`: completes a future with set_value_or_keep_now;
// its continuation (run now where the loop allows) queues a marker and
// attaches with after_now.
void complete_now(weft::Loop& loop, Trace& trace) {
  auto made = weft::make_promise<int>();
  std::move(made.second).then(loop, [&loop, &trace](weft::Result<int>) {
    trace.events.push_back("now");
    loop.call_soon([&trace] { trace.events.push_back("marker"); });
    attach_after_now(loop, trace);
    trace.events.push_back("now returns");
  });
  int value = 7;
  REQUIRE(made.first.set_value_or_keep_now(value));
  trace.events.push_back("set returned");
}

using Events = std::vector<std::string>;
Events strings(const Trace& trace) { return Events(trace.events.begin(), trace.events.end()); }

}  // namespace

TEST_CASE("after_now runs right after the continuation run now, never inside the attaching call",
          "[future][after_now]") {
  weft::Loop loop;
  Trace trace;
  loop.call_soon([&] { complete_now(loop, trace); });
  loop.run();
  REQUIRE(strings(trace) == Events{"now", "now returns", "after", "set returned", "marker"});
  REQUIRE(trace.ran_attaching == 0);
  loop.close();
}

TEST_CASE("after_now: a chain is bounded; the rest waits in the ready queue", "[future][after_now]") {
  weft::Loop loop;
  Trace trace;
  trace.chain_left = 9;  // ten in all
  loop.call_soon([&] { complete_now(loop, trace); });
  loop.run();
  REQUIRE(trace.chained_ran == 10);
  REQUIRE(trace.ran_attaching == 0);
  Events expected{"now", "now returns"};
  for (int i = 0; i < LoopAccess::kMaxContinuationsAfterNow; ++i) expected.push_back("after");
  expected.push_back("set returned");
  expected.push_back("marker");
  for (int i = LoopAccess::kMaxContinuationsAfterNow; i < 10; ++i) expected.push_back("after");
  REQUIRE(strings(trace) == expected);
  loop.close();
}

TEST_CASE("after_now outside a continuation run now, in debug mode and after stop: queued",
          "[future][after_now]") {
  SECTION("from a plain callback") {
    weft::Loop loop;
    Trace trace;
    loop.call_soon([&] {
      loop.call_soon([&trace] { trace.events.push_back("marker"); });
      attach_after_now(loop, trace);
      trace.events.push_back("callback returns");
    });
    loop.run();
    REQUIRE(strings(trace) == Events{"callback returns", "marker", "after"});
    loop.close();
  }
  SECTION("debug mode: nothing runs now") {
    weft::Loop loop;
    loop.set_debug(true);
    Trace trace;
    loop.call_soon([&] { complete_now(loop, trace); });
    loop.run();
    REQUIRE(strings(trace) == Events{"set returned", "now", "now returns", "marker", "after"});
    REQUIRE(trace.ran_attaching == 0);
    loop.close();
  }
  SECTION("stop() asked for inside the continuation run now") {
    weft::Loop loop;
    Trace trace;
    loop.call_soon([&] {
      auto made = weft::make_promise<int>();
      std::move(made.second).then(loop, [&loop, &trace](weft::Result<int>) {
        trace.events.push_back("now");
        loop.stop();
        loop.call_soon([&trace] { trace.events.push_back("marker"); });
        attach_after_now(loop, trace);
      });
      int value = 7;
      REQUIRE(made.first.set_value_or_keep_now(value));
      trace.events.push_back("set returned");
    });
    loop.run();  // until the stop
    while (trace.chained_ran == 0) loop.run_once();
    REQUIRE(strings(trace) == Events{"now", "set returned", "marker", "after"});
    REQUIRE(trace.ran_attaching == 0);
    loop.close();
  }
}
