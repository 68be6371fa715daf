// weft::capi TCP: the records behind weft_tcp_listener_t and
// weft_tcp_stream_t, and the pending operations on them. Loop thread only.
//
// A TcpRec (listener or stream) is in its scope's `tcp` list from creation
// until it is ended (weft_tcp_close / weft_tcp_listener_close, or the scope's
// cancellation, which runtime teardown uses); ending it removes its handle,
// cancels its pending operations and frees it (the core object closes as it
// is destroyed).
//
// A TcpOp is one pending operation: its callback, and the core future whose
// continuation completes it. It is counted in its scope's `tcp_pending` and
// listed in its TcpRec's `ops` (a connect, which has no record yet, in its
// scope's `tcp_connects`) until its callback is called: by the continuation
// (the operation's outcome), or by cancel_tcp_op (WEFT_ERR_CANCELLED). Either
// way `callback` is cleared first, so it runs exactly once (a NULL write or
// shutdown callback is stored as a no-op). The op itself is
// freed by its continuation, which always runs: when the operation
// completes, when the closing core object fails it, or when the loop closes.
// The continuation of an op cancelled earlier only frees it.
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "core/future/future.h"
#include "core/io/tcp_listener.h"
#include "core/io/tcp_stream.h"
#include "weft/tcp.h"

namespace weft::capi {

struct Runtime;
struct Scope;
struct TcpRec;

struct TcpOp {
  enum class Type { accept, connect, read, write, shutdown };
  Runtime* runtime = nullptr;
  Scope* scope = nullptr;
  TcpRec* rec = nullptr;  // nullptr for a connect
  Type type = Type::read;
  using AnyFn = void (*)();
  AnyFn callback = nullptr;  // the C callback; nullptr once called
  void* user = nullptr;
  std::variant<std::monostate, Future<TcpStream>, Future<std::string>, Future<void>> future;
  ListHook hook;  // in rec->ops or scope->tcp_connects
};

struct TcpRec {
  Runtime* runtime = nullptr;
  Scope* scope = nullptr;
  bool listener = false;
  TcpListener core_listener;
  TcpStream core_stream;
  HandleBits handle = 0;
  List<TcpOp, &TcpOp::hook> ops;
  ListHook scope_hook;
};

// Ends a listener or stream (see the top of this file).
void end_tcp(TcpRec* rec) noexcept;

// Calls a pending op's callback with WEFT_ERR_CANCELLED and cancels its
// core future; the continuation frees the op later.
void cancel_tcp_op(TcpOp* op) noexcept;

}  // namespace weft::capi
