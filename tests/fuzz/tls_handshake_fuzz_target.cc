// A fuzz target for the TLS handshake (core/io/tls_stream.h): the bytes of
// an input are what a peer sends to weft's TLS server or client, through a
// socket pair in this process, the loop run between chunks so that the
// handshake sees them arrive in pieces. Runs on the fuzzer's thread (the
// loop's thread); one loop and the two contexts are kept across inputs.
//
// Input: byte 0 chooses the side (even: weft accepts, odd: weft connects),
// then chunks, each a length byte and that many bytes (a short last chunk
// takes what is left). After the last chunk the peer's end closes.
//
// Invariants (a violation aborts): the handshake's future completes exactly
// once and within the bound (never hangs), with a TLS failure, end of
// stream or a timeout; never with a stream (nothing here can complete a real
// handshake); and after the loop settles, every TLS object is gone (ASan's
// leak check sees the rest).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/pipe_stream.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "core/loop/loop.h"
#include "tests/tls_certs/test_pki.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "TLS handshake fuzz target: invariant violated: %s\n", what);
  std::abort();
}

struct Fixture {
  weft::Loop loop;
  weft::TlsContext server;
  weft::TlsContext client;

  Fixture() {
    test_pki pki;
    if (test_pki_make(&pki, "weft fuzz CA", "localhost", "127.0.0.1") != 0) violated("no test PKI");
    weft::TlsContextOptions s;
    s.verify_peer = false;
    s.cert_pem = pki.server_cert;
    s.key_pem = pki.server_key;
    s.alpn = {"h2", "http/1.1"};
    s.handshake_timeout = std::chrono::seconds(2);
    server = weft::TlsContext::server(s);
    weft::TlsContextOptions c;
    c.ca_pem = pki.ca_cert;
    c.alpn = {"http/1.1"};
    c.handshake_timeout = std::chrono::seconds(2);
    client = weft::TlsContext::client(c);
    test_pki_free(&pki);
  }
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // lives for the process
  return *f;
}

// Runs the loop without waiting a few times (lets socket I/O happen).
void settle(weft::Loop& loop, int passes) {
  for (int i = 0; i < passes; ++i) loop.poll();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& f = fixture();
  weft::Loop& loop = f.loop;
  const bool weft_is_server = data[0] % 2 == 0;
  auto [ours, peer] = weft::PipeStream::pair(loop);
  weft::Future<weft::TlsStream> handshake =
      weft_is_server ? weft::TlsStream::accept(std::move(ours), f.server)
                     : weft::TlsStream::connect(std::move(ours), f.client, {"localhost"});
  int outcomes = 0;
  weft::Result<weft::TlsStream> outcome{weft::Error(weft::Errc::unknown)};
  std::move(handshake).then(loop, [&](weft::Result<weft::TlsStream> r) {
    ++outcomes;
    outcome = std::move(r);
  });

  std::size_t at = 1;
  while (at < size && outcomes == 0) {
    std::size_t n = data[at++];
    if (n > size - at) n = size - at;
    if (n > 0) (void)peer.write(std::string(reinterpret_cast<const char*>(data + at), n));
    at += n;
    settle(loop, 3);
  }
  peer.close();
  // The handshake must end: at once on the peer's close, at the latest by
  // the contexts' 2 s timeout. Bounded here at 5 s of loop time.
  const auto deadline = loop.time() + std::chrono::seconds(5);
  while (outcomes == 0 && loop.time() < deadline) loop.run_once();
  if (outcomes != 1) violated("the handshake did not end");
  if (outcome.ok()) violated("garbage completed a handshake");
  const weft::Errc code = outcome.error().code();
  if (code != weft::Errc::tls_handshake_failed && code != weft::Errc::tls_certificate_untrusted &&
      code != weft::Errc::tls_host_mismatch && code != weft::Errc::timed_out) {
    std::fprintf(stderr, "unexpected failure: %s\n", outcome.error().message().c_str());
    violated("a failure of an unexpected kind");
  }
  settle(loop, 3);
  return 0;
}
