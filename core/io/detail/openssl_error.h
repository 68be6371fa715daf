// weft::detail: OpenSSL's error reasons as text for weft::Error messages,
// and errors whose message is built without failing for want of memory.
// OpenSSL keeps its error queue per thread; these read (and empty) the
// calling thread's queue. Any thread.
#pragma once

#include <string>

#include "core/error.h"

namespace weft::detail {

// Every reason in the queue, oldest first, joined with "; " (the queue is
// emptied); `fallback` if it was empty.
std::string take_openssl_errors(const char* fallback);

// Empties the queue (before an operation whose errors are to be read).
void clear_openssl_errors() noexcept;

// An Error with the message make() builds or, where its memory is refused,
// the code's own message: the failure is still reported as what it is.
template <class F>
Error error_with(Errc code, F make) noexcept {
  try {
    return Error(code, make());
  } catch (...) {
    return Error(code);
  }
}

}  // namespace weft::detail
