// crawler::open_transport: name resolution, TCP connect, and TLS for https://.
#include "examples/crawler/transport.h"

#include <exception>
#include <optional>
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

class TlsTransport final : public Transport {
 public:
  explicit TlsTransport(weft::TlsStream stream) noexcept : stream_(std::move(stream)) {}
  weft::Stream& stream() noexcept override { return stream_; }

 private:
  weft::TlsStream stream_;
};

}  // namespace

weft::Task<std::unique_ptr<Transport>> open_transport(weft::Loop& loop, weft::Executor& resolver,
                                                      const Url& url,
                                                      weft::Duration connect_timeout,
                                                      const weft::TlsContext& tls) {
  const bool secure = url.scheme == "https";
  if (!secure && url.scheme != "http") {
    throw weft::Exception(weft::Errc::invalid_argument,
                          "http: " + url.scheme + ":// is not supported by this client");
  }
  std::vector<weft::SocketAddress> addresses;
  if (auto numeric = weft::SocketAddress::try_parse(url.host, url.port)) {
    addresses.push_back(*numeric);
  } else {
    addresses = co_await weft::resolve(loop, resolver, url.host, url.port);
  }
  std::optional<weft::TcpStream> connected;
  std::exception_ptr last_failure;
  for (const weft::SocketAddress& address : addresses) {
    try {
      weft::TcpStream stream = co_await weft::TcpStream::connect(
          loop, address, {.timeout = connect_timeout, .no_delay = true, .limits = {}});
      connected.emplace(std::move(stream));
      break;
    } catch (const weft::Cancelled&) {
      throw;
    } catch (const weft::Exception&) {
      last_failure = std::current_exception();  // try the next address
    }
  }
  if (!connected) {
    if (last_failure) std::rethrow_exception(last_failure);
    throw weft::Exception(weft::Errc::host_not_found, "http: no address for " + url.host);
  }
  if (!secure) co_return std::make_unique<TcpTransport>(std::move(*connected));
  // A failed handshake is the server's answer, not the address's: no retry.
  weft::TlsConnectOptions options;
  options.server_name = url.host;
  weft::TlsStream tls_stream = co_await weft::TlsStream::connect(std::move(*connected), tls, options);
  co_return std::make_unique<TlsTransport>(std::move(tls_stream));
}

}  // namespace crawler
