// weft::FdWatch: readiness of socketpairs and pipes the test owns, one wait
// per direction, cancellation and closing, refusals, and the cost promise:
// a wait taken again from the previous wait's callback leaves the kernel
// registration in place (checked in /proc/self/fdinfo of libuv's epoll fd,
// which lists the descriptors registered with it).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/fd_watch.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft::FdWatch;
using weft_test::await;
using weft_test::get;

namespace {

// Two connected sockets, closed at the end of the test.
struct SocketPair {
  SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~SocketPair() {
    close(fds[0]);
    close(fds[1]);
  }
  int fds[2];
};

// Whether the kernel's epoll set behind `loop` has `fd` registered.
bool registered_with_kernel(weft::Loop& loop, int fd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(loop.backend_fd()));
  REQUIRE(info.good());
  const std::string wanted = "tfd: " + std::to_string(fd) + " ";
  std::string line;
  while (std::getline(info, line)) {
    // "tfd:        7 events:       19 data: ..." (the number is padded)
    if (line.rfind("tfd:", 0) != 0) continue;
    if (std::stoi(line.substr(4)) == fd) return true;
  }
  return false;
}

void write_byte(int fd) { REQUIRE(write(fd, "x", 1) == 1); }

}  // namespace

TEST_CASE("an fd wait completes when the socket becomes readable", "[fd_watch]") {
  weft::Loop loop;
  SocketPair pair;
  auto watch = FdWatch::watch(loop, pair.fds[0]);
  REQUIRE(watch.fd() == pair.fds[0]);
  auto readable = watch.wait(FdWatch::kReadable);
  REQUIRE(watch.waiting_events() == FdWatch::kReadable);
  loop.poll();
  REQUIRE_FALSE(readable.ready());
  loop.call_later(5ms, [&] { write_byte(pair.fds[1]); });
  REQUIRE(get(loop, std::move(readable)) == FdWatch::kReadable);
  REQUIRE(watch.waiting_events() == 0);

  // Level-triggered: the byte is still there.
  REQUIRE(get(loop, watch.wait(FdWatch::kReadable)) == FdWatch::kReadable);
  // Writable at once; both asked for, both ready.
  REQUIRE(get(loop, watch.wait(FdWatch::kWritable)) == FdWatch::kWritable);
  REQUIRE(get(loop, watch.wait(FdWatch::kReadable | FdWatch::kWritable)) ==
          (FdWatch::kReadable | FdWatch::kWritable));
  watch.close();
  loop.run();
  char c;
  REQUIRE(read(pair.fds[0], &c, 1) == 1);  // still open: the fd is the test's
}

TEST_CASE("pipe ends: writable, then readable, then hang-up counts as readable", "[fd_watch]") {
  weft::Loop loop;
  int p[2];
  REQUIRE(pipe(p) == 0);
  {
    auto reader = FdWatch::watch(loop, p[0]);
    auto writer = FdWatch::watch(loop, p[1]);
    auto readable = reader.wait(FdWatch::kReadable);
    REQUIRE(get(loop, writer.wait(FdWatch::kWritable)) == FdWatch::kWritable);
    REQUIRE_FALSE(readable.ready());
    write_byte(p[1]);
    REQUIRE(get(loop, std::move(readable)) == FdWatch::kReadable);
    char c;
    REQUIRE(read(p[0], &c, 1) == 1);
    writer.close();
    loop.poll();  // the close completes before the descriptor goes
    close(p[1]);
    REQUIRE(get(loop, reader.wait(FdWatch::kReadable)) == FdWatch::kReadable);
    REQUIRE(read(p[0], &c, 1) == 0);
  }
  loop.run();
  close(p[0]);
}

TEST_CASE("a socket with an error pending (a refused connect) counts as ready", "[fd_watch]") {
  weft::Loop loop;
  // A port nobody listens on: bind one, then close it.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(probe >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(bind(probe, reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(probe);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  REQUIRE((rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED));
  {
    auto watch = FdWatch::watch(loop, fd);
    // Writable (the connect is over); SO_ERROR says how it ended.
    REQUIRE((get(loop, watch.wait(FdWatch::kWritable)) & FdWatch::kWritable) != 0);
    int error = 0;
    socklen_t size = sizeof(error);
    REQUIRE(getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0);
    REQUIRE(error == ECONNREFUSED);
    // Waiting again restarts the poll handle libuv stopped.
    REQUIRE((get(loop, watch.wait(FdWatch::kWritable)) & FdWatch::kWritable) != 0);
    watch.close();
  }
  loop.run();
  close(fd);
}

TEST_CASE("one wait per direction; both directions may be pending together", "[fd_watch]") {
  weft::Loop loop;
  SocketPair pair;
  auto watch = FdWatch::watch(loop, pair.fds[0]);
  auto readable = watch.wait(FdWatch::kReadable);
  auto second = watch.wait(FdWatch::kReadable);
  REQUIRE(second.ready());
  REQUIRE(await(loop, std::move(second)).error().code() == weft::Errc::invalid_state);
  auto both = watch.wait(FdWatch::kReadable | FdWatch::kWritable);
  REQUIRE(await(loop, std::move(both)).error().code() == weft::Errc::invalid_state);
  auto writable = watch.wait(FdWatch::kWritable);
  REQUIRE(watch.waiting_events() == (FdWatch::kReadable | FdWatch::kWritable));
  REQUIRE(get(loop, std::move(writable)) == FdWatch::kWritable);
  REQUIRE_FALSE(readable.ready());
  write_byte(pair.fds[1]);
  REQUIRE(get(loop, std::move(readable)) == FdWatch::kReadable);
}

TEST_CASE("bad events and bad descriptors are refused", "[fd_watch]") {
  weft::Loop loop;
  SocketPair pair;
  auto watch = FdWatch::watch(loop, pair.fds[0]);
  for (int events : {0, 4, FdWatch::kReadable | 8, -1}) {
    auto refused = watch.wait(events);
    REQUIRE(await(loop, std::move(refused)).error().code() == weft::Errc::invalid_argument);
  }
  REQUIRE_THROWS_MATCHES(FdWatch::watch(loop, -1), weft::Exception,
                         Catch::Matchers::Predicate<weft::Exception>(
                             [](const weft::Exception& e) { return e.code() == weft::Errc::invalid_argument; }));
  char path[] = "/tmp/weft-fd-watch-test-XXXXXX";
  int file = mkstemp(path);
  REQUIRE(file >= 0);
  unlink(path);
  try {
    auto bad = FdWatch::watch(loop, file);
    FAIL("a regular file was watched");
  } catch (const weft::Exception& e) {
    REQUIRE(e.code() == weft::Errc::invalid_argument);
  }
  close(file);
  // An fd already watched on this loop: refused whether or not the first
  // watch has been handed to the kernel yet; another loop may watch it.
  auto require_refused_twice = [&] {
    try {
      auto again = FdWatch::watch(loop, pair.fds[0]);
      FAIL("a descriptor was watched twice");
    } catch (const weft::Exception& e) {
      REQUIRE(e.code() == weft::Errc::invalid_argument);
      REQUIRE(std::string(e.what()).find("already watched") != std::string::npos);
    }
  };
  require_refused_twice();
  auto pending = watch.wait(FdWatch::kReadable);
  require_refused_twice();
  loop.poll();
  require_refused_twice();
  {
    weft::Loop other;
    auto elsewhere = FdWatch::watch(other, pair.fds[0]);
    REQUIRE(elsewhere.is_open());
  }
  auto closing = FdWatch::watch(loop, pair.fds[1]);
  closing.close();
  auto reopened = FdWatch::watch(loop, pair.fds[1]);  // free again once closed
  REQUIRE(reopened.is_open());
  FdWatch empty;
  REQUIRE(await(loop, empty.wait(FdWatch::kReadable)).error().code() == weft::Errc::closed);
  REQUIRE(empty.fd() == -1);
}

TEST_CASE("a cancelled wait frees its direction and the loop", "[fd_watch][cancel]") {
  weft::Loop loop;
  SocketPair pair;
  auto watch = FdWatch::watch(loop, pair.fds[0]);
  auto waiting = watch.wait(FdWatch::kReadable);
  REQUIRE(waiting.cancel());
  REQUIRE(watch.waiting_events() == 0);  // at once, before the sweep
  loop.poll();
  REQUIRE_FALSE(registered_with_kernel(loop, pair.fds[0]));
  loop.run();  // nothing keeps it running
  auto next = watch.wait(FdWatch::kReadable);
  write_byte(pair.fds[1]);
  REQUIRE(get(loop, std::move(next)) == FdWatch::kReadable);
}

TEST_CASE("closing the watch fails pending waits with closed, once", "[fd_watch]") {
  weft::Loop loop;
  SocketPair pair;
  auto watch = FdWatch::watch(loop, pair.fds[0]);
  auto readable = watch.wait(FdWatch::kReadable);
  int calls = 0;
  weft::Errc code = weft::Errc::ok;
  readable.then(loop, [&](weft::Result<int> r) {
    ++calls;
    code = r.error().code();
  });
  watch.close();
  loop.run();
  REQUIRE(calls == 1);
  REQUIRE(code == weft::Errc::closed);
  REQUIRE(watch.waiting_events() == 0);
  REQUIRE(await(loop, watch.wait(FdWatch::kReadable)).error().code() == weft::Errc::closed);
  REQUIRE(fcntl(pair.fds[0], F_GETFD) != -1);
}

TEST_CASE("a loop that closes closes its watches", "[fd_watch]") {
  SocketPair pair;
  FdWatch watch;
  weft::Future<int> waiting;
  {
    weft::Loop loop;
    watch = FdWatch::watch(loop, pair.fds[0]);
    waiting = watch.wait(FdWatch::kReadable);
    loop.close();
    REQUIRE_FALSE(watch.is_open());
  }
  REQUIRE(waiting.ready());
}

namespace {

// The asyncio add_reader pattern: read, send the next byte, wait again.
struct Reader {
  weft::Loop& loop;
  FdWatch& watch;
  int reader, writer;
  int rounds = 0;
  int target;
  int unregistered_in_callback = 0;  // rounds whose callback saw the fd gone from epoll
  int failures = 0;

  void arm() {
    watch.wait(FdWatch::kReadable).then(loop, [this](weft::Result<int> r) { on_readable(std::move(r)); });
  }
  void on_readable(weft::Result<int> r) {
    if (!r.ok() || r.value() != FdWatch::kReadable) {
      ++failures;
      return;
    }
    if (!registered_with_kernel(loop, reader)) ++unregistered_in_callback;
    char c;
    if (read(reader, &c, 1) != 1) ++failures;
    if (++rounds == target) {
      loop.stop();  // the watchdog timer would keep run() going
      return;
    }
    if (write(writer, "y", 1) != 1) ++failures;
    arm();
  }
};

}  // namespace

TEST_CASE("waiting again from the callback keeps the kernel registration", "[fd_watch][perf]") {
  weft::Loop loop;
  SocketPair pair;
  auto watch = FdWatch::watch(loop, pair.fds[0]);
  Reader reader{loop, watch, pair.fds[0], pair.fds[1], 0, 1000};
  reader.arm();
  write_byte(pair.fds[1]);
  auto watchdog = loop.call_later(20s, [&] { loop.stop(); });
  loop.run();
  watchdog.cancel();
  loop.poll();
  REQUIRE(reader.rounds == 1000);
  REQUIRE(reader.failures == 0);
  REQUIRE(reader.unregistered_in_callback == 0);
  // No wait left after the last callback: the poll handle was stopped.
  REQUIRE_FALSE(registered_with_kernel(loop, pair.fds[0]));
}
