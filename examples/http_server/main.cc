// weft's HTTP/1.1 example server on coroutine tasks: keep-alive, pipelining,
// chunked request bodies, Content-Length and chunked responses, size limits,
// time-outs and a graceful shutdown. The protocol (http_parser, limits,
// routes) is examples/http/, shared with the C server examples/c/http_server.c;
// docs/http-server.md describes both.
//
//   bazel run //examples/http_server -- --port 8080 --host 127.0.0.1
//   curl -i http://127.0.0.1:8080/            # hello
//   curl -d 'some text' http://127.0.0.1:8080/echo
//   curl -i http://127.0.0.1:8080/chunked
//   ... --tls-cert cert.pem --tls-key key.pem   # HTTPS (curl --cacert cert.pem https://...)
//
// Prints the address it listens on (--port 0 lets the kernel choose). On
// SIGINT or SIGTERM it stops accepting, closes idle connections, finishes
// the requests in progress, and exits 0 (a second signal ends it at once).
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/weft.h"
#include "examples/http_server/http_server.h"

using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--host ADDRESS] [--port PORT] [--idle-timeout-ms MS]\n"
               "          [--drain-timeout-ms MS] [--max-header-bytes N] [--max-body-bytes N]\n"
               "          [--tls-cert PEM --tls-key PEM]\n",
               program);
  std::exit(2);
}

// A whole number in [min, max], or usage().
long long number(const char* program, const char* text, long long min, long long max) {
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) usage(program);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long long port = 8080;
  http_example::ServerOptions options;
  weft::TlsContextOptions tls;
  for (int i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    const char* value = argv[++i];
    if (std::strcmp(flag, "--host") == 0) {
      host = value;
    } else if (std::strcmp(flag, "--port") == 0) {
      port = number(argv[0], value, 0, 65535);
    } else if (std::strcmp(flag, "--idle-timeout-ms") == 0) {
      options.connection.idle_timeout = std::chrono::milliseconds(number(argv[0], value, 1, 86400000));
    } else if (std::strcmp(flag, "--drain-timeout-ms") == 0) {
      options.drain_timeout = std::chrono::milliseconds(number(argv[0], value, 0, 86400000));
    } else if (std::strcmp(flag, "--max-header-bytes") == 0) {
      options.connection.limits.max_head_bytes = static_cast<std::size_t>(number(argv[0], value, 64, 1 << 24));
    } else if (std::strcmp(flag, "--tls-cert") == 0) {
      tls.cert_file = value;
    } else if (std::strcmp(flag, "--tls-key") == 0) {
      tls.key_file = value;
    } else if (std::strcmp(flag, "--max-body-bytes") == 0) {
      options.connection.limits.max_body_bytes = static_cast<std::size_t>(number(argv[0], value, 0, 1 << 30));
    } else {
      usage(argv[0]);
    }
  }

  if (tls.cert_file.empty() != tls.key_file.empty()) usage(argv[0]);
  if (!tls.cert_file.empty()) {
    tls.verify_peer = false;  // no client certificates
    tls.alpn = {"http/1.1"};
    tls.handshake_timeout = options.connection.idle_timeout;
    try {
      options.tls = weft::TlsContext::server(tls);
    } catch (const weft::Exception& e) {
      std::fprintf(stderr, "http_server: TLS: %s\n", e.what());
      return 1;
    }
  }

  weft::Loop loop;
  weft::TcpListener listener;
  try {
    listener = weft::TcpListener::bind(loop, weft::SocketAddress::parse(host, static_cast<std::uint16_t>(port)));
  } catch (const weft::Exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    return 1;
  }
  http_example::HttpServer server(loop, std::move(listener), options);
  weft::TaskRef accept_loop = weft::spawn(loop, server.serve(), "http-accept");

  weft::ShutdownOnSignals on_signal(loop, [&](int signum) {
    server.shutdown();  // closes the listener first: once this is printed, connecting fails
    std::printf("shutting down (%s)\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
  });
  std::printf("http server listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  loop.run();

  // The server stopped the loop once every connection had ended; anything
  // left (there should be nothing) is cancelled here, for at most 1 s.
  weft::ShutdownReport report = loop.shutdown(1s);
  for (const std::string& name : report.stragglers) {
    std::fprintf(stderr, "http_server: task %s did not finish in time\n", name.c_str());
  }
  loop.close();
  return 0;
}
