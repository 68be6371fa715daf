// W11's load generator and its report, shared by the weft and raw-libuv echo
// servers so both are measured by exactly the same client.
//
// The generator is written directly on libuv and runs on the calling thread:
// `connections` TCP connections to 127.0.0.1:port (TCP_NODELAY), each with
// one message of `message_size` bytes in flight; it sends the next message
// on a connection as soon as the whole echo of the previous one is back,
// until `round_trips` echoes have arrived in all. It records each round
// trip's latency (send to last byte back) and checks every echoed byte.
//
// The server side runs on its own thread (EchoServerThread); it measures its
// own CPU time with getrusage(RUSAGE_THREAD) from the moment it listens to
// the moment it stops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "tests/bench/workload.h"

namespace bench {

struct EchoLoadResult {
  double seconds = 0;          // first send to last echo
  std::uint64_t round_trips = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::string error;           // non-empty: the run failed its checks
};

EchoLoadResult run_echo_load(int port, int connections, std::size_t message_size,
                             std::uint64_t round_trips);

// An echo server on its own thread. start() returns once it listens (and
// reports the port); stop() asks it to close everything and joins it.
// CPU seconds of one thread, from getrusage(RUSAGE_THREAD).
struct ThreadCpu {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
  ThreadCpu operator-(const ThreadCpu& earlier) const {
    return {user - earlier.user, system - earlier.system};
  }
};

// The calling thread's CPU time so far.
ThreadCpu thread_cpu();

class EchoServerThread {
 public:
  virtual ~EchoServerThread() = default;
  // The port on 127.0.0.1, or -1 (error() says why).
  virtual int start() = 0;
  virtual void stop() = 0;
  // The server thread's CPU time while it served (read after stop()).
  ThreadCpu cpu() const { return cpu_; }
  // The first error the server met, or "". Any thread.
  std::string error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 protected:
  // Keeps the first error. Any thread.
  void set_error(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_.empty()) error_ = what;
  }
  ThreadCpu cpu_;  // set by the server thread as it stops

 private:
  mutable std::mutex mutex_;
  std::string error_;
};

// Runs W11 against `server`: starts it, drives the load, stops it, and turns
// the numbers into an Outcome (round trips, p50/p99, server CPU per round
// trip in all and in user space — the part that is the server's own code
// rather than the kernel's TCP — and MB/s of payload echoed).
Outcome measure_echo(EchoServerThread& server, std::size_t message_size, std::uint64_t round_trips);

// Pins the calling thread to CPU `cpu` if the process may run on more than
// one CPU (server and load generator on different cores, run after run).
void pin_to_cpu(int cpu);

constexpr int kEchoConnections = 64;
constexpr std::size_t kEchoSmallMessage = 64;
constexpr std::size_t kEchoLargeMessage = 16 * 1024;

// Registers W11 and its 16 KiB variant for `impl`, each run against a fresh
// `Server` (an EchoServerThread).
template <class Server>
bool register_echo_workloads(const char* impl) {
  return register_workloads({
      {impl, "W11_tcp_echo", 1'000'000,
       [](std::uint64_t n) {
         Server server;
         return measure_echo(server, kEchoSmallMessage, n);
       }},
      {impl, "W11_tcp_echo_16k", 100'000,
       [](std::uint64_t n) {
         Server server;
         return measure_echo(server, kEchoLargeMessage, n);
       }},
  });
}

}  // namespace bench
