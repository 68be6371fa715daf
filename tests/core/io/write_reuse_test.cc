// A stream's write request is kept for the next write (core/io/detail/
// stream_impl.h): once a small write has gone to the kernel whole, the next
// ones make neither a request nor a buffer (counted by this binary's own
// operator new), and writes of every size still arrive whole and in order.
// Loop thread: the test's main thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"

namespace {

std::atomic<long> g_allocations{0};

}  // namespace

// Every unaligned form, so that each block is freed the way it was made
// (the sanitizers check the pairs).
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* memory = std::malloc(size != 0 ? size : 1)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size != 0 ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }

using weft_test::get;

TEST_CASE("steady small writes reuse their request and buffer", "[tcp][write]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto [client, server] = weft_test::connected_pair(loop, listener);

  const std::string response(200, 'r');  // past std::string's inline capacity
  long most = 0;  // the most allocations one write() made, after the first
  for (int i = 0; i < 20; ++i) {
    const long before = g_allocations.load();
    weft::Future<void> written = client.write(std::string_view(response));
    const long made = g_allocations.load() - before;
    REQUIRE(written.ready());  // the kernel took it all at once
    get(loop, std::move(written));
    if (i > 0 && made > most) most = made;
    REQUIRE(get(loop, server.read_exactly(response.size())) == response);
  }
  // At most the write's future; not its request, not its buffer.
  REQUIRE(most <= 1);

  // A write the kernel cannot take at once goes through the queue; small
  // writes after it still arrive whole, in order.
  const std::string big(8 * 1024 * 1024, 'b');
  weft::Future<void> big_written = client.write(std::string_view(big));
  weft::Future<void> small_written = client.write(std::string_view(response));
  std::string got = get(loop, server.read_exactly(big.size() + response.size()));
  get(loop, std::move(big_written));
  get(loop, std::move(small_written));
  REQUIRE(got == big + response);
  get(loop, client.write(std::string_view(response)));
  REQUIRE(get(loop, server.read_exactly(response.size())) == response);

  client.close();
  server.close();
  listener.close();
  loop.close();
}
