// The loop's spin before sleeping (core/loop/loop_wait.cc) with I/O in
// flight: a watched fd that stays quiet (a signal wake-up fd, say) does not
// stop a loop that expects posts from spinning, and I/O that becomes ready
// while it spins is dispatched (the spin also watches libuv's backend fd);
// a loop whose peer answers within microseconds spins for the answers, stops
// when the answers come slowly, does not spin right after a bulk read, and
// never spins with SpinPolicy::off.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "core/io/fd_watch.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"

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

// The loop writes a byte to the peer, waits for the fd to become readable,
// reads the answer, and again, `rounds` times or until `deadline`; a thread
// answers each byte after `delay`. `before_wait`, if given, runs before each
// wait. Returns the rounds made.
int pingpong_over_fd(weft::Loop& loop, int rounds, std::chrono::microseconds delay,
                     std::chrono::steady_clock::time_point deadline,
                     const std::function<void()>& before_wait = nullptr) {
  SocketPair pair;
  FdWatch watch = FdWatch::watch(loop, pair.fds[0]);
  std::thread peer([&] {
    char byte = 0;
    // Until the loop closes its end (read returns 0).
    while (read(pair.fds[1], &byte, 1) == 1) {
      if (delay > std::chrono::microseconds::zero()) std::this_thread::sleep_for(delay);
      check(write(pair.fds[1], &byte, 1) == 1);
    }
  });
  int done = 0;
  bool failed = false;
  std::function<void()> next = [&] {
    const char byte = static_cast<char>('a' + done % 26);
    if (write(pair.fds[0], &byte, 1) != 1) {
      failed = true;
      return;
    }
    if (before_wait) before_wait();
    watch.wait(FdWatch::kReadable).then(loop, [&, byte](weft::Result<int> r) {
      char answer = 0;
      if (!r.ok() || read(pair.fds[0], &answer, 1) != 1 || answer != byte) {
        failed = true;
        return;
      }
      if (++done < rounds && std::chrono::steady_clock::now() < deadline) next();
    });
  };
  loop.call_soon(next);
  loop.run();
  watch.close();
  loop.run();
  shutdown(pair.fds[0], SHUT_RDWR);  // the peer's read returns 0
  peer.join();
  REQUIRE_FALSE(failed);
  return done;
}

}  // namespace

TEST_CASE("a loop whose peer answers within microseconds spins for the answers", "[spin][io]") {
  weft::Loop loop;
  // The answer must come within the spin, which needs the peer to have a
  // core: go on (up to 10 s) until a few spins have caught one.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int rounds = 0;
  while (loop.stats().io_spin_hits < 10 && std::chrono::steady_clock::now() < deadline) {
    rounds += pingpong_over_fd(loop, 2000, 0us, deadline);
  }
  const weft::LoopStats fast = loop.stats();
  INFO(rounds << " rounds: io spins " << fast.io_spins << ", hits " << fast.io_spin_hits
              << ", sleeps " << fast.sleeps);
  REQUIRE(fast.io_spin_hits >= 10);

  // Answers 2 ms apart: far past the ceiling, so after a few spins that
  // find nothing the loop sleeps at once, and stays so.
  REQUIRE(pingpong_over_fd(loop, 200, 2000us, std::chrono::steady_clock::now() + 20s) == 200);
  const weft::LoopStats slow = loop.stats();
  INFO("slow answers: io spins " << slow.io_spins - fast.io_spins << ", hits "
                                 << slow.io_spin_hits - fast.io_spin_hits);
  REQUIRE(slow.io_spins - fast.io_spins <= 20);
  REQUIRE(slow.io_spin_limit == weft::Duration::zero());
}

TEST_CASE("a loop does not spin for I/O in the wait after a bulk read", "[spin][io]") {
  weft::Loop loop;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (loop.stats().io_spin_hits < 10 && std::chrono::steady_clock::now() < deadline) {
    pingpong_over_fd(loop, 2000, 0us, deadline);
  }
  REQUIRE(loop.stats().io_spin_hits >= 10);
  REQUIRE(loop.stats().io_spin_limit > weft::Duration::zero());

  // Each wait follows a bulk read (as a stream's read of more than 64 KiB
  // reports it): none spins, and the governor keeps what it learned.
  const weft::LoopStats before = loop.stats();
  REQUIRE(pingpong_over_fd(loop, 200, 0us, std::chrono::steady_clock::now() + 20s,
                           [&] { weft::detail::LoopAccess::note_bulk_read(loop); }) == 200);
  const weft::LoopStats bulk = loop.stats();
  INFO("after bulk reads: io spins " << bulk.io_spins - before.io_spins << ", sleeps "
                                     << bulk.sleeps - before.sleeps);
  REQUIRE(bulk.io_spins == before.io_spins);
  REQUIRE(bulk.io_spin_limit == before.io_spin_limit);

  // Without them, the next wait spins again.
  REQUIRE(pingpong_over_fd(loop, 20, 0us, std::chrono::steady_clock::now() + 20s) == 20);
  REQUIRE(loop.stats().io_spins > bulk.io_spins);
}

TEST_CASE("a loop with SpinPolicy::off never spins for its I/O", "[spin][io]") {
  weft::LoopOptions options;
  options.spin = weft::SpinPolicy::off;
  weft::Loop loop(options);
  REQUIRE(pingpong_over_fd(loop, 500, 0us, std::chrono::steady_clock::now() + 20s) == 500);
  const weft::LoopStats stats = loop.stats();
  REQUIRE(stats.io_spins == 0);
  REQUIRE(stats.spins == 0);
  REQUIRE(stats.io_spin_limit == weft::Duration::zero());
}

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
