// weft::SignalWatcher (await a POSIX signal on the loop) and
// weft::ShutdownOnSignals (SIGINT/SIGTERM -> a graceful shutdown).
//
//   auto usr1 = weft::SignalWatcher::watch(loop, SIGUSR1);
//   usr1.wait().then(loop, [](weft::Result<int> r) { ... });   // r.value() == SIGUSR1
//
//   weft::ShutdownOnSignals shutdown(loop, [&](int signum) {
//     listener.close();          // stop taking work, finish what runs...
//     loop.stop();               // ...then let run() return; main closes the loop
//   });
//
// SignalWatcher: wait() completes on the next delivery of the signal, on the
// loop thread (libuv turns the signal into a loop event, so the callback is an
// ordinary callback, not a signal handler). Every wait() pending at a delivery
// completes with it; deliveries while none waits are remembered (coalesced
// into one) and complete the next wait() at once. While the watcher exists the
// signal no longer has its default action (SIGINT does not kill the process).
// A pending wait() keeps Loop::run() going; cancelling it frees the watcher.
//
// ShutdownOnSignals: on the first SIGINT or SIGTERM it runs `on_shutdown`
// (default: loop.stop()) on the loop thread; on a second one it restores the
// default action and raises the signal again, so a shutdown that hangs can
// still be interrupted (a second Ctrl-C ends the process). It does not keep
// Loop::run() going by itself.
//
// Threads: the loop's thread; destroying elsewhere is allowed. libuv
// dispatches a signal to every loop watching it, in every thread.
#pragma once

#include <functional>
#include <memory>

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/io_handle.h"

namespace weft {

namespace detail {
class SignalImpl;
}

// is_open(), close() and wait_closed() come from IoHandle (io_handle.h).
class SignalWatcher final : public IoHandle {
 public:
  SignalWatcher() noexcept = default;

  // Starts watching `signum`. Throws weft::Exception (invalid_argument for a
  // signal that cannot be caught).
  static SignalWatcher watch(Loop& loop, int signum);

  [[nodiscard]] Future<int> wait();
  int signum() const noexcept;

 private:
  friend class ShutdownOnSignals;
  explicit SignalWatcher(detail::IoRef<detail::SignalImpl> impl) noexcept;
  detail::SignalImpl* impl() const noexcept;
};

class ShutdownOnSignals {
 public:
  // Loop thread. Throws weft::Exception if the signals cannot be watched.
  explicit ShutdownOnSignals(Loop& loop, std::function<void(int signum)> on_shutdown = {});
  ~ShutdownOnSignals();
  ShutdownOnSignals(const ShutdownOnSignals&) = delete;
  ShutdownOnSignals& operator=(const ShutdownOnSignals&) = delete;

  // The signal that started the shutdown, or 0. Loop thread.
  int received() const noexcept { return *received_; }

 private:
  std::shared_ptr<int> received_;
  SignalWatcher interrupt_;
  SignalWatcher terminate_;
};

}  // namespace weft
