#include "core/executor/thread_pool.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <string>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "core/error.h"
#include "core/executor/asymmetric_fence.h"

// The wake-up protocol.
//
// A worker's life: run the items of its hand, claiming them one at a time;
// when none is left, take a batch from the queue into its hand (under lock_)
// and start its first item; when the queue is empty, claim one item from
// another worker's hand (steal_one); when there is none either, spin for a
// while if no other worker is spinning (spin_for_work), then park (park).
// Four kinds of write touch idle_: setting/clearing kSpinning;
// adding/removing kParkedOne around a park; adding kWakingOne when a
// wake-up is sent (wake_one, with its token) and removing it when the worker
// that took the token leaves park().
//
// Looks at the queue. A "locked look" is take_batch's critical section or
// park's check (b) below. A worker that ran out of its hand's items first
// reads queued_hint_ and skips lock_ when it says the queue is empty (with
// many workers, their empty looks kept the poster waiting for lock_); the
// hint may be stale, so the first look after a spin or a park is always a
// locked one, and a worker never sleeps without one (park's (b)).
//
// Hands, the claim handshake between a hand's owner and its thieves, the
// barriers it needs and how a batch ends: thread_pool_hands.cc.
//
// "Work is waiting" below means: the queue is not empty, or some hand has an
// unclaimed item. Spinners and the park check look at both; a worker that
// took work (take_batch, steal_one) and sees work still waiting wakes a
// parked worker when no one spins (wake_if_work_waits), as a post does: a
// wake-up is passed on from worker to worker while work waits.
//
// A poster pushes under lock_ and then reads idle_ once; it wakes a parked
// worker (wake_one) only if must_wake(idle): someone is parked, nobody is
// spinning and no wake-up is on its way (kWakingOne: sent, its worker not yet
// out of park()). Busy workers need no wake-up: they look at the queue again
// after their batch. While a wake-up is on its way, posts leave the rest to
// the woken worker, which passes it on if work still waits when it took its
// batch: at most one wake-up per wake-up latency instead of one per post.
// The price: when several callbacks arrive at once on parked workers, the
// second worker is woken by the first one, a wake-up latency later than a
// poster would have woken it.
// (Before, every post that found workers parked and none spinning sent one,
// as long as some sleeper had no token yet: with 15 workers on 16 idle
// cores, tiny jobs ran 4 times slower than with one worker, 35 times with
// spinning off; see docs/performance.md.)
//
// No lost wake-up. Claim: once a post P has returned, some worker takes P's
// callback, with no further posts needed. (The same argument covers a refill
// that leaves unclaimed items in a hand: the refill is a critical section of
// lock_ followed by a read of idle_, and the park check looks at the hands
// after its critical section of lock_ (so after the refill's, if it comes
// later in lock_'s order). A thief that leaves items in a hand took the
// hand's lock after the refill released it, inside the refill's critical
// section of lock_, so a parker counted before the refill is visible to it.) A worker only waits
// on park_cv_ after (a) idle_ += kParkedOne and then (b) a look at the
// queue under lock_ that found it empty and accepting, holding park_mutex_
// from before (a) until it waits. After any wake-up its first look at the
// queue is a locked one. So it is
// enough to show that P's callback cannot stay queued while every worker
// waits, never woken. Let CS_P be P's critical section; P reads idle_ after
// it (value v).
//   - A worker W whose (b) comes after CS_P in lock_'s order sees the
//     callback and does not wait.
//   - If W's (b) comes before CS_P, W's unlock synchronises with P's lock, so
//     (a) happens-before P's read: v is (a)'s value or later in idle_'s
//     modification order, and, W never being woken, still counts W as
//     parked. If v shows no spinner and no wake-up on its way (the two cases
//     below), P calls wake_one(); it takes park_mutex_, so W is waiting by
//     then and counted in sleepers_; a token
//     is added unless every sleeper already has one, and a token is only
//     taken by a worker that was waiting (a worker parking after CS_P does
//     not wait), which then looks at the queue.
//   - If v shows kSpinning, it was set by some worker S and is cleared by S
//     later in idle_'s order (clear_k). After clear_k, S's first look at the
//     queue is a locked one (take_batch, or park's (b)). If that look came
//     before CS_P, clear_k would happen-before P's read, and v could not
//     precede clear_k. So S looks after CS_P and sees the callback.
//   - If v counts w > 0 wake-ups on their way: each unit was added by a
//     wake_one() together with a token; every token is taken, by a worker
//     waiting on park_cv_ (tokens never exceed sleepers_, and each one is
//     followed by a notify_one), and that worker removes one unit before its
//     first look, which is a locked one. So at least w removals follow v in
//     idle_'s order; let W make one of them (remove_k). If W's locked look
//     came before CS_P, remove_k would happen-before P's read, and v could
//     not precede remove_k. So W looks after CS_P and sees the callback.
// The relaxed load of idle_ in post() suffices: the argument uses only the
// happens-before edge through lock_ and the modification order of idle_.
//
// Tokens. wake_tokens_ counts signals not yet consumed; a sleeper waits for a
// token or closing_, so a spurious wake-up never eats a signal and a signal
// sent just before a worker waits is not lost. wake_one() adds a token only
// while tokens < sleepers.
//
// lock_ is a detail::SpinMutex: a futex lock that, while the spin governor
// lets workers spin (lock_spins()), first watches the lock word for a
// microsecond or two before it sleeps, and otherwise sleeps at once like a
// std::mutex. Why not always sleep: on 16 idle cores a poster that collided
// with a worker slept for microseconds per collision, and each collision cost
// a futex wake besides. Why not a plain spin lock: on W8 (one poster, 2
// workers, 2 cores) a pause-then-yield spin lock measured 35-45 ns per job
// against 23-30 with std::mutex; there a worker that collides with the poster
// should sleep in the kernel instead of taking the core the poster needs (the
// queue fills meanwhile, and the worker comes back to full batches), and
// there the governor has stopped the spinning. A two-lock queue
// (posters and workers on separate locks, meeting at one published counter)
// measured no better: the cost is the cache line each job's callback lives
// in, which moves from poster to worker whatever the queue looks like.
//
// Shutdown order (shutdown()):
//   1. Under lock_: accepting_ = false (posts refused from now on); with
//      cancel, take the whole queue out and set cancelling_ (workers destroy
//      what is left in their hands unrun, and stop stealing).
//   2. Destroy the taken callbacks outside the lock (their destructors are
//      user code and may post; such posts are refused).
//   3. Under park_mutex_: closing_ = true, wake every sleeper. A worker exits
//      when its hand is done, the queue is empty and not accepting, and it
//      found nothing to steal (drain mode runs everything first, since nothing
//      can be added any more; each owner finishes its own hand).
//   4. Under join_mutex_: join the workers once; other callers wait here.

namespace weft {

namespace {

thread_local ThreadPool* tls_current_pool = nullptr;

// How an idle worker looks for work before parking: rounds of
// kPausesPerRound pauses, looking at the queue and yielding its time slice
// after each round (about 1.3 us per round here), until the spin governor's
// limit (at most kSpinBeforePark) has passed.
constexpr int kPausesPerRound = 32;
constexpr int kRoundsPerHandsLook = 4;

void name_this_thread(const std::string& base, unsigned index) {
#if defined(__linux__)
  std::string suffix = "-" + std::to_string(index);
  constexpr std::size_t kMaxName = 15;  // Linux limit, without the NUL
  std::string name = base.substr(0, kMaxName - std::min(kMaxName, suffix.size())) + suffix;
  pthread_setname_np(pthread_self(), name.substr(0, kMaxName).c_str());
#else
  (void)base;
  (void)index;
#endif
}

unsigned resolve_thread_count(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPoolOptions options_with_threads(unsigned threads) {
  ThreadPoolOptions options;
  options.threads = threads;
  return options;
}

}  // namespace

ThreadPool::ThreadPool(unsigned threads) : ThreadPool(options_with_threads(threads)) {}

ThreadPool::ThreadPool(ThreadPoolOptions options)
    : options_(std::move(options)), spin_(options_.spin, kSpinBeforePark) {
  options_.threads = resolve_thread_count(options_.threads);
  asymmetric_fences_ = detail::asymmetric_fences_available();
  counters_ = std::make_unique<WorkerCounters[]>(options_.threads);
  hands_ = std::make_unique<Hand[]>(options_.threads);
  start_workers();
}

void ThreadPool::start_workers() {
  workers_.reserve(options_.threads);
  try {
    for (unsigned i = 0; i < options_.threads; ++i) {
      workers_.emplace_back([this, i] { worker_main(i); });
    }
  } catch (...) {
    shutdown(ShutdownMode::cancel);
    throw;
  }
}

ThreadPool::~ThreadPool() {
  if (tls_current_pool == this) {
    std::fprintf(stderr, "weft: ThreadPool '%s' destroyed from one of its own workers\n",
                 options_.name.c_str());
    std::terminate();
  }
  shutdown(ShutdownMode::drain);
}

ThreadPool* ThreadPool::current() noexcept { return tls_current_pool; }

// ---- workers ----------------------------------------------------------------

void ThreadPool::worker_main(unsigned index) {
  tls_current_pool = this;
  name_this_thread(options_.name, index);
  WorkerCounters& counters = counters_[index];
  Hand& hand = hands_[index];
  // Whether the next look at the queue must be a locked one: the first after
  // a spin or a park (see "No lost wake-up").
  bool after_idle = true;
  for (;;) {
    std::uint32_t item;
    if (claim_own(hand, item)) {
      run_one(hand.items[item], counters);
      continue;
    }
    wait_until_refillable(hand);
    bool closed = false;
    const std::size_t taken = take_batch(hand, after_idle, closed);
    after_idle = false;
    if (taken != 0) {
      run_one(hand.items[0], counters);  // item 0 is reserved for the owner
      continue;
    }
    if (steal_one(index, counters)) continue;
    if (closed) break;
    WaitTime idle_since{};
    if (spin_.enabled()) idle_since = detail::SpinGovernor::WaitClock::now();
    bool spun = false;
    after_idle = true;
    if (spin_for_work(idle_since, spun)) continue;
    park(idle_since, spun);
  }
  tls_current_pool = nullptr;
}

// The owner's claim (fast path: no lock, no read-modify-write). Owner only.
inline bool ThreadPool::claim_own(Hand& hand, std::uint32_t& index) noexcept {
  if (hand.finished) return false;
  const std::uint32_t next = hand.owner_next.load(std::memory_order_relaxed);  // our own store
  if (next == hand.batch_size) {
    // End (a): the owner claimed the last item, so no thief kept any.
    hand.finished = true;
    hand.stolen_final = 0;
    return false;
  }
  std::uint32_t stolen;
  if (asymmetric_fences_) {
    hand.owner_next.store(next + 1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);  // light barrier
    stolen = hand.stolen.load(std::memory_order_relaxed);
  } else {
    hand.owner_next.store(next + 1, std::memory_order_seq_cst);
    stolen = hand.stolen.load(std::memory_order_seq_cst);
  }
  if (next + stolen < hand.batch_size) {
    index = next;
    return true;
  }
  return claim_own_slow(hand, next, index);
}

void ThreadPool::lock_hand(Hand& hand) noexcept {
  while (hand.locked.exchange(true, std::memory_order_acquire)) {
    do {
      std::this_thread::yield();  // a thief may be inside a system call
    } while (hand.locked.load(std::memory_order_relaxed));
  }
}

void ThreadPool::unlock_hand(Hand& hand) noexcept {
  hand.locked.store(false, std::memory_order_release);
}

// Without the lock: a hint for workers looking for work. It can be stale,
// but the park check reads it under lock_, which every refill holds.
bool ThreadPool::has_unclaimed(const Hand& hand) noexcept {
  const std::uint32_t size = hand.size.load(std::memory_order_acquire);  // the refill stores it last
  return hand.owner_next.load(std::memory_order_relaxed) +
             hand.stolen.load(std::memory_order_relaxed) <
         size;
}

bool ThreadPool::any_unclaimed() const noexcept {
  for (unsigned i = 0; i < options_.threads; ++i) {
    if (has_unclaimed(hands_[i])) return true;
  }
  return false;
}

// Moves min(kMaxBatch, queued, queued / sharing + 1) callbacks into `hand`
// (whose items are all claimed and moved out), `sharing` being the workers
// not parked (parked ones would only steal them back one by one after a
// wake-up; dividing among all workers made one lock acquisition per tiny job
// with many of them), and reserves the first for the owner. Sets `closed`
// when the queue is empty and refuses work (the worker should exit). Wakes a
// parked worker if work is left waiting and nobody spins or is being woken.
// Without `locked_look`, returns 0 at once when queued_hint_ says the queue
// is empty.
std::size_t ThreadPool::take_batch(Hand& hand, bool locked_look, bool& closed) {
  // Nothing queued by the hint: leave lock_ to the posters (a worker that
  // finds nothing looks under lock_ before it sleeps, in park; the look that
  // sets `closed` is a locked one, since shutdown sets stopping_ under lock_).
  if (!locked_look && queued_hint_.load(std::memory_order_relaxed) == 0 &&
      !stopping_.load(std::memory_order_relaxed)) {
    return 0;
  }
  std::size_t count;
  std::size_t left;
  const std::uint64_t parked = idle_.load(std::memory_order_relaxed) / kParkedOne;
  const std::size_t sharing = options_.threads > parked ? options_.threads - parked : 1;
  {
    detail::SpinMutexGuard guard(lock_, lock_spins());
    const std::size_t queued = queue_.size();
    if (queued == 0) {
      closed = !accepting_;
      return 0;
    }
    count = std::min({kMaxBatch, queued, queued / sharing + 1});
    for (std::size_t i = 0; i < count; ++i) {
      hand.items[i] = std::move(queue_.front());
      queue_.pop_front();
    }
    left = queued - count;
    queued_hint_.store(left, std::memory_order_relaxed);
    // Publish the batch with item 0 claimed by the owner. The counters go
    // before size, which has_unclaimed() reads first.
    lock_hand(hand);
    hand.owner_next.store(1, std::memory_order_relaxed);
    hand.stolen.store(0, std::memory_order_relaxed);
    hand.stolen_moved.store(0, std::memory_order_relaxed);
    hand.size.store(static_cast<std::uint32_t>(count), std::memory_order_release);
    unlock_hand(hand);
  }
  hand.batch_size = static_cast<std::uint32_t>(count);
  hand.finished = false;
  hand.stolen_final = 0;
  wake_if_work_waits(count > 1 || left != 0);
  return count;
}

// Claims one unclaimed item from another worker's hand and runs it. Not while
// shutdown(cancel) destroys what is left (the owners do that).
bool ThreadPool::steal_one(unsigned self, WorkerCounters& counters) {
  if (cancelling_.load(std::memory_order_relaxed)) return false;
  const unsigned n = options_.threads;
  for (unsigned k = 1; k < n; ++k) {
    Hand& victim = hands_[(self + k) % n];
    std::uint32_t item;
    if (!claim_back(victim, item)) continue;
    Callback callback = std::move(victim.items[item]);
    victim.stolen_moved.fetch_add(1, std::memory_order_release);
    counters.stolen.store(counters.stolen.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
    wake_if_work_waits(has_unclaimed(victim));
    run_one(callback, counters);
    return true;
  }
  return false;
}

// After a worker took work: if a worker is parked and none spins or is being
// woken, and work still waits (`known` says so, or the queue or some hand
// has some), wakes one. Each woken worker that takes work passes the wake-up
// on like this, so as many workers wake as there is work waiting.
void ThreadPool::wake_if_work_waits(bool known) {
  if (!must_wake(idle_.load(std::memory_order_relaxed))) return;
  if (known || queued_hint_.load(std::memory_order_relaxed) != 0 || any_unclaimed()) wake_one();
}

// Runs `callback` (leaving it empty), or destroys it unrun once
// shutdown(cancel) has begun.
inline void ThreadPool::run_one(Callback& callback, WorkerCounters& counters) {
  // Single writer: plain adds published with relaxed stores.
  if (cancelling_.load(std::memory_order_relaxed)) {
    callback.reset();
    counters.cancelled.store(counters.cancelled.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
    return;
  }
  counters.run.store(counters.run.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  try {
    callback.invoke_once();
  } catch (...) {
    counters.failed.store(counters.failed.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
    report_exception(std::current_exception());
  }
}

// Spins looking at the queue-size hint and the hands, unless another worker
// already spins or the spin governor says work will not come soon. Returns
// whether work (or shutdown) showed up; `spun` says whether it spun.
bool ThreadPool::spin_for_work(WaitTime idle_since, bool& spun) noexcept {
  const Duration limit = spin_.limit();
  if (limit <= Duration::zero()) return false;
  std::uint64_t idle = idle_.load(std::memory_order_relaxed);
  do {
    if (idle & kSpinning) return false;
  } while (!idle_.compare_exchange_weak(idle, idle | kSpinning, std::memory_order_relaxed));
  spins_.fetch_add(1, std::memory_order_relaxed);
  spun = true;

  // Look once per round, not once per pause: every look pulls the cache line
  // that posters write, and makes the next post miss (measured: W8 and W9
  // both faster by about a quarter).
  const WaitTime until = idle_since + limit;
  bool found = false;
  bool stopping = false;
  for (int round = 0;; ++round) {
    for (int i = 0; i < kPausesPerRound; ++i) detail::cpu_relax();
    // The hands every few rounds: each look pulls a busy worker's claim
    // word away from it.
    const bool look_at_hands = round % kRoundsPerHandsLook == kRoundsPerHandsLook - 1;
    if (queued_hint_.load(std::memory_order_relaxed) != 0 || (look_at_hands && any_unclaimed())) {
      found = true;
      break;
    }
    if (stopping_.load(std::memory_order_relaxed)) {
      stopping = true;
      break;
    }
    const WaitTime now = detail::SpinGovernor::WaitClock::now();
    if (now >= until) break;
    std::this_thread::yield();
  }
  idle_.fetch_and(~kSpinning, std::memory_order_relaxed);
  if (found) {
    spin_hits_.fetch_add(1, std::memory_order_relaxed);
    spin_.spun_and_found(detail::SpinGovernor::WaitClock::now() - idle_since);
  } else if (!stopping) {
    spin_.spun_in_vain();
  }
  return found || stopping;
}

// Sleeps until woken (a post, a worker passing a wake-up on, shutdown).
// After a wait without a spin (`spun` false), tells the spin governor how
// soon work came after `idle_since`: when the wake-up was sent, not when it
// arrived.
void ThreadPool::park(WaitTime idle_since, bool spun) {
  std::unique_lock<std::mutex> park_lock(park_mutex_);
  idle_.fetch_add(kParkedOne, std::memory_order_relaxed);
  bool must_look = false;
  bool accepting = true;
  bool woken = false;
  {
    detail::SpinMutexGuard guard(lock_, lock_spins());
    must_look = !queue_.empty() || !accepting_;
    accepting = accepting_;
  }
  // The hands after lock_ is released (a look at every hand is a cache miss
  // each): what the argument needs is that these reads follow the lock.
  if (!must_look) must_look = any_unclaimed();
  if (!must_look) {
    ++sleepers_;
    ++parks_;
    park_cv_.wait(park_lock, [this] { return wake_tokens_ != 0 || closing_; });
    woken = wake_tokens_ != 0;
    if (woken) --wake_tokens_;
    --sleepers_;
    if (woken && !spun && spin_.enabled()) {
      const std::int64_t since = idle_since.time_since_epoch().count();
      const WaitTime now = detail::SpinGovernor::WaitClock::now();
      spin_.slept_until_work(woken_at_ns_ >= since ? Duration(woken_at_ns_ - since)
                                                   : now - idle_since);
    }
  } else if (accepting && !spun && spin_.enabled()) {
    spin_.slept_until_work(detail::SpinGovernor::WaitClock::now() - idle_since);
  }
  // A woken worker takes its wake-up off the count before it looks at the
  // queue again (see "No lost wake-up").
  idle_.fetch_sub(woken ? kParkedOne + kWakingOne : kParkedOne, std::memory_order_relaxed);
}

void ThreadPool::wake_one() {
  {
    std::lock_guard<std::mutex> park_lock(park_mutex_);
    if (wake_tokens_ >= sleepers_) return;  // every sleeper is already woken
    ++wake_tokens_;
    ++wakeups_;
    idle_.fetch_add(kWakingOne, std::memory_order_relaxed);
    if (spin_.enabled()) {
      woken_at_ns_ = detail::SpinGovernor::WaitClock::now().time_since_epoch().count();
    }
  }
  park_cv_.notify_one();
}

void ThreadPool::report_exception(std::exception_ptr exception) noexcept {
  try {
    if (options_.on_exception) {
      options_.on_exception(std::move(exception));
      return;
    }
    try {
      std::rethrow_exception(exception);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft: exception escaped a job in thread pool '%s': %s\n",
                   options_.name.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "weft: exception escaped a job in thread pool '%s' (not a std::exception)\n",
                   options_.name.c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "weft: the exception handler of thread pool '%s' threw\n",
                 options_.name.c_str());
  }
}

// ---- shutdown -----------------------------------------------------------------

void ThreadPool::shutdown(ShutdownMode mode) {
  if (tls_current_pool == this) {
    throw Exception(Errc::invalid_state,
                    "ThreadPool::shutdown called from one of the pool's own workers");
  }
  // Steps 1-2: refuse new work; with cancel, destroy what is queued.
  detail::ChunkedQueue<Callback> dropped;
  {
    detail::SpinMutexGuard guard(lock_, lock_spins());
    accepting_ = false;
    stopping_.store(true, std::memory_order_release);
    if (mode == ShutdownMode::cancel) {
      cancelling_.store(true, std::memory_order_relaxed);
      queue_.swap(dropped);
      queued_hint_.store(0, std::memory_order_relaxed);
    }
  }
  cancelled_at_shutdown_.fetch_add(dropped.size(), std::memory_order_relaxed);
  dropped.clear();

  // Step 3: wake every sleeper so it can see that the pool is closing.
  {
    std::lock_guard<std::mutex> park_lock(park_mutex_);
    closing_ = true;
  }
  park_cv_.notify_all();

  // Step 4: join once.
  std::lock_guard<std::mutex> join_lock(join_mutex_);
  if (joined_) return;
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  joined_ = true;
}

ThreadPoolStats ThreadPool::stats() const {
  ThreadPoolStats stats;
  for (unsigned i = 0; i < options_.threads; ++i) {
    stats.jobs_run += counters_[i].run.load(std::memory_order_relaxed);
    stats.jobs_failed += counters_[i].failed.load(std::memory_order_relaxed);
    stats.jobs_cancelled += counters_[i].cancelled.load(std::memory_order_relaxed);
    stats.steals += counters_[i].stolen.load(std::memory_order_relaxed);
  }
  stats.jobs_cancelled += cancelled_at_shutdown_.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> park_lock(park_mutex_);
    stats.parks = parks_;
    stats.wakeups = wakeups_;
  }
  stats.spins = spins_.load(std::memory_order_relaxed);
  stats.spin_hits = spin_hits_.load(std::memory_order_relaxed);
  stats.queued = queued_hint_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace weft
