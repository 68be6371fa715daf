// weft's echo server: every connection gets back what it sends, until the
// peer closes. Written with futures and continuations (coroutine tasks will
// make it a loop of co_awaits).
//
//   bazel run //examples:echo_server -- --port 7000 --host 127.0.0.1
//
// Prints the address it listens on (--port 0 lets the kernel choose), serves
// until SIGINT or SIGTERM, then shuts down gracefully: it stops accepting,
// closes the connections and the loop, and exits 0. A second signal ends it
// at once.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "core/weft.h"

namespace {

class EchoServer {
 public:
  EchoServer(weft::Loop& loop, const weft::SocketAddress& address)
      : loop_(loop), listener_(weft::TcpListener::bind(loop, address)) {}

  weft::SocketAddress address() const { return listener_.local_address(); }

  void start() { accept_next(); }

  // Stops accepting and closes every connection (their pending reads fail
  // with Errc::closed, and the continuations below see that and stop).
  void stop() {
    listener_.close();
    connections_.clear();
  }

 private:
  void accept_next() {
    listener_.accept().then(loop_, [this](weft::Result<weft::TcpStream> accepted) {
      if (!accepted.ok()) {
        if (accepted.error().code() != weft::Errc::closed) {
          std::fprintf(stderr, "accept: %s\n", accepted.error().message().c_str());
          accept_next();  // e.g. out of descriptors: keep serving
        }
        return;
      }
      const std::uint64_t id = next_id_++;
      connections_.emplace(id, std::move(accepted).value());
      echo(id);
      accept_next();
    });
  }

  // Reads what is there, writes it back, and once the kernel has it, reads
  // again: a slow reader slows its own echo down, nothing piles up.
  void echo(std::uint64_t id) {
    connections_.at(id).read_some().then(loop_, [this, id](weft::Result<std::string> data) {
      auto it = connections_.find(id);
      if (it == connections_.end()) return;  // closed by stop()
      if (!data.ok() || data.value().empty()) {
        connections_.erase(it);  // end of stream or error: close
        return;
      }
      it->second.write(std::move(data).value()).then(loop_, [this, id](weft::Result<void> written) {
        if (!written.ok()) {
          connections_.erase(id);
          return;
        }
        echo(id);
      });
    });
  }

  weft::Loop& loop_;
  weft::TcpListener listener_;
  std::map<std::uint64_t, weft::TcpStream> connections_;
  std::uint64_t next_id_ = 0;
};

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--host ADDRESS] [--port PORT]\n", program);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long port = 7000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      char* end = nullptr;
      port = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) usage(argv[0]);
    } else {
      usage(argv[0]);
    }
  }

  weft::Loop loop;
  std::optional<EchoServer> server;
  try {
    server.emplace(loop, weft::SocketAddress::parse(host, static_cast<std::uint16_t>(port)));
  } catch (const weft::Exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  // The graceful shutdown: the first SIGINT/SIGTERM stops the server and the
  // loop; run() then returns.
  weft::ShutdownOnSignals shutdown(loop, [&](int signum) {
    std::printf("shutting down (%s)\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    server->stop();
    loop.stop();
  });
  server->start();
  std::printf("echo server listening on %s\n", server->address().to_string().c_str());
  std::fflush(stdout);
  loop.run();
  // Close the loop while the server still exists: the continuations still
  // queued (the reads that stop() failed) run now, and they use the server.
  loop.close();
  return 0;
}
