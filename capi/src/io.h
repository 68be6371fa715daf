// weft::capi I/O records: what every I/O handle of the C API (TCP, pipes,
// UDP, files, signals, processes) and every pending I/O operation is made of.
// Loop thread only.
//
// An IoRec is an open handle (a listener, a stream, a socket, ...): its
// handle in the runtime's arena (the arena holds the IoRec*), the scope whose
// `io` list it sits in, and its pending operations. It stays until it is
// ended: by its close function, or by its scope's cancellation (which
// runtime teardown uses). end_io() removes its handle, closes the core
// object, calls its pending operations' callbacks with WEFT_ERR_CANCELLED
// and frees it.
//
// An IoOp is one pending operation: a C callback (and, if the caller asked
// for one, the operation's weft_future_t: op_future.h) waiting on a core
// future. It is counted in its scope's `io_pending` and listed in its
// IoRec's `ops` (an operation without a handle yet, like a connect or a DNS
// lookup, in its scope's `io_ops`) until its outcome is delivered: by the
// core future's continuation (the outcome), or by cancel_io_op
// (WEFT_ERR_CANCELLED: its handle ended, its scope was cancelled, or its
// future was cancelled and the core operation could still be stopped).
// Either way `pending` is cleared first, so the outcome is delivered exactly
// once: the future completes, then the callback runs. The op itself is freed
// by its continuation, which always runs: when the operation completes, when
// the closing core object fails it, or when the loop closes. The
// continuation of an op cancelled earlier only frees it.
//
// Both are allocated in the runtime's allocator and freed through their
// destroy(), which knows their real type. The block of an op that delivered
// its outcome is kept in its IoRec (`spare_ops`, a few) for the handle's next
// op of the same size, so a stream's steady reads and writes allocate
// nothing; end_io() gives the kept blocks back to the allocator.
#pragma once

#include <cstddef>
#include <exception>
#include <type_traits>
#include <string>
#include <utility>

#include "capi/src/alloc.h"
#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "capi/src/op_future.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "weft/diagnostics.h"
#include "weft/common.h"
#include "weft/status.h"

namespace weft {
class Stream;
}  // namespace weft

namespace weft::capi {

struct Runtime;
struct Scope;
struct IoRec;

struct IoOp : Producer {
  Runtime* runtime = nullptr;
  Scope* scope = nullptr;
  IoRec* rec = nullptr;       // nullptr: listed in scope->io_ops
  const char* name = "";      // "read", "accept", ... (weft_runtime_dump)
  weft_object_kind object_kind = WEFT_OBJECT_IO_OPERATION;
  bool pending = true;        // the C callback has not been called
  bool is_read = false;       // a stream read (one at a time per stream)
  ListHook hook;              // in rec->ops or scope->io_ops
  OpFuture output;            // the caller's weft_future_t for it, if asked for

  // Cancels the core future: false if it had already completed (its
  // outcome is on its way to the continuation).
  virtual bool cancel_core() noexcept = 0;
  // Ends the op and keeps its block in `rec` (spare_ops) if a slot is free,
  // else frees it as destroy() does. Only while `rec` is alive.
  virtual void recycle() noexcept = 0;
  // Delivers WEFT_ERR_CANCELLED with `why`: completes `output`, calls the
  // C callback.
  virtual void call_cancelled(const char* why) = 0;
  virtual void destroy() noexcept = 0;

  // The op's future was cancelled directly (its scope's cancellation).
  void on_output_cancelled() noexcept override;
  // weft_future_cancel on the op's future, or a combinator over it.
  bool on_cancel_requested() noexcept override;

 protected:
  ~IoOp() = default;
};

// Memory of a finished op, kept for the next op of the same size and
// alignment (what the allocator was asked for, and gets back).
struct SpareOpBlock {
  void* memory = nullptr;
  std::size_t size = 0;
  std::size_t alignment = 0;
};

struct IoRec {
  Runtime* runtime = nullptr;
  Scope* scope = nullptr;
  HandleBits handle = 0;
  Kind kind = Kind::none;
  List<IoOp, &IoOp::hook> ops;
  ListHook scope_hook;  // in scope->io
  // Blocks of finished ops (a stream's last read and last write), held from
  // the runtime's allocator until the handle ends.
  SpareOpBlock spare_ops[2];

  // A kept block of `size` and `alignment`, taken out, or nullptr.
  void* take_spare_op(std::size_t size, std::size_t alignment) noexcept {
    for (SpareOpBlock& spare : spare_ops) {
      if (spare.memory != nullptr && spare.size == size && spare.alignment == alignment) {
        return std::exchange(spare.memory, nullptr);
      }
    }
    return nullptr;
  }

  virtual void close_core() noexcept = 0;  // closes the core object
  virtual void destroy() noexcept = 0;

 protected:
  ~IoRec() = default;
};

// An object allocated ahead of the outcome that needs it (a new handle's
// record), so that delivering the outcome cannot be refused for it; freed
// unless taken. Move-only.
template <class T>
class Spare {
 public:
  explicit Spare(Allocator& allocator)
      : allocator_(&allocator), object_(allocator.template make<T>()) {}
  Spare(Spare&& other) noexcept
      : allocator_(other.allocator_), object_(std::exchange(other.object_, nullptr)) {}
  Spare& operator=(Spare&&) = delete;
  ~Spare() { allocator_->destroy(object_); }
  T* take() noexcept { return std::exchange(object_, nullptr); }

 private:
  Allocator* allocator_;
  T* object_;
};

// Why an op was cancelled, as its callback and future say.
inline constexpr const char* kOpHandleClosed = "the handle was closed";
inline constexpr const char* kOpScopeCancelled = "the operation's scope was cancelled";
inline constexpr const char* kOpCancelRequested = "the operation was cancelled";

// Fails with invalid_argument if an operation that produces a result (a
// handle, bytes, a value) has no way to deliver it: `out` and `callback`
// both NULL. (Writes, shutdowns and syncs may be fire-and-forget.)
void require_observer(const void* out, const void* callback);

// Calls a user callback; an exception from a C++ host's callback goes to the
// loop's error report, never through the C API.
void report_callback_exception(Runtime& runtime, const char* what) noexcept;
template <class F>
void invoke_callback(Runtime& runtime, F&& call) noexcept {
  try {
    call();
  } catch (...) {
    report_callback_exception(runtime, "exception in an I/O callback");
  }
}

// Gives `rec` (made with runtime.allocator.make, its fields but the handle
// set) its handle of `kind` and puts it in its scope's `io` list; destroys it
// and rethrows if the handle cannot be made. Returns the handle.
HandleBits register_io(IoRec* rec, Kind kind);

// Looks up an I/O handle of `kind` on the loop thread, or fails.
IoRec& io_of(const void* handle, Kind kind, const char* what, const char* function);

// Ends a handle (see the top of this file); its pending operations are
// cancelled with `why`. The scope stays while the cancelled callbacks run.
void end_io(IoRec* rec, const char* why = kOpHandleClosed) noexcept;

// Delivers WEFT_ERR_CANCELLED (with `why`) to a pending op and cancels its
// core future; the continuation frees the op later.
void cancel_io_op(IoOp* op, const char* why) noexcept;

// Whether one of `rec`'s pending ops is a read (is_read: a stream read, a
// UDP receive), of which a handle has one at a time.
bool has_pending_read(const IoRec& rec) noexcept;

// Takes a pending op out of its list and its scope's count.
void retire_io_op(IoOp* op) noexcept;
void settle_scope(Scope* scope) noexcept;
void link_io_op(IoOp* op) noexcept;

// An IoOp over a Future<T>. OnResult: void(Result<T>&, OpFuture&),
// completes the future (if any) and calls the C callback with the outcome
// (it must not throw, but if it does the exception is reported); OnCancel:
// void(OpFuture&, const char* why), the same with WEFT_ERR_CANCELLED.
template <class T, class OnResult, class OnCancel>
struct FutureOp final : IoOp {
  FutureOp(Future<T> f, OnResult r, OnCancel c)
      : future(std::move(f)), on_result(std::move(r)), on_cancel(std::move(c)) {}
  Future<T> future;
  OnResult on_result;
  OnCancel on_cancel;

  bool cancel_core() noexcept override { return future.cancel(); }
  void call_cancelled(const char* why) override { on_cancel(output, why); }
  void recycle() noexcept override;
  void destroy() noexcept override;
};

Allocator& allocator_of(Runtime& runtime) noexcept;

template <class T, class OnResult, class OnCancel>
void FutureOp<T, OnResult, OnCancel>::destroy() noexcept {
  allocator_of(*runtime).destroy(this);
}

template <class T, class OnResult, class OnCancel>
void FutureOp<T, OnResult, OnCancel>::recycle() noexcept {
  IoRec* const owner = rec;
  if (owner == nullptr) return destroy();
  void* const memory = this;
  for (SpareOpBlock& spare : owner->spare_ops) {
    if (spare.memory == nullptr) {
      this->~FutureOp();
      spare = SpareOpBlock{memory, sizeof(FutureOp), alignof(FutureOp)};
      return;
    }
  }
  destroy();
}

// Gives `rec`'s kept op blocks back to the allocator (end_io does).
void free_spare_ops(IoRec* rec) noexcept;

Loop& loop_of(Runtime& runtime) noexcept;

// Starts an operation: `start()` starts the core operation and returns its
// Future<T>; it is called once the op's memory is held, so that a refusal
// starts nothing. The future's outcome goes to on_result, unless the op
// is cancelled first (then on_cancel runs instead). `rec` may be nullptr.
// If `out` is not NULL, *out receives the operation's future (the caller's
// reference); `observed`: a C callback hears the outcome too. Throws (and
// calls nothing, leaves *out untouched) if the op cannot be made. Returns
// the op (to set its object_kind, say); it is pending and linked.
// `after_now`: an operation that completed at once (a write the kernel took
// whole), started from a callback the loop runs inside an I/O callback (a
// read's), delivers its outcome right after that callback returns, still
// inside the I/O callback, instead of from the ready queue
// (Future::then_in_reserved_room): an echo answers the next read while the
// bytes are in the cache. Never inside the call that started it.
template <class Start, class OnResult, class OnCancel>
IoOp* start_io_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, Start&& start,
                  weft_future_t** out, bool observed, OnResult on_result, OnCancel on_cancel,
                  bool after_now = false) {
  using T = typename std::invoke_result_t<Start&>::value_type;
  using Op = FutureOp<T, OnResult, OnCancel>;
  // Everything the op needs is allocated before the core operation starts:
  // a refusal here leaves the handle as it was (no byte sent or consumed).
  // A block the handle kept from its last op of this type, if any.
  Op* op = nullptr;
  if (void* spare = rec != nullptr ? rec->take_spare_op(sizeof(Op), alignof(Op)) : nullptr) {
    try {
      op = ::new (spare) Op(Future<T>(), std::move(on_result), std::move(on_cancel));
    } catch (...) {
      allocator_of(runtime).deallocate(spare, sizeof(Op), alignof(Op));
      throw;
    }
  } else {
    op = allocator_of(runtime).template make<Op>(Future<T>(), std::move(on_result), std::move(on_cancel));
  }
  op->runtime = &runtime;
  op->scope = &scope;
  op->rec = rec;
  op->name = name;
  weft_future_t* handle = nullptr;
  try {
    handle = op->output.attach(scope, op, out != nullptr, observed);
  } catch (...) {
    op->destroy();
    throw;
  }
  // The core continuation's room in the loop's queues too: reserved here,
  // before the core operation starts, and used by then_in_reserved_room.
  Loop& loop = loop_of(runtime);
  try {
    weft::detail::LoopAccess::reserve_continuation(loop);
  } catch (...) {
    op->output.abandon();
    op->destroy();
    throw;
  }
  try {
    op->future = start();
  } catch (...) {
    weft::detail::LoopAccess::release_continuation(loop);
    op->output.abandon();
    op->destroy();
    throw;
  }
  try {
    op->future.then_in_reserved_room(loop, [op](Result<T> result) {
      Runtime& rt = *op->runtime;
      if (!op->pending) {  // cancelled earlier: its outcome was delivered
        op->destroy();
        return;
      }
      Scope* const sc = op->scope;
      retire_io_op(op);
      OnResult deliver = std::move(op->on_result);
      OpFuture output = std::move(op->output);
      op->recycle();  // its handle is alive: the op was pending
      settle_scope(sc);
      invoke_callback(rt, [&] { deliver(result, output); });
    }, after_now);
  } catch (...) {
    weft::detail::LoopAccess::release_continuation(loop);
    op->output.abandon();
    op->future.cancel();
    op->destroy();
    throw;
  }
  link_io_op(op);
  if (out != nullptr) *out = handle;
  return op;
}

// A borrowed callable that starts a core operation: start_void_op and
// start_bytes_op take one, so they are not templates. It refers to the
// caller's lambda, which lives until the end of the call's full expression.
template <class T>
class StartFn {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, StartFn>>>
  StartFn(F&& f) noexcept  // NOLINT: implicit, from the caller's lambda
      : context_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* context) -> Future<T> { return (*static_cast<std::remove_reference_t<F>*>(context))(); }) {}
  Future<T> operator()() const { return call_(context_); }

 private:
  void* context_;
  Future<T> (*call_)(void*);
};

// The two common shapes of operation (`callback` may be NULL).
// Outcome Future<void>: the future resolves with NONE; callback(user,
// status, message).
// `after_now`: see start_io_op.
IoOp* start_void_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name, StartFn<void> start,
                    weft_future_t** out, weft_callback callback, void* user, bool after_now = false);
// Outcome bytes: the future resolves with BYTES (a copy); callback(user,
// WEFT_OK, NULL, bytes, len), borrowed for the call. "" is
// WEFT_ERR_END_OF_FILE (len 0) when `empty_is_eof`, else WEFT_OK with bytes
// NULL and len 0; a failure passes NULL and 0. If the copy into the future
// is refused and no callback takes the bytes, they go back to `source` (a
// stream read: the next read gets them) and the future fails with
// WEFT_ERR_NO_MEMORY; a positional file read (`source` NULL) loses nothing.
IoOp* start_bytes_op(Scope& scope, Runtime& runtime, IoRec* rec, const char* name,
                     StartFn<std::string> start, bool empty_is_eof, weft_future_t** out,
                     weft_bytes_callback callback, void* user, Stream* source = nullptr);

// Delivers a failed Result<T> to a callback of shape (user, status, message,
// args...) and to the op's future: for the op-specific OnResults.
template <class T, class Callback, class... Args>
void deliver_failure(const Result<T>& result, OpFuture& output, Callback callback, void* user,
                     Args... none) {
  const CFailure failure(result.error());
  output.fail(failure.status, failure.message.c_str());
  if (callback != nullptr) callback(user, failure.status, failure.message.c_str(), none...);
}

}  // namespace weft::capi
