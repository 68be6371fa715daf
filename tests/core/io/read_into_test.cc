// Stream::read_some_into (core/io/stream.h): reads into the reader's own
// memory. With nothing buffered the kernel reads straight into it; bytes
// read ahead are copied into it; a ReadBufferSource is asked for memory only
// once bytes are there, and one that declines takes nothing; the end of the
// stream is 0; a cancelled read frees the stream and loses no byte; TLS
// streams copy their plaintext into it.
#include <catch2/catch.hpp>

#include <chrono>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"
#include "tests/core/io/tls_test_util.h"

using namespace std::chrono_literals;
using weft_test::get;

namespace {

// Lends one buffer, counting how often it is asked, and how often the
// stream it reads (if given) had no bytes buffered then: the kernel was
// about to read straight into it. Declines while `decline` is set.
struct CountingSource final : weft::ReadBufferSource {
  std::vector<char> memory;
  const weft::Stream* stream = nullptr;
  int asked = 0;
  int asked_with_nothing_buffered = 0;
  bool decline = false;
  explicit CountingSource(std::size_t size) : memory(size) {}
  std::span<char> next_buffer() noexcept override {
    ++asked;
    if (stream != nullptr && stream->read_buffered() == 0) ++asked_with_nothing_buffered;
    if (decline) return {};
    return std::span<char>(memory.data(), memory.size());
  }
};

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 131 / 4099);
  return s;
}

}  // namespace

TEST_CASE("read_some_into streams 8 MiB into the reader's buffer, then 0 at the end",
          "[read_into][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent = pattern(8 * 1024 * 1024);
  weft::Future<void> written = client.write(sent);
  CountingSource source(256 * 1024);
  source.stream = &server;
  std::string received;
  int reads = 0;
  for (; reads < 100'000 && received.size() < sent.size(); ++reads) {
    const std::size_t n = get(loop, server.read_some_into(source));
    REQUIRE(n > 0);
    REQUIRE(n <= source.memory.size());
    received.append(source.memory.data(), n);
  }
  REQUIRE(received == sent);
  // The kernel read straight into the reader's memory (nothing buffered when
  // it was lent), not into the stream's buffer and from there into it.
  INFO("reads " << reads << ", asked " << source.asked << ", direct "
                << source.asked_with_nothing_buffered);
  REQUIRE(source.asked_with_nothing_buffered * 2 > reads);
  get(loop, std::move(written));
  get(loop, client.shutdown());
  std::vector<char> buffer(16);
  REQUIRE(get(loop, server.read_some_into(std::span<char>(buffer))) == 0);
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("read_some_into copies bytes already buffered, at most the buffer's size",
          "[read_into][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  get(loop, client.write("hello, world"));
  REQUIRE(get(loop, server.read_some(1)) == "h");  // the rest is read ahead
  weft_test::poll_a_while(loop);
  REQUIRE(server.read_buffered() == 11);
  char small[5];
  REQUIRE(get(loop, server.read_some_into(std::span<char>(small))) == 5);
  REQUIRE(std::string(small, 5) == "ello,");
  REQUIRE(server.read_buffered() == 6);
  char rest[64];
  REQUIRE(get(loop, server.read_some_into(std::span<char>(rest))) == 6);
  REQUIRE(std::string(rest, 6) == " world");
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("a read buffer source is asked for memory only once bytes are there", "[read_into][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  CountingSource source(1024);
  weft::Future<std::size_t> read = server.read_some_into(source);
  weft_test::run_for_a_while(loop, 20ms);
  REQUIRE_FALSE(read.ready());
  REQUIRE(source.asked == 0);  // an idle stream holds none of the reader's memory
  get(loop, client.write("ping"));
  REQUIRE(get(loop, std::move(read)) == 4);
  REQUIRE(source.asked >= 1);
  REQUIRE(std::string(source.memory.data(), 4) == "ping");
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("a read buffer source that declines fails the read and takes nothing", "[read_into][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  CountingSource source(1024);
  source.decline = true;
  std::string expected;

  SECTION("bytes that arrive while the read waits") {
    expected = "kept";
    weft::Future<std::size_t> read = server.read_some_into(source);
    get(loop, client.write("kept"));
    auto result = weft_test::await(loop, std::move(read));
    REQUIRE_FALSE(result.ok());
    REQUIRE(result.error().code() == weft::Errc::no_memory);
  }
  SECTION("bytes already buffered") {
    expected = "ept";
    get(loop, client.write("kept"));
    REQUIRE(get(loop, server.read_some(1)) == "k");
    weft_test::poll_a_while(loop);
    auto result = weft_test::await(loop, server.read_some_into(source));
    REQUIRE_FALSE(result.ok());
    REQUIRE(result.error().code() == weft::Errc::no_memory);
  }
  REQUIRE(source.asked >= 1);
  // Nothing was taken: the next read gets every byte.
  std::string rest;
  while (rest.size() < expected.size()) rest += get(loop, server.read_some(64));
  REQUIRE(rest == expected);
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("read_some_into refuses an empty buffer and a second read", "[read_into][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  auto empty = weft_test::await(loop, server.read_some_into(std::span<char>()));
  REQUIRE(empty.error().code() == weft::Errc::invalid_argument);
  char buffer[16];
  weft::Future<std::size_t> first = server.read_some_into(std::span<char>(buffer));
  auto second = weft_test::await(loop, server.read_some(16));
  REQUIRE(second.error().code() == weft::Errc::invalid_state);
  auto third = weft_test::await(loop, server.read_some_into(std::span<char>(buffer)));
  REQUIRE(third.error().code() == weft::Errc::invalid_state);
  // A cancelled read frees the stream, and no byte is lost.
  REQUIRE(first.cancel());
  get(loop, client.write("after"));
  REQUIRE(get(loop, server.read_some_into(std::span<char>(buffer))) == 5);
  REQUIRE(std::string(buffer, 5) == "after");
  weft::TcpStream gone;
  auto closed = weft_test::await(loop, gone.read_some_into(std::span<char>(buffer)));
  REQUIRE(closed.error().code() == weft::Errc::closed);
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("read_some_into on a TLS stream gets the plaintext", "[read_into][tls]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto tls = weft_test::tls_pair(loop, listener, pki.client(), pki.server());
  const std::string sent = pattern(1024 * 1024);
  weft::Future<void> written = tls.client.write(sent);
  CountingSource source(40'000);
  std::string received;
  for (int reads = 0; reads < 10'000 && received.size() < sent.size(); ++reads) {
    const std::size_t n = get(loop, tls.server.read_some_into(source));
    REQUIRE(n > 0);
    REQUIRE(n <= source.memory.size());
    received.append(source.memory.data(), n);
  }
  REQUIRE(received == sent);
  get(loop, std::move(written));
  get(loop, tls.client.shutdown());
  REQUIRE(get(loop, tls.server.read_some_into(source)) == 0);
  tls.client.close();
  tls.server.close();
  listener.close();
  loop.close();
}
