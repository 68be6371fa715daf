// A future's shared state as it is laid out (core/future/shared_state.h):
// its size, the outcome kept in a ResultStorage whose tag lives in the
// state word, and the continuation kept inline (16 bytes) or boxed, whose
// operations table is the state's. Checks that every outcome and every
// continuation is destroyed exactly once however the future ends (ASan
// finds what leaks), and that continuations travel from other threads in
// either form. Every wait is bounded.
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "core/future/future.h"
#include "tests/core/counted.h"

using weft_test::Counted;
using weft_test::Counts;
using namespace std::chrono_literals;

namespace {

template <class T>
using State = weft::detail::SharedState<T>;

// A continuation's captures: two pointers fit the inline room, three do not.
struct TwoPointers {
  int* a;
  int* b;
  void operator()(weft::Result<int>&&) const {}
};
struct ThreePointers {
  int* a;
  int* b;
  int* c;
  void operator()(weft::Result<int>&&) const {}
};

// Runs `loop` until `done` or 10 s pass; false on timeout.
bool run_until(weft::Loop& loop, const std::atomic<bool>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done.load(std::memory_order_acquire)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    loop.poll();
    std::this_thread::sleep_for(100us);
  }
  return true;
}

// A value whose construction throws when asked to.
struct Fragile {
  explicit Fragile(bool fail) {
    if (fail) throw std::runtime_error("refused");
  }
};

// A value whose construction cancels the future it is meant for: the promise
// then loses to the cancellation after it has written the value.
struct CancelsItsFuture {
  CancelsItsFuture(weft::Future<CancelsItsFuture>& future, Counts& counts);
  CancelsItsFuture(CancelsItsFuture&& other) noexcept : counts(other.counts) { ++counts->moved; }
  ~CancelsItsFuture() { ++counts->destroyed; }
  Counts* counts;
};
CancelsItsFuture::CancelsItsFuture(weft::Future<CancelsItsFuture>& future, Counts& c) : counts(&c) {
  ++counts->constructed;
  future.cancel();
}

}  // namespace

TEST_CASE("a word-sized or void future's state is 48 bytes: base, outcome, continuation",
          "[future][state]") {
  // The base: the table pointer, the word, the references, the loop; no
  // cancel hook (it lives before a hooked state) and no tracking links (the
  // loop keeps its pending futures in a set).
  STATIC_REQUIRE(sizeof(weft::detail::StateBase) == 24);
  // An Error's code goes into the tag: its message, one pointer, is stored.
  STATIC_REQUIRE(sizeof(weft::detail::ResultStorage<std::uint64_t>) == 8);
  STATIC_REQUIRE(sizeof(weft::detail::ResultStorage<void>) == 8);
  STATIC_REQUIRE(sizeof(State<std::uint64_t>) == 48);
  STATIC_REQUIRE(sizeof(State<void>) == 48);
  STATIC_REQUIRE(sizeof(State<int>) == 48);
  // A larger value takes its own size, not a variant's index on top.
  STATIC_REQUIRE(sizeof(State<std::array<char, 64>>) == 24 + 64 + 16);
  // The C API's futures keep their links (a ListedState).
  STATIC_REQUIRE(sizeof(weft::detail::ListedState) == 40);
  STATIC_REQUIRE(State<int>::fits_inline<TwoPointers>());
  STATIC_REQUIRE_FALSE(State<int>::fits_inline<ThreePointers>());
}

TEST_CASE("a continuation larger than the inline room is boxed, runs once and is freed",
          "[future][state]") {
  weft::Loop loop;
  Counts counts;
  int a = 1;
  int b = 2;
  int got = 0;
  int runs = 0;
  {
    auto [promise, future] = weft::make_promise<int>();
    // Three pointers and a Counted: boxed.
    auto continuation = [&a, &b, &got, &runs, held = Counted(counts, 7)](weft::Result<int> r) {
      got = r.value() + a + b + held.value();
      ++runs;
    };
    STATIC_REQUIRE_FALSE(State<int>::fits_inline<decltype(continuation)>());
    std::move(future).then(loop, std::move(continuation));
    promise.set_value(30);
  }
  CHECK(counts.alive() == 1);  // the boxed continuation holds it
  loop.run();
  CHECK(runs == 1);
  CHECK(got == 40);
  CHECK(counts.alive() == 0);
}

TEST_CASE("a boxed continuation cancelled by the loop's close runs with Cancelled and is freed",
          "[future][state]") {
  Counts counts;
  bool cancelled = false;
  weft::Promise<int> promise;
  {
    weft::Loop loop;
    auto pair = weft::make_promise<int>();
    promise = std::move(pair.first);
    std::array<char, 40> payload{};
    pair.second.then(loop, [&cancelled, payload, held = Counted(counts)](weft::Result<int> r) {
      cancelled = r.is_cancelled() && payload[0] == 0;
    });
    loop.close();
  }
  CHECK(cancelled);
  CHECK(counts.alive() == 0);
  CHECK_FALSE(promise.set_value(1));
}

TEST_CASE("then from another thread carries an inline or a boxed continuation to the loop",
          "[future][state][threads]") {
  weft::Loop loop;
  Counts counts;
  std::atomic<int> ran{0};
  std::atomic<bool> done{false};
  std::thread::id loop_thread = std::this_thread::get_id();
  bool on_loop_thread = true;
  auto [inline_promise, inline_future] = weft::make_promise<int>();
  auto [boxed_promise, boxed_future] = weft::make_promise<int>();
  std::thread attacher([&, f1 = std::move(inline_future), f2 = std::move(boxed_future)]() mutable {
    std::move(f1).then(loop, [&ran, &on_loop_thread, loop_thread](weft::Result<int> r) {
      on_loop_thread = on_loop_thread && std::this_thread::get_id() == loop_thread;
      ran += r.value();
    });
    std::array<std::uint64_t, 8> big{};
    big[7] = 10;
    std::move(f2).then(loop, [&ran, &done, big, held = Counted(counts)](weft::Result<int> r) {
      ran += r.value() + static_cast<int>(big[7]);
      done = true;
    });
  });
  attacher.join();
  inline_promise.set_value(1);
  boxed_promise.set_value(100);
  REQUIRE(run_until(loop, done));
  loop.run();
  CHECK(ran == 111);
  CHECK(on_loop_thread);
  CHECK(counts.alive() == 0);
}

TEST_CASE("a continuation sent from another thread to a loop that closes first is destroyed",
          "[future][state][threads]") {
  Counts counts;
  int reported = 0;
  {
    weft::Loop loop;
    loop.set_exception_handler([&](const weft::ExceptionContext&) { ++reported; });
    auto [promise, future] = weft::make_promise<int>();
    std::thread attacher([&loop, &counts, f = std::move(future)]() mutable {
      f.then(loop, [a = 0L, b = 0L, held = Counted(counts)](weft::Result<int>) {});
    });
    attacher.join();
    loop.close();  // the attachment is refused (closed) or dropped unrun
  }
  CHECK(counts.alive() == 0);
  CHECK(reported <= 1);
}

TEST_CASE("a future's outcome is destroyed exactly once however the future ends", "[future][state]") {
  weft::Loop loop;
  Counts counts;
  SECTION("read by the continuation") {
    auto [promise, future] = weft::make_promise<Counted>();
    int got = 0;
    std::move(future).then(loop, [&got](weft::Result<Counted> r) { got = r.value().value(); });
    promise.set_value(counts, 5);
    loop.run();
    CHECK(got == 5);
  }
  SECTION("never read: the future is dropped") {
    auto [promise, future] = weft::make_promise<Counted>();
    promise.set_value(counts, 5);
    CHECK(counts.alive() == 1);
  }
  SECTION("read by get()") {
    auto [promise, future] = weft::make_promise<Counted>();
    promise.set_value(counts, 6);
    CHECK(future.get().value() == 6);
  }
  SECTION("refused: the future was cancelled before the value was written") {
    auto [promise, future] = weft::make_promise<Counted>();
    REQUIRE(future.cancel());
    REQUIRE_FALSE(promise.set_value(counts, 5));
    CHECK(counts.constructed == 0);
    REQUIRE(future.result().is_cancelled());
  }
  SECTION("lost: the future was cancelled after the value was written") {
    Counts lost;
    auto [promise, future] = weft::make_promise<CancelsItsFuture>();
    REQUIRE_FALSE(promise.set_value(future, lost));
    CHECK(lost.constructed == 1);
    CHECK(lost.alive() == 0);  // destroyed at once, before the promise goes
    CHECK(future.cancelled());
    REQUIRE(future.result().is_cancelled());
  }
  SECTION("an error or an exception instead") {
    auto [p1, f1] = weft::make_promise<Counted>();
    auto [p2, f2] = weft::make_promise<Counted>();
    p1.set_error(weft::Error(weft::Errc::timed_out, "slow"));
    p2.set_exception(std::make_exception_ptr(std::runtime_error("bad")));
    const weft::Result<Counted> r1 = f1.result();
    REQUIRE(r1.has_error());
    CHECK(r1.error().code() == weft::Errc::timed_out);
    CHECK(r1.error().message() == "slow");
    CHECK_THROWS_WITH(f2.get(), "bad");
    CHECK(counts.constructed == 0);
  }
  CHECK(counts.alive() == 0);
}

TEST_CASE("large and move-only values travel through a future whole", "[future][state]") {
  weft::Loop loop;
  std::array<std::uint64_t, 32> big{};
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = i * i;
  auto [p1, f1] = weft::make_promise<std::array<std::uint64_t, 32>>();
  auto [p2, f2] = weft::make_promise<std::string>();
  auto [p3, f3] = weft::make_promise<std::unique_ptr<std::string>>();
  std::array<std::uint64_t, 32> got_big{};
  std::string got_text;
  std::string got_owned;
  std::move(f1).then(loop, [&](weft::Result<std::array<std::uint64_t, 32>> r) { got_big = r.value(); });
  std::move(f2).then(loop, [&](weft::Result<std::string> r) { got_text = std::move(r).value(); });
  std::move(f3).then(loop, [&](weft::Result<std::unique_ptr<std::string>> r) {
    got_owned = *std::move(r).value();
  });
  p1.set_value(big);
  p2.set_value(std::string(300, 'x'));
  p3.set_result(weft::Result<std::unique_ptr<std::string>>(std::make_unique<std::string>("owned")));
  loop.run();
  CHECK(got_big == big);
  CHECK(got_text == std::string(300, 'x'));
  CHECK(got_owned == "owned");
}

TEST_CASE("a value whose construction throws leaves the promise unused", "[future][state]") {
  auto [promise, future] = weft::make_promise<Fragile>();
  CHECK_THROWS_AS(promise.set_value(true), std::runtime_error);
  CHECK_FALSE(future.ready());
  CHECK(promise.set_value(false));
  CHECK(future.result().ok());
}

TEST_CASE("set_result stores each kind of outcome as it was given", "[future][state]") {
  auto [p1, f1] = weft::make_promise<int>();
  auto [p2, f2] = weft::make_promise<int>();
  auto [p3, f3] = weft::make_promise<void>();
  p1.set_result(weft::Result<int>(weft::Error(weft::Errc::cancelled)));
  p2.set_result(weft::Result<int>(std::make_exception_ptr(std::logic_error("x"))));
  p3.set_result(weft::Result<void>());
  CHECK_FALSE(f1.cancelled());  // completed with that Error, not cancelled
  CHECK(f1.result().is_cancelled());
  CHECK(f2.result().has_exception());
  CHECK(f3.result().ok());
}
