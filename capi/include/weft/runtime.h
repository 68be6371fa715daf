/* weft/runtime.h: creating and destroying a runtime — one event loop, its
 * default thread pool, its clock and its allocator. Several runtimes may live
 * in one process; they share nothing.
 *
 *   weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
 *   options.clock = WEFT_CLOCK_MANUAL;
 *   weft_runtime_t* rt;
 *   if (weft_runtime_create(&rt, &options) != WEFT_OK) ...
 *   weft_loop_t* loop;
 *   weft_runtime_loop(&loop, rt);
 *   ...
 *   weft_runtime_destroy(rt);
 *
 * The loop thread: a runtime's loop belongs to the thread that created the
 * runtime, until another thread claims it (weft_loop_claim). Functions
 * documented "Loop thread" (running the loop included) return
 * WEFT_ERR_WRONG_THREAD anywhere else, work functions on the pools included.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_RUNTIME_H
#define WEFT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

typedef enum weft_clock_kind {
  /* The system's monotonic clock: timers fire as wall time passes. */
  WEFT_CLOCK_MONOTONIC = 0,
  /* Starts at 0 and moves only by weft_loop_advance_clock: tests step time
   * exactly, a game pauses its timers by not advancing it. */
  WEFT_CLOCK_MANUAL = 1,
  WEFT_CLOCK_FORCE32 = 0x7FFFFFFF
} weft_clock_kind;

/* Where the runtime gets the memory for everything the C API creates
 * (runtime, scopes, futures, timers, values, executors). Both functions are
 * called from any thread (pool workers free what they finish), possibly
 * concurrently, and must be thread-safe. `alignment` is a power of two no
 * larger than alignof(max_align_t). `alloc` returns NULL on failure; the
 * call that needed the memory then returns WEFT_ERR_NO_MEMORY, having
 * started, sent or taken nothing (an operation allocates before it acts). `free` gets
 * the size and alignment given to `alloc`. The C++ core's own internal
 * buffers (queues, timer heap) use operator new. */
typedef struct weft_allocator {
  void* (*alloc)(void* user, size_t size, size_t alignment);
  void (*free)(void* user, void* pointer, size_t size, size_t alignment);
  void* user;
} weft_allocator;

typedef struct weft_runtime_options {
  size_t struct_size; /* sizeof(weft_runtime_options): WEFT_RUNTIME_OPTIONS_INIT */
  /* Workers of the default thread pool; 0 means one per CPU core. */
  uint32_t threads;
  weft_clock_kind clock;
  /* Both functions NULL: the C library's malloc and free. */
  weft_allocator allocator;
  /* Names the runtime in dumps and its pool's threads ("<name>-pool-0");
   * copied; NULL means "weft". */
  const char* name;
  /* If not 0: time every callback and report those that run longer than
   * this many nanoseconds to the error handler (WEFT_EVENT_SLOW_CALLBACK),
   * like asyncio's debug mode. Costs two clock reads per callback. */
  uint64_t slow_callback_ns;
  /* Whether the loop and the default pool spin before they sleep (see
   * weft_spin_mode). Since 1.2: a struct_size from 1.0/1.1 headers (which
   * end before this field) means WEFT_SPIN_ADAPTIVE. */
  weft_spin_mode spin;
} weft_runtime_options;

#define WEFT_RUNTIME_OPTIONS_INIT \
  { sizeof(weft_runtime_options), 0, WEFT_CLOCK_MONOTONIC, { NULL, NULL, NULL }, NULL, 0, \
    WEFT_SPIN_ADAPTIVE }

/* Fills `options` with the defaults (what WEFT_RUNTIME_OPTIONS_INIT gives),
 * for callers that cannot use the macro (bindings). Pass
 * sizeof(*options) as `struct_size` (a size from older headers fills the
 * fields those knew). WEFT_ERR_INVALID_ARGUMENT if `options` is NULL or
 * `struct_size` is smaller than any published version. Thread: any thread.
 * Since 0.1. */
WEFT_API weft_status weft_runtime_options_init(weft_runtime_options* options,
                                               size_t struct_size);

/* Creates a runtime: its loop (owned by the calling thread), its default
 * pool (its workers start now) and its root scope. `options` may be NULL for
 * the defaults; it is read during the call only.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL, struct_size unknown, a bad
 * clock kind or spin mode, only one of alloc/free set), WEFT_ERR_NO_MEMORY,
 * WEFT_ERR_TOO_MANY_OPEN_FILES (no descriptor left for the loop's kernel
 * objects or the pool's wake-ups).
 * Ownership: the caller owns *out; free it with weft_runtime_destroy.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_runtime_create(weft_runtime_t** out,
                                         const weft_runtime_options* options);

/* Destroys the runtime and everything in it, in this order:
 * 1. every scope is cancelled: pending timers, queued callbacks, future
 *    callbacks and work completions are called once with WEFT_ERR_CANCELLED,
 *    and pending futures complete as cancelled — all inside this call;
 * 2. every pool shuts down: work not started is dropped, running work is
 *    waited for;
 * 3. the loop closes and all memory is returned to the allocator, including
 *    futures the program still holds: their handles become stale (releasing
 *    one later returns WEFT_ERR_STALE_HANDLE and does nothing else).
 * NULL is accepted and does nothing.
 * Errors: WEFT_ERR_WRONG_THREAD (not the loop thread — a work function runs
 * on a worker), WEFT_ERR_INVALID_STATE (called from inside one of this
 * runtime's callbacks), WEFT_ERR_STALE_HANDLE (already destroyed). Nothing is
 * destroyed on error.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_runtime_destroy(weft_runtime_t* runtime);

/* The loop handle of the runtime's root scope.
 * Ownership: borrowed, valid until the runtime is destroyed.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_runtime_loop(weft_loop_t** out, weft_runtime_t* runtime);

/* The runtime's default thread pool.
 * Ownership: borrowed, valid until the runtime is destroyed; it cannot be
 * destroyed with weft_executor_destroy.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_runtime_pool(weft_executor_t** out, weft_runtime_t* runtime);

WEFT_EXTERN_C_END

#endif /* WEFT_RUNTIME_H */
