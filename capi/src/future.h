// weft::capi::CFuture: the object behind a weft_future_t.
//
// A CFuture is a core shared state (weft::detail::ListedState) — one
// allocation per future, completed with the core's lock-free protocol,
// tracked by the loop like a C++ future, though by links of its own rather
// than in the loop's set, since tracking comes and goes here and cannot fail
// — plus what the C API needs on top:
//
// - Completion. Any thread may resolve, reject or cancel. `claimed_` makes
//   the writers of the result exclusive (resolve vs resolve); the core's
//   ready bit then decides against cancel(): the first to set it wins.
// - Continuation. One core continuation is published at creation, so every
//   completion, from any thread, ends in run_continuation() on the loop
//   thread: that is where the future leaves its scope's pending list and
//   where the C callbacks (registrations) run, in registration order.
//   Whether the loop *waits* for it (track_future: run() keeps going, close()
//   cancels it) depends on whether anything waits on it: registrations or
//   work in flight (update_tracking).
// - References. The core count (refs_) keeps the memory: one reference for
//   all the C handle references together, one for the continuation until it
//   ran, one per job, work-list link, combinator and queued delivery.
//   `handle_refs_` counts weft_future_retain/release; when it reaches 0 the
//   handles' core reference goes, and a future nobody can complete any more
//   (no handle, no producer: job or combinator) is rejected with
//   broken_promise. From then on the handle is refused as stale (usable()),
//   though the memory may live on until the continuation ran; inside a
//   callback that is handed the future (kDelivering), the handle is
//   usable again, and retaining it there brings it back for good.
// - Work. A future made by weft_executor_submit also sits in its scope's work
//   list (through its FutureExtras) until the work has finished running *and*
//   the continuation ran; `work_flags` decides which of the two (worker or
//   loop) comes last and unlinks it (see finish_work / run_continuation).
// - Callbacks. The first callback registered through the future's own scope
//   before dispatch (weft_future_then's usual case, and a job's done
//   callback) is stored inline: two words, counted by that scope's
//   `inline_callbacks` and found by Scope::cancel through its futures list.
//   Any other (another scope, a second one, after dispatch, a combinator's)
//   is an allocated Registration in the scope's registrations list.
// - Size: 136 bytes with the core state (kFutureSize; a static_assert in
//   future.cc keeps it). What few futures need (a name, a producer, work
//   bookkeeping) lives in FutureExtras, allocated on first use.
//
// Threads: fields under "loop thread" are touched on the runtime's loop
// thread only. The outcome fields are written by the claimer before the
// ready bit is published and read only after it is seen (acquire).
#pragma once

#include <atomic>
#include <cstdint>

#include "capi/src/alloc.h"
#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "capi/src/value.h"
#include "core/future/shared_state.h"
#include "weft/future.h"

namespace weft::capi {

struct Runtime;
struct Scope;
class CFuture;

// Something that produces a future's outcome and must hear when that future
// is cancelled (a combinator, an operation: op_future.h). Loop thread.
class Producer {
 public:
  // The future was cancelled (it is complete).
  virtual void on_output_cancelled() noexcept = 0;
  // An operation-bound future was asked to cancel (it is still pending: the
  // producer completes it). Returns whether the operation was stopped (its
  // outcome is then WEFT_ERR_CANCELLED), false if its outcome was decided.
  virtual bool on_cancel_requested() noexcept { return false; }

 protected:
  ~Producer() = default;
};

// A callback registered with weft_future_then (or by weft itself) that is
// not the future's inline callback (see CFuture).
struct Registration {
  ListHook scope_hook;           // in scope->registrations until called
  Registration* next = nullptr;  // in its future's FIFO, before dispatch
  CFuture* future = nullptr;
  Scope* scope = nullptr;        // the scope it was registered through
  weft_future_callback callback = nullptr;
  void* user = nullptr;
  bool queued = false;  // registered after dispatch: a QueuedDelivery holds it
};

// What few futures need, allocated on first use.
struct FutureExtras {
  explicit FutureExtras(CFuture* owner) noexcept : future(owner) {}
  CFuture* future;
  // Producers (a job, a combinator, an operation) that may still complete
  // the future: one that nobody can complete any more breaks (maybe_break).
  std::atomic<std::uint32_t> producers{0};
  Text name;
  Producer* producer = nullptr;  // a combinator's output
  Scope* work_scope = nullptr;   // the scope counting submitted work
  ListHook work_hook;            // in work_scope->work until the work is done
  std::atomic<std::uint8_t> work_flags{0};
  std::atomic<std::uint8_t> work_state{0};  // 0 queued, 1 running, 2 finished (dumps)
  // The inline callback (a job's `done`) when the future was dispatched or
  // its scope cancelled while the work had not finished: called by
  // unlink_work, once the work can no longer touch the callback's `user`.
  weft_future_callback deferred_callback = nullptr;
  bool deferred_scope_cancelled = false;  // call it with kScopeCancelled
};

// The outcome as a callback sees it.
struct Outcome {
  weft_status status;
  weft_value value;
  const char* message;  // NULL when resolved
};

class CFuture final : public weft::detail::ListedState {
 public:
  static constexpr std::uint8_t kWorkFinished = 1;
  static constexpr std::uint8_t kDispatched = 2;

  // A pending future in `scope`, with one handle reference, published to the
  // loop. Loop thread. Throws std::bad_alloc.
  static CFuture* create(Scope& scope);

  // Rebuilt from the slot index (handles.h: live_handle): valid until
  // destroy() frees the slot.
  HandleBits handle() const noexcept { return live_handle(handle_index_); }
  weft_future_t* c_handle() const noexcept { return as_handle<weft_future_t>(handle()); }
  // The runtime whose loop the core state was published to (create() does so
  // before anything else can use the future). Defined in runtime.h.
  inline Runtime& runtime() const noexcept;

  // --- completion (any thread) ---------------------------------------------
  // Completes with `status` (WEFT_OK: `value`; otherwise `message`). Returns
  // false if the future had already completed (nothing is kept then: a
  // POINTER value is left to the caller unless `owned` says it is weft's).
  // A NULL message costs no memory (the outcome says weft_status_str). If
  // the copy of `message` is refused: with `message_required` (a caller's
  // weft_future_reject) std::bad_alloc is thrown and the future is left as
  // it was; without (an operation's own outcome, which must be delivered)
  // the status alone is kept, with weft_status_str as its message.
  bool complete(weft_status status, Value value, const char* message, bool owned,
                bool message_required = false);

  // Cancels the future (true), or false if it had completed. An
  // operation-bound future (op_future.h) is not completed here: its
  // operation is asked to stop, on the loop thread (posted there from other
  // threads), and completes it — cancelled, or with the outcome it already
  // had. On the loop thread the answer is whether it was stopped; from
  // another thread, whether the request was posted.
  bool request_cancel();
  // Marks the future as completed only by its operation (before its handle
  // is handed out).
  // Loop thread (see loop_flags_).
  void bind_to_operation() noexcept { set_loop_flag(kOperationBound, true); }
  bool operation_bound() const noexcept { return loop_flags_.load(std::memory_order_relaxed) & kOperationBound; }

  // --- references (any thread) ---------------------------------------------
  void retain_handle() noexcept;
  // False if no handle reference was left (an over-release).
  bool release_handle() noexcept;
  // Producers (a job, a combinator, an operation) keep their FutureExtras
  // made first: the count lives there.
  void add_producer() noexcept { extras_->producers.fetch_add(1, std::memory_order_relaxed); }
  void release_producer() noexcept;
  // Whether a C call may use this future's handle: a reference is held, or a
  // callback that was handed it is running.
  bool usable() const noexcept {
    return handle_refs_.load(std::memory_order_acquire) != 0 ||
           (loop_flags_.load(std::memory_order_relaxed) & kDelivering);
  }

  // --- reading (any thread, once ready) -------------------------------------
  Outcome outcome() const noexcept;
  // Once ready with WEFT_OK only (the value shares its storage with the
  // message of a failure).
  const Value& value() const noexcept { return value_; }
  void mark_observed() noexcept { observed_.store(true, std::memory_order_relaxed); }

  // --- loop thread -----------------------------------------------------------
  // Registers a callback through `scope`: runs after completion, or (if the
  // continuation already ran) is queued to run at the loop's next pass. Uses
  // the inline slot when it can (nothing allocated then, nothing thrown).
  void add_callback(Scope& scope, weft_future_callback callback, void* user);
  // The same, always as a Registration the caller may take back with
  // cancel_registration (combinators).
  Registration* add_registration(Scope& scope, weft_future_callback callback, void* user);
  // Takes a registration back before it was called: with `notify`, it is
  // called with cancelled now (a cancelled scope); without, it is dropped
  // silently (a combinator that no longer needs it).
  void cancel_registration(Registration* registration, bool notify = true) noexcept;
  // The inline callback, if any: called with cancelled now (its scope was
  // cancelled). Loop thread, inside Scope::cancel.
  void cancel_inline_callback() noexcept;
  bool has_inline_callback() const noexcept { return callback_ != nullptr; }
  // Tracks the future with the loop iff something waits for it.
  void update_tracking() noexcept;
  void set_name(const char* name);
  const char* name() const noexcept { return extras_ != nullptr ? extras_->name.c_str() : ""; }
  bool dispatched() const noexcept { return loop_flags_.load(std::memory_order_relaxed) & kContinuationRan; }
  // Throws std::bad_alloc.
  FutureExtras& extras();
  FutureExtras* extras_if_any() const noexcept { return extras_; }

  // Work bookkeeping (executor.cc); start_work needs extras() made first.
  void start_work(Scope& scope) noexcept;
  // On the worker, after the work ran or was skipped: true if the
  // continuation already ran, so the caller must have unlink_work run on the
  // loop.
  bool finish_work() noexcept {
    return extras_->work_flags.fetch_or(kWorkFinished, std::memory_order_acq_rel) & kDispatched;
  }
  // Loop thread, once the work finished and the continuation ran: leaves the
  // scope's work list, calls a deferred callback, drops the link's reference.
  void unlink_work() noexcept;
  // Loop thread: true while submitted work has not finished running (or
  // skipping); the inline callback then waits for unlink_work.
  bool work_unfinished() const noexcept {
    return extras_ != nullptr && extras_->work_hook.linked() &&
           !(extras_->work_flags.load(std::memory_order_acquire) & kWorkFinished);
  }

  // Runtime teardown: frees the future whatever its references.
  void force_free() noexcept;

  ListHook scope_hook;  // in scope_->futures while pending (loop thread)

 private:
  explicit CFuture(Scope& scope) noexcept;
  ~CFuture();

  // The core state's operations (its table: see StateOps). The continuation,
  // published at creation, is the future's dispatch: run_continuation.
  static void run_queued(TabledObject* object);
  static void drop_queued(TabledObject* object) noexcept;
  static void destroy_state(StateBase* state) noexcept;
  static const weft::detail::StateOps kOps;

  void run_continuation();
  void discard_continuation() noexcept;
  void destroy() noexcept;

  void maybe_break() noexcept;
  void deliver(Registration* registration, const Outcome& outcome);
  void call(weft_future_callback callback, void* user, const Outcome& outcome) noexcept;
  void unlink(Registration* registration) noexcept;  // from the FIFO
  void free_registration(Registration* registration) noexcept;
  // Loop thread only, the one writer of loop_flags_: a load and a store,
  // no read-modify-write needed.
  void set_loop_flag(std::uint8_t flag, bool on) noexcept {
    const std::uint8_t flags = loop_flags_.load(std::memory_order_relaxed);
    loop_flags_.store(on ? flags | flag : flags & ~flag, std::memory_order_relaxed);
  }
  friend class QueuedDelivery;

  static constexpr std::uint8_t kDelivering = 1;
  static constexpr std::uint8_t kContinuationRan = 2;
  static constexpr std::uint8_t kOperationBound = 4;

  std::uint32_t handle_index_ = 0;  // the handle's slot (set in create, then constant)
  std::atomic<std::uint32_t> handle_refs_{1};

  // Outcome: written by the claimer before publish, read after ready.
  // status_ says which of value_ (WEFT_OK) and message_ is alive.
  weft_status status_ = WEFT_OK;
  // The flags, three bytes, each its own memory location (no bit shares a
  // byte with a bit another thread writes, and no plain bitfield shares one
  // with an atomic writer):
  // - claimed_: any thread, by read-modify-write (exchange): the claimers of
  //   the result race on it. Read by maybe_break on any thread.
  // - observed_: any thread stores true (mark_observed: a callback on the
  //   loop, an operation completing, a reader); read by destroy().
  // - loop_flags_: written on the loop thread only — kDelivering (call()),
  //   kContinuationRan (run_continuation / discard_continuation) and
  //   kOperationBound (bind_to_operation, on the loop thread while the
  //   future is created, before its handle is handed out) — so one writer,
  //   plain relaxed load + store (set_loop_flag). Atomic because other
  //   threads read it: kDelivering in usable(), kOperationBound in
  //   request_cancel(). Folding claimed_ or observed_ in here would turn the
  //   loop thread's stores into read-modify-writes, and save nothing: the
  //   three bytes and status_ fill one 8-byte word.
  std::atomic<bool> claimed_{false};
  std::atomic<bool> observed_{false};
  std::atomic<std::uint8_t> loop_flags_{0};
  union {
    Value value_{};
    Text message_;
  };

  // Loop thread.
  Scope* scope_;                  // the creating scope, until dispatch
  weft_future_callback callback_ = nullptr;  // the inline callback (see above)
  void* user_ = nullptr;
  Registration* head_ = nullptr;  // the FIFO of registrations (after the inline one)
  FutureExtras* extras_ = nullptr;
};

// What a C future costs: the core state plus the C API's bookkeeping.
inline constexpr std::size_t kFutureSize = 136;

// Looks up a future handle the caller may use (see CFuture::usable), or
// fails with invalid_handle / stale_handle.
CFuture& future_of(const weft_future_t* future, const char* what = "future");
// future_of's second check (the future was released) for an api() body of
// `function`, without throwing: WEFT_OK, or the status future_of's failure
// becomes there, reported as it would be (precheck.h).
weft_status usable_status(const char* function, const CFuture& f) noexcept;

}  // namespace weft::capi
