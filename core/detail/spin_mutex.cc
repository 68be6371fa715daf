#include "core/detail/spin_mutex.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace weft::detail {

namespace {

// Sleeps while `word` holds `value` (or until a wake-up; spurious returns
// are fine: the caller looks again).
void sleep_while(std::atomic<std::uint32_t>& word, std::uint32_t value) noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, value, nullptr,
          nullptr, 0);
#else
  word.wait(value, std::memory_order_relaxed);
#endif
}

}  // namespace

// The classic three-state futex lock ("Futexes Are Tricky", mutex 3), with an
// optional spin first: watch the word (plain loads, so the holder keeps its
// cache line until it unlocks) and take it when it reads 0.
void SpinMutex::lock_slow(std::uint32_t seen, bool spin) noexcept {
  if (spin) {
    for (int i = 0; i < kSpins; ++i) {
      cpu_relax();
      seen = state_.load(std::memory_order_relaxed);
      if (seen == 0 && state_.compare_exchange_strong(seen, 1, std::memory_order_acquire,
                                                      std::memory_order_relaxed)) {
        return;
      }
    }
  }
  // Mark the lock as having a sleeper (2) and sleep until it is free.
  if (seen != 2) seen = state_.exchange(2, std::memory_order_acquire);
  while (seen != 0) {
    sleep_while(state_, 2);
    seen = state_.exchange(2, std::memory_order_acquire);
  }
}

void SpinMutex::wake_one_sleeper() noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
#else
  state_.notify_one();
#endif
}

}  // namespace weft::detail
