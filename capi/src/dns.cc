// weft_resolve: the C API over weft::resolve (core/io/resolver.h). A lookup
// is an IoOp without a handle (rec nullptr, in its scope's io_ops), over the
// future run_in_executor gives; cancelling it before its job starts makes the
// job skip getaddrinfo.
#include <sys/socket.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "capi/src/address.h"
#include "capi/src/executor.h"
#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/io/resolver.h"
#include "weft/dns.h"

namespace weft::capi {

namespace {

ResolveOptions core_options(const weft_resolve_options& o) {
  ResolveOptions options;
  switch (raw_enum(o.family)) {
    case WEFT_RESOLVE_ANY: options.family = AF_UNSPEC; break;
    case WEFT_RESOLVE_IPV4: options.family = AF_INET; break;
    case WEFT_RESOLVE_IPV6: options.family = AF_INET6; break;
    default: fail(Errc::invalid_argument, "options.family is not a weft_resolve_family");
  }
  switch (raw_enum(o.socktype)) {
    case WEFT_RESOLVE_STREAM: options.socktype = SOCK_STREAM; break;
    case WEFT_RESOLVE_DATAGRAM: options.socktype = SOCK_DGRAM; break;
    default: fail(Errc::invalid_argument, "options.socktype is not a weft_resolve_socktype");
  }
  return options;
}

// Hands the addresses to `callback` as a borrowed weft_address array.
void deliver(Result<std::vector<SocketAddress>>& result, OpFuture& output, Allocator& allocator,
             weft_resolve_callback callback, void* user) {
  if (!result.ok()) {
    return deliver_failure(result, output, callback, user, static_cast<const weft_address*>(nullptr),
                           std::size_t{0});
  }
  const std::vector<SocketAddress>& found = result.value();
  const char* const no_memory = "no memory for the addresses found";
  // One block holds the list and the addresses; the callback borrows them.
  void* memory = nullptr;
  Value value;
  try {
    value = Value::owned_block(allocator, sizeof(weft_address_list) + sizeof(weft_address) * found.size(),
                               &memory);
  } catch (...) {
    output.fail(WEFT_ERR_NO_MEMORY, no_memory);
    if (callback != nullptr) callback(user, WEFT_ERR_NO_MEMORY, no_memory, nullptr, 0);
    return;
  }
  auto* list = static_cast<weft_address_list*>(memory);
  auto* addresses = reinterpret_cast<weft_address*>(list + 1);
  for (std::size_t i = 0; i < found.size(); ++i) to_c_address(found[i], &addresses[i]);
  list->addresses = addresses;
  list->count = found.size();
  const Value held = value;  // shared: keeps the addresses for the callback
  output.complete(WEFT_OK, nullptr, std::move(value));
  if (callback != nullptr) callback(user, WEFT_OK, nullptr, addresses, found.size());
}

}  // namespace

}  // namespace weft::capi

using weft::Errc;
using weft::capi::api;
using weft::capi::CExecutor;
using weft::capi::fail;
using weft::capi::Kind;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_resolve(weft_future_t** out, weft_loop_t* loop, const char* host,
                                  uint16_t port, const weft_resolve_options* options,
                                  weft_resolve_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_resolve");
    require(host, "host");
    if (*host == '\0') fail(Errc::invalid_argument, "host is empty");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    weft_resolve_options o = WEFT_RESOLVE_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
      o = *options;
    }
    const weft::ResolveOptions resolve_options = weft::capi::core_options(o);
    weft::capi::Runtime& runtime = scope.runtime;
    CExecutor* executor = runtime.default_pool;
    if (o.executor != nullptr) {
      executor = &weft::capi::lookup<CExecutor>(o.executor, Kind::executor, "options.executor");
      if (&executor->runtime != &runtime) {
        fail(Errc::invalid_argument, "options.executor belongs to another runtime than the loop");
      }
    }
    if (executor == nullptr) fail(Errc::closed, "the runtime is being destroyed");
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    std::string name(host);
    // Under the executor's lock, so that destroying it cannot refuse the job.
    std::lock_guard<std::mutex> lock(executor->mutex);
    if (!executor->accepting) fail(Errc::closed, "options.executor is being destroyed");
    weft::capi::start_io_op(
        scope, runtime, nullptr, "resolve",
        [&] { return weft::resolve(runtime.loop, executor->target(), std::move(name), port, resolve_options); },
        out,
        callback != nullptr,
        [allocator = &runtime.allocator, callback, user](weft::Result<std::vector<weft::SocketAddress>>& result,
                                                         weft::capi::OpFuture& output) {
          weft::capi::deliver(result, output, *allocator, callback, user);
        },
        [callback, user](weft::capi::OpFuture& output, const char* why) {
          output.fail(WEFT_ERR_CANCELLED, why);
          if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, nullptr, 0);
        });
    return WEFT_OK;
  });
}

}  // extern "C"
