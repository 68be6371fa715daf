// libuv and errno codes map one-to-one onto weft's codes, with readable
// messages.
#include <catch2/catch.hpp>

#include <uv.h>

#include <cerrno>
#include <string>

#include "core/error.h"
#include "core/io/io.h"

TEST_CASE("libuv codes map to weft codes", "[io_error]") {
  using weft::Errc;
  CHECK(weft::errc_from_uv(0) == Errc::ok);
  CHECK(weft::errc_from_uv(UV_ECONNREFUSED) == Errc::connection_refused);
  CHECK(weft::errc_from_uv(UV_ECONNRESET) == Errc::connection_reset);
  CHECK(weft::errc_from_uv(UV_EPIPE) == Errc::broken_pipe);
  CHECK(weft::errc_from_uv(UV_ETIMEDOUT) == Errc::timed_out);
  CHECK(weft::errc_from_uv(UV_EADDRINUSE) == Errc::address_in_use);
  CHECK(weft::errc_from_uv(UV_EMFILE) == Errc::too_many_open_files);
  CHECK(weft::errc_from_uv(UV_ENFILE) == Errc::too_many_open_files);
  CHECK(weft::errc_from_uv(UV_ENOENT) == Errc::not_found);
  CHECK(weft::errc_from_uv(UV_EHOSTUNREACH) == Errc::host_unreachable);
  CHECK(weft::errc_from_uv(UV_ENETUNREACH) == Errc::network_unreachable);
  CHECK(weft::errc_from_uv(UV_EOF) == Errc::end_of_file);
  CHECK(weft::errc_from_uv(UV_EACCES) == Errc::permission_denied);
  CHECK(weft::errc_from_uv(UV_ECANCELED) == Errc::cancelled);
  CHECK(weft::errc_from_uv(UV_EAI_NONAME) == Errc::host_not_found);
  CHECK(weft::errc_from_uv(UV_EINVAL) == Errc::invalid_argument);
  CHECK(weft::errc_from_uv(UV_ENOSPC) == Errc::no_space);
  CHECK(weft::errc_from_uv(UV_EXDEV) == Errc::io_error);  // no weft code of its own
}

TEST_CASE("errno values map the same way", "[io_error]") {
  CHECK(weft::errc_from_errno(ECONNREFUSED) == weft::Errc::connection_refused);
  CHECK(weft::errc_from_errno(EDQUOT) == weft::Errc::no_space);
  CHECK(weft::errno_error(ENOENT, "open /x").code() == weft::Errc::not_found);
}

TEST_CASE("an I/O error's message names the operation and libuv's error", "[io_error]") {
  weft::Error error = weft::uv_error(UV_ECONNREFUSED, "connect 127.0.0.1:9");
  CHECK(error.code() == weft::Errc::connection_refused);
  CHECK(error.message() == "connect 127.0.0.1:9: connection refused (ECONNREFUSED)");
  CHECK_THROWS_AS(weft::throw_if_uv_error(UV_EADDRINUSE, "bind"), weft::Exception);
  CHECK_NOTHROW(weft::throw_if_uv_error(0, "bind"));
}

TEST_CASE("the I/O codes keep their numbers and names", "[io_error]") {
  // Numbers are part of the C ABI: they never change.
  CHECK(static_cast<int>(weft::Errc::connection_refused) == 18);
  CHECK(static_cast<int>(weft::Errc::io_error) == 35);
  CHECK(weft::errc_name(weft::Errc::too_many_open_files) == "too_many_open_files");
  CHECK(weft::errc_message(weft::Errc::end_of_file) == "end of stream");
}
