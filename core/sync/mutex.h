// weft::Mutex and weft::Semaphore: asyncio's Lock and Semaphore for tasks.
//
//   weft::Semaphore slots(3);                 // at most 3 downloads at a time
//   weft::Task<void> fetch(std::string url) {
//     auto permit = co_await slots.acquire_guard();   // released at scope exit
//     co_await download(url);
//   }
//
//   weft::Mutex mutex;
//   { auto lock = co_await mutex.lock_guard(); ... }  // or co_await mutex.lock(); ... mutex.unlock();
//
// - Fair: waiters are served in the order they came, and a release hands the
//   lock (or permit) straight to the first waiter, so no task can barge in.
// - Cancellation: a task cancelled while waiting leaves the queue and sees
//   Cancelled; one cancelled after it was handed the lock keeps it (and sees
//   the cancellation at its next suspension point), so a lock is never lost.
// - Not thread-safe, like the rest of a loop: use them from the tasks of one
//   loop. unlock()/release() may also be called from plain loop callbacks.
#pragma once

#include <coroutine>
#include <cstddef>
#include <utility>

#include "core/error.h"
#include "core/sync/wait_queue.h"

namespace weft {

class Mutex;
class Semaphore;

// Unlocks on destruction (what lock_guard() gives). Movable.
class [[nodiscard]] MutexGuard {
 public:
  MutexGuard() = default;
  explicit MutexGuard(Mutex& mutex) noexcept : mutex_(&mutex) {}
  MutexGuard(MutexGuard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
  MutexGuard& operator=(MutexGuard&& other) noexcept;
  ~MutexGuard() { unlock(); }
  // Unlocks now (once).
  void unlock() noexcept;
  bool owns_lock() const noexcept { return mutex_ != nullptr; }

 private:
  Mutex* mutex_ = nullptr;
};

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  class LockAwaiter : public detail::SyncWaiter {
   public:
    LockAwaiter(Mutex& mutex, bool interruptible) noexcept
        : SyncWaiter(mutex.waiters_, "Mutex"), mutex_(&mutex), interruptible_(interruptible) {}
    bool await_ready() noexcept { return mutex_->try_lock(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> handle) {
      if (interruptible_) return SyncWaiter::await_suspend(handle);
      detail::TaskState& task = detail::root_of(handle);
      mutex_->waiters_.push_back(*this, task, handle);
      task.clear_wait(this);  // no hook: a cancellation waits for the next suspension point
      return true;
    }
    void await_resume() {
      if (root != nullptr) finish();
    }

   protected:
    Mutex* mutex_;
    bool interruptible_;
  };

  class GuardAwaiter : public LockAwaiter {
   public:
    explicit GuardAwaiter(Mutex& mutex) noexcept : LockAwaiter(mutex, true) {}
    MutexGuard await_resume() {
      LockAwaiter::await_resume();
      return MutexGuard(*mutex_);
    }
  };

  // co_await mutex.lock(): waits until this task holds the lock.
  LockAwaiter lock() noexcept { return LockAwaiter(*this, true); }
  // co_await mutex.lock_guard(): the same, returning a guard that unlocks.
  GuardAwaiter lock_guard() noexcept { return GuardAwaiter(*this); }
  // Waits without being interruptible (a cancellation is delivered at the
  // next suspension point instead); Condition re-acquires with it.
  LockAwaiter lock_uninterruptible() noexcept { return LockAwaiter(*this, false); }

  bool try_lock() noexcept {
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  // Hands the lock to the first waiter, or unlocks. Exception(invalid_state)
  // if not locked.
  void unlock();
  bool locked() const noexcept { return locked_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  detail::WaitQueue waiters_;
  bool locked_ = false;
};

// Releases on destruction (what acquire_guard() gives). Movable.
class [[nodiscard]] SemaphoreGuard {
 public:
  SemaphoreGuard() = default;
  explicit SemaphoreGuard(Semaphore& semaphore) noexcept : semaphore_(&semaphore) {}
  SemaphoreGuard(SemaphoreGuard&& other) noexcept
      : semaphore_(std::exchange(other.semaphore_, nullptr)) {}
  SemaphoreGuard& operator=(SemaphoreGuard&& other) noexcept;
  ~SemaphoreGuard() { release(); }
  void release() noexcept;

 private:
  Semaphore* semaphore_ = nullptr;
};

class Semaphore {
 public:
  explicit Semaphore(std::size_t permits) noexcept : permits_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  class AcquireAwaiter : public detail::SyncWaiter {
   public:
    explicit AcquireAwaiter(Semaphore& semaphore) noexcept
        : SyncWaiter(semaphore.waiters_, "Semaphore"), semaphore_(&semaphore) {}
    bool await_ready() noexcept { return semaphore_->try_acquire(); }
    void await_resume() {
      if (root != nullptr) finish();
    }

   protected:
    Semaphore* semaphore_;
  };

  class GuardAwaiter : public AcquireAwaiter {
   public:
    using AcquireAwaiter::AcquireAwaiter;
    SemaphoreGuard await_resume() {
      AcquireAwaiter::await_resume();
      return SemaphoreGuard(*semaphore_);
    }
  };

  // co_await sem.acquire(): takes a permit, waiting while none is free.
  AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }
  // co_await sem.acquire_guard(): the same, with a guard that releases it.
  GuardAwaiter acquire_guard() noexcept { return GuardAwaiter(*this); }

  bool try_acquire() noexcept {
    if (permits_ == 0 || !waiters_.empty()) return false;
    --permits_;
    return true;
  }
  // Gives a permit to the first waiter, or back to the pool.
  void release();
  std::size_t available() const noexcept { return permits_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  detail::WaitQueue waiters_;
  std::size_t permits_;
};

}  // namespace weft
