#include "capi/src/tcp.h"

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/io/socket_address.h"
#include "core/loop/loop.h"

namespace weft::capi {

namespace {

using AnyFn = TcpOp::AnyFn;

void no_callback(void*, weft_status) {}

void call_c(TcpOp::Type type, AnyFn callback, void* user, weft_status status);

// Calls a user callback; an exception from a C++ host's callback goes to the
// loop's error report, never through the C API.
template <class F>
void invoke(Runtime& runtime, F&& call) noexcept {
  try {
    call();
  } catch (...) {
    runtime.loop.report({ExceptionContext::Kind::callback_exception, "exception in a TCP callback",
                         std::current_exception(), Duration(0)});
  }
}

// Calls an op's C callback with a failure (or WEFT_OK for write/shutdown).
void call_plain(Runtime& runtime, TcpOp::Type type, AnyFn callback, void* user, weft_status status) noexcept {
  invoke(runtime, [&] { call_c(type, callback, user, status); });
}

void call_c(TcpOp::Type type, AnyFn callback, void* user, weft_status status) {
  switch (type) {
    case TcpOp::Type::accept:
    case TcpOp::Type::connect:
      reinterpret_cast<weft_tcp_stream_callback>(callback)(user, status, nullptr);
      break;
    case TcpOp::Type::read:
      reinterpret_cast<weft_tcp_read_callback>(callback)(user, status, nullptr, 0);
      break;
    case TcpOp::Type::write:
    case TcpOp::Type::shutdown:
      reinterpret_cast<weft_callback>(callback)(user, status);
      break;
  }
}

// Takes a pending op out of its lists and its scope's count; returns its
// callback (cleared in the op). The op stays for its continuation to free.
AnyFn retire(TcpOp* op) noexcept {
  if (op->rec != nullptr) {
    op->rec->ops.remove(op);
  } else {
    op->scope->tcp_connects.remove(op);
  }
  --op->scope->tcp_pending;
  return std::exchange(op->callback, nullptr);
}

// A new stream record in `scope`, with its handle.
TcpRec* adopt_stream(Scope& scope, TcpStream stream) {
  Runtime& runtime = scope.runtime;
  TcpRec* rec = runtime.allocator.make<TcpRec>();
  try {
    rec->handle = runtime.arena.add(Kind::tcp_stream, rec);
  } catch (...) {
    runtime.allocator.destroy(rec);
    throw;
  }
  rec->runtime = &runtime;
  rec->scope = &scope;
  rec->core_stream = std::move(stream);
  scope.tcp.push_back(rec);
  return rec;
}

// The continuation of every op: runs on the loop, from a loop run.
template <class T>
void complete(TcpOp* op, Result<T>& result) noexcept {
  Runtime& runtime = *op->runtime;
  if (op->callback == nullptr) {  // cancelled earlier: its callback was called
    runtime.allocator.destroy(op);
    return;
  }
  Scope& scope = *op->scope;
  const TcpOp::Type type = op->type;
  void* const user = op->user;
  const AnyFn callback = retire(op);
  runtime.allocator.destroy(op);
  weft_status status = result.ok() ? WEFT_OK : to_status(result.error().code());
  if constexpr (std::is_same_v<T, TcpStream>) {
    weft_tcp_stream_t* handle = nullptr;
    if (status == WEFT_OK) {
      try {
        handle = as_handle<weft_tcp_stream_t>(adopt_stream(scope, std::move(result).value())->handle);
      } catch (...) {
        status = to_status(Errc::no_memory);
      }
    }
    settled(&scope);
    invoke(runtime, [&] { reinterpret_cast<weft_tcp_stream_callback>(callback)(user, status, handle); });
  } else if constexpr (std::is_same_v<T, std::string>) {
    settled(&scope);
    if (status != WEFT_OK) {
      call_plain(runtime, type, callback, user, status);
      return;
    }
    const std::string& bytes = result.value();
    if (bytes.empty()) {
      call_plain(runtime, type, callback, user, to_status(Errc::end_of_file));
    } else {
      invoke(runtime, [&] {
        reinterpret_cast<weft_tcp_read_callback>(callback)(user, WEFT_OK, bytes.data(), bytes.size());
      });
    }
  } else {
    settled(&scope);
    call_plain(runtime, type, callback, user, status);
  }
}

// Makes the op for `future` and attaches its continuation.
template <class T>
void start_op(Scope& scope, TcpRec* rec, TcpOp::Type type, AnyFn callback, void* user,
              Future<T> future) {
  Runtime& runtime = scope.runtime;
  TcpOp* op = runtime.allocator.make<TcpOp>();
  op->runtime = &runtime;
  op->scope = &scope;
  op->rec = rec;
  op->type = type;
  op->callback = callback;
  op->user = user;
  op->future = std::move(future);
  try {
    std::get<Future<T>>(op->future).then(runtime.loop, [op](Result<T> result) { complete<T>(op, result); });
  } catch (...) {
    std::get<Future<T>>(op->future).cancel();
    runtime.allocator.destroy(op);
    throw;
  }
  if (rec != nullptr) {
    rec->ops.push_back(op);
  } else {
    scope.tcp_connects.push_back(op);
  }
  ++scope.tcp_pending;
}

TcpRec& rec_of(const void* handle, Kind kind, const char* what, const char* function) {
  TcpRec& rec = lookup<TcpRec>(handle, kind, what);
  rec.runtime->require_loop_thread(function);
  return rec;
}

SocketAddress address_of(const char* host, uint16_t port) {
  require(host, "host");
  std::optional<SocketAddress> address = SocketAddress::try_parse(host, port);
  if (!address) fail(Errc::invalid_argument, std::string("not a numeric IP address: \"") + host + "\"");
  return *address;
}

}  // namespace

void cancel_tcp_op(TcpOp* op) noexcept {
  Runtime& runtime = *op->runtime;
  const TcpOp::Type type = op->type;
  void* const user = op->user;
  const AnyFn callback = retire(op);
  std::visit(
      [](auto& future) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(future)>, std::monostate>) future.cancel();
      },
      op->future);
  settled(op->scope);
  InCallback in_callback(runtime);  // possibly outside any loop run
  call_plain(runtime, type, callback, user, WEFT_ERR_CANCELLED);
}

void end_tcp(TcpRec* rec) noexcept {
  Runtime& runtime = *rec->runtime;
  Scope* scope = rec->scope;
  ++scope->busy;  // a cancelled callback may destroy the scope
  runtime.arena.remove(rec->handle);
  scope->tcp.remove(rec);
  if (rec->listener) {
    rec->core_listener.close();
  } else {
    rec->core_stream.close();
  }
  while (TcpOp* op = rec->ops.front()) cancel_tcp_op(op);
  runtime.allocator.destroy(rec);
  --scope->busy;
  settled(scope);
}

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::Kind;
using weft::capi::require;
using weft::capi::Scope;
using weft::capi::TcpOp;
using weft::capi::TcpRec;

extern "C" {

WEFT_API weft_status weft_tcp_listen(weft_tcp_listener_t** out, weft_loop_t* loop, const char* host,
                                     uint16_t port, const weft_tcp_listen_options* options) {
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, __func__);
    require(out, "out");
    weft_tcp_listen_options o = WEFT_TCP_LISTEN_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
      o = *options;
    }
    if (o.backlog < 0) weft::capi::fail(weft::Errc::invalid_argument, "backlog < 0");
    const weft::SocketAddress address = weft::capi::address_of(host, port);
    scope.require_open(__func__);
    weft::TcpListenOptions core_options;
    if (o.backlog > 0) core_options.backlog = o.backlog;
    core_options.ipv6_only = o.ipv6_only != 0;
    core_options.no_delay = o.nagle == 0;
    weft::capi::Runtime& runtime = scope.runtime;
    weft::TcpListener listener = weft::TcpListener::bind(runtime.loop, address, core_options);
    TcpRec* rec = runtime.allocator.make<TcpRec>();
    try {
      rec->handle = runtime.arena.add(Kind::tcp_listener, rec);
    } catch (...) {
      runtime.allocator.destroy(rec);
      throw;
    }
    rec->runtime = &runtime;
    rec->scope = &scope;
    rec->listener = true;
    rec->core_listener = std::move(listener);
    scope.tcp.push_back(rec);
    *out = weft::capi::as_handle<weft_tcp_listener_t>(rec->handle);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_listener_port(uint16_t* out, weft_tcp_listener_t* listener) {
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(listener, Kind::tcp_listener, "listener", __func__);
    require(out, "out");
    *out = rec.core_listener.local_address().port();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_accept(weft_tcp_listener_t* listener, weft_tcp_stream_callback callback,
                                     void* user) {
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(listener, Kind::tcp_listener, "listener", __func__);
    require(reinterpret_cast<const void*>(callback), "callback");
    rec.scope->require_open(__func__);
    weft::capi::start_op(*rec.scope, &rec, TcpOp::Type::accept,
                         reinterpret_cast<TcpOp::AnyFn>(callback), user, rec.core_listener.accept());
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_listener_close(weft_tcp_listener_t* listener) {
  if (listener == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(listener, Kind::tcp_listener, "listener", __func__);
    weft::capi::end_tcp(&rec);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_connect(weft_loop_t* loop, const char* host, uint16_t port,
                                      uint32_t timeout_ms, weft_tcp_stream_callback callback,
                                      void* user) {
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, __func__);
    require(reinterpret_cast<const void*>(callback), "callback");
    const weft::SocketAddress address = weft::capi::address_of(host, port);
    scope.require_open(__func__);
    weft::TcpConnectOptions options;
    options.timeout = std::chrono::milliseconds(timeout_ms);
    weft::capi::start_op(scope, nullptr, TcpOp::Type::connect, reinterpret_cast<TcpOp::AnyFn>(callback),
                         user, weft::TcpStream::connect(scope.runtime.loop, address, options));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_read(weft_tcp_stream_t* stream, size_t max, weft_tcp_read_callback callback,
                                   void* user) {
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(stream, Kind::tcp_stream, "stream", __func__);
    require(reinterpret_cast<const void*>(callback), "callback");
    if (max == 0) weft::capi::fail(weft::Errc::invalid_argument, "max is 0");
    rec.scope->require_open(__func__);
    rec.ops.for_each([](TcpOp* op) {
      if (op->type == TcpOp::Type::read) weft::capi::fail(weft::Errc::invalid_state, "a read is pending");
    });
    weft::capi::start_op(*rec.scope, &rec, TcpOp::Type::read, reinterpret_cast<TcpOp::AnyFn>(callback),
                         user, rec.core_stream.read_some(max));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_write(weft_tcp_stream_t* stream, const void* bytes, size_t len,
                                    weft_callback callback, void* user) {
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(stream, Kind::tcp_stream, "stream", __func__);
    if (len > 0) require(bytes, "bytes");
    rec.scope->require_open(__func__);
    const weft_callback cb = callback != nullptr ? callback : weft::capi::no_callback;
    weft::capi::start_op(*rec.scope, &rec, TcpOp::Type::write, reinterpret_cast<TcpOp::AnyFn>(cb), user,
                         rec.core_stream.write(std::string_view(static_cast<const char*>(bytes), len)));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_shutdown(weft_tcp_stream_t* stream, weft_callback callback, void* user) {
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(stream, Kind::tcp_stream, "stream", __func__);
    rec.scope->require_open(__func__);
    const weft_callback cb = callback != nullptr ? callback : weft::capi::no_callback;
    weft::capi::start_op(*rec.scope, &rec, TcpOp::Type::shutdown, reinterpret_cast<TcpOp::AnyFn>(cb), user,
                         rec.core_stream.shutdown());
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tcp_close(weft_tcp_stream_t* stream) {
  if (stream == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    TcpRec& rec = weft::capi::rec_of(stream, Kind::tcp_stream, "stream", __func__);
    weft::capi::end_tcp(&rec);
    return WEFT_OK;
  });
}

}  // extern "C"
