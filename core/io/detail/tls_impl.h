// weft::detail::TlsImpl: the engine behind a weft::TlsStream — an OpenSSL SSL
// object fed through two memory BIOs by the transport stream it owns. See
// core/io/tls_stream.h for the semantics and io_object.h for lifetime,
// closing and cancellation. Written in tls_impl.cc (start, the handshake,
// reading, closing) and tls_impl_write.cc (writing, and the records' way to
// the transport).
//
// Everything runs on the transport's loop thread: encrypted bytes arrive by
// the transport's read_some() (one at a time, its continuation on the loop),
// go into `net_in_`, and OpenSSL turns them into handshake progress or
// plaintext (`in_`). Whatever OpenSSL writes to `net_out_` (handshake
// messages, records, alerts, close_notify) is flushed to the transport's
// write() at once, in order. No OpenSSL call ever blocks or touches a socket.
//
// Memory. What an operation needs is made before OpenSSL acts on it, so that
// a refused allocation (std::bad_alloc) changes nothing. A write (and
// shutdown) makes room for the records OpenSSL will make and has the
// transport make its write (StreamBase::reserve_write) before SSL_write: a
// record, once made, has spent its sequence number, and the connection
// cannot go on without sending it. A read makes room for a record's
// plaintext before SSL_read takes it, so a record is never taken out of
// OpenSSL only to be dropped. On the loop (bytes arriving), a refused
// allocation fails what waits with Errc::no_memory (a read: its bytes stay
// for the next one; a handshake: it ends). Should records OpenSSL made not
// fit the room made for them and more memory be refused, they are dropped
// and writing fails for good (write_error_): nothing is sent after a gap.
//
// The IoObject's libuv handle is an idle uv_timer_t (never started): it gives
// the object its place among the loop's resources and the close callback;
// the handshake timeout is a loop timer (call_later), on the loop's clock.
//
// Ownership: the object owns the SSL (which owns both BIOs), a copy of the
// TlsContext (which must outlive the SSL), and the transport stream.
// Transport continuations hold a reference to the object.
#pragma once

#include <uv.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock/clock.h"
#include "core/future/future.h"
#include "core/io/detail/stream_base.h"
#include "core/io/stream.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"

struct ssl_st;
struct bio_st;

namespace weft::detail {

class TlsImpl final : public StreamBase {
 public:
  // Starts a handshake over `transport` (an open stream), which it takes
  // only once everything else is made: if it throws (no memory) or returns a
  // failed future at once (a closed transport, a wrong context, a bad server
  // name), `transport` is as it was. The future completes with the TlsStream
  // or fails (see tls_stream.h). The first handshake step runs from the
  // loop. Loop thread.
  static Future<TlsStream> start(Stream& transport, const TlsContext& context, bool server,
                                 const std::string& server_name);

  Future<void> write(const char* data, std::size_t size, std::string* owned) override;
  Future<void> drain() override;
  Future<void> shutdown() override;
  void reserve_write(std::size_t size) override;
  void reserve_shutdown() override;
  std::size_t write_buffered() const noexcept override;
  std::size_t read_buffered() const noexcept override { return in_.size() - in_pos_; }
  void unread(std::string_view data) override;
  const StreamLimits& limits() const noexcept override { return limits_; }
  void set_limits(const StreamLimits& limits) noexcept override;

  std::string alpn_protocol() const;
  std::string server_name() const;
  bool peer_verified() const;
  std::string protocol_version() const;
  std::string cipher() const;

 private:
  TlsImpl(Loop& loop, TlsContext context, bool server) noexcept;
  ~TlsImpl() override;

  void setup(const std::string& server_name);
  void fail_pending(const Error& error) noexcept override;
  void sweep_cancelled() noexcept override;
  void close_handle(uv_handle_t* handle) noexcept override;

  // The engine.
  StreamBase& transport() const noexcept;
  void advance();
  void out_of_memory() noexcept;
  void handshake_step();
  void handshake_failed(Error error);
  Error classify_handshake_failure();
  void decrypt();
  bool decrypt_record();
  void make_room();
  void pump(bool reader_waiting = false);
  void on_transport_read(Result<std::string> result);
  std::size_t records_bound(std::size_t plaintext) const noexcept;
  unsigned agreed_fragment_shift() const noexcept;
  void send_pending();
  Future<void> send_reserved(std::string& buffer);
  void handshake_timed_out();

  // Plaintext reads (as StreamImpl's).
  bool refuse_second_read() override;
  void begin_read(PendingRead& pending) override;
  bool try_complete(PendingRead& read);
  void deliver(PendingRead& read, std::string data);
  std::string take(std::size_t n);
  void service_read();

  enum class Phase : std::uint8_t { handshaking, established, failed };

  uv_timer_t anchor_;
  Stream transport_;
  TlsContext context_;
  ssl_st* ssl_ = nullptr;
  bio_st* net_in_ = nullptr;   // encrypted bytes from the peer, for OpenSSL
  bio_st* net_out_ = nullptr;  // encrypted bytes from OpenSSL, for the peer
  const bool server_;
  Phase phase_ = Phase::handshaking;
  std::string peer_name_;      // for messages
  Promise<TlsStream> handshake_;
  TimerHandle handshake_timer_;

  bool transport_reading_ = false;
  bool transport_eof_ = false;
  std::optional<Error> transport_error_;
  bool read_started_ = false;  // a read was asked for: read ahead from now on
  bool eof_ = false;           // the peer's close_notify arrived
  std::optional<Error> read_error_;
  bool shut_down_ = false;
  std::optional<Error> write_error_;
  StreamLimits limits_;
  unsigned fragment_shift_ = 14;  // log2 of the largest record plaintext agreed (records_bound)
  std::string write_out_;      // room for the next write's records (reserve_write)
  std::string shutdown_out_;   // room for the close_notify (reserve_shutdown)

  std::string in_;             // plaintext; in_[in_pos_..] not yet taken
  std::size_t in_pos_ = 0;
  std::size_t scanned_ = 0;
  std::optional<PendingRead> read_;
};

}  // namespace weft::detail
