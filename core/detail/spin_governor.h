// weft::detail::SpinGovernor: how long a thread that ran out of work spins
// before it sleeps, learnt from how its recent waits ended.
//
// After each wait the waiting thread reports one of:
//   - spun_and_found(gap): its spin saw work `gap` after the wait began. The
//     limit doubles (at least twice the gap, at least kFloor, at most the
//     ceiling) and counts as confirmed. Past the base ceiling (a ceiling
//     raised by woke_after) it does not double: it grows only to twice the
//     gaps seen, so a longer spin is bought only for posts that came that
//     late. A gap beyond the ceiling (the spinner lost its core for that
//     long) counts as spun_in_vain.
//   - spun_in_vain(): it spun the whole limit and saw nothing (it then
//     sleeps). A confirmed limit halves (below kFloor: 0, unconfirmed); an
//     unconfirmed one (a probe, below) drops to 0 and the next probe waits
//     for twice as many short sleeps (up to kMaxBackoff).
//   - slept_until_work(gap) after a wait that did not spin: work came `gap`
//     after the wait began (when its sender asked for the wake-up, not when
//     the wake-up arrived). A gap within the ceiling is a short sleep: after
//     `backoff` of them in a row the limit is set to twice the gap (at least
//     kFloor), unconfirmed: a probe. A longer gap ends the row.
//   - slept_without_work(waited) after a wait that did not spin: a timer, I/O
//     or shutdown ended it. Longer than the ceiling ends the row of short
//     sleeps; shorter says nothing.
//   - woke_after(latency) after a sleep that a post ended: how long the
//     wake-up took, from the sender's request to the sleeper running. With a
//     ceiling range (max_ceiling above the ceiling), the ceiling follows
//     twice the recent wake-up latency (an exponential average weighing each
//     new sample 1/8, samples capped at half the top of the range), never
//     below the base ceiling nor above max_ceiling: spinning stays worth its
//     CPU where a wake-up is cheap, and where an idle core takes tens of
//     microseconds to wake (a VM's halted vCPU), posts that come that much
//     later are still caught. A spin that finds nothing costs at most twice
//     what the sleep it replaced would have cost in latency.
// So a thread that sees work every few microseconds keeps spinning at the
// ceiling; one whose work stopped, or comes rarely, stops after a handful of
// waits (20 us + 10 + 5 + 2.5 + 1.2 of spinning, then none); and one whose
// sender can only run once the spinner stops (the two share a core: the work
// arrives just after each spin ends) stops too, and probes again only after
// 1, 2, 4, ... 64 short sleeps, until a probe finds work. The limit starts at
// the ceiling, confirmed. With SpinPolicy::off the limit is always 0 and
// reports are ignored.
//
// Thread: limit() from any thread; the reports from the waiting threads. The
// state is a few atomic words with relaxed accesses: two pool workers
// reporting at once may lose or mix a report, which only delays the
// adaptation by a wait.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/clock/clock.h"
#include "core/spin_policy.h"

namespace weft::detail {

class SpinGovernor {
 public:
  // Gaps and waits are measured with this clock, whatever clock the loop's
  // timers use (a manual clock does not move while a thread waits).
  using WaitClock = std::chrono::steady_clock;
  static constexpr Duration kFloor = std::chrono::microseconds(1);
  static constexpr std::uint32_t kMaxBackoff = 64;

  // The ceiling is fixed unless max_ceiling is above it (woke_after).
  SpinGovernor(SpinPolicy policy, Duration ceiling,
               Duration max_ceiling = Duration::zero()) noexcept
      : enabled_(policy == SpinPolicy::adaptive),
        base_ceiling_ns_(ceiling.count()),
        max_ceiling_ns_(std::max(ceiling.count(), max_ceiling.count())),
        ceiling_ns_(ceiling.count()),
        limit_ns_(enabled_ ? ceiling.count() : 0),
        confirmed_(enabled_) {}

  SpinGovernor(const SpinGovernor&) = delete;
  SpinGovernor& operator=(const SpinGovernor&) = delete;

  // Whether the policy allows spinning at all (the reports are worth making).
  bool enabled() const noexcept { return enabled_; }
  // The longest the limit may grow to now.
  Duration ceiling() const noexcept {
    return Duration(ceiling_ns_.load(std::memory_order_relaxed));
  }
  // The running average of woke_after's samples (0: none yet).
  Duration wake_latency() const noexcept {
    return Duration(wake_latency_ns_.load(std::memory_order_relaxed));
  }
  // How long to spin before the next sleep; 0: sleep at once.
  Duration limit() const noexcept { return Duration(limit_ns_.load(std::memory_order_relaxed)); }
  // How many short sleeps in a row the next probe waits for.
  std::uint32_t backoff() const noexcept { return backoff_.load(std::memory_order_relaxed); }

  void spun_and_found(Duration gap) noexcept {
    if (!enabled_) return;
    const std::int64_t ceiling = ceiling_ns_.load(std::memory_order_relaxed);
    if (gap.count() > ceiling) {
      spun_in_vain();
      return;
    }
    const std::int64_t current = limit_ns_.load(std::memory_order_relaxed);
    const std::int64_t doubled = std::min(current * 2, base_ceiling_ns_);
    const std::int64_t fits_gap = std::min(std::max(current, gap.count() * 2), ceiling);
    limit_ns_.store(std::max({doubled, fits_gap, kFloor.count()}), std::memory_order_relaxed);
    confirmed_.store(true, std::memory_order_relaxed);
    backoff_.store(1, std::memory_order_relaxed);
    short_sleeps_.store(0, std::memory_order_relaxed);
  }

  void spun_in_vain() noexcept {
    if (!enabled_) return;
    if (confirmed_.load(std::memory_order_relaxed)) {
      const std::int64_t half = limit_ns_.load(std::memory_order_relaxed) / 2;
      if (half >= kFloor.count()) {
        limit_ns_.store(half, std::memory_order_relaxed);
        return;
      }
    } else {
      const std::uint32_t backoff = backoff_.load(std::memory_order_relaxed);
      backoff_.store(std::min(backoff * 2, kMaxBackoff), std::memory_order_relaxed);
    }
    limit_ns_.store(0, std::memory_order_relaxed);
    confirmed_.store(false, std::memory_order_relaxed);
    short_sleeps_.store(0, std::memory_order_relaxed);
  }

  void slept_until_work(Duration gap) noexcept {
    if (!enabled_) return;
    const std::int64_t ceiling = ceiling_ns_.load(std::memory_order_relaxed);
    if (gap.count() > ceiling) {
      short_sleeps_.store(0, std::memory_order_relaxed);
      return;
    }
    const std::uint32_t row = short_sleeps_.load(std::memory_order_relaxed) + 1;
    if (row < backoff_.load(std::memory_order_relaxed)) {
      short_sleeps_.store(row, std::memory_order_relaxed);
      return;
    }
    short_sleeps_.store(0, std::memory_order_relaxed);
    if (limit_ns_.load(std::memory_order_relaxed) != 0) return;  // another worker probes already
    const std::int64_t probe = std::max(gap.count() * 2, kFloor.count());
    limit_ns_.store(std::min(probe, ceiling), std::memory_order_relaxed);
    confirmed_.store(false, std::memory_order_relaxed);
  }

  void slept_without_work(Duration waited) noexcept {
    if (!enabled_) return;
    if (waited.count() > ceiling_ns_.load(std::memory_order_relaxed)) {
      short_sleeps_.store(0, std::memory_order_relaxed);
    }
  }

  void woke_after(Duration latency) noexcept {
    if (!enabled_ || max_ceiling_ns_ == base_ceiling_ns_) return;
    const std::int64_t sample = std::clamp<std::int64_t>(latency.count(), 0, max_ceiling_ns_ / 2);
    std::int64_t average = wake_latency_ns_.load(std::memory_order_relaxed);
    average = average == 0 ? sample : average + (sample - average) / 8;
    wake_latency_ns_.store(average, std::memory_order_relaxed);
    const std::int64_t ceiling = std::clamp(average * 2, base_ceiling_ns_, max_ceiling_ns_);
    ceiling_ns_.store(ceiling, std::memory_order_relaxed);
    if (limit_ns_.load(std::memory_order_relaxed) > ceiling) {
      limit_ns_.store(ceiling, std::memory_order_relaxed);
    }
  }

 private:
  const bool enabled_;
  const std::int64_t base_ceiling_ns_;
  const std::int64_t max_ceiling_ns_;
  std::atomic<std::int64_t> ceiling_ns_;
  std::atomic<std::int64_t> wake_latency_ns_{0};
  std::atomic<std::int64_t> limit_ns_;
  std::atomic<bool> confirmed_;
  std::atomic<std::uint32_t> backoff_{1};
  std::atomic<std::uint32_t> short_sleeps_{0};
};

}  // namespace weft::detail
