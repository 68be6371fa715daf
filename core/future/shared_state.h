// weft::detail::StateBase / SharedState<T>: the one allocation behind a
// Promise<T>/Future<T> pair.
//
// Protocol (the `word_` bits):
// - The promise writes the result, then sets kReady and the result's kind
//   (kKindMask) with one compare-and-swap. cancel() sets kReady|kCancelled
//   with a CAS that fails if kReady is already set. So exactly one of them
//   completes the future, and the result storage is read only when
//   kCancelled is clear. A promise that loses destroys the result it wrote:
//   the kind bits are set only with a result that stays.
// - Attaching a continuation stores it, then sets kHasContinuation with one
//   CAS. Whoever of {completer, attacher} sees the other's bit in the value
//   its CAS replaced schedules the continuation, so it is scheduled exactly
//   once, onto `loop_`.
// - kScheduled: the continuation is queued, or its post is done. A
//   completer (or attacher) on loop_'s thread sets it in the same CAS that
//   makes the continuation due, and queues it right after, on that thread;
//   a completer on another thread posts the continuation to the loop's
//   inbox and then sets kScheduled. Loop::close() waits for that bit on
//   futures it failed to cancel, so no post can reach a destroyed loop.
// - kWaiter: a thread blocks in wait(); the completer notifies the word.
//
// - A producer may register a CancelHook (I/O operations do, to release what a
//   cancelled operation holds): the side that completes the future — the
//   canceller or the promise — calls it once, right after winning, with
//   `cancelled` telling which side won. It is written before the future is
//   handed out and read only by the winner. It lives in the word just before
//   the state, in a block allocated with that room (kHookRoom, set at
//   construction: SharedState<T>::create(true), make_hooked_promise), so that
//   the states of futures without a hook do not carry it.
//
// References: one for the Promise, one for the Future, one held by an attached
// continuation (transferred from the Future or added). The last release deletes.
// `loop_` is written by the attaching (loop) thread before kHasContinuation
// is published.
//
// Tracking: while its continuation waits, a state is known to its loop, which
// close() cancels and futures_pending counts. The loop keeps a C++ future's
// state in a set of its own (Loop::track_future, into room reserved with the
// continuation's), so the state carries no links; a ListedState (the C API's
// futures, tracked and untracked as their callbacks come and go) carries
// its own.
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
// No vtable: the state's first word points to its operations table
// (StateOps: run or drop the queued continuation, free the state), and a
// SharedState<T> points it at its continuation's table, which knows the
// continuation's type, while one is attached and has not been taken, and at
// a table without a continuation otherwise. So the state pays one pointer for
// both, and the ready queue holds it by its address (a TabledObject).
//
// Memory: SharedState<T> comes from the frame pool (core/detail/frame_pool.h)
// of the loop running on the creating thread, else of that thread: a pointer
// pop instead of malloc, and a block freed on another thread goes back to
// that pool (its remote list) for reuse. For a word-sized or void T it is 48
// bytes, a 48-byte block: the base's 24, the outcome's 8 (ResultStorage: an
// Error's code goes into the state word), the continuation's 16. A state
// with room for a cancel hook takes 8 bytes more (a 64-byte block).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "core/detail/frame_pool.h"
#include "core/detail/intrusive_list.h"
#include "core/detail/queued_object.h"
#include "core/future/result_storage.h"
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

class StateBase;

// A shared state's operations table (see "No vtable" above). run_queued and
// drop_queued (the queued continuation's turn, or its record dropped unrun:
// loop thread) are null in a table without a continuation.
struct StateOps : TabledObject::Ops {
  // The last reference went: destroys and frees the state. Any thread.
  void (*destroy)(StateBase* state) noexcept;
  // Destroys the attached continuation unrun, keeping its reference and the
  // table (SharedState::replace_continuation). Loop thread. Null where
  // there is no continuation, and for the C API's futures.
  void (*discard_continuation)(StateBase* state) noexcept;
  // The state is a ListedState: its loop tracks it by its own links.
  bool listed = false;
};

// A TabledObject: a due continuation is queued on its loop as the state's
// address (an 8-byte ready-queue record).
class StateBase : public TabledObject {
 public:
  static constexpr std::uint32_t kReady = 1;
  static constexpr std::uint32_t kCancelled = 2;
  static constexpr std::uint32_t kHasContinuation = 4;
  static constexpr std::uint32_t kScheduled = 8;
  static constexpr std::uint32_t kWaiter = 16;
  // The block holds a CancelHook* just before the state (see above); set at
  // construction, never changed.
  static constexpr std::uint32_t kHookRoom = 32;
  // SharedState's ResultStorage tag (its kind and an error's code), set with
  // kReady: the word's upper 26 bits.
  static constexpr std::uint32_t kTagShift = 6;
  static constexpr std::uint32_t kTagMask = ~std::uint32_t{0} << kTagShift;

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
      ops()->destroy(this);
    }
  }

  // Completes the future as cancelled unless it already completed. Any thread.
  bool cancel() noexcept { return complete(kCancelled); }

  // Blocks the calling thread until the future completes. Any thread but the
  // one that must complete it.
  void wait() noexcept;

  // Set by the promise after writing the result, with the result's tag
  // (kTagMask bits; none for the C API, whose futures keep their own
  // outcome). Returns false if cancel() completed the future first (the
  // written result is then never read).
  // `now`: a continuation due on this thread's loop runs before this
  // returns, where the loop allows (LoopAccess::run_continuation_here).
  bool publish_result(std::uint32_t kind_bits = 0, bool now = false) noexcept {
    return complete(kind_bits, now);
  }

  // See CancelHook. Set by the producer before the future is handed out, on
  // a state made with room for it (has_hook_room(); without, it aborts: a
  // hook that would never run is a bug of the caller's).
  void set_cancel_hook(CancelHook* hook) noexcept;
  bool has_hook_room() const noexcept { return word_.load(std::memory_order_relaxed) & kHookRoom; }

  // Publishes an attached continuation (already stored). Loop thread of `loop`.
  // `after_now`: if the future is complete already, its continuation runs as
  // LoopAccess::run_after_continuation_now runs it.
  void publish_continuation(Loop& loop, bool after_now = false);

  // The loop the continuation was attached to; read after kHasContinuation.
  Loop* continuation_loop() const noexcept { return loop_.load(std::memory_order_relaxed); }

  // The loop then(f) without a loop argument attaches to (set by
  // run_in_executor and the like, before the future is handed out). It
  // shares loop_ with the continuation's loop: until a continuation is
  // attached loop_ is the home loop, and attaching one replaces it.
  Loop* home_loop() const noexcept { return loop_.load(std::memory_order_relaxed); }
  void set_home_loop(Loop* loop) noexcept { loop_.store(loop, std::memory_order_relaxed); }

  // Tracked by its loop through a ListedState's links, not in the loop's set
  // (see Tracking above).
  bool listed() const noexcept { return ops()->listed; }
  bool scheduled() const noexcept { return word_.load(std::memory_order_acquire) & kScheduled; }

 protected:
  // `hook_room`: the block has a CancelHook* just before the state, already
  // constructed (null).
  explicit StateBase(const StateOps* ops, bool hook_room = false) noexcept
      : TabledObject(ops), word_(hook_room ? kHookRoom : 0) {}
  ~StateBase() = default;

  const StateOps* ops() const noexcept { return static_cast<const StateOps*>(ops_); }
  // The hook, if `word` (any value of word_ read so far) has kHookRoom.
  CancelHook* cancel_hook(std::uint32_t word) const noexcept {
    return (word & kHookRoom) != 0 ? *hook_slot() : nullptr;
  }

  // As a queued continuation's turn comes (loop thread), or its record is
  // dropped: the table points at `idle` (the continuation is taken; it
  // still holds its reference). The loop stopped tracking the future when
  // its continuation became due (queued, drained from the inbox or run now);
  // a record dropped unrun was due already, or its loop had closed, which
  // stops tracking every future first (a post refused by a closed loop drops
  // the record on the completing thread, so this must not touch the loop).
  void take_continuation(const StateOps* idle) noexcept { ops_ = idle; }
  // Leaves the loop's tracking if still there: for a ListedState, whose
  // links say so without asking the loop (any thread, when not linked).
  void untrack() noexcept;

  // Queues the continuation on loop_'s thread (kScheduled is set); `now`:
  // runs it here and now if the loop allows (run_continuation_here).
  void schedule_here(bool now = false) noexcept;

  // See "One loop thread" above. Only for states whose every holder has its
  // own reference (SharedState<T>), called by one of those holders; `idle`
  // is the state's table without a continuation.
  bool exclusive_on_loop_thread(const StateOps* idle) const noexcept;

  std::atomic<std::uint32_t> word_;
  std::atomic<std::uint32_t> refs_{2};

 private:
  // Sets kReady and `bits` (kCancelled, or the result's kind) with one CAS
  // unless kReady is set; then calls the cancel hook and after_completion.
  bool complete(std::uint32_t bits, bool now = false) noexcept;
  // kScheduled if `word` has a continuation attached and this is its loop's
  // thread (the completer queues it here), else 0.
  std::uint32_t scheduled_here(std::uint32_t word) const noexcept;
  // After the CAS that completed the future (`old_word` is what it
  // replaced, `set` what it added): wakes waiters, schedules the
  // continuation.
  void after_completion(std::uint32_t old_word, std::uint32_t set, bool now) noexcept;
  CancelHook** hook_slot() const noexcept {
    return std::launder(reinterpret_cast<CancelHook**>(
        reinterpret_cast<unsigned char*>(const_cast<StateBase*>(this)) - sizeof(CancelHook*)));
  }

  // The home loop, then the continuation's (see home_loop()). Atomic only so
  // that a handle reading home_loop() on one thread while the loop's thread
  // attaches a continuation is not a data race; relaxed, so plain moves.
  std::atomic<Loop*> loop_{nullptr};
};

// The table pointer, two counters, the loop.
static_assert(sizeof(void*) != 8 || sizeof(StateBase) == 24,
              "StateBase: ops pointer, state word, references, loop");

// A state its loop tracks by links of its own rather than in the loop's set
// (see Tracking above): Loop::track_listed_future cannot fail, so a C API
// future starts and stops being tracked wherever its callbacks come and go.
// Its table has `listed` set. The links are the loop thread's.
class ListedState : public StateBase {
 public:
  ListHook tracked_hook_;
  bool tracked() const noexcept { return tracked_hook_.linked(); }

 protected:
  explicit ListedState(const StateOps* ops) noexcept : StateBase(ops) {}
  ~ListedState() = default;
};

// The outcome lives in a ResultStorage whose tag is in the state word, and
// the continuation in 16 inline bytes whose type the table knows: a
// SharedState<std::uint64_t> is 48 bytes, one 48-byte block of the pool.
template <class T>
class SharedState final : public StateBase {
  using Storage = ResultStorage<T>;
  static_assert(kTagShift + Storage::kTagBits == 32, "the tag fills the state word's upper bits");

 public:
  // Continuations up to this size (capturing two pointers) are stored
  // inline; larger ones are boxed on the heap.
  static constexpr std::size_t kContinuationBytes = 16;
  template <class D>
  static constexpr bool fits_inline() noexcept {
    return sizeof(D) <= kContinuationBytes && alignof(D) <= alignof(void*) &&
           std::is_nothrow_move_constructible_v<D>;
  }

  // A new state with two references (promise and future), from the frame
  // pool (see Memory above); any thread may free it. `hook_room`: with room
  // for a cancel hook before it.
  static SharedState* create(bool hook_room = false) {
    if (!hook_room) return new SharedState(false);
    auto* block = static_cast<unsigned char*>(allocate_frame(hooked_bytes()));
    ::new (static_cast<void*>(block + hook_prefix() - sizeof(CancelHook*))) CancelHook*(nullptr);
    return ::new (static_cast<void*>(block + hook_prefix())) SharedState(true);
  }

  // For the Promise's holder: writes the outcome and completes the future
  // with it. False if the future had already completed (cancelled): the
  // outcome is then destroyed unread. Only constructing the value may throw
  // (nothing changes then).
  template <class... A>
  bool set_value(A&&... args) {
    return publish_stored(storage_.emplace_value(std::forward<A>(args)...));
  }
  bool set_error(Error error) noexcept { return publish_stored(storage_.emplace_error(std::move(error))); }
  bool set_exception(std::exception_ptr exception) noexcept {
    return publish_stored(storage_.emplace_exception(std::move(exception)));
  }
  bool set_result(Result<T>&& result) { return publish_stored(storage_.emplace_result(std::move(result))); }
  // set_value(std::move(value)), except that if the future had already
  // completed, `value` gets back what it held.
  // `now`: see Promise::set_value_or_keep_now.
  template <class U = T>
    requires(!std::is_void_v<U>)
  bool set_value_or_keep(U& value, bool now = false) {
    const typename Storage::Tag tag = storage_.emplace_value(std::move(value));
    if (publish_as_holder(tag << kTagShift, now)) return true;
    struct Destroy {
      Storage& storage;
      typename Storage::Tag tag;
      ~Destroy() { storage.destroy(tag); }
    } destroy{storage_, tag};
    value = std::move(storage_.value());
    return false;
  }

  // For the Promise and Future handles (see "One loop thread" above).
  void release_from_holder() noexcept {
    if (refs_.load(std::memory_order_acquire) == 2 && exclusive_on_loop_thread(&kIdle)) {
      // The continuation keeps the last reference.
      refs_.store(1, std::memory_order_relaxed);
      return;
    }
    release();
  }

  // The outcome, once ready: cancelled, or what the promise wrote (moved
  // out).
  Result<T> take_result() {
    const std::uint32_t word = word_.load(std::memory_order_acquire);
    if (word & kCancelled) return Result<T>::cancelled();
    return storage_.take(tag_of(word));
  }

  // Stores the continuation (not yet published). Throws what constructing
  // it (or its box) throws; nothing is stored then.
  template <class F>
  void set_continuation(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (fits_inline<D>()) {
      ::new (static_cast<void*>(continuation_)) D(std::forward<F>(f));
      ops_ = &kContinuationOps<D, false>;
    } else {
      D* boxed = new D(std::forward<F>(f));
      ::new (static_cast<void*>(continuation_)) D*(boxed);
      ops_ = &kContinuationOps<D, true>;
    }
  }

  // A continuation on its way from another thread to the loop's, already
  // in the form the state keeps it (boxed if it does not fit inline), so
  // that adopting it there cannot throw.
  template <class F>
  static auto parcel(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (fits_inline<D>()) {
      return D(std::forward<F>(f));
    } else {
      return std::make_unique<D>(std::forward<F>(f));
    }
  }
  template <class P>
  void adopt_continuation(P&& parcel) noexcept {
    using D = std::decay_t<P>;
    if constexpr (IsBox<D>::value) {
      ::new (static_cast<void*>(continuation_)) typename D::element_type*(parcel.release());
      ops_ = &kContinuationOps<typename D::element_type, true>;
    } else {
      static_assert(fits_inline<D>(), "a parcel holds its continuation inline or boxed");
      ::new (static_cast<void*>(continuation_)) D(std::move(parcel));
      ops_ = &kContinuationOps<D, false>;
    }
  }

  // Loop thread: swaps the attached continuation, which has not run, for
  // `f` (inline: cannot throw). The continuation's reference stays.
  template <class F>
  void replace_continuation(F&& f) noexcept {
    static_assert(fits_inline<std::decay_t<F>>() &&
                  std::is_nothrow_constructible_v<std::decay_t<F>, F&&>);
    ops()->discard_continuation(this);
    set_continuation(std::forward<F>(f));
  }

 private:
  template <class P>
  struct IsBox : std::false_type {};
  template <class D>
  struct IsBox<std::unique_ptr<D>> : std::true_type {};

  explicit SharedState(bool hook_room) noexcept : StateBase(&kIdle, hook_room) {}
  // The outcome is destroyed by destroy(), which reads the word once.
  ~SharedState() = default;

  // The plain states' blocks (create(false), destroy()).
  static void* operator new(std::size_t bytes) { return allocate_frame(bytes); }
  static void operator delete(void* block, std::size_t bytes) noexcept {
    deallocate_frame(block, bytes);
  }
  // A hooked state's block: the hook's word, padded to the state's alignment,
  // then the state.
  static constexpr std::size_t hook_prefix() noexcept {
    return alignof(SharedState) > sizeof(CancelHook*) ? alignof(SharedState) : sizeof(CancelHook*);
  }
  static constexpr std::size_t hooked_bytes() noexcept { return hook_prefix() + sizeof(SharedState); }

  static typename Storage::Tag tag_of(std::uint32_t word) noexcept { return word >> kTagShift; }
  static SharedState* self(TabledObject* object) noexcept {
    return static_cast<SharedState*>(static_cast<StateBase*>(object));
  }

  // publish_result() for a holder: a plain store when exclusive.
  bool publish_as_holder(std::uint32_t kind_bits, bool now = false) noexcept {
    const std::uint32_t old = word_.load(std::memory_order_acquire);
    if ((old & (kHasContinuation | kReady)) == kHasContinuation && exclusive_on_loop_thread(&kIdle)) {
      word_.store(old | kReady | kScheduled | kind_bits, std::memory_order_relaxed);
      if (CancelHook* hook = cancel_hook(old); hook != nullptr) hook->fn(hook, false);
      schedule_here(now);  // no waiter: it would hold a reference
      return true;
    }
    return publish_result(kind_bits, now);
  }
  bool publish_stored(typename Storage::Tag tag) noexcept {
    if (publish_as_holder(tag << kTagShift)) return true;
    storage_.destroy(tag);
    return false;
  }
  // The continuation's operations: D stored inline, or a D* (kBoxed).
  template <class D, bool kBoxed>
  struct Continuation {
    static_assert(std::is_invocable_v<D&, Result<T>&&>, "a continuation takes a Result<T>");

    static D* callable(SharedState* state) noexcept {
      if constexpr (kBoxed) {
        return *std::launder(reinterpret_cast<D**>(state->continuation_));
      } else {
        return std::launder(reinterpret_cast<D*>(state->continuation_));
      }
    }
    static void destroy_callable(SharedState* state) noexcept {
      if constexpr (kBoxed) {
        delete callable(state);
      } else {
        std::destroy_at(callable(state));
      }
    }
    static void run(TabledObject* object) {
      SharedState* state = self(object);
      state->take_continuation(&kIdle);
      // In place: the continuation's reference keeps the state until the
      // callable is destroyed (also when it throws).
      struct Finish {
        SharedState* state;
        ~Finish() {
          destroy_callable(state);
          state->release();
        }
      } finish{state};
      (*callable(state))(state->take_result());
    }
    static void drop(TabledObject* object) noexcept {
      SharedState* state = self(object);
      state->take_continuation(&kIdle);
      destroy_callable(state);
      state->release();
    }
    static void discard(StateBase* state) noexcept { destroy_callable(static_cast<SharedState*>(state)); }
  };

  static void destroy(StateBase* base) noexcept {
    auto* state = static_cast<SharedState*>(base);
    // One read of the word: the outcome's tag and the block's shape.
    const std::uint32_t word = state->word_.load(std::memory_order_relaxed);
    if (!Storage::trivially_gone(tag_of(word))) state->storage_.destroy(tag_of(word));
    state->~SharedState();
    auto* block = reinterpret_cast<unsigned char*>(state);
    if (word & kHookRoom) {
      deallocate_frame(block - hook_prefix(), hooked_bytes());
    } else {
      deallocate_frame(block, sizeof(SharedState));
    }
  }

  static constexpr StateOps kIdle{{nullptr, nullptr}, &destroy, nullptr};
  template <class D, bool kBoxed>
  static constexpr StateOps kContinuationOps{
      {&Continuation<D, kBoxed>::run, &Continuation<D, kBoxed>::drop},
      &destroy,
      &Continuation<D, kBoxed>::discard};

  Storage storage_;
  alignas(void*) unsigned char continuation_[kContinuationBytes];
};

static_assert(sizeof(void*) != 8 || sizeof(SharedState<std::uint64_t>) == 48,
              "a word-sized future's state: the base's 24 bytes, the outcome's 8, the continuation's 16");
static_assert(sizeof(void*) != 8 || sizeof(SharedState<void>) == 48,
              "a void future's state: the base's 24 bytes, an Error's message 8, the continuation's 16");

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
