// weft::UdpSocket over loopback: round trips, queued datagrams, cancelling a
// receive, closing.
#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;

TEST_CASE("a UDP datagram goes there and back", "[udp]") {
  weft::Loop loop;
  auto server = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto client = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  REQUIRE(server.local_address().port() != 0);

  auto request = server.recv_from();
  get(loop, client.send_to("ping", server.local_address()));
  weft::Datagram got = get(loop, std::move(request));
  REQUIRE(got.data == "ping");
  REQUIRE(got.peer == client.local_address());
  REQUIRE_FALSE(got.truncated);

  auto reply = client.recv_from();
  get(loop, server.send_to("pong", got.peer));
  weft::Datagram answer = get(loop, std::move(reply));
  REQUIRE(answer.data == "pong");
  REQUIRE(answer.peer == server.local_address());
}

TEST_CASE("datagrams that arrive while nothing waits are queued, in order", "[udp]") {
  weft::Loop loop;
  auto server = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto client = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto first = server.recv_from();  // starts receiving
  for (int i = 0; i < 5; ++i) get(loop, client.send_to("d" + std::to_string(i), server.local_address()));
  get(loop, client.send_to("", server.local_address()));  // an empty datagram is a datagram
  REQUIRE(get(loop, std::move(first)).data == "d0");
  weft_test::run_for_a_while(loop, 10ms);
  for (int i = 1; i < 5; ++i) REQUIRE(get(loop, server.recv_from()).data == "d" + std::to_string(i));
  auto empty = get(loop, server.recv_from());
  REQUIRE(empty.data.empty());
  REQUIRE(empty.peer == client.local_address());
}

TEST_CASE("cancelling a pending receive frees the socket for the next one", "[udp][cancel]") {
  weft::Loop loop;
  auto server = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto client = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto pending = server.recv_from();
  loop.poll();
  REQUIRE(pending.cancel());
  loop.poll();
  REQUIRE(uv_loop_alive(weft::detail::LoopAccess::uv_loop(loop)) == 0);
  auto next = server.recv_from();
  get(loop, client.send_to("after", server.local_address()));
  REQUIRE(get(loop, std::move(next)).data == "after");
  // One receive at a time.
  auto a = server.recv_from();
  REQUIRE(await(loop, server.recv_from()).error().code() == weft::Errc::invalid_state);
  a.cancel();
}

TEST_CASE("closing a UDP socket fails its pending receive with closed", "[udp][close]") {
  weft::Loop loop;
  auto socket = weft::UdpSocket::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto pending = socket.recv_from();
  socket.close();
  REQUIRE(await(loop, std::move(pending)).error().code() == weft::Errc::closed);
  get(loop, socket.wait_closed());
  REQUIRE(await(loop, socket.send_to("x", weft::SocketAddress::loopback_v4(9))).error().code() ==
          weft::Errc::closed);
}
