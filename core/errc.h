// weft::Errc: the one table of weft's error codes.
//
// WEFT_ERRC_MAP lists (name, number, message) once; the C++ enum, the messages,
// the std::error_category and the C status codes (weft/status.h, written from
// it by capi/gen_status_h.py, checked by //capi:status_header_test) all come
// from it, and the bindings raise errors through those C statuses, so they
// cannot drift apart.
// Numbers are stable: new codes are appended, none is ever renumbered.
#pragma once

#include <string_view>
#include <system_error>

#define WEFT_ERRC_MAP(X)                                                    \
  X(ok, 0, "ok")                                                            \
  X(cancelled, 1, "operation cancelled")                                    \
  X(timed_out, 2, "operation timed out")                                    \
  X(broken_promise, 3, "promise destroyed without a result")                \
  X(invalid_argument, 4, "invalid argument")                                \
  X(invalid_state, 5, "operation not valid in the current state")           \
  X(wrong_thread, 6, "called from a thread that does not own the loop")     \
  X(closed, 7, "the loop or executor is closed")                            \
  X(already_completed, 8, "the future already has a result")                \
  X(no_memory, 9, "out of memory")                                          \
  X(exception, 10, "an exception escaped user code")                        \
  X(reentrant_run, 11, "the loop is already running on this thread")        \
  X(unknown, 12, "unknown error")                                           \
  X(invalid_handle, 13, "not a weft handle (NULL, or of another kind)")     \
  X(stale_handle, 14, "the handle was destroyed or released")               \
  X(not_ready, 15, "the future has not completed yet")                      \
  X(version_mismatch, 16, "incompatible weft library version")              \
  X(multiple_errors, 17, "several operations failed")                       \
  X(connection_refused, 18, "connection refused")                           \
  X(connection_reset, 19, "connection reset by peer")                       \
  X(broken_pipe, 20, "broken pipe: the peer is gone")                       \
  X(address_in_use, 21, "address already in use")                           \
  X(too_many_open_files, 22, "too many open files")                         \
  X(not_found, 23, "no such file or directory")                             \
  X(host_unreachable, 24, "host unreachable")                               \
  X(network_unreachable, 25, "network unreachable")                         \
  X(end_of_file, 26, "end of stream")                                       \
  X(permission_denied, 27, "permission denied")                             \
  X(address_not_available, 28, "address not available")                     \
  X(connection_aborted, 29, "connection aborted")                           \
  X(not_connected, 30, "socket is not connected")                           \
  X(already_exists, 31, "already exists")                                   \
  X(host_not_found, 32, "host name not found")                              \
  X(no_space, 33, "no space left on device")                                \
  X(message_too_long, 34, "message too long")                               \
  X(io_error, 35, "input/output error")                                     \
  X(tls_handshake_failed, 36, "TLS handshake failed")                       \
  X(tls_certificate_untrusted, 37, "TLS certificate not trusted")           \
  X(tls_host_mismatch, 38, "TLS certificate does not match the host name")  \
  X(tls_protocol_error, 39, "TLS protocol error")

namespace weft {

enum class Errc : int {
#define WEFT_ERRC_ENUM(name, number, message) name = number,
  WEFT_ERRC_MAP(WEFT_ERRC_ENUM)
#undef WEFT_ERRC_ENUM
};

// The fixed message of a code ("unknown error" for numbers not in the table).
std::string_view errc_message(Errc code) noexcept;

// The code's name as written in the table ("timed_out").
std::string_view errc_name(Errc code) noexcept;

// The std::error_category for weft codes (name "weft").
const std::error_category& weft_category() noexcept;

inline std::error_code make_error_code(Errc code) noexcept {
  return {static_cast<int>(code), weft_category()};
}

}  // namespace weft

template <>
struct std::is_error_code_enum<weft::Errc> : std::true_type {};
