// weft::detail::TlsImpl, its writing half: write, drain and shutdown, and
// how the records OpenSSL makes reach the transport — the room made for them
// before OpenSSL acts, and the hand-over to the transport's write (also of
// what the handshake and alerts make). The rest of the engine (start, the
// handshake, reading, closing) is in tls_impl.cc; tls_impl.h says what runs
// where and who owns what.
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <string>
#include <utility>

#include "core/io/detail/openssl_error.h"
#include "core/io/detail/read_buffers.h"
#include "core/io/detail/stream_impl.h"
#include "core/io/detail/tls_impl.h"

namespace weft::detail {

namespace {

constexpr unsigned kRecordShift = 14;  // log2 of the largest record plaintext
static_assert(SSL3_RT_MAX_PLAIN_LENGTH == std::size_t{1} << kRecordShift);

// The most OpenSSL adds to a record's plaintext when it sends one: header,
// explicit IV or nonce, MAC or tag, padding, and TLS 1.3's content type.
constexpr std::size_t kRecordOverhead = SSL3_RT_HEADER_LENGTH + SSL3_RT_SEND_MAX_ENCRYPTED_OVERHEAD + 1;

// Room for a short message OpenSSL may send along with a write (a KeyUpdate).
constexpr std::size_t kMessageRoom = 256;

}  // namespace

// The most bytes OpenSSL can have waiting in net_out_ once it has made the
// records of `plaintext` bytes: what waits already, the bytes, and each
// record's overhead (one record per fragment, one more for the rest and one
// for a split or a message sent along).
std::size_t TlsImpl::records_bound(std::size_t plaintext) const noexcept {
  return BIO_ctrl_pending(net_out_) + plaintext + ((plaintext >> fragment_shift_) + 2) * kRecordOverhead +
         kMessageRoom;
}

// The largest record plaintext the handshake agreed on, as a power of two:
// 2^14, or less if the peer asked for a max_fragment_length.
unsigned TlsImpl::agreed_fragment_shift() const noexcept {
  const SSL_SESSION* session = SSL_get_session(ssl_);
  const unsigned mode = session != nullptr ? SSL_SESSION_get_max_fragment_length(session) : 0;
  if (mode >= TLSEXT_max_fragment_length_512 && mode <= TLSEXT_max_fragment_length_4096) {
    return 9 + (mode - TLSEXT_max_fragment_length_512);  // 512 << (mode - 1)
  }
  return kRecordShift;
}

// Sends what OpenSSL wrote (handshake messages, alerts, a close_notify) with
// memory made before the bytes leave net_out_: std::bad_alloc leaves them
// there, to go first with whatever is sent next.
void TlsImpl::send_pending() {
  const std::size_t pending = BIO_ctrl_pending(net_out_);
  if (pending == 0 || !transport_.is_open()) return;
  std::string out;
  out.reserve(pending);
  transport().reserve_write(pending);
  (void)send_reserved(out);
}

// Moves what OpenSSL wrote into `buffer` and hands it to the transport, whose
// write was made ahead (reserve_write) as `buffer`'s room was: nothing is
// allocated unless OpenSSL wrote more than that room. The future is the
// transport write's. Should memory be refused here, the records are dropped
// and writing fails for good (they cannot go back to OpenSSL, and a later
// record sent without them would not be understood): std::bad_alloc, with
// nothing sent.
Future<void> TlsImpl::send_reserved(std::string& buffer) {
  const std::size_t pending = BIO_ctrl_pending(net_out_);
  if (pending == 0) return make_ready_future<void>();
  try {
    buffer.resize(pending);
    const int n = BIO_read(net_out_, buffer.data(), static_cast<int>(pending));
    buffer.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return transport_.write(std::move(buffer));
  } catch (...) {
    buffer.clear();
    (void)BIO_reset(net_out_);
    write_error_ = error_with(Errc::no_memory, [] {
      return std::string("TLS write: no memory to send the records made; the connection cannot go on");
    });
    throw;
  }
}

// ---- writing -----------------------------------------------------------------

Future<void> TlsImpl::write(const char* data, std::size_t size, std::string*) {
  if (!is_open()) return make_failed_future<void>(closed_error());
  check_thread("write");
  if (shut_down_) return make_failed_future<void>(Error(Errc::invalid_state, "write after shutdown()"));
  if (write_error_) return make_failed_future<void>(*write_error_);
  if (size == 0) return make_ready_future<void>();
  // Everything the write needs is made before OpenSSL sees the bytes (see
  // the top of tls_impl.h): a refused allocation leaves the stream as it was.
  reserve_write(size);
  clear_openssl_errors();
  std::size_t written = 0;
  if (SSL_write_ex(ssl_, data, size, &written) != 1 || written != size) {
    // Whatever OpenSSL made of the bytes before it failed is not sent: the
    // write failed.
    (void)BIO_reset(net_out_);
    write_error_ = error_with(Errc::tls_protocol_error,
                             [] { return "TLS write: " + take_openssl_errors("the connection failed"); });
    return make_failed_future<void>(*write_error_);
  }
  return send_reserved(write_out_);
}

// Room for the records of `size` bytes, and the transport's write of them.
void TlsImpl::reserve_write(std::size_t size) {
  const std::size_t bound = records_bound(size);
  if (write_out_.capacity() < bound) {
    // A pooled buffer (read_buffers.h): the transport gives the last one
    // back once the kernel has taken its bytes.
    if (write_out_.empty()) write_out_ = take_read_buffer();
    if (write_out_.capacity() < bound) write_out_.reserve(bound);
  }
  transport().reserve_write(bound);
}

// Room for the close_notify, and the transport's write of it and shutdown.
void TlsImpl::reserve_shutdown() {
  const std::size_t bound = records_bound(0);
  if (shutdown_out_.capacity() < bound) shutdown_out_.reserve(bound);
  transport().reserve_write(bound);
  transport().reserve_shutdown();
}

std::size_t TlsImpl::write_buffered() const noexcept {
  return transport_.write_buffered() + (net_out_ != nullptr ? BIO_ctrl_pending(net_out_) : 0);
}

void TlsImpl::set_limits(const StreamLimits& limits) noexcept {
  limits_ = limits;
  transport_.set_limits(limits);
}

Future<void> TlsImpl::drain() {
  if (!is_open()) return make_failed_future<void>(closed_error());
  check_thread("drain");
  if (write_error_) return make_failed_future<void>(*write_error_);
  return transport_.drain();
}

Future<void> TlsImpl::shutdown() {
  if (!is_open()) return make_failed_future<void>(closed_error());
  check_thread("shutdown");
  if (shut_down_) return make_failed_future<void>(Error(Errc::invalid_state, "shutdown() twice"));
  if (write_error_) return make_failed_future<void>(*write_error_);
  reserve_shutdown();  // as write(): before OpenSSL makes the close_notify
  shut_down_ = true;
  clear_openssl_errors();
  if (SSL_shutdown(ssl_) < 0) {
    return make_failed_future<void>(error_with(Errc::tls_protocol_error, [] {
      return "TLS shutdown: " + take_openssl_errors("close_notify could not be sent");
    }));
  }
  Future<void> sent = send_reserved(shutdown_out_);
  try {
    return transport_.shutdown();
  } catch (const std::bad_alloc&) {
    // Only a transport that had to allocate again (a TLS stream itself,
    // after the close_notify's write took what it had made): the
    // close_notify is on its way, and it is what ends the stream for the peer.
    return sent;
  }
}

}  // namespace weft::detail
