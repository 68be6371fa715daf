// One HTTP/1.1 connection of the C++ example server, as a coroutine: read
// what the client sends, run it through the shared protocol
// (examples/http/http_session.h), write the responses, until the client or
// the protocol ends the connection.
//
//   weft::TcpStream tcp = ...;            // or any weft::Stream (a TLS one too)
//   ConnectionControl control;
//   co_await serve_http(tcp, options, control);
//
// - Time-outs: a connection has options.idle_timeout to deliver each
//   complete request, counted from when the server starts waiting for it
//   (an idle keep-alive connection and a slow one alike): then it gets a 408
//   and is closed. A write the client does not take within idle_timeout
//   ends the connection (TimedOut is thrown).
// - Closing after the last response (an error, "Connection: close", a 408):
//   the server half-closes, then reads and drops what the client still
//   sends, for at most options.linger, so that the client reads the response
//   instead of a reset.
// - Errors of the stream (reset, broken pipe, closed) are thrown from
//   serve_http as weft::Exception; the caller drops the connection.
//
// ConnectionControl is how the server reaches a running connection when it
// shuts down (drain(): the request in progress is the last; an idle
// connection closes at once) or gives up on it (close()). It lives in the
// caller's frame; serve_http points it at its stream and session while it
// runs. Loop thread only.
#pragma once

#include <chrono>

#include "core/weft.h"
#include "examples/http/http_session.h"

namespace http_example {

struct ConnectionOptions {
  http_limits limits = HTTP_LIMITS_DEFAULT;
  weft::Duration idle_timeout = std::chrono::seconds(10);
  weft::Duration linger = std::chrono::seconds(2);
};

class ConnectionControl {
 public:
  // The request in progress (if any) is the connection's last; a connection
  // waiting for a new request is closed now.
  void drain() noexcept;
  // Closes the stream: whatever the connection awaits fails.
  void close() noexcept;
  bool draining() const noexcept { return draining_; }

 private:
  friend class Attachment;
  weft::Stream* stream_ = nullptr;
  http_session* session_ = nullptr;
  bool waiting_idle_ = false;  // awaiting the first byte of a new request
  bool draining_ = false;
};

weft::Task<void> serve_http(weft::Stream& stream, const ConnectionOptions& options,
                            ConnectionControl& control);

}  // namespace http_example
