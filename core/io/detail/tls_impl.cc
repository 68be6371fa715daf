#include "core/io/detail/tls_impl.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <string>
#include <utility>

#include "core/io/detail/openssl_error.h"
#include "core/io/detail/read_buffers.h"
#include "core/io/detail/stream_impl.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

namespace {

bool is_ip_address(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

// Plaintext is taken from OpenSSL in pieces of one TLS record at most.
constexpr std::size_t kRecordBytes = 16 * 1024;

}  // namespace

TlsImpl::TlsImpl(Loop& loop, TlsContext context, bool server) noexcept
    : StreamBase(loop, server ? "TLS stream (server)" : "TLS stream (client)"),
      context_(std::move(context)),
      server_(server) {}

TlsImpl::~TlsImpl() { SSL_free(ssl_); }

Future<TlsStream> TlsImpl::start(Stream& transport, const TlsContext& context, bool server,
                                 const std::string& server_name) {
  StreamBase* base = StreamAccess::base_of(transport);
  if (base == nullptr || !base->is_open()) {
    return make_failed_future<TlsStream>(Error(Errc::closed, "TLS: the transport stream is closed"));
  }
  base->check_thread(server ? "TLS accept" : "TLS connect");
  if (context.empty()) {
    return make_failed_future<TlsStream>(Error(Errc::invalid_argument, "TLS: the context is empty"));
  }
  if (context.is_server() != server) {
    return make_failed_future<TlsStream>(Error(
        Errc::invalid_argument, server ? "TLS accept needs a server context" : "TLS connect needs a client context"));
  }
  Loop& loop = base->loop();
  // Everything the handshake needs is made before the transport is taken, so
  // that a refusal (std::bad_alloc, or no_memory from OpenSSL) or a bad
  // server name leaves the transport the caller's, untouched.
  auto impl = IoRef<TlsImpl>::adopt(new TlsImpl(loop, context, server));
  try {
    impl->setup(server_name);
  } catch (const Exception& e) {
    if (e.code() == Errc::no_memory) throw;
    return make_failed_future<TlsStream>(e.error());
  }
  auto [promise, future] = detail::make_hooked_promise<TlsStream>();
  TimerHandle timer;
  const Duration timeout = context.handshake_timeout();
  if (timeout > Duration::zero()) {
    timer = loop.call_later(timeout, [self = IoRef<TlsImpl>::share(impl.get())] { self->handshake_timed_out(); });
  }
  try {
    // The first step runs from the loop: taking the transport below is then
    // the last thing start() does, and nothing after it can fail.
    loop.call_soon([self = IoRef<TlsImpl>::share(impl.get())] { self->advance(); });
  } catch (...) {
    timer.cancel();
    throw;
  }
  impl->transport_ = std::move(transport);
  impl->limits_ = impl->transport_.limits();
  uv_timer_init(LoopAccess::uv_loop(loop), &impl->anchor_);  // cannot fail
  impl->anchor_.data = impl.get();
  impl->opened(reinterpret_cast<uv_handle_t*>(&impl->anchor_));
  impl->watch(promise);
  impl->handshake_ = std::move(promise);
  impl->handshake_timer_ = timer;
  impl->op_started();
  return std::move(future);
}

void TlsImpl::setup(const std::string& server_name) {
  clear_openssl_errors();
  ssl_ = SSL_new(context_.native_handle());
  net_in_ = BIO_new(BIO_s_mem());
  net_out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || net_in_ == nullptr || net_out_ == nullptr) {
    BIO_free(net_in_);
    BIO_free(net_out_);
    net_in_ = net_out_ = nullptr;
    throw Exception(Errc::no_memory, "TLS: " + take_openssl_errors("no memory for the connection"));
  }
  SSL_set_bio(ssl_, net_in_, net_out_);  // the SSL owns both from now on
  peer_name_ = server_name.empty() ? std::string("the peer") : server_name;
  if (server_) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (server_name.empty()) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool ok = true;
  if (is_ip_address(server_name)) {  // no SNI for addresses (RFC 6066)
    if (context_.verifies_peer()) ok = X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str()) == 1;
  } else {
    ok = SSL_set_tlsext_host_name(ssl_, server_name.c_str()) == 1;
    if (ok && context_.verifies_peer()) ok = SSL_set1_host(ssl_, server_name.c_str()) == 1;
  }
  if (!ok) {
    throw Exception(Errc::invalid_argument,
                    "TLS: server_name \"" + server_name + "\": " + take_openssl_errors("not usable"));
  }
}

// ---- closing and cancellation ----------------------------------------------

void TlsImpl::fail_pending(const Error& error) noexcept {
  handshake_timer_.cancel();
  if (phase_ == Phase::handshaking) {
    phase_ = Phase::failed;
    handshake_.set_error(error);
  }
  if (read_) {
    PendingRead read = std::move(*read_);
    read_.reset();
    read.fail(error);
  }
}

void TlsImpl::sweep_cancelled() noexcept {
  if (read_ && read_->cancelled()) {
    read_.reset();
    op_finished();
  }
  if (phase_ == Phase::handshaking && handshake_.cancelled()) {
    phase_ = Phase::failed;
    close();  // the handshake was abandoned: so is the connection
  }
}

void TlsImpl::close_handle(uv_handle_t* handle) noexcept {
  // A parting close_notify, if it can go without waiting (and writing has
  // not failed: after dropped records it would not be understood).
  if (phase_ == Phase::established && !shut_down_ && !write_error_ && transport_.is_open() &&
      transport_.write_buffered() == 0) {
    clear_openssl_errors();
    if (SSL_shutdown(ssl_) >= 0) {
      try {
        send_pending();
      } catch (...) {
      }
    }
    clear_openssl_errors();
  }
  transport_.close();
  IoObject::close_handle(handle);
}

// ---- the engine ------------------------------------------------------------

StreamBase& TlsImpl::transport() const noexcept { return *StreamAccess::base_of(transport_); }

// After anything changed (bytes arrived, the transport ended, a read was
// asked for): moves the handshake or the reading on, sends what OpenSSL
// wrote, and reads from the transport if more is needed.
void TlsImpl::advance() {
  if (!is_open()) return;
  try {
    if (phase_ == Phase::handshaking) handshake_step();
    if (!is_open()) return;
    if (phase_ == Phase::established) {
      decrypt();
      service_read();
    }
    if (!is_open()) return;
    send_pending();
    pump();
  } catch (const std::bad_alloc&) {
    out_of_memory();
  }
}

// advance() was refused memory. Nothing was taken: records OpenSSL has not
// handed over stay with it, plaintext stays in `in_`, bytes to send stay in
// net_out_. A pending read fails with Errc::no_memory (the next read gets
// every byte); a handshake cannot wait (its peer waits for our next flight),
// so it fails and the stream closes. Reading ahead resumes with the next read.
void TlsImpl::out_of_memory() noexcept {
  const Error error(Errc::no_memory);
  if (phase_ == Phase::handshaking) {
    handshake_failed(error);
  } else if (read_) {
    PendingRead read = std::move(*read_);
    read_.reset();
    op_finished();
    read.fail(error);
  }
}

void TlsImpl::handshake_step() {
  clear_openssl_errors();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    send_pending();  // our last flight, before the stream is anyone else's
    phase_ = Phase::established;
    fragment_shift_ = agreed_fragment_shift();
    handshake_timer_.cancel();
    op_finished();
    TlsStream stream(IoRef<TlsImpl>::share(this));
    if (!handshake_.set_value_or_keep(stream)) stream.close();  // cancelled as it completed
    return;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) {
    if (transport_error_) {
      handshake_failed(Error(Errc::tls_handshake_failed,
                             "TLS handshake with " + peer_name_ + ": " + transport_error_->message()));
    } else if (transport_eof_) {
      handshake_failed(Error(Errc::tls_handshake_failed,
                             "TLS handshake with " + peer_name_ + ": the peer closed the connection"));
    }
    return;  // wait for more bytes
  }
  handshake_failed(classify_handshake_failure());
}

Error TlsImpl::classify_handshake_failure() {
  const long verify = SSL_get_verify_result(ssl_);
  std::string reasons = take_openssl_errors("the handshake failed");
  const std::string what = "TLS handshake with " + peer_name_ + ": ";
  if (context_.verifies_peer() && verify != X509_V_OK) {
    const bool host = verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH;
    return Error(host ? Errc::tls_host_mismatch : Errc::tls_certificate_untrusted,
                 what + "certificate verify failed: " + X509_verify_cert_error_string(verify));
  }
  return Error(Errc::tls_handshake_failed, what + reasons);
}

void TlsImpl::handshake_failed(Error error) {
  phase_ = Phase::failed;
  handshake_timer_.cancel();
  op_finished();
  try {
    send_pending();  // the alert that tells the peer why
  } catch (...) {
  }
  handshake_.set_error(std::move(error));
  close();
}

void TlsImpl::handshake_timed_out() {
  if (phase_ != Phase::handshaking || !is_open()) return;
  handshake_failed(error_with(Errc::timed_out, [this] {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(context_.handshake_timeout()).count();
    return "TLS handshake with " + peer_name_ + ": timed out after " + std::to_string(ms) + " ms";
  }));
}

// Takes plaintext from OpenSSL into `in_` while a read waits or the buffer is
// below its high-water mark, completing the pending read as it can.
void TlsImpl::decrypt() {
  while ((read_ || read_buffered() < limits_.read_high_water) && decrypt_record()) service_read();
}

// Takes one record's plaintext from OpenSSL into `in_`, or notes the stream's
// end or error; returns false if nothing changed (OpenSSL needs more bytes,
// or the end or an error was noted already). The room comes first: a refused
// allocation (std::bad_alloc) leaves the record with OpenSSL.
bool TlsImpl::decrypt_record() {
  if (eof_ || read_error_) return false;
  make_room();
  char buffer[kRecordBytes];
  clear_openssl_errors();
  std::size_t got = 0;
  const int rc = SSL_read_ex(ssl_, buffer, sizeof(buffer), &got);
  if (rc == 1) {
    in_.append(buffer, got);  // within the room made
    return true;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_ZERO_RETURN) {
    eof_ = true;
  } else if (error != SSL_ERROR_WANT_READ) {
    read_error_ = error_with(Errc::tls_protocol_error,
                             [] { return "TLS read: " + take_openssl_errors("a corrupt record"); });
  } else if (transport_error_) {
    read_error_ = *transport_error_;
  } else if (transport_eof_) {
    read_error_ = error_with(Errc::tls_protocol_error, [] {
      return std::string("TLS read: the peer closed the connection without close_notify (truncated)");
    });
  } else {
    return false;
  }
  return true;
}

// Room in `in_` for one more record's plaintext: the buffer's own, the room
// taken bytes leave in front, a pooled buffer (read_buffers.h) for an empty
// one, or more memory (std::bad_alloc).
void TlsImpl::make_room() {
  if (in_.size() + kRecordBytes <= in_.capacity()) return;
  if (in_.empty()) {
    in_ = take_read_buffer();
  } else if (in_pos_ > 0) {
    in_.erase(0, in_pos_);  // scanned_ counts from in_pos_, so it still holds
    in_pos_ = 0;
  }
  if (in_.size() + kRecordBytes > in_.capacity()) in_.reserve(in_.size() + kRecordBytes);
}

// Reads from the transport if the handshake or a reader (`reader_waiting`: one
// about to wait) needs more bytes, or to read ahead. Throws std::bad_alloc
// with nothing started.
void TlsImpl::pump(bool reader_waiting) {
  if (transport_reading_ || transport_eof_ || transport_error_ || !is_open()) return;
  const bool wanted = phase_ == Phase::handshaking ||
                      (phase_ == Phase::established && read_started_ && !eof_ && !read_error_ &&
                       (reader_waiting || read_ || read_buffered() < limits_.read_high_water));
  if (!wanted) return;
  // The continuation's room in the loop's queue comes first: a transport read
  // may complete at once, and its bytes must not be dropped for want of it.
  Loop& on = loop();
  LoopAccess::reserve_continuation(on);
  Future<std::string> bytes;
  try {
    bytes = transport_.read_some();
  } catch (const Exception& e) {
    LoopAccess::release_continuation(on);
    transport_error_ = e.error();
    advance();
    return;
  } catch (...) {
    LoopAccess::release_continuation(on);
    throw;
  }
  LoopAccess::release_continuation(on);
  transport_reading_ = true;
  std::move(bytes).then(on, [self = IoRef<TlsImpl>::share(this)](Result<std::string> r) mutable {
    self->on_transport_read(std::move(r));
  });
}

void TlsImpl::on_transport_read(Result<std::string> result) {
  transport_reading_ = false;
  if (!is_open()) return;
  if (!result.ok() && result.error().code() == Errc::no_memory) {
    out_of_memory();  // the transport keeps its bytes: the next read asks again
    return;
  }
  if (!result.ok()) {
    transport_error_ = result.error();
  } else if (result.value().empty()) {
    transport_eof_ = true;
  } else {
    std::string& bytes = result.value();
    if (BIO_write(net_in_, bytes.data(), static_cast<int>(bytes.size())) != static_cast<int>(bytes.size())) {
      transport_error_ = error_with(Errc::no_memory, [] { return std::string("TLS: no memory for received bytes"); });
    }
    recycle_read_buffer(std::move(bytes));
  }
  advance();
}

// ---- reading -----------------------------------------------------------------

bool TlsImpl::refuse_second_read() {
  if (!read_) return false;
  if (!read_->cancelled()) return true;
  read_.reset();
  op_finished();
  return false;
}

// Completes a new read at once if it can, or makes it the pending one.
// Throws std::bad_alloc having started nothing for it.
void TlsImpl::begin_read(PendingRead& pending) {
  // What OpenSSL holds already, taken a record at a time, each with its room
  // made first; a refused allocation (std::bad_alloc) takes no byte: all of
  // them stay, in OpenSSL or in `in_`, for the next read.
  scanned_ = 0;
  bool done = try_complete(pending);
  while (!done && decrypt_record()) done = try_complete(pending);
  read_started_ = true;
  if (done) {
    advance();  // reading ahead (refused memory only stops it, until the next read)
    return;
  }
  // The read waits. The room for the record that will most often complete it
  // is made now, so that such a read needs no memory once it was accepted.
  make_room();
  if (pending.kind == ReadKind::into) {
    watch(pending.into_promise);
  } else {
    watch(pending.promise);
  }
  read_.emplace(std::move(pending));
  op_started();
  try {
    send_pending();
    pump(true);
  } catch (const std::bad_alloc&) {
    if (read_) {  // nothing was started for it: it was never made
      read_.reset();
      op_finished();
    }
    throw;
  }
}

bool TlsImpl::try_complete(PendingRead& read) {
  const std::size_t available = in_.size() - in_pos_;
  switch (read.kind) {
    case ReadKind::some:
      if (available > 0) {
        deliver(read, take(std::min(read.n, available)));
        return true;
      }
      break;
    case ReadKind::into:
      if (available > 0) {
        read.take_into(in_, in_pos_);  // only what the reader got
        scanned_ = 0;
        return true;
      }
      break;
    case ReadKind::exactly:
      if (available >= read.n) {
        deliver(read, take(read.n));
        return true;
      }
      break;
    case ReadKind::until: {
      const std::string_view buffered(in_.data() + in_pos_, available);
      const std::size_t dlen = read.delimiter.size();
      const std::size_t from = scanned_ >= dlen ? scanned_ - dlen + 1 : 0;
      const std::size_t at = buffered.find(read.delimiter, from);
      if (at != std::string_view::npos && at + dlen <= read.n) {
        deliver(read, take(at + dlen));
        return true;
      }
      if (at != std::string_view::npos || available >= read.n) {
        read.promise.set_error(Error(Errc::message_too_long,
                                     "read_until: no delimiter within " + std::to_string(read.n) + " bytes"));
        return true;
      }
      scanned_ = available;
      break;
    }
  }
  if (read_error_) {
    read.fail(*read_error_);
    return true;
  }
  if (eof_) {
    read.end();
    return true;
  }
  return false;
}

void TlsImpl::deliver(PendingRead& read, std::string data) {
  if (read.promise.set_value_or_keep(data)) return;
  in_.replace(0, in_pos_, data);  // cancelled meanwhile: the bytes stay
  in_pos_ = 0;
  scanned_ = 0;
}

std::string TlsImpl::take(std::size_t n) {
  scanned_ = 0;
  if (in_pos_ == 0 && n == in_.size()) {
    std::string out = std::move(in_);
    in_.clear();
    return out;
  }
  std::string out = take_read_buffer();
  out.assign(in_, in_pos_, n);
  in_pos_ += n;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ >= 4096 && in_pos_ * 2 >= in_.size()) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  return out;
}

void TlsImpl::service_read() {
  if (!read_) return;
  if (read_->cancelled()) {
    read_.reset();
    op_finished();
  } else if (try_complete(*read_)) {
    read_.reset();
    op_finished();
  }
}

void TlsImpl::unread(std::string_view data) {
  if (data.empty()) return;
  if (data.size() <= in_pos_) {
    in_pos_ -= data.size();
    in_.replace(in_pos_, data.size(), data);
  } else {
    in_.replace(0, in_pos_, data);
    in_pos_ = 0;
  }
  scanned_ = 0;
}

// ---- what was agreed ----------------------------------------------------------

std::string TlsImpl::alpn_protocol() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  return data != nullptr ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

std::string TlsImpl::server_name() const {
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string(name) : std::string();
}

bool TlsImpl::peer_verified() const {
  return context_.verifies_peer() && SSL_get0_peer_certificate(ssl_) != nullptr &&
         SSL_get_verify_result(ssl_) == X509_V_OK;
}

std::string TlsImpl::protocol_version() const { return SSL_get_version(ssl_); }

std::string TlsImpl::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? std::string(name) : std::string();
}

}  // namespace weft::detail
