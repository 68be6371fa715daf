// weft::detail::SpinGovernor: how long a thread that ran out of work spins
// before it sleeps, learnt from how its recent waits ended.
//
// After each wait the waiting thread reports one of:
//   - spun_and_found(gap): its spin saw work `gap` after the wait began. The
//     limit doubles (at least twice the gap, at least kFloor, at most the
//     ceiling) and counts as confirmed. A gap beyond the ceiling (the
//     spinner lost its core for that long) counts as spun_in_vain.
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

  SpinGovernor(SpinPolicy policy, Duration ceiling) noexcept
      : enabled_(policy == SpinPolicy::adaptive),
        ceiling_ns_(ceiling.count()),
        limit_ns_(enabled_ ? ceiling.count() : 0),
        confirmed_(enabled_) {}

  SpinGovernor(const SpinGovernor&) = delete;
  SpinGovernor& operator=(const SpinGovernor&) = delete;

  // Whether the policy allows spinning at all (the reports are worth making).
  bool enabled() const noexcept { return enabled_; }
  Duration ceiling() const noexcept { return Duration(ceiling_ns_); }
  // How long to spin before the next sleep; 0: sleep at once.
  Duration limit() const noexcept { return Duration(limit_ns_.load(std::memory_order_relaxed)); }
  // How many short sleeps in a row the next probe waits for.
  std::uint32_t backoff() const noexcept { return backoff_.load(std::memory_order_relaxed); }

  void spun_and_found(Duration gap) noexcept {
    if (!enabled_) return;
    if (gap.count() > ceiling_ns_) {
      spun_in_vain();
      return;
    }
    const std::int64_t current = limit_ns_.load(std::memory_order_relaxed);
    const std::int64_t grown = std::max({current * 2, gap.count() * 2, kFloor.count()});
    limit_ns_.store(std::min(grown, ceiling_ns_), std::memory_order_relaxed);
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
    if (gap.count() > ceiling_ns_) {
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
    limit_ns_.store(std::min(probe, ceiling_ns_), std::memory_order_relaxed);
    confirmed_.store(false, std::memory_order_relaxed);
  }

  void slept_without_work(Duration waited) noexcept {
    if (!enabled_) return;
    if (waited.count() > ceiling_ns_) short_sleeps_.store(0, std::memory_order_relaxed);
  }

 private:
  const bool enabled_;
  const std::int64_t ceiling_ns_;
  std::atomic<std::int64_t> limit_ns_;
  std::atomic<bool> confirmed_;
  std::atomic<std::uint32_t> backoff_{1};
  std::atomic<std::uint32_t> short_sleeps_{0};
};

}  // namespace weft::detail
