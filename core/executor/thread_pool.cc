#include "core/executor/thread_pool.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <string>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "core/error.h"

// The wake-up protocol.
//
// A worker's life: run the items of its hand, claiming them one at a time;
// when none is left, take a batch from the queue into its hand (under lock_)
// and start its first item; when the queue is empty, claim one item from
// another worker's hand (steal_one); when there is none either, spin for a
// while if no other worker is spinning (spin_for_work), then park (park).
// Three kinds of write touch idle_: setting/clearing kSpinning, and
// adding/removing kParkedOne around a park.
//
// Hands. A hand's items [next, size) are unclaimed; a claim is one atomic
// read-modify-write of the hand's (size, next) word (a thief's CAS, the
// owner's fetch_add), so each item goes to exactly one worker. The owner refills its hand under lock_, and only once
// every item is claimed and every stolen item moved out (stolen_moved, with
// release/acquire, so the owner never overwrites an item a thief is still
// moving). A refill publishes the word with a release store, which a thief's
// acquiring CAS reads, so the thief sees the items. A CAS that read an older
// batch's word fails (the word changed) or, if the refill wrote the same
// word, claims an item of the new batch that is unclaimed: either is fine.
//
// Why hands can be stolen from: a worker whose hand holds callbacks it has
// not started may be blocked in a long callback. Without stealing, another
// worker would go idle while those callbacks wait (two 50 ms jobs queued at
// once on two workers took 100 ms when one worker took both).
//
// "Work is waiting" below means: the queue is not empty, or some hand has an
// unclaimed item. Spinners and the park check look at both; a worker that
// took work (take_batch, steal_one) and sees work still waiting wakes a
// parked worker when no one spins (wake_if_work_waits), as a post does: a
// wake-up is passed on from worker to worker while work waits.
//
// A poster pushes under lock_ and then reads idle_ once; it wakes a parked
// worker (wake_one) only if must_wake(idle): someone is parked and nobody is
// spinning. Busy workers need no wake-up: they look at the queue again after
// their batch.
//
// No lost wake-up. Claim: once a post P has returned, some worker takes P's
// callback, with no further posts needed. (The same argument covers a refill
// that leaves unclaimed items in a hand: the refill is a critical section of
// lock_ followed by a read of idle_, and the park check under lock_ looks at
// the hands. A thief that leaves items in a hand read the refill's word
// through its CAS, so a parker counted before the refill is visible to it.) A worker only waits on park_cv_
// after (a) idle_ += kParkedOne and then (b) a look at the queue under lock_
// that found it empty and accepting, holding park_mutex_ from before (a)
// until it waits. After any wake-up it looks at the queue again. So it is
// enough to show that P's callback cannot stay queued while every worker
// waits, never woken. Let CS_P be P's critical section; P reads idle_ after
// it (value v).
//   - A worker W whose (b) comes after CS_P in lock_'s order sees the
//     callback and does not wait.
//   - If W's (b) comes before CS_P, W's unlock synchronises with P's lock, so
//     (a) happens-before P's read: v is (a)'s value or later in idle_'s
//     modification order, and, W never being woken, still counts W as
//     parked. If v shows no spinner, P calls wake_one(); it takes
//     park_mutex_, so W is waiting by then and counted in sleepers_; a token
//     is added unless every sleeper already has one, and a token is only
//     taken by a worker that was waiting (a worker parking after CS_P does
//     not wait), which then looks at the queue.
//   - If v shows kSpinning, it was set by some worker S and is cleared by S
//     later in idle_'s order (clear_k). After clear_k, S always looks at the
//     queue (take_batch, or park's (b)). If that look came before CS_P,
//     clear_k would happen-before P's read, and v could not precede clear_k.
//     So S looks after CS_P and sees the callback.
// The relaxed load of idle_ in post() suffices: the argument uses only the
// happens-before edge through lock_ and the modification order of idle_.
//
// Tokens. wake_tokens_ counts signals not yet consumed; a sleeper waits for a
// token or closing_, so a spurious wake-up never eats a signal and a signal
// sent just before a worker waits is not lost. wake_one() adds a token only
// while tokens < sleepers.
//
// Why a std::mutex and not a spin lock: on W8 (one poster, 2 workers, 2
// cores) a pause-then-yield spin lock measured 35-45 ns per job against 23-30
// with std::mutex. A worker that collides with the poster sleeps in the
// kernel instead of taking the core the poster needs, the queue fills
// meanwhile, and the worker comes back to full batches. A two-lock queue
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

// Tells the CPU we are in a spin-wait loop (x86 `pause`, ARM `yield`).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

// How long an idle worker looks for work before parking: kSpinRounds rounds
// of kPausesPerRound pauses, looking at the queue and yielding its time slice
// after each round (tens of microseconds in all).
constexpr int kSpinRounds = 64;
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

}  // namespace

namespace {

ThreadPoolOptions options_with_threads(unsigned threads) {
  ThreadPoolOptions options;
  options.threads = threads;
  return options;
}

}  // namespace

ThreadPool::ThreadPool(unsigned threads) : ThreadPool(options_with_threads(threads)) {}

ThreadPool::ThreadPool(ThreadPoolOptions options) : options_(std::move(options)) {
  options_.threads = resolve_thread_count(options_.threads);
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
  for (;;) {
    std::uint32_t item;
    if (claim_own(hand, item)) {
      ++hand.owner_claimed;
      run_one(hand.items[item], counters);
      continue;
    }
    wait_until_refillable(hand);
    bool closed = false;
    if (take_batch(hand, closed) != 0) {
      run_one(hand.items[0], counters);  // item 0 is reserved for the owner
      continue;
    }
    if (steal_one(index, counters)) continue;
    if (closed) break;
    if (spin_for_work()) continue;
    park();
  }
  tls_current_pool = nullptr;
}

bool ThreadPool::claim(Hand& hand, std::uint32_t& index) noexcept {
  std::uint64_t word = hand.claim.load(std::memory_order_relaxed);
  for (;;) {
    const auto next = static_cast<std::uint32_t>(word);
    const auto size = static_cast<std::uint32_t>(word >> 32);
    if (next >= size) return false;
    if (hand.claim.compare_exchange_weak(word, word + 1, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
      index = next;
      return true;
    }
  }
}

// The owner's claim: a look, then one fetch_add (no compare-exchange loop).
// The add overshoots `size` only when a thief took the last item between
// the look and the add, so `next` stays far from overflowing into `size`
// until the refill resets both.
bool ThreadPool::claim_own(Hand& hand, std::uint32_t& index) noexcept {
  if (!has_unclaimed(hand)) return false;
  const std::uint64_t word = hand.claim.fetch_add(1, std::memory_order_relaxed);
  const auto next = static_cast<std::uint32_t>(word);
  if (next >= static_cast<std::uint32_t>(word >> 32)) return false;
  index = next;
  return true;
}

bool ThreadPool::has_unclaimed(const Hand& hand) noexcept {
  const std::uint64_t word = hand.claim.load(std::memory_order_relaxed);
  return static_cast<std::uint32_t>(word) < static_cast<std::uint32_t>(word >> 32);
}

bool ThreadPool::any_unclaimed() const noexcept {
  for (unsigned i = 0; i < options_.threads; ++i) {
    if (has_unclaimed(hands_[i])) return true;
  }
  return false;
}

// Waits (briefly: a thief between its claim and its move) until every item a
// thief claimed from `hand` has been moved out. Owner only.
void ThreadPool::wait_until_refillable(const Hand& hand) noexcept {
  const auto size = static_cast<std::uint32_t>(hand.claim.load(std::memory_order_relaxed) >> 32);
  while (hand.owner_claimed + hand.stolen_moved.load(std::memory_order_acquire) != size) {
    std::this_thread::yield();
  }
}

// Moves min(kMaxBatch, queued, queued / threads + 1) callbacks into `hand`
// (whose items are all claimed and moved out) and reserves the first for the
// owner. Sets `closed` when the queue is empty and refuses work (the worker
// should exit). Wakes a parked worker if work is left waiting and nobody
// spins.
std::size_t ThreadPool::take_batch(Hand& hand, bool& closed) {
  std::size_t count;
  std::size_t left;
  {
    std::lock_guard<std::mutex> guard(lock_);
    const std::size_t queued = queue_.size();
    if (queued == 0) {
      closed = !accepting_;
      return 0;
    }
    count = std::min({kMaxBatch, queued, queued / options_.threads + 1});
    for (std::size_t i = 0; i < count; ++i) {
      hand.items[i] = std::move(queue_.front());
      queue_.pop_front();
    }
    left = queued - count;
    queued_hint_.store(left, std::memory_order_relaxed);
    hand.owner_claimed = 1;
    hand.stolen_moved.store(0, std::memory_order_relaxed);
    hand.claim.store((static_cast<std::uint64_t>(count) << 32) | 1, std::memory_order_release);
  }
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
    if (!claim(victim, item)) continue;
    Callback callback = std::move(victim.items[item]);
    victim.stolen_moved.fetch_add(1, std::memory_order_release);
    wake_if_work_waits(has_unclaimed(victim));
    run_one(callback, counters);
    return true;
  }
  return false;
}

// After a worker took work: if a worker is parked and none spins, and work
// still waits (`known` says so, or the queue or some hand has some), wakes
// one. Each woken worker that takes work passes the wake-up on like this, so
// as many workers wake as there is work waiting.
void ThreadPool::wake_if_work_waits(bool known) {
  if (!must_wake(idle_.load(std::memory_order_relaxed))) return;
  if (known || queued_hint_.load(std::memory_order_relaxed) != 0 || any_unclaimed()) wake_one();
}

// Runs `callback` (leaving it empty), or destroys it unrun once
// shutdown(cancel) has begun.
void ThreadPool::run_one(Callback& callback, WorkerCounters& counters) {
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
// already spins. Returns whether work (or shutdown) showed up.
bool ThreadPool::spin_for_work() noexcept {
  std::uint32_t idle = idle_.load(std::memory_order_relaxed);
  do {
    if (idle & kSpinning) return false;
  } while (!idle_.compare_exchange_weak(idle, idle | kSpinning, std::memory_order_relaxed));

  // Look once per round, not once per pause: every look pulls the cache line
  // that posters write, and makes the next post miss (measured: W8 and W9
  // both faster by about a quarter).
  bool found = false;
  for (int round = 0; round < kSpinRounds; ++round) {
    for (int i = 0; i < kPausesPerRound; ++i) cpu_relax();
    // The hands every few rounds: each look pulls a busy worker's claim
    // word away from it.
    const bool look_at_hands = round % kRoundsPerHandsLook == kRoundsPerHandsLook - 1;
    if (queued_hint_.load(std::memory_order_relaxed) != 0 ||
        stopping_.load(std::memory_order_relaxed) || (look_at_hands && any_unclaimed())) {
      found = true;
      break;
    }
    std::this_thread::yield();
  }
  idle_.fetch_and(~kSpinning, std::memory_order_relaxed);
  return found;
}

void ThreadPool::park() {
  std::unique_lock<std::mutex> park_lock(park_mutex_);
  idle_.fetch_add(kParkedOne, std::memory_order_relaxed);
  bool must_look = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    must_look = !queue_.empty() || !accepting_ || any_unclaimed();
  }
  if (!must_look) {
    ++sleepers_;
    ++parks_;
    park_cv_.wait(park_lock, [this] { return wake_tokens_ != 0 || closing_; });
    if (wake_tokens_ != 0) --wake_tokens_;
    --sleepers_;
  }
  idle_.fetch_sub(kParkedOne, std::memory_order_relaxed);
}

void ThreadPool::wake_one() {
  {
    std::lock_guard<std::mutex> park_lock(park_mutex_);
    if (wake_tokens_ >= sleepers_) return;  // every sleeper is already woken
    ++wake_tokens_;
    ++wakeups_;
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
    std::lock_guard<std::mutex> guard(lock_);
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
  }
  stats.jobs_cancelled += cancelled_at_shutdown_.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> park_lock(park_mutex_);
    stats.parks = parks_;
    stats.wakeups = wakeups_;
  }
  stats.queued = queued_hint_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace weft
