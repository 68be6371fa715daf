// Helpers for the TLS tests of tests/core/io: a CA and a server certificate
// made at test time (tests/tls_certs), contexts from them, and a TLS
// connection over loopback TCP with both ends weft. Loop thread.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "core/io/io.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"
#include "tests/tls_certs/test_pki.h"

namespace weft_test {

// A CA and a server certificate for localhost and 127.0.0.1.
struct Pki {
  test_pki pki{};
  explicit Pki(const char* ca_name = "weft test CA") {
    REQUIRE(test_pki_make(&pki, ca_name, "localhost", "127.0.0.1") == 0);
  }
  ~Pki() { test_pki_free(&pki); }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

  weft::TlsContext server(weft::TlsContextOptions options = {}) const {
    options.verify_peer = false;
    options.cert_pem = pki.server_cert;
    options.key_pem = pki.server_key;
    return weft::TlsContext::server(options);
  }
  weft::TlsContext client(weft::TlsContextOptions options = {}) const {
    options.ca_pem = pki.ca_cert;
    return weft::TlsContext::client(options);
  }
};

struct TlsPair {
  weft::TlsStream client;
  weft::TlsStream server;
};

// Both handshakes over `transport` (client end, server end).
inline TlsPair tls_handshake(weft::Loop& loop, weft::Stream&& client_end, weft::Stream&& server_end,
                             const weft::TlsContext& client_ctx, const weft::TlsContext& server_ctx,
                             std::string server_name = "localhost") {
  auto accepted = weft::TlsStream::accept(std::move(server_end), server_ctx);
  auto client = get(loop, weft::TlsStream::connect(std::move(client_end), client_ctx, {server_name}));
  auto server = get(loop, std::move(accepted));
  return {std::move(client), std::move(server)};
}

// Handshakes over a fresh loopback TCP connection.
inline TlsPair tls_pair(weft::Loop& loop, weft::TcpListener& listener, const weft::TlsContext& client_ctx,
                        const weft::TlsContext& server_ctx, std::string server_name = "localhost") {
  Pair tcp = connected_pair(loop, listener);
  return tls_handshake(loop, std::move(tcp.client), std::move(tcp.server), client_ctx, server_ctx,
                       std::move(server_name));
}

}  // namespace weft_test
