// Driving weft from a host's own poll() loop through backend_fd/backend_timeout.
#include <poll.h>

#include <catch2/catch.hpp>
#include <thread>

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
