/* weft/executor.h: thread pools and strands, and submitting work whose
 * result comes back to the loop.
 *
 *   weft_executor_t* pool;
 *   weft_runtime_pool(&pool, rt);                    // or weft_pool_create
 *   weft_executor_submit(NULL, pool, loop, crunch, on_done, job);
 *   // crunch(job, &result) runs on a worker;
 *   // on_done(job, future, status, &result, message) runs on the loop thread
 *
 * Pools are weft's own worker threads (never libuv's). A strand runs the work
 * submitted to it one item at a time, in order, on the workers of the
 * executor it wraps.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_EXECUTOR_H
#define WEFT_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"
#include "weft/future.h"
#include "weft/value.h"

WEFT_EXTERN_C_BEGIN

/* Work run on a worker thread. Return WEFT_OK and optionally set *result
 * (it starts as NONE; bytes are copied after you return, so they must
 * outlive the call, and a POINTER's ownership passes to weft), or return a
 * failure status (negative), which rejects the work's future. Work may call
 * the functions documented "any thread", never the loop-thread ones. */
typedef weft_status (*weft_work_fn)(void* user, weft_value* result);

typedef struct weft_pool_options {
  size_t struct_size; /* sizeof(weft_pool_options): WEFT_POOL_OPTIONS_INIT */
  uint32_t threads;   /* workers; 0 means one per CPU core */
  const char* name;   /* thread names "<name>-N" (copied); NULL means "weft-pool" */
  /* Whether idle workers spin before they sleep (see weft_spin_mode). Since
   * 1.2: a struct_size from 1.0/1.1 headers means WEFT_SPIN_ADAPTIVE. */
  weft_spin_mode spin;
} weft_pool_options;

#define WEFT_POOL_OPTIONS_INIT { sizeof(weft_pool_options), 0, NULL, WEFT_SPIN_ADAPTIVE }

/* Fills `options` with the defaults; see weft_runtime_options_init.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_pool_options_init(weft_pool_options* options, size_t struct_size);

/* Creates a thread pool owned by `runtime`; its workers start now.
 * `options` may be NULL for the defaults.
 * Ownership: the caller owns *out; free it with weft_executor_destroy (or let
 * weft_runtime_destroy do it).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (struct_size unknown, a bad spin mode),
 * WEFT_ERR_NO_MEMORY, WEFT_ERR_CLOSED.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_pool_create(weft_executor_t** out, weft_runtime_t* runtime,
                                      const weft_pool_options* options);

/* Creates a strand over `inner` (a pool, or the runtime's default pool).
 * Ownership: the caller owns *out; free it with weft_executor_destroy.
 * Destroying the inner pool destroys its strands first.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (inner is a strand), WEFT_ERR_NO_MEMORY.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_strand_create(weft_executor_t** out, weft_executor_t* inner);

/* Submits `work(user, &result)` to run on the executor. Its outcome completes
 * a future in `loop`'s scope: resolved with `result` when work returns
 * WEFT_OK, rejected with the status it returns otherwise. If `done` is not
 * NULL it is registered on that future (as weft_future_then through `loop`)
 * and runs on the loop thread. If `out` is not NULL the caller gets a
 * reference to the future. If the future is cancelled before the work
 * starts (weft_future_cancel, its scope cancelled, the runtime destroyed),
 * `work` is never called; work already running finishes and its result is
 * dropped. The scope counts the work until it has finished running.
 * `done` shares `user` with `work`: it is called exactly once, and only
 * once `work` has returned or can no longer be called, so it may free
 * `user`. If the future is cancelled while `work` runs, the future settles
 * at once (other callbacks see it) but `done` waits for `work` to return;
 * a scope or runtime cancelled meanwhile calls `done` (with
 * WEFT_ERR_CANCELLED) when the work returns, or from weft_runtime_destroy
 * after it has joined the workers.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (work NULL, a loop of another runtime),
 * WEFT_ERR_CLOSED (the executor is being destroyed, the loop's scope was
 * cancelled, or the runtime is being destroyed), WEFT_ERR_NO_MEMORY. On
 * error nothing is called and *out is untouched.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_executor_submit(weft_future_t** out, weft_executor_t* executor,
                                          weft_loop_t* loop, weft_work_fn work,
                                          weft_future_callback done, void* user);

/* Destroys a pool or a strand: new work is refused at once, work already
 * queued runs (work whose future was cancelled is skipped), and the call
 * blocks until it has all finished. A pool destroys its strands first.
 * Completions are still delivered to the loop afterwards. NULL is accepted
 * and does nothing.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (the runtime's default pool),
 * WEFT_ERR_INVALID_STATE (called from one of the executor's own workers).
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_executor_destroy(weft_executor_t* executor);

WEFT_EXTERN_C_END

#endif /* WEFT_EXECUTOR_H */
