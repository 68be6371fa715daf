// weft::run_in_executor: run a function on an executor (typically a
// ThreadPool) and get its result as a future whose continuations run on a
// loop — asyncio's loop.run_in_executor.
//
//   weft::Future<int> f = weft::run_in_executor(loop, pool, [] { return slow(); });
//   std::move(f).then([](weft::Result<int> r) { ... });  // runs on `loop`'s thread
//
// - `fn` is moved (or copied) into a job posted to `executor`; it runs there,
//   on the executor's thread. Its return value, or the exception it throws,
//   completes the future from that thread. void results are supported.
// - The future's home loop is `loop`, so then(f) without a loop runs f on
//   `loop`; once a continuation is attached, loop.run() keeps running until
//   it has run.
// - If the executor refuses the job, the future fails with Errc::closed. If
//   the job is destroyed without running (ThreadPool::shutdown(cancel), a
//   Strand whose executor refused), the future completes as cancelled
//   (Errc::cancelled), not broken_promise. If the future is cancelled before
//   the job starts, `fn` is not called.
// - Callable from any thread; `loop` is only recorded, never touched here.
// - run_in_executor(executor, fn) without a loop uses the loop running on
//   this thread (in a task: co_await weft::run_in_executor(pool, fn)).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "core/detail/callback.h"
#include "core/error.h"
#include "core/executor/executor.h"
#include "core/future/future.h"
#include "core/loop/loop.h"

namespace weft {

namespace detail {

// Telling "refused" from "dropped later": both destroy the job unrun. While
// execute() runs, the submitting thread records which submission it is making
// (a per-thread sequence number); a job destroyed unrun on that thread while
// its own submission is in progress was refused, any other unrun destruction
// is a drop. The thread is identified by the address of its own record.
struct OffloadId {
  const void* thread = nullptr;
  std::uint64_t sequence = 0;
  friend bool operator==(const OffloadId&, const OffloadId&) = default;
};

struct OffloadThreadState {
  std::uint64_t next_sequence = 0;
  OffloadId submitting;
};
// This thread's record. A function defined in run_in_executor.cc over a
// thread_local with internal linkage, not an inline thread_local variable:
// gcc gives an inline variable a unique (STB_GNU_UNIQUE) symbol that a
// version script cannot hide, and a TLS variable with external linkage stays
// in a shared library's dynamic symbol table even when made local or hidden,
// so libweft.so.1 would show a C++ symbol.
OffloadThreadState& offload_thread_state() noexcept;

class OffloadSubmission {
 public:
  OffloadSubmission() noexcept : state_(offload_thread_state()) {
    id_ = OffloadId{&state_, ++state_.next_sequence};
    previous_ = state_.submitting;
    state_.submitting = id_;
  }
  ~OffloadSubmission() { state_.submitting = previous_; }
  OffloadSubmission(const OffloadSubmission&) = delete;
  OffloadSubmission& operator=(const OffloadSubmission&) = delete;

  OffloadId id() const noexcept { return id_; }

 private:
  OffloadThreadState& state_;
  OffloadId id_;
  OffloadId previous_;
};

// The job run_in_executor posts: calls `fn` and completes the promise; if
// destroyed unrun, completes it with closed (refused) or cancelled (dropped).
template <class F, class R>
class OffloadJob {
 public:
  template <class G>
  OffloadJob(G&& fn, Promise<R> promise, OffloadId id)
      : fn_(std::forward<G>(fn)), promise_(std::move(promise)), id_(id) {}

  OffloadJob(OffloadJob&&) = default;
  OffloadJob& operator=(OffloadJob&&) = delete;

  ~OffloadJob() {
    if (!promise_.valid()) return;  // ran, or moved from
    if (offload_thread_state().submitting == id_) {
      Error refused(Errc::closed);  // the code's own message if there is no memory for this one
      try {
        refused = Error(Errc::closed, "run_in_executor: the executor refused the job");
      } catch (...) {
      }
      promise_.set_error(std::move(refused));
    } else {
      promise_.cancel();  // dropped before it ran
    }
  }

  void operator()() {
    // Call fn as run_in_executor's caller passed it: as an lvalue if it was
    // one (or is a function), else as an rvalue, matching invoke_result_t<F>.
    using Stored = std::decay_t<F>;
    using CallAs = std::conditional_t<std::is_lvalue_reference_v<F> ||
                                          std::is_function_v<std::remove_reference_t<F>>,
                                      Stored&, Stored&&>;
    Promise<R> promise = std::move(promise_);
    if (promise.cancelled()) return;  // nobody wants the result: skip fn
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(static_cast<CallAs>(fn_));
        promise.set_value();
      } else {
        promise.set_value(std::invoke(static_cast<CallAs>(fn_)));
      }
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  }

 private:
  std::decay_t<F> fn_;
  Promise<R> promise_;
  OffloadId id_;
};

}  // namespace detail

template <class F>
auto run_in_executor(Loop& loop, Executor& executor, F&& fn) -> Future<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  static_assert(!std::is_reference_v<R>, "run_in_executor: fn must return a value, not a reference");
  auto [promise, future] = make_promise<R>();
  future.set_home_loop(loop);
  detail::OffloadSubmission submission;
  // A refusal is reported through the job's destructor (see OffloadJob).
  (void)executor.execute(
      detail::OffloadJob<F, R>(std::forward<F>(fn), std::move(promise), submission.id()));
  return std::move(future);
}

template <class F>
auto run_in_executor(Executor& executor, F&& fn) -> Future<std::invoke_result_t<F>> {
  Loop* loop = Loop::current();
  if (loop == nullptr) {
    throw Exception(Errc::invalid_state, "run_in_executor without a loop: no loop runs on this thread");
  }
  return run_in_executor(*loop, executor, std::forward<F>(fn));
}

}  // namespace weft
