#include "core/io/tls_stream.h"

#include <utility>

#include "core/io/detail/tls_impl.h"

namespace weft {

TlsStream::TlsStream(detail::IoRef<detail::TlsImpl> impl) noexcept : Stream(std::move(impl)) {}

detail::TlsImpl* TlsStream::tls() const noexcept { return static_cast<detail::TlsImpl*>(impl()); }

Future<TlsStream> TlsStream::connect(Stream&& transport, const TlsContext& context, TlsConnectOptions options) {
  return detail::TlsImpl::start(transport, context, false, options.server_name);
}

Future<TlsStream> TlsStream::accept(Stream&& transport, const TlsContext& context) {
  return detail::TlsImpl::start(transport, context, true, std::string());
}

std::string TlsStream::alpn_protocol() const { return tls() != nullptr ? tls()->alpn_protocol() : std::string(); }
std::string TlsStream::server_name() const { return tls() != nullptr ? tls()->server_name() : std::string(); }
bool TlsStream::peer_verified() const { return tls() != nullptr && tls()->peer_verified(); }
std::string TlsStream::protocol_version() const {
  return tls() != nullptr ? tls()->protocol_version() : std::string();
}
std::string TlsStream::cipher() const { return tls() != nullptr ? tls()->cipher() : std::string(); }

}  // namespace weft
