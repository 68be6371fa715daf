// weft's clocks: where a loop reads the time its timers are measured against.
//
// A loop uses MonotonicClock unless given another. ManualClock moves only when
// advanced, so tests step time exactly and a game can pause its timers by not
// advancing it (timers fire at the loop's next pass after the clock passes
// their deadline; they never fire early).
//
// Thread safety: now() may be called from any thread. ManualClock::advance/set
// may be called from any thread; a loop blocked waiting for I/O notices the new
// time only when it next wakes (advance from the loop's own thread, as a frame
// loop does, or wake it with call_soon_threadsafe).
#pragma once

#include <atomic>
#include <chrono>

namespace weft {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const noexcept = 0;
  // False for clocks that only move when told to (a loop never sleeps waiting
  // for such a clock to reach a timer's deadline).
  virtual bool advances_by_itself() const noexcept = 0;
};

// The system's monotonic clock (CLOCK_MONOTONIC).
class MonotonicClock final : public Clock {
 public:
  TimePoint now() const noexcept override { return std::chrono::steady_clock::now(); }
  bool advances_by_itself() const noexcept override { return true; }

  // The process-wide instance loops use by default.
  static MonotonicClock& instance() noexcept;
};

// A clock that starts at `start` and moves only when advanced.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) noexcept
      : now_ns_(start.time_since_epoch().count()) {}

  TimePoint now() const noexcept override {
    return TimePoint(Duration(now_ns_.load(std::memory_order_acquire)));
  }
  bool advances_by_itself() const noexcept override { return false; }

  // Moves the clock forward by `d` (negative durations are ignored: time never
  // goes back).
  void advance(Duration d) noexcept {
    if (d.count() > 0) now_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  }
  // Moves the clock to `t` if that is later than now.
  void set(TimePoint t) noexcept {
    auto target = t.time_since_epoch().count();
    auto current = now_ns_.load(std::memory_order_acquire);
    while (current < target &&
           !now_ns_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) {
    }
  }

 private:
  std::atomic<Duration::rep> now_ns_;
};

}  // namespace weft
