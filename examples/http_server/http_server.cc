// HttpServer: see http_server.h. Loop thread.
#include "examples/http_server/http_server.h"

#include <cstdio>
#include <utility>
#include <vector>

namespace http_example {

HttpServer::HttpServer(weft::Loop& loop, weft::TcpListener listener, ServerOptions options)
    : loop_(loop), listener_(std::move(listener)), options_(options) {}

weft::Task<void> HttpServer::serve() {
  for (bool more = true; more;) {
    auto incoming = listener_.connections();
    try {
      while (auto tcp = co_await incoming.next()) {
        weft::spawn(loop_, serve_connection(std::move(*tcp)), "http-connection");
      }
      more = false;  // the listener closed
    } catch (const weft::Cancelled&) {
      throw;
    } catch (const weft::Exception& e) {
      // E.g. out of descriptors (the listener pauses by itself): go on with
      // a fresh generator.
      std::fprintf(stderr, "accept: %s\n", e.what());
    }
  }
  accepting_ = false;
  finish_if_done();
}

weft::Task<void> HttpServer::serve_connection(weft::TcpStream tcp) {
  ConnectionControl control;
  connections_.push_front(&control);
  const auto registered = connections_.begin();
  {
    // Declared inside the registration, so the connection is closed before
    // it leaves the list (and the loop may stop).
    weft::TcpStream stream = std::move(tcp);
    if (shutting_down_) control.drain();
    try {
      if (options_.tls.empty()) {
        co_await serve_http(stream, options_.connection, control);
      } else {
        // A failed or timed-out handshake ends this connection only.
        weft::TlsStream secure = co_await weft::TlsStream::accept(std::move(stream), options_.tls);
        if (!shutting_down_) co_await serve_http(secure, options_.connection, control);
      }
    } catch (const weft::Cancelled&) {
      connections_.erase(registered);
      throw;
    } catch (const weft::Exception&) {
      // Reset, broken pipe, a write that timed out, closed by shutdown():
      // this connection ends, the others go on.
    }
  }
  connections_.erase(registered);
  finish_if_done();
}

void HttpServer::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  listener_.close();
  // drain() may close a stream; the list only changes when tasks run.
  const std::vector<ConnectionControl*> open(connections_.begin(), connections_.end());
  for (ConnectionControl* connection : open) connection->drain();
  drain_timer_ = loop_.call_later(options_.drain_timeout, [this] {
    const std::vector<ConnectionControl*> left(connections_.begin(), connections_.end());
    for (ConnectionControl* connection : left) connection->close();
  });
  finish_if_done();
}

void HttpServer::finish_if_done() {
  if (shutting_down_ && !accepting_ && connections_.empty()) {
    drain_timer_.cancel();
    loop_.stop();
  }
}

}  // namespace http_example
