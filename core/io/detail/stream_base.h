// weft::detail::StreamBase: the interface behind a weft::Stream. A Stream
// forwards each of its operations to one (see core/io/stream.h for what they
// mean); StreamImpl implements it over a libuv stream (TCP, pipe), TlsImpl
// over another Stream (TLS, core/io/tls_stream.h). What both keep of a
// pending read is a PendingRead (stream_base.cc).
//
// Threads: as IoObject (io_object.h) — the loop's thread, but for add_ref,
// release and the cancel hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/stream.h"

namespace weft::detail {

class StreamBase : public IoObject {
 public:
  enum class ReadKind : std::uint8_t { some, exactly, until, into };

  // Where a read_some_into's bytes go: the source's memory, or `fixed`.
  struct ReadTarget {
    ReadBufferSource* source = nullptr;
    std::span<char> fixed;
    std::span<char> buffer() const noexcept { return source != nullptr ? source->next_buffer() : fixed; }
  };

  // A pending read of any kind, as both implementations keep it: `promise`
  // for read_some/read_exactly/read_until, `into_promise` (and `target`)
  // for read_some_into.
  struct PendingRead {
    PendingRead(ReadKind k, std::size_t count, std::string d, Promise<std::string> p) noexcept
        : kind(k), n(count), delimiter(std::move(d)), promise(std::move(p)) {}
    PendingRead(ReadTarget t, Promise<std::size_t> p) noexcept
        : kind(ReadKind::into), target(t), into_promise(std::move(p)) {}

    ReadKind kind;
    std::size_t n = 0;  // some: at most; exactly: the count; until: max
    std::string delimiter;
    Promise<std::string> promise;
    ReadTarget target;
    Promise<std::size_t> into_promise;

    bool cancelled() const noexcept {
      return kind == ReadKind::into ? into_promise.cancelled() : promise.cancelled();
    }
    void fail(const Error& error) {
      if (kind == ReadKind::into) {
        into_promise.set_error(error);
      } else {
        promise.set_error(error);
      }
    }
    // At the end of the stream: read_some's "", read_some_into's 0, the
    // others' Errc::end_of_file.
    void end();
    // Copies up to `available` bytes from `data` into the target's memory
    // and completes the read with their count; returns how many it took (0:
    // the future was cancelled meanwhile, or the target declined, which
    // fails the read with Errc::no_memory).
    std::size_t copy_into(const char* data, std::size_t available);
    // A read_some_into served from a stream's buffer (`in`, its bytes from
    // `in_pos`, not empty): what the reader took is taken from it (all of
    // it: `in` emptied, `in_pos` 0).
    void take_into(std::string& in, std::size_t& in_pos);
  };

  // A read of any kind: refused if another is pending (or for bad
  // arguments), else completed at once or made pending by begin_read.
  Future<std::string> read(ReadKind kind, std::size_t n, std::string_view delimiter);
  Future<std::size_t> read_into(ReadTarget target);
  // `owned`, if given, holds [data, data + size) and may be moved from.
  virtual Future<void> write(const char* data, std::size_t size, std::string* owned) = 0;
  virtual Future<void> drain() = 0;
  virtual Future<void> shutdown() = 0;

  // Make ahead what the next write() of at most `size` bytes given by move
  // (`owned`), and the next shutdown(), need, so that they then allocate
  // nothing: a stream over this one (TLS) calls them before it commits to
  // bytes it cannot take back. What they make is kept until that write or
  // shutdown uses it. Throw std::bad_alloc; what was made so far is kept.
  virtual void reserve_write(std::size_t size) = 0;
  virtual void reserve_shutdown() = 0;

  virtual std::size_t write_buffered() const noexcept = 0;
  virtual std::size_t read_buffered() const noexcept = 0;
  // Puts `data` (bytes a read delivered) back in front of the buffer, for
  // the next read. No read may be pending. Throws std::bad_alloc only.
  virtual void unread(std::string_view data) = 0;
  virtual const StreamLimits& limits() const noexcept = 0;
  virtual void set_limits(const StreamLimits& limits) noexcept = 0;

 protected:
  using IoObject::IoObject;

  // Whether another read is pending (a cancelled one is dropped: the stream
  // is then free for the next).
  virtual bool refuse_second_read() = 0;
  // Completes `pending` at once if it can, or makes it the pending read.
  // Throws std::bad_alloc having started nothing for it.
  virtual void begin_read(PendingRead& pending) = 0;
};

}  // namespace weft::detail
