// crawler::HttpClient: an HTTP/1.1 client on weft's coroutine tasks, with a
// small per-host pool of keep-alive connections.
//
//   weft::ThreadPool resolver(1);                     // getaddrinfo runs there
//   crawler::HttpClient client(loop, resolver);
//   crawler::HttpResponse r = co_await weft::wait_for(client.get("http://127.0.0.1:8080/"), 5s);
//
// - get() sends a GET on an idle connection to the same origin if there is
//   one (keep-alive), otherwise opens one, and reads the response with
//   HttpResponseParser (Content-Length, chunked, or until the close). The
//   connection goes back to the pool when the response allows keep-alive
//   and the pool for that origin has room (max_idle_per_host).
// - A reused connection the server had closed meanwhile (it fails before any
//   byte of the response arrives) is dropped and the request is sent once
//   more on a fresh one; GET is idempotent.
// - get() has no time limit of its own: wrap it in weft::wait_for. A request
//   cancelled or timed out closes its connection (it never goes back).
// - Any status comes back as a response (a 404 is not an exception);
//   failures throw weft::Exception: invalid_argument for a bad URL,
//   connection_refused, timed_out (connecting), end_of_file, io_error (a
//   malformed response), message_too_long (a body over max_body_bytes).
// - Transports: http:// uses a TcpStream, https:// a TlsStream over one
//   (transport.h), verified with HttpClientOptions::tls.
//
// Threads: the loop's thread. The client owns its idle connections; it must
// outlive its pending get()s. `resolver` (for host names; numeric addresses
// skip it) must outlive the client.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/crawler/http_response_parser.h"
#include "examples/crawler/transport.h"
#include "examples/crawler/url.h"

namespace crawler {

struct HttpClientOptions {
  std::size_t max_idle_per_host = 16;
  weft::Duration connect_timeout = std::chrono::seconds(10);
  std::size_t max_body_bytes = HttpResponseParser::kDefaultMaxBody;
  std::string user_agent = "weft-crawler/1.0";
  // For https:// (a client context); empty: one that trusts the system's
  // store, made at the first https:// request.
  weft::TlsContext tls;
};

class HttpClient {
 public:
  HttpClient(weft::Loop& loop, weft::Executor& resolver, HttpClientOptions options = {});
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  weft::Task<HttpResponse> get(std::string url);

  // Connections opened, and requests sent on a connection used before.
  std::size_t connections_opened() const noexcept { return opened_; }
  std::size_t requests_on_reused_connections() const noexcept { return reused_; }
  std::size_t idle_connections() const;
  // Closes the idle connections.
  void close_idle() noexcept { idle_.clear(); }

 private:
  struct Checkout {
    std::unique_ptr<Transport> transport;
    bool reused = false;
  };
  weft::Task<HttpResponse> fetch(Url url);
  weft::Task<Checkout> checkout(const Url& url, bool fresh_only);
  weft::Task<HttpResponse> exchange(Transport& transport, const Url& url, bool& response_started);
  void give_back(const Url& url, std::unique_ptr<Transport> transport);

  weft::Loop& loop_;
  weft::Executor& resolver_;
  HttpClientOptions options_;
  std::map<std::string, std::vector<std::unique_ptr<Transport>>> idle_;  // by origin
  std::size_t opened_ = 0;
  std::size_t reused_ = 0;
};

}  // namespace crawler
