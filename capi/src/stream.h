// weft::capi streams: the record behind a weft_stream_t (and a
// weft_tcp_stream_t, which is a stream too), and the stream operations every
// kind of stream shares. Loop thread only.
//
// A StreamRec is an IoRec (io.h) whose core object is a weft::Stream: a TCP
// connection, a Unix domain socket or a pipe (a subprocess's stdio too). Its
// handle's kind says which (Kind::tcp_stream, Kind::pipe_stream); the
// weft_stream_* functions take any of them.
#pragma once

#include <cstddef>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "core/io/stream.h"
#include "weft/stream.h"

namespace weft::capi {

struct StreamRec : IoRec {
  virtual Stream& stream() noexcept = 0;

 protected:
  ~StreamRec() = default;
};

// A stream record over a core stream type S (TcpStream, PipeStream).
template <class S>
struct CoreStreamRec final : StreamRec {
  S core;
  Stream& stream() noexcept override { return core; }
  void close_core() noexcept override { core.close(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

// A new stream handle of `kind` in `scope` over `core`. Throws (and closes
// `core`) if it cannot be made.
template <class S>
HandleBits adopt_stream(Scope& scope, Runtime& runtime, S core, Kind kind) {
  auto* rec = allocator_of(runtime).template make<CoreStreamRec<S>>();
  rec->runtime = &runtime;
  rec->scope = &scope;
  rec->core = std::move(core);
  return register_io(rec, kind);
}

// Starts an operation whose outcome is a new connection (an accept or a
// connect): it becomes a stream handle of `kind` in `scope` before
// callback(user, WEFT_OK, handle) gets it; a failure or cancellation passes
// NULL. H is the handle type the callback takes.
template <class S, class H>
IoOp* start_new_stream_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, Future<S> future,
                          Kind kind, void (*callback)(void*, weft_status, H*), void* user) {
  Scope* const owner = &scope;
  Runtime* const rt = &runtime;
  return start_io_op(
      scope, runtime, rec, name, std::move(future),
      [owner, rt, kind, callback, user](Result<S>& result) {
        weft_status status = result.ok() ? WEFT_OK : to_status(result.error().code());
        H* handle = nullptr;
        if (status == WEFT_OK) {
          try {
            handle = as_handle<H>(adopt_stream(*owner, *rt, std::move(result).value(), kind));
          } catch (...) {
            status = to_status(Errc::no_memory);
          }
        }
        callback(user, status, handle);
      },
      [callback, user] { callback(user, WEFT_ERR_CANCELLED, nullptr); });
}

// Looks up a handle of any stream kind on the loop thread, or fails.
StreamRec& stream_of(const void* handle, const char* function);

// The operations behind weft_stream_* and weft_tcp_*. Each throws for bad
// input (before anything starts) and calls nothing then.
// Fails with invalid_state if a read is pending on `rec`.
void require_no_pending_read(StreamRec& rec);
void stream_read(StreamRec& rec, std::size_t max, weft_stream_read_callback callback, void* user);
void stream_read_exactly(StreamRec& rec, std::size_t n, weft_stream_read_callback callback,
                         void* user);
void stream_read_until(StreamRec& rec, const void* delimiter, std::size_t delimiter_len,
                       std::size_t max, weft_stream_read_callback callback, void* user);
void stream_drain(StreamRec& rec, weft_callback callback, void* user);
void stream_set_limits(StreamRec& rec, const weft_stream_limits* limits);
void stream_write(StreamRec& rec, const void* bytes, std::size_t len, weft_callback callback,
                  void* user);
void stream_shutdown(StreamRec& rec, weft_callback callback, void* user);

}  // namespace weft::capi
