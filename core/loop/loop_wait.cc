// The loop's waiting, part of weft::Loop (core/loop/loop.h): whether anything
// is left to wait for, a brief spin on the inbox when a post is expected soon,
// and the block in libuv's poll (or, with a wait hook, in a poll(2) on libuv's
// backend fd bracketed by the hook) until a callback is ready — all inside a
// run call; and backend_timeout(), how long a host that polls the backend fd
// itself may wait. Thread: the loop's.
#include <poll.h>

#include <optional>
#include <utility>

#include "core/loop/loop.h"

namespace weft {

namespace {

// Milliseconds to wait for `deadline`, rounded up so a timer never wakes early.
int ceil_ms_until(TimePoint deadline, TimePoint now) {
  if (deadline <= now) return 0;
  auto ns = (deadline - now).count();
  auto ms = (ns + 999'999) / 1'000'000;
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

}  // namespace

// Whether anything is left to run now or could arrive by waiting.
bool Loop::has_pending_work() const noexcept {
  return !ready_.empty() || inbox_.has_items() || can_wait_for_more();
}

// Whether blocking could ever deliver more work.
bool Loop::can_wait_for_more() const noexcept {
  if (!pending_futures_.empty() || !listed_futures_.empty()) return true;
  if (keep_alive_count_.load(std::memory_order_acquire) > 0) return true;
  if (uv_loop_alive(uv_.get())) return true;
  return !timers_.empty() && clock_->advances_by_itself();
}

void Loop::poll_io(bool may_block, int timeout_ms, bool consume_wakeup) {
  passes_since_io_poll_ = 0;
  if (!may_block) {
    if (consume_wakeup) {
      // A pass a host asked for (poll, run_once, run_for's first): consume a
      // wake-up another thread sent while the loop was not blocked, or the
      // backend fd stays readable and a host polling it spins. libuv does
      // not poll a loop it considers dead, hence the ref; and it waits for a
      // sender that is half-way through its send, so no wake-up escapes.
      uv_ref(reinterpret_cast<uv_handle_t*>(&wake_handle_));
      uv_run(uv_.get(), UV_RUN_NOWAIT);
      uv_unref(reinterpret_cast<uv_handle_t*>(&wake_handle_));
    } else if (uv_loop_alive(uv_.get())) {
      // Only user handles keep libuv alive; with none, there is nothing to poll.
      uv_run(uv_.get(), UV_RUN_NOWAIT);
    }
    return;
  }
  if (timeout_ms >= 0) {
    // libuv 1.44's UV_RUN_ONCE runs due timers before it computes the poll
    // timeout: if this timer falls due in between (a preemption is enough),
    // it fires there and the poll would block with no timeout at all. So its
    // callback stops the run, which makes that poll return at once.
    uv_update_time(uv_.get());
    uv_timer_start(&sleep_timer_, [](uv_timer_t* timer) { uv_stop(timer->loop); },
                   static_cast<uint64_t>(timeout_ms), 0);
  }
  uv_ref(reinterpret_cast<uv_handle_t*>(&wake_handle_));
  uv_run(uv_.get(), UV_RUN_ONCE);
  uv_unref(reinterpret_cast<uv_handle_t*>(&wake_handle_));
  if (timeout_ms >= 0) uv_timer_stop(&sleep_timer_);
}

// Whether posts from other threads are expected: futures are pending (their
// continuations may come from another thread) or a KeepAlive is held. With
// I/O in flight too, the spin watches the backend fd as well (spin_for_inbox).
bool Loop::expects_remote_work() const noexcept {
  return !pending_futures_.empty() || !listed_futures_.empty() ||
         keep_alive_count_.load(std::memory_order_relaxed) > 0;
}

// Spins until `limit` has passed since `start`, a post arrives, or (with
// `backend_fd` not -1) libuv's backend fd is ready, which sets `io_ready`;
// returns how long after `start` the post arrived, or nothing.
std::optional<Duration> Loop::spin_for_inbox(WaitTime start, Duration limit, int backend_fd,
                                             bool& io_ready) const noexcept {
  const WaitTime until = start + limit;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (inbox_.has_items_relaxed()) return detail::SpinGovernor::WaitClock::now() - start;
      __builtin_ia32_pause();
    }
    if (stop_requested_.load(std::memory_order_relaxed)) return std::nullopt;
    if (backend_fd >= 0) {
      pollfd backend{backend_fd, POLLIN, 0};
      if (::poll(&backend, 1, 0) > 0) {
        io_ready = true;
        return std::nullopt;
      }
    }
    if (detail::SpinGovernor::WaitClock::now() >= until) return std::nullopt;
  }
}

// After a wait that expected posts and slept (or was about to) without
// spinning first: tells the spin governor how soon a post came — when its
// sender asked for the wake-up, not when the wake-up arrived — and how long
// the wake-up took to arrive, or that none came.
void Loop::learn_from_sleep(WaitTime start) noexcept {
  const WaitTime now = detail::SpinGovernor::WaitClock::now();
  if (!inbox_.has_items_relaxed()) {
    spin_.slept_without_work(now - start);
    return;
  }
  const std::int64_t stamp = wake_requested_ns_.load(std::memory_order_relaxed);
  const std::int64_t start_ns = start.time_since_epoch().count();
  if (stamp < start_ns) {
    spin_.slept_until_work(now - start);
    return;
  }
  spin_.slept_until_work(Duration(stamp - start_ns));
  if (woken_ns_ >= stamp) spin_.woke_after(Duration(woken_ns_ - stamp));
}

// Milliseconds until the next timer is due (-1: no timer, or a clock that
// does not advance by itself, which a wait cannot wait for).
int Loop::timer_timeout_ms() noexcept {
  if (!clock_->advances_by_itself()) return -1;
  auto next = timers_.next_deadline();
  return next ? ceil_ms_until(*next, clock_->now()) : -1;
}

// The spin step of a wait about to sleep `timeout_ms` (0: it will not). Two
// kinds of work may come soon: posts from other threads, when futures are
// pending or a KeepAlive is held (spin_ learns how soon they come), and the
// loop's own I/O, when libuv has some in flight (io_spin_ learns how soon its
// sleeps end on it). If either says its work comes within a few tens of
// microseconds, the loop looks at its inbox and libuv's backend fd for that
// long, the longer of the two limits, before paying for a kernel sleep and a
// wake-up. While the loop spins it does not ask to be woken, so nothing was
// sent and there is nothing to poll. The pass's wait hook is told 1 before
// the spin.
// Returns true when a post arrived (the hook told 0 again); the pass is then
// over. Otherwise the wait goes on to sleep with wake_needed_ set (without
// blocking when the spin saw I/O ready: pass.io_ready).
bool Loop::spin_before_sleep(int timeout_ms, WaitPass& pass) {
  if (timeout_ms == 0 || !spin_.enabled()) return false;
  // With I/O in flight (libuv has active handles or requests: a watched fd
  // that may stay quiet for good, such as a signal wake-up fd, is one) the
  // spin also watches libuv's backend fd, so I/O that becomes ready ends it
  // at once. Not where the kernel has not been handed libuv's newest
  // watchers yet, or where libuv has callbacks due now: that wait belongs
  // in libuv's own poll.
  int backend_fd = -1;
  if (uv_loop_alive(uv_.get())) {
    if (io_registrations_pending() || uv_backend_timeout(uv_.get()) == 0) return false;
    backend_fd = uv_backend_fd(uv_.get());
  }
  pass.learn = expects_remote_work();
  // After a bulk read the wait sleeps for I/O at once, and its sleep teaches
  // io_spin_ nothing (what a spin could not have done better).
  pass.learn_io = backend_fd >= 0 && !std::exchange(bulk_read_, false);
  if (!pass.learn && !pass.learn_io) return false;
  pass.start = detail::SpinGovernor::WaitClock::now();
  const Duration post_limit = pass.learn ? spin_.limit() : Duration::zero();
  const Duration io_limit = pass.learn_io ? io_spin_limit() : Duration::zero();
  const Duration limit = std::max(post_limit, io_limit);
  if (limit > Duration::zero()) {
    if (pass.hook != nullptr) {
      pass.hook(pass.hook_user, 1);
      pass.hook_entered = true;
    }
    if (post_limit > Duration::zero()) ++stats_.spins;
    if (io_limit > Duration::zero()) ++stats_.io_spins;
    pass.spun = true;
    if (std::optional<Duration> gap = spin_for_inbox(pass.start, limit, backend_fd, pass.io_ready)) {
      if (pass.hook_entered) pass.hook(pass.hook_user, 0);
      pass.hook_entered = false;
      if (post_limit > Duration::zero()) {
        ++stats_.spin_hits;
        spin_.spun_and_found(*gap);
      }
      return true;
    }
    // Each governor that wanted this spin learns whether its kind of work
    // ended it: I/O is not a post, so a loop whose work comes from its own
    // I/O soon stops spinning for posts, and the other way round.
    if (post_limit > Duration::zero()) spin_.spun_in_vain();
    if (io_limit > Duration::zero()) {
      if (pass.io_ready) {
        ++stats_.io_spin_hits;
        const Duration gap = detail::SpinGovernor::WaitClock::now() - pass.start;
        io_spin_.spun_and_found(gap);
        io_gap_average_ += (gap - io_gap_average_) / 8;
      } else {
        io_spin_.spun_in_vain();
      }
    }
  }
  // Before wake_needed_ (seq_cst, set next): a sender that sees it set sees this.
  wake_requested_ns_.store(0, std::memory_order_relaxed);
  woken_ns_ = 0;
  return false;
}

// How long the next spin for I/O may last: what io_spin_ allows, but no
// more than twice the average gap its spins found I/O after (each new gap
// weighing 1/8), so a loop whose I/O mostly comes at once does not spin
// the whole ceiling for the rare gap that is longer.
Duration Loop::io_spin_limit() const noexcept {
  return std::min(io_spin_.limit(), std::max(2 * io_gap_average_, detail::SpinGovernor::kFloor));
}

// After a wait with I/O in flight that slept without spinning first: tells
// the I/O spin governor how long the sleep lasted, its wake-up included —
// what a spin would have had to cover — unless a post ended it. A sleep that
// a timer or a signal ended counts the same (a timer's takes a millisecond
// or more: a long sleep, which says nothing).
void Loop::learn_from_io_sleep(WaitTime start) noexcept {
  if (inbox_.has_items_relaxed()) return;
  const Duration slept = detail::SpinGovernor::WaitClock::now() - start;
  io_spin_.slept_until_work(slept);
  // A short sleep is a gap a spin could have covered: the average follows
  // it too, so a loop that stopped spinning can start again.
  if (slept <= kIoSpinBeforeSleep) io_gap_average_ += (slept - io_gap_average_) / 8;
}

// The end of a wait pass: what the wait taught the spin governors, then the
// posts and timers it brought. Returns whether a callback is ready.
bool Loop::finish_wait_pass(const WaitPass& pass) {
  if (!pass.spun) {
    if (pass.learn_io) learn_from_io_sleep(pass.start);
    if (pass.learn) learn_from_sleep(pass.start);
  }
  if (inbox_.has_items_relaxed()) drain_inbox();
  fire_expired_timers();
  return !ready_.empty();
}

// Waits until a callback is ready, stop() is called, or nothing can ever
// happen (returns false).
bool Loop::block_until_ready() {
  if (wait_hook_ != nullptr) [[unlikely]] return block_with_wait_hook();
  for (;;) {
    if (stop_requested_.load(std::memory_order_acquire)) return true;
    if (!can_wait_for_more() && !inbox_.has_items()) return false;
    int timeout_ms = timer_timeout_ms();
    WaitPass pass;
    if (spin_before_sleep(timeout_ms, pass)) {
      if (finish_wait_pass(pass)) return true;
      continue;
    }
    wake_needed_.store(true, std::memory_order_seq_cst);
    if (inbox_.has_items() || pass.io_ready) timeout_ms = 0;
    if (timeout_ms != 0) ++stats_.sleeps;
    // Not blocking (a post arrived just now): a wake-up its sender may have
    // sent is left for the next blocking poll, which then returns at once;
    // a host polling the backend fd consumes it in its own poll().
    poll_io(/*may_block=*/timeout_ms != 0, timeout_ms, /*consume_wakeup=*/false);
    wake_needed_.store(false, std::memory_order_relaxed);
    if (finish_wait_pass(pass)) return true;
  }
}

// Whether libuv has I/O watchers started or changed since its last poll,
// which it hands to the kernel only inside uv_run: a poll(2) on the backend
// fd would not see them.
bool Loop::io_registrations_pending() const noexcept {
#if UV_VERSION_MAJOR == 1 && UV_VERSION_MINOR < 45
  // libuv's private QUEUE: empty when its first pointer points to itself.
  return uv_->watcher_queue[0] != static_cast<const void*>(&uv_->watcher_queue);
#else
  return true;
#endif
}

// block_until_ready with a wait hook (set_wait_hook): the same decisions,
// but the kernel wait is a poll(2) on the backend fd between hook(1) and
// hook(0), and libuv dispatches what it found afterwards without blocking,
// so no I/O callback runs inside the bracket.
bool Loop::block_with_wait_hook() {
  uv_handle_t* const wake = reinterpret_cast<uv_handle_t*>(&wake_handle_);
  for (;;) {
    // A callback run by the last pass may have taken the hook away.
    if (wait_hook_ == nullptr) return block_until_ready();
    if (stop_requested_.load(std::memory_order_acquire)) return true;
    if (!can_wait_for_more() && !inbox_.has_items()) return false;
    if (io_registrations_pending()) {
      // Hand new watchers to the kernel (this also dispatches I/O that is
      // ready already), before waiting where libuv does not look.
      uv_ref(wake);
      uv_run(uv_.get(), UV_RUN_NOWAIT);
      uv_unref(wake);
      if (inbox_.has_items_relaxed()) drain_inbox();
      fire_expired_timers();
      if (!ready_.empty()) return true;
      if (stop_requested_.load(std::memory_order_acquire)) return true;
    }
    int timeout_ms = timer_timeout_ms();
    WaitPass pass;
    // The hook as it is now brackets this pass's wait, whatever it does to
    // the hook setting meanwhile.
    pass.hook = wait_hook_;
    pass.hook_user = wait_hook_user_;
    if (spin_before_sleep(timeout_ms, pass)) {
      if (finish_wait_pass(pass)) return true;
      continue;
    }
    wake_needed_.store(true, std::memory_order_seq_cst);
    uv_ref(wake);  // libuv's timeout is 0 for a loop it considers dead
    if (inbox_.has_items() || pass.io_ready) {
      timeout_ms = 0;
    } else {
      uv_update_time(uv_.get());
      const int uv_timeout = uv_backend_timeout(uv_.get());  // its own timers, pending callbacks
      if (uv_timeout >= 0 && (timeout_ms < 0 || uv_timeout < timeout_ms)) timeout_ms = uv_timeout;
    }
    if (timeout_ms != 0) {
      ++stats_.sleeps;
      if (!pass.hook_entered) pass.hook(pass.hook_user, 1);
      pass.hook_entered = true;
      pollfd backend{uv_backend_fd(uv_.get()), POLLIN, 0};
      // EINTR (a signal) just ends the wait early: the loop looks again.
      (void)::poll(&backend, 1, timeout_ms);
    }
    if (pass.hook_entered) pass.hook(pass.hook_user, 0);
    uv_run(uv_.get(), UV_RUN_NOWAIT);  // dispatches the I/O the wait found, consumes a wake-up
    uv_unref(wake);
    wake_needed_.store(false, std::memory_order_relaxed);
    if (finish_wait_pass(pass)) return true;
  }
}

int Loop::backend_timeout() noexcept {
  if (!ready_.empty() || inbox_.has_items()) return 0;
  return timer_timeout_ms();
}

}  // namespace weft
