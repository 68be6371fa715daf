// weft::detail: OpenSSL's error reasons as text for weft::Error messages.
// OpenSSL keeps its error queue per thread; these read (and empty) the
// calling thread's queue. Any thread.
#pragma once

#include <string>

namespace weft::detail {

// Every reason in the queue, oldest first, joined with "; " (the queue is
// emptied); `fallback` if it was empty.
std::string take_openssl_errors(const char* fallback);

// Empties the queue (before an operation whose errors are to be read).
void clear_openssl_errors() noexcept;

}  // namespace weft::detail
