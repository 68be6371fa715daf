/* C work functions for gil_test.py, handed to weft's pool by address. Each
 * runs on a pool thread and never touches Python: it announces that it has
 * started, then waits (at most 5 s) for the Python main thread to answer
 * through the same shared flags. The answer can only come if the worker
 * does not hold the GIL while this C code runs.
 * Flags (two ints the caller owns, given as `user`): [0] set here when the
 * work has started, [1] set by Python when it has seen that. */
#define _POSIX_C_SOURCE 199309L /* nanosleep */

#include <stdatomic.h>
#include <time.h>

#include "weft/weft.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT weft_status gil_probe_wait_for_python(void* user, weft_value* result) {
  (void)result;
  atomic_int* flags = (atomic_int*)user;
  atomic_store(&flags[0], 1);
  const struct timespec one_ms = {0, 1000000};
  for (int waited_ms = 0; waited_ms < 5000; ++waited_ms) {
    if (atomic_load(&flags[1]) == 1) return WEFT_OK;
    nanosleep(&one_ms, NULL);
  }
  return WEFT_ERR_TIMED_OUT;
}
