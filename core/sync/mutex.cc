#include "core/sync/mutex.h"

namespace weft {

using Outcome = detail::SyncWaiter::Outcome;

void Mutex::unlock() {
  if (!locked_) throw Exception(Errc::invalid_state, "Mutex::unlock on a mutex that is not locked");
  if (waiters_.empty()) {
    locked_ = false;
    return;
  }
  waiters_.wake_front(Outcome::granted);  // stays locked: handed over
}

MutexGuard& MutexGuard::operator=(MutexGuard&& other) noexcept {
  if (this != &other) {
    unlock();
    mutex_ = std::exchange(other.mutex_, nullptr);
  }
  return *this;
}

void MutexGuard::unlock() noexcept {
  if (mutex_ == nullptr) return;
  try {
    std::exchange(mutex_, nullptr)->unlock();
  } catch (...) {
    // Only if someone else unlocked it behind the guard's back.
  }
}

void Semaphore::release() {
  if (waiters_.empty()) {
    ++permits_;
    return;
  }
  waiters_.wake_front(Outcome::granted);  // the permit goes to the first waiter
}

SemaphoreGuard& SemaphoreGuard::operator=(SemaphoreGuard&& other) noexcept {
  if (this != &other) {
    release();
    semaphore_ = std::exchange(other.semaphore_, nullptr);
  }
  return *this;
}

void SemaphoreGuard::release() noexcept {
  if (semaphore_ == nullptr) return;
  try {
    std::exchange(semaphore_, nullptr)->release();
  } catch (...) {
    // Out of memory queueing the waiter's resume: nothing better to do.
  }
}

}  // namespace weft
