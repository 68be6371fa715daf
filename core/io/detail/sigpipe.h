// weft::detail::ignore_default_sigpipe: keeps a write to a gone peer from
// ending the process.
//
// A write to a socket or pipe whose peer is gone raises SIGPIPE (libuv writes
// with write/writev, which have no MSG_NOSIGNAL), and SIGPIPE's default
// action ends the process, so the write's future would never fail with
// Errc::broken_pipe. Every stream calls this as it is created: while the
// process has SIGPIPE's default action, it is set to ignored; a handler the
// host installed, or an ignore already in place, stays as it is. One
// sigaction(2) read when nothing is to change. Any thread.
#pragma once

namespace weft::detail {

void ignore_default_sigpipe() noexcept;

}  // namespace weft::detail
