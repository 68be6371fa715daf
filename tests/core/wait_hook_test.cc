// Loop::set_wait_hook: the hook brackets every wait of run() and run_once()
// (a timer's sleep, the spin and sleep for posts from other threads, libuv's
// own timers and I/O), enter and exit strictly alternate, no callback runs
// between them (weft's callbacks and libuv's, which run inside uv_run),
// poll() and run_for() never call it, and nullptr removes it, also from a
// callback in the middle of a wait.
#include <uv.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

using namespace std::chrono_literals;

namespace {

struct HookLog {
  int enters = 0;
  int exits = 0;
  bool inside = false;
  int out_of_order = 0;
  int callbacks = 0;
  int callbacks_inside = 0;

  static void hook(void* user, int entering) {
    auto* log = static_cast<HookLog*>(user);
    if (entering != 0) {
      if (log->inside) ++log->out_of_order;
      log->inside = true;
      ++log->enters;
    } else {
      if (!log->inside) ++log->out_of_order;
      log->inside = false;
      ++log->exits;
    }
  }
  void check_in() {
    ++callbacks;
    if (inside) ++callbacks_inside;
  }
  void require_well_bracketed() const {
    REQUIRE(out_of_order == 0);
    REQUIRE(enters == exits);
    REQUIRE_FALSE(inside);
    REQUIRE(callbacks_inside == 0);
  }
};

// A one-shot libuv timer (not a weft one: only libuv's timeout bounds a
// wait for it) that runs on_fire inside uv_run, then closes itself. Lives
// until the loop has run its close callback.
struct UvTimer {
  uv_timer_t handle;
  std::function<void()> on_fire;

  void start(weft::Loop& loop, std::uint64_t ms) {
    REQUIRE(uv_timer_init(weft::detail::LoopAccess::uv_loop(loop), &handle) == 0);
    handle.data = this;
    REQUIRE(uv_timer_start(
                &handle,
                [](uv_timer_t* t) {
                  static_cast<UvTimer*>(t->data)->on_fire();
                  uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
                },
                ms, 0) == 0);
  }
};

}  // namespace

TEST_CASE("the wait hook brackets timer sleeps of run() and run_once()", "[loop][wait_hook]") {
  weft::Loop loop;
  HookLog log;
  loop.set_wait_hook(&HookLog::hook, &log);
  // The second timer is armed by the first, so the loop must sleep for it
  // however late the first one ran on a loaded machine.
  loop.call_later(200ms, [&] {
    log.check_in();
    loop.call_later(100ms, [&] { log.check_in(); });
  });
  loop.run();
  REQUIRE(log.callbacks == 2);
  REQUIRE(log.enters >= 2);
  log.require_well_bracketed();
  REQUIRE(loop.stats().sleeps >= 2);

  const int before = log.enters;
  loop.call_later(5ms, [&] { log.check_in(); });
  for (int i = 0; i < 100 && log.callbacks < 3; ++i) loop.run_once();
  REQUIRE(log.callbacks == 3);
  REQUIRE(log.enters > before);
  log.require_well_bracketed();
}

TEST_CASE("poll() and run_for() never call the wait hook", "[loop][wait_hook]") {
  weft::Loop loop;
  HookLog log;
  loop.set_wait_hook(&HookLog::hook, &log);
  auto timer = loop.call_later(30s, [&] { log.check_in(); });
  loop.call_soon([&] { log.check_in(); });
  loop.poll();
  loop.poll();
  loop.call_soon([&] { log.check_in(); });
  (void)loop.run_for(2ms);
  (void)loop.run_for(2ms);
  REQUIRE(log.callbacks == 2);
  REQUIRE(log.enters == 0);
  timer.cancel();
}

TEST_CASE("posts from another thread run after the hook's exit", "[loop][wait_hook]") {
  weft::Loop loop;
  HookLog log;
  loop.set_wait_hook(&HookLog::hook, &log);
  for (auto delay : {0ms, 1ms, 20ms}) {
    auto keep = loop.keep_alive();
    std::thread poster([&, delay] {
      std::this_thread::sleep_for(delay);
      loop.call_soon_threadsafe([&] {
        log.check_in();
        loop.stop();
      });
    });
    loop.run();
    poster.join();
  }
  REQUIRE(log.callbacks == 3);
  REQUIRE(log.enters >= 1);
  log.require_well_bracketed();
}

TEST_CASE("libuv's own callbacks, run inside uv_run, come after the hook's exit", "[loop][wait_hook]") {
  weft::Loop loop;
  HookLog log;
  loop.set_wait_hook(&HookLog::hook, &log);
  UvTimer timer;
  timer.on_fire = [&] {
    log.check_in();
    loop.stop();  // no weft callback became ready: end the wait here
  };
  timer.start(loop, 20);
  auto watchdog = loop.call_later(10s, [&] { loop.stop(); });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000 && log.callbacks == 0; ++i) loop.run_once();
  watchdog.cancel();
  REQUIRE(log.callbacks == 1);
  REQUIRE(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(log.enters >= 1);
  log.require_well_bracketed();
  loop.run();  // the timer's close callback
}

TEST_CASE("nullptr removes the wait hook; a callback may replace it", "[loop][wait_hook]") {
  weft::Loop loop;
  HookLog first, second;
  loop.set_wait_hook(&HookLog::hook, &first);
  loop.call_later(200ms, [&] {
    loop.set_wait_hook(&HookLog::hook, &second);
    loop.call_later(100ms, [&] { second.check_in(); });
  });
  loop.run();
  REQUIRE(first.enters >= 1);
  REQUIRE(second.enters >= 1);
  first.require_well_bracketed();
  second.require_well_bracketed();

  loop.set_wait_hook(nullptr, &second);
  const int enters = second.enters;
  loop.call_later(5ms, [&] { second.check_in(); });
  loop.run();
  REQUIRE(second.callbacks == 2);
  REQUIRE(second.enters == enters);
}

TEST_CASE("a libuv callback that removes the hook mid-wait ends its calls at once", "[loop][wait_hook]") {
  weft::Loop loop;
  HookLog log;
  loop.set_wait_hook(&HookLog::hook, &log);
  // Runs inside uv_run, in the middle of a wait: no weft callback becomes
  // ready, so the same run() waits again, now without the hook.
  int enters_at_removal = -1;
  UvTimer timer;
  timer.on_fire = [&] {
    log.check_in();
    loop.set_wait_hook(nullptr, nullptr);
    enters_at_removal = log.enters;
  };
  timer.start(loop, 20);
  bool fired = false;
  loop.call_later(80ms, [&] { fired = true; });
  loop.run();
  REQUIRE(fired);
  REQUIRE(enters_at_removal >= 1);
  REQUIRE(log.enters == enters_at_removal);
  log.require_well_bracketed();
}
