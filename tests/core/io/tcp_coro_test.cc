// I/O awaited from coroutine tasks: TcpListener::connections() (the async
// generator of accepted connections), an echo server and client written as
// tasks, time limits and cancellation of reads inside tasks.
//
// Coroutines here are free functions taking what they use as parameters (no
// coroutine lambdas: their captures would not live in the frame).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "core/task/task.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;

namespace {

// Runs `handle`'s task to completion under the watchdog; its outcome.
template <class T>
weft::Result<T> finish(weft::Loop& loop, const weft::TaskHandle<T>& handle) {
  return await(loop, handle.to_future());
}

// Accepts `n` connections through connections() and returns the first line
// each one sent.
weft::Task<std::vector<std::string>> first_lines(weft::TcpListener& listener, std::size_t n) {
  std::vector<std::string> lines;
  auto incoming = listener.connections();
  while (auto conn = co_await incoming.next()) {
    lines.push_back(co_await conn->read_until("\n"));
    if (lines.size() == n) break;
  }
  co_return lines;
}

// Echoes what it reads until end of stream.
weft::Task<void> echo(weft::TcpStream stream) {
  for (;;) {
    std::string data = co_await stream.read_some();
    if (data.empty()) break;
    co_await stream.write(std::move(data));
  }
  stream.close();
}

// An echo server: a task per connection, until the listener closes. Returns
// how many connections it served.
weft::Task<int> echo_server(weft::TcpListener& listener) {
  int served = 0;
  auto incoming = listener.connections();
  while (auto conn = co_await incoming.next()) {
    weft::TaskRef handler = weft::spawn(echo(std::move(*conn)));
    ++served;
  }
  co_return served;
}

// Connects, sends `message` `rounds` times and reads each echo back.
weft::Task<std::string> echo_client(weft::Loop& loop, weft::SocketAddress address, std::string message,
                                    int rounds) {
  weft::TcpStream stream = co_await weft::TcpStream::connect(loop, address);
  std::string last;
  for (int i = 0; i < rounds; ++i) {
    co_await stream.write(message);
    last = co_await stream.read_exactly(message.size());
  }
  stream.close();
  co_return last;
}

// Takes one connection from the generator, then stops iterating (the
// generator is destroyed, or closed with aclose()).
weft::Task<std::string> take_one(weft::TcpListener& listener, bool use_aclose) {
  auto incoming = listener.connections();
  auto conn = co_await incoming.next();
  std::string line = co_await conn->read_until("\n");
  if (use_aclose) co_await incoming.aclose();
  co_return line;
}

// Counts what connections() yields until it ends.
weft::Task<int> count_connections(weft::TcpListener& listener) {
  int n = 0;
  auto incoming = listener.connections();
  while (auto conn = co_await incoming.next()) ++n;
  co_return n;
}

weft::Task<std::string> read_one(weft::TcpStream& stream) { co_return co_await stream.read_some(); }

// A read under a time limit: "timed out" or what was read.
weft::Task<std::string> read_with_limit(weft::TcpStream& stream, weft::Duration limit) {
  bool timed_out = false;
  std::string data;
  try {
    weft::Future<std::string> read = stream.read_some();
    data = co_await weft::wait_for(std::move(read), limit);
  } catch (const weft::TimedOut&) {
    timed_out = true;
  }
  co_return timed_out ? std::string("timed out") : data;
}

weft::Task<std::string> first_pipe_line(weft::PipeListener& listener) {
  auto incoming = listener.connections();
  auto conn = co_await incoming.next();
  co_return co_await conn->read_until("\n");
}

std::string socket_path(const char* name) {
  return "/tmp/weft_" + std::to_string(::getpid()) + "_" + name + ".sock";
}

}  // namespace

TEST_CASE("connections() yields every accepted connection to a task", "[tcp][coro]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto server = weft::spawn(loop, first_lines(listener, 3), "server");
  std::vector<weft::TcpStream> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(get(loop, weft::TcpStream::connect(loop, listener.local_address())));
    get(loop, clients.back().write("client " + std::to_string(i) + "\n"));
  }
  auto lines = weft_test::value_of(finish(loop, server));
  REQUIRE(lines == std::vector<std::string>{"client 0\n", "client 1\n", "client 2\n"});
}

TEST_CASE("an echo server task and client tasks make round trips", "[tcp][coro]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto server = weft::spawn(loop, echo_server(listener), "echo-server");
  std::vector<weft::TaskHandle<std::string>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(weft::spawn(
        loop, echo_client(loop, listener.local_address(), "hello " + std::to_string(i), 50), "client"));
  }
  for (int i = 0; i < 8; ++i) {
    REQUIRE(weft_test::value_of(finish(loop, clients[i])) == "hello " + std::to_string(i));
  }
  // Closing the listener ends the server's iteration.
  listener.close();
  REQUIRE(weft_test::value_of(finish(loop, server)) == 8);
}

TEST_CASE("stopping the iteration early accepts nothing more", "[tcp][coro]") {
  const bool use_aclose = GENERATE(false, true);
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto server = weft::spawn(loop, take_one(listener, use_aclose), "take-one");
  auto first = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  get(loop, first.write("first\n"));
  REQUIRE(weft_test::value_of(finish(loop, server)) == "first\n");

  // The next connection waits in the backlog for a later accept().
  auto second = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  get(loop, second.write("second\n"));
  auto accepted = get(loop, listener.accept());
  REQUIRE(get(loop, accepted.read_until("\n")) == "second\n");
}

TEST_CASE("closing the listener ends the iteration", "[tcp][coro]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto counter = weft::spawn(loop, count_connections(listener), "counter");
  auto client = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  weft_test::run_for_a_while(loop, 20ms);
  listener.close();
  REQUIRE(weft_test::value_of(finish(loop, counter)) == 1);

  // An empty listener's generator ends at once.
  weft::TcpListener empty;
  auto none = weft::spawn(loop, count_connections(empty), "empty");
  REQUIRE(weft_test::value_of(finish(loop, none)) == 0);
}

TEST_CASE("cancelling the task that consumes connections() loses no connection", "[tcp][coro]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));

  SECTION("cancelled while waiting") {
    auto server = weft::spawn(loop, first_lines(listener, 1), "server");
    weft_test::run_for_a_while(loop, 10ms);
    REQUIRE(server.cancel());
    auto r = finish(loop, server);
    REQUIRE(!r.ok());
    REQUIRE(server.cancelled());
  }
  SECTION("cancelled as the connection arrives") {
    auto server = weft::spawn(loop, first_lines(listener, 1), "server");
    weft_test::run_for_a_while(loop, 10ms);
    auto connecting = weft::TcpStream::connect(loop, listener.local_address());
    server.cancel();
    auto client = get(loop, std::move(connecting));
    get(loop, client.write("kept\n"));
    auto r = finish(loop, server);
    // Whichever came first (the accept or the cancellation), the connection
    // is there: either the task got it, or it waits for the next accept.
    if (server.cancelled()) {
      auto accepted = get(loop, listener.accept(), 2s);
      REQUIRE(get(loop, accepted.read_until("\n")) == "kept\n");
    } else {
      REQUIRE(weft_test::value_of(std::move(r)) == std::vector<std::string>{"kept\n"});
    }
  }

  // The listener still works, for accept() and for a new generator.
  auto server = weft::spawn(loop, first_lines(listener, 1), "again");
  auto client = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  get(loop, client.write("again\n"));
  REQUIRE(weft_test::value_of(finish(loop, server)) == std::vector<std::string>{"again\n"});
}

TEST_CASE("wait_for on a read that never completes times out and leaves the stream usable", "[tcp][coro]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto pair = weft_test::connected_pair(loop, listener);
  auto reader = weft::spawn(loop, read_with_limit(pair.server, 30ms), "reader");
  REQUIRE(weft_test::value_of(finish(loop, reader)) == "timed out");

  get(loop, pair.client.write("after"));
  auto again = weft::spawn(loop, read_with_limit(pair.server, 5s), "reader-2");
  REQUIRE(weft_test::value_of(finish(loop, again)) == "after");
}

TEST_CASE("cancelling a task blocked in a read cancels the read", "[tcp][coro]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto pair = weft_test::connected_pair(loop, listener);
  auto reader = weft::spawn(loop, read_one(pair.server), "reader");
  weft_test::run_for_a_while(loop, 10ms);
  REQUIRE(reader.status() == weft::TaskStatus::waiting);
  REQUIRE(reader.cancel());
  auto r = finish(loop, reader);
  REQUIRE(!r.ok());
  REQUIRE(reader.cancelled());

  // The cancelled read took nothing: the next one gets the bytes.
  get(loop, pair.client.write("later"));
  REQUIRE(get(loop, pair.server.read_some()) == "later");
}

TEST_CASE("PipeListener::connections() yields accepted streams", "[pipe][coro]") {
  weft::Loop loop;
  const std::string path = socket_path("coro");
  auto listener = weft::PipeListener::bind(loop, path);
  auto server = weft::spawn(loop, first_pipe_line(listener), "pipe-server");
  auto client = get(loop, weft::PipeStream::connect(loop, path));
  get(loop, client.write("over a pipe\n"));
  REQUIRE(weft_test::value_of(finish(loop, server)) == "over a pipe\n");
}
