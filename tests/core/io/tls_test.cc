// weft::TlsStream over loopback TCP, both ends weft: round trips and every
// kind of read, ALPN, SNI, peer verification, close_notify, handshake
// failures (wrong host, untrusted CA, plain-text peer, peer vanishing, the
// handshake timeout, cancellation) and 16 MiB through a slow reader with
// bounded memory. Certificates are made at test time (tests/tls_certs).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "tests/core/io/io_test_util.h"
#include "tests/core/io/tls_test_util.h"
#include "tests/tls_certs/test_pki.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;
using weft_test::Pki;
using weft_test::tls_pair;
using weft_test::TlsPair;

namespace {

struct Outcomes {
  weft::Result<weft::TlsStream> client;
  weft::Result<weft::TlsStream> server;
};

Outcomes handshake_both(weft::Loop& loop, weft::TcpListener& listener, const weft::TlsContext& client_ctx,
                        const weft::TlsContext& server_ctx, std::string server_name) {
  weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
  auto accepted = weft::TlsStream::accept(std::move(tcp.server), server_ctx);
  auto client = await(loop, weft::TlsStream::connect(std::move(tcp.client), client_ctx, {server_name}));
  auto server = await(loop, std::move(accepted));
  return {std::move(client), std::move(server)};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a TLS round trip carries bytes both ways with every kind of read", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair pair = tls_pair(loop, listener, pki.client(), pki.server());

  REQUIRE(pair.client.peer_verified());
  REQUIRE_FALSE(pair.server.peer_verified());  // no client certificate asked for
  REQUIRE(pair.client.protocol_version() == "TLSv1.3");
  REQUIRE_FALSE(pair.client.cipher().empty());

  get(loop, pair.client.write("hello, server\nline two\n12345"));
  REQUIRE(get(loop, pair.server.read_until("\n")) == "hello, server\n");
  REQUIRE(get(loop, pair.server.read_until("\n")) == "line two\n");
  REQUIRE(get(loop, pair.server.read_exactly(5)) == "12345");
  for (int i = 0; i < 50; ++i) {
    std::string message = "message " + std::to_string(i);
    get(loop, pair.server.write(message));
    REQUIRE(get(loop, pair.client.read_exactly(message.size())) == message);
  }
  // A read waits for bytes that are not there yet.
  auto pending = pair.client.read_some();
  weft_test::run_for_a_while(loop, 20ms);
  REQUIRE_FALSE(pending.ready());
  get(loop, pair.server.write(std::string("late")));
  REQUIRE(get(loop, std::move(pending)) == "late");
  // A second read while one is pending is refused.
  auto first = pair.client.read_some();
  auto second = await(loop, pair.client.read_some());
  REQUIRE_FALSE(second.ok());
  REQUIRE(second.error().code() == weft::Errc::invalid_state);
  first.cancel();

  pair.client.close();
  pair.server.close();
  get(loop, pair.client.wait_closed());
  get(loop, pair.server.wait_closed());
  listener.close();
  loop.close();
}

TEST_CASE("ALPN: the server picks its first protocol the client offers", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft::TlsContextOptions client_options;
  client_options.alpn = {"http/1.1", "h2"};
  weft::TlsContextOptions server_options;
  server_options.alpn = {"h2", "http/1.1"};
  TlsPair pair = tls_pair(loop, listener, pki.client(client_options), pki.server(server_options));
  REQUIRE(pair.client.alpn_protocol() == "h2");
  REQUIRE(pair.server.alpn_protocol() == "h2");

  // Nothing in common: no protocol, the handshake still succeeds.
  weft::TlsContextOptions other;
  other.alpn = {"spdy/3"};
  TlsPair none = tls_pair(loop, listener, pki.client(other), pki.server(server_options));
  REQUIRE(none.client.alpn_protocol().empty());
  REQUIRE(none.server.alpn_protocol().empty());

  // Without ALPN on either side.
  TlsPair plain = tls_pair(loop, listener, pki.client(), pki.server());
  REQUIRE(plain.client.alpn_protocol().empty());

  weft::TlsContextOptions bad;
  bad.alpn = {""};
  REQUIRE_THROWS_AS(pki.client(bad), weft::Exception);
}

TEST_CASE("SNI: the server sees the name the client sent; none for an IP address", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair named = tls_pair(loop, listener, pki.client(), pki.server(), "localhost");
  REQUIRE(named.server.server_name() == "localhost");
  REQUIRE(named.client.server_name() == "localhost");

  // 127.0.0.1 is in the certificate as an IP address: verified, but no SNI.
  TlsPair by_ip = tls_pair(loop, listener, pki.client(), pki.server(), "127.0.0.1");
  REQUIRE(by_ip.client.peer_verified());
  REQUIRE(by_ip.server.server_name().empty());
}

TEST_CASE("a client certificate is required and verified when the server asks", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft::TlsContextOptions server_options;
  server_options.verify_peer = true;
  server_options.ca_pem = pki.pki.ca_cert;
  server_options.cert_pem = pki.pki.server_cert;
  server_options.key_pem = pki.pki.server_key;
  auto server_ctx = weft::TlsContext::server(server_options);
  weft::TlsContextOptions client_options;
  client_options.cert_pem = pki.pki.server_cert;  // also good for clientAuth
  client_options.key_pem = pki.pki.server_key;
  TlsPair pair = tls_pair(loop, listener, pki.client(client_options), server_ctx);
  get(loop, pair.client.write("x"));
  REQUIRE(get(loop, pair.server.read_some()) == "x");
  REQUIRE(pair.server.peer_verified());

  // Without a certificate the server refuses (in TLS 1.3 the client learns it
  // on its first read).
  Outcomes refused = handshake_both(loop, listener, pki.client(), server_ctx, "localhost");
  REQUIRE_FALSE(refused.server.ok());
  REQUIRE(refused.server.error().code() == weft::Errc::tls_handshake_failed);
  if (refused.client.ok()) {
    auto r = await(loop, refused.client.value().read_some());
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().code() == weft::Errc::tls_protocol_error);
  }
}

TEST_CASE("a certificate for another host name fails with tls_host_mismatch", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  Outcomes o = handshake_both(loop, listener, pki.client(), pki.server(), "example.com");
  REQUIRE_FALSE(o.client.ok());
  INFO(o.client.error().message());
  REQUIRE(o.client.error().code() == weft::Errc::tls_host_mismatch);
  REQUIRE(contains(o.client.error().message(), "example.com"));
  REQUIRE(contains(o.client.error().message(), "mismatch"));
  REQUIRE_FALSE(o.server.ok());  // the client's alert
  REQUIRE(o.server.error().code() == weft::Errc::tls_handshake_failed);

  Outcomes ip = handshake_both(loop, listener, pki.client(), pki.server(), "127.0.0.2");
  REQUIRE_FALSE(ip.client.ok());
  REQUIRE(ip.client.error().code() == weft::Errc::tls_host_mismatch);

  // With verification off, the name does not matter (and nothing is verified).
  weft::TlsContextOptions lax;
  lax.verify_peer = false;
  TlsPair pair = tls_pair(loop, listener, weft::TlsContext::client(lax), pki.server(), "example.com");
  REQUIRE_FALSE(pair.client.peer_verified());
}

TEST_CASE("a certificate from an unknown CA fails with tls_certificate_untrusted", "[tls]") {
  weft::Loop loop;
  Pki pki;
  Pki other("another CA");
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  Outcomes o = handshake_both(loop, listener, other.client(), pki.server(), "localhost");
  REQUIRE_FALSE(o.client.ok());
  INFO(o.client.error().message());
  REQUIRE(o.client.error().code() == weft::Errc::tls_certificate_untrusted);
  REQUIRE(contains(o.client.error().message(), "certificate verify failed"));
  REQUIRE_FALSE(o.server.ok());
  REQUIRE(contains(o.server.error().message(), "unknown ca"));

  // The system store does not know the test CA either.
  Outcomes system = handshake_both(loop, listener, weft::TlsContext::client(), pki.server(), "localhost");
  REQUIRE_FALSE(system.client.ok());
  REQUIRE(system.client.error().code() == weft::Errc::tls_certificate_untrusted);
}

TEST_CASE("a plain-text peer fails the handshake on either side", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  {  // A TLS client talking to a plain-text server.
    weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
    auto client = weft::TlsStream::connect(std::move(tcp.client), pki.client(), {"localhost"});
    get(loop, tcp.server.read_some());  // the ClientHello
    get(loop, tcp.server.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    auto r = await(loop, std::move(client));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    REQUIRE(r.error().code() == weft::Errc::tls_handshake_failed);
    REQUIRE(contains(r.error().message(), "wrong version number"));
  }
  {  // A TLS server talked to in plain text.
    weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
    auto server = weft::TlsStream::accept(std::move(tcp.server), pki.server());
    get(loop, tcp.client.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto r = await(loop, std::move(server));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    REQUIRE(r.error().code() == weft::Errc::tls_handshake_failed);
    REQUIRE(contains(r.error().message(), "http request"));
    // The server closed the connection.
    REQUIRE(weft_test::read_all(loop, tcp.client).size() < 100);  // at most an alert
  }
}

TEST_CASE("a peer that vanishes mid-handshake fails it at once", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  SECTION("closing") {
    weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
    auto client = weft::TlsStream::connect(std::move(tcp.client), pki.client(), {"localhost"});
    get(loop, tcp.server.read_some());
    tcp.server.close();
    auto r = await(loop, std::move(client), 5s);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().code() == weft::Errc::tls_handshake_failed);
    REQUIRE(contains(r.error().message(), "closed the connection"));
  }
  SECTION("resetting") {
    weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
    auto server = weft::TlsStream::accept(std::move(tcp.server), pki.server());
    get(loop, tcp.client.write(std::string("\x16\x03\x01\x02\x00", 5)));  // the start of a ClientHello
    weft_test::run_for_a_while(loop, 10ms);
    tcp.client.abort();
    auto r = await(loop, std::move(server), 5s);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    REQUIRE(r.error().code() == weft::Errc::tls_handshake_failed);
  }
}

TEST_CASE("the handshake times out against a silent peer", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
  weft::TlsContextOptions options;
  options.handshake_timeout = 150ms;
  auto start = std::chrono::steady_clock::now();
  auto r = await(loop, weft::TlsStream::connect(std::move(tcp.client), pki.client(options), {"localhost"}), 5s);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().code() == weft::Errc::timed_out);
  REQUIRE(contains(r.error().message(), "150 ms"));
  REQUIRE(std::chrono::steady_clock::now() - start >= 150ms);
  // The transport was closed: the silent peer sees the end.
  get(loop, tcp.server.read_some());  // the ClientHello
  REQUIRE(get(loop, tcp.server.read_some()).empty());
}

TEST_CASE("cancelling the handshake closes the transport", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
  auto server = weft::TlsStream::accept(std::move(tcp.server), pki.server());
  weft_test::run_for_a_while(loop, 10ms);
  REQUIRE(server.cancel());
  auto r = await(loop, std::move(server));
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().is_cancelled());
  REQUIRE(weft_test::read_all(loop, tcp.client).empty());  // closed without a word

  // A client cancelled while waiting for the ServerHello.
  weft_test::Pair tcp2 = weft_test::connected_pair(loop, listener);
  auto client = weft::TlsStream::connect(std::move(tcp2.client), pki.client(), {"localhost"});
  get(loop, tcp2.server.read_some());
  REQUIRE(client.cancel());
  REQUIRE(get(loop, tcp2.server.read_some()).empty());
}

TEST_CASE("bad arguments are refused before anything starts", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
  auto wrong_role = await(loop, weft::TlsStream::connect(std::move(tcp.client), pki.server(), {"localhost"}));
  REQUIRE(wrong_role.error().code() == weft::Errc::invalid_argument);
  auto empty = await(loop, weft::TlsStream::accept(std::move(tcp.server), weft::TlsContext()));
  REQUIRE(empty.error().code() == weft::Errc::invalid_argument);
  // Neither took its transport: the plain connection still carries bytes.
  REQUIRE(tcp.client.is_open());
  REQUIRE(tcp.server.is_open());
  get(loop, tcp.client.write("still plain"));
  REQUIRE(get(loop, tcp.server.read_exactly(11)) == "still plain");
  auto closed = await(loop, weft::TlsStream::connect(weft::TcpStream(), pki.client()));
  REQUIRE(closed.error().code() == weft::Errc::closed);

  weft::TlsContextOptions no_cert;
  REQUIRE_THROWS_AS(weft::TlsContext::server(no_cert), weft::Exception);
  weft::TlsContextOptions missing;
  missing.ca_file = "/nonexistent/ca.pem";
  try {
    (void)weft::TlsContext::client(missing);
    FAIL("a missing CA file was accepted");
  } catch (const weft::Exception& e) {
    REQUIRE(e.code() == weft::Errc::invalid_argument);
    REQUIRE(contains(e.error().message(), "/nonexistent/ca.pem"));
  }
  weft::TlsContextOptions mismatched;
  Pki other("another CA");
  mismatched.cert_pem = pki.pki.server_cert;
  mismatched.key_pem = other.pki.server_key;
  REQUIRE_THROWS_AS(weft::TlsContext::server(mismatched), weft::Exception);
  weft::TlsContextOptions garbage;
  garbage.ca_pem = "not a certificate";
  REQUIRE_THROWS_AS(weft::TlsContext::client(garbage), weft::Exception);
}

TEST_CASE("close_notify: shutdown() is a clean end of stream for the peer; a cut is not", "[tls]") {
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair pair = tls_pair(loop, listener, pki.client(), pki.server());
  get(loop, pair.server.write("last words"));
  get(loop, pair.server.shutdown());
  REQUIRE(weft_test::read_all(loop, pair.client) == "last words");
  auto again = await(loop, pair.server.write("more"));
  REQUIRE(again.error().code() == weft::Errc::invalid_state);
  // Half-close: the client may still answer.
  get(loop, pair.client.write("reply"));
  REQUIRE(get(loop, pair.server.read_exactly(5)) == "reply");
  get(loop, pair.client.shutdown());
  REQUIRE(get(loop, pair.server.read_some()).empty());

  // close() sends close_notify too: a clean end for the peer.
  TlsPair closing = tls_pair(loop, listener, pki.client(), pki.server());
  get(loop, closing.server.write("bye"));
  closing.server.close();
  REQUIRE(weft_test::read_all(loop, closing.client) == "bye");
}

TEST_CASE("16 MiB through a slow TLS reader keep both ends' buffers bounded", "[tls][backpressure]") {
  constexpr std::size_t kTotal = std::size_t{16} << 20;
  constexpr std::size_t kChunk = 64 * 1024;
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair pair = tls_pair(loop, listener, pki.client(), pki.server());
  weft::TlsStream& writer = pair.server;
  weft::TlsStream& reader = pair.client;

  std::size_t received = 0;
  std::size_t max_read_buffered = 0;
  bool corrupt = false;
  auto done = weft::make_promise<void>();
  std::function<void()> read_next = [&] {
    reader.read_some(16 * 1024).then(loop, [&](weft::Result<std::string> r) {
      if (!r.ok() || r.value().empty()) {
        done.first.set_error(r.ok() ? weft::Error(weft::Errc::end_of_file) : r.error());
        return;
      }
      for (std::size_t i = 0; i < r.value().size(); i += 1024) {
        if (r.value()[i] != static_cast<char>(((received + i) / kChunk) % 251)) corrupt = true;
      }
      received += r.value().size();
      max_read_buffered = std::max(max_read_buffered, reader.read_buffered());
      if (received == kTotal) {
        done.first.set_value();
      } else if (received % (256 * 1024) < 16 * 1024) {
        loop.call_later(2ms, read_next);  // slower than the writer
      } else {
        read_next();
      }
    });
  };
  read_next();

  std::size_t sent = 0;
  std::size_t index = 0;
  std::size_t max_write_buffered = 0;
  std::size_t writes_that_waited = 0;
  std::function<void()> write_next = [&] {
    auto write = writer.write(std::string(kChunk, static_cast<char>(index++ % 251)));
    max_write_buffered = std::max(max_write_buffered, writer.write_buffered());
    if (!write.ready()) ++writes_that_waited;
    std::move(write).then(loop, [&](weft::Result<void> r) {
      REQUIRE(r.ok());
      sent += kChunk;
      if (sent < kTotal) write_next();
    });
  };
  write_next();
  get(loop, std::move(done.second), 120s);
  REQUIRE(received == kTotal);
  REQUIRE_FALSE(corrupt);
  REQUIRE(writes_that_waited > 0);
  // One write's records (64 KiB and the TLS overhead) at most.
  REQUIRE(max_write_buffered <= kChunk + 1024);
  REQUIRE(max_read_buffered <= weft::StreamLimits{}.read_high_water + 16 * 1024);
}

TEST_CASE("a pipelining TLS writer that awaits drain() stays under the high-water mark", "[tls][backpressure]") {
  constexpr std::size_t kTotal = std::size_t{16} << 20;
  constexpr std::size_t kChunk = 64 * 1024;
  weft::Loop loop;
  Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair pair = tls_pair(loop, listener, pki.client(), pki.server());
  weft::StreamLimits limits;
  limits.write_high_water = 512 * 1024;
  limits.write_low_water = 128 * 1024;
  pair.client.set_limits(limits);

  std::size_t received = 0;
  std::function<void()> read_next = [&] {
    pair.server.read_some().then(loop, [&](weft::Result<std::string> r) {
      if (!r.ok() || r.value().empty()) return;
      received += r.value().size();
      if (received % (1 << 20) < 64 * 1024) {
        loop.call_later(3ms, read_next);
      } else {
        read_next();
      }
    });
  };
  read_next();

  std::size_t queued = 0;
  std::size_t max_buffered = 0;
  std::size_t drains_waited = 0;
  bool failed = false;
  auto done = weft::make_promise<void>();
  std::function<void()> fill = [&] {
    while (queued < kTotal && pair.client.write_buffered() <= limits.write_high_water) {
      pair.client.write(std::string(kChunk, 'z')).then(loop, [&](weft::Result<void> r) {
        if (!r.ok()) failed = true;
      });
      queued += kChunk;
      max_buffered = std::max(max_buffered, pair.client.write_buffered());
    }
    if (queued == kTotal) {
      done.first.set_value();
      return;
    }
    auto drained = pair.client.drain();
    if (!drained.ready()) ++drains_waited;
    std::move(drained).then(loop, [&](weft::Result<void> r) {
      REQUIRE(r.ok());
      fill();
    });
  };
  fill();
  get(loop, std::move(done.second), 120s);
  // The reader catches up (bounded: 60 s).
  for (int i = 0; i < 12000 && received < kTotal; ++i) weft_test::run_for_a_while(loop, 5ms);
  REQUIRE(received == kTotal);
  REQUIRE_FALSE(failed);
  REQUIRE(drains_waited > 0);
  REQUIRE(max_buffered <= limits.write_high_water + kChunk + 1024);
}
