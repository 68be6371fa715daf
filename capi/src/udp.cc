// weft_udp_*: the C API over weft::UdpSocket (core/io/udp_socket.h). A
// socket is an IoRec (io.h) of Kind::udp_socket; its sends and its one
// receive are IoOps in its `ops` list, the receive marked is_read.
#include <climits>
#include <string>
#include <string_view>
#include <utility>

#include <cstring>

#include "capi/src/address.h"
#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "capi/src/stream.h"
#include "core/io/socket_address.h"
#include "core/io/udp_socket.h"
#include "weft/udp.h"

namespace weft::capi {

namespace {

struct UdpSocketRec final : IoRec {
  UdpSocket core;
  void close_core() noexcept override { core.close(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

UdpSocketRec& udp_of(const void* handle, const char* function) {
  return static_cast<UdpSocketRec&>(io_of(handle, Kind::udp_socket, "socket", function));
}

void require_no_pending_receive(UdpSocketRec& rec) {
  if (has_pending_read(rec)) fail(Errc::invalid_state, "a receive is already pending on this socket");
}

// Starts a receive: the datagram (bytes, sender, truncated) or the failure
// goes to the future (a weft_datagram) and to `callback`.
IoOp* start_receive(UdpSocketRec& rec, weft_future_t** out, weft_udp_recv_callback callback, void* user) {
  Allocator* allocator = &rec.runtime->allocator;
  IoOp* op = start_io_op(
      *rec.scope, *rec.runtime, &rec, "recv_from", [&] { return rec.core.recv_from(); }, out, callback != nullptr,
      [callback, user, allocator](Result<Datagram>& result, OpFuture& output) {
        if (!result.ok()) {
          return deliver_failure(result, output, callback, user, nullptr, std::size_t{0},
                                 static_cast<const weft_address*>(nullptr), 0);
        }
        const Datagram& datagram = result.value();
        weft_address from;
        to_c_address(datagram.peer, &from);
        if (output.wanted()) {
          try {
            void* memory = nullptr;
            Value value = Value::owned_block(*allocator, sizeof(weft_datagram) + datagram.data.size(), &memory);
            auto* d = static_cast<weft_datagram*>(memory);
            auto* payload = reinterpret_cast<char*>(d + 1);
            if (!datagram.data.empty()) std::memcpy(payload, datagram.data.data(), datagram.data.size());
            d->data = weft_bytes{payload, datagram.data.size()};
            d->from = from;
            d->truncated = datagram.truncated ? 1 : 0;
            output.complete(WEFT_OK, nullptr, std::move(value));
          } catch (...) {
            output.fail(WEFT_ERR_NO_MEMORY, "no memory to copy the datagram into the future");
          }
        }
        if (callback != nullptr) {
          callback(user, WEFT_OK, nullptr, datagram.data.data(), datagram.data.size(), &from,
                   datagram.truncated ? 1 : 0);
        }
      },
      [callback, user](OpFuture& output, const char* why) {
        output.fail(WEFT_ERR_CANCELLED, why);
        if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, nullptr, 0, nullptr, 0);
      });
  op->is_read = true;
  return op;
}

}  // namespace

}  // namespace weft::capi

using weft::Errc;
using weft::capi::api;
using weft::capi::fail;
using weft::capi::Kind;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_udp_bind(weft_udp_socket_t** out, weft_loop_t* loop, const char* host,
                                   uint16_t port, const weft_udp_bind_options* options) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_udp_bind");
    require(out, "out");
    weft_udp_bind_options o = WEFT_UDP_BIND_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
      o = *options;
    }
    const weft::SocketAddress address = weft::capi::parse_c_address(host, port);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::UdpOptions core_options;
    core_options.reuse_address = o.reuse_address != 0;
    core_options.ipv6_only = o.ipv6_only != 0;
    if (o.max_queued > 0) core_options.max_queued = o.max_queued;
    weft::capi::Runtime& runtime = scope.runtime;
    weft::UdpSocket socket = weft::UdpSocket::bind(runtime.loop, address, core_options);
    auto* rec = runtime.allocator.make<weft::capi::UdpSocketRec>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    rec->core = std::move(socket);
    *out = weft::capi::as_handle<weft_udp_socket_t>(weft::capi::register_io(rec, Kind::udp_socket));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_udp_local_address(weft_address* out, weft_udp_socket_t* socket) {
  if (const weft_status s = weft::capi::check(__func__, socket); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::UdpSocketRec& rec = weft::capi::udp_of(socket, "weft_udp_local_address");
    require(out, "out");
    const weft::SocketAddress address = rec.core.local_address();
    if (address.empty()) fail(Errc::io_error, "the socket's address could not be read");
    weft::capi::to_c_address(address, out);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_udp_send_to(weft_future_t** out, weft_udp_socket_t* socket,
                                      const void* bytes, size_t len, const char* host, uint16_t port,
                                      weft_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, socket); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::UdpSocketRec& rec = weft::capi::udp_of(socket, "weft_udp_send_to");
    if (len > 0) require(bytes, "bytes");
    if (len > UINT_MAX) fail(Errc::message_too_long, "a datagram of more than 4 GiB");
    const weft::SocketAddress to = weft::capi::parse_c_address(host, port);
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_void_op(
        *rec.scope, *rec.runtime, &rec, "send_to",
        [&] { return rec.core.send_to(std::string_view(static_cast<const char*>(bytes), len), to); }, out,
        callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_udp_recv_from(weft_future_t** out, weft_udp_socket_t* socket,
                                        weft_udp_recv_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, socket); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::UdpSocketRec& rec = weft::capi::udp_of(socket, "weft_udp_recv_from");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::require_no_pending_receive(rec);
    weft::capi::start_receive(rec, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_udp_close(weft_udp_socket_t* socket) {
  if (socket == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, socket); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::udp_of(socket, "weft_udp_close"));
    return WEFT_OK;
  });
}

}  // extern "C"
