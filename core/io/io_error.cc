#include "core/io/io_error.h"

#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace weft {

Errc errc_from_uv(int status) noexcept {
  switch (status) {
    case 0:
      return Errc::ok;
    case UV_ECANCELED:
      return Errc::cancelled;
    case UV_ETIMEDOUT:
      return Errc::timed_out;
    case UV_EINVAL:
    case UV_EAI_BADFLAGS:
    case UV_EAI_FAMILY:
    case UV_EAI_SERVICE:
    case UV_EAI_SOCKTYPE:
      return Errc::invalid_argument;
    case UV_EBUSY:
    case UV_EALREADY:
    case UV_EISCONN:
      return Errc::invalid_state;
    case UV_EBADF:
      return Errc::closed;
    case UV_ENOMEM:
    case UV_ENOBUFS:
    case UV_EAI_MEMORY:
      return Errc::no_memory;
    case UV_ECONNREFUSED:
      return Errc::connection_refused;
    case UV_ECONNRESET:
      return Errc::connection_reset;
    case UV_EPIPE:
      return Errc::broken_pipe;
    case UV_EADDRINUSE:
      return Errc::address_in_use;
    case UV_EMFILE:
    case UV_ENFILE:
      return Errc::too_many_open_files;
    case UV_ENOENT:
      return Errc::not_found;
    case UV_EHOSTUNREACH:
    case UV_EHOSTDOWN:
      return Errc::host_unreachable;
    case UV_ENETUNREACH:
    case UV_ENETDOWN:
      return Errc::network_unreachable;
    case UV_EOF:
      return Errc::end_of_file;
    case UV_EACCES:
    case UV_EPERM:
      return Errc::permission_denied;
    case UV_EADDRNOTAVAIL:
      return Errc::address_not_available;
    case UV_ECONNABORTED:
      return Errc::connection_aborted;
    case UV_ENOTCONN:
      return Errc::not_connected;
    case UV_EEXIST:
      return Errc::already_exists;
    case UV_EAI_NONAME:
    case UV_EAI_NODATA:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_ADDRFAMILY:
      return Errc::host_not_found;
    case UV_ENOSPC:
    case -EDQUOT:  // libuv 1.44 has no UV_EDQUOT; on Unix its codes are -errno
      return Errc::no_space;
    case UV_EMSGSIZE:
    case UV_E2BIG:
    case UV_ENAMETOOLONG:
      return Errc::message_too_long;
    default:
      return Errc::io_error;
  }
}

Error uv_error(int status, std::string_view what) {
  // "<what>: <strerror> (<name>)", put together on the stack when it fits
  // (what is mostly a short name), so that a failure allocates only its
  // Error's text.
  const std::string_view parts[] = {what, what.empty() ? "" : ": ", uv_strerror(status), " (",
                                    uv_err_name(status), ")"};
  char text[256];
  std::size_t length = 0;
  for (std::string_view part : parts) {
    if (length + part.size() > sizeof text) {
      std::string message;
      for (std::string_view p : parts) message += p;
      return Error(errc_from_uv(status), message);
    }
    std::memcpy(text + length, part.data(), part.size());
    length += part.size();
  }
  return Error(errc_from_uv(status), std::string_view(text, length));
}

void throw_if_uv_error(int status, std::string_view what) {
  if (status < 0) throw Exception(uv_error(status, what));
}

}  // namespace weft
