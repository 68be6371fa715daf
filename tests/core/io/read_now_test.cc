// A read_some completed by bytes the kernel read straight into its buffer
// runs its reader's continuation at once, inside libuv's read callback
// (core/io/detail/stream_impl.cc, on_direct_data; Promise::
// set_value_or_keep_now), and the stream copes with whatever that
// continuation does there: closes the stream, asks for the next read,
// throws, writes. The server's reads go straight into pooled buffers primed
// by the test (read_buffers.h), so that the direct path is the one taken.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/io/detail/read_buffers.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/task/task.h"
#include "tests/core/io/io_test_util.h"
#include "tests/core/reported.h"

using namespace std::chrono_literals;
using weft_test::get;
namespace detail = weft::detail;

namespace {

std::string pattern(std::size_t size, std::size_t seed = 0) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

// Leaves `count` buffers of `size` bytes in this thread's pool.
void prime_pool(std::size_t size, int count = 1) {
  weft_test::empty_read_buffer_pool();
  for (int i = 0; i < count; ++i) {
    std::string buffer(size, 'x');
    buffer.shrink_to_fit();
    REQUIRE(buffer.capacity() == size);
    detail::recycle_read_buffer(std::move(buffer));
  }
}

// Runs the loop until `done` or a watchdog of 20 s.
template <class Done>
void run_until(weft::Loop& loop, Done done) {
  for (int i = 0; i < 4000 && !done(); ++i) weft_test::run_for_a_while(loop, 5ms);
  REQUIRE(done());
}

// Two connections whose bytes arrive before one poll reads both, each with
// a read_some waiting and a continuation attached: returns whether, when
// the first continuation ran, the other connection's read had completed
// too (queued continuations: yes; run inside the read callback: no).
bool first_saw_other_ready(weft::Loop& loop) {
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto a = weft_test::connected_pair(loop, listener);
  auto b = weft_test::connected_pair(loop, listener);
  prime_pool(4096, 2);
  weft::Future<std::string> read_a = a.server.read_some();
  weft::Future<std::string> read_b = b.server.read_some();
  int ran = 0;
  bool other_was_ready = false;
  std::string got_a, got_b;
  read_a.then(loop, [&](weft::Result<std::string> r) {
    if (ran++ == 0) other_was_ready = read_b.ready();
    got_a = std::move(r).value();
  });
  read_b.then(loop, [&](weft::Result<std::string> r) {
    if (ran++ == 0) other_was_ready = read_a.ready();
    got_b = std::move(r).value();
  });
  // Written without running the loop: the kernel takes them at once.
  REQUIRE(a.client.write(pattern(100, 1)).ready());
  REQUIRE(b.client.write(pattern(200, 2)).ready());
  run_until(loop, [&] { return ran == 2; });
  REQUIRE(got_a == pattern(100, 1));
  REQUIRE(got_b == pattern(200, 2));
  for (auto* s : {&a.client, &a.server, &b.client, &b.server}) s->close();
  listener.close();
  return other_was_ready;
}

}  // namespace

TEST_CASE("a read_some's continuation runs inside the read callback that got its bytes",
          "[tcp][read_now]") {
  weft::Loop loop;
  // The first continuation ran before libuv went on to the next socket.
  REQUIRE_FALSE(first_saw_other_ready(loop));
  loop.close();
}

TEST_CASE("a continuation that closes the stream inside the read callback", "[tcp][read_now]") {
  // A read that fills its buffer with more to come (libuv would read on),
  // and one that does not fill it.
  for (const bool fill : {true, false}) {
    weft::Loop loop;
    auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    weft_test::Pair pair = weft_test::connected_pair(loop, listener);  // named below: lambdas use them
    weft::TcpStream& client = pair.client;
    weft::TcpStream& server = pair.server;
    prime_pool(4096);
    const std::string sent = pattern(fill ? 4 * 4096 : 100);
    std::string got;
    bool ran = false;
    server.read_some().then(loop, [&](weft::Result<std::string> r) {
      ran = true;
      if (r.ok()) got = std::move(r).value();
      server.close();
    });
    REQUIRE(client.write(sent).ready());
    run_until(loop, [&] { return ran; });
    REQUIRE(got == sent.substr(0, fill ? 4096 : 100));
    REQUIRE_FALSE(server.is_open());
    get(loop, server.wait_closed());
    // The peer sees the connection end (or reset, with bytes left unread).
    auto end = weft_test::await(loop, client.read_some());
    REQUIRE((end.ok() ? end.value().empty() : end.error().code() == weft::Errc::connection_reset));
    client.close();
    listener.close();
    loop.close();
  }
}

TEST_CASE("a continuation that asks for the next read inside the read callback gets every byte in order",
          "[tcp][read_now]") {
  // Messages that fill the pooled buffer exactly, and ones that do not.
  for (const std::size_t size : {std::size_t{4096}, std::size_t{3000}, std::size_t{64 * 1024}}) {
    weft::Loop loop;
    auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    weft_test::Pair pair = weft_test::connected_pair(loop, listener);  // named below: lambdas use them
    weft::TcpStream& client = pair.client;
    weft::TcpStream& server = pair.server;
    prime_pool(size == 3000 ? 4096 : size, 4);
    const std::string sent = pattern(8 * size + 17, size);
    std::string got;
    int reads = 0;
    bool ended = false;
    std::function<void()> next = [&] {
      server.read_some().then(loop, [&](weft::Result<std::string> r) {
        ++reads;
        if (!r.ok() || r.value().empty()) {
          CHECK(r.ok());
          ended = true;
          return;
        }
        got += r.value();
        detail::recycle_read_buffer(std::move(r).value());  // as an echo's write would
        next();  // inside the read callback: the read waits before libuv reads on
      });
    };
    next();
    auto written = client.write(sent);
    auto shut = client.shutdown();
    run_until(loop, [&] { return ended; });
    get(loop, std::move(written));
    get(loop, std::move(shut));
    REQUIRE(got == sent);
    REQUIRE(reads >= 2);
    REQUIRE(server.read_buffered() == 0);
    client.close();
    server.close();
    listener.close();
    loop.close();
  }
}

TEST_CASE("an echo coroutine writes back inside the read callback", "[tcp][read_now]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  prime_pool(16 * 1024, 8);
  auto echo = [](weft::TcpStream& conn) -> weft::Task<void> {
    for (;;) {
      std::string data = co_await conn.read_some();
      if (data.empty()) break;
      co_await conn.write(std::move(data));
    }
    conn.close();
  };
  auto task = weft::spawn(loop, echo(server), "echo");
  for (const std::size_t size : {std::size_t{16 * 1024}, std::size_t{100}, std::size_t{40000}}) {
    for (int i = 0; i < 20; ++i) {
      const std::string message = pattern(size, i);
      auto written = client.write(message);
      REQUIRE(get(loop, client.read_exactly(size)) == message);
      get(loop, std::move(written));
    }
  }
  get(loop, client.shutdown());
  REQUIRE(get(loop, client.read_some()).empty());
  get(loop, task.to_future());
  client.close();
  listener.close();
  loop.close();
}

TEST_CASE("a continuation that throws inside the read callback is reported; the stream goes on",
          "[tcp][read_now]") {
  weft::Loop loop;
  std::vector<std::string> reported;
  weft_test::collect_reported(loop, reported);
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  prime_pool(4096, 2);
  std::string first;
  server.read_some().then(loop, [&](weft::Result<std::string> r) {
    first = std::move(r).value();
    throw std::runtime_error("thrown by the reader");
  });
  REQUIRE(client.write(pattern(4096)).ready());
  run_until(loop, [&] { return !reported.empty(); });
  REQUIRE(reported == std::vector<std::string>{"thrown by the reader"});
  REQUIRE(first == pattern(4096));
  REQUIRE(client.write(pattern(500, 3)).ready());
  REQUIRE(get(loop, server.read_exactly(500)) == pattern(500, 3));
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("in debug mode a read's continuation is queued, not run inside the read callback",
          "[tcp][read_now]") {
  weft::Loop loop;
  loop.set_debug(true);
  // Both reads complete in the poll's round, before either continuation runs.
  REQUIRE(first_saw_other_ready(loop));
  loop.close();
}
