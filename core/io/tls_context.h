// weft::TlsContext: TLS settings shared by many connections — the role
// (client or server), the certificates to trust, this side's certificate and
// key, ALPN protocols, the handshake timeout. One OpenSSL SSL_CTX behind it.
//
//   weft::TlsContextOptions options;
//   options.ca_file = "ca.pem";                 // else the system's trust store
//   options.alpn = {"h2", "http/1.1"};
//   weft::TlsContext client = weft::TlsContext::client(options);
//
// A TlsContext is a cheap, copyable reference (shared_ptr); connections made
// with it keep it alive. Creating one reads the files at once and throws
// weft::Exception(Errc::invalid_argument) with OpenSSL's reason when a file
// cannot be read or a certificate does not match its key.
//
// Threads: a context is immutable once made; copies may be used on any thread
// and by several loops at once (OpenSSL's SSL_CTX is thread-safe for this).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock/clock.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace weft {

struct TlsContextOptions {
  // Client: verify the server's certificate chain (and, per connection, its
  // host name). Server: ask for a client certificate and require that it
  // verify against the trusted CAs.
  bool verify_peer = true;
  // Trusted CAs, as a PEM file and/or PEM text. With neither, a client trusts
  // the system's store (OpenSSL's default paths).
  std::string ca_file;
  std::string ca_pem;
  // This side's certificate chain (leaf first) and private key, as PEM files
  // or PEM text. Required for a server.
  std::string cert_file;
  std::string key_file;
  std::string cert_pem;
  std::string key_pem;
  // ALPN protocols, most preferred first (each 1..255 bytes). A client offers
  // them; a server picks the first of its own that the client offered (none
  // in common: the handshake goes on without ALPN).
  std::vector<std::string> alpn;
  // The handshake fails with Errc::timed_out after this long (loop clock);
  // zero: no limit.
  Duration handshake_timeout = std::chrono::seconds(60);
};

class TlsContext {
 public:
  // An empty context: connecting or accepting with it fails (invalid_argument).
  TlsContext() noexcept = default;

  static TlsContext client(const TlsContextOptions& options = {});
  static TlsContext server(const TlsContextOptions& options);

  bool empty() const noexcept { return state_ == nullptr; }
  bool is_server() const noexcept;
  bool verifies_peer() const noexcept;
  Duration handshake_timeout() const noexcept;
  // The OpenSSL context, for settings weft does not offer. Changing it while
  // connections use it is the caller's risk (OpenSSL's rules apply).
  ssl_ctx_st* native_handle() const noexcept;

  // What a context holds (tls_context.cc); not for use outside weft.
  struct State;

 private:
  std::shared_ptr<const State> state_;
};

}  // namespace weft
