// Running out of file descriptors while accepting must not make the loop spin
// (libuv's listening socket stays readable, and its accept loop retries at
// once). The test lowers RLIMIT_NOFILE, uses up every descriptor, and checks
// that the loop stays idle and the listener recovers once descriptors are back.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/task/task.h"
#include "core/loop/loop_access.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;

namespace {

// Holds every descriptor the process may still open, under a lowered soft
// limit; gives them back (and the limit) when destroyed.
class DescriptorsExhausted {
 public:
  DescriptorsExhausted() {
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, highest_open_fd() + 16);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      held_.push_back(fd);
    }
    const int error = errno;
    if (error != EMFILE) {
      give_back();
      FAIL("expected EMFILE, got errno " << error);
    }
  }
  ~DescriptorsExhausted() { give_back(); }
  void give_back() {
    for (int fd : held_) ::close(fd);
    held_.clear();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  static rlim_t highest_open_fd() {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    ::close(fd);
    // Not exact (there may be gaps), but every descriptor below it is open or
    // will be taken by the loop that fills up.
    return static_cast<rlim_t>(fd) + 64;
  }
  rlimit saved_{};
  std::vector<int> held_;
};

// UBSan's vptr check opens a pipe (two descriptors) the first time it meets a
// pair of types, which fails while every descriptor is taken and reads as a
// false "invalid vptr". So the tests run the loop once beforehand (to meet the
// loop's types while descriptors are still there) and make no assertion while
// descriptors are exhausted: they record, then check.
void warm_up(weft::Loop& loop) { weft_test::run_for_a_while(loop, 1ms); }

// A plain blocking client socket connected to `address` (the kernel completes
// the handshake; the connection then waits in the listener's backlog).
int raw_connect(const weft::SocketAddress& address) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::connect(fd, address.data(), address.size()) == 0);
  return fd;
}

}  // namespace

TEST_CASE("out of descriptors: libuv drops the waiting connection and the loop stays idle",
          "[tcp][emfile]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  warm_up(loop);
  const int client = raw_connect(listener.local_address());
  auto pending = listener.accept();
  std::uint64_t passes = 0;
  bool accepted_early = false;
  {
    DescriptorsExhausted exhausted;
    const auto iterations_before = loop.stats().iterations;
    weft_test::run_for_a_while(loop, 200ms);
    passes = loop.stats().iterations - iterations_before;
    accepted_early = pending.ready();
  }
  // A spinning loop would run thousands of passes (or never come back).
  REQUIRE(passes < 200);
  REQUIRE_FALSE(accepted_early);
  // libuv accepted and closed the connection with its reserve descriptor.
  char byte;
  REQUIRE(::recv(client, &byte, 1, 0) <= 0);
  ::close(client);

  // With descriptors back, the listener serves the next connection.
  auto stream = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  auto accepted = get(loop, std::move(pending));
  get(loop, stream.write("ok"));
  REQUIRE(get(loop, accepted.read_exactly(2)) == "ok");
}

TEST_CASE("out of descriptors without libuv's reserve: the accept fails, the listener pauses "
          "and recovers",
          "[tcp][emfile]") {
  weft::Loop loop;
  weft::TcpListenOptions options;
  options.accept_retry_delay = 50ms;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0), options);
  // Simulate libuv's reserve descriptor being gone (another thread took the
  // descriptor libuv had freed): libuv then reports EMFILE from inside its
  // accept loop, which retries at once.
  uv_loop_t* uv = weft::detail::LoopAccess::uv_loop(loop);
  REQUIRE(uv->emfile_fd >= 0);
  ::close(uv->emfile_fd);
  uv->emfile_fd = -1;

  warm_up(loop);
  const int client = raw_connect(listener.local_address());
  auto first = listener.accept();
  weft::Future<weft::TcpStream> second;
  weft::Errc first_failure = weft::Errc::ok;
  std::uint64_t passes = 0;
  bool second_early = false;
  bool listener_open = false;
  {
    DescriptorsExhausted exhausted;
    const auto iterations_before = loop.stats().iterations;
    auto r = weft::run_until_complete(loop, first);
    first_failure = r.ok() ? weft::Errc::ok : r.error().code();
    second = listener.accept();
    weft_test::run_for_a_while(loop, 200ms);
    passes = loop.stats().iterations - iterations_before;
    second_early = second.ready();
    listener_open = listener.is_open();
  }
  REQUIRE(first_failure == weft::Errc::too_many_open_files);
  REQUIRE(passes < 200);
  REQUIRE_FALSE(second_early);  // paused: retrying every 50 ms, quietly
  REQUIRE(listener_open);
  // Descriptors are back: within a retry delay the held connection arrives.
  auto accepted = get(loop, std::move(second));
  REQUIRE(::send(client, "hi", 2, 0) == 2);
  REQUIRE(get(loop, accepted.read_exactly(2)) == "hi");
  ::close(client);
}
