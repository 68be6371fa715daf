// crawler::Transport: the byte stream an HTTP client talks over, opened for
// a URL's scheme. http:// gets a plain TCP connection; https:// a TLS stream
// (weft::TlsStream) over it, with SNI and the certificate checked against
// the URL's host.
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
// for each attempt; for https://, then makes the TLS handshake with `tls`
// (a client context), within the context's handshake timeout.
weft::Task<std::unique_ptr<Transport>> open_transport(weft::Loop& loop, weft::Executor& resolver,
                                                      const Url& url,
                                                      weft::Duration connect_timeout,
                                                      const weft::TlsContext& tls);

}  // namespace crawler
