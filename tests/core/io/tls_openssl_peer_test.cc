// weft::TlsStream against real OpenSSL peers: the `openssl s_server`
// command (weft is the client) and `openssl s_client` (weft is the server),
// each started by the test on 127.0.0.1 with a port the kernel chose,
// bounded in time and stopped by the test. Covers verification, ALPN and
// SNI across implementations, close_notify both ways, and a peer killed
// mid-connection (truncation is an error, not end of stream).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"
#include "tests/tls_certs/test_pki.h"

extern char** environ;

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;

namespace {

// A child process (the openssl command), stdin and stdout redirected to
// files; killed and reaped at the latest by the destructor.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& stdin_path, const std::string& stdout_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The child must not inherit a sanitizer runtime's preload.
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("LD_PRELOAD=", 0) != 0) env_text.emplace_back(*e);
    }
    std::vector<char*> env;
    for (std::string& e : env_text) env.push_back(e.data());
    env.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~Child() { kill_now(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void kill_now(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    (void)wait_exit(5s);
  }
  // The exit status, or -1 if it did not end within `limit` (then killed).
  int wait_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Files {
  weft_test::TempDir dir;
  test_pki pki{};
  Files() {
    REQUIRE(test_pki_make(&pki, "weft test CA", "localhost", "127.0.0.1") == 0);
    REQUIRE(test_pki_write_file((dir / "ca.pem").c_str(), pki.ca_cert) == 0);
    REQUIRE(test_pki_write_file((dir / "server.pem").c_str(), pki.server_cert) == 0);
    REQUIRE(test_pki_write_file((dir / "server.key").c_str(), pki.server_key) == 0);
    REQUIRE(test_pki_write_file((dir / "empty").c_str(), "") == 0);
  }
  ~Files() { test_pki_free(&pki); }
};

// A port the kernel hands out on 127.0.0.1 now (free once this returns).
std::uint16_t free_port(weft::Loop& loop) {
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  std::uint16_t port = listener.local_address().port();
  listener.close();
  get(loop, listener.wait_closed());
  return port;
}

// Connects to 127.0.0.1:port, retrying while the server starts (5 s at most).
weft::TcpStream connect_when_listening(weft::Loop& loop, std::uint16_t port) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto r = await(loop, weft::TcpStream::connect(loop, weft::SocketAddress::loopback_v4(port)));
    if (r.ok()) return std::move(r).value();
    weft_test::run_for_a_while(loop, 50ms);
  }
  FAIL("the openssl server did not listen within 5 s");
  return {};
}

}  // namespace

TEST_CASE("weft's TLS client talks to openssl s_server", "[tls][openssl]") {
  weft::Loop loop;
  Files files;
  const std::uint16_t port = free_port(loop);
  // -rev: an echo server that sends each line back reversed; -www: answers
  // "GET /" with a status page, then sends close_notify.
  auto start_server = [&](const char* mode) {
    return std::make_unique<Child>(
        std::vector<std::string>{"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                                 files.dir / "server.pem", "-key", files.dir / "server.key", "-alpn",
                                 "h2,http/1.1", mode, "-naccept", "1"},
        files.dir / "empty", files.dir / "server.log");
  };
  weft::TlsContextOptions options;
  options.ca_file = files.dir / "ca.pem";
  options.alpn = {"http/1.1"};
  auto context = weft::TlsContext::client(options);

  SECTION("a round trip, ALPN and verification") {
    auto server = start_server("-rev");
    auto tls = get(loop, weft::TlsStream::connect(connect_when_listening(loop, port), context, {"localhost"}));
    REQUIRE(tls.peer_verified());
    REQUIRE(tls.alpn_protocol() == "http/1.1");
    REQUIRE(tls.server_name() == "localhost");
    for (int i = 0; i < 20; ++i) {
      get(loop, tls.write("hello weft " + std::to_string(i) + "\n"));
      std::string reversed = "hello weft " + std::to_string(i);
      std::reverse(reversed.begin(), reversed.end());
      REQUIRE(get(loop, tls.read_until("\n"), 10s) == reversed + "\n");
    }
    get(loop, tls.shutdown());
  }
  SECTION("the peer's close_notify is a clean end of stream") {
    auto server = start_server("-www");
    auto tls = get(loop, weft::TlsStream::connect(connect_when_listening(loop, port), context, {"localhost"}));
    get(loop, tls.write("GET / HTTP/1.0\r\n\r\n"));
    std::string page = weft_test::read_all(loop, tls);  // fails on a truncation
    INFO(page);
    REQUIRE(page.rfind("HTTP/1.0 200 ok", 0) == 0);
    REQUIRE(page.find("</HTML>") != std::string::npos);
  }
  SECTION("a peer killed mid-connection is a truncation error, not end of stream") {
    auto server = start_server("-rev");
    auto tls = get(loop, weft::TlsStream::connect(connect_when_listening(loop, port), context, {"localhost"}));
    get(loop, tls.write("abc\n"));
    REQUIRE(get(loop, tls.read_until("\n"), 10s) == "cba\n");
    server->kill_now(SIGKILL);
    auto r = await(loop, tls.read_some(), 10s);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    REQUIRE(r.error().code() == weft::Errc::tls_protocol_error);
    REQUIRE(r.error().message().find("close_notify") != std::string::npos);
  }
  SECTION("a name the certificate is not for") {
    auto server = start_server("-rev");
    auto r = await(loop, weft::TlsStream::connect(connect_when_listening(loop, port), context, {"weft.invalid"}));
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().code() == weft::Errc::tls_host_mismatch);
  }
}

TEST_CASE("openssl s_client talks to weft's TLS server", "[tls][openssl]") {
  weft::Loop loop;
  Files files;
  REQUIRE(test_pki_write_file((files.dir / "input").c_str(), "ping\n") == 0);
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  const std::uint16_t port = listener.local_address().port();
  weft::TlsContextOptions options;
  options.verify_peer = false;
  options.cert_pem = files.pki.server_cert;
  options.key_pem = files.pki.server_key;
  options.alpn = {"h2", "http/1.1"};
  auto context = weft::TlsContext::server(options);

  auto accepted = listener.accept();
  Child client({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-CAfile",
                files.dir / "ca.pem", "-servername", "localhost", "-alpn", "h2", "-verify_return_error",
                "-quiet"},
               files.dir / "input", files.dir / "client.log");
  auto tls = get(loop, weft::TlsStream::accept(get(loop, std::move(accepted), 10s), context), 10s);
  REQUIRE(tls.server_name() == "localhost");
  REQUIRE(tls.alpn_protocol() == "h2");
  REQUIRE(get(loop, tls.read_until("\n"), 10s) == "ping\n");
  get(loop, tls.write("pong\n"));
  get(loop, tls.shutdown());  // close_notify, then FIN: s_client ends cleanly
  const int status = client.wait_exit(10s);
  const std::string output = read_file(files.dir / "client.log");
  INFO(output);
  REQUIRE(status == 0);
  REQUIRE(output.find("pong") != std::string::npos);
  REQUIRE(output.find("verify return:1") != std::string::npos);
}
