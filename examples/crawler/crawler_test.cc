// The crawler against a real nginx (started by real_servers.py, which exports
// WEFT_TEST_NGINX_PORT; the test script exports WEFT_TEST_DOCROOT, the files
// it serves): 50 files at most 10 at a time, checked byte for byte by size
// and checksum, over at most 10 kept-alive connections; a 404 is that URL's
// error only; a server that never answers times out. Against small weft
// servers: chunked bodies, a kept-alive connection the server closed, a body
// cut short, bad URLs; the body limit of the response parser.
#include <dirent.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/crawler/crawl.h"
#include "examples/crawler/http_client.h"
#include "examples/crawler/http_response_parser.h"
#include "examples/crawler/url.h"

using namespace std::chrono_literals;

// Catch2's REQUIRE names its expression twice and GCC 12 evaluates a
// co_await even in the unevaluated copy, so awaited values are taken into a
// variable before they are checked.

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr)
    FAIL(std::string(name) + " is not set: run under examples/crawler/with_nginx_test.sh");
  return value;
}

std::string nginx_url(const std::string& path) {
  return "http://127.0.0.1:" + env("WEFT_TEST_NGINX_PORT") + path;
}

// name -> contents of every file in the served directory.
std::map<std::string, std::string> served_files() {
  std::map<std::string, std::string> files;
  const std::string root = env("WEFT_TEST_DOCROOT");
  DIR* dir = opendir(root.c_str());
  REQUIRE(dir != nullptr);
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".bin") continue;
    std::ifstream in(root + "/" + name, std::ios::binary);
    files[name] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  closedir(dir);
  return files;
}

crawler::CrawlOptions crawl_options(std::size_t max_in_flight, weft::Duration timeout = 10s,
                                    bool keep_bodies = false) {
  crawler::CrawlOptions options;
  options.max_in_flight = max_in_flight;
  options.timeout = timeout;
  options.keep_bodies = keep_bodies;
  return options;
}

// Runs a test body on a fresh loop with a resolver pool, bounded in time.
template <class Body>
void run(Body body) {
  weft::Loop loop;
  weft::ThreadPool resolver(1);
  weft::Result<void> result = [&] {
    crawler::HttpClient client(loop, resolver);
    return weft::run_until_complete(loop, weft::wait_for(body(client), 60s));
  }();
  loop.shutdown(5s);
  loop.close();
  std::move(result).value();
}

// A tiny HTTP server for the cases nginx does not produce: for each
// connection it accepts, answers each request (read up to the blank line)
// with the next of `answers`; "" closes the connection instead.
weft::Task<void> scripted_server(weft::TcpListener& listener,
                                 std::vector<std::vector<std::string>> connections) {
  for (auto& answers : connections) {
    weft::TcpStream conn = co_await listener.accept();
    for (auto& answer : answers) {
      co_await conn.read_until("\r\n\r\n");
      if (answer.empty()) break;
      // In small pieces, so the parser sees every kind of split.
      for (std::size_t at = 0; at < answer.size(); at += 7)
        co_await conn.write(answer.substr(at, 7));
    }
    conn.close();
  }
}

}  // namespace

TEST_CASE("50 files from nginx, at most 10 at a time, over reused connections", "[crawler]") {
  const std::map<std::string, std::string> files = served_files();
  REQUIRE(files.size() == 50);
  std::size_t over_one_mib = 0;
  for (const auto& [name, data] : files) over_one_mib += data.size() > (1u << 20) ? 1 : 0;
  REQUIRE(over_one_mib >= 3);
  run([&](crawler::HttpClient& client) -> weft::Task<void> {
    std::vector<std::string> urls;
    for (const auto& [name, data] : files) urls.push_back(nginx_url("/" + name));
    crawler::CrawlReport report = co_await crawler::crawl(client, urls, crawl_options(10, 30s));
    REQUIRE(report.results.size() == 50);
    REQUIRE(report.failures == 0);
    auto file = files.begin();
    for (const crawler::CrawlResult& result : report.results) {
      INFO(result.url << ": " << result.error);
      REQUIRE(result.ok);
      REQUIRE(result.status == 200);
      REQUIRE(result.bytes == file->second.size());
      REQUIRE(result.checksum == crawler::fnv1a64(file->second));
      REQUIRE(result.finished_ms >= result.started_ms);
      ++file;
    }
    REQUIRE(report.max_in_flight == 10);
    REQUIRE(report.connections_opened >= 1);
    REQUIRE(report.connections_opened <= 10);
    REQUIRE(report.requests_on_reused_connections == 50 - report.connections_opened);
    REQUIRE(client.idle_connections() == report.connections_opened);

    // Once more with the bodies kept: the bytes themselves, and no new connection.
    std::vector<std::string> some{nginx_url("/page-07.bin"), nginx_url("/page-00.bin"),
                                  nginx_url("/page-01.bin")};
    crawler::CrawlReport again = co_await crawler::crawl(client, some, crawl_options(3, 10s, true));
    REQUIRE(again.failures == 0);
    REQUIRE(again.results[0].body == files.at("page-07.bin"));
    REQUIRE(again.results[1].body == files.at("page-00.bin"));
    REQUIRE(again.connections_opened == 0);
  });
}

TEST_CASE("a 404 is an error for that URL only", "[crawler]") {
  run([&](crawler::HttpClient& client) -> weft::Task<void> {
    std::vector<std::string> urls{nginx_url("/page-01.bin"), nginx_url("/no-such-page.bin"),
                                  nginx_url("/page-02.bin")};
    crawler::CrawlReport report = co_await crawler::crawl(client, urls, crawl_options(2));
    REQUIRE(report.failures == 1);
    REQUIRE(report.results[0].ok);
    REQUIRE_FALSE(report.results[1].ok);
    REQUIRE(report.results[1].status == 404);
    REQUIRE(report.results[1].error == "404 Not Found");
    REQUIRE(report.results[2].ok);
    REQUIRE(report.connections_opened <= 2);  // the 404 kept its connection alive too
  });
}

TEST_CASE("a server that accepts and never answers times out; the others finish", "[crawler]") {
  run([&](crawler::HttpClient& client) -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    // Accepts (the kernel does, into the backlog) and never reads or writes.
    weft::TcpListener silent = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    const std::string silent_url = "http://" + silent.local_address().to_string() + "/";
    std::vector<std::string> urls{silent_url, nginx_url("/page-03.bin")};
    crawler::CrawlReport report = co_await crawler::crawl(client, urls, crawl_options(2, 300ms));
    REQUIRE_FALSE(report.results[0].ok);
    REQUIRE(report.results[0].error == "timed out after 300 ms");
    REQUIRE(report.results[0].finished_ms - report.results[0].started_ms >= 290.0);
    REQUIRE(report.results[1].ok);
    REQUIRE(client.idle_connections() == 1);  // the timed-out connection was closed, not kept
  });
}

TEST_CASE("chunked and Content-Length bodies on one kept-alive connection", "[crawler]") {
  run([&](crawler::HttpClient& client) -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    weft::TcpListener listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    const std::string base = "http://" + listener.local_address().to_string();
    auto server = weft::spawn(scripted_server(
        listener, {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, "
                    "world\r\n0\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Test: yes\r\n\r\nbody",
                    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"}}));
    crawler::HttpResponse chunked = co_await client.get(base + "/chunked");
    REQUIRE(chunked.chunked);
    REQUIRE(chunked.body == "hello, world");
    REQUIRE(chunked.keep_alive);
    crawler::HttpResponse sized = co_await client.get(base + "/sized");
    REQUIRE_FALSE(sized.chunked);
    REQUIRE(sized.body == "body");
    REQUIRE(sized.header("x-test") == "yes");
    crawler::HttpResponse until_close = co_await client.get(base + "/close");
    REQUIRE(until_close.body == "until the end");
    REQUIRE_FALSE(until_close.keep_alive);
    REQUIRE(client.connections_opened() == 1);
    REQUIRE(client.requests_on_reused_connections() == 2);
    REQUIRE(client.idle_connections() == 0);
    co_await server;
  });
}

TEST_CASE("a kept-alive connection the server closed is replaced, once", "[crawler]") {
  run([&](crawler::HttpClient& client) -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    weft::TcpListener listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    const std::string url = "http://" + listener.local_address().to_string() + "/";
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    // The first connection answers once, then closes after the next request.
    auto server = weft::spawn(scripted_server(listener, {{ok, ""}, {ok}}));
    crawler::HttpResponse first = co_await client.get(url);
    REQUIRE(first.body == "ok");
    crawler::HttpResponse second = co_await client.get(url);
    REQUIRE(second.body == "ok");
    REQUIRE(client.connections_opened() == 2);
    co_await server;
  });
}

TEST_CASE("a body cut short, a garbled response and bad URLs are errors", "[crawler]") {
  run([&](crawler::HttpClient& client) -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    weft::TcpListener listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    const std::string url = "http://" + listener.local_address().to_string() + "/";
    auto server = weft::spawn(
        scripted_server(listener, {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a little"},
                                   {"HTTP/9 what\r\n\r\n"}}));
    std::vector<std::string> urls{url};
    crawler::CrawlReport cut = co_await crawler::crawl(client, urls, crawl_options(1));
    REQUIRE(cut.results[0].error == "http: the connection closed in the middle of the response");
    crawler::CrawlReport garbled = co_await crawler::crawl(client, urls, crawl_options(1));
    REQUIRE(garbled.results[0].error.rfind("http: bad response:", 0) == 0);
    co_await server;

    std::vector<std::string> bad{"ftp://127.0.0.1/x", "not a url", "https://127.0.0.1:1/",
                                 "http:///nohost"};
    crawler::CrawlReport report = co_await crawler::crawl(client, bad, crawl_options(4));
    REQUIRE(report.failures == 4);
    REQUIRE(report.results[0].error.find("only http:// and https://") != std::string::npos);
    REQUIRE(report.results[1].error.find("bad URL") != std::string::npos);
    REQUIRE(report.results[2].error.find("refused") != std::string::npos);  // nothing on port 1
    REQUIRE(report.results[3].error.find("bad URL") != std::string::npos);
  });
}

TEST_CASE("URLs split into scheme, host, port and target", "[crawler]") {
  crawler::Url u = crawler::Url::parse("HTTP://example.org/a/b?x=1#frag");
  REQUIRE(u.scheme == "http");
  REQUIRE(u.host == "example.org");
  REQUIRE(u.port == 80);
  REQUIRE(u.target == "/a/b?x=1");
  REQUIRE(u.host_header() == "example.org");
  crawler::Url v6 = crawler::Url::parse("http://[::1]:8080");
  REQUIRE(v6.host == "::1");
  REQUIRE(v6.target == "/");
  REQUIRE(v6.host_header() == "[::1]:8080");
  REQUIRE(v6.origin() == "http://[::1]:8080");
  REQUIRE_THROWS_AS(crawler::Url::parse("http://user:pw@host/"), weft::Exception);
}

TEST_CASE("a body over the limit is an error, whether its length is declared or not", "[crawler]") {
  auto code_of = [](std::size_t max_body, std::string_view bytes) {
    crawler::HttpResponseParser parser(max_body);
    try {
      parser.feed(bytes);
      if (!parser.complete()) parser.finish();
    } catch (const weft::Exception& e) {
      return e.code();
    }
    return weft::Errc::ok;
  };
  const std::string_view declared = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  const std::string_view chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  const std::string_view until_close = "HTTP/1.0 200 OK\r\n\r\nhello";
  for (std::string_view response : {declared, chunked, until_close}) {
    REQUIRE(code_of(5, response) == weft::Errc::ok);
    REQUIRE(code_of(4, response) == weft::Errc::message_too_long);
  }
  crawler::HttpResponseParser parser(5);
  parser.feed(declared);
  REQUIRE(parser.complete());
  REQUIRE(parser.take_response().body == "hello");
}
