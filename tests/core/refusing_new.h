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

// RAII: refuses as refuse_allocation() says while it lives.
class RefuseAllocation {
 public:
  explicit RefuseAllocation(long n, bool forever = false) noexcept { refuse_allocation(n, forever); }
  RefuseAllocation(const RefuseAllocation&) = delete;
  RefuseAllocation& operator=(const RefuseAllocation&) = delete;
  ~RefuseAllocation() { allow_allocations(); }
};

}  // namespace weft_test
