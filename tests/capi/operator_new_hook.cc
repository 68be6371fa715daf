// A test-only hook on the C++ core's own allocations: this file replaces the
// global operator new of the binary it is linked into, counts every call
// (any thread) and, when armed, refuses the Nth one from arming (or every
// one from the Nth on) by throwing std::bad_alloc — the sweep of
// alloc_failure_test.c then reaches the ready queue, the timer heap, task
// frames and I/O buffers, which weft_allocator does not. It also counts the
// blocks live (allocated and not yet deleted), so the sweep can check that
// a runtime gives back every block the core allocated. The buffers the
// calling thread's read-buffer pool keeps (core/io/detail/read_buffers.h)
// are a cache whose size a run may change, not blocks a runtime holds: the
// pool is emptied before each count.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "core/io/detail/read_buffers.h"

namespace {
std::atomic<long> g_count{0};
std::atomic<long> g_fail_at{-1};
std::atomic<int> g_forever{0};
std::atomic<long> g_refused{0};
std::atomic<long> g_live{0};

bool replaced_new_refuses() noexcept {
  const long fail_at = g_fail_at.load(std::memory_order_acquire);
  const long number = g_count.fetch_add(1, std::memory_order_relaxed);
  if (fail_at < 0) return false;
  if (number == fail_at || (g_forever.load(std::memory_order_relaxed) != 0 && number > fail_at)) {
    g_refused.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}
void replaced_new_counted(long delta) noexcept { g_live.fetch_add(delta, std::memory_order_relaxed); }
}  // namespace

#include "tests/core/replaced_operator_new.inc"

extern "C" {
void operator_new_arm(long n, int forever) {
  g_forever.store(forever, std::memory_order_relaxed);
  g_fail_at.store(g_count.load(std::memory_order_relaxed) + n, std::memory_order_release);
}
void operator_new_disarm(void) { g_fail_at.store(-1, std::memory_order_release); }
long operator_new_refused(void) { return g_refused.load(std::memory_order_relaxed); }
long operator_new_live(void) {
  weft::detail::release_read_buffers();
  return g_live.load(std::memory_order_relaxed);
}
}
