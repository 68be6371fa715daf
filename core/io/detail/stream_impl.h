// weft::detail::StreamImpl: the libuv stream (uv_tcp_t or uv_pipe_t) behind a
// weft::Stream, with its read buffer, pending read, write accounting,
// shutdown and connect. See core/io/stream.h for the semantics and
// io_object.h for lifetime, closing and cancellation. Written in
// stream_impl.cc (reading, closing), stream_impl_connect.cc (connecting)
// and stream_impl_write.cc (writing, drain, shutdown; the requests in
// stream_requests.h).
//
// Read path: with a read_some waiting and nothing buffered, libuv reads
// straight into the string that read will deliver (a pooled buffer,
// read_buffers.h: no copy; while the peer streams, as large as the read
// asks, up to kMaxBulkRead: lend_read_buffer), and the reader's
// continuation runs at once, inside libuv's read callback, while the bytes are in the cache
// (Promise::set_value_or_keep_now; on_direct_data). A read_some_into
// waiting on an empty buffer has libuv read into the reader's own memory
// (ReadTarget, asked for in on_alloc) in the same way. Otherwise it reads into the thread's scratch
// buffer (alloc_cb); the read callback either completes the pending read_some
// from it (one copy, into a pooled result string) or appends to `in_`, then
// tries to complete the pending read from `in_`. Reading starts with the
// first read that cannot be served from the buffer and stops when `in_` holds
// read_high_water bytes and no read waits (or at end of stream / on error).
// A read_some completed by a read that filled its buffer holds reading ahead
// back until its reader has had the chance to ask again (Pause,
// after_full_delivery): libuv's next read in the same round gets no buffer,
// so the next read_some reads straight from the kernel, and no read(2) is
// made only to fail with EAGAIN. A read_some asked for while reading is
// paused after a full bulk read reads from the kernel itself, at once
// (read_after_bulk), as libuv's own read loop would have. Bytes the read
// callback finds no memory for are kept in the scratch buffer, which the
// stream then takes (stash_), and reading stops until a read stores them:
// none is dropped; a pending read fails with Errc::no_memory.
//
// Write path: with nothing queued, uv_try_write first; what the kernel does
// not take is copied (or, for a string given by move, moved) into a
// WriteRequest queued with uv_write, whose callback completes the write's
// future. A moved string the kernel took whole goes back to the read-buffer
// pool. The request and its buffer are made before the first byte is sent
// (so a refused allocation sends nothing); when the kernel took everything at
// once, they stay as spare_write_ for the next write, so steady small writes
// allocate only their future. A stream over this one (TLS) has the request and
// the future made ahead (reserve_write, reserve_shutdown), before it encrypts
// the bytes it will write. write_buffered_ counts the
// queued bytes; drain() waiters complete when it falls to write_low_water.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock/clock.h"
#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/detail/stream_base.h"
#include "core/io/socket_address.h"
#include "core/io/stream.h"

namespace weft::detail {

class StreamImpl;

// Builds user-facing stream objects from a StreamImpl and takes them apart
// (TcpStream and PipeStream befriend it).
struct StreamAccess {
  template <class S>
  static S make(IoRef<StreamImpl> impl) {
    return S(std::move(impl));
  }
  // The object behind any stream (nullptr for an empty one).
  static StreamBase* base_of(const Stream& stream) noexcept { return stream.impl(); }
  // `stream` must be one that S(IoRef<StreamImpl>) made (TcpStream, PipeStream).
  static IoRef<StreamImpl> take(Stream& stream) noexcept {
    return IoRef<StreamImpl>::downcast(stream.release_object());
  }
};

// A pending operation that produces a stream (accept, connect) of a type this
// layer does not know.
class StreamResultOp {
 public:
  virtual ~StreamResultOp() = default;
  virtual bool cancelled() const noexcept = 0;
  // Completes the future with `stream`; if it was cancelled meanwhile, returns
  // false and `stream` is left as it was.
  virtual bool deliver(IoRef<StreamImpl>& stream) = 0;
  virtual void fail(const Error& error) noexcept = 0;
  virtual void set_cancel_hook(CancelHook* hook) noexcept = 0;
};

template <class S>
class StreamResultOpFor final : public StreamResultOp {
 public:
  explicit StreamResultOpFor(Promise<S> promise) noexcept : promise_(std::move(promise)) {}
  bool cancelled() const noexcept override { return promise_.cancelled(); }
  bool deliver(IoRef<StreamImpl>& stream) override {
    S result = StreamAccess::make<S>(std::move(stream));
    if (promise_.set_value_or_keep(result)) return true;
    stream = StreamAccess::take(result);
    return false;
  }
  void fail(const Error& error) noexcept override { promise_.set_error(error); }
  void set_cancel_hook(CancelHook* hook) noexcept override { promise_.set_cancel_hook(hook); }

 private:
  Promise<S> promise_;
};

class StreamImpl final : public StreamBase {
 public:
  enum class Type : std::uint8_t { tcp, pipe };

  // A new, unconnected stream handle on `loop` (for TCP, `family` may create
  // the socket at once). Throws Exception if libuv refuses.
  static IoRef<StreamImpl> create(Loop& loop, Type type, int family = AF_UNSPEC);

  Type type() const noexcept { return type_; }
  uv_stream_t* uv_stream() noexcept { return &handle_.stream; }
  uv_tcp_t* uv_tcp() noexcept { return &handle_.tcp; }
  uv_pipe_t* uv_pipe() noexcept { return &handle_.pipe; }

  Future<void> write(const char* data, std::size_t size, std::string* owned) override;
  Future<void> drain() override;
  Future<void> shutdown() override;
  void reserve_write(std::size_t size) override;
  void reserve_shutdown() override;
  // Closes with a TCP reset instead of a normal close (TCP only).
  void abort() noexcept;

  std::size_t write_buffered() const noexcept override { return write_buffered_; }
  std::size_t read_buffered() const noexcept override { return in_.size() - in_pos_ + stash_size_; }
  void unread(std::string_view data) override;
  const StreamLimits& limits() const noexcept override { return limits_; }
  void set_limits(const StreamLimits& limits) noexcept override { limits_ = limits; }

  // Connects this (fresh, unconnected) stream; `op` completes with it, or
  // fails (and the stream closes). `timeout` zero means none. Loop thread.
  void connect_tcp(const SocketAddress& address, std::unique_ptr<StreamResultOp> op,
                   Duration timeout);
  void connect_pipe(const std::string& path, std::unique_ptr<StreamResultOp> op,
                    Duration timeout);

 private:
  struct WriteRequest;
  struct ShutdownRequest;

  StreamImpl(Loop& loop, Type type) noexcept;
  ~StreamImpl() override;

  void fail_pending(const Error& error) noexcept override;
  void sweep_cancelled() noexcept override;
  void close_handle(uv_handle_t* handle) noexcept override;

  // Reading.
  bool refuse_second_read() override;
  void begin_read(PendingRead& pending) override;
  bool try_complete(PendingRead& read);
  void deliver_into(PendingRead& read, const char* data, std::size_t size, bool now);
  void deliver(PendingRead& read, std::string data, bool now = false);
  std::string take(std::size_t n);
  void service_read();
  void drop_read() noexcept;
  void start_reading();
  void stop_reading() noexcept;
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static constexpr std::size_t kBulkRead = 64 * 1024;
  // The most a bulk stream's direct read takes (lend_read_buffer). Larger
  // reads (256 KiB, as uvloop's) cost no fewer cycles per byte here, and
  // made a Python TLS receiver on the same heap twice as slow: its 256 KiB
  // temporary buffers then came from fresh pages (docs/performance.md).
  static constexpr std::size_t kMaxBulkRead = 128 * 1024;
  std::string lend_read_buffer(std::size_t n) noexcept;
  void note_read_size(std::size_t size, std::size_t lent) noexcept;
  // Direct reads that filled a pooled buffer smaller than kBulkRead in a
  // row before the kernel is asked whether more waits (outgrown_).
  static constexpr int kFilledReadsBeforeProbe = 8;
  bool kernel_has_more() noexcept;
  void on_direct_data(std::size_t size, bool filled);
  void on_data(const char* data, std::size_t size, bool filled) noexcept;
  bool store(const char* data, std::size_t size) noexcept;
  void stash(const char* data, std::size_t size) noexcept;
  void fail_read(const Error& error) noexcept;
  void after_full_delivery(std::size_t size) noexcept;
  bool decline_read_ahead() noexcept;
  bool read_after_bulk(PendingRead& read);
  static constexpr int kMaxReadsAfterBulk = 16;
  void append_input(const char* data, std::size_t size);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

  // Writing.
  static void on_write(uv_write_t* request, int status);
  static void on_shutdown(uv_shutdown_t* request, int status);
  void complete_drains() noexcept;
  Error write_failure(int status) const;

  // Connecting.
  void start_connect_timer(Duration timeout);
  void connect_timed_out();
  static void on_connect(uv_connect_t* request, int status);

  union Handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_;
  const Type type_;
  bool reading_ = false;
  bool eof_ = false;
  bool shut_down_ = false;
  bool abort_ = false;
  StreamLimits limits_;

  std::string in_;            // bytes read; in_[in_pos_..] not yet taken
  std::string direct_;        // the buffer on_alloc lent libuv for the pending read_some
  char* direct_into_ = nullptr;  // the reader's memory on_alloc lent libuv for a read_some_into
  std::size_t in_pos_ = 0;
  std::size_t scanned_ = 0;   // bytes from in_pos_ the pending read_until searched for its delimiter
  std::optional<Error> read_error_;
  std::optional<PendingRead> read_;
  // Bytes read when no memory could be found to store them (on_data): in
  // the thread's scratch buffer, taken for them, until read() stores them.
  std::unique_ptr<char[]> stash_;
  const char* stash_data_ = nullptr;
  std::size_t stash_size_ = 0;
  // Reading ahead held back after a full read_some (after_full_delivery):
  // none; for the rest of this round of reads; the same while the reader's
  // next read already waits (asked_again); after a bulk read, for this round
  // and the next poll, then reading stops (stop: on_read stops it).
  enum class Pause : std::uint8_t { none, this_round, asked_again, bulk, bulk_next_poll, stop };
  Pause pause_ = Pause::none;
  bool declined_ = false;     // on_alloc gave libuv no buffer (UV_ENOBUFS follows)
  int reads_after_bulk_ = kMaxReadsAfterBulk;  // left before the next poll (read_after_bulk)
  // The last read was a bulk one (note_read_size): the peer streams, and
  // the next direct read asking for more than kBulkRead bytes may take up
  // to kMaxBulkRead (lend_read_buffer).
  bool bulk_reads_ = false;
  // Direct reads in a row that filled a buffer smaller than kBulkRead; after
  // kFilledReadsBeforeProbe of them, whether the kernel held more then: the
  // peer streams in larger pieces than the pool's buffers (outgrown_), and
  // the next read gets a buffer of kBulkRead (lend_read_buffer).
  int filled_small_reads_ = 0;
  bool outgrown_ = false;

  std::size_t write_buffered_ = 0;
  std::size_t writes_queued_ = 0;
  // The request of the last write the kernel took at once, kept (with its
  // buffer's capacity, up to kMaxSpareWriteCapacity) for the next write.
  std::unique_ptr<WriteRequest> spare_write_;
  std::unique_ptr<ShutdownRequest> spare_shutdown_;  // made ahead by reserve_shutdown
  std::optional<Error> write_error_;
  std::vector<Promise<void>> drains_;

  std::unique_ptr<StreamResultOp> connect_op_;
  uv_connect_t connect_request_;
  TimerHandle connect_timer_;
  std::string connect_target_;
};

}  // namespace weft::detail
