// HttpServer: the C++ example server's accept loop and shutdown. Each
// accepted connection runs serve_http (connection.h) in a task of its own.
//
//   HttpServer server(loop, std::move(listener), options);
//   weft::spawn(loop, server.serve(), "http-accept");
//   ... on SIGINT/SIGTERM: server.shutdown();   // run() returns once it is done
//
// shutdown(): stops accepting (closes the listener), closes the connections
// that wait for a new request, lets those with a request in progress finish
// it (its response says "Connection: close"), and once every connection has
// ended stops the loop. Connections still open after options.drain_timeout
// are closed.
//
// Loop thread only. The server must outlive the tasks it spawns: main keeps
// it until the loop is closed.
#pragma once

#include <chrono>
#include <list>

#include "core/weft.h"
#include "examples/http_server/connection.h"

namespace http_example {

struct ServerOptions {
  ConnectionOptions connection;
  weft::Duration drain_timeout = std::chrono::seconds(5);
  // A server context: every connection starts with a TLS handshake (within
  // the context's handshake timeout) and is served over the TLS stream.
  // Empty: plain HTTP.
  weft::TlsContext tls;
};

class HttpServer {
 public:
  HttpServer(weft::Loop& loop, weft::TcpListener listener, ServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Accepts until the listener closes.
  weft::Task<void> serve();
  void shutdown();

  weft::SocketAddress local_address() const { return listener_.local_address(); }

 private:
  weft::Task<void> serve_connection(weft::TcpStream tcp);
  // Stops the loop once shutting down and nothing is left.
  void finish_if_done();

  weft::Loop& loop_;
  weft::TcpListener listener_;
  ServerOptions options_;
  std::list<ConnectionControl*> connections_;
  weft::TimerHandle drain_timer_;
  bool accepting_ = true;
  bool shutting_down_ = false;
};

}  // namespace http_example
