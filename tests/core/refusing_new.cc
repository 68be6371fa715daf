// See refusing_new.h. Thread: the counters are thread-local, so each thread
// counts (and is refused) its own allocations.
#include "tests/core/refusing_new.h"

#include <cstdlib>
#include <new>

namespace {
thread_local long t_allocations = 0;
thread_local long t_refuse_at = -1;
thread_local bool t_forever = false;

bool replaced_new_refuses() noexcept {
  const long number = t_allocations++;
  return t_refuse_at >= 0 && (number == t_refuse_at || (t_forever && number > t_refuse_at));
}
void replaced_new_counted(long) noexcept {}
}  // namespace

namespace weft_test {
long allocations_on_this_thread() noexcept { return t_allocations; }
void refuse_allocation(long n, bool forever) noexcept {
  t_refuse_at = t_allocations + n;
  t_forever = forever;
}
void allow_allocations() noexcept { t_refuse_at = -1; }
}  // namespace weft_test

#include "tests/core/replaced_operator_new.inc"
