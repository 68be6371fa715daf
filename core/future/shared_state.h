// weft::detail::StateBase / SharedState<T>: the one allocation behind a
// Promise<T>/Future<T> pair.
//
// Protocol (the `word_` bits):
// - The promise writes the result (single writer: whoever holds the Promise),
//   then sets kReady with one fetch_or. cancel() sets kReady|kCancelled with a
//   CAS that fails if kReady is already set. So exactly one of them completes
//   the future, and the result storage is read only when kCancelled is clear.
// - Attaching a continuation stores it, then sets kHasContinuation with one
//   fetch_or. Whoever of {completer, attacher} sees the other's bit in the value
//   returned by its fetch_or/CAS schedules the continuation, so it is scheduled
//   exactly once, onto `loop_`.
// - A completer on another thread posts the continuation to the loop's inbox and
//   then sets kScheduled; Loop::close() waits for that bit on futures it failed
//   to cancel, so no post can reach a destroyed loop.
// - kWaiter: a thread blocks in wait(); the completer notifies the word.
//
// - A producer may register a CancelHook (I/O operations do, to release what a
//   cancelled operation holds): the side that completes the future — the
//   canceller or the promise — calls it once, right after winning, with
//   `cancelled` telling which side won. It is written before the future is
//   handed out and read only by the winner.
//
// References: one for the Promise, one for the Future, one held by an attached
// continuation (transferred from the Future or added). The last release deletes.
// `loop_` and the tracked-list links are written by the attaching (loop)
// thread before kHasContinuation is published.
//
// One loop thread, no read-modify-writes: a C++ Promise/Future holder (one
// reference per holder, SharedState<T>) that runs on the thread of the loop
// its continuation waits on, while that continuation has not run and the two
// of them hold the only references (exclusive_on_loop_thread()), is the only
// thread that can touch the state until it lets go: no handle is left for
// another thread to cancel, wait or release through, and the continuation
// runs on this same thread. It then resolves with a plain store of kReady and
// drops its reference with a plain store. Everything else takes the atomic
// read-modify-writes above. (The C API's futures share one reference among
// all their handles, so they always take the atomic path.)
//
// Memory: SharedState<T> comes from the frame pool (core/detail/frame_pool.h)
// of the loop running on the creating thread, else of that thread: a pointer
// pop instead of malloc, and a block freed on another thread goes back to
// that pool (its remote list) for reuse.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <utility>

#include "core/detail/callback.h"
#include "core/detail/frame_pool.h"
#include "core/detail/intrusive_list.h"
#include "core/detail/queued_object.h"
#include "core/result.h"

namespace weft {
class Loop;
}

namespace weft::detail {

// Told by a future's shared state how its operation ended: cancelled (called
// on the cancelling thread, inside Future::cancel or Promise::cancel) or
// completed by the promise (called on the completing thread). Called exactly
// once per registration; must not throw and should be quick (post real work).
struct CancelHook {
  void (*fn)(CancelHook* self, bool cancelled) noexcept;
};

// A QueuedObject: a due continuation is queued on its loop as the state's
// address (an 8-byte ready-queue record); run_queued() runs it, drop_queued()
// discards it.
class StateBase : public QueuedObject {
 public:
  static constexpr std::uint32_t kReady = 1;
  static constexpr std::uint32_t kCancelled = 2;
  static constexpr std::uint32_t kHasContinuation = 4;
  static constexpr std::uint32_t kScheduled = 8;
  static constexpr std::uint32_t kWaiter = 16;

  StateBase() = default;
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;

  bool is_ready() const noexcept { return word_.load(std::memory_order_acquire) & kReady; }
  bool is_cancelled() const noexcept {
    return word_.load(std::memory_order_acquire) & kCancelled;
  }
  bool has_continuation() const noexcept {
    return word_.load(std::memory_order_acquire) & kHasContinuation;
  }

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    // The only reference left: nobody can add one, so no read-modify-write.
    if (refs_.load(std::memory_order_acquire) == 1 ||
        refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      destroy();
    }
  }

  // Completes the future as cancelled unless it already completed. Any thread.
  bool cancel() noexcept;

  // Blocks the calling thread until the future completes. Any thread but the
  // one that must complete it.
  void wait() noexcept;

  // Loop thread (of loop_): runs the continuation with the result, then drops
  // the continuation's reference.
  virtual void run_continuation() = 0;
  // Loop thread: destroys the continuation unrun (its loop was torn down) and
  // drops the continuation's reference.
  virtual void discard_continuation() noexcept = 0;

  // QueuedObject: the continuation's turn in its loop's ready queue
  // (untracks the state, then runs or discards the continuation).
  void run_queued() override;
  void drop_queued() noexcept override;

  // Set by the promise after writing the result. Returns false if cancel()
  // completed the future first (the written result is then never read).
  bool publish_result() noexcept {
    std::uint32_t old = word_.fetch_or(kReady, std::memory_order_acq_rel);
    if (old & kReady) return false;
    if (cancel_hook_ != nullptr) cancel_hook_->fn(cancel_hook_, false);
    after_completion(old);
    return true;
  }

  // See CancelHook. Set by the producer before the future is handed out.
  void set_cancel_hook(CancelHook* hook) noexcept { cancel_hook_ = hook; }

  // Publishes an attached continuation (already stored).
  void publish_continuation(Loop& loop);

  // The loop the continuation was attached to; read after kHasContinuation.
  Loop* continuation_loop() const noexcept { return loop_.load(std::memory_order_relaxed); }

  // The loop then(f) without a loop argument attaches to (set by
  // run_in_executor and the like, before the future is handed out). It
  // shares loop_ with the continuation's loop: until a continuation is
  // attached loop_ is the home loop, and attaching one replaces it.
  Loop* home_loop() const noexcept { return loop_.load(std::memory_order_relaxed); }
  void set_home_loop(Loop* loop) noexcept { loop_.store(loop, std::memory_order_relaxed); }
  // Loop thread: the continuation is about to run or be discarded (it still
  // holds its reference until it has).
  void mark_continuation_taken() noexcept { continuation_pending_ = false; }

  // Loop-side bookkeeping (see Loop::track_future / close).
  ListHook tracked_hook_;  // in loop_'s tracked list while tracked_
  bool tracked_ = false;
  bool scheduled_locally_ = false;
  // Whether the promise has written a result (SharedState's storage holds
  // one). Written and read by the promise's holder; read by others only
  // after kReady. Beside the flags above, in what would be padding.
  bool has_result_ = false;
  bool has_result() const noexcept { return has_result_; }
  // An attached continuation that has not yet run or been discarded. Loop
  // thread (of loop_) only: set when published, cleared when taken.
  bool continuation_pending_ = false;
  bool scheduled() const noexcept {
    return scheduled_locally_ || (word_.load(std::memory_order_acquire) & kScheduled);
  }

 protected:
  virtual ~StateBase() = default;
  virtual void destroy() noexcept { delete this; }

  void after_completion(std::uint32_t old_word) noexcept;
  void schedule() noexcept;
  // schedule() on loop_'s thread.
  void schedule_here() noexcept;

  // See "One loop thread" above. Only for states whose every holder has its
  // own reference (SharedState<T>), called by one of those holders.
  bool exclusive_on_loop_thread() const noexcept;
  // publish_result() for such a holder: a plain store when exclusive.
  bool publish_result_as_holder() noexcept {
    const std::uint32_t old = word_.load(std::memory_order_acquire);
    if ((old & (kHasContinuation | kReady)) == kHasContinuation && exclusive_on_loop_thread()) {
      word_.store(old | kReady, std::memory_order_relaxed);
      if (cancel_hook_ != nullptr) cancel_hook_->fn(cancel_hook_, false);
      schedule_here();  // no waiter: it would hold a reference
      return true;
    }
    return publish_result();
  }
  // release() for such a holder: a plain store when exclusive (the
  // continuation keeps the last reference).
  void release_as_holder() noexcept {
    if (refs_.load(std::memory_order_acquire) == 2 && exclusive_on_loop_thread()) {
      refs_.store(1, std::memory_order_relaxed);
      return;
    }
    release();
  }

  std::atomic<std::uint32_t> word_{0};
  std::atomic<std::uint32_t> refs_{2};
  // The home loop, then the continuation's (see home_loop()). Atomic only so
  // that a handle reading home_loop() on one thread while the loop's thread
  // attaches a continuation is not a data race; relaxed, so plain moves.
  std::atomic<Loop*> loop_{nullptr};
  CancelHook* cancel_hook_ = nullptr;
};

// QueuedObject shares the vtable pointer: a future pays nothing for its
// continuation's 8-byte record.
static_assert(sizeof(void*) != 8 || sizeof(StateBase) == 56,
              "StateBase: vtable pointer, two counters, loop, cancel hook, links, flags");

// The result lives in raw storage with StateBase's has_result_ flag rather
// than in a std::optional, whose flag would take 8 more bytes: a
// SharedState<std::uint64_t> stays at 120 bytes, a size glibc's malloc keeps
// in its fast bins.
template <class T>
class SharedState final : public StateBase {
 public:
  // 32 bytes: room for a continuation capturing three pointers inline.
  using Continuation = BasicCallback<void(Result<T>&&), 24>;

  SharedState() = default;
  ~SharedState() override {
    if (has_result_) stored().~Result<T>();
  }

  // From the frame pool (see Memory above); any thread may free.
  static void* operator new(std::size_t bytes) { return allocate_frame(bytes); }
  static void operator delete(void* block, std::size_t bytes) noexcept {
    deallocate_frame(block, bytes);
  }

  // For the Promise and Future handles (see "One loop thread" above).
  bool publish_result_from_holder() noexcept { return publish_result_as_holder(); }
  void release_from_holder() noexcept { release_as_holder(); }

  // Writes the result (the promise's holder, once).
  template <class... A>
  void emplace_result(A&&... args) {
    if (has_result_) {
      stored().~Result<T>();
      has_result_ = false;
    }
    ::new (static_cast<void*>(storage_)) Result<T>(std::forward<A>(args)...);
    has_result_ = true;
  }

  // The outcome, once ready: cancelled, or what the promise wrote.
  Result<T> take_result() {
    if (is_cancelled()) return Result<T>::cancelled();
    return std::move(stored());
  }
  // For the promise only, after cancel() won: the result it wrote is never
  // read by anyone else, so it may take it back.
  Result<T>& unread_result() noexcept { return stored(); }

  void set_continuation(Continuation continuation) { continuation_ = std::move(continuation); }

  void run_continuation() override {
    struct Release {
      SharedState* state;
      ~Release() { state->release(); }
    } release{this};
    // In place: the continuation's reference keeps the state until Release.
    continuation_.invoke_once(take_result());
  }

  void discard_continuation() noexcept override {
    continuation_.reset();
    release();
  }

 private:
  Result<T>& stored() noexcept { return *std::launder(reinterpret_cast<Result<T>*>(storage_)); }

  alignas(Result<T>) unsigned char storage_[sizeof(Result<T>)];
  Continuation continuation_;
};

// An owned reference to a shared state: released on destruction.
template <class State>
class StateRef {
 public:
  explicit StateRef(State* state = nullptr) noexcept : state_(state) {}
  StateRef(StateRef&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  StateRef& operator=(StateRef&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  ~StateRef() { reset(); }

  State* get() const noexcept { return state_; }
  State* operator->() const noexcept { return state_; }
  State* release() noexcept { return std::exchange(state_, nullptr); }
  void reset() noexcept {
    if (state_ != nullptr) std::exchange(state_, nullptr)->release();
  }

 private:
  State* state_;
};

}  // namespace weft::detail
