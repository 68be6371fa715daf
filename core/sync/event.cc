#include "core/sync/event.h"

#include <exception>

namespace weft {

using Outcome = detail::SyncWaiter::Outcome;

void Event::set() {
  set_ = true;
  waiters_.wake_all(Outcome::granted);
}

Task<void> Condition::wait() {
  if (!mutex_->locked()) {
    throw Exception(Errc::invalid_state, "Condition::wait needs its mutex locked");
  }
  mutex_->unlock();
  std::exception_ptr failure;
  try {
    co_await WaitAwaiter(*this);
  } catch (...) {
    failure = std::current_exception();
  }
  // Locked again before returning, even when cancelled; a cancellation that
  // arrives while re-locking is delivered at the next suspension point.
  co_await mutex_->lock_uninterruptible();
  if (failure) std::rethrow_exception(failure);
}

void Condition::notify(std::size_t n) {
  while (n-- > 0 && !waiters_.empty()) waiters_.wake_front(Outcome::granted);
}

void Condition::notify_all() { waiters_.wake_all(Outcome::granted); }

}  // namespace weft
