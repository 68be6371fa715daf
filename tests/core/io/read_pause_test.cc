// What a read_some that fills its buffer does to reading ahead
// (core/io/detail/stream_impl.cc, after_full_delivery): what follows stays in
// the kernel until the reader has had the chance to ask again; if it does not
// ask by the next poll, reading ahead resumes (after a bulk read of 64 KiB it
// stops instead); no byte is lost or reordered either way. The server's reads
// go straight into a pooled buffer of a known size (read_buffers.h), primed
// by the test, so that "fills its buffer" is under the test's control.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>

#include "core/io/detail/read_buffers.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::get;
namespace detail = weft::detail;

namespace {

// Byte i of a pattern that shows reordering and loss.
std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Leaves exactly one buffer of `size` bytes in this thread's pool: the next
// read_some on an empty stream buffer reads into it.
void prime_pool(std::size_t size) {
  detail::release_read_buffers();
  std::string buffer(size, 'x');
  buffer.shrink_to_fit();
  REQUIRE(buffer.capacity() == size);
  detail::recycle_read_buffer(std::move(buffer));
  REQUIRE(detail::pooled_read_buffers() == 1);
}

}  // namespace

TEST_CASE("after a read_some fills its buffer, what follows waits in the kernel for the next read",
          "[tcp][read_pause]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent = pattern(12 * 1024);
  get(loop, client.write(sent));  // a copy: the client gives no buffer to the pool
  prime_pool(4096);

  const std::string first = get(loop, server.read_some());
  REQUIRE(first == sent.substr(0, 4096));
  // The read filled its 4 KiB: the 8 KiB after it were not read ahead in the
  // same round.
  REQUIRE(server.read_buffered() == 0);
  // The next read takes them from the kernel.
  std::string rest;
  while (rest.size() < sent.size() - first.size()) rest += get(loop, server.read_some());
  REQUIRE(first + rest == sent);

  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("a reader that does not ask again by the next poll gets the rest read ahead",
          "[tcp][read_pause]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent = pattern(12 * 1024);
  get(loop, client.write(sent));
  prime_pool(4096);

  const std::string first = get(loop, server.read_some());
  REQUIRE(first.size() == 4096);
  REQUIRE(server.read_buffered() == 0);
  // No read asks; the loop polls again and reads ahead into the stream's buffer.
  for (int i = 0; i < 200 && server.read_buffered() < sent.size() - first.size(); ++i) {
    weft_test::run_for_a_while(loop, 5ms);
  }
  REQUIRE(server.read_buffered() == sent.size() - first.size());
  const std::string rest = get(loop, server.read_exactly(sent.size() - first.size()));
  REQUIRE(first + rest == sent);

  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("after a full 64 KiB read_some, what follows stays in the kernel while no read asks",
          "[tcp][read_pause]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent = pattern(96 * 1024);
  get(loop, client.write(sent));
  prime_pool(64 * 1024);

  // The kernel may not have all 96 KiB for the server yet, but it has the
  // first 64 KiB (the client's write completed, and loopback delivers at once).
  const std::string first = get(loop, server.read_some());
  REQUIRE(first == sent.substr(0, 64 * 1024));
  REQUIRE(server.read_buffered() == 0);
  weft_test::run_for_a_while(loop, 50ms);
  REQUIRE(server.read_buffered() == 0);  // reading stopped: nothing copied through the buffer
  const std::string rest = get(loop, server.read_exactly(sent.size() - first.size()));
  REQUIRE(first + rest == sent);

  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("a read_some right after a full 64 KiB read takes what follows from the kernel at once",
          "[tcp][read_pause]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent = pattern(96 * 1024);
  get(loop, client.write(sent));
  prime_pool(64 * 1024);

  std::string first = get(loop, server.read_some());
  REQUIRE(first == sent.substr(0, 64 * 1024));
  // As an echo would: the result's buffer goes back to the pool, then the
  // next read. It completes at once, without waiting for the loop's poll.
  std::string copy = first;
  detail::recycle_read_buffer(std::move(copy));
  weft::Future<std::string> next = server.read_some();
  REQUIRE(next.ready());
  const std::string rest = get(loop, std::move(next));
  REQUIRE(first + rest == sent);

  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("the end of stream or a reset right after a full 64 KiB read reaches the next read",
          "[tcp][read_pause]") {
  for (const bool reset : {false, true}) {
    weft::Loop loop;
    auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    auto [client, server] = weft_test::connected_pair(loop, listener);
    const std::string sent = pattern(64 * 1024);
    get(loop, client.write(sent));
    if (reset) {
      client.abort();
    } else {
      get(loop, client.shutdown());
    }
    prime_pool(64 * 1024);
    std::string first = get(loop, server.read_some());
    REQUIRE(first == sent);
    std::string copy = first;
    detail::recycle_read_buffer(std::move(copy));
    auto next = weft_test::await(loop, server.read_some());
    if (reset) {
      REQUIRE_FALSE(next.ok());
      REQUIRE(next.error().code() == weft::Errc::connection_reset);
    } else {
      REQUIRE(next.ok());
      REQUIRE(next.value().empty());
    }
    // The stream stays consistent: the end or the error is what every later read gets.
    auto again = weft_test::await(loop, server.read_some());
    REQUIRE(again.ok() == !reset);
    server.close();
    if (!reset) client.close();
    listener.close();
    loop.close();
  }
}
