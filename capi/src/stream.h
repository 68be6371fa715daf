// weft::capi streams: the record behind a weft_stream_t, and the stream
// operations every kind of stream shares. Loop thread only.
//
// A StreamRec is an IoRec (io.h) whose core object is a weft::Stream: a TCP
// connection, a Unix domain socket or a pipe (a subprocess's stdio too), or
// TLS over one of those. Its handle's kind says which (Kind::tcp_stream,
// Kind::pipe_stream, Kind::tls_stream); the weft_stream_* functions take any
// of them.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "core/io/stream.h"
#include "weft/stream.h"

namespace weft::capi {

// The memory callback of a stream's pending weft_stream_read_into, as the
// core asks for it (a ReadBufferSource); `lent` is what it returned last.
struct CMemorySource final : ReadBufferSource {
  Runtime* runtime = nullptr;
  weft_stream_memory_callback memory = nullptr;
  void* user = nullptr;
  char* lent = nullptr;
  std::span<char> next_buffer() noexcept override;
};

struct StreamRec : IoRec {
  virtual Stream& stream() noexcept = 0;
  CMemorySource read_memory;  // for its read_into (one read at a time)

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

// A new stream handle of `kind` in `scope` over `core`, in `rec` if given
// (allocated ahead, taken over here). Throws (and closes `core`) if it
// cannot be made.
template <class S>
HandleBits adopt_stream(Scope& scope, Runtime& runtime, S core, Kind kind,
                        CoreStreamRec<S>* rec = nullptr) {
  if (rec == nullptr) rec = allocator_of(runtime).template make<CoreStreamRec<S>>();
  rec->runtime = &runtime;
  rec->scope = &scope;
  rec->core = std::move(core);
  return register_io(rec, kind);
}

// Starts an operation (`start()` starts it: see start_io_op) whose outcome
// is a new connection (an accept or a connect): it becomes a stream handle of `kind` in `scope` before the
// future resolves with it (a POINTER value) and callback(user, WEFT_OK,
// NULL, handle) gets it; a failure or cancellation passes NULL.
template <class Start>
IoOp* start_new_stream_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, Start&& start,
                          Kind kind, weft_future_t** out, weft_stream_callback callback, void* user) {
  using S = typename std::invoke_result_t<Start&>::value_type;
  Scope* const owner = &scope;
  Runtime* const rt = &runtime;
  // The new stream's record and the future's POINTER value are allocated
  // now, before anything starts: a refusal then is the call's, and an
  // accepted connection is not dropped for want of them later.
  Spare<CoreStreamRec<S>> spare(allocator_of(runtime));
  Value value;
  if (out != nullptr)
    value = Value::from_c(weft_value_pointer(nullptr, nullptr), allocator_of(runtime));
  return start_io_op(
      scope, runtime, rec, name, start, out, callback != nullptr,
      [owner, rt, kind, callback, user, spare = std::move(spare), value = std::move(value)](
          Result<S>& result, OpFuture& output) mutable {
        if (!result.ok()) return deliver_failure(result, output, callback, user, nullptr);
        // Only the handle table's growth can still be refused here.
        const char* why = "no memory for the new connection's handle";
        weft_stream_t* handle;
        try {
          handle = as_handle<weft_stream_t>(
              adopt_stream(*owner, *rt, std::move(result).value(), kind, spare.take()));
        } catch (...) {
          output.fail(WEFT_ERR_NO_MEMORY, why);  // adopt_stream closed the connection
          if (callback != nullptr) callback(user, WEFT_ERR_NO_MEMORY, why, nullptr);
          return;
        }
        value.set_pointer(handle);
        output.complete(WEFT_OK, nullptr, output.wanted() ? std::move(value) : Value());
        if (callback != nullptr) callback(user, WEFT_OK, nullptr, handle);
      },
      [callback, user](OpFuture& output, const char* why) {
        output.fail(WEFT_ERR_CANCELLED, why);
        if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, nullptr);
      });
}

// Looks up a handle of any stream kind on the loop thread, or fails.
StreamRec& stream_of(const void* handle, const char* function);

// The operations behind weft_stream_*. Each throws for bad input (before
// anything starts) and calls nothing then.
// Fails with invalid_state if a read is pending on `rec`.
void require_no_pending_read(StreamRec& rec);
void stream_read(weft_future_t** out, StreamRec& rec, std::size_t max, weft_bytes_callback callback,
                 void* user);
void stream_read_into(weft_future_t** out, StreamRec& rec, weft_stream_memory_callback memory,
                      weft_bytes_callback callback, void* user);
void stream_read_exactly(weft_future_t** out, StreamRec& rec, std::size_t n, weft_bytes_callback callback,
                         void* user);
void stream_read_until(weft_future_t** out, StreamRec& rec, const void* delimiter,
                       std::size_t delimiter_len, std::size_t max, weft_bytes_callback callback,
                       void* user);
void stream_drain(weft_future_t** out, StreamRec& rec, weft_callback callback, void* user);
void stream_set_limits(StreamRec& rec, const weft_stream_limits* limits);
void stream_write(weft_future_t** out, StreamRec& rec, const void* bytes, std::size_t len,
                  weft_callback callback, void* user);
void stream_shutdown(weft_future_t** out, StreamRec& rec, weft_callback callback, void* user);

}  // namespace weft::capi
