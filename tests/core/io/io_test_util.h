// Helpers for the I/O tests: run a loop until a future completes, with a
// watchdog so a test that would hang fails instead.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/detail/read_buffers.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "core/task/task.h"

namespace weft_test {

using namespace std::chrono_literals;

// Runs `loop` until `future` completes, or `limit` passes (the future is then
// cancelled and the result says so). Loop thread.
template <class T>
weft::Result<T> await(weft::Loop& loop, weft::Future<T> future,
                      weft::Duration limit = std::chrono::seconds(20)) {
  bool timed_out = false;
  auto watchdog = loop.call_later(limit, [&] {
    timed_out = true;
    loop.stop();
  });
  weft::Result<T> result = weft::run_until_complete(loop, future);
  watchdog.cancel();
  if (timed_out) FAIL_CHECK("the watchdog fired: an operation did not complete in time");
  return result;
}

// The value, or a test failure naming the error.
template <class T>
T value_of(weft::Result<T> result) {
  if (!result.ok()) FAIL("operation failed: " << result.error().message());
  return std::move(result).value();
}

template <class T>
T get(weft::Loop& loop, weft::Future<T> future, weft::Duration limit = std::chrono::seconds(20)) {
  return value_of(await(loop, std::move(future), limit));
}

inline void get(weft::Loop& loop, weft::Future<void> future,
                weft::Duration limit = std::chrono::seconds(20)) {
  auto result = await(loop, std::move(future), limit);
  if (!result.ok()) FAIL("operation failed: " << result.error().message());
}

// Runs the loop for about `d` of wall time (it may do nothing meanwhile).
inline void run_for_a_while(weft::Loop& loop, weft::Duration d) {
  auto [promise, future] = weft::make_promise<void>();
  loop.call_later(d, [p = std::move(promise)]() mutable { p.set_value(); });
  (void)weft::run_until_complete(loop, future);
}

// Polls the loop a few times (never blocking): loopback bytes written before
// arrive and are read. Loop thread.
inline void poll_a_while(weft::Loop& loop) {
  for (int i = 0; i < 10; ++i) (void)loop.poll();
}

// Empties this thread's pool of read buffers (core/io/detail/read_buffers.h),
// so that the reads that follow allocate their buffers.
inline void empty_read_buffer_pool() {
  weft::detail::release_read_buffers();
}

// A listener on 127.0.0.1 with a kernel-chosen port, and a connected pair.
struct Pair {
  weft::TcpStream client;
  weft::TcpStream server;
};

inline Pair connected_pair(weft::Loop& loop, weft::TcpListener& listener) {
  auto accepted = listener.accept();
  auto client = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  auto server = get(loop, std::move(accepted));
  return {std::move(client), std::move(server)};
}

}  // namespace weft_test

namespace weft_test {

// A listener that never accepts and whose backlog is full: a connect to it
// stays pending, because the kernel drops its SYN (and would retry only after
// a second). This is how the tests get a connect that does not complete while
// using loopback alone (no unroutable addresses). The listener and the
// connections that filled it live on their own loop, which is never run
// again, so nothing takes them out of the backlog.
class FullBacklog {
 public:
  FullBacklog() {
    weft::TcpListenOptions options;
    options.backlog = 0;
    listener_ = weft::TcpListener::bind(loop_, weft::SocketAddress::loopback_v4(0), options);
    for (int i = 0; i < 16; ++i) {
      weft::TcpConnectOptions connect;
      connect.timeout = std::chrono::milliseconds(300);
      auto r = await(loop_, weft::TcpStream::connect(loop_, listener_.local_address(), connect));
      if (!r.ok()) {
        REQUIRE(r.error().code() == weft::Errc::timed_out);
        return;  // full
      }
      fillers_.push_back(std::move(r).value());
    }
    FAIL("the listener's backlog never filled");
  }
  weft::SocketAddress address() const { return listener_.local_address(); }

 private:
  weft::Loop loop_;
  weft::TcpListener listener_;
  std::vector<weft::TcpStream> fillers_;
};

}  // namespace weft_test

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace weft_test {

// A fresh directory under /tmp (short paths: a Unix socket path must fit in
// 108 bytes, which Bazel's TEST_TMPDIR may not), removed with its contents.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/weft-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Reads `stream` until end of stream.
template <class S>
std::string read_all(weft::Loop& loop, S& stream) {
  std::string all;
  for (;;) {
    std::string piece = get(loop, stream.read_some());
    if (piece.empty()) return all;
    all += piece;
  }
}

}  // namespace weft_test

#include <sys/resource.h>

namespace weft_test {

// Makes sure the process may open `needed` descriptors: raises the soft limit
// (and the hard one, where allowed). Fails the test if it cannot.
inline void require_fd_limit(rlim_t needed) {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= needed) return;
  rlimit raised = limit;
  raised.rlim_cur = needed;
  if (raised.rlim_max < needed) raised.rlim_max = needed;  // needs privileges
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    raised.rlim_cur = limit.rlim_max;
    raised.rlim_max = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &raised);
  }
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur < needed) {
    FAIL("this test needs " << needed << " file descriptors; RLIMIT_NOFILE allows " << limit.rlim_cur);
  }
}

}  // namespace weft_test
