// crawler::open_transport: name resolution and TCP connect for http://.
#include "examples/crawler/transport.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace crawler {

namespace {

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(weft::TcpStream stream) noexcept : stream_(std::move(stream)) {}
  weft::Stream& stream() noexcept override { return stream_; }

 private:
  weft::TcpStream stream_;
};

}  // namespace

weft::Task<std::unique_ptr<Transport>> open_transport(weft::Loop& loop, weft::Executor& resolver,
                                                      const Url& url,
                                                      weft::Duration connect_timeout) {
  if (url.scheme != "http") {
    throw weft::Exception(
        weft::Errc::invalid_argument,
        "http: " + url.scheme + ":// is not supported by this client (no TLS transport)");
  }
  std::vector<weft::SocketAddress> addresses;
  if (auto numeric = weft::SocketAddress::try_parse(url.host, url.port)) {
    addresses.push_back(*numeric);
  } else {
    addresses = co_await weft::resolve(loop, resolver, url.host, url.port);
  }
  std::exception_ptr last_failure;
  for (const weft::SocketAddress& address : addresses) {
    try {
      weft::TcpStream stream = co_await weft::TcpStream::connect(
          loop, address, {.timeout = connect_timeout, .no_delay = true, .limits = {}});
      co_return std::make_unique<TcpTransport>(std::move(stream));
    } catch (const weft::Cancelled&) {
      throw;
    } catch (const weft::Exception&) {
      last_failure = std::current_exception();  // try the next address
    }
  }
  if (last_failure) std::rethrow_exception(last_failure);
  throw weft::Exception(weft::Errc::host_not_found, "http: no address for " + url.host);
}

}  // namespace crawler
