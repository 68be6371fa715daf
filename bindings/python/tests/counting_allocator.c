/* A weft_allocator in C for allocator_test.py: malloc-backed, counting the
 * calls and the bytes held. Called from any thread (weft's pools free what
 * they finish), so the counters are atomic; it never touches Python. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#define EXPORT __attribute__((visibility("default")))

static atomic_long allocations;
static atomic_long live_bytes;

EXPORT void* counting_alloc(void* user, size_t size, size_t alignment) {
  (void)user;
  void* p = NULL;
  if (posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size) != 0) return NULL;
  atomic_fetch_add(&allocations, 1);
  atomic_fetch_add(&live_bytes, (long)size);
  return p;
}

EXPORT void counting_free(void* user, void* pointer, size_t size, size_t alignment) {
  (void)user;
  (void)alignment;
  atomic_fetch_sub(&live_bytes, (long)size);
  free(pointer);
}

EXPORT long counting_allocations(void) { return atomic_load(&allocations); }
EXPORT long counting_live_bytes(void) { return atomic_load(&live_bytes); }
