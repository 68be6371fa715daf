// weft::TcpListener and weft::TcpStream over loopback: echo round trips,
// reads of every kind, half-close both ways, peer reset, cancellation of
// accept, connect and read, connect timeouts, many connections at once.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "core/clock/clock.h"
#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "core/task/task.h"
#include "core/loop/loop_access.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;

namespace {

// Echoes everything it reads until end of stream, then closes.
void echo(weft::Loop& loop, std::shared_ptr<weft::TcpStream> stream) {
  stream->read_some().then(loop, [&loop, stream](weft::Result<std::string> r) {
    if (!r.ok() || r.value().empty()) {
      stream->close();
      return;
    }
    stream->write(std::move(r).value()).then(loop, [&loop, stream](weft::Result<void> w) {
      if (w.ok()) echo(loop, stream);
    });
  });
}

// Accepts connections forever, echoing each.
void serve_echo(weft::Loop& loop, weft::TcpListener& listener) {
  listener.accept().then(loop, [&loop, &listener](weft::Result<weft::TcpStream> r) {
    if (!r.ok()) return;
    echo(loop, std::make_shared<weft::TcpStream>(std::move(r).value()));
    serve_echo(loop, listener);
  });
}

}  // namespace

TEST_CASE("an echo server answers round trips over loopback", "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  REQUIRE(listener.local_address().port() != 0);
  serve_echo(loop, listener);

  auto client = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  REQUIRE(client.peer_address() == listener.local_address());
  REQUIRE(client.local_address().ip() == "127.0.0.1");
  for (int i = 0; i < 100; ++i) {
    std::string message = "message " + std::to_string(i) + "\n";
    get(loop, client.write(message));
    REQUIRE(get(loop, client.read_exactly(message.size())) == message);
  }
  client.close();
  get(loop, client.wait_closed());
  listener.close();
  loop.close();
}

TEST_CASE("reads: read_some, read_exactly and read_until take from one buffer", "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);

  get(loop, client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody-bytes"));
  REQUIRE(get(loop, server.read_until("\r\n")) == "GET / HTTP/1.1\r\n");
  REQUIRE(get(loop, server.read_until("\r\n\r\n")) == "Host: x\r\n\r\n");
  REQUIRE(get(loop, server.read_exactly(4)) == "body");
  REQUIRE(get(loop, server.read_some(3)) == "-by");
  REQUIRE(get(loop, server.read_some()) == "tes");

  // A delimiter split across two arrivals is still found.
  get(loop, client.write("abc\r"));
  auto line = server.read_until("\r\n");
  weft_test::run_for_a_while(loop, 10ms);
  REQUIRE_FALSE(line.ready());
  get(loop, client.write("\nrest"));
  REQUIRE(get(loop, std::move(line)) == "abc\r\n");

  // No delimiter within max: message_too_long, and the bytes stay buffered.
  get(loop, client.write("0123456789"));
  auto too_long = await(loop, server.read_until("\n", 8));
  REQUIRE(too_long.error().code() == weft::Errc::message_too_long);
  REQUIRE(get(loop, server.read_exactly(14)) == "rest0123456789");

  // One read at a time.
  auto first = server.read_some();
  auto second = await(loop, server.read_some());
  REQUIRE(second.error().code() == weft::Errc::invalid_state);
  first.cancel();
}

TEST_CASE("a stream reports end of stream: read_some gives \"\", read_exactly fails", "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  get(loop, client.write("abc"));
  client.close();
  auto exactly = await(loop, server.read_exactly(10));
  REQUIRE(exactly.error().code() == weft::Errc::end_of_file);
  REQUIRE(get(loop, server.read_some()) == "abc");  // the bytes were kept
  REQUIRE(get(loop, server.read_some()).empty());
  REQUIRE(await(loop, server.read_until("\n")).error().code() == weft::Errc::end_of_file);
}

TEST_CASE("half-close works both ways: each side still writes after the other shut down",
          "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);

  // Client -> server direction ends first.
  get(loop, client.write("request"));
  get(loop, client.shutdown());
  REQUIRE(get(loop, server.read_exactly(7)) == "request");
  REQUIRE(get(loop, server.read_some()).empty());  // end of stream from the client
  REQUIRE(await(loop, client.write("more")).error().code() == weft::Errc::invalid_state);
  get(loop, server.write("response"));  // the server can still write
  REQUIRE(get(loop, client.read_exactly(8)) == "response");

  // Then the server -> client direction.
  get(loop, server.shutdown());
  REQUIRE(get(loop, client.read_some()).empty());

  // And the other order, on a fresh pair: the server shuts down first.
  auto [c2, s2] = weft_test::connected_pair(loop, listener);
  get(loop, s2.write("greeting"));
  get(loop, s2.shutdown());
  REQUIRE(get(loop, c2.read_exactly(8)) == "greeting");
  REQUIRE(get(loop, c2.read_some()).empty());
  get(loop, c2.write("reply"));
  REQUIRE(get(loop, s2.read_exactly(5)) == "reply");
}

TEST_CASE("a peer reset fails the reader with connection_reset, after the bytes before it",
          "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  get(loop, client.write("partial"));
  REQUIRE(get(loop, server.read_exactly(7)) == "partial");
  auto pending = server.read_exactly(100);
  client.abort();
  auto r = await(loop, std::move(pending));
  REQUIRE(r.error().code() == weft::Errc::connection_reset);
  REQUIRE(await(loop, server.read_some()).error().code() == weft::Errc::connection_reset);
}

TEST_CASE("a peer reset mid-transfer fails the writer", "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair pair = weft_test::connected_pair(loop, listener);
  weft::TcpStream& client = pair.client;
  weft::TcpStream& server = pair.server;  // (clang 14 cannot capture a structured binding)
  const std::string chunk(64 * 1024, 'x');
  // The server writes until a write fails; the client reads a little, then resets.
  weft::Errc failure = weft::Errc::ok;
  std::size_t written = 0;
  std::function<void()> write_more = [&] {
    server.write(chunk).then(loop, [&](weft::Result<void> r) {
      if (!r.ok()) {
        failure = r.error().code();
        loop.stop();
        return;
      }
      written += chunk.size();
      write_more();
    });
  };
  write_more();
  REQUIRE(get(loop, client.read_exactly(256 * 1024)).size() == 256 * 1024);
  client.abort();
  auto watchdog = loop.call_later(20s, [&] { loop.stop(); });
  loop.run();
  watchdog.cancel();
  REQUIRE(written >= 256 * 1024);
  REQUIRE((failure == weft::Errc::connection_reset || failure == weft::Errc::broken_pipe));
  // The stream stays consistent: a read ends too (the kernel reports the reset
  // once, to whichever call comes first; after that the stream reads as ended).
  auto after = await(loop, server.read_some());
  REQUIRE((!after.ok() || after.value().empty()));
}

TEST_CASE("cancelling a pending accept gives up the wait without losing a connection",
          "[tcp][cancel]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto pending = listener.accept();
  weft_test::run_for_a_while(loop, 10ms);
  REQUIRE_FALSE(pending.ready());
  REQUIRE(pending.cancel());
  REQUIRE(pending.cancelled());
  loop.poll();
  // Nothing waits on the listener any more: it no longer keeps the loop alive.
  REQUIRE(uv_loop_alive(weft::detail::LoopAccess::uv_loop(loop)) == 0);

  // A connection that arrives now waits for the next accept.
  auto client = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  auto server = get(loop, listener.accept());
  get(loop, client.write("hi"));
  REQUIRE(get(loop, server.read_exactly(2)) == "hi");
}

TEST_CASE("cancelling a pending accept from another thread", "[tcp][cancel]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  for (int round = 0; round < 20; ++round) {
    auto pending = listener.accept();
    std::thread canceller([&pending] { pending.cancel(); });
    canceller.join();
    auto r = await(loop, std::move(pending));
    REQUIRE(r.is_cancelled());
  }
  auto client = get(loop, weft::TcpStream::connect(loop, listener.local_address()));
  auto server = get(loop, listener.accept());
  REQUIRE(server.is_open());
}

TEST_CASE("cancelling a pending read frees the stream for the next read, losing nothing",
          "[tcp][cancel]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  auto pending = server.read_some();
  weft_test::run_for_a_while(loop, 10ms);
  REQUIRE_FALSE(pending.ready());
  REQUIRE(pending.cancel());
  loop.poll();
  REQUIRE(uv_loop_alive(weft::detail::LoopAccess::uv_loop(loop)) == 0);
  get(loop, client.write("after the cancel"));
  weft_test::run_for_a_while(loop, 10ms);  // read ahead into the stream's buffer
  REQUIRE(get(loop, server.read_exactly(16)) == "after the cancel");

  // Cancelled from another thread while data arrives: every byte still arrives, once.
  std::string received;
  for (int round = 0; round < 50; ++round) {
    auto read = server.read_some();
    get(loop, client.write(std::to_string(round) + ";"));
    std::thread canceller([&read] { read.cancel(); });
    canceller.join();
    auto r = await(loop, std::move(read));
    if (r.ok()) received += r.value();
  }
  get(loop, client.write("end"));
  while (received.find("end") == std::string::npos) received += get(loop, server.read_some());
  std::string expected;
  for (int round = 0; round < 50; ++round) expected += std::to_string(round) + ";";
  REQUIRE(received == expected + "end");
}

TEST_CASE("large reads racing cancellation from another thread lose nothing either",
          "[tcp][cancel]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  std::string sent;
  std::string received;
  for (int round = 0; round < 40; ++round) {
    const std::string message(8192 + round * 512, static_cast<char>('a' + round % 26));
    sent += message;
    auto read = server.read_some();
    get(loop, client.write(message));
    if (round % 2 == 1) {
      std::thread canceller([&read] { read.cancel(); });
      canceller.join();
    }
    auto r = await(loop, std::move(read));
    if (r.ok()) received += r.value();
  }
  client.close();
  received += weft_test::read_all(loop, server);
  REQUIRE(received.size() == sent.size());
  REQUIRE(received == sent);
}

TEST_CASE("cancelling a pending connect abandons it and closes its socket", "[tcp][cancel]") {
  weft_test::FullBacklog full;
  weft::Loop loop;
  auto pending = weft::TcpStream::connect(loop, full.address());
  weft_test::run_for_a_while(loop, 50ms);
  REQUIRE_FALSE(pending.ready());
  REQUIRE(pending.cancel());
  loop.poll();
  loop.poll();
  // The connect request is gone (its socket closed), so nothing keeps libuv alive.
  REQUIRE(uv_loop_alive(weft::detail::LoopAccess::uv_loop(loop)) == 0);
  REQUIRE(loop.close().handles_closed == 0);
}

TEST_CASE("a connect that does not complete in time fails with timed_out", "[tcp][timeout]") {
  weft_test::FullBacklog full;
  weft::Loop loop;
  weft::TcpConnectOptions options;
  options.timeout = 100ms;
  const auto start = std::chrono::steady_clock::now();
  auto r = await(loop, weft::TcpStream::connect(loop, full.address(), options));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(r.error().code() == weft::Errc::timed_out);
  REQUIRE(took >= 100ms);
  REQUIRE(took < 900ms);  // well before the kernel's SYN retry (1 s)
}

TEST_CASE("a connect timeout follows the loop's clock (manual clock)", "[tcp][timeout]") {
  weft_test::FullBacklog full;
  weft::ManualClock clock;
  weft::LoopOptions loop_options;
  loop_options.clock = &clock;
  weft::Loop loop(loop_options);
  weft::TcpConnectOptions options;
  options.timeout = 30s;
  auto pending = weft::TcpStream::connect(loop, full.address(), options);
  for (int i = 0; i < 5; ++i) loop.poll();
  REQUIRE_FALSE(pending.ready());
  clock.advance(29s);
  loop.poll();
  REQUIRE_FALSE(pending.ready());
  clock.advance(1s);
  loop.poll();
  REQUIRE(pending.ready());
  REQUIRE(pending.result().error().code() == weft::Errc::timed_out);
}

TEST_CASE("connecting where nobody listens fails with connection_refused", "[tcp]") {
  weft::Loop loop;
  weft::SocketAddress address;
  {
    auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    address = listener.local_address();
  }
  auto r = await(loop, weft::TcpStream::connect(loop, address));
  REQUIRE(r.error().code() == weft::Errc::connection_refused);
  REQUIRE(r.error().message().find("ECONNREFUSED") != std::string::npos);
}

TEST_CASE("binding a port in use throws address_in_use", "[tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  try {
    auto second = weft::TcpListener::bind(loop, listener.local_address());
    FAIL("the second bind succeeded");
  } catch (const weft::Exception& e) {
    REQUIRE(e.code() == weft::Errc::address_in_use);
  }
}

TEST_CASE("closing a stream fails its pending operations and completes wait_closed once",
          "[tcp][close]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  auto read = server.read_some();
  auto closed_a = server.wait_closed();
  server.close();
  server.close();  // harmless
  auto closed_b = server.wait_closed();
  REQUIRE(await(loop, std::move(read)).error().code() == weft::Errc::closed);
  get(loop, std::move(closed_a));
  get(loop, std::move(closed_b));
  REQUIRE_FALSE(server.is_open());
  REQUIRE(await(loop, server.write("x")).error().code() == weft::Errc::closed);
  REQUIRE(get(loop, client.read_some()).empty());  // the peer sees end of stream

  // Destroying a stream closes it too.
  {
    auto [c2, s2] = weft_test::connected_pair(loop, listener);
    client = std::move(c2);
  }
  REQUIRE(get(loop, client.read_some()).empty());
}

TEST_CASE("closing the loop closes the I/O objects still open", "[tcp][close]") {
  auto loop = std::make_unique<weft::Loop>();
  auto listener = weft::TcpListener::bind(*loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(*loop, listener);
  auto accept = listener.accept();      // no continuation: fails with closed
  auto read = server.read_some();
  bool continuation_ran_cancelled = false;
  client.read_some().then(*loop, [&](weft::Result<std::string> r) {
    continuation_ran_cancelled = r.is_cancelled();
  });
  auto report = loop->close();
  REQUIRE(report.handles_closed == 3);
  REQUIRE(continuation_ran_cancelled);
  REQUIRE(accept.result().error().code() == weft::Errc::closed);
  REQUIRE(read.result().error().code() == weft::Errc::closed);
  loop.reset();  // the objects outlive their loop: closed, and harmless
  REQUIRE_FALSE(client.is_open());
  REQUIRE(client.write("x").result().error().code() == weft::Errc::closed);
  client.close();
}

TEST_CASE("IPv6 loopback works like IPv4", "[tcp]") {
  weft::Loop loop;
  weft::TcpListener listener;
  try {
    listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v6(0));
  } catch (const weft::Exception& e) {
    WARN("no IPv6 loopback here: " << e.what());
    return;
  }
  REQUIRE(listener.local_address().to_string().rfind("[::1]:", 0) == 0);
  auto [client, server] = weft_test::connected_pair(loop, listener);
  get(loop, client.write("six"));
  REQUIRE(get(loop, server.read_exactly(3)) == "six");
}

namespace {

// `connections` client connections at once against `address`: each sends a
// message and checks its echo. Returns how many failed (and the first error).
int run_clients(weft::Loop& loop, const weft::SocketAddress& address, int connections,
                weft::Error& first_error) {
  int done = 0;
  int failed = 0;
  auto all_done = weft::make_promise<void>();
  auto finish = [&](bool ok, const weft::Error& error) {
    if (!ok && failed++ == 0) first_error = error;
    if (++done == connections) all_done.first.set_value();
  };
  for (int i = 0; i < connections; ++i) {
    weft::TcpStream::connect(loop, address).then(loop, [&, i](weft::Result<weft::TcpStream> r) {
      if (!r.ok()) return finish(false, r.error());
      auto stream = std::make_shared<weft::TcpStream>(std::move(r).value());
      const std::string message = "client " + std::to_string(i);
      stream->write(message).then(loop, [&, stream, message](weft::Result<void> w) {
        if (!w.ok()) return finish(false, w.error());
        stream->read_exactly(message.size())
            .then(loop, [&, stream, message](weft::Result<std::string> echoed) {
              const bool ok = echoed.ok() && echoed.value() == message;
              stream->close();
              finish(ok, echoed.ok() ? weft::Error(weft::Errc::io_error, "wrong echo") : echoed.error());
            });
      });
    });
  }
  auto outcome = weft::run_until_complete(loop, all_done.second);
  if (!outcome.ok()) return connections;
  return failed;
}

weft::TcpListener echo_listener(weft::Loop& loop) {
  weft::TcpListenOptions options;
  options.backlog = 4096;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0), options);
  serve_echo(loop, listener);
  return listener;
}

}  // namespace

TEST_CASE("2,000 concurrent connections each get their echo", "[tcp][many]") {
  constexpr int kConnections = 2000;
  weft_test::require_fd_limit(2 * kConnections + 64);
  weft::Loop loop;
  auto listener = echo_listener(loop);
  weft::Error first_error;
  auto watchdog = loop.call_later(60s, [&] { loop.stop(); });
  const int failed = run_clients(loop, listener.local_address(), kConnections, first_error);
  watchdog.cancel();
  INFO("first failure: " << first_error.message());
  REQUIRE(failed == 0);
}

// The stress variant, on its own target tagged manual (see BUILD.bazel). The
// clients run in a child process, so that each process needs about 10,000
// descriptors rather than 20,000 (a sandbox may not let the test raise its
// hard limit).
TEST_CASE("10,000 concurrent connections each get their echo", "[.stress][tcp][many]") {
  constexpr int kConnections = 10000;
  weft_test::require_fd_limit(kConnections + 64);
  weft::Loop loop;
  auto listener = echo_listener(loop);
  const weft::SocketAddress address = listener.local_address();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The client side, on a loop of its own; the parent's objects are left alone.
    int failed;
    {
      weft::Loop client_loop;
      weft::Error first_error;
      failed = run_clients(client_loop, address, kConnections, first_error);
      if (failed != 0) std::fprintf(stderr, "clients: %d failed, first: %s\n", failed, first_error.message().c_str());
    }
    std::_Exit(failed == 0 ? 0 : 1);
  }
  // Serve until the child has finished, then collect its verdict.
  weft::SignalWatcher child_exit = weft::SignalWatcher::watch(loop, SIGCHLD);
  int status = 0;
  auto watchdog = loop.call_later(120s, [&] { loop.stop(); });
  while (::waitpid(child, &status, WNOHANG) == 0) {
    auto next = child_exit.wait();
    auto r = weft::run_until_complete(loop, next);
    if (!r.ok()) break;  // the watchdog
  }
  watchdog.cancel();
  if (::waitpid(child, &status, WNOHANG) == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL("the clients did not finish within two minutes");
  }
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}
