// weft::resolve: DNS (getaddrinfo) off the loop thread.
//
//   weft::ThreadPool pool(2);
//   auto addresses = weft::resolve(loop, pool, "localhost", 8080);
//   std::move(addresses).then(loop, [](weft::Result<std::vector<weft::SocketAddress>> r) { ... });
//
// getaddrinfo blocks, so it runs on `executor` (a ThreadPool the host owns),
// never on the loop thread and never on libuv's process-wide thread pool
// (whose four threads every library in the process shares). The future's
// continuations run on `loop`. Failures: Errc::host_not_found (unknown name,
// or no address of the requested family), invalid_argument, no_memory,
// io_error; the message names the host and has getaddrinfo's own text.
// Cancelling the future before the lookup starts skips it; a lookup already
// running finishes and its result is dropped.
//
// Threads: call on the loop's thread or any other; the executor and the loop
// must outlive the lookup.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/executor/executor.h"
#include "core/future/future.h"
#include "core/io/socket_address.h"

namespace weft {

struct ResolveOptions {
  // AF_UNSPEC (any), AF_INET or AF_INET6.
  int family = AF_UNSPEC;
  // SOCK_STREAM (TCP) or SOCK_DGRAM (UDP); one address per result either way.
  int socktype = SOCK_STREAM;
};

// The addresses of `host` (a name or a numeric address) with `port`, in
// getaddrinfo's order, without duplicates.
[[nodiscard]] Future<std::vector<SocketAddress>> resolve(Loop& loop, Executor& executor, std::string host,
                                                         std::uint16_t port, ResolveOptions options = {});

}  // namespace weft
