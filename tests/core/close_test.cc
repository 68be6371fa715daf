// close(): what happens to work still pending. Run under ASan/LSan: nothing leaks.
#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

using namespace std::chrono_literals;

TEST_CASE("close runs ready callbacks and cancels pending timers", "[close]") {
  weft::Loop loop;
  int ran = 0;
  bool timer_fired = false;
  auto token = std::make_shared<int>(0);
  loop.call_soon([&] { ++ran; });
  loop.call_soon([&] { loop.call_soon([&] { ++ran; }); });
  loop.call_later(1h, [&, token] { timer_fired = true; });
  auto report = loop.close();
  REQUIRE(ran == 2);
  REQUIRE(report.callbacks_run == 3);
  REQUIRE(report.timers_cancelled == 1);
  REQUIRE(report.callbacks_dropped == 0);
  REQUIRE_FALSE(timer_fired);
  REQUIRE(token.use_count() == 1);  // the timer's callback was destroyed
  REQUIRE(loop.is_closed());
}

TEST_CASE("close cancels futures whose continuations wait on the loop", "[close]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  bool was_cancelled = false;
  std::move(future).then(loop, [&](weft::Result<int> r) { was_cancelled = r.is_cancelled(); });
  auto report = loop.close();
  REQUIRE(report.futures_cancelled == 1);
  REQUIRE(was_cancelled);
  REQUIRE_FALSE(promise.set_value(1));  // too late: the future was cancelled
}

TEST_CASE("close bounds callbacks that re-post forever and reports them", "[close]") {
  weft::Loop loop;
  std::vector<weft::ExceptionContext::Kind> reported;
  loop.set_exception_handler(
      [&](const weft::ExceptionContext& c) { reported.push_back(c.kind); });
  struct Forever {
    weft::Loop* loop;
    std::shared_ptr<int> token;
    void operator()() const { loop->call_soon(*this); }
  };
  auto token = std::make_shared<int>(0);
  loop.call_soon(Forever{&loop, token});
  auto report = loop.close();
  REQUIRE(report.callbacks_dropped == 1);
  REQUIRE(report.callbacks_run == weft::Loop::kCloseDrainPasses);
  REQUIRE(token.use_count() == 1);
  REQUIRE(reported == std::vector{weft::ExceptionContext::Kind::dropped_callbacks});
}

TEST_CASE("a closed loop refuses new work with a clear error", "[close]") {
  weft::Loop loop;
  loop.close();
  REQUIRE_THROWS_AS(loop.call_soon([] {}), weft::Exception);
  REQUIRE_THROWS_AS(loop.run(), weft::Exception);
  REQUIRE_FALSE(loop.call_soon_threadsafe([] {}));
  auto [promise, future] = weft::make_promise<int>();
  REQUIRE_THROWS_AS(std::move(future).then(loop, [](weft::Result<int>) {}), weft::Exception);
  REQUIRE(loop.close().callbacks_run == 0);  // closing twice is harmless
}

TEST_CASE("closing from inside a callback is refused", "[close]") {
  weft::Loop loop;
  weft::Errc seen = weft::Errc::ok;
  loop.call_soon([&] {
    try {
      loop.close();
    } catch (const weft::Exception& e) {
      seen = e.code();
    }
  });
  loop.run();
  REQUIRE(seen == weft::Errc::invalid_state);
}

TEST_CASE("a future completed on another thread during close still gets its continuation",
          "[close]") {
  for (int round = 0; round < 200; ++round) {
    weft::Loop loop;
    auto [promise, future] = weft::make_promise<int>();
    int outcome = 0;  // 1 value, 2 cancelled
    std::move(future).then(loop, [&](weft::Result<int> r) { outcome = r.ok() ? 1 : 2; });
    std::thread completer([p = std::move(promise)]() mutable { p.set_value(7); });
    loop.close();
    completer.join();
    REQUIRE(outcome != 0);
  }
}

TEST_CASE("destroying a loop without close closes it", "[close]") {
  auto token = std::make_shared<int>(0);
  {
    weft::Loop loop;
    loop.call_later(1h, [token] {});
    loop.call_soon([token] {});
  }
  REQUIRE(token.use_count() == 1);
}

TEST_CASE("close closes libuv handles left open on uv_loop(), so nothing leaks", "[close]") {
  weft::Loop loop;
  // Someone built directly on the libuv loop and forgot to close their handle.
  auto timer = std::make_unique<uv_timer_t>();
  uv_timer_init(weft::detail::LoopAccess::uv_loop(loop), timer.get());
  uv_timer_start(timer.get(), [](uv_timer_t*) {}, 3600 * 1000, 0);
  auto report = loop.close();
  REQUIRE(report.handles_closed == 1);
  REQUIRE(uv_is_closing(reinterpret_cast<uv_handle_t*>(timer.get())) != 0);
}

namespace {
// A stand-in for an I/O object: a libuv handle that must be closed with its
// own close callback (which frees it) when the loop closes.
class FakeResource final : public weft::detail::LoopResource {
 public:
  FakeResource(weft::Loop& loop, int& closed_count) : closed_count_(closed_count) {
    uv_idle_init(weft::detail::LoopAccess::uv_loop(loop), &idle_);
    idle_.data = this;
    weft::detail::LoopAccess::attach_resource(loop, this);
  }
  void close_for_loop() noexcept override {
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), [](uv_handle_t* handle) {
      auto* self = static_cast<FakeResource*>(handle->data);
      ++self->closed_count_;
      delete self;
    });
  }

 private:
  uv_idle_t idle_;
  int& closed_count_;
};
}  // namespace

TEST_CASE("close closes the I/O objects attached to the loop, each once", "[close]") {
  int closed = 0;
  weft::Loop loop;
  new FakeResource(loop, closed);
  new FakeResource(loop, closed);
  auto* detached = new FakeResource(loop, closed);
  weft::detail::LoopAccess::detach_resource(loop, detached);  // closed by its owner instead
  detached->close_for_loop();
  auto report = loop.close();
  REQUIRE(closed == 3);
  REQUIRE(report.handles_closed == 2);
}
