// The load generator of W11's bulk variants, in its own process (the driver,
// bulk_echo_main.cc), independent of the server it measures: plain sockets and
// epoll, no runtime, one thread (the caller's).
//
// `connections` TCP connections to 127.0.0.1:port (TCP_NODELAY), each with
// exactly one message of `message_size` bytes in flight. A message goes out
// with one send() of all of it (what the kernel does not take at once follows
// when the socket is writable again); its round trip counts when every byte
// of it has come back, and then the next message goes out on that connection.
// Every echoed byte is checked. The clock starts when every connection is up
// and on_connected() has returned (the driver reads the server's CPU time
// there), and stops at the last echo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace bench::bulk {

struct EchoClientResult {
  double seconds = 0;  // first send to last echo
  std::uint64_t round_trips = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::string error;  // non-empty: the run failed (connect, bytes, time limit)
};

struct EchoClientOptions {
  int port = 0;
  int connections = 64;
  std::size_t message_size = 16 * 1024;
  std::uint64_t round_trips = 0;
  double time_limit_s = 120;  // the run fails if it takes longer
};

EchoClientResult run_echo_client(const EchoClientOptions& options,
                                 const std::function<void()>& on_connected);

}  // namespace bench::bulk
