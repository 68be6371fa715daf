// weft::resolve: getaddrinfo on a worker, the result on the loop. Only names
// the machine knows without asking the network (localhost, numeric).
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "core/error.h"
#include "core/executor/thread_pool.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "tests/core/io/io_test_util.h"

using weft_test::await;
using weft_test::get;

TEST_CASE("localhost resolves to loopback addresses with the port", "[dns]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  auto addresses = get(loop, weft::resolve(loop, pool, "localhost", 8080));
  REQUIRE_FALSE(addresses.empty());
  for (const auto& address : addresses) {
    REQUIRE(address.port() == 8080);
    REQUIRE((address.ip() == "127.0.0.1" || address.ip() == "::1"));
  }
  auto v4 = get(loop, weft::resolve(loop, pool, "localhost", 80, {AF_INET, SOCK_STREAM}));
  REQUIRE(v4.size() == 1);
  REQUIRE(v4[0] == weft::SocketAddress::loopback_v4(80));
}

TEST_CASE("a resolved address can be connected to", "[dns]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto addresses = get(loop, weft::resolve(loop, pool, "localhost", listener.local_address().port(),
                                           {AF_INET, SOCK_STREAM}));
  auto accepted = listener.accept();
  auto client = get(loop, weft::TcpStream::connect(loop, addresses.at(0)));
  REQUIRE(get(loop, std::move(accepted)).is_open());
}

TEST_CASE("numeric hosts resolve without a lookup; bad hints fail with invalid_argument",
          "[dns]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  auto numeric = get(loop, weft::resolve(loop, pool, "127.0.0.1", 53, {AF_UNSPEC, SOCK_DGRAM}));
  REQUIRE(numeric.size() == 1);
  REQUIRE(numeric[0].to_string() == "127.0.0.1:53");
  auto bad = await(loop, weft::resolve(loop, pool, "localhost", 80, {AF_INET, 12345}));
  REQUIRE(bad.error().code() == weft::Errc::invalid_argument);
  REQUIRE(bad.error().message().find("localhost") != std::string::npos);
}

TEST_CASE("the lookup runs on the executor, the continuation on the loop", "[dns]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id continuation_thread;
  auto lookup = weft::resolve(loop, pool, "localhost", 1);
  std::move(lookup).then(loop, [&](weft::Result<std::vector<weft::SocketAddress>> r) {
    REQUIRE(r.ok());
    continuation_thread = std::this_thread::get_id();
  });
  loop.run();
  REQUIRE(continuation_thread == loop_thread);
}
