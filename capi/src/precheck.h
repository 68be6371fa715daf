// Misuse rejected before the core is entered, without a C++ exception.
//
// The misuse callers make most is a handle that is not a live handle of the
// kind a function takes: NULL, forged, destroyed or released, or of another
// kind. The exported functions that take such a handle first check it here,
// at their top, before api() and before anything else runs:
//
//   if (const weft_status s = weft::capi::check(__func__, stream); s != WEFT_OK) return s;
//
// The caller gets the same status, and the misuse handler the same function
// name and message, as from the body's own lookup (fail_lookup through
// api()), but no exception is thrown and unwound, which is slow, above all
// under the sanitizers. A check here repeats exactly the body's first check,
// so which failure a caller hears of never changes; when it passes, the body
// runs as before and looks the handle up again (a few loads).
//
// Any thread (the checks read the handle table only). Nothing here is owned.
#pragma once

#include "capi/src/guard.h"
#include "capi/src/handles.h"
#include "core/errc.h"
#include "weft/common.h"
#include "weft/status.h"

// The C handle types of the I/O headers (weft/common.h has the others).
struct weft_tcp_listener;
struct weft_pipe_listener;
struct weft_udp_socket;
struct weft_file;
struct weft_signal;
struct weft_process;
struct weft_stream;

namespace weft::capi {

// Reports `message` for `function` as fail(code, message) caught by api()
// would (to the misuse handler, if it is misuse) and returns the status.
// Allocates nothing.
[[gnu::cold, gnu::noinline]] weft_status reject(const char* function, Errc code,
                                                const char* message) noexcept;

// What fail_lookup(handle, kind, what) would fail with, without throwing
// (or allocating).
[[gnu::cold, gnu::noinline]] weft_status reject_lookup(const char* function, const void* handle,
                                                       Kind kind, const char* what) noexcept;

// WEFT_OK if `handle` is a live handle of `kind`; otherwise reject_lookup.
[[gnu::always_inline]] inline weft_status check_handle(const char* function, const void* handle,
                                                       Kind kind, const char* what) noexcept {
  HandleError error = HandleError::none;
  if (lookup_handle(handle, kind, error) != nullptr) [[likely]] return WEFT_OK;
  return reject_lookup(function, handle, kind, what);
}

// check() for each handle type, with the kind and the name the body's lookup
// uses for it (loop_scope, scope_of, future_of, listener_of, udp_of, ...).
inline weft_status check(const char* function, const weft_loop* h) noexcept {
  return check_handle(function, h, Kind::loop, "loop");
}
inline weft_status check(const char* function, const weft_scope* h) noexcept {
  return check_handle(function, h, Kind::scope, "scope");
}
inline weft_status check(const char* function, const weft_future* h) noexcept {
  return check_handle(function, h, Kind::future, "future");
}
inline weft_status check(const char* function, const weft_tcp_listener* h) noexcept {
  return check_handle(function, h, Kind::tcp_listener, "listener");
}
inline weft_status check(const char* function, const weft_pipe_listener* h) noexcept {
  return check_handle(function, h, Kind::pipe_listener, "listener");
}
inline weft_status check(const char* function, const weft_udp_socket* h) noexcept {
  return check_handle(function, h, Kind::udp_socket, "socket");
}
inline weft_status check(const char* function, const weft_file* h) noexcept {
  return check_handle(function, h, Kind::file, "file");
}
inline weft_status check(const char* function, const weft_signal* h) noexcept {
  return check_handle(function, h, Kind::signal_watcher, "signal");
}
inline weft_status check(const char* function, const weft_process* h) noexcept {
  return check_handle(function, h, Kind::process, "process");
}

// A stream handle may be of three kinds (stream_of): TCP, pipe, TLS.
inline weft_status check(const char* function, const weft_stream* h) noexcept {
  HandleError error = HandleError::none;
  if (lookup_handle(h, Kind::tcp_stream, error) != nullptr) [[likely]] return WEFT_OK;
  if (error == HandleError::wrong_kind) {
    if (lookup_handle(h, Kind::pipe_stream, error) != nullptr) return WEFT_OK;
    if (error == HandleError::wrong_kind && lookup_handle(h, Kind::tls_stream, error) != nullptr) {
      return WEFT_OK;
    }
  }
  return reject_lookup(function, h, Kind::pipe_stream, "stream");
}

}  // namespace weft::capi
