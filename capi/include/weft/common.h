/* weft/common.h: what every weft header shares: the opaque handle types,
 * the callbacks of the asynchronous operations, and the time units.
 *
 * Handles are opaque pointers the library hands out and checks on every call:
 * each carries a generation, so a handle used after it was destroyed or
 * released is answered with WEFT_ERR_STALE_HANDLE, never a crash. Handles are
 * not memory: never dereference, compare only for equality.
 *
 * Part of weft's C ABI; see weft/weft.h for the rules that apply to every
 * function. C99; also valid C++.
 */
#ifndef WEFT_COMMON_H
#define WEFT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "weft/export.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

/* A runtime: one event loop, its default thread pool, its clock and its
 * allocator. Created by weft_runtime_create, destroyed by
 * weft_runtime_destroy. */
typedef struct weft_runtime weft_runtime_t;

/* The runtime's loop, seen through a scope. weft_runtime_loop returns the
 * loop of the root scope; weft_scope_loop the loop of a child scope.
 * Everything created or registered through a loop handle (callbacks, timers,
 * futures, future callbacks, pool work) belongs to that handle's scope.
 * Every loop handle of a runtime runs the same loop. Never destroyed
 * separately: valid until its scope (or the runtime) is destroyed. */
typedef struct weft_loop weft_loop_t;

/* A scope: owns what is created through its loop handle, so that it can be
 * cancelled, drained and listed as a unit (one per plugin or script). */
typedef struct weft_scope weft_scope_t;

/* A future: a result (a weft_value, or a failure status and message) that
 * arrives later. Reference-counted: weft_future_retain/release. */
typedef struct weft_future weft_future_t;

/* An executor that runs work off the loop: a thread pool or a strand. */
typedef struct weft_executor weft_executor_t;

/* The callback of weft_loop_call_soon, call_soon_threadsafe, call_later,
 * call_at, and of every operation that produces nothing but its outcome
 * (write, drain, shutdown, sync, ...). Called exactly once, on the loop
 * thread: with WEFT_OK (message NULL) when it is its turn or the operation
 * succeeded, or with a failure status and a message saying why —
 * WEFT_ERR_CANCELLED when it will never get its turn (timer or operation
 * cancelled, scope cancelled, runtime destroyed) — so `user` can be freed
 * either way. `message` is valid until the callback returns. */
typedef void (*weft_callback)(void* user, weft_status status, const char* message);

/* The callback of the operations that produce bytes (stream and file
 * reads): `len` bytes at `bytes` with WEFT_OK, borrowed until the callback
 * returns; on failure bytes is NULL, len 0 and `message` says why. */
typedef void (*weft_bytes_callback)(void* user, weft_status status, const char* message,
                                    const void* bytes, size_t len);

/* Whether a thread that ran out of work spins for a while before it sleeps
 * in the kernel: the loop waiting for work from other threads (a future a
 * worker completes, a weft_loop_call_soon_threadsafe) or for its own I/O
 * (a peer's answer), and idle pool workers. Chosen by
 * weft_runtime_options.spin and weft_pool_options.spin. A sleeping thread
 * is woken by a system call and the scheduler (tens of microseconds per
 * cross-thread round trip on a virtual machine); a spinning one sees the
 * work in a fraction of a microsecond but burns its core meanwhile. Since
 * 1.2. */
typedef enum weft_spin_mode {
  /* Spin (the loop up to 20 us, or up to twice its recent wake-up latency
   * where wake-ups are slower, at most 100 us; for its I/O up to 100 us; a
   * pool worker up to 100 us) only while the recent waits show that work
   * arrives that soon; stop after a few empty spins, so an idle runtime
   * burns no CPU. The default. */
  WEFT_SPIN_ADAPTIVE = 0,
  /* Never spin: sleep as soon as there is no work. The least CPU; every
   * post to a sleeping loop or pool pays for a wake-up. */
  WEFT_SPIN_OFF = 1,
  WEFT_SPIN_FORCE32 = 0x7FFFFFFF
} weft_spin_mode;

/* Durations and deadlines in the C API are nanoseconds. */
#define WEFT_US(x) ((uint64_t)(x) * UINT64_C(1000))
#define WEFT_MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define WEFT_SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))

WEFT_EXTERN_C_END

#endif /* WEFT_COMMON_H */
