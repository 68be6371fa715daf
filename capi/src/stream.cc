#include "capi/src/stream.h"

#include <string>
#include <string_view>

#include "capi/src/guard.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"

namespace weft::capi {

StreamRec& stream_of(const void* handle, const char* function) {
  HandleError error = HandleError::none;
  void* object = lookup_handle(handle, Kind::tcp_stream, error);
  if (object == nullptr && error == HandleError::wrong_kind) {
    object = lookup_handle(handle, Kind::pipe_stream, error);
  }
  if (object == nullptr && error == HandleError::wrong_kind) {
    object = lookup_handle(handle, Kind::tls_stream, error);
  }
  if (object == nullptr) fail_lookup(handle, Kind::pipe_stream, "stream");
  StreamRec& rec = *static_cast<StreamRec*>(static_cast<IoRec*>(object));
  rec.runtime->require_loop_thread(function);
  return rec;
}

void require_no_pending_read(StreamRec& rec) {
  if (has_pending_read(rec)) fail(Errc::invalid_state, "a read is pending");
}

void stream_read(weft_future_t** out, StreamRec& rec, std::size_t max, weft_bytes_callback callback,
                 void* user) {
  require_observer(out, reinterpret_cast<const void*>(callback));
  if (max == 0) fail(Errc::invalid_argument, "max is 0");
  rec.scope->require_open("read");
  require_no_pending_read(rec);
  start_bytes_op(
      *rec.scope, *rec.runtime, &rec, "read", [&] { return rec.stream().read_some(max); }, true,
      out, callback, user, &rec.stream())
      ->is_read = true;
}

std::span<char> CMemorySource::next_buffer() noexcept {
  std::size_t len = 0;
  void* given = nullptr;
  invoke_callback(*runtime, [&] { given = memory(user, &len); });
  lent = given != nullptr && len > 0 ? static_cast<char*>(given) : nullptr;
  if (lent == nullptr) return {};
  return std::span<char>(lent, len);
}

// A read whose bytes go into memory the caller's callback lends once they
// are there (CMemorySource, held by the stream's record: one read at a
// time). The callback gets that memory and the count.
void stream_read_into(weft_future_t** out, StreamRec& rec, weft_stream_memory_callback memory,
                      weft_bytes_callback callback, void* user) {
  require_observer(out, reinterpret_cast<const void*>(callback));
  require(reinterpret_cast<const void*>(memory), "memory");
  rec.scope->require_open("read_into");
  require_no_pending_read(rec);
  CMemorySource* const source = &rec.read_memory;
  source->runtime = rec.runtime;
  source->memory = memory;
  source->user = user;
  source->lent = nullptr;
  start_io_op(
      *rec.scope, *rec.runtime, &rec, "read_into", [&] { return rec.stream().read_some_into(*source); },
      out, callback != nullptr,
      [source, callback, user](Result<std::size_t>& result, OpFuture& output) {
        if (!result.ok())
          return deliver_failure(result, output, callback, user, nullptr, std::size_t{0});
        const std::size_t n = result.value();
        if (n == 0) {
          const char* eof = "the stream has ended";
          output.fail(to_status(Errc::end_of_file), eof);
          if (callback != nullptr) callback(user, to_status(Errc::end_of_file), eof, nullptr, 0);
          return;
        }
        char* const bytes = source->lent;  // before the callback asks for the next read
        output.complete(WEFT_OK, nullptr, Value::int64(static_cast<std::int64_t>(n)));
        if (callback != nullptr) callback(user, WEFT_OK, nullptr, bytes, n);
      },
      [callback, user](OpFuture& output, const char* why) {
        output.fail(WEFT_ERR_CANCELLED, why);
        if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, nullptr, 0);
      })
      ->is_read = true;
}

void stream_read_exactly(weft_future_t** out, StreamRec& rec, std::size_t n, weft_bytes_callback callback,
                         void* user) {
  require_observer(out, reinterpret_cast<const void*>(callback));
  if (n == 0) fail(Errc::invalid_argument, "n is 0");
  if (n > WEFT_STREAM_READ_MAX) fail(Errc::invalid_argument, "n is above WEFT_STREAM_READ_MAX");
  rec.scope->require_open("read_exactly");
  require_no_pending_read(rec);
  start_bytes_op(
      *rec.scope, *rec.runtime, &rec, "read_exactly", [&] { return rec.stream().read_exactly(n); },
      false, out, callback, user, &rec.stream())
      ->is_read = true;
}

void stream_read_until(weft_future_t** out, StreamRec& rec, const void* delimiter,
                       std::size_t delimiter_len, std::size_t max, weft_bytes_callback callback,
                       void* user) {
  require_observer(out, reinterpret_cast<const void*>(callback));
  require(delimiter, "delimiter");
  if (delimiter_len == 0) fail(Errc::invalid_argument, "delimiter_len is 0");
  if (max == 0) fail(Errc::invalid_argument, "max is 0");
  if (max > WEFT_STREAM_READ_MAX) fail(Errc::invalid_argument, "max is above WEFT_STREAM_READ_MAX");
  rec.scope->require_open("read_until");
  require_no_pending_read(rec);
  const std::string_view d(static_cast<const char*>(delimiter), delimiter_len);
  start_bytes_op(
      *rec.scope, *rec.runtime, &rec, "read_until", [&] { return rec.stream().read_until(d, max); },
      false, out, callback, user, &rec.stream())
      ->is_read = true;
}

void stream_drain(weft_future_t** out, StreamRec& rec, weft_callback callback, void* user) {
  rec.scope->require_open("drain");
  start_void_op(*rec.scope, *rec.runtime, &rec, "drain", [&] { return rec.stream().drain(); }, out, callback, user);
}

void stream_set_limits(StreamRec& rec, const weft_stream_limits* limits) {
  weft_stream_limits l = WEFT_STREAM_LIMITS_INIT;
  if (limits != nullptr) {
    check_struct_size(limits, limits->struct_size, sizeof(l), sizeof(l), "limits");
    l = *limits;
  }
  const StreamLimits defaults;
  StreamLimits core;
  core.read_high_water = l.read_high_water != 0 ? l.read_high_water : defaults.read_high_water;
  core.write_high_water = l.write_high_water != 0 ? l.write_high_water : defaults.write_high_water;
  core.write_low_water = l.write_low_water != 0 ? l.write_low_water : core.write_high_water / 4;
  if (core.write_low_water > core.write_high_water) {
    fail(Errc::invalid_argument, "write_low_water is above write_high_water");
  }
  rec.stream().set_limits(core);
}

void stream_write(weft_future_t** out, StreamRec& rec, const void* bytes, std::size_t len,
                  weft_callback callback, void* user) {
  if (len > 0) require(bytes, "bytes");
  rec.scope->require_open("write");
  // A write the kernel takes whole from a read's callback is answered right
  // after that callback (start_io_op's after_now): the next read is asked
  // for inside libuv's read callback, as a C++ reader's is.
  start_void_op(*rec.scope, *rec.runtime, &rec, "write",
                [&] { return rec.stream().write(std::string_view(static_cast<const char*>(bytes), len)); }, out,
                callback, user, /*after_now=*/true);
}

void stream_shutdown(weft_future_t** out, StreamRec& rec, weft_callback callback, void* user) {
  rec.scope->require_open("shutdown");
  start_void_op(*rec.scope, *rec.runtime, &rec, "shutdown", [&] { return rec.stream().shutdown(); }, out, callback, user);
}

}  // namespace weft::capi

using weft::capi::api;

extern "C" {

WEFT_API weft_status weft_stream_read(weft_future_t** out, weft_stream_t* stream, size_t max,
                                      weft_bytes_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_read(out, weft::capi::stream_of(stream, "weft_stream_read"), max, callback,
                            user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_read_into(weft_future_t** out, weft_stream_t* stream,
                                           weft_stream_memory_callback memory,
                                           weft_bytes_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_read_into(out, weft::capi::stream_of(stream, "weft_stream_read_into"), memory,
                                 callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_read_exactly(weft_future_t** out, weft_stream_t* stream, size_t n,
                                              weft_bytes_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_read_exactly(out, weft::capi::stream_of(stream, "weft_stream_read_exactly"),
                                    n, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_read_until(weft_future_t** out, weft_stream_t* stream,
                                            const void* delimiter, size_t delimiter_len, size_t max,
                                            weft_bytes_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_read_until(out, weft::capi::stream_of(stream, "weft_stream_read_until"),
                                  delimiter, delimiter_len, max, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_drain(weft_future_t** out, weft_stream_t* stream,
                                       weft_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_drain(out, weft::capi::stream_of(stream, "weft_stream_drain"), callback,
                             user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_write_buffered(size_t* out, weft_stream_t* stream) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::StreamRec& rec = weft::capi::stream_of(stream, "weft_stream_write_buffered");
    weft::capi::require(out, "out");
    *out = rec.stream().write_buffered();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_read_buffered(size_t* out, weft_stream_t* stream) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::StreamRec& rec = weft::capi::stream_of(stream, "weft_stream_read_buffered");
    weft::capi::require(out, "out");
    *out = rec.stream().read_buffered();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_set_limits(weft_stream_t* stream, const weft_stream_limits* limits) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_set_limits(weft::capi::stream_of(stream, "weft_stream_set_limits"), limits);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_write(weft_future_t** out, weft_stream_t* stream, const void* bytes,
                                       size_t len, weft_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_write(out, weft::capi::stream_of(stream, "weft_stream_write"), bytes, len,
                             callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_shutdown(weft_future_t** out, weft_stream_t* stream,
                                          weft_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::stream_shutdown(out, weft::capi::stream_of(stream, "weft_stream_shutdown"),
                                callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_stream_close(weft_stream_t* stream) {
  if (stream == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::stream_of(stream, "weft_stream_close"));
    return WEFT_OK;
  });
}

}  // extern "C"
