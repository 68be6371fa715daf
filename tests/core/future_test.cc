#include "core/future/future.h"

#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

TEST_CASE("a continuation receives the value on the loop", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<std::string>();
  std::string got;
  std::move(future).then(loop, [&](weft::Result<std::string> r) { got = std::move(r).value(); });
  loop.call_soon([p = std::move(promise)]() mutable { p.set_value("hello"); });
  loop.run();
  REQUIRE(got == "hello");
}

TEST_CASE("a continuation is queued, never run inside set_value or then", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  bool ran = false;
  future.then(loop, [&](weft::Result<int>) { ran = true; });
  promise.set_value(1);
  REQUIRE_FALSE(ran);
  REQUIRE(future.ready());
  loop.run();
  REQUIRE(ran);

  auto ready = weft::make_ready_future<int>(5);
  int value = 0;
  std::move(ready).then(loop, [&](weft::Result<int> r) { value = r.value(); });
  REQUIRE(value == 0);
  loop.run();
  REQUIRE(value == 5);
}

TEST_CASE("void futures complete without a value", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<void>();
  bool ok = false;
  std::move(future).then(loop, [&](weft::Result<void> r) { ok = r.ok(); });
  REQUIRE(promise.set_value());
  loop.run();
  REQUIRE(ok);
}

TEST_CASE("an error reaches the continuation with its code and message", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  weft::Error seen;
  std::move(future).then(loop, [&](weft::Result<int> r) {
    REQUIRE(r.has_error());
    seen = r.error();
    REQUIRE_THROWS_AS(r.value(), weft::Exception);
  });
  promise.set_error(weft::Error(weft::Errc::timed_out, "too slow"));
  loop.run();
  REQUIRE(seen.code() == weft::Errc::timed_out);
  REQUIRE(seen.message() == "too slow");
}

TEST_CASE("an exception is carried to the continuation and rethrown by value()", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  std::string what;
  std::move(future).then(loop, [&](weft::Result<int> r) {
    REQUIRE(r.has_exception());
    try {
      r.value();
    } catch (const std::out_of_range& e) {
      what = e.what();
    }
  });
  promise.set_exception(std::make_exception_ptr(std::out_of_range("index 9")));
  loop.run();
  REQUIRE(what == "index 9");
}

TEST_CASE("cancelling a future completes it as cancelled and refuses the value", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  bool cancelled = false;
  future.then(loop, [&](weft::Result<int> r) {
    cancelled = r.is_cancelled();
    REQUIRE_THROWS_AS(r.value(), weft::Cancelled);
  });
  REQUIRE(future.cancel());
  REQUIRE_FALSE(future.cancel());
  REQUIRE(promise.cancelled());
  REQUIRE_FALSE(promise.set_value(3));
  loop.run();
  REQUIRE(cancelled);
}

TEST_CASE("a promise destroyed without a result breaks its future", "[future]") {
  weft::Loop loop;
  weft::Errc code = weft::Errc::ok;
  {
    auto [promise, future] = weft::make_promise<int>();
    std::move(future).then(loop, [&](weft::Result<int> r) { code = r.error().code(); });
  }
  loop.run();
  REQUIRE(code == weft::Errc::broken_promise);
}

TEST_CASE("a promise completes only once", "[future]") {
  auto [promise, future] = weft::make_promise<int>();
  REQUIRE(promise.set_value(1));
  REQUIRE_FALSE(promise.set_value(2));
  REQUIRE_FALSE(promise.set_error(weft::Error(weft::Errc::unknown)));
  REQUIRE(future.get() == 1);
}

TEST_CASE("a second continuation is refused", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  future.then(loop, [](weft::Result<int>) {});
  REQUIRE_THROWS_AS(future.then(loop, [](weft::Result<int>) {}), weft::Exception);
  promise.set_value(0);
  loop.run();
}

TEST_CASE("an empty future reports a clear error", "[future]") {
  weft::Loop loop;
  weft::Future<int> empty;
  REQUIRE_FALSE(empty.valid());
  REQUIRE_FALSE(empty.ready());
  REQUIRE_FALSE(empty.cancel());
  REQUIRE_THROWS_AS(empty.then(loop, [](weft::Result<int>) {}), weft::Exception);
  REQUIRE_THROWS_AS(empty.get(), weft::Exception);
}

TEST_CASE("a future with a continuation keeps run() going until it completes", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  int got = 0;
  std::move(future).then(loop, [&](weft::Result<int> r) { got = r.value(); });
  loop.call_later(5ms, [p = std::move(promise)]() mutable { p.set_value(9); });
  loop.run();
  REQUIRE(got == 9);
  REQUIRE(loop.stats().futures_pending == 0);
}

TEST_CASE("then without a loop uses the home loop, else the running loop", "[future]") {
  weft::Loop loop;
  auto [p1, f1] = weft::make_promise<int>();
  REQUIRE_THROWS_AS(f1.then([](weft::Result<int>) {}), weft::Exception);
  f1.set_home_loop(loop);
  REQUIRE(f1.home_loop() == &loop);
  int got = 0;
  f1.then([&](weft::Result<int> r) { got += r.value(); });
  p1.set_value(1);
  loop.call_soon([&] {
    auto [p2, f2] = weft::make_promise<int>();
    std::move(f2).then([&](weft::Result<int> r) { got += r.value(); });
    p2.set_value(10);
  });
  loop.run();
  REQUIRE(got == 11);
}

TEST_CASE("run_until_complete returns the future's outcome", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  loop.call_later(2ms, [p = std::move(promise)]() mutable { p.set_value(77); });
  auto result = weft::run_until_complete(loop, future);
  REQUIRE(result.value() == 77);
}

TEST_CASE("an exception thrown by a continuation goes to the loop's handler", "[future]") {
  weft::Loop loop;
  int reported = 0;
  loop.set_exception_handler([&](const weft::ExceptionContext&) { ++reported; });
  auto [promise, future] = weft::make_promise<int>();
  std::move(future).then(loop, [](weft::Result<int>) { throw std::runtime_error("oops"); });
  promise.set_value(1);
  loop.run();
  REQUIRE(reported == 1);
}

TEST_CASE("move-only values travel through a future", "[future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<std::unique_ptr<int>>();
  int got = 0;
  std::move(future).then(loop, [&](weft::Result<std::unique_ptr<int>> r) {
    got = *std::move(r).value();
  });
  promise.set_value(std::make_unique<int>(12));
  loop.run();
  REQUIRE(got == 12);
}

namespace {
// Records how the operation ended, as an I/O object's hook would.
struct RecordingHook : weft::detail::CancelHook {
  int cancelled = 0;
  int completed = 0;
  RecordingHook() {
    fn = [](weft::detail::CancelHook* self, bool was_cancelled) noexcept {
      auto* hook = static_cast<RecordingHook*>(self);
      ++(was_cancelled ? hook->cancelled : hook->completed);
    };
  }
};
}  // namespace

TEST_CASE("a cancel hook hears exactly once how its future ended", "[future][cancel_hook]") {
  RecordingHook hook;
  {
    auto [promise, future] = weft::detail::make_hooked_promise<int>();
    promise.set_cancel_hook(&hook);
    REQUIRE(future.cancel());
    REQUIRE_FALSE(future.cancel());
    REQUIRE_FALSE(promise.set_value(1));
  }
  REQUIRE(hook.cancelled == 1);
  REQUIRE(hook.completed == 0);
  {
    auto [promise, future] = weft::detail::make_hooked_promise<int>();
    promise.set_cancel_hook(&hook);
    REQUIRE(promise.set_value(1));
    REQUIRE_FALSE(future.cancel());
  }
  REQUIRE(hook.completed == 1);
  {
    auto [promise, future] = weft::detail::make_hooked_promise<int>();
    promise.set_cancel_hook(&hook);
  }  // the promise breaks the future: that is a completion too
  REQUIRE(hook.completed == 2);
  REQUIRE(hook.cancelled == 1);
}

TEST_CASE("a cancel hook runs on the cancelling thread", "[future][cancel_hook]") {
  static std::thread::id seen;
  weft::detail::CancelHook hook{[](weft::detail::CancelHook*, bool) noexcept {
    seen = std::this_thread::get_id();
  }};
  auto [promise, future] = weft::detail::make_hooked_promise<int>();
  promise.set_cancel_hook(&hook);
  std::thread::id canceller_id;
  std::thread canceller([&, f = std::move(future)]() mutable {
    canceller_id = std::this_thread::get_id();
    f.cancel();
  });
  canceller.join();
  REQUIRE(seen == canceller_id);
}

TEST_CASE("set_value_or_keep hands the value over, or keeps it when the future was cancelled",
          "[future]") {
  {
    auto [promise, future] = weft::make_promise<std::string>();
    std::string value = "payload";
    REQUIRE(promise.set_value_or_keep(value));
    REQUIRE(future.get() == "payload");
  }
  {
    auto [promise, future] = weft::make_promise<std::string>();
    future.cancel();
    std::string value = "payload";
    REQUIRE_FALSE(promise.set_value_or_keep(value));
    REQUIRE(value == "payload");
  }
  // Racing a cancel on another thread: whichever wins, the value is never lost.
  for (int round = 0; round < 500; ++round) {
    auto [promise, future] = weft::make_promise<std::unique_ptr<int>>();
    std::thread canceller([f = std::move(future)]() mutable { f.cancel(); });
    auto value = std::make_unique<int>(round);
    const bool delivered = promise.set_value_or_keep(value);
    canceller.join();
    REQUIRE(delivered == (value == nullptr));
    if (!delivered) REQUIRE(*value == round);
  }
}
