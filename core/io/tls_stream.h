// weft::TlsStream: TLS over another weft::Stream (a TcpStream, usually), on
// OpenSSL. A TlsStream is a weft::Stream: read_some, read_exactly, read_until,
// write, drain, shutdown, close and wait_closed mean what stream.h says, for
// the decrypted bytes.
//
//   auto tls = co_await weft::TlsStream::connect(std::move(tcp), client_context,
//                                                {.server_name = "example.com"});
//   co_await tls.write("GET / HTTP/1.1\r\n...");
//   std::string reply = co_await tls.read_some();
//
// Handshake. connect() (client) and accept() (server) take the transport
// stream over and complete with the TlsStream once the handshake is done, or
// fail (the transport is then closed):
// - Errc::tls_certificate_untrusted: the peer's certificate chain does not
//   verify against the trusted CAs (expired, self-signed, unknown issuer...);
// - Errc::tls_host_mismatch: it verifies, but is not for server_name;
// - Errc::tls_handshake_failed: anything else (no protocol in common, a
//   plain-text or garbled peer, the peer's alert, the peer closing the
//   connection during the handshake);
// - Errc::timed_out: the context's handshake_timeout passed.
// Messages carry OpenSSL's reason text. A call that throws (std::bad_alloc),
// or whose future is failed at once because the handshake could not begin
// (a closed transport, a context of the wrong role, an unusable
// server_name), has not taken the transport: it is the caller's as it was.
// Cancelling the future abandons the handshake and closes the transport. Bytes the transport had already read
// ahead are the first the handshake sees (so TLS may start mid-stream).
//
// After the handshake:
// - Reading: the peer's close_notify shows as end of stream (read_some()
//   returns ""); the transport ending without one fails reads with
//   Errc::tls_protocol_error ("truncated"), as does a corrupt record.
// - Writing: write() encrypts at once and hands the records to the
//   transport; its future completes when the transport's write does, so
//   write_buffered() and drain() are the transport's (encrypted bytes) and
//   backpressure works as on TCP. set_limits() sets the transport's too.
// - shutdown(): sends close_notify, then ends the transport's writing side;
//   reading goes on until the peer's close_notify.
// - close(): sends close_notify if it can without waiting (the transport's
//   queue is empty and shutdown() was not called), then closes the transport
//   at once.
//
// Memory. Decrypted bytes are read ahead up to StreamLimits::read_high_water
// (as on TCP); at most one transport read (64 KiB) of encrypted bytes waits
// besides, so a slow reader holds a bounded amount whatever the peer sends.
// Everything a write, read or shutdown needs is allocated before OpenSSL
// acts on it, so one that throws std::bad_alloc changed nothing, as on TCP
// (stream.h): OpenSSL never makes a record that is not then sent. Should
// the records of a write outgrow the room made for them and more memory be
// refused, they are not sent and writing fails for good (Errc::no_memory).
//
// Threads: as Stream — the loop's thread (the transport's loop).
#pragma once

#include <string>

#include "core/future/future.h"
#include "core/io/stream.h"
#include "core/io/tls_context.h"

namespace weft {

namespace detail {
class TlsImpl;
}  // namespace detail

struct TlsConnectOptions {
  // Sent as SNI (unless it is an IP address) and, when the context verifies
  // the peer, the name (or IP address) the certificate must be for. Empty:
  // no SNI and no host name check (the chain is still verified).
  std::string server_name;
};

class TlsStream final : public Stream {
 public:
  TlsStream() noexcept = default;

  // Client handshake over `transport` with a client context. Loop thread.
  [[nodiscard]] static Future<TlsStream> connect(Stream&& transport, const TlsContext& context,
                                                 TlsConnectOptions options = {});
  // Server handshake over `transport` with a server context. Loop thread.
  [[nodiscard]] static Future<TlsStream> accept(Stream&& transport, const TlsContext& context);

  // The ALPN protocol agreed on; "" if none.
  std::string alpn_protocol() const;
  // Client: the SNI name it sent. Server: the one the client sent ("" if none).
  std::string server_name() const;
  // Whether the peer presented a certificate and it verified.
  bool peer_verified() const;
  // "TLSv1.3", "TLSv1.2"; "" for an empty stream.
  std::string protocol_version() const;
  // The cipher suite's OpenSSL name; "" for an empty stream.
  std::string cipher() const;

 private:
  friend class detail::TlsImpl;
  explicit TlsStream(detail::IoRef<detail::TlsImpl> impl) noexcept;
  detail::TlsImpl* tls() const noexcept;
};

}  // namespace weft
