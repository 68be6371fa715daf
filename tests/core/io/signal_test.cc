// weft::SignalWatcher and weft::ShutdownOnSignals: signals raised by the test
// process itself arrive on the loop as ordinary callbacks.
#include <catch2/catch.hpp>

#include <csignal>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "core/loop/loop_access.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;

TEST_CASE("a raised SIGUSR1 completes the watcher's wait on the loop", "[signal]") {
  weft::Loop loop;
  auto watcher = weft::SignalWatcher::watch(loop, SIGUSR1);
  REQUIRE(watcher.signum() == SIGUSR1);
  auto waiting = watcher.wait();
  loop.call_soon([] { std::raise(SIGUSR1); });
  REQUIRE(get(loop, std::move(waiting)) == SIGUSR1);
}

TEST_CASE("a signal that arrives while nothing waits completes the next wait", "[signal]") {
  weft::Loop loop;
  auto watcher = weft::SignalWatcher::watch(loop, SIGUSR2);
  // A second watcher that does wait tells when the delivery has been handled:
  // libuv hands one signal to every watcher in the same pass.
  auto witness = weft::SignalWatcher::watch(loop, SIGUSR2);
  auto seen = witness.wait();
  std::raise(SIGUSR2);
  REQUIRE(get(loop, std::move(seen)) == SIGUSR2);
  auto next = watcher.wait();
  REQUIRE(next.ready());
  REQUIRE(get(loop, std::move(next)) == SIGUSR2);
}

TEST_CASE("cancelling a wait frees the watcher; closing fails waits with closed", "[signal][cancel]") {
  weft::Loop loop;
  auto watcher = weft::SignalWatcher::watch(loop, SIGUSR1);
  auto waiting = watcher.wait();
  REQUIRE(waiting.cancel());
  loop.poll();
  REQUIRE(uv_loop_alive(weft::detail::LoopAccess::uv_loop(loop)) ==
          0);  // nothing waits: the loop may end
  auto last = watcher.wait();
  watcher.close();
  REQUIRE(await(loop, std::move(last)).error().code() == weft::Errc::closed);
}

TEST_CASE("a watcher for a signal that cannot be caught is refused", "[signal]") {
  weft::Loop loop;
  try {
    auto watcher = weft::SignalWatcher::watch(loop, SIGKILL);
    FAIL("watching SIGKILL succeeded");
  } catch (const weft::Exception& e) {
    REQUIRE(e.code() == weft::Errc::invalid_argument);
  }
}

TEST_CASE("SIGTERM starts a graceful shutdown through the helper", "[signal][shutdown]") {
  weft::Loop loop;
  int shutdown_signal = 0;
  weft::ShutdownOnSignals shutdown(loop, [&](int signum) {
    shutdown_signal = signum;
    loop.stop();
  });
  // Work that would run forever: a future nobody completes.
  auto [promise, forever] = weft::make_promise<void>();
  std::move(forever).then(loop, [](weft::Result<void>) {});
  loop.call_later(5ms, [] { std::raise(SIGTERM); });
  auto watchdog = loop.call_later(20s, [&] { loop.stop(); });
  loop.run();
  watchdog.cancel();
  REQUIRE(shutdown_signal == SIGTERM);
  REQUIRE(shutdown.received() == SIGTERM);
}

TEST_CASE("the shutdown helper alone does not keep the loop running", "[signal][shutdown]") {
  weft::Loop loop;
  weft::ShutdownOnSignals shutdown(loop);  // default action: loop.stop()
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.run();  // returns: nothing else to do
  REQUIRE(ran == 1);
  REQUIRE(shutdown.received() == 0);
}
