#include "core/io/tls_context.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <utility>

#include "core/error.h"
#include "core/io/detail/openssl_error.h"

namespace weft {

struct TlsContext::State {
  SSL_CTX* ctx = nullptr;
  bool server = false;
  bool verify_peer = true;
  Duration handshake_timeout{0};
  std::string alpn_wire;  // length-prefixed protocols, as ALPN sends them

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { SSL_CTX_free(ctx); }
};

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw Exception(Errc::invalid_argument, "TLS context: " + what + ": " +
                                              detail::take_openssl_errors("unknown OpenSSL error"));
}

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr pem_bio(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw Exception(Errc::no_memory, "TLS context: no memory for a PEM buffer");
  return bio;
}

void trust_pem(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = pem_bio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    int ok = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (ok != 1) fail("ca_pem: adding a certificate");
    ++added;
  }
  detail::clear_openssl_errors();  // the read that ended the loop
  if (added == 0) throw Exception(Errc::invalid_argument, "TLS context: ca_pem holds no PEM certificate");
}

void use_cert_pem(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = pem_bio(pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) fail("cert_pem");
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) fail("cert_pem");
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      fail("cert_pem: chain certificate");
    }
  }
  detail::clear_openssl_errors();
}

void use_key_pem(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = pem_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) fail("key_pem");
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1) fail("key_pem");
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      throw Exception(Errc::invalid_argument, "TLS context: an ALPN protocol must be 1 to 255 bytes");
    }
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

// Server: the first of our protocols that the client offered.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void* arg) {
  const auto* state = static_cast<const TlsContext::State*>(arg);
  const auto* ours = reinterpret_cast<const unsigned char*>(state->alpn_wire.data());
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, ours, static_cast<unsigned>(state->alpn_wire.size()), in,
                            in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<TlsContext::State> make_state(const TlsContextOptions& options, bool server) {
  auto state = std::make_shared<TlsContext::State>();
  detail::clear_openssl_errors();
  state->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (state->ctx == nullptr) fail("SSL_CTX_new");
  SSL_CTX* ctx = state->ctx;
  state->server = server;
  state->verify_peer = options.verify_peer;
  state->handshake_timeout = options.handshake_timeout;
  if (options.handshake_timeout < Duration::zero()) {
    throw Exception(Errc::invalid_argument, "TLS context: handshake_timeout is negative");
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);

  if (!options.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    fail("ca_file " + options.ca_file);
  }
  if (!options.ca_pem.empty()) trust_pem(ctx, options.ca_pem);
  if (!server && options.verify_peer && options.ca_file.empty() && options.ca_pem.empty() &&
      SSL_CTX_set_default_verify_paths(ctx) != 1) {
    fail("the system's trust store");
  }
  if (!options.cert_file.empty() && SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    fail("cert_file " + options.cert_file);
  }
  if (!options.cert_pem.empty()) use_cert_pem(ctx, options.cert_pem);
  if (!options.key_file.empty() &&
      SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("key_file " + options.key_file);
  }
  if (!options.key_pem.empty()) use_key_pem(ctx, options.key_pem);
  const bool has_cert = !options.cert_file.empty() || !options.cert_pem.empty();
  const bool has_key = !options.key_file.empty() || !options.key_pem.empty();
  if (has_cert != has_key) {
    throw Exception(Errc::invalid_argument, "TLS context: a certificate needs its key, and a key its certificate");
  }
  if (server && !has_cert) {
    throw Exception(Errc::invalid_argument, "TLS context: a server needs a certificate and a key");
  }
  if (has_cert && SSL_CTX_check_private_key(ctx) != 1) fail("the key does not match the certificate");

  if (options.verify_peer) {
    SSL_CTX_set_verify(ctx, server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                       nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }

  state->alpn_wire = alpn_wire(options.alpn);
  if (!state->alpn_wire.empty()) {
    if (server) {
      SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, state.get());
    } else if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(state->alpn_wire.data()),
                                       static_cast<unsigned>(state->alpn_wire.size())) != 0) {
      fail("ALPN protocols");
    }
  }
  return state;
}

}  // namespace

TlsContext TlsContext::client(const TlsContextOptions& options) {
  TlsContext context;
  context.state_ = make_state(options, false);
  return context;
}

TlsContext TlsContext::server(const TlsContextOptions& options) {
  TlsContext context;
  context.state_ = make_state(options, true);
  return context;
}

bool TlsContext::is_server() const noexcept { return state_ != nullptr && state_->server; }
bool TlsContext::verifies_peer() const noexcept { return state_ != nullptr && state_->verify_peer; }
Duration TlsContext::handshake_timeout() const noexcept {
  return state_ != nullptr ? state_->handshake_timeout : Duration::zero();
}
ssl_ctx_st* TlsContext::native_handle() const noexcept { return state_ != nullptr ? state_->ctx : nullptr; }

}  // namespace weft
