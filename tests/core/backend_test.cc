// Driving weft from a host's own poll() loop through backend_fd/backend_timeout.
#include <poll.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/loop/loop.h"

using namespace std::chrono_literals;

TEST_CASE("backend_timeout is 0 with work ready, -1 with none, and bounds the next timer",
          "[backend]") {
  weft::Loop loop;
  REQUIRE(loop.backend_fd() >= 0);
  REQUIRE(loop.backend_timeout() == -1);
  loop.call_soon([] {});
  REQUIRE(loop.backend_timeout() == 0);
  loop.poll();
  loop.call_later(40ms, [] {});
  int timeout = loop.backend_timeout();
  REQUIRE(timeout > 0);
  REQUIRE(timeout <= 40);
}

TEST_CASE("a post from another thread makes the backend fd readable", "[backend]") {
  weft::Loop loop;
  bool ran = false;
  std::thread poster([&] { loop.call_soon_threadsafe([&] { ran = true; }); });
  pollfd fd{loop.backend_fd(), POLLIN, 0};
  int ready = ::poll(&fd, 1, 10'000);
  poster.join();
  REQUIRE(ready == 1);
  REQUIRE(loop.backend_timeout() == 0);
  loop.poll();
  REQUIRE(ran);
}

TEST_CASE("a foreign poll loop drives timers and cross-thread posts", "[backend]") {
  weft::Loop loop;
  int fired = 0;
  bool posted = false;
  loop.call_later(10ms, [&] { ++fired; });
  std::thread poster([&] {
    std::this_thread::sleep_for(5ms);
    loop.call_soon_threadsafe([&] { posted = true; });
  });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((fired == 0 || !posted) && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{loop.backend_fd(), POLLIN, 0};
    int timeout = loop.backend_timeout();
    ::poll(&fd, 1, timeout < 0 || timeout > 50 ? 50 : timeout);
    loop.poll();
  }
  poster.join();
  REQUIRE(fired == 1);
  REQUIRE(posted);
}

TEST_CASE("poll() consumes a cross-thread wake-up, so the backend fd goes quiet again",
          "[backend]") {
  weft::Loop loop;
  int ran = 0;
  for (int round = 0; round < 3; ++round) {
    std::thread poster([&] { loop.call_soon_threadsafe([&] { ++ran; }); });
    poster.join();
    pollfd fd{loop.backend_fd(), POLLIN, 0};
    REQUIRE(::poll(&fd, 1, 10'000) == 1);
    loop.poll();
    // A host polling the fd now must block, not spin.
    fd.revents = 0;
    REQUIRE(::poll(&fd, 1, 0) == 0);
  }
  REQUIRE(ran == 3);
}

TEST_CASE("a host polling the backend fd does not spin while several threads post",
          "[backend]") {
  // A sender is descheduled between writing the wake-up and finishing its
  // send now and then; the host's poll() must still consume what was
  // written, or its next poll returns at once, over and over.
  for (int round = 0; round < 20; ++round) {
    weft::Loop loop;
    std::atomic<int> ran{0};
    std::vector<std::thread> posters;
    for (int t = 0; t < 3; ++t) {
      posters.emplace_back([&loop, &ran, t] {
        for (int i = 0; i < 5; ++i) {
          std::this_thread::sleep_for(std::chrono::microseconds(200 + 137 * t));
          loop.call_soon_threadsafe([&ran] { ran++; });
        }
      });
    }
    long wakeups = 0;
    const auto deadline = std::chrono::steady_clock::now() + 30ms;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{loop.backend_fd(), POLLIN, 0};
      const int timeout = loop.backend_timeout();
      ::poll(&fd, 1, timeout < 0 || timeout > 2 ? 2 : timeout);
      ++wakeups;
      loop.poll();
    }
    for (auto& poster : posters) poster.join();
    loop.poll();
    REQUIRE(ran == 15);
    // 15 posts and at most 15 two-millisecond timeouts; spinning makes thousands.
    REQUIRE(wakeups < 100);
  }
}
