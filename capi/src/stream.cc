#include "capi/src/stream.h"

#include <string>
#include <string_view>

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"

namespace weft::capi {

namespace {

void no_callback(void*, weft_status) {}

weft_status status_of(const Error& error) noexcept { return to_status(error.code()); }

}  // namespace

StreamRec& stream_of(const void* handle, const char* function) {
  HandleError error = HandleError::none;
  void* object = lookup_handle(handle, Kind::tcp_stream, error);
  if (object == nullptr && error == HandleError::wrong_kind) {
    object = lookup_handle(handle, Kind::pipe_stream, error);
  }
  if (object == nullptr) fail_lookup(handle, Kind::pipe_stream, "stream");
  StreamRec& rec = *static_cast<StreamRec*>(static_cast<IoRec*>(object));
  rec.runtime->require_loop_thread(function);
  return rec;
}

IoOp* start_void_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, Future<void> future,
                   weft_callback callback, void* user) {
  const weft_callback cb = callback != nullptr ? callback : no_callback;
  return start_io_op(
      scope, runtime, rec, name, std::move(future),
      [cb, user](Result<void>& result) { cb(user, result.ok() ? WEFT_OK : status_of(result.error())); },
      [cb, user] { cb(user, WEFT_ERR_CANCELLED); });
}

IoOp* start_bytes_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name,
                    Future<std::string> future, bool empty_is_eof, weft_stream_read_callback callback,
                    void* user) {
  return start_io_op(
      scope, runtime, rec, name, std::move(future),
      [callback, user, empty_is_eof](Result<std::string>& result) {
        if (!result.ok()) {
          callback(user, status_of(result.error()), nullptr, 0);
        } else if (result.value().empty() && empty_is_eof) {
          callback(user, to_status(Errc::end_of_file), nullptr, 0);
        } else {
          const std::string& bytes = result.value();
          callback(user, WEFT_OK, bytes.data(), bytes.size());
        }
      },
      [callback, user] { callback(user, WEFT_ERR_CANCELLED, nullptr, 0); });
}

void require_no_pending_read(StreamRec& rec) {
  rec.ops.for_each([](IoOp* op) {
    if (op->is_read) fail(Errc::invalid_state, "a read is pending");
  });
}

void stream_read(StreamRec& rec, std::size_t max, weft_stream_read_callback callback, void* user) {
  require(reinterpret_cast<const void*>(callback), "callback");
  if (max == 0) fail(Errc::invalid_argument, "max is 0");
  rec.scope->require_open("read");
  require_no_pending_read(rec);
  start_bytes_op(*rec.scope, *rec.runtime, &rec, "read", rec.stream().read_some(max), true, callback,
                 user)->is_read = true;
}

void stream_write(StreamRec& rec, const void* bytes, std::size_t len, weft_callback callback,
                  void* user) {
  if (len > 0) require(bytes, "bytes");
  rec.scope->require_open("write");
  start_void_op(*rec.scope, *rec.runtime, &rec, "write",
                rec.stream().write(std::string_view(static_cast<const char*>(bytes), len)), callback, user);
}

void stream_shutdown(StreamRec& rec, weft_callback callback, void* user) {
  rec.scope->require_open("shutdown");
  start_void_op(*rec.scope, *rec.runtime, &rec, "shutdown", rec.stream().shutdown(), callback, user);
}

}  // namespace weft::capi

using weft::capi::api;

extern "C" {

WEFT_API weft_status weft_stream_read(weft_stream_t* stream, size_t max,
                                      weft_stream_read_callback callback, void* user) {
  return api(__func__, [&] {
    weft::capi::stream_read(weft::capi::stream_of(stream, __func__), max, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_write(weft_stream_t* stream, const void* bytes, size_t len,
                                       weft_callback callback, void* user) {
  return api(__func__, [&] {
    weft::capi::stream_write(weft::capi::stream_of(stream, __func__), bytes, len, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_shutdown(weft_stream_t* stream, weft_callback callback, void* user) {
  return api(__func__, [&] {
    weft::capi::stream_shutdown(weft::capi::stream_of(stream, __func__), callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_close(weft_stream_t* stream) {
  if (stream == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::stream_of(stream, __func__));
    return WEFT_OK;
  });
}

}  // extern "C"
