// weft::SocketAddress: parsing, printing, comparing.
#include <catch2/catch.hpp>

#include "core/io/io.h"

TEST_CASE("numeric IPv4 and IPv6 addresses parse and print", "[address]") {
  auto v4 = weft::SocketAddress::parse("127.0.0.1", 8080);
  CHECK(v4.is_v4());
  CHECK(v4.port() == 8080);
  CHECK(v4.ip() == "127.0.0.1");
  CHECK(v4.to_string() == "127.0.0.1:8080");
  auto v6 = weft::SocketAddress::parse("::1", 443);
  CHECK(v6.is_v6());
  CHECK(v6.to_string() == "[::1]:443");
  CHECK(v4 == weft::SocketAddress::loopback_v4(8080));
  CHECK_FALSE(v4 == weft::SocketAddress::loopback_v4(8081));
  CHECK(weft::SocketAddress().empty());
  CHECK(weft::SocketAddress().to_string().empty());
}

TEST_CASE("names and garbage are refused", "[address]") {
  CHECK_FALSE(weft::SocketAddress::try_parse("localhost", 80).has_value());
  CHECK_FALSE(weft::SocketAddress::try_parse("300.1.1.1", 80).has_value());
  CHECK_FALSE(weft::SocketAddress::try_parse("", 80).has_value());
  CHECK_THROWS_AS(weft::SocketAddress::parse("example.org", 80), weft::Exception);
}

TEST_CASE("a text with a NUL inside is refused, not cut at the NUL", "[address]") {
  using namespace std::string_view_literals;
  CHECK_FALSE(weft::SocketAddress::try_parse("127.0.0.1\0junk"sv, 80).has_value());
  CHECK_FALSE(weft::SocketAddress::try_parse("::1\0"sv, 80).has_value());
}
