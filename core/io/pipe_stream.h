// weft::PipeStream and weft::PipeListener: Unix domain sockets and pipes, with
// the Stream interface of stream.h (the same reads, writes, backpressure,
// half-close and closing as TCP).
//
//   auto listener = weft::PipeListener::bind(loop, "/tmp/app.sock");
//   auto client = weft::PipeStream::connect(loop, "/tmp/app.sock");
//   auto [a, b] = weft::PipeStream::pair(loop);        // a connected socketpair
//   auto in = weft::PipeStream::open(loop, fd);         // adopt a pipe end
//
// A PipeListener removes its socket file when it closes. Subprocesses'
// stdin/stdout/stderr are PipeStreams too (core/io/subprocess.h).
//
// Threads: the loop's thread; destroying elsewhere is allowed.
#pragma once

#include <string>
#include <utility>

#include "core/clock/clock.h"
#include "core/future/future.h"
#include "core/generator/generator.h"
#include "core/io/detail/io_object.h"
#include "core/io/io_handle.h"
#include "core/io/stream.h"

namespace weft {

namespace detail {
class ListenerImpl;
}

class PipeStream final : public Stream {
 public:
  PipeStream() noexcept = default;

  // Connects to the Unix domain socket at `path`: Errc::not_found if there is
  // none, connection_refused if nobody listens; `timeout` (loop clock; 0: no
  // limit) as TcpStream::connect.
  [[nodiscard]] static Future<PipeStream> connect(Loop& loop, const std::string& path,
                                                  Duration timeout = Duration(0));
  // Takes over an open descriptor (a pipe end, a connected socket): the stream
  // closes it. Throws weft::Exception.
  static PipeStream open(Loop& loop, int fd);
  // Two connected streams (socketpair(2)). Throws weft::Exception.
  static std::pair<PipeStream, PipeStream> pair(Loop& loop);

 private:
  friend struct detail::StreamAccess;
  explicit PipeStream(detail::IoRef<detail::StreamImpl> impl) noexcept;
};

// is_open(), close() and wait_closed() come from IoHandle (io_handle.h).
class PipeListener final : public IoHandle {
 public:
  PipeListener() noexcept = default;

  // Binds a Unix domain socket at `path` (which must not exist:
  // Errc::address_in_use) and listens. Throws weft::Exception.
  static PipeListener bind(Loop& loop, const std::string& path, int backlog = 511);

  // As TcpListener::accept.
  [[nodiscard]] Future<PipeStream> accept();
  // As TcpListener::connections.
  Generator<PipeStream> connections();
  std::string path() const;

 private:
  explicit PipeListener(detail::IoRef<detail::ListenerImpl> impl) noexcept;
  detail::ListenerImpl* impl() const noexcept;
};

}  // namespace weft
