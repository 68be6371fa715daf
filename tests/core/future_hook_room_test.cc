// What a 48-byte future state keeps elsewhere (core/future/shared_state.h,
// result_storage.h): an Error's code in the state word's tag, beside its
// message in the storage (or, for a code too wide for the tag, a boxed
// Error), and a producer's cancel hook in the word before a state made with
// room for one (detail::make_hooked_promise). Checks that every code and
// message comes back whole on every completion path (the holder's plain
// store, the atomic path, another thread), that a hook runs exactly once on
// each of them, and that a state without room refuses a hook. ASan finds
// what a path would leak or overrun. A producer thread is joined before the
// loop runs, so its post has reached the loop's inbox by then.
#include <atomic>
#include <catch2/catch.hpp>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "core/future/future.h"

namespace {

template <class T>
using State = weft::detail::SharedState<T>;

// Counts how its future ended, from any thread.
struct CountingHook : weft::detail::CancelHook {
  std::atomic<int> cancelled{0};
  std::atomic<int> completed{0};
  CountingHook() {
    fn = [](weft::detail::CancelHook* self, bool was_cancelled) noexcept {
      auto* hook = static_cast<CountingHook*>(self);
      (was_cancelled ? hook->cancelled : hook->completed).fetch_add(1);
    };
  }
};

// A value aligned to 16 bytes: its hooked state's hook word is padded.
struct alignas(16) Wide {
  std::uint64_t a;
  std::uint64_t b;
};

// The codes at the tag's edges (23 bits, signed) and past them.
constexpr int kCodes[] = {0,  1,  -1, static_cast<int>(weft::Errc::timed_out), (1 << 22) - 1, -(1 << 22),
                          1 << 22, -(1 << 22) - 1, INT_MAX, INT_MIN};

}  // namespace

TEST_CASE("an Error keeps its code and message however wide the code", "[future][state]") {
  for (const int code : kCodes) {
    CAPTURE(code);
    const weft::Errc errc = static_cast<weft::Errc>(code);
    {
      auto [promise, future] = weft::make_promise<int>();
      REQUIRE(promise.set_error(weft::Error(errc, "with a message")));
      const weft::Result<int> r = future.result();
      REQUIRE(r.has_error());
      CHECK(r.error().code() == errc);
      CHECK(r.error().message() == "with a message");
    }
    {
      auto [promise, future] = weft::make_promise<void>();
      REQUIRE(promise.set_result(weft::Result<void>(weft::Error(errc))));
      const weft::Result<void> r = future.result();
      REQUIRE(r.has_error());
      CHECK(r.error().code() == errc);
      CHECK(r.error().message() == weft::Error(errc).message());
    }
    {
      // Never read: destroyed with the state.
      auto [promise, future] = weft::make_promise<std::uint64_t>();
      REQUIRE(promise.set_error(weft::Error(errc, std::string(100, 'm'))));
    }
  }
}

TEST_CASE("an Error reaches a continuation whole on the holder's and the atomic path",
          "[future][state]") {
  weft::Loop loop;
  for (const int code : kCodes) {
    CAPTURE(code);
    const weft::Errc errc = static_cast<weft::Errc>(code);
    // Completed on the loop's thread: the holder's plain store.
    weft::Error here;
    {
      auto [promise, future] = weft::make_promise<int>();
      std::move(future).then(loop, [&here](weft::Result<int> r) { here = r.error(); });
      promise.set_error(weft::Error(errc, "here"));
    }
    loop.run();
    CHECK(here.code() == errc);
    CHECK(here.message() == "here");
    // Completed on another thread: the atomic path and the inbox.
    weft::Error there;
    {
      auto [promise, future] = weft::make_promise<void>();
      std::move(future).then(loop, [&there](weft::Result<void> r) { there = r.error(); });
      std::thread producer([&errc, p = std::move(promise)]() mutable { p.set_error(weft::Error(errc, "there")); });
      producer.join();
    }
    loop.run();
    CHECK(there.code() == errc);
    CHECK(there.message() == "there");
  }
}

TEST_CASE("only a hooked promise's state has room for a cancel hook", "[future][cancel_hook]") {
  State<int>* plain = State<int>::create();
  State<int>* hooked = State<int>::create(/*hook_room=*/true);
  State<Wide>* wide = State<Wide>::create(/*hook_room=*/true);
  CHECK_FALSE(plain->has_hook_room());
  CHECK(hooked->has_hook_room());
  CHECK(wide->has_hook_room());
  CHECK(reinterpret_cast<std::uintptr_t>(wide) % alignof(Wide) == 0);
  // Two references each (a promise's and a future's).
  for (int i = 0; i < 2; ++i) {
    plain->release();
    hooked->release();
    wide->release();
  }
}

TEST_CASE("a hooked future's hook runs once on every completion path", "[future][cancel_hook]") {
  weft::Loop loop;
  CountingHook hook;
  SECTION("the holder's plain store on the loop's thread") {
    auto [promise, future] = weft::detail::make_hooked_promise<int>();
    promise.set_cancel_hook(&hook);
    int got = 0;
    std::move(future).then(loop, [&got](weft::Result<int> r) { got = r.value(); });
    REQUIRE(promise.set_value(7));
    loop.run();
    CHECK(got == 7);
    CHECK(hook.completed == 1);
  }
  SECTION("cancelled by the loop's close, then refused") {
    auto [promise, future] = weft::detail::make_hooked_promise<void>();
    promise.set_cancel_hook(&hook);
    bool cancelled = false;
    std::move(future).then(loop, [&cancelled](weft::Result<void> r) { cancelled = r.is_cancelled(); });
    loop.close();
    CHECK(cancelled);
    CHECK_FALSE(promise.set_value());
    CHECK(hook.cancelled == 1);
  }
  SECTION("completed on another thread, a padded hook word") {
    auto [promise, future] = weft::detail::make_hooked_promise<Wide>();
    promise.set_cancel_hook(&hook);
    std::uint64_t got = 0;
    std::move(future).then(loop, [&got](weft::Result<Wide> r) { got = r.value().a + r.value().b; });
    std::thread producer([p = std::move(promise)]() mutable { p.set_value(Wide{40, 2}); });
    producer.join();
    loop.run();
    CHECK(got == 42);
    CHECK(hook.completed == 1);
  }
  SECTION("cancelled on another thread, the state freed there") {
    auto [promise, future] = weft::detail::make_hooked_promise<std::string>();
    promise.set_cancel_hook(&hook);
    std::thread canceller([f = std::move(future)]() mutable {
      f.cancel();
      f = weft::Future<std::string>();
    });
    canceller.join();
    CHECK_FALSE(promise.set_value("late"));
    promise = weft::Promise<std::string>();
    CHECK(hook.cancelled == 1);
  }
  CHECK(hook.cancelled + hook.completed == 1);
}
