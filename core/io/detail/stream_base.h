// weft::detail::StreamBase: the interface behind a weft::Stream. A Stream
// forwards each of its operations to one (see core/io/stream.h for what they
// mean); StreamImpl implements it over a libuv stream (TCP, pipe), TlsImpl
// over another Stream (TLS, core/io/tls_stream.h).
//
// Threads: as IoObject (io_object.h) — the loop's thread, but for add_ref,
// release and the cancel hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/stream.h"

namespace weft::detail {

class StreamBase : public IoObject {
 public:
  enum class ReadKind : std::uint8_t { some, exactly, until };

  virtual Future<std::string> read(ReadKind kind, std::size_t n, std::string_view delimiter) = 0;
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
};

}  // namespace weft::detail
