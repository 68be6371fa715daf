// weft::Future<T> / weft::Promise<T>: a value that arrives later, and the right
// to provide it.
//
//   auto [promise, future] = weft::make_promise<int>();
//   std::move(future).then(loop, [](weft::Result<int> r) { ... });  // runs on `loop`
//   promise.set_value(42);                                          // any thread
//
// - One allocation per pair (the shared state), from the frame pool of the
//   loop running on the creating thread, else of that thread.
// - A future completes once: with a value, an Error, an exception, or as
//   cancelled. Promise::set_* and Future::cancel() may race from different
//   threads; the first wins and the others return false.
// - A continuation (then) runs on the loop it was attached to, on that loop's
//   thread, whichever thread completed the future; it is always queued (never
//   run inside set_value or then), like asyncio's add_done_callback. It gets the
//   Result by value. A future has at most one continuation.
// - A Promise destroyed without a result completes its future with
//   Errc::broken_promise.
// - A future whose continuation waits on a loop keeps that loop's run() going;
//   closing the loop cancels it (the continuation then runs with Cancelled).
//
// Handles are move-only and not themselves thread-safe: one thread uses a given
// handle at a time. The shared state behind them is.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/future/shared_state.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"
#include "core/result.h"

namespace weft {

template <class T>
class Future;
template <class T>
class Promise;

template <class T>
std::pair<Promise<T>, Future<T>> make_promise();

namespace detail {
template <class T>
class FutureAwaiter;  // co_await on a future in a task (core/task/future_awaiter.h)
// make_promise() for a producer that registers a cancel hook (I/O operations).
template <class T>
std::pair<Promise<T>, Future<T>> make_hooked_promise();
}  // namespace detail

template <class T>
class [[nodiscard]] Future {
 public:
  using value_type = T;

  Future() = default;
  Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(Future&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  ~Future() { reset(); }

  bool valid() const noexcept { return state_ != nullptr; }
  bool ready() const noexcept { return state_ != nullptr && state_->is_ready(); }
  bool cancelled() const noexcept { return state_ != nullptr && state_->is_cancelled(); }

  // Completes the future as cancelled if it has not completed. Any thread (one
  // thread per handle). Returns whether this call cancelled it.
  bool cancel() noexcept { return state_ != nullptr && state_->cancel(); }

  // Attaches a continuation `f(Result<T>)` that runs on `loop`'s thread. May be
  // called from any thread; from another thread the attachment itself is posted
  // to the loop. Throws Exception(invalid_state) if the future is empty or
  // already has a continuation, Exception(closed) if the loop is closed.
  template <class F>
  void then(Loop& loop, F&& f) & {
    require_state("then");
    state_->add_ref();
    attach(loop, state_, std::forward<F>(f));
  }
  template <class F>
  void then(Loop& loop, F&& f) && {
    require_state("then");
    attach(loop, std::exchange(state_, nullptr), std::forward<F>(f));
  }
  // then(loop, f) on `loop`'s own thread, for a caller that has reserved the
  // continuation's room already (detail::LoopAccess::reserve_continuation,
  // as the C API does before it starts an operation, so that nothing can
  // fail after): that reservation is used instead of a new one. If this
  // throws (as then() would), the reservation is still the caller's.
  // `after_now`: if the future is complete already and this is called from
  // a continuation the loop runs now (inside an I/O callback), `f` runs
  // right after that continuation returns instead of from the ready queue
  // (detail::LoopAccess::run_after_continuation_now).
  template <class F>
  void then_in_reserved_room(Loop& loop, F&& f, bool after_now = false) & {
    require_state("then");
    if (!loop.in_loop_thread()) {
      throw Exception(Errc::wrong_thread, "Future::then_in_reserved_room off the loop's thread");
    }
    state_->add_ref();
    attach(loop, state_, std::forward<F>(f), /*room_reserved=*/true, after_now);
  }
  // The same on the future's home loop (set_home_loop; run_in_executor sets
  // it), else on the loop running on this thread (Exception(invalid_state) if
  // neither).
  template <class F>
  void then(F&& f) & {
    then(default_loop(), std::forward<F>(f));
  }
  template <class F>
  void then(F&& f) && {
    Loop& loop = default_loop();
    std::move(*this).then(loop, std::forward<F>(f));
  }

  // Names the loop then(f) uses when given none.
  void set_home_loop(Loop& loop) {
    require_state("set_home_loop");
    state_->set_home_loop(&loop);
  }
  Loop* home_loop() const noexcept { return state_ != nullptr ? state_->home_loop() : nullptr; }

  // Blocks the calling thread until the future completes. Never call it on the
  // thread of a loop that must run for the future to complete.
  void wait() const {
    require_state("wait");
    state_->wait();
  }

  // Waits, then returns the outcome. Not after then() (the continuation takes
  // the result): Exception(invalid_state).
  Result<T> result() {
    require_state("result");
    if (state_->has_continuation()) {
      throw Exception(Errc::invalid_state, "the future's result was given to its continuation");
    }
    state_->wait();
    Result<T> outcome = state_->take_result();
    reset();
    return outcome;
  }

  // Waits, then returns the value or throws the failure.
  T get() { return result().value(); }

 private:
  friend std::pair<Promise<T>, Future<T>> make_promise<T>();
  friend std::pair<Promise<T>, Future<T>> detail::make_hooked_promise<T>();
  friend class detail::FutureAwaiter<T>;
  explicit Future(detail::SharedState<T>* state) : state_(state) {}

  void reset() noexcept {
    if (state_ != nullptr) std::exchange(state_, nullptr)->release_from_holder();
  }
  void require_state(const char* what) const {
    if (state_ == nullptr) {
      throw Exception(Errc::invalid_state, std::string("Future::") + what + " on an empty future");
    }
  }
  Loop& default_loop() const {
    require_state("then");
    if (Loop* home = state_->home_loop(); home != nullptr) return *home;
    Loop* loop = Loop::current();
    if (loop == nullptr) {
      throw Exception(Errc::invalid_state, "Future::then without a loop: no loop runs on this thread");
    }
    return *loop;
  }

  // Takes one reference (`state`), owned by the continuation from now on.
  // `room_reserved`: on the loop's thread, the caller's reservation is used;
  // `after_now`: see then_in_reserved_room.
  template <class F>
  static void attach(Loop& loop, detail::SharedState<T>* state, F&& f, bool room_reserved = false,
                     bool after_now = false) {
    detail::StateRef<detail::SharedState<T>> ref(state);
    if (state->has_continuation()) {
      throw Exception(Errc::invalid_state, "the future already has a continuation");
    }
    if (loop.is_closed()) throw Exception(Errc::closed);
    if (loop.in_loop_thread()) {
      // Ready-queue room for the continuation first (completion cannot fail).
      if (!room_reserved) detail::LoopAccess::reserve_continuation(loop);
      try {
        state->set_continuation(std::forward<F>(f));
      } catch (...) {
        if (!room_reserved) detail::LoopAccess::release_continuation(loop);
        throw;
      }
      detail::LoopAccess::track_future(loop, state);
      ref.release()->publish_continuation(loop, after_now);
      return;
    }
    // Attach on the loop's own thread, where its bookkeeping lives.
    auto attach_there = [&loop, ref = std::move(ref),
                         parcel = detail::SharedState<T>::parcel(std::forward<F>(f))]() mutable {
      if (loop.is_closed()) {
        throw Exception(Errc::closed, "Future::then: the loop closed before the continuation was attached");
      }
      detail::LoopAccess::reserve_continuation(loop);
      ref->adopt_continuation(std::move(parcel));  // cannot throw
      detail::LoopAccess::track_future(loop, ref.get());
      ref.release()->publish_continuation(loop);
    };
    if (!loop.call_soon_threadsafe(std::move(attach_there))) throw Exception(Errc::closed);
  }

  detail::SharedState<T>* state_ = nullptr;
};

template <class T>
class Promise {
 public:
  Promise() = default;
  Promise(Promise&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Promise& operator=(Promise&& other) noexcept {
    if (this != &other) {
      abandon();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  ~Promise() { abandon(); }

  bool valid() const noexcept { return state_ != nullptr; }

  // Completes the future. Returns false if it had already completed (it was
  // cancelled, or this promise was already used); the value is then dropped.
  template <class... A>
  bool set_value(A&&... args) {
    if constexpr (std::is_void_v<T>) {
      static_assert(sizeof...(A) == 0, "Promise<void>::set_value takes no value");
    }
    return writable() && state_->set_value(std::forward<A>(args)...);
  }
  bool set_error(Error error) { return writable() && state_->set_error(std::move(error)); }
  bool set_exception(std::exception_ptr exception) {
    return writable() && state_->set_exception(std::move(exception));
  }
  // Completes with a Result (value, error or exception) as given.
  bool set_result(Result<T> result) { return writable() && state_->set_result(std::move(result)); }

  // Like set_value(std::move(value)), for a producer that must not lose what
  // it hands over (bytes read from a socket, an accepted connection): if the
  // future was already complete (cancelled, even by another thread at this
  // very moment), returns false and `value` still holds what it held.
  template <class U = T>
    requires(!std::is_void_v<U>)
  bool set_value_or_keep(U& value) {
    return writable() && state_->set_value_or_keep(value);
  }
  // The same, for a producer that completes the future from an I/O
  // callback of the loop its continuation waits on: the continuation runs
  // before this returns, while what it is handed is still in the core's
  // cache, instead of after the loop's round of I/O callbacks. Only on the
  // loop's own thread while it runs, with a bound on how deeply such runs
  // nest (core/loop/loop_access.h, run_continuation_here); otherwise it is
  // queued as set_value_or_keep queues it. The producer must expect anything
  // a continuation may do meanwhile (close the source, ask for more).
  template <class U = T>
    requires(!std::is_void_v<U>)
  bool set_value_or_keep_now(U& value) {
    return writable() && state_->set_value_or_keep(value, /*now=*/true);
  }

  // For producers: `hook` learns how the future ended — cancelled, or
  // completed through this promise (see detail::CancelHook). Call once, before
  // the future is handed to anyone else, on a promise from
  // detail::make_hooked_promise (only its state has room for a hook).
  void set_cancel_hook(detail::CancelHook* hook) noexcept {
    if (state_ != nullptr) state_->set_cancel_hook(hook);
  }

  // Completes the future as cancelled (as Future::cancel does), for a producer
  // that gives up. Returns false if it had already completed.
  bool cancel() noexcept { return state_ != nullptr && state_->cancel(); }

  // Whether the future was cancelled (a producer may stop early). Any thread.
  bool cancelled() const noexcept { return state_ != nullptr && state_->is_cancelled(); }

 private:
  friend std::pair<Promise<T>, Future<T>> make_promise<T>();
  friend std::pair<Promise<T>, Future<T>> detail::make_hooked_promise<T>();
  explicit Promise(detail::SharedState<T>* state) : state_(state) {}

  // A promise completes its future at most once: after that (or after a
  // cancellation) the future is ready.
  bool writable() const noexcept { return state_ != nullptr && !state_->is_ready(); }
  void abandon() noexcept {
    if (state_ == nullptr) return;
    if (writable()) state_->set_error(Error(Errc::broken_promise));
    std::exchange(state_, nullptr)->release_from_holder();
  }

  detail::SharedState<T>* state_ = nullptr;
};

template <class T>
std::pair<Promise<T>, Future<T>> make_promise() {
  // From the frame pool; two references: promise + future.
  auto* state = detail::SharedState<T>::create();
  return {Promise<T>(state), Future<T>(state)};
}

namespace detail {
template <class T>
std::pair<Promise<T>, Future<T>> make_hooked_promise() {
  auto* state = SharedState<T>::create(/*hook_room=*/true);
  return {Promise<T>(state), Future<T>(state)};
}
}  // namespace detail

// A future that is already complete.
template <class T, class... A>
Future<T> make_ready_future(A&&... args) {
  auto [promise, future] = make_promise<T>();
  promise.set_value(std::forward<A>(args)...);
  return std::move(future);
}

template <class T>
Future<T> make_failed_future(Error error) {
  auto [promise, future] = make_promise<T>();
  promise.set_error(std::move(error));
  return std::move(future);
}

// Runs `loop` until `future` completes and returns its outcome. Loop thread.
// If something else stops the loop first, the future is cancelled and the
// cancelled outcome is returned.
template <class T>
Result<T> run_until_complete(Loop& loop, Future<T>& future) {
  std::optional<Result<T>> outcome;
  future.then(loop, [&outcome, &loop](Result<T> r) {
    outcome.emplace(std::move(r));
    loop.stop();
  });
  loop.run();
  if (!outcome) {
    // Stopped by someone else first: cancel, then wait for the continuation,
    // which is now certain to be queued (it references this frame).
    future.cancel();
    while (!outcome) loop.run_once();
  }
  return std::move(*outcome);
}

}  // namespace weft
