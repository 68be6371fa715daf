// Future::then_in_reserved_room: attaching a continuation with the room the
// caller reserved in the loop's queues (LoopAccess::reserve_continuation),
// as the C API does for every operation. The reservation is used, not taken
// twice: steady attaching allocates nothing (with a reservation leaked per
// attach, the loop's queues would keep growing). Off the loop's thread, or
// on a future that has a continuation, it throws and leaves the
// reservation to the caller.
#include <catch2/catch.hpp>

#include <thread>

#include "core/errc.h"
#include "core/error.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"
#include "tests/core/refusing_new.h"

namespace {

using weft::detail::LoopAccess;

// One operation's worth: reserve, attach with the reservation, complete.
void attach_one(weft::Loop& loop, long& sum) {
  LoopAccess::reserve_continuation(loop);
  auto [promise, future] = weft::make_promise<int>();
  future.then_in_reserved_room(loop, [&sum](weft::Result<int> r) { sum += r.value(); });
  promise.set_value(1);
}

}  // namespace

TEST_CASE("then_in_reserved_room uses the caller's reservation: steady attaching allocates nothing",
          "[future][reserved_room]") {
  weft::Loop loop;
  long sum = 0;
  // Warm up: 64 in flight at a time, as below.
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 64; ++i) attach_one(loop, sum);
    loop.run();
  }
  const long before = weft_test::allocations_on_this_thread();
  for (int round = 0; round < 500; ++round) {
    for (int i = 0; i < 64; ++i) attach_one(loop, sum);
    loop.run();
  }
  REQUIRE(weft_test::allocations_on_this_thread() == before);
  REQUIRE(sum == 504 * 64);
  loop.close();
}

TEST_CASE("then_in_reserved_room refuses off the loop's thread and on a future with a continuation",
          "[future][reserved_room]") {
  weft::Loop loop;
  {
    auto made = weft::make_promise<int>();  // not a structured binding: the thread's lambda names it
    weft::Future<int>& future = made.second;
    weft::Errc code = weft::Errc::ok;
    std::thread other([&] {
      try {
        future.then_in_reserved_room(loop, [](weft::Result<int>) {});
      } catch (const weft::Exception& e) {
        code = e.code();
      }
    });
    other.join();
    REQUIRE(code == weft::Errc::wrong_thread);
  }
  {
    auto [promise, future] = weft::make_promise<int>();
    bool ran = false;
    LoopAccess::reserve_continuation(loop);
    future.then_in_reserved_room(loop, [&](weft::Result<int>) { ran = true; });
    LoopAccess::reserve_continuation(loop);
    weft::Errc code = weft::Errc::ok;
    try {
      future.then_in_reserved_room(loop, [](weft::Result<int>) {});
    } catch (const weft::Exception& e) {
      code = e.code();
    }
    REQUIRE(code == weft::Errc::invalid_state);
    LoopAccess::release_continuation(loop);  // still the caller's
    promise.set_value(7);
    loop.run();
    REQUIRE(ran);
  }
  loop.close();
}
