#include "core/io/resolver.h"

#include <netdb.h>

#include <algorithm>
#include <memory>
#include <cerrno>
#include <string>
#include <utility>

#include "core/executor/run_in_executor.h"
#include "core/io/io_error.h"

namespace weft {

namespace {

Error resolve_error(int code, int saved_errno, const std::string& host) {
  const std::string what = "resolve '" + host + "'";
  switch (code) {
    case EAI_SYSTEM:
      return errno_error(saved_errno, what);
    case EAI_MEMORY:
      return Error(Errc::no_memory, what + ": " + gai_strerror(code));
    case EAI_FAMILY:
    case EAI_SOCKTYPE:
    case EAI_SERVICE:
    case EAI_BADFLAGS:
      return Error(Errc::invalid_argument, what + ": " + gai_strerror(code));
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_AGAIN:
    case EAI_FAIL:
    case EAI_ADDRFAMILY:
      return Error(Errc::host_not_found, what + ": " + gai_strerror(code));
    default:
      return Error(Errc::io_error, what + ": " + gai_strerror(code));
  }
}

std::vector<SocketAddress> lookup(const std::string& host, std::uint16_t port, ResolveOptions options) {
  addrinfo hints{};
  hints.ai_family = options.family;
  hints.ai_socktype = options.socktype;
  hints.ai_flags = AI_ADDRCONFIG;
  const std::string service = std::to_string(port);
  addrinfo* results = nullptr;
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
    // AI_ADDRCONFIG hides loopback-only families on hosts without other
    // interfaces (containers): ask again without it.
    hints.ai_flags = 0;
    rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  }
  if (rc != 0) throw Exception(resolve_error(rc, errno, host));
  // Freed also when copying the addresses out throws (out of memory).
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(results, &::freeaddrinfo);
  std::vector<SocketAddress> addresses;
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    SocketAddress address = SocketAddress::from_sockaddr(ai->ai_addr);
    if (address.empty()) continue;
    if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
      addresses.push_back(address);
    }
  }
  owned.reset();
  if (addresses.empty()) {
    throw Exception(Error(Errc::host_not_found, "resolve '" + host + "': no usable address"));
  }
  return addresses;
}

}  // namespace

Future<std::vector<SocketAddress>> resolve(Loop& loop, Executor& executor, std::string host,
                                           std::uint16_t port, ResolveOptions options) {
  return run_in_executor(loop, executor, [host = std::move(host), port, options] {
    return lookup(host, port, options);
  });
}

}  // namespace weft
