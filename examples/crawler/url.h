// crawler::Url: an absolute http:// or https:// URL split by http_parser's
// URL parser (Debian's libhttp-parser) into what a client needs: scheme,
// host, port and the request target (path and query).
//
//   crawler::Url u = crawler::Url::parse("http://127.0.0.1:8080/a/b.html?x=1");
//   u.host == "127.0.0.1"; u.port == 8080; u.target == "/a/b.html?x=1";
//
// Plain values; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crawler {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" when the URL has none

  // weft::Exception(Errc::invalid_argument) naming the URL for anything that
  // is not an absolute http(s) URL with a host (the fragment is dropped).
  static Url parse(std::string_view text);

  // "http://host:port", the key of the connection pool.
  std::string origin() const;
  // The Host header's value ("host" or "host:port" when not the default).
  std::string host_header() const;
};

}  // namespace crawler
