// weft::ThreadPool: a fixed set of worker threads that run callbacks posted
// from any thread. Workers are weft's own std::threads (never libuv's pool).
//
//   weft::ThreadPool pool(2);
//   bool accepted = pool.post([] { crunch(); });   // any thread
//   pool.shutdown();                               // runs what is queued, joins
//
// Threads: post()/execute(), shutdown(), stats() and the observers may be
// called from any thread. Callbacks run on the workers, in no particular order
// and possibly in parallel (use a Strand for order). A worker runs its
// callbacks one after another; no lock is held while a callback runs.
//
// Ownership: the pool owns every callback it accepted until the callback has
// run (it is destroyed right after, on the worker) or, with
// ShutdownMode::cancel, until it is destroyed unrun (on the thread that called
// shutdown, or on a worker for callbacks it had already taken). A refused
// callback is destroyed unrun on the posting thread (post() leaves its
// argument untouched instead). A callable's move constructor may run while
// the queue lock is held: it must not post to the same pool.
//
// Exceptions: one that escapes a callback is caught on the worker and handed
// to ThreadPoolOptions::on_exception (default: a line on stderr); the worker
// goes on.
//
// Shutdown (shutdown() or the destructor): new work is refused at once; with
// `drain` the workers run everything queued, with `cancel` queued callbacks are
// destroyed unrun and workers stop after the callback they are running; then
// the call blocks until every worker has exited. It may be called more than
// once and from several threads (all return once the workers are joined; a
// later `cancel` still cancels what a running `drain` has not started). From
// one of the pool's own workers it cannot wait for itself: it throws
// Exception(Errc::invalid_state) and changes nothing. Destroying the pool from
// its own worker is a bug and terminates the process.
//
// Scheduling promise: a queued callback starts as soon as any worker is idle.
// No worker sleeps or spins while a callback waits, even when the callbacks
// block (which is what a pool is for).
//
// How it works (details, the claim protocol and the wake-up protocol are in
// thread_pool.cc): one shared FIFO (a ChunkedQueue under a lock that spins
// for a moment before it sleeps while spinning pays, detail::SpinMutex); a
// worker takes a batch per lock acquisition (the queue divided among the
// workers that are not parked) into its own "hand" and runs it
// outside the lock, but the callbacks in a hand it has not started stay open
// to the other workers: an idle worker that finds the queue empty claims one
// from the back of a busy worker's hand. The owner claims from the front with
// plain loads and stores (no read-modify-write); the rare thief pays for the
// ordering with a process-wide barrier (Linux membarrier) or, where that is
// unavailable, both sides use sequentially consistent accesses. An idle
// worker spins briefly (at most one at a time) before parking on a condition
// variable; a poster wakes a parked worker only when no worker is spinning
// and no wake-up is already on its way, and a worker that leaves callbacks in
// the queue or in a hand wakes one too (so the wake-up is passed on).
//
// Spinning (ThreadPoolOptions::spin, core/spin_policy.h): with `adaptive`
// the spin lasts up to kSpinBeforePark, shrinking to nothing while work
// keeps arriving later than that after a worker went idle (or not at all: an
// idle pool parks at once after a few waits and burns no CPU), and growing
// back when work comes sooner; with `off` idle workers park at once and every
// post to an idle pool pays for a wake-up (a system call, and the woken
// thread's scheduling). ThreadPoolStats::spins and spin_hits show how often
// a worker spun and how often that found work; wakeups, parks and steals how
// often workers slept, were woken and took callbacks from another's hand.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/detail/callback.h"
#include "core/detail/chunked_queue.h"
#include "core/detail/spin_governor.h"
#include "core/detail/spin_mutex.h"
#include "core/executor/executor.h"
#include "core/spin_policy.h"

namespace weft {

struct ThreadPoolOptions {
  // Number of workers; 0 means std::thread::hardware_concurrency() (at least 1).
  unsigned threads = 0;
  // Workers are named "<name>-<index>" (truncated to what the OS allows).
  std::string name = "weft-pool";
  // Called on the worker with an exception that escaped a callback; empty
  // means write it to stderr. Must not throw (what it throws is swallowed).
  std::function<void(std::exception_ptr)> on_exception;
  // Whether an idle worker spins for work before parking (see "Spinning"
  // above and core/spin_policy.h).
  SpinPolicy spin = SpinPolicy::adaptive;
};

// Counters since the pool started. Each one is exact once the pool is shut
// down; while it runs they are a recent snapshot.
struct ThreadPoolStats {
  std::uint64_t jobs_run = 0;        // callbacks run (including those that threw)
  std::uint64_t jobs_failed = 0;     // callbacks that threw
  std::uint64_t jobs_cancelled = 0;  // destroyed unrun by shutdown(cancel)
  std::uint64_t parks = 0;           // times a worker went to sleep
  std::uint64_t wakeups = 0;         // wake-ups sent to sleeping workers
  std::uint64_t spins = 0;           // times an idle worker spun before parking
  std::uint64_t spin_hits = 0;       // of those, the ones that found work
  std::uint64_t steals = 0;          // callbacks taken from another worker's batch
  std::size_t queued = 0;            // callbacks waiting now
};

enum class ShutdownMode {
  drain,   // run everything queued, then stop
  cancel,  // destroy queued callbacks unrun, then stop
};

class ThreadPool final : public Executor {
 public:
  // The most callbacks a worker takes per lock acquisition (its hand).
  static constexpr std::size_t kMaxBatch = 32;
  // The longest an idle worker spins for work before parking (see
  // "Spinning" above).
  static constexpr Duration kSpinBeforePark = std::chrono::microseconds(100);

  explicit ThreadPool(unsigned threads);
  explicit ThreadPool(ThreadPoolOptions options = {});
  // shutdown(ShutdownMode::drain).
  ~ThreadPool() override;

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `callback` to run on a worker. False (callback destroyed here, on
  // the calling thread) once shutdown has begun. Any thread.
  [[nodiscard]] bool execute(Callback callback) override { return post(std::move(callback)); }

  // Like execute(), constructing the callback in place in the queue. False
  // once shutdown has begun; `f` is then left as it was. Any thread.
  template <class F>
  [[nodiscard]] bool post(F&& f);

  // See "Shutdown" above. Any thread but the pool's own workers.
  void shutdown(ShutdownMode mode = ShutdownMode::drain);

  // Whether shutdown has begun (new work is refused). Any thread.
  bool is_shut_down() const noexcept { return stopping_.load(std::memory_order_acquire); }

  unsigned thread_count() const noexcept { return options_.threads; }
  const std::string& name() const noexcept { return options_.name; }

  // The pool whose worker is the calling thread, or nullptr. Any thread.
  static ThreadPool* current() noexcept;

  ThreadPoolStats stats() const;

 private:
  // Counters one worker writes and stats() reads, on their own cache line.
  struct alignas(64) WorkerCounters {
    std::atomic<std::uint64_t> run{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> cancelled{0};
    std::atomic<std::uint64_t> stolen{0};  // taken from another worker's hand
  };

  // A worker's batch (see thread_pool_hands.cc). The owner claims items
  // from the front, thieves from the back; items [owner_next, size - stolen)
  // are unclaimed.
  struct alignas(64) Hand {
    // Written by the owner once per claim (a relaxed store); read by thieves
    // and by workers looking for work.
    std::atomic<std::uint32_t> owner_next{0};  // the owner claimed [0, owner_next)
    // The owner's own view (owner only).
    std::uint32_t batch_size = 0;    // `size` of the current batch
    std::uint32_t stolen_final = 0;  // thieves' claims once `finished`
    bool finished = true;            // every item is claimed; stolen_final is exact
    // The thieves' side, on its own cache line: the owner reads `stolen` at
    // each claim, and it changes only when a thief claims.
    alignas(64) std::atomic<bool> locked{false};  // thieves, the refill and the owner's slow path
    std::atomic<std::uint32_t> size{0};           // written under `locked` by the owner
    std::atomic<std::uint32_t> stolen{0};         // thieves claimed [size - stolen, size)
    std::atomic<std::uint32_t> stolen_moved{0};   // of those, moved out of `items`
    // On their own cache lines.
    alignas(64) Callback items[kMaxBatch];
  };

  // idle_ packs the idle workers' state into one word so a poster reads it
  // with a single load: bit 0 = a worker is spinning; bits 1-31 count the
  // wake-ups sent and not yet taken up by a woken worker (in units of
  // kWakingOne); bits 32-63 count the workers inside park() (kParkedOne).
  static constexpr std::uint64_t kSpinning = 1;
  static constexpr std::uint64_t kWakingOne = 2;
  static constexpr std::uint64_t kWakingMask = 0xFFFF'FFFEu;
  static constexpr std::uint64_t kParkedOne = std::uint64_t{1} << 32;

  // Whether a post that saw `idle` must wake a parked worker: one is parked,
  // and no worker is on its way to look at the queue (spinning, or woken and
  // not yet looking; see "No lost wake-up" in thread_pool.cc).
  static bool must_wake(std::uint64_t idle) noexcept {
    return idle >= kParkedOne && (idle & (kSpinning | kWakingMask)) == 0;
  }

  void start_workers();
  void worker_main(unsigned index);
  // inline (defined in thread_pool.cc, used only there): with -fPIC, GCC
  // would otherwise call these once per job.
  inline bool claim_own(Hand& hand, std::uint32_t& index) noexcept;
  static bool claim_own_slow(Hand& hand, std::uint32_t next, std::uint32_t& index) noexcept;
  bool claim_back(Hand& hand, std::uint32_t& index) noexcept;
  static void lock_hand(Hand& hand) noexcept;
  static void unlock_hand(Hand& hand) noexcept;
  static bool has_unclaimed(const Hand& hand) noexcept;
  bool any_unclaimed() const noexcept;
  static void wait_until_refillable(const Hand& hand) noexcept;
  std::size_t take_batch(Hand& hand, bool locked_look, bool& closed);
  bool steal_one(unsigned self, WorkerCounters& counters);
  void wake_if_work_waits(bool known);
  inline void run_one(Callback& callback, WorkerCounters& counters);
  using WaitTime = detail::SpinGovernor::WaitClock::time_point;
  bool spin_for_work(WaitTime idle_since, bool& spun) noexcept;
  void park(WaitTime idle_since, bool spun);
  void wake_one();
  void report_exception(std::exception_ptr exception) noexcept;
  // Whether a thread that finds lock_ taken spins for it before sleeping:
  // while the spin governor lets idle workers spin (cores are free and work
  // comes soon), not with SpinPolicy::off or once spinning stopped paying.
  bool lock_spins() const noexcept { return spin_.limit() > Duration::zero(); }

  ThreadPoolOptions options_;
  // Whether the process-wide barrier is available (asymmetric_fence.h, used
  // as thread_pool_hands.cc says); fixed at construction.
  bool asymmetric_fences_ = false;
  std::vector<std::thread> workers_;
  std::unique_ptr<WorkerCounters[]> counters_;
  std::unique_ptr<Hand[]> hands_;  // one per worker

  // The queue and what guards it, on their own cache lines.
  alignas(64) detail::SpinMutex lock_;
  bool accepting_ = true;                    // guarded by lock_
  std::atomic<std::size_t> queued_hint_{0};  // queue size, written under lock_; read by spinners
  detail::ChunkedQueue<Callback> queue_;     // guarded by lock_

  // Read by every post; written only when a worker starts or stops idling.
  alignas(64) std::atomic<std::uint64_t> idle_{0};

  // How long idle workers spin; written only by idle workers.
  alignas(64) detail::SpinGovernor spin_;
  std::atomic<std::uint64_t> spins_{0};
  std::atomic<std::uint64_t> spin_hits_{0};

  alignas(64) std::atomic<bool> stopping_{false};   // shutdown has begun
  std::atomic<bool> cancelling_{false};              // shutdown(cancel) was called
  std::atomic<std::uint64_t> cancelled_at_shutdown_{0};  // dropped from the queue by shutdown

  // Parking. Lock order: park_mutex_ before lock_.
  mutable std::mutex park_mutex_;
  std::condition_variable park_cv_;
  unsigned sleepers_ = 0;      // workers waiting on park_cv_ (guarded by park_mutex_)
  unsigned wake_tokens_ = 0;   // wake-ups not yet taken by a sleeper (guarded)
  bool closing_ = false;       // workers must stop waiting (guarded)
  std::uint64_t parks_ = 0;    // guarded
  std::uint64_t wakeups_ = 0;  // guarded
  // When the last wake-up was sent (WaitClock nanoseconds; guarded): how soon
  // work came after a parked worker went idle, apart from how long its
  // wake-up took (park()).
  std::int64_t woken_at_ns_ = 0;

  std::mutex join_mutex_;  // serialises joining the workers
  bool joined_ = false;    // guarded by join_mutex_
};

namespace detail {

// Whether Callback stores `F` in its inline buffer (mirrors its rule); boxed
// callables are built before the queue lock is taken.
template <class F, class D = std::decay_t<F>>
inline constexpr bool callback_stores_inline =
    sizeof(D) <= Callback::kInlineSize && alignof(D) <= alignof(void*) &&
    std::is_nothrow_move_constructible_v<D>;

}  // namespace detail

template <class F>
bool ThreadPool::post(F&& f) {
  if constexpr (!std::is_same_v<std::decay_t<F>, Callback> &&
                !detail::callback_stores_inline<F>) {
    // Allocate the box outside the lock.
    return post(Callback(std::forward<F>(f)));
  } else {
    {
      detail::SpinMutexGuard guard(lock_, lock_spins());
      if (!accepting_) return false;
      queue_.emplace_back(std::forward<F>(f));
      queued_hint_.store(queue_.size(), std::memory_order_relaxed);
    }
    // Relaxed is enough: see "No lost wake-up" in thread_pool.cc.
    if (must_wake(idle_.load(std::memory_order_relaxed))) wake_one();
    return true;
  }
}

}  // namespace weft
