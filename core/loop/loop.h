// weft::Loop: an event loop on one thread — ready callbacks, timers, I/O (via
// libuv), and work posted from other threads.
//
// Threading: a Loop belongs to the thread that runs it (the thread that created
// it until another thread runs it). Every member is loop-thread-only except
// call_soon_threadsafe(), stop(), wake() and the const observers marked
// "any thread". Debug builds (no NDEBUG) check the thread and throw
// weft::Exception(Errc::wrong_thread) on misuse.
//
// Scheduling: call_soon appends to a FIFO ready queue that lives in the loop
// (no allocation, no libuv handle per callback). Timers live in a heap driven
// by one uv_timer_t. A pass of the loop takes what other threads posted, moves
// expired timers to the ready queue (deadline order, ties in arming order),
// then runs up to kCallbacksPerPass callbacks; the kernel is asked about I/O
// without blocking every few passes while callbacks are flowing, and with a
// blocking wait only when nothing is ready.
//
// Running:
// - run(): until stop() or until nothing can ever happen (no ready callbacks,
//   no pending timers, no active libuv handles, no futures whose continuation
//   waits on this loop, no KeepAlive). With a clock that does not advance by itself, pending
//   timers alone do not keep run() going.
// - run_once(): one iteration; blocks for I/O or the next timer only if nothing
//   is ready; runs the callbacks ready at that point (not those they post).
// - poll(): like run_once() but never blocks.
// - run_for(budget): runs ready callbacks, timers and I/O until `budget` of wall
//   time is spent or nothing is ready; always runs at least one ready callback;
//   never sleeps; reports what is left.
// - close(): see CloseReport. Cancels running tasks, then pending timers (their
//   callbacks are destroyed unrun), cancels every future whose continuation
//   waits on this loop (the continuations then run with Cancelled), runs ready
//   callbacks until the queue is empty (at most kCloseDrainPasses passes; what
//   still re-posts after that is destroyed and reported), refuses further
//   call_soon_threadsafe, destroys (and reports) tasks that still cannot finish,
//   closes the I/O objects still open (their pending operations fail with
//   Errc::closed) and any other libuv handle left on the loop, and releases
//   the libuv loop. The destructor closes a loop that was not closed.
//
// Tasks and generators (core/task, core/generator): the loop keeps the tasks
// spawned on it that have not finished (tasks() lists them), the async
// generators started on it that have not finished, and the pool their frames
// come from. shutdown() cancels every task and runs until they end or a
// deadline passes; shutdown_generators() finalises open generators (like
// asyncio's shutdown_asyncgens). close() cancels tasks first, and destroys
// (and reports) those still pending after its drain passes.
//
// Exceptions escaping a callback go to the exception handler (default: stderr)
// and the loop goes on.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock/clock.h"
#include "core/detail/callback.h"
#include "core/detail/callback_queue.h"
#include "core/detail/chunked_queue.h"
#include "core/detail/frame_pool.h"
#include "core/detail/spin_governor.h"
#include "core/detail/intrusive_list.h"
#include "core/detail/pointer_set.h"
#include "core/error.h"
#include "core/future/shared_state.h"
#include "core/loop/inbox.h"
#include "core/loop/loop_types.h"
#include "core/loop/task_registry.h"
#include "core/timer/timer_queue.h"

namespace weft {

class Loop;

namespace detail {
struct LoopAccess;  // the internal hooks (core/loop/loop_access.h)

// Something built on the loop's libuv handles (an I/O object, core/io) that
// Loop::close() must close if it is still open. close_for_loop() starts closing
// its handles (uv_close, with its own close callbacks) and fails its pending
// operations; the close callbacks then run before close() returns. Attached
// and detached on the loop thread.
class LoopResource {
 public:
  virtual void close_for_loop() noexcept = 0;

 protected:
  LoopResource() = default;
  ~LoopResource() = default;
  LoopResource(const LoopResource&) = delete;
  LoopResource& operator=(const LoopResource&) = delete;

 private:
  friend class weft::Loop;
  ListHook loop_hook_;  // in the loop's resource list while attached
};
}  // namespace detail

// A cancellable reference to a timer armed with call_later/call_at. Copyable;
// stays valid (and harmless) after the timer fired or was cancelled. Use on
// the loop thread.
class TimerHandle {
 public:
  TimerHandle() = default;
  // Cancels the timer if still pending; returns whether it was.
  bool cancel() noexcept;
  // Whether the timer is still waiting to fire.
  bool pending() const noexcept;

 private:
  friend class Loop;
  TimerHandle(Loop* loop, detail::TimerId id) : loop_(loop), id_(id) {}
  Loop* loop_ = nullptr;
  detail::TimerId id_;
};

class Loop {
 public:
  // While a KeepAlive lives, run() does not return for lack of work (it still
  // returns on stop()): for a loop that waits on posts from other threads.
  // Movable; may be destroyed on any thread, but not after the loop.
  class [[nodiscard]] KeepAlive {
   public:
    KeepAlive() = default;
    KeepAlive(KeepAlive&& other) noexcept : loop_(std::exchange(other.loop_, nullptr)) {}
    KeepAlive& operator=(KeepAlive&& other) noexcept {
      if (this != &other) {
        reset();
        loop_ = std::exchange(other.loop_, nullptr);
      }
      return *this;
    }
    ~KeepAlive() { reset(); }
    void reset() noexcept;

   private:
    friend class Loop;
    explicit KeepAlive(Loop* loop) noexcept : loop_(loop) {}
    Loop* loop_ = nullptr;
  };

  static constexpr std::size_t kCallbacksPerPass = 64;
  static constexpr std::size_t kPassesPerIoPoll = 8;
  static constexpr std::size_t kCloseDrainPasses = 16;
  // The longest a loop with nothing ready, but expecting posts from other
  // threads (a future's continuation, a KeepAlive), polls its inbox before it
  // sleeps in the kernel. With SpinPolicy::adaptive (LoopOptions::spin) the
  // spin shrinks to nothing while posts keep arriving later than this (or not
  // at all: an idle loop sleeps at once after a few waits), and grows back
  // when one arrives sooner; SpinPolicy::off never spins. A spin makes a
  // cross-thread round trip a few microseconds instead of a kernel wake-up
  // (tens of microseconds on a VM), at the price of the core it spins on:
  // LoopStats::spins and spin_hits show how often it spun and how often that
  // paid. Where wake-ups are slow, the longest spin follows twice the loop's
  // recent wake-up latency (from a sender's request to the loop running),
  // up to kSpinBeforeSleepMax (detail::SpinGovernor::woke_after).
  // docs/performance.md has the figures.
  static constexpr Duration kSpinBeforeSleep = std::chrono::microseconds(20);
  static constexpr Duration kSpinBeforeSleepMax = std::chrono::microseconds(100);
  // The longest a loop with I/O in flight watches libuv's backend fd before
  // it sleeps in the kernel, when its recent sleeps ended on I/O that soon
  // (a peer that answers within microseconds: a request-response client or
  // server on another core). A second governor with the same rules as the
  // posts' (detail::SpinGovernor): a sleep that ended on I/O within the
  // ceiling counts as short, so a few in a row start a probe; a spin that
  // sees nothing halves the limit, so a loop whose I/O comes rarely (an idle
  // server) stops after a few waits and sleeps at once; and a spin lasts no
  // longer than twice the gaps the recent ones found I/O after (io_spin_limit).
  // The measured sleeps include the loop's own wake-up, hence the wider
  // ceiling. No such spin follows a stream's read of more than 64 KiB
  // (detail::LoopAccess::note_bulk_read): a peer streaming data is read in
  // fewer, larger reads after a sleep than after a spin that ends on its
  // next segment. SpinPolicy::off
  // turns this off too; LoopStats::io_spins and io_spin_hits count it.
  // docs/performance.md has the figures.
  static constexpr Duration kIoSpinBeforeSleep = std::chrono::microseconds(100);

  explicit Loop(LoopOptions options = {});
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // The loop running on the calling thread (inside run/run_once/poll/run_for or
  // close), or nullptr. Any thread.
  static Loop* current() noexcept;

  void run();
  std::size_t run_once();
  std::size_t poll();
  RunReport run_for(Duration budget);

  // Makes the calling thread the loop thread, as running it would, without
  // running anything: for a host that hands a loop to another thread and
  // wants every other entry point to keep refusing strangers. A no-op on the
  // loop thread. Throws Exception(Errc::wrong_thread) while the loop runs on
  // another thread, Errc::closed once it is closed. The hand-off itself is
  // the caller's to synchronise: the old thread must be done with the loop.
  // Any thread.
  void move_to_this_thread();

  // Makes run() return after the callback now running (or at once if the loop
  // is waiting). If the loop is not running, the next run() returns after one
  // pass. Any thread.
  void stop() noexcept;
  CloseReport close();

  template <class F>
  void call_soon(F&& f) {
    check_owner("call_soon");
    check_open();
    ready_.emplace_back(std::forward<F>(f));
  }

  template <class F>
  TimerHandle call_later(Duration delay, F&& f) {
    return call_at(time() + delay, std::forward<F>(f));
  }

  template <class F>
  TimerHandle call_at(TimePoint when, F&& f) {
    check_owner("call_at");
    check_open();
    // Room in the ready queue for the callback when it fires (firing cannot
    // fail); given back if arming fails or the timer is cancelled.
    ready_.reserve_units(kTimerUnits);
    detail::TimerId id;
    try {
      id = timers_.arm(when, std::forward<F>(f));
    } catch (...) {
      ready_.release_units(kTimerUnits);
      throw;
    }
    ++stats_.timers_armed;
    return TimerHandle(this, id);
  }

  // Posts `f` from any thread; it runs on the loop thread in posting order.
  // Returns false (and destroys f) if the loop is closed.
  template <class F>
  bool call_soon_threadsafe(F&& f) {
    if (!inbox_.post(std::forward<F>(f))) return false;
    wake_if_needed();
    return true;
  }

  // Wakes the loop if it is blocked waiting for work. Any thread.
  void wake() noexcept;

  // See KeepAlive. Any thread.
  KeepAlive keep_alive() noexcept {
    keep_alive_count_.fetch_add(1, std::memory_order_relaxed);
    return KeepAlive(this);
  }

  // The loop's clock reading. Any thread.
  TimePoint time() const noexcept { return clock_->now(); }
  Clock& clock() const noexcept { return *clock_; }

  // For a host that polls weft's file descriptor in its own loop: wait until
  // backend_fd() is readable or backend_timeout() milliseconds pass (-1: no
  // limit, 0: work is ready now), then call poll().
  int backend_fd() const noexcept;
  int backend_timeout() noexcept;

  void set_exception_handler(ExceptionHandler handler);
  // Reports through the exception handler (loop thread).
  void report(const ExceptionContext& context) noexcept;

  // A function called around every wait of the loop, for a host that holds
  // a lock while it runs loop callbacks and must let it go while the loop
  // sleeps (a Python interpreter's GIL): hook(user, 1) right before the loop
  // gives up the CPU to wait (a kernel poll with a non-zero timeout, or
  // spinning for posts from other threads), hook(user, 0) right after the
  // wait, before any callback (I/O ones included) runs. Calls come in
  // strictly alternating pairs, on the loop thread, only from run() and
  // run_once() (poll() and run_for() never wait). The hook must not throw
  // or call into the loop. nullptr removes it. With a hook the loop waits
  // with poll(2) on backend_fd() and then dispatches I/O without blocking
  // (one more kernel call per wait); without one it waits inside libuv.
  // Loop thread.
  using WaitHook = void (*)(void* user, int entering);
  void set_wait_hook(WaitHook hook, void* user) {
    check_owner("set_wait_hook");
    wait_hook_ = hook;
    wait_hook_user_ = hook != nullptr ? user : nullptr;
  }

  void set_debug(bool on) noexcept { debug_ = on; }
  bool debug() const noexcept { return debug_; }
  void set_slow_callback_threshold(Duration threshold) noexcept { slow_threshold_ = threshold; }

  LoopStats stats() const noexcept;

  // --- tasks and generators ----------------------------------------------------
  // A snapshot of the tasks spawned here that have not finished: name, status,
  // what each awaits and where. Loop thread.
  std::vector<TaskInfo> tasks() const;

  // Cancels every task (and those spawned meanwhile), then runs the loop until
  // they have all finished or `deadline` (loop clock) passes; returns the
  // names of those still running. Like close(), not while the loop runs.
  ShutdownReport shutdown_until(TimePoint deadline);
  ShutdownReport shutdown(Duration timeout) { return shutdown_until(time() + timeout); }

  // Finalises the async generators started here that are suspended at a
  // co_yield: each is resumed with GeneratorExit (its cleanup may await), and
  // the loop runs until they have finished or `timeout` passes. Returns how
  // many finished. Not while the loop runs.
  std::size_t shutdown_generators(Duration timeout = std::chrono::seconds(5));

  // Any thread.
  bool is_running() const noexcept { return running_.load(std::memory_order_acquire); }
  // Any thread.
  bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  // Whether the calling thread owns this loop. Any thread.
  bool in_loop_thread() const noexcept {
    return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

 private:
  class RunScope;
  friend class TimerHandle;
  friend struct detail::LoopAccess;

  // --- internal hooks, reached through detail::LoopAccess (loop_access.h
  // says who uses each, and on which thread) ---------------------------------
  void register_task(detail::TaskNode& task) noexcept {
    tasks_.push_front(&task);
    ++stats_.tasks_spawned;
  }
  void unregister_task(detail::TaskNode& task) noexcept { tasks_.remove(&task); }
  void note_bulk_read() noexcept { bulk_read_ = true; }
  // call_soon for an object that runs itself (detail::QueuedObject).
  void queue_object(detail::QueuedObject* object) {
    check_owner("call_soon");
    check_open();
    ready_.emplace_object(object);
  }
  std::uint32_t next_task_id() noexcept { return ++last_task_id_; }
  void register_generator(detail::GeneratorNode& generator) noexcept {
    generators_.push_front(&generator);
  }
  void unregister_generator(detail::GeneratorNode& generator) noexcept {
    generators_.remove(&generator);
  }
  void generator_finalized() noexcept { --generators_finalizing_; }
  void arm_timer_node(detail::TimerNode& node, TimePoint when) {
    check_owner("arm_timer_node");
    check_open();
    ++stats_.timers_armed;
    timers_.arm_node(node, when);
  }
  bool cancel_timer_node(detail::TimerNode& node) noexcept {
    if (!timers_.cancel_node(node)) return false;
    ++stats_.timers_cancelled;
    return true;
  }
  uv_loop_t* uv_loop() noexcept { return uv_.get(); }
  void attach_resource(detail::LoopResource* resource) noexcept;
  void detach_resource(detail::LoopResource* resource) noexcept;
  void track_future(detail::StateBase* state) noexcept;
  void track_listed_future(detail::ListedState* state) noexcept;
  void untrack_future(detail::StateBase* state) noexcept;
  detail::StateBase* any_tracked_future() noexcept;
  void reserve_continuation(bool set_entry = true);
  void release_continuation(bool set_entry = true) noexcept;
  void release_queue_room() noexcept;
  void return_inbox_room() noexcept;
  void post_continuation(detail::StateBase* state) noexcept;
  void schedule_continuation_here(detail::StateBase* state) noexcept;
  void run_continuation_here(detail::StateBase* state) noexcept;
  void run_after_continuation_now(detail::StateBase* state) noexcept;
  bool may_run_continuation_now() const noexcept;
  void run_continuation_now(detail::StateBase* state) noexcept;

  // --- the loop's own ------------------------------------------------------

  // call_soon without allocating or throwing: false if the loop is closed or
  // the ready queue needs a new chunk (then call call_soon). Loop thread.
  template <class F>
  bool try_call_soon(F&& f) noexcept {
    if (closed_.load(std::memory_order_relaxed)) [[unlikely]] return false;
    return ready_.try_emplace_back(std::forward<F>(f));
  }

  void check_owner(const char* what) const {
#ifndef NDEBUG
    if (!in_loop_thread()) throw_wrong_thread(what);
#else
    (void)what;
#endif
  }
  void check_open() const {
    if (closed_.load(std::memory_order_relaxed)) throw Exception(Errc::closed);
  }
  [[noreturn]] void throw_wrong_thread(const char* what) const;

  bool cancel_timer(detail::TimerId id) noexcept;
  bool timer_pending(detail::TimerId id) const noexcept { return timers_.is_pending(id); }

  void wake_if_needed() noexcept;
  void drain_inbox();
  void fire_expired_timers();
  bool has_pending_work() const noexcept;
  bool can_wait_for_more() const noexcept;
  void poll_io(bool may_block, int timeout_ms, bool consume_wakeup);
  bool prepare_pass(bool may_block, bool force_io);
  bool block_until_ready();
  bool block_with_wait_hook();
  bool io_registrations_pending() const noexcept;
  bool expects_remote_work() const noexcept;
  using WaitTime = detail::SpinGovernor::WaitClock::time_point;
  // One pass of a blocking wait, as its spin step left it (loop_wait.cc).
  struct WaitPass {
    bool learn = false;         // expected posts: tells the spin governor what came
    bool learn_io = false;      // I/O in flight: tells io_spin_ what came
    bool spun = false;          // looked at the inbox before sleeping
    WaitHook hook = nullptr;    // the wait hook this pass brackets its sleep with
    void* hook_user = nullptr;
    bool hook_entered = false;  // `hook` was told 1 and not yet 0
    bool io_ready = false;      // the spin ended on I/O: the pass polls without blocking
    WaitTime start{};
  };
  int timer_timeout_ms() noexcept;
  bool spin_before_sleep(int timeout_ms, WaitPass& pass);
  bool finish_wait_pass(const WaitPass& pass);
  std::optional<Duration> spin_for_inbox(WaitTime start, Duration limit, int backend_fd,
                                         bool& io_ready) const noexcept;
  void learn_from_sleep(WaitTime start) noexcept;
  void learn_from_io_sleep(WaitTime start) noexcept;
  Duration io_spin_limit() const noexcept;
  std::size_t run_ready(std::size_t max);
  std::size_t run_ready_debug(std::size_t max);
  void cancel_tracked_futures(CloseReport& report);
  std::size_t cancel_tasks_for_shutdown() noexcept;
  void destroy_pending_tasks(CloseReport& report);

  std::unique_ptr<uv_loop_t> uv_;
  uv_async_t wake_handle_{};
  uv_timer_t sleep_timer_{};

  Clock* clock_;
  detail::CallbackQueue ready_;
  detail::Inbox::Queue inbox_batch_;
  // Inbox room reserved by this loop (Inbox::reserve) and not yet handed to
  // a continuation: taken and given back here without the inbox's lock.
  std::size_t inbox_prepaid_ = 0;
  // Ready-queue units a fired timer's callback takes.
  static constexpr std::size_t kTimerUnits = detail::CallbackQueue::units_for<Callback>();
  detail::TimerQueue timers_;
  detail::Inbox inbox_;

  // Futures whose continuation waits here (C++ futures' states in the set,
  // with room reserved for those about to be published; the C API's by
  // their own links: see shared_state.h, Tracking), and the I/O objects
  // close() closes.
  detail::PointerSet pending_futures_;
  detail::IntrusiveList<detail::ListedState, &detail::ListedState::tracked_hook_> listed_futures_;
  detail::IntrusiveList<detail::LoopResource, &detail::LoopResource::loop_hook_> resources_;

  detail::FramePool* frame_pool_;  // retired (not deleted) by the destructor
  detail::IntrusiveList<detail::TaskNode, &detail::TaskNode::loop_hook_> tasks_;
  detail::IntrusiveList<detail::GeneratorNode, &detail::GeneratorNode::loop_hook_> generators_;
  std::uint32_t last_task_id_ = 0;
  std::size_t generators_finalizing_ = 0;

  std::atomic<std::thread::id> owner_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::size_t> keep_alive_count_{0};
  // True while the loop is not checking its inbox by itself (blocked waiting,
  // or not running at all): a post from another thread must then wake it.
  std::atomic<bool> wake_needed_{true};
  // When the first post that found wake_needed_ set asked for a wake-up
  // (WaitClock nanoseconds; 0: none since the loop went to sleep): tells the
  // spin governor how soon the post came, apart from how long the wake-up took.
  std::atomic<std::int64_t> wake_requested_ns_{0};
  // When the wake-up handle's callback last ran (WaitClock nanoseconds; 0:
  // not since the current wait began): the end of a wake-up, for the spin
  // governor's wake-up latency. Loop thread only.
  std::int64_t woken_ns_ = 0;
  detail::SpinGovernor spin_;
  detail::SpinGovernor io_spin_;  // spins that wait for the loop's own I/O
  // The average gap after which those spins found I/O (loop thread only);
  // starts at half the ceiling, so the first spins may use all of it.
  Duration io_gap_average_ = kIoSpinBeforeSleep / 2;
  // A stream read more than 64 KiB at once (note_bulk_read): the next wait
  // that would spin for I/O sleeps at once instead, and clears it. Loop
  // thread only.
  bool bulk_read_ = false;
  std::atomic<bool> closed_{false};
  std::atomic<bool> running_{false};
  bool debug_ = false;
  WaitHook wait_hook_ = nullptr;  // see set_wait_hook
  void* wait_hook_user_ = nullptr;
  Duration slow_threshold_;
  std::size_t passes_since_io_poll_ = 0;
  // Continuations run now (run_continuation_here) that have not returned yet.
  int continuations_running_now_ = 0;
  // Continuations due right after the one run now that attached them
  // (run_after_continuation_now), in order; each run now drains those added
  // since it began. Their ready-queue room stays reserved until they run.
  static constexpr int kAfterNowSlots = 4;  // LoopAccess::kMaxContinuationsAfterNow
  detail::StateBase* after_now_[kAfterNowSlots] = {};
  int after_now_count_ = 0;

  ExceptionHandler exception_handler_;
  LoopStats stats_;
};

}  // namespace weft
