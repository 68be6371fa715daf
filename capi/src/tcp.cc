#include "capi/src/tcp.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "capi/src/address.h"
#include "capi/src/guard.h"
#include "capi/src/ns.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "capi/src/stream.h"
#include "core/io/socket_address.h"
#include "core/io/tcp_stream.h"
#include "weft/tcp.h"

namespace weft::capi {

namespace {

TcpListenerRec& listener_of(const void* handle, const char* function) {
  return static_cast<TcpListenerRec&>(io_of(handle, Kind::tcp_listener, "listener", function));
}

StreamRec& tcp_stream_of(const void* handle, const char* function) {
  return static_cast<StreamRec&>(io_of(handle, Kind::tcp_stream, "stream", function));
}

// Starts an accept or connect (see start_new_stream_op), listed as a TCP
// operation.
void start_stream_op(Scope& scope, IoRec* rec, const char* name, StartFn<TcpStream> start,
                     weft_future_t** out, weft_stream_callback callback, void* user) {
  start_new_stream_op(scope, scope.runtime, rec, name, start, Kind::tcp_stream, out, callback,
                      user)
      ->object_kind = WEFT_OBJECT_TCP_OPERATION;
}

weft::TcpStream& tcp_core(StreamRec& rec) noexcept {
  return static_cast<CoreStreamRec<TcpStream>&>(rec).core;
}

// Fills `out` from an address the kernel gave, or fails with not_connected.
void put_address(const SocketAddress& address, weft_address* out, const char* what) {
  if (address.empty()) fail(Errc::not_connected, std::string("the socket has no ") + what + " address");
  to_c_address(address, out);
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::Kind;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_tcp_listen(weft_tcp_listener_t** out, weft_loop_t* loop, const char* host,
                                     uint16_t port, const weft_tcp_listen_options* options) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_tcp_listen");
    require(out, "out");
    weft_tcp_listen_options o = WEFT_TCP_LISTEN_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
      o = *options;
    }
    if (o.backlog < 0) weft::capi::fail(weft::Errc::invalid_argument, "backlog < 0");
    const weft::SocketAddress address = weft::capi::parse_c_address(host, port);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::TcpListenOptions core_options;
    if (o.backlog > 0) core_options.backlog = o.backlog;
    core_options.ipv6_only = o.ipv6_only != 0;
    core_options.no_delay = o.nagle == 0;
    weft::capi::Runtime& runtime = scope.runtime;
    weft::TcpListener listener = weft::TcpListener::bind(runtime.loop, address, core_options);
    auto* rec = runtime.allocator.make<weft::capi::TcpListenerRec>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    rec->core = std::move(listener);
    *out = weft::capi::as_handle<weft_tcp_listener_t>(weft::capi::register_io(rec, Kind::tcp_listener));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_listener_port(uint16_t* out, weft_tcp_listener_t* listener) {
  if (const weft_status s = weft::capi::check(__func__, listener); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::TcpListenerRec& rec = weft::capi::listener_of(listener, "weft_tcp_listener_port");
    require(out, "out");
    *out = rec.core.local_address().port();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_accept(weft_future_t** out, weft_tcp_listener_t* listener,
                                     weft_stream_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, listener); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::TcpListenerRec& rec = weft::capi::listener_of(listener, "weft_tcp_accept");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_stream_op(*rec.scope, &rec, "accept", [&] { return rec.core.accept(); }, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_connect(weft_future_t** out, weft_loop_t* loop, const char* host,
                                      uint16_t port, uint64_t timeout_ns, weft_stream_callback callback,
                                      void* user) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_tcp_connect");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    const weft::SocketAddress address = weft::capi::parse_c_address(host, port);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::TcpConnectOptions options;
    options.timeout = weft::capi::duration_of_ns(timeout_ns);
    weft::capi::start_stream_op(scope, nullptr, "connect",
                                [&] { return weft::TcpStream::connect(scope.runtime.loop, address, options); }, out,
                                callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_listener_close(weft_tcp_listener_t* listener) {
  if (listener == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, listener); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::listener_of(listener, "weft_tcp_listener_close"));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_set_nodelay(weft_stream_t* stream, int enable) {
  return api(__func__, [&] {
    weft::capi::tcp_core(weft::capi::tcp_stream_of(stream, "weft_tcp_set_nodelay"))
        .set_no_delay(enable != 0);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_set_keepalive(weft_stream_t* stream, int enable, uint64_t delay_ns) {
  return api(__func__, [&] {
    weft::TcpStream& core =
        weft::capi::tcp_core(weft::capi::tcp_stream_of(stream, "weft_tcp_set_keepalive"));
    if (enable != 0 && delay_ns == 0) {
      weft::capi::fail(weft::Errc::invalid_argument, "keepalive with a delay of 0");
    }
    // The kernel counts whole seconds: round up, and refuse what does not fit.
    const uint64_t seconds = delay_ns / 1000000000u + (delay_ns % 1000000000u != 0 ? 1 : 0);
    if (enable != 0 && seconds > 32767) {
      weft::capi::fail(weft::Errc::invalid_argument, "keepalive delay above 32767 s");
    }
    core.set_keep_alive(enable != 0, std::chrono::seconds(enable != 0 ? seconds : 60));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_local_address(weft_address* out, weft_stream_t* stream) {
  return api(__func__, [&] {
    weft::TcpStream& core =
        weft::capi::tcp_core(weft::capi::tcp_stream_of(stream, "weft_tcp_local_address"));
    require(out, "out");
    weft::capi::put_address(core.local_address(), out, "local");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_peer_address(weft_address* out, weft_stream_t* stream) {
  return api(__func__, [&] {
    weft::TcpStream& core =
        weft::capi::tcp_core(weft::capi::tcp_stream_of(stream, "weft_tcp_peer_address"));
    require(out, "out");
    weft::capi::put_address(core.peer_address(), out, "peer");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_listener_address(weft_address* out, weft_tcp_listener_t* listener) {
  return api(__func__, [&] {
    weft::capi::TcpListenerRec& rec =
        weft::capi::listener_of(listener, "weft_tcp_listener_address");
    require(out, "out");
    weft::capi::put_address(rec.core.local_address(), out, "local");
    return WEFT_OK;
  });
}

}  // extern "C"
