// weft::detail::StreamImpl's requests to libuv: a write (uv_write_t, with
// the bytes it writes and the promise it completes) and a shutdown. Loop
// thread. A request is owned by the stream while it is spare and by libuv
// while it is queued: its callback takes it back (stream_impl_write.cc).
#pragma once

#include <uv.h>

#include <cstddef>
#include <string>

#include "core/future/future.h"
#include "core/io/detail/stream_impl.h"

namespace weft::detail {

struct StreamImpl::WriteRequest {
  uv_write_t request;
  std::string data;         // data[offset..] is what this request writes
  std::size_t offset = 0;   // bytes the kernel took at once (a string given by move)
  Promise<void> promise;
  Future<void> future;      // the promise's, made ahead (reserve_write) until a write takes it
  std::size_t bytes() const noexcept { return data.size() - offset; }
};

struct StreamImpl::ShutdownRequest {
  uv_shutdown_t request;
  Promise<void> promise;
  Future<void> future;      // the promise's, until shutdown() takes it
};

}  // namespace weft::detail
