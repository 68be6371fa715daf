// weft's I/O errors: libuv status codes (negative errno values on Unix, plus
// UV_EOF and the UV_EAI_* resolver codes) turned into weft::Error.
//
// Every I/O operation reports failure as a weft::Error whose code comes from
// the one table in core/errc.h, so the C statuses (generated from the same
// table) map one-to-one. The message names the operation and keeps libuv's
// own text and error name for the log ("connect 127.0.0.1:9: connection
// refused (ECONNREFUSED)"). Codes without a weft counterpart become
// Errc::io_error, with the details in the message.
#pragma once

#include <string_view>

#include "core/errc.h"
#include "core/error.h"

namespace weft {

// The weft code for a libuv status (< 0). 0 maps to Errc::ok.
Errc errc_from_uv(int status) noexcept;

// The weft code for an errno value (> 0), as set by a failed system call.
inline Errc errc_from_errno(int error_number) noexcept { return errc_from_uv(-error_number); }

// An Error for a failed libuv call or callback status: `what` names the
// operation ("connect 127.0.0.1:9", "read"), libuv's text follows.
Error uv_error(int status, std::string_view what);

// The same for an errno value.
inline Error errno_error(int error_number, std::string_view what) {
  return uv_error(-error_number, what);
}

// Throws weft::Exception(uv_error(status, what)) if status < 0.
void throw_if_uv_error(int status, std::string_view what);

}  // namespace weft
