#include "capi/src/io.h"

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/io/detail/read_buffers.h"
#include "core/io/stream.h"

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

void free_spare_ops(IoRec* rec) noexcept {
  for (SpareOpBlock& spare : rec->spare_ops) {
    if (spare.memory != nullptr) rec->runtime->allocator.deallocate(spare.memory, spare.size, spare.alignment);
    spare = SpareOpBlock{};
  }
}

void cancel_io_op(IoOp* op, const char* why) noexcept {
  Runtime& runtime = *op->runtime;
  Scope* scope = op->scope;
  retire_io_op(op);
  op->cancel_core();
  settled(scope);
  InCallback in_callback(runtime);  // possibly outside any loop run
  invoke_callback(runtime, [&] { op->call_cancelled(why); });
}

void IoOp::on_output_cancelled() noexcept {
  if (pending) cancel_io_op(this, kOpScopeCancelled);
}

bool IoOp::on_cancel_requested() noexcept {
  // Only if the core operation can still be stopped: otherwise its outcome
  // (a read's bytes, say) is already on its way and is delivered as it is.
  if (!pending || !cancel_core()) return false;
  Runtime& runtime = *this->runtime;
  Scope* sc = scope;
  retire_io_op(this);
  settled(sc);
  InCallback in_callback(runtime);  // possibly outside any loop run
  invoke_callback(runtime, [&] { call_cancelled(kOpCancelRequested); });
  return true;
}

void require_observer(const void* out, const void* callback) {
  if (out == nullptr && callback == nullptr) {
    fail(Errc::invalid_argument, "out and callback are both NULL: the result would be lost");
  }
}

bool has_pending_read(const IoRec& rec) noexcept {
  bool found = false;
  rec.ops.for_each([&](IoOp* op) { found = found || op->is_read; });
  return found;
}

IoOp* start_void_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, StartFn<void> start,
                    weft_future_t** out, weft_callback callback, void* user, bool after_now) {
  return start_io_op(
      scope, runtime, rec, name, start, out, callback != nullptr,
      [callback, user](Result<void>& result, OpFuture& output) {
        if (!result.ok()) return deliver_failure(result, output, callback, user);
        output.complete(WEFT_OK, nullptr);
        if (callback != nullptr) callback(user, WEFT_OK, nullptr);
      },
      [callback, user](OpFuture& output, const char* why) {
        output.fail(WEFT_ERR_CANCELLED, why);
        if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why);
      },
      after_now);
}

IoOp* start_bytes_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name,
                     StartFn<std::string> start, bool empty_is_eof, weft_future_t** out,
                     weft_bytes_callback callback, void* user, Stream* source) {
  Allocator* allocator = &runtime.allocator;
  return start_io_op(
      scope, runtime, rec, name, start, out, callback != nullptr,
      [callback, user, empty_is_eof, allocator, source](Result<std::string>& result,
                                                        OpFuture& output) {
        if (!result.ok())
          return deliver_failure(result, output, callback, user, nullptr, std::size_t{0});
        const std::string& bytes = result.value();
        if (bytes.empty() && empty_is_eof) {
          const char* eof = "the stream has ended";
          output.fail(to_status(Errc::end_of_file), eof);
          if (callback != nullptr) callback(user, to_status(Errc::end_of_file), eof, nullptr, 0);
          return;
        }
        if (output.wanted()) {
          try {
            output.complete(WEFT_OK, nullptr,
                            Value::from_c(weft_value_bytes(bytes.data(), bytes.size()), *allocator));
          } catch (...) {
            if (callback == nullptr && source != nullptr) {
              try {
                source->unread(bytes);
              } catch (...) {
                // The buffer could not grow (operator new): the bytes are lost.
              }
              output.fail(
                  WEFT_ERR_NO_MEMORY,
                  "no memory to copy the bytes read into the future; the next read gets them");
              return;
            }
            output.fail(WEFT_ERR_NO_MEMORY, "no memory to copy the bytes read into the future");
          }
        }
        if (callback != nullptr) {
          callback(user, WEFT_OK, nullptr, bytes.empty() ? nullptr : bytes.data(), bytes.size());
        }
        // The callback is done with the bytes: their buffer serves a later read.
        weft::detail::recycle_read_buffer(std::move(result.value()));
      },
      [callback, user](OpFuture& output, const char* why) {
        output.fail(WEFT_ERR_CANCELLED, why);
        if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, nullptr, 0);
      });
}

void end_io(IoRec* rec, const char* why) noexcept {
  Runtime& runtime = *rec->runtime;
  Scope* scope = rec->scope;
  ++scope->busy;  // a cancelled callback may destroy the scope
  runtime.arena.remove(rec->handle);
  scope->io.remove(rec);
  rec->close_core();
  while (IoOp* op = rec->ops.front()) cancel_io_op(op, why);
  free_spare_ops(rec);
  rec->destroy();
  --scope->busy;
  settled(scope);
}

}  // namespace weft::capi
