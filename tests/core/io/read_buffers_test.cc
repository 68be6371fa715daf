// weft::detail read buffers (core/io/detail/read_buffers.h): the pool keeps
// the strings given back within its bounds and serves reads from them, and a
// stream's reads and writes use it: an echoed read result's buffer serves the
// next read (the kernel reads straight into it, with all of its capacity),
// whole and partial writes of a moved string still send every byte in order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/io/detail/read_buffers.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::get;
namespace detail = weft::detail;

namespace {

// Empties this thread's pool.
void drain_pool() {
  detail::release_read_buffers();
  REQUIRE(detail::pooled_read_buffers() == 0);
}

}  // namespace

TEST_CASE("a recycled buffer serves the next read result", "[read_buffers]") {
  drain_pool();
  std::string given(16 * 1024, 'x');
  const char* memory = given.data();
  detail::recycle_read_buffer(std::move(given));
  REQUIRE(given.empty());
  REQUIRE(detail::pooled_read_buffers() == 1);

  const std::string bytes(10'000, 'y');
  std::string result = detail::make_read_result(bytes.data(), bytes.size());
  REQUIRE(result == bytes);
  REQUIRE(result.data() == memory);  // the same memory, no new allocation
  REQUIRE(detail::pooled_read_buffers() == 0);

  // With nothing kept, a result is an ordinary new string.
  REQUIRE(detail::make_read_result("abc", 3) == "abc");
  REQUIRE(detail::take_read_buffer().empty());
}

TEST_CASE("the pool keeps only buffers worth keeping, and only so many", "[read_buffers]") {
  drain_pool();
  std::string tiny = "short";
  detail::recycle_read_buffer(std::move(tiny));
  REQUIRE(detail::pooled_read_buffers() == 0);
  std::string huge(detail::kMaxPooledCapacity + 1, 'h');
  detail::recycle_read_buffer(std::move(huge));
  REQUIRE(huge.empty());
  REQUIRE(detail::pooled_read_buffers() == 0);

  // At most kMaxPooled buffers...
  for (std::size_t i = 0; i < detail::kMaxPooled + 10; ++i) {
    detail::recycle_read_buffer(std::string(4096, 'a'));
  }
  REQUIRE(detail::pooled_read_buffers() == detail::kMaxPooled);
  drain_pool();

  // ... and at most kMaxPooledBytes in all.
  const std::size_t each = detail::kMaxPooledCapacity;
  for (std::size_t i = 0; i < detail::kMaxPooled; ++i) detail::recycle_read_buffer(std::string(each, 'b'));
  REQUIRE(detail::pooled_read_buffers() == detail::kMaxPooledBytes / each);
  drain_pool();
}

TEST_CASE("a stream echo reuses the read result's buffer for the next read", "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  drain_pool();

  const std::string message(16 * 1024, 'm');
  std::vector<const char*> recycled;  // the memory of the results echoed so far
  int reused = 0;                     // results that came in such memory
  for (int i = 0; i < 20; ++i) {
    get(loop, client.write(message));
    std::string got;
    while (got.size() < message.size()) {
      std::string part = get(loop, server.read_some());
      REQUIRE_FALSE(part.empty());
      if (std::find(recycled.begin(), recycled.end(), part.data()) != recycled.end()) ++reused;
      recycled.push_back(part.data());
      got += part;
      // Echo it back, by move: all of it goes to the kernel at once, and the
      // string goes to the pool for the next read.
      get(loop, server.write(std::move(part)));
      REQUIRE(part.empty());
      REQUIRE(detail::pooled_read_buffers() >= 1);
    }
    REQUIRE(got == message);
    // The client is a stream on the same thread: its reads draw on the same
    // pool, so its result counts too, and goes back like the server's.
    std::string echo = get(loop, client.read_exactly(message.size()));
    REQUIRE(echo == message);
    if (std::find(recycled.begin(), recycled.end(), echo.data()) != recycled.end()) ++reused;
    recycled.push_back(echo.data());
    detail::recycle_read_buffer(std::move(echo));
  }
  // After the first round, reads land in the buffers given back before.
  REQUIRE(reused >= 10);
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("a pooled buffer that last held a short read serves a read with all its capacity",
          "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent(48 * 1024, 's');
  get(loop, client.write(sent));  // a copy: the client gives no buffer to the pool
  drain_pool();
  // 64 KiB of memory whose last bytes were a 2 KiB read.
  std::string short_read(64 * 1024, 'x');
  short_read.resize(2048);
  const char* memory = short_read.data();
  detail::recycle_read_buffer(std::move(short_read));
  REQUIRE(detail::pooled_read_buffers() == 1);

  // All 48 KiB in one read, in that memory (not 2 KiB, which would leave
  // every later read as short as the first).
  const std::string got = get(loop, server.read_some());
  REQUIRE(got == sent);
  REQUIRE(got.data() == memory);
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("a bulk stream's reads take as much as the reader asks, up to 128 KiB",
          "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  std::string sent(8 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 131 / 4099);
  weft::Future<void> written = client.write(sent);  // a copy: the client gives no buffer to the pool
  drain_pool();
  std::string received;
  std::size_t largest = 0;
  for (int reads = 0; reads < 100'000 && received.size() < sent.size(); ++reads) {
    std::string part = get(loop, server.read_some(1024 * 1024));
    REQUIRE_FALSE(part.empty());
    REQUIRE(part.size() <= 128 * 1024);  // StreamImpl::kMaxBulkRead
    largest = std::max(largest, part.size());
    received += part;
    // As the C API does once its read callback returned: the next read
    // lands in this buffer.
    detail::recycle_read_buffer(std::move(part));
  }
  REQUIRE(received == sent);
  // Reads of 64 KiB showed a bulk stream: later reads took more at once.
  REQUIRE(largest > 64 * 1024);
  get(loop, std::move(written));
  client.close();
  server.close();
  listener.close();
  loop.close();
  drain_pool();
}

TEST_CASE("a large pooled buffer serves a stream that is not streaming with at most 64 KiB",
          "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  const std::string sent(100 * 1024, 'q');
  get(loop, client.write(sent));  // in the kernel before the first read
  drain_pool();
  // 256 KiB of memory that last held a 2 KiB read: the first read of a fresh
  // stream reads at most 64 KiB into it (zero-filling 62 KiB, not 254).
  std::string grown(detail::kMaxPooledCapacity, 'x');
  grown.resize(2048);
  const char* memory = grown.data();
  detail::recycle_read_buffer(std::move(grown));
  const std::string first = get(loop, server.read_some(1024 * 1024));
  REQUIRE(first.data() == memory);
  REQUIRE(first.size() == 64 * 1024);
  // That read was a bulk one: the next takes the rest at once.
  const std::string rest = get(loop, server.read_some(1024 * 1024));
  REQUIRE(first + rest == sent);
  client.close();
  server.close();
  listener.close();
  loop.close();
  drain_pool();
}

TEST_CASE("a stream outgrows the pool's small buffers once the peer streams", "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  // A process that read 10 KiB messages before: its pool holds 10 KiB buffers.
  drain_pool();
  for (int i = 0; i < 8; ++i) detail::recycle_read_buffer(std::string(10 * 1024, 'x'));
  const std::string sent(8 * 1024 * 1024, 's');
  weft::Future<void> written = client.write(sent);
  std::size_t received = 0, reads = 0, largest = 0;
  while (received < sent.size() && reads < 100'000) {
    std::string part = get(loop, server.read_some());  // 64 KiB at most
    REQUIRE_FALSE(part.empty());
    received += part.size();
    largest = std::max(largest, part.size());
    ++reads;
    detail::recycle_read_buffer(std::move(part));  // as an echo or the C API would
  }
  REQUIRE(received == sent.size());
  // 10 KiB a read would be 820 reads; after a few the stream reads 64 KiB.
  INFO("reads " << reads << ", largest " << largest);
  REQUIRE(largest == 64 * 1024);
  REQUIRE(reads < 300);
  get(loop, std::move(written));
  client.close();
  server.close();
  listener.close();
  loop.close();
  drain_pool();
}

TEST_CASE("an exchange of messages that fill the pool's buffers keeps them", "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);
  drain_pool();
  for (int i = 0; i < 4; ++i) detail::recycle_read_buffer(std::string(10 * 1024, 'x'));
  const std::string message(10 * 1024, 'm');
  for (int i = 0; i < 40; ++i) {
    get(loop, client.write(message));
    std::size_t got = 0;
    while (got < message.size()) {
      std::string part = get(loop, server.read_some());
      got += part.size();
      // Each message fills a 10 KiB buffer, and nothing waits behind it: the
      // stream is not streaming, and no larger buffer is made.
      REQUIRE(part.capacity() < 32 * 1024);
      detail::recycle_read_buffer(std::move(part));
    }
    REQUIRE(got == message.size());
  }
  client.close();
  server.close();
  listener.close();
  loop.close();
  drain_pool();
}

TEST_CASE("a moved string the kernel takes only part of is sent whole, in order", "[read_buffers][tcp]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);

  // Far more than the kernel's buffers hold while nobody reads: the first
  // write is taken in part, the rest is queued from the same string.
  std::vector<std::string> sent;
  std::vector<weft::Future<void>> writes;
  for (int i = 0; i < 4; ++i) {
    std::string chunk(4 * 1024 * 1024, static_cast<char>('a' + i));
    sent.push_back(chunk);
    writes.push_back(server.write(std::move(chunk)));
  }
  REQUIRE(server.write_buffered() > 0);
  std::string received;
  const std::size_t total = 4 * 4 * 1024 * 1024;
  for (int reads = 0; reads < 100'000 && received.size() < total; ++reads) {
    received += get(loop, client.read_some(1024 * 1024));
  }
  REQUIRE(received.size() == total);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(received.compare(static_cast<std::size_t>(i) * sent[0].size(), sent[0].size(), sent[i]) == 0);
  }
  for (auto& w : writes) get(loop, std::move(w));
  REQUIRE(server.write_buffered() == 0);
  client.close();
  server.close();
  listener.close();
  loop.close();
}

TEST_CASE("small results share small buffers and leave the large ones to reads", "[read_buffers]") {
  drain_pool();
  std::string large(16 * 1024, 'x');
  const char* large_memory = large.data();
  detail::recycle_read_buffer(std::move(large));
  REQUIRE(detail::pooled_read_buffers() == 1);

  // A small result: a fresh small buffer, not the large one.
  std::string first = detail::make_read_result("GET / HTTP/1.1\r\n\r\n", 18);
  REQUIRE(first == "GET / HTTP/1.1\r\n\r\n");
  REQUIRE(first.capacity() >= detail::kSmallCapacity);
  REQUIRE(first.capacity() < detail::kMinPooledCapacity);
  REQUIRE(first.data() != large_memory);
  REQUIRE(detail::pooled_read_buffers() == 1);

  // Given back, it serves the next small result.
  const char* small_memory = first.data();
  detail::recycle_read_buffer(std::move(first));
  REQUIRE(first.empty());
  REQUIRE(detail::pooled_read_buffers() == 2);
  // The large buffer and the small one are kept apart: a reader asking for a
  // large buffer gets that one, and the small one stays for small results.
  std::string taken = detail::take_read_buffer();
  REQUIRE(taken.data() == large_memory);
  REQUIRE(detail::pooled_read_buffers() == 1);
  REQUIRE(detail::take_read_buffer().capacity() < detail::kSmallCapacity);
  REQUIRE(detail::pooled_read_buffers() == 1);
  detail::recycle_read_buffer(std::move(taken));
  REQUIRE(detail::pooled_read_buffers() == 2);
  const std::string bytes(detail::kSmallCapacity - 1, 's');
  std::string second = detail::make_read_result(bytes.data(), bytes.size());
  REQUIRE(second == bytes);
  REQUIRE(second.data() == small_memory);
  REQUIRE(detail::pooled_read_buffers() == 1);

  // A result of kSmallCapacity bytes or more takes the large buffer.
  const std::string big(detail::kSmallCapacity, 'b');
  std::string third = detail::make_read_result(big.data(), big.size());
  REQUIRE(third == big);
  REQUIRE(third.data() == large_memory);
  REQUIRE(detail::pooled_read_buffers() == 0);

  // Bytes a string holds inline (SSO) take no buffer.
  REQUIRE(detail::make_read_result("abc", 3).capacity() < detail::kSmallCapacity);

  // At most kMaxPooledSmall small buffers are kept.
  const std::string request(100, 'r');
  for (std::size_t i = 0; i < detail::kMaxPooledSmall + 10; ++i) {
    detail::recycle_read_buffer(detail::make_read_result(request.data(), request.size()));
  }
  REQUIRE(detail::pooled_read_buffers() == 1);  // the same one, again and again
  std::vector<std::string> held;
  for (std::size_t i = 0; i < detail::kMaxPooledSmall + 10; ++i) {
    held.push_back(detail::make_read_result(request.data(), request.size()));
  }
  for (std::string& s : held) detail::recycle_read_buffer(std::move(s));
  REQUIRE(detail::pooled_read_buffers() == detail::kMaxPooledSmall);
  drain_pool();
}
