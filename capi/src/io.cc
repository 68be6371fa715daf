#include "capi/src/io.h"

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"

namespace weft::capi {

Allocator& allocator_of(Runtime& runtime) noexcept { return runtime.allocator; }
Loop& loop_of(Runtime& runtime) noexcept { return runtime.loop; }

void report_callback_exception(Runtime& runtime, const char* what) noexcept {
  runtime.loop.report({ExceptionContext::Kind::callback_exception, what, std::current_exception(),
                       Duration(0)});
}

HandleBits register_io(IoRec* rec, Kind kind) {
  Runtime& runtime = *rec->runtime;
  try {
    rec->handle = runtime.arena.add(kind, rec);
  } catch (...) {
    rec->destroy();
    throw;
  }
  rec->kind = kind;
  rec->scope->io.push_back(rec);
  return rec->handle;
}

IoRec& io_of(const void* handle, Kind kind, const char* what, const char* function) {
  IoRec& rec = lookup<IoRec>(handle, kind, what);
  rec.runtime->require_loop_thread(function);
  return rec;
}

void retire_io_op(IoOp* op) noexcept {
  if (op->rec != nullptr) {
    op->rec->ops.remove(op);
  } else {
    op->scope->io_ops.remove(op);
  }
  --op->scope->io_pending;
  op->pending = false;
}

void link_io_op(IoOp* op) noexcept {
  if (op->rec != nullptr && (op->rec->kind == Kind::tcp_listener || op->rec->kind == Kind::tcp_stream)) {
    op->object_kind = WEFT_OBJECT_TCP_OPERATION;
  }
  if (op->rec != nullptr) {
    op->rec->ops.push_back(op);
  } else {
    op->scope->io_ops.push_back(op);
  }
  ++op->scope->io_pending;
}

void settle_scope(Scope* scope) noexcept { settled(scope); }

void cancel_io_op(IoOp* op) noexcept {
  Runtime& runtime = *op->runtime;
  Scope* scope = op->scope;
  retire_io_op(op);
  op->cancel_core();
  settled(scope);
  InCallback in_callback(runtime);  // possibly outside any loop run
  invoke_callback(runtime, [&] { op->call_cancelled(); });
}

bool has_pending_read(const IoRec& rec) noexcept {
  bool found = false;
  rec.ops.for_each([&](IoOp* op) { found = found || op->is_read; });
  return found;
}

weft_status cancel_pending(IoRec& rec, bool reads_only) noexcept {
  const HandleBits handle = rec.handle;
  const Kind kind = rec.kind;
  bool cancelled = false;
  for (;;) {
    IoOp* next = nullptr;
    rec.ops.for_each([&](IoOp* op) {
      if (next == nullptr && (!reads_only || op->is_read)) next = op;
    });
    if (next == nullptr) break;
    cancel_io_op(next);
    cancelled = true;
    // The callback may have ended the handle (and freed `rec`).
    HandleError error = HandleError::none;
    if (lookup_handle(as_handle<void>(handle), kind, error) == nullptr) break;
  }
  return cancelled ? WEFT_OK : WEFT_ERR_ALREADY_COMPLETED;
}

namespace {

void no_callback(void*, weft_status) {}

weft_status status_of(const Error& error) noexcept { return to_status(error.code()); }

}  // namespace

IoOp* start_void_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, Future<void> future,
                    weft_callback callback, void* user) {
  const weft_callback cb = callback != nullptr ? callback : no_callback;
  return start_io_op(
      scope, runtime, rec, name, std::move(future),
      [cb, user](Result<void>& result) { cb(user, result.ok() ? WEFT_OK : status_of(result.error())); },
      [cb, user] { cb(user, WEFT_ERR_CANCELLED); });
}

IoOp* start_bytes_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name,
                     Future<std::string> future, bool empty_is_eof, BytesCallback callback, void* user) {
  return start_io_op(
      scope, runtime, rec, name, std::move(future),
      [callback, user, empty_is_eof](Result<std::string>& result) {
        if (!result.ok()) {
          callback(user, status_of(result.error()), nullptr, 0);
        } else if (result.value().empty()) {
          if (empty_is_eof) {
            callback(user, to_status(Errc::end_of_file), nullptr, 0);
          } else {
            callback(user, WEFT_OK, nullptr, 0);
          }
        } else {
          const std::string& bytes = result.value();
          callback(user, WEFT_OK, bytes.data(), bytes.size());
        }
      },
      [callback, user] { callback(user, WEFT_ERR_CANCELLED, nullptr, 0); });
}

void end_io(IoRec* rec) noexcept {
  Runtime& runtime = *rec->runtime;
  Scope* scope = rec->scope;
  ++scope->busy;  // a cancelled callback may destroy the scope
  runtime.arena.remove(rec->handle);
  scope->io.remove(rec);
  rec->close_core();
  while (IoOp* op = rec->ops.front()) cancel_io_op(op);
  rec->destroy();
  --scope->busy;
  settled(scope);
}

}  // namespace weft::capi
