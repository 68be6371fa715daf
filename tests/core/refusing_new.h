// A test-only replacement of the global operator new (refusing_new.cc) for
// the core's unit tests of allocation failure: it counts the allocations
// made on the calling thread and, when told, refuses one of them by throwing
// std::bad_alloc. Linked into a test binary, it replaces operator new for
// the whole binary; only the thread that arms it sees refusals.
#pragma once

namespace weft_test {

// Allocations made by this thread so far.
long allocations_on_this_thread() noexcept;

// Refuses this thread's allocation number `n` from now (0: the next one),
// or, with `forever`, that one and every one after it, until
// allow_allocations().
void refuse_allocation(long n, bool forever = false) noexcept;
void allow_allocations() noexcept;

// RAII: refuses as refuse_allocation() says while it lives, counting only
// the allocations made while it is not paused.
class RefuseAllocation {
 public:
  explicit RefuseAllocation(long n, bool forever = false) noexcept
      : n_(n), forever_(forever), window_start_(allocations_on_this_thread()) {
    refuse_allocation(n, forever);
  }
  RefuseAllocation(const RefuseAllocation&) = delete;
  RefuseAllocation& operator=(const RefuseAllocation&) = delete;
  ~RefuseAllocation() { allow_allocations(); }

  // Lets allocations through (a test's own set-up) until resume().
  void pause() noexcept {
    counted_ += allocations_on_this_thread() - window_start_;
    paused_ = true;
    allow_allocations();
  }
  void resume() noexcept {
    paused_ = false;
    window_start_ = allocations_on_this_thread();
    if (counted_ <= n_) {
      refuse_allocation(n_ - counted_, forever_);
    } else if (forever_) {
      refuse_allocation(0, true);
    }
  }

  // Whether allocation `n` was asked for (and refused) so far: a sweep over
  // n ends with the first n that is not reached.
  bool reached() const noexcept {
    return counted_ + (paused_ ? 0 : allocations_on_this_thread() - window_start_) > n_;
  }

 private:
  long n_;
  bool forever_;
  long window_start_;
  long counted_ = 0;
  bool paused_ = false;
};

}  // namespace weft_test
