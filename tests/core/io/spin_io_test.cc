// The loop's spin before sleeping (core/loop/loop_wait.cc) with I/O in
// flight: a watched fd that stays quiet (a signal wake-up fd, say) does not
// stop a loop that expects posts from spinning, and I/O that becomes ready
// while it spins is dispatched (the spin also watches libuv's backend fd).
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "core/io/fd_watch.h"
#include "core/loop/loop.h"

using namespace std::chrono_literals;
using weft::FdWatch;

namespace {

// Catch2's assertions are for the test's own thread; other threads abort.
void check(bool ok) {
  if (!ok) std::abort();
}

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~SocketPair() {
    close(fds[0]);
    close(fds[1]);
  }
};

}  // namespace

TEST_CASE("a loop with a quiet watched fd spins for posts, and runs I/O that comes during a spin",
          "[spin][fd_watch]") {
  weft::Loop loop;
  SocketPair pair;
  FdWatch watch = FdWatch::watch(loop, pair.fds[0]);
  // A wait that stays pending through the ping-pong: libuv has I/O in flight.
  std::optional<int> ready;
  auto keep = std::make_shared<weft::Loop::KeepAlive>(loop.keep_alive());
  watch.wait(FdWatch::kReadable).then(loop, [&ready, keep](weft::Result<int> r) {
    ready = r.value();
    keep->reset();
  });

  // A thread posts pings, each as soon as it sees the previous reply; then,
  // with the loop back in its wait, it makes the watched fd readable.
  constexpr int kRounds = 2000;
  std::atomic<int> replies{0};
  std::thread poster([&] {
    for (int i = 1; i <= kRounds; ++i) {
      check(loop.call_soon_threadsafe([&replies] { replies.fetch_add(1, std::memory_order_release); }));
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (replies.load(std::memory_order_acquire) < i) {
        check(std::chrono::steady_clock::now() <= deadline);
        std::this_thread::yield();
      }
    }
    check(write(pair.fds[1], "x", 1) == 1);
  });
  loop.run();  // returns once the fd wait's continuation let the KeepAlive go
  poster.join();

  REQUIRE(replies.load() == kRounds);
  REQUIRE(ready == FdWatch::kReadable);
  const weft::LoopStats stats = loop.stats();
  INFO("spins " << stats.spins << ", hits " << stats.spin_hits << ", sleeps " << stats.sleeps);
  // Whether the spins find the posts depends on the poster having a core of
  // its own; that the loop spins at all is what the watched fd used to stop.
  REQUIRE(stats.spins > 0);
  watch.close();
  loop.run();
}
