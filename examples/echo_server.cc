// weft's echo server: every connection gets back what it sends, until the
// peer closes. Written with coroutine tasks: one task accepts connections
// through the listener's async generator, and each connection gets a task of
// its own, a loop of co_awaits.
//
//   bazel run //examples:echo_server -- --port 7000 --host 127.0.0.1
//
// Prints the address it listens on (--port 0 lets the kernel choose), serves
// until SIGINT or SIGTERM, then shuts down gracefully: it stops accepting,
// cancels the connections' tasks (which closes their connections), closes the
// loop and exits 0. A second signal ends it at once.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "core/weft.h"

using namespace std::chrono_literals;

namespace {

// One connection: read what is there, write it back, and once the kernel has
// it, read again (a slow reader slows its own echo down; nothing piles up).
// The connection closes when the task ends and `conn` goes with its frame.
weft::Task<void> echo(weft::TcpStream conn) {
  try {
    for (;;) {
      std::string data = co_await conn.read_some();
      if (data.empty()) break;  // end of stream
      co_await conn.write(std::move(data));
    }
  } catch (const weft::Cancelled&) {
    throw;  // shutting down
  } catch (const weft::Exception&) {
    // Reset, broken pipe, ...: drop this connection, the others go on.
  }
}

// Accepts until the listener closes, spawning a task per connection.
weft::Task<void> serve(weft::TcpListener& listener) {
  for (;;) {
    auto incoming = listener.connections();
    try {
      while (auto conn = co_await incoming.next()) {
        weft::TaskRef handler = weft::spawn(echo(std::move(*conn)), "connection");
      }
      co_return;  // the listener closed
    } catch (const weft::Cancelled&) {
      throw;
    } catch (const weft::Exception& e) {
      // E.g. out of descriptors (the listener pauses by itself): keep serving
      // with a fresh generator.
      std::fprintf(stderr, "accept: %s\n", e.what());
    }
  }
}

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
  weft::TcpListener listener;
  try {
    listener = weft::TcpListener::bind(loop, weft::SocketAddress::parse(host, static_cast<std::uint16_t>(port)));
  } catch (const weft::Exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  weft::TaskRef server = weft::spawn(loop, serve(listener), "accept-loop");

  // The first SIGINT/SIGTERM stops accepting and stops the loop; run() then
  // returns and shutdown() below does the rest.
  weft::ShutdownOnSignals on_signal(loop, [&](int signum) {
    std::printf("shutting down (%s)\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    listener.close();
    loop.stop();
  });
  std::printf("echo server listening on %s\n", listener.local_address().to_string().c_str());
  std::fflush(stdout);
  loop.run();

  // Cancel every task (each connection's read ends with Cancelled, its frame
  // goes and the connection closes) and wait for them, for at most 2 s.
  weft::ShutdownReport report = loop.shutdown(2s);
  for (const std::string& name : report.stragglers) {
    std::fprintf(stderr, "echo_server: task %s did not finish in time\n", name.c_str());
  }
  loop.close();  // before `listener` goes: the tasks it ends still use it
  return 0;
}
