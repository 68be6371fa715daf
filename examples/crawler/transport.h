// crawler::Transport: the byte stream an HTTP client talks over, opened for
// a URL's scheme. http:// gets a plain TCP connection; https:// is where a
// TLS stream over the TCP connection plugs in (not written yet: it fails
// with Errc::invalid_argument).
//
// Threads: the loop's thread. A Transport owns its connection; destroying
// it closes the connection.
#pragma once

#include <memory>

#include "core/weft.h"
#include "examples/crawler/url.h"

namespace crawler {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual weft::Stream& stream() noexcept = 0;
};

// Resolves url.host (numeric addresses directly, names on `resolver`),
// connects to the first address that accepts, within `connect_timeout`
// for each attempt.
weft::Task<std::unique_ptr<Transport>> open_transport(weft::Loop& loop, weft::Executor& resolver,
                                                      const Url& url,
                                                      weft::Duration connect_timeout);

}  // namespace crawler
