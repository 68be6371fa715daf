// weft::detail::SpinMutex: a mutex whose lock() may spin for a moment before
// it sleeps in the kernel, when the caller says spinning pays.
//
// Why: a std::mutex (glibc) sleeps at the first collision, and its unlock
// then makes a system call to wake the sleeper. Under ThreadPool's queue lock
// the critical sections last tens to hundreds of nanoseconds; on idle cores a
// poster that collided with a worker slept for microseconds, and every
// collision cost the other side a futex wake. With lock(true) the caller
// first watches the lock word for up to kSpins rounds of a pause (about a
// microsecond or two), taking the lock as soon as it is free; then, as with
// lock(false), it sleeps until woken. On a loaded machine, where the holder
// may have lost its core, the caller passes false and sleeps at once (the
// pool passes whether its spin governor lets idle workers spin).
//
// The lock word: 0 free, 1 locked, 2 locked and someone may sleep on it
// (unlock wakes one). Linux sleeps with futex(2); elsewhere with
// std::atomic::wait.
//
// Threads: any. Not recursive. Meets Lockable through lock()/unlock() (lock()
// does not spin).
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

// Tells the CPU we are in a spin-wait loop (x86 `pause`, ARM `yield`).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

class SpinMutex {
 public:
  static constexpr int kSpins = 64;

  SpinMutex() = default;
  SpinMutex(const SpinMutex&) = delete;
  SpinMutex& operator=(const SpinMutex&) = delete;

  void lock(bool spin) noexcept {
    std::uint32_t seen = 0;
    if (state_.compare_exchange_strong(seen, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    lock_slow(seen, spin);
  }
  void lock() noexcept { lock(false); }

  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) wake_one_sleeper();
  }

 private:
  void lock_slow(std::uint32_t seen, bool spin) noexcept;
  void wake_one_sleeper() noexcept;

  std::atomic<std::uint32_t> state_{0};
};

// Holds a SpinMutex for a scope, locked with lock(spin).
class SpinMutexGuard {
 public:
  SpinMutexGuard(SpinMutex& mutex, bool spin) noexcept : mutex_(mutex) { mutex_.lock(spin); }
  ~SpinMutexGuard() { mutex_.unlock(); }
  SpinMutexGuard(const SpinMutexGuard&) = delete;
  SpinMutexGuard& operator=(const SpinMutexGuard&) = delete;

 private:
  SpinMutex& mutex_;
};

}  // namespace weft::detail
