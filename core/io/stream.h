// weft::Stream: a byte stream on the loop (TCP connection, Unix domain socket,
// pipe, TLS): reads, writes with backpressure, half-close, close. TcpStream,
// PipeStream and TlsStream are Streams.
//
//   auto line = stream.read_until("\n");                 // Future<std::string>
//   std::move(line).then(loop, [&](weft::Result<std::string> r) {
//     stream.write(r.value());                           // Future<void>
//   });
//
// Every operation returns a Future; coroutine tasks can co_await it.
//
// Reading. One read at a time (a second one while the first is pending fails
// with Errc::invalid_state). Once a read has been asked for, the stream keeps
// reading ahead from the kernel into its own buffer while nothing waits, up to
// StreamLimits::read_high_water bytes, then stops until the buffer is read
// (the kernel's buffer then fills and the peer's writes slow down). After a
// read_some that filled its buffer, it reads ahead no further before the
// reader's continuation has run (the next read then takes what follows
// straight from the kernel); after one that took a full 64 KiB, it leaves what
// follows in the kernel until the next read, and a read_some then takes it
// from the kernel at once (bulk data is never copied through the stream's
// buffer).
// - read_some(max): whatever is available, 1..max bytes; "" at end of stream.
//   The string may have room to spare (a result under 512 bytes comes in a
//   512-byte buffer the thread reuses once a write by move or the C API gives
//   it back); shrink_to_fit() one that is kept for long.
// - read_exactly(n): n bytes, or Errc::end_of_file if the stream ends first.
// - read_until(delimiter, max): up to and including the delimiter;
//   Errc::end_of_file if the stream ends first, Errc::message_too_long if
//   `max` bytes arrive without one.
// - read_some_into(buffer) / read_some_into(source): whatever is available,
//   into the reader's own memory; the count (1..its size), 0 at end of
//   stream. With nothing buffered, the kernel reads straight into that
//   memory (no copy); bytes already buffered are copied into it. A
//   ReadBufferSource lends the memory only when the bytes are there (as a
//   libuv alloc callback does), so a reader with many idle streams holds no
//   memory for them. The memory must stay valid and untouched until the
//   future completes (or, for a source, until it is asked again).
// Bytes a failed or cancelled read did not take stay buffered for the next.
// A read fails with the connection's error (Errc::connection_reset, ...) only
// after the bytes that arrived before it have been read.
//
// Writing and backpressure. write(data) queues the bytes in order; its future
// completes when they have been handed to the kernel (at once when the kernel
// takes them all at once, the common case), or fails with the error that
// stopped them. So a writer that awaits each write never holds more than that
// write's bytes, however slow the reader. A writer that queues several writes
// without awaiting them awaits drain() when write_buffered() exceeds
// StreamLimits::write_high_water: it completes once the buffer is back down to
// write_low_water. Cancelling a write's future stops the waiting, not the
// write: bytes already queued are still sent, so the stream stays consistent.
//
// Half-close: shutdown() sends end-of-stream after the queued writes; reading
// goes on until the peer closes its side. The peer's half-close shows as
// read_some() returning "" while writes still work.
//
// Closing: close() closes at once; pending reads and writes fail with
// Errc::closed; wait_closed() completes when libuv has closed the handle
// (exactly once, however many times close() is called). Destroying a Stream
// closes it. A stream still open when its loop closes is closed by the loop.
//
// Cancellation: cancelling a pending read's future (from any thread) frees
// the stream for the next read at once; no byte is lost.
//
// Memory: a read, write or shutdown that throws std::bad_alloc changed
// nothing (no byte was sent or taken; the stream goes on). Bytes read ahead
// when the memory to store them is refused are kept, and reading ahead stops
// until the next read; a read waiting then fails with Errc::no_memory, and
// the next read gets every byte.
//
// SIGPIPE: making a stream sets SIGPIPE to ignored, process-wide, if it has
// its default action (which would end the process on a write to a gone
// peer), so such a write fails with Errc::broken_pipe; a handler the host
// installed, or an ignore, stays (detail/sigpipe.h).
//
// Threads: use a stream on its loop's thread (debug builds check:
// Errc::wrong_thread). It may be moved, and destroyed on any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/io_handle.h"

namespace weft {

namespace detail {
class StreamBase;
class StreamImpl;
struct StreamAccess;
}  // namespace detail

// Lends the memory a read_some_into reads into, when the bytes are about
// to be moved: next_buffer() (loop thread, inside the stream's read) returns
// it; an empty span declines, and the read fails with Errc::no_memory
// having taken nothing. It may be asked more than once for one read (the
// kernel had nothing after all); the memory it lent before is then no longer
// used. It must outlive the read.
class ReadBufferSource {
 public:
  virtual std::span<char> next_buffer() noexcept = 0;

 protected:
  ~ReadBufferSource() = default;
};

struct StreamLimits {
  // Read ahead from the kernel while fewer bytes than this are buffered.
  std::size_t read_high_water = 256 * 1024;
  // drain() waits while more bytes than this are queued for writing...
  std::size_t write_high_water = 1024 * 1024;
  // ...until no more than this are left.
  std::size_t write_low_water = 256 * 1024;
};

// is_open(), close() and wait_closed() come from IoHandle (io_handle.h).
class Stream : public IoHandle {
 public:
  static constexpr std::size_t kDefaultReadSize = 64 * 1024;
  static constexpr std::size_t kDefaultMaxLine = 64 * 1024;

  // An empty stream: every operation fails with Errc::closed.
  Stream() noexcept = default;

  [[nodiscard]] Future<std::string> read_some(std::size_t max = kDefaultReadSize);
  [[nodiscard]] Future<std::string> read_exactly(std::size_t n);
  [[nodiscard]] Future<std::string> read_until(std::string_view delimiter,
                                               std::size_t max = kDefaultMaxLine);
  // Reads 1..buffer.size() bytes into `buffer` (0 at end of stream). An
  // empty buffer fails with Errc::invalid_argument.
  [[nodiscard]] Future<std::size_t> read_some_into(std::span<char> buffer);
  // The same, into memory `source` lends once the bytes are there.
  [[nodiscard]] Future<std::size_t> read_some_into(ReadBufferSource& source);

  // Copies only what the kernel does not take at once.
  [[nodiscard]] Future<void> write(std::string_view data);
  // Takes the string (no copy); it is left empty. Once the kernel has all of
  // it, its memory serves a later read's result (a read result echoed or
  // forwarded this way costs no allocation).
  [[nodiscard]] Future<void> write(std::string&& data);
  [[nodiscard]] Future<void> write(const char* data) { return write(std::string_view(data)); }
  [[nodiscard]] Future<void> drain();
  [[nodiscard]] Future<void> shutdown();

  // Bytes queued for writing that the kernel has not taken yet.
  std::size_t write_buffered() const noexcept;
  // Bytes read from the kernel that no read has taken yet.
  std::size_t read_buffered() const noexcept;
  // Gives back bytes a read delivered that the caller could not keep: they
  // go in front of the buffer, and the next read gets them first. Only while
  // no read is pending; loop thread. Throws std::bad_alloc if the buffer
  // cannot grow (the bytes are then lost), nothing on an empty stream.
  void unread(std::string_view data);

  void set_limits(const StreamLimits& limits) noexcept;
  StreamLimits limits() const noexcept;

 protected:
  friend struct detail::StreamAccess;
  explicit Stream(detail::IoRef<detail::StreamBase> impl) noexcept;
  detail::StreamBase* impl() const noexcept;
};

}  // namespace weft
