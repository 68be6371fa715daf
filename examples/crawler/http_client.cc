// crawler::HttpClient: request writing, response reading, and the per-origin
// pool of idle keep-alive connections.
#include "examples/crawler/http_client.h"

#include <utility>

namespace crawler {

HttpClient::HttpClient(weft::Loop& loop, weft::Executor& resolver, HttpClientOptions options)
    : loop_(loop), resolver_(resolver), options_(std::move(options)) {}

std::size_t HttpClient::idle_connections() const {
  std::size_t count = 0;
  for (const auto& [origin, transports] : idle_) count += transports.size();
  return count;
}

weft::Task<HttpResponse> HttpClient::get(std::string url) {
  Url parsed = Url::parse(url);  // a bad URL fails the task, like any other failure
  co_return co_await fetch(std::move(parsed));
}

weft::Task<HttpClient::Checkout> HttpClient::checkout(const Url& url, bool fresh_only) {
  if (!fresh_only) {
    auto found = idle_.find(url.origin());
    if (found != idle_.end() && !found->second.empty()) {
      Checkout checkout{std::move(found->second.back()), true};
      found->second.pop_back();
      co_return checkout;
    }
  }
  // (Not `Checkout{co_await ..., false}`: GCC 12 miscompiles a co_await
  // inside a braced initializer.)
  if (url.scheme == "https" && options_.tls.empty()) options_.tls = weft::TlsContext::client();
  std::unique_ptr<Transport> transport =
      co_await open_transport(loop_, resolver_, url, options_.connect_timeout, options_.tls);
  ++opened_;
  co_return Checkout{std::move(transport), false};
}

void HttpClient::give_back(const Url& url, std::unique_ptr<Transport> transport) {
  std::vector<std::unique_ptr<Transport>>& idle = idle_[url.origin()];
  if (idle.size() < options_.max_idle_per_host) idle.push_back(std::move(transport));
}

weft::Task<HttpResponse> HttpClient::exchange(Transport& transport, const Url& url,
                                              bool& response_started) {
  std::string request = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.host_header() +
                        "\r\nUser-Agent: " + options_.user_agent + "\r\nAccept: */*\r\n\r\n";
  weft::Stream& stream = transport.stream();
  co_await stream.write(std::move(request));
  HttpResponseParser parser(options_.max_body_bytes);
  while (!parser.complete()) {
    std::string data = co_await stream.read_some();
    if (data.empty()) {
      parser.finish();  // completes a body that ends with the connection, or throws
      break;
    }
    response_started = true;
    const std::size_t used = parser.feed(data);
    if (parser.complete() && used < data.size()) {
      // Bytes after the response that nothing asked for: the connection is
      // out of step; it is not reused.
      HttpResponse response = parser.take_response();
      response.keep_alive = false;
      co_return response;
    }
  }
  HttpResponse response = parser.take_response();
  if (!stream.is_open() || stream.read_buffered() > 0) response.keep_alive = false;
  co_return response;
}

weft::Task<HttpResponse> HttpClient::fetch(Url url) {
  Checkout connection = co_await checkout(url, false);
  if (connection.reused) ++reused_;
  bool response_started = false;
  try {
    HttpResponse response = co_await exchange(*connection.transport, url, response_started);
    if (response.keep_alive) give_back(url, std::move(connection.transport));
    co_return response;
  } catch (const weft::Cancelled&) {
    throw;  // the connection closes with this frame
  } catch (const weft::Exception& e) {
    // A kept-alive connection the server closed while it sat idle fails
    // before the response starts: retry once on a fresh one. Anything else
    // is this request's failure.
    const bool stale =
        connection.reused && !response_started &&
        (e.code() == weft::Errc::end_of_file || e.code() == weft::Errc::connection_reset ||
         e.code() == weft::Errc::broken_pipe);
    if (!stale) throw;
  }
  connection = co_await checkout(url, true);
  HttpResponse response = co_await exchange(*connection.transport, url, response_started);
  if (response.keep_alive) give_back(url, std::move(connection.transport));
  co_return response;
}

}  // namespace crawler
