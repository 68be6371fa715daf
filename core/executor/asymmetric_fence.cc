#include "core/executor/asymmetric_fence.h"

#include <cstdio>
#include <exception>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#if defined(SYS_membarrier) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#define WEFT_HAVE_MEMBARRIER 1
#endif
#endif

namespace weft::detail {

namespace {

#if defined(WEFT_HAVE_MEMBARRIER)
bool register_membarrier() noexcept {
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}
#endif

}  // namespace

bool asymmetric_fences_available() noexcept {
#if defined(WEFT_HAVE_MEMBARRIER)
  static const bool available = [] {
    const long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    return commands > 0 && (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
           register_membarrier();
  }();
  return available;
#else
  return false;
#endif
}

void heavy_barrier() noexcept {
#if defined(WEFT_HAVE_MEMBARRIER)
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
  // A child of fork() may not inherit the registration: register again.
  if (register_membarrier() &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) {
    return;
  }
  std::fprintf(stderr, "weft: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after it worked\n");
#endif
  std::terminate();
}

}  // namespace weft::detail
