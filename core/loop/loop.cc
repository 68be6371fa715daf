#include "core/loop/loop.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "core/detail/fast_tls.h"
#include "core/future/shared_state.h"
#include "core/loop/loop_access.h"

namespace weft {

namespace detail {
WEFT_FAST_TLS thread_local Loop* tls_current_loop = nullptr;
}  // namespace detail
using detail::tls_current_loop;

namespace detail {
void discard_posted_continuation(StateBase* state) noexcept { state->drop_queued(); }
}  // namespace detail

// Marks the loop as running on this thread for the duration of a run call.
class Loop::RunScope {
 public:
  explicit RunScope(Loop& loop)
      : loop_(loop), previous_(tls_current_loop), pool_scope_(loop.frame_pool_) {
    if (loop.running_.exchange(true, std::memory_order_acquire)) {
      if (loop.in_loop_thread()) {
        throw Exception(Errc::reentrant_run, "a weft loop cannot be run from inside its own callbacks");
      }
      throw Exception(Errc::wrong_thread, "the loop is already running on another thread");
    }
    if (loop.is_closed()) {
      loop.running_.store(false, std::memory_order_release);
      throw Exception(Errc::closed);
    }
    // A loop that is not running may move to the thread that runs it.
    loop.owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    loop.frame_pool_->set_owner(std::this_thread::get_id());
    loop.wake_needed_.store(false, std::memory_order_relaxed);
    tls_current_loop = &loop;
  }
  ~RunScope() {
    loop_.wake_needed_.store(true, std::memory_order_seq_cst);
    loop_.running_.store(false, std::memory_order_release);
    tls_current_loop = previous_;
  }

 private:
  Loop& loop_;
  Loop* previous_;
  detail::FramePool::Scope pool_scope_;  // frames created while running come from the loop's pool
};

namespace {

// What a failure to set up the loop's kernel objects (epoll, the wake-up
// eventfd) means: out of descriptors is not out of memory.
Errc loop_init_errc(int uv_status) noexcept {
  switch (uv_status) {
    case UV_EMFILE:
    case UV_ENFILE:
      return Errc::too_many_open_files;
    case UV_ENOMEM:
      return Errc::no_memory;
    default:
      return Errc::io_error;
  }
}

}  // namespace

Loop::Loop(LoopOptions options)
    : uv_(std::make_unique<uv_loop_t>()),
      clock_(options.clock != nullptr ? options.clock : &MonotonicClock::instance()),
      frame_pool_(new detail::FramePool()),
      owner_(std::this_thread::get_id()),
      spin_(options.spin, kSpinBeforeSleep, kSpinBeforeSleepMax),
      io_spin_(options.spin, kIoSpinBeforeSleep),
      debug_(options.debug),
      slow_threshold_(options.slow_callback_threshold) {
  // The batch queue always holds a chunk (Inbox::take_all).
  try {
    inbox_batch_.add_room(1);
  } catch (...) {
    frame_pool_->retire();
    throw;
  }
  int rc = uv_loop_init(uv_.get());
  if (rc != 0) {
    frame_pool_->retire();
    throw Exception(loop_init_errc(rc), std::string("uv_loop_init: ") + uv_strerror(rc));
  }
  // The wake-up's callback marks when a wake-up reached the loop, for the
  // spin governor's wake-up latency.
  rc = uv_async_init(uv_.get(), &wake_handle_, [](uv_async_t* handle) {
    Loop* loop = static_cast<Loop*>(handle->data);
    if (!loop->spin_.enabled()) return;
    loop->woken_ns_ = detail::SpinGovernor::WaitClock::now().time_since_epoch().count();
  });
  wake_handle_.data = this;
  if (rc != 0) {
    uv_loop_close(uv_.get());
    frame_pool_->retire();
    throw Exception(loop_init_errc(rc), std::string("uv_async_init: ") + uv_strerror(rc));
  }
  uv_timer_init(uv_.get(), &sleep_timer_);
  // Register the wake-up fd with the kernel now (libuv does it lazily, at the
  // first poll), so backend_fd() reports cross-thread posts from the start.
  uv_run(uv_.get(), UV_RUN_NOWAIT);
  // Weft's own handles never keep libuv's loop alive by themselves; the loop
  // decides when to block (see block_until_ready).
  uv_unref(reinterpret_cast<uv_handle_t*>(&wake_handle_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&sleep_timer_));
}

Loop::~Loop() {
  if (!is_closed()) {
    // The thread that destroys a loop that is not running owns it.
    if (!is_running()) {
      owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
      frame_pool_->set_owner(std::this_thread::get_id());
    }
    try {
      close();
    } catch (...) {
      // close() only throws for misuse (running, wrong thread); nothing better
      // can be done in a destructor than to say so.
      std::fputs("weft: a Loop was destroyed while it could not be closed\n", stderr);
    }
  }
  // Blocks still out (frames held by handles that outlive the loop) keep the
  // pool alive until they come back.
  frame_pool_->retire();
}

Loop* Loop::current() noexcept { return tls_current_loop; }

void Loop::move_to_this_thread() {
  if (in_loop_thread()) return;
  // Held like a run for the moment of the move, so no run starts meanwhile.
  if (running_.exchange(true, std::memory_order_acquire)) {
    throw Exception(Errc::wrong_thread, "the loop is running on another thread");
  }
  if (is_closed()) {
    running_.store(false, std::memory_order_release);
    throw Exception(Errc::closed);
  }
  owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  frame_pool_->set_owner(std::this_thread::get_id());
  running_.store(false, std::memory_order_release);
}

void Loop::throw_wrong_thread(const char* what) const {
  throw Exception(Errc::wrong_thread,
                  std::string("Loop::") + what + " called from a thread that does not own the loop");
}

// ---- waking ---------------------------------------------------------------

void Loop::wake() noexcept { uv_async_send(&wake_handle_); }

void Loop::wake_if_needed() noexcept {
  // Pairs with the seq_cst stores of wake_needed_ (block_until_ready, RunScope):
  // either the loop sees the posted item before it stops looking, or we see
  // that it stopped looking and wake it (which also makes backend_fd() readable
  // for a host polling it).
  if (wake_needed_.load(std::memory_order_seq_cst)) {
    if (spin_.enabled()) {
      // The first post since the loop went to sleep stamps the time, for the
      // spin governor (learn_from_sleep). A wake-up costs a system call; the
      // clock read beside it does not matter.
      std::int64_t none = 0;
      const std::int64_t stamp =
          detail::SpinGovernor::WaitClock::now().time_since_epoch().count();
      wake_requested_ns_.compare_exchange_strong(none, stamp, std::memory_order_relaxed);
    }
    uv_async_send(&wake_handle_);
  }
}

void Loop::KeepAlive::reset() noexcept {
  Loop* loop = std::exchange(loop_, nullptr);
  if (loop == nullptr) return;
  // The last one gone: let a loop blocked on it re-check whether it is idle.
  if (loop->keep_alive_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) loop->wake();
}

void Loop::stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  if (!in_loop_thread() && !is_closed()) uv_async_send(&wake_handle_);
}

// ---- timers ---------------------------------------------------------------

bool TimerHandle::cancel() noexcept { return loop_ != nullptr && loop_->cancel_timer(id_); }

bool TimerHandle::pending() const noexcept {
  return loop_ != nullptr && !loop_->is_closed() && loop_->timer_pending(id_);
}

bool Loop::cancel_timer(detail::TimerId id) noexcept {
  if (!timers_.cancel(id)) return false;
  ready_.release_units(kTimerUnits);
  ++stats_.timers_cancelled;
  return true;
}

void Loop::fire_expired_timers() {
  // No clock read on the passes of a loop without timers (an I/O loop makes
  // many small passes).
  if (timers_.empty()) return;
  stats_.timers_fired += timers_.pop_expired(
      clock_->now(), [this](Callback&& cb) { ready_.emplace_reserved(std::move(cb)); });
}

// ---- futures --------------------------------------------------------------

// A C++ future's state goes into the set, in the room its continuation's
// reservation made there; a ListedState links itself.
void Loop::track_future(detail::StateBase* state) noexcept { pending_futures_.insert_reserved(state); }

void Loop::track_listed_future(detail::ListedState* state) noexcept { listed_futures_.push_front(state); }

void Loop::untrack_future(detail::StateBase* state) noexcept {
  if (!state->listed()) {
    pending_futures_.erase(state);
    return;
  }
  auto* listed = static_cast<detail::ListedState*>(state);
  if (listed->tracked()) listed_futures_.remove(listed);
}

detail::StateBase* Loop::any_tracked_future() noexcept {
  if (const void* state = pending_futures_.any(); state != nullptr) {
    return static_cast<detail::StateBase*>(const_cast<void*>(state));
  }
  return listed_futures_.empty() ? nullptr : listed_futures_.front();
}

// A continuation's room: ready-queue units for its record, one inbox entry
// in case it completes on another thread, and (`set_entry`: a C++ future's)
// an entry in the set of pending futures. The inbox's lock is taken once per
// kInboxRoomBatch reservations.
namespace {
// The continuation is queued as the state's address (an object record).
constexpr std::size_t kContinuationUnits = detail::CallbackQueue::kObjectUnits;
constexpr std::size_t kInboxRoomBatch = 64;
}  // namespace

void Loop::reserve_continuation(bool set_entry) {
  ready_.reserve_units(kContinuationUnits);
  if (inbox_prepaid_ == 0) {
    try {
      inbox_.reserve(kInboxRoomBatch);
    } catch (...) {
      ready_.release_units(kContinuationUnits);
      throw;
    }
    inbox_prepaid_ = kInboxRoomBatch;
  }
  --inbox_prepaid_;
  if (set_entry && !pending_futures_.try_reserve_one()) {
    try {
      pending_futures_.reserve_one();  // grows the set
    } catch (...) {
      release_queue_room();
      throw;
    }
  }
}

void Loop::return_inbox_room() noexcept {
  if (++inbox_prepaid_ >= 2 * kInboxRoomBatch) {
    inbox_.release(kInboxRoomBatch);
    inbox_prepaid_ -= kInboxRoomBatch;
  }
}

void Loop::release_queue_room() noexcept {
  ready_.release_units(kContinuationUnits);
  return_inbox_room();
}

void Loop::release_continuation(bool set_entry) noexcept {
  release_queue_room();
  if (set_entry) pending_futures_.unreserve_one();
}

void Loop::schedule_continuation_here(detail::StateBase* state) noexcept {
  // Queued: no longer a pending future as far as close() is concerned.
  untrack_future(state);
  // Into the room reserved when the continuation was published; its inbox
  // room was not needed.
  ready_.emplace_object_reserved(state);
  return_inbox_room();
}

bool Loop::may_run_continuation_now() const noexcept {
  return tls_current_loop == this && !debug_ && !stop_requested_.load(std::memory_order_relaxed);
}

void Loop::run_continuation_now(detail::StateBase* state) noexcept {
  // Its room in the ready queue and the inbox, reserved when it was
  // published, is not needed (its set entry, if any, went to tracking it).
  release_queue_room();
  ++stats_.callbacks_run;
  try {
    state->run_queued();
  } catch (...) {
    ++stats_.exceptions;
    report({ExceptionContext::Kind::callback_exception, "exception in a callback",
            std::current_exception(), Duration(0)});
  }
}

void Loop::run_continuation_here(detail::StateBase* state) noexcept {
  if (!may_run_continuation_now() ||
      continuations_running_now_ >= detail::LoopAccess::kMaxContinuationsNow) {
    schedule_continuation_here(state);
    return;
  }
  ++continuations_running_now_;
  const int first_after = after_now_count_;
  untrack_future(state);  // due: no longer a pending future for close()
  run_continuation_now(state);
  // Those it attached to complete futures (run_after_continuation_now), and
  // those they attached in turn, in order; the slots stay taken until all
  // have run, which bounds the chain.
  for (int i = first_after; i < after_now_count_; ++i) {
    detail::StateBase* after = std::exchange(after_now_[i], nullptr);
    if (may_run_continuation_now()) {
      run_continuation_now(after);
    } else {
      schedule_continuation_here(after);  // stop() was asked for meanwhile
    }
  }
  after_now_count_ = first_after;
  --continuations_running_now_;
}

void Loop::run_after_continuation_now(detail::StateBase* state) noexcept {
  static_assert(kAfterNowSlots == detail::LoopAccess::kMaxContinuationsAfterNow);
  if (continuations_running_now_ == 0 || !may_run_continuation_now() ||
      after_now_count_ >= detail::LoopAccess::kMaxContinuationsAfterNow) {
    schedule_continuation_here(state);
    return;
  }
  untrack_future(state);  // due: no longer a pending future for close()
  after_now_[after_now_count_++] = state;
}

void Loop::post_continuation(detail::StateBase* state) noexcept {
  // Stays tracked until drained here (close() waits for this post to land).
  // Into the inbox room reserved with the continuation: nothing to allocate.
  if (inbox_.post_continuation(state)) {
    wake_if_needed();
  } else {
    state->drop_queued();  // the loop closed: destroyed unrun
  }
}

void Loop::drain_inbox() {
  // A batch left over by a refused allocation below goes first.
  if (inbox_batch_.empty()) {
    inbox_.take_all(inbox_batch_);
    stats_.threadsafe_posts += inbox_batch_.size();
  }
  while (!inbox_batch_.empty()) {
    detail::Inbox::Entry& entry = inbox_batch_.front();
    if (entry.continuation != nullptr) {
      // Due: no longer a pending future (close() waited for its post).
      untrack_future(entry.continuation);
      ready_.emplace_object_reserved(std::exchange(entry.continuation, nullptr));
    } else {
      ready_.emplace_back(std::move(entry.callback));  // may throw: the entry stays
    }
    inbox_batch_.pop_front();
  }
}

// ---- I/O objects ----------------------------------------------------------

void Loop::attach_resource(detail::LoopResource* resource) noexcept {
  if (resource->loop_hook_.linked()) return;
  resources_.push_front(resource);
}

void Loop::detach_resource(detail::LoopResource* resource) noexcept { resources_.remove(resource); }

// ---- running --------------------------------------------------------------

// One pass's bookkeeping before running callbacks: posts from other threads,
// expired timers, I/O. Returns false if the loop is idle for good.
bool Loop::prepare_pass(bool may_block, bool force_io) {
  ++stats_.iterations;
  if (inbox_.has_items_relaxed()) drain_inbox();
  fire_expired_timers();
  if (force_io || ++passes_since_io_poll_ >= kPassesPerIoPoll) {
    poll_io(/*may_block=*/false, 0, /*consume_wakeup=*/force_io);
    if (inbox_.has_items_relaxed()) drain_inbox();
  }
  if (!ready_.empty()) return true;
  if (!may_block) return false;
  return block_until_ready();
}

std::size_t Loop::run_ready(std::size_t max) {
  if (debug_) return run_ready_debug(max);
  std::size_t ran = 0;
  while (ran < max && !ready_.empty()) {
    try {
      ready_.run_batch(ran, max, stop_requested_);
    } catch (...) {
      ++stats_.exceptions;
      report({ExceptionContext::Kind::callback_exception, "exception in a callback",
              std::current_exception(), Duration(0)});
    }
    if (stop_requested_.load(std::memory_order_relaxed)) break;
  }
  stats_.callbacks_run += ran;
  return ran;
}

std::size_t Loop::run_ready_debug(std::size_t max) {
  std::size_t ran = 0;
  while (ran < max && !ready_.empty()) {
    auto start = std::chrono::steady_clock::now();
    ++ran;
    try {
      ready_.run_front();
    } catch (...) {
      ++stats_.exceptions;
      report({ExceptionContext::Kind::callback_exception, "exception in a callback",
              std::current_exception(), Duration(0)});
    }
    Duration took = std::chrono::steady_clock::now() - start;
    if (took >= slow_threshold_) {
      ++stats_.slow_callbacks;
      report({ExceptionContext::Kind::slow_callback,
              "a callback took " + std::to_string(took.count() / 1000) + " us", nullptr, took});
    }
    if (stop_requested_.load(std::memory_order_relaxed)) break;
  }
  stats_.callbacks_run += ran;
  return ran;
}

void Loop::run() {
  RunScope scope(*this);
  for (;;) {
    if (!prepare_pass(/*may_block=*/true, /*force_io=*/false)) break;
    run_ready(kCallbacksPerPass);
    if (stop_requested_.load(std::memory_order_acquire)) break;
  }
  stop_requested_.store(false, std::memory_order_relaxed);
}

std::size_t Loop::run_once() {
  RunScope scope(*this);
  std::size_t ran = 0;
  if (prepare_pass(/*may_block=*/true, /*force_io=*/true)) ran = run_ready(ready_.size());
  stop_requested_.store(false, std::memory_order_relaxed);
  return ran;
}

std::size_t Loop::poll() {
  RunScope scope(*this);
  std::size_t ran = 0;
  if (prepare_pass(/*may_block=*/false, /*force_io=*/true)) ran = run_ready(ready_.size());
  stop_requested_.store(false, std::memory_order_relaxed);
  return ran;
}

RunReport Loop::run_for(Duration budget) {
  RunScope scope(*this);
  RunReport report;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  bool first_pass = true;
  while (prepare_pass(/*may_block=*/false, /*force_io=*/first_pass)) {
    first_pass = false;
    bool out_of_time = false;
    for (std::size_t i = 0; i < kCallbacksPerPass && !ready_.empty(); ++i) {
      report.ran += run_ready(1);
      if (stop_requested_.load(std::memory_order_relaxed) ||
          std::chrono::steady_clock::now() >= deadline) {
        out_of_time = true;
        break;
      }
    }
    if (out_of_time) break;
  }
  report.stopped = stop_requested_.exchange(false, std::memory_order_relaxed);
  report.ready = ready_.size();
  report.next_timer = timers_.next_deadline();
  return report;
}

// ---- closing --------------------------------------------------------------

void Loop::cancel_tracked_futures(CloseReport& report) {
  while (detail::StateBase* state = any_tracked_future()) {
    if (state->cancel()) {
      ++report.futures_cancelled;  // its continuation is now in ready_
    } else {
      // Completed by another thread, which is posting the continuation to the
      // inbox right now: wait until the post is done.
      while (!state->scheduled()) std::this_thread::yield();
      untrack_future(state);
    }
  }
}

CloseReport Loop::close() {
  CloseReport result;
  if (is_closed()) return result;
  if (is_running()) {
    throw Exception(Errc::invalid_state, "Loop::close called while the loop is running");
  }
  check_owner("close");
  RunScope scope(*this);

  // 1. Cancel tasks (first, so a task's sleep is interrupted rather than
  //    silently disarmed), timers and waiting futures, run what is ready;
  //    repeat while the callbacks keep producing work, up to
  //    kCloseDrainPasses passes. Tasks spawned meanwhile are cancelled in the
  //    next pass.
  auto cancel_pending = [&] {
    result.tasks_cancelled += cancel_tasks_for_shutdown();
    ready_.release_units(timers_.callback_count() * kTimerUnits);
    std::size_t timers = timers_.cancel_all();
    result.timers_cancelled += timers;
    stats_.timers_cancelled += timers;
    cancel_tracked_futures(result);
  };
  for (std::size_t pass = 0; pass < kCloseDrainPasses; ++pass) {
    cancel_pending();
    drain_inbox();
    if (ready_.empty()) break;
    result.callbacks_run += run_ready(ready_.size());
  }

  // 2. Callbacks still being re-posted after the limit are destroyed unrun.
  result.callbacks_dropped = ready_.size();
  ready_.clear();
  if (result.callbacks_dropped > 0) {
    report({ExceptionContext::Kind::dropped_callbacks,
            std::to_string(result.callbacks_dropped) +
                " callbacks were still being re-posted when the loop closed; they were destroyed unrun",
            nullptr, Duration(0)});
  }

  // 3. From here call_soon, call_later and then() refuse this loop (they throw
  //    Exception(closed)), so no new future can start waiting on it. Futures
  //    that started waiting in the last pass are cancelled, posts from other
  //    threads are refused, and what already arrived runs once.
  closed_.store(true, std::memory_order_release);
  cancel_pending();
  detail::Inbox::Queue last;
  inbox_.close(last);
  while (!last.empty()) {
    detail::Inbox::Entry& entry = last.front();
    if (entry.continuation != nullptr) {
      untrack_future(entry.continuation);
      ready_.emplace_object_reserved(std::exchange(entry.continuation, nullptr));
    } else {
      ready_.emplace_back(std::move(entry.callback));
    }
    last.pop_front();
  }
  result.callbacks_run += run_ready(ready_.size());
  ready_.clear();  // empty: call_soon refuses a closed loop

  // 4. Tasks still pending can never finish now: destroy their coroutines
  //    (their locals are destroyed, handles see them cancelled) and report
  //    each. Generators still open are left to their owners.
  destroy_pending_tasks(result);

  // 5. Close what is still open: weft's I/O objects first (each closes its own
  //    handles and fails its pending operations with Errc::closed; any
  //    continuation waiting here was cancelled above), then the loop's own two
  //    handles, then whatever else someone opened on the libuv loop. The close
  //    callbacks run in the final uv_run, after which libuv has nothing left
  //    and uv_loop_close succeeds.
  while (!resources_.empty()) {
    detail::LoopResource* resource = resources_.front();
    detach_resource(resource);
    resource->close_for_loop();
    ++result.handles_closed;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_handle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sleep_timer_), nullptr);
  uv_walk(
      uv_.get(),
      [](uv_handle_t* handle, void* count) {
        if (uv_is_closing(handle) == 0) {
          uv_close(handle, nullptr);
          ++*static_cast<std::size_t*>(count);
        }
      },
      &result.handles_closed);
  // uv_run returns once no handle and no request is left, so uv_loop_close
  // (which only refuses a loop with something left) succeeds.
  uv_run(uv_.get(), UV_RUN_DEFAULT);
  uv_loop_close(uv_.get());
  return result;
}

// ---- reporting --------------------------------------------------------------

void default_exception_handler(const ExceptionContext& context) {
  std::string what;
  if (context.exception) {
    try {
      std::rethrow_exception(context.exception);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "a non-standard exception";
    }
  }
  std::fprintf(stderr, "weft: %s%s%s\n", context.message.c_str(), what.empty() ? "" : ": ",
               what.c_str());
}

void Loop::set_exception_handler(ExceptionHandler handler) {
  check_owner("set_exception_handler");
  exception_handler_ = std::move(handler);
}

void Loop::report(const ExceptionContext& context) noexcept {
  try {
    if (exception_handler_) {
      exception_handler_(context);
    } else {
      default_exception_handler(context);
    }
  } catch (...) {
    std::fputs("weft: the exception handler threw; the exception was dropped\n", stderr);
  }
}

LoopStats Loop::stats() const noexcept {
  LoopStats s = stats_;
  s.ready_depth = ready_.size();
  s.timers_pending = timers_.size();
  s.futures_pending = pending_futures_.size() + listed_futures_.size();
  s.tasks_alive = tasks_.size();
  s.generators_open = generators_.size();
  s.frames_in_use = frame_pool_->blocks_in_use();
  s.spin_ceiling = spin_.enabled() ? spin_.ceiling() : Duration::zero();
  s.wake_latency = spin_.wake_latency();
  s.io_spin_limit = io_spin_limit();
  return s;
}

int Loop::backend_fd() const noexcept { return uv_backend_fd(uv_.get()); }

}  // namespace weft
