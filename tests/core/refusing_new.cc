// See refusing_new.h. Thread: the counters are thread-local, so each thread
// counts (and is refused) its own allocations.
#include "tests/core/refusing_new.h"

#include <cstdlib>
#include <new>

namespace {
thread_local long t_allocations = 0;
thread_local long t_refuse_at = -1;
thread_local bool t_forever = false;

bool refuse_this_one() noexcept {
  const long number = t_allocations++;
  return t_refuse_at >= 0 && (number == t_refuse_at || (t_forever && number > t_refuse_at));
}
}  // namespace

namespace weft_test {
long allocations_on_this_thread() noexcept { return t_allocations; }
void refuse_allocation(long n, bool forever) noexcept {
  t_refuse_at = t_allocations + n;
  t_forever = forever;
}
void allow_allocations() noexcept { t_refuse_at = -1; }
}  // namespace weft_test

void* operator new(std::size_t size) {
  if (refuse_this_one()) throw std::bad_alloc();
  if (void* p = std::malloc(size != 0 ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return operator new(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
