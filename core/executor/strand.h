// weft::Strand: serialises callbacks on top of another executor. Callbacks
// posted to a strand run in the order they were posted, never two at once
// (each one finishes before the next starts, and what it does happens-before
// the next one), on whatever thread the inner executor uses.
//
//   weft::ThreadPool pool(4);
//   weft::Strand strand(pool);
//   bool accepted = strand.execute([&] { state.update(); });  // no lock needed
//
// How: execute() appends to the strand's queue and, if no drain is pending,
// posts one drain job to the inner executor. The drain job runs up to
// kBatch callbacks, then re-posts itself if more are queued, so one busy
// strand does not monopolise a worker or a loop pass. At most one drain job
// exists at a time, which is what gives mutual exclusion and FIFO order.
// If the inner executor runs the drain job inline (InlineExecutor), the
// re-post does not recurse: the running drain goes on in a loop.
//
// Threads: execute() from any thread, including from inside a strand
// callback (it is queued behind the current one and never overlaps it).
//
// Refusal: if the inner executor refuses the drain job, the strand is dead:
// that execute() and every later one return false, and the callbacks still
// queued are destroyed unrun (on the thread that saw the refusal).
//
// Exceptions: one escaping a callback propagates to the inner executor (a
// pool reports it, a loop hands it to its exception handler, InlineExecutor
// throws it out of execute()); the strand first re-posts its drain job so the
// callbacks behind it still run.
//
// Lifetime: the strand and its inner executor must outlive the work posted to
// the strand (the drain job refers to both). Destroying the strand destroys
// callbacks still queued, unrun; it must not happen while a drain job is
// pending on the inner executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

#include "core/detail/callback.h"
#include "core/detail/chunked_queue.h"
#include "core/executor/executor.h"

namespace weft {

class Strand final : public Executor {
 public:
  // Callbacks run per drain job before it re-posts itself.
  static constexpr std::size_t kBatch = 64;

  explicit Strand(Executor& inner) noexcept : inner_(inner) {}
  ~Strand() override = default;

  Strand(const Strand&) = delete;
  Strand& operator=(const Strand&) = delete;

  // Queues `callback` behind everything posted before. False (callback
  // destroyed here) if the inner executor refused this strand's work.
  [[nodiscard]] bool execute(Callback callback) override;

  // Whether the calling thread is running one of this strand's callbacks.
  bool running_in_this_thread() const noexcept;

  Executor& inner() const noexcept { return inner_; }

 private:
  void drain();
  bool run_one();
  bool post_drain();
  void fail() noexcept;

  Executor& inner_;
  std::mutex mutex_;
  detail::ChunkedQueue<Callback, 64> queue_;  // guarded by mutex_
  bool scheduled_ = false;  // a drain job is posted or running (guarded)
  std::uint64_t taken_ = 0;  // callbacks taken from the queue so far (guarded)
  bool failed_ = false;     // the inner executor refused (guarded)
};

}  // namespace weft
