/* weft/loop.h: running the loop, scheduling callbacks and timers, the clock,
 * and the backend fd a foreign event loop polls.
 *
 * Every callback registered here (weft_callback) is called exactly once, on
 * the loop thread: with WEFT_OK when its turn comes, or with
 * WEFT_ERR_CANCELLED when it never will (its timer's future cancelled, its
 * scope cancelled, the runtime destroyed), possibly inside the call that
 * cancelled it. If a function returns an error, its callback is never
 * called and `user` stays yours.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_LOOP_H
#define WEFT_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

typedef enum weft_run_mode {
  /* Until weft_loop_stop, or until nothing can happen any more: no ready
   * callbacks, no timers (with a manual clock pending timers do not count),
   * no future with a callback waiting, no work in flight. */
  WEFT_RUN_DEFAULT = 0,
  /* One iteration: waits for work only if none is ready, then runs the
   * callbacks ready at that point (not those they post). */
  WEFT_RUN_ONCE = 1,
  /* Like WEFT_RUN_ONCE, but never waits. */
  WEFT_RUN_NOWAIT = 2,
  WEFT_RUN_MODE_FORCE32 = 0x7FFFFFFF
} weft_run_mode;

/* What weft_loop_run_for did and what is left, for a host planning its next
 * frame. Set struct_size (WEFT_RUN_REPORT_INIT); weft fills the fields that
 * fit in it. */
typedef struct weft_run_report {
  size_t struct_size;
  size_t ran;             /* callbacks run (timers and future callbacks included) */
  size_t ready;           /* callbacks ready to run now */
  uint64_t next_timer_ns; /* earliest pending timer, loop clock; valid if has_next_timer */
  int has_next_timer;
  int stopped;            /* weft_loop_stop was called */
} weft_run_report;

#define WEFT_RUN_REPORT_INIT { sizeof(weft_run_report), 0, 0, 0, 0, 0 }

/* The runtime a loop handle belongs to. Ownership: borrowed.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_runtime(weft_runtime_t** out, weft_loop_t* loop);

/* Runs the loop in `mode` (see weft_run_mode). Every loop handle of a
 * runtime runs the same loop.
 * Errors: WEFT_ERR_REENTRANT_RUN (called from one of this loop's callbacks),
 * WEFT_ERR_WRONG_THREAD (not the loop thread: running never moves the
 * loop, weft_loop_claim does), WEFT_ERR_INVALID_ARGUMENT (bad mode).
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_loop_run(weft_loop_t* loop, weft_run_mode mode);

/* Runs ready callbacks, due timers and I/O until `budget_ns` of wall time is
 * spent or nothing is ready; runs at least one ready callback; never sleeps.
 * For a host's frame: weft_loop_run_for(&report, loop, WEFT_MS(2)) gives weft
 * 2 ms. `out` (what ran and what is left) may be NULL.
 * Errors and thread: as weft_loop_run. Since 0.1. */
WEFT_API weft_status weft_loop_run_for(weft_run_report* out, weft_loop_t* loop,
                                       uint64_t budget_ns);

/* Makes the calling thread the loop thread of `loop`'s runtime: from now on
 * the functions documented "Thread: loop thread" (running the loop
 * included) work on this thread only, and return WEFT_ERR_WRONG_THREAD on
 * the thread that had the loop before. A no-op on the loop thread. The
 * hand-off is the program's to order: the old thread must have made its last
 * loop-thread call before this one (e.g. it passes the runtime through a
 * queue or is joined).
 * Errors: WEFT_ERR_WRONG_THREAD (the loop is running on another thread, or
 * the caller is a worker of one of the runtime's pools: work never owns the
 * loop), WEFT_ERR_CLOSED (the runtime is being destroyed).
 * Thread: any thread but the runtime's pool workers. Since 1.0. */
WEFT_API weft_status weft_loop_claim(weft_loop_t* loop);

/* Makes a running weft_loop_run return after the callback now running (or
 * at once if it is waiting); if the loop is not running, the next run
 * returns after one pass. Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_stop(weft_loop_t* loop);

/* Queues `callback(user, WEFT_OK, NULL)` to run on the loop after the callbacks
 * already queued (FIFO). Allocates nothing.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (callback NULL), WEFT_ERR_CLOSED (the
 * loop handle's scope was cancelled, or the runtime is being destroyed).
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_loop_call_soon(weft_loop_t* loop, weft_callback callback, void* user);

/* Like weft_loop_call_soon, from any thread: callbacks posted by one thread
 * run in the order posted. One wake-up serves a whole batch of posts; a
 * host polling weft_loop_backend_fd sees it readable.
 * Errors: as weft_loop_call_soon (the callback is then not called).
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_call_soon_threadsafe(weft_loop_t* loop, weft_callback callback,
                                                    void* user);

/* Arms a timer: `callback(user, WEFT_OK, NULL)` runs once the loop's clock
 * reaches now + delay_ns (never earlier; timers with the same deadline fire
 * in the order armed). If `out` is not NULL, *out receives the timer's
 * future (the caller owns a reference): it resolves with NONE when the
 * timer fires, and weft_future_cancel on it cancels the timer (the
 * callback then gets WEFT_ERR_CANCELLED, inside that call on the loop
 * thread). `callback` may be NULL if `out` is not.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (callback and out both NULL),
 * WEFT_ERR_CLOSED (the scope was cancelled), WEFT_ERR_NO_MEMORY.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_loop_call_later(weft_future_t** out, weft_loop_t* loop,
                                          uint64_t delay_ns, weft_callback callback, void* user);

/* Like weft_loop_call_later at an absolute time of the loop's clock
 * (weft_loop_now); a time in the past fires at the next iteration.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_loop_call_at(weft_future_t** out, weft_loop_t* loop, uint64_t when_ns,
                                       weft_callback callback, void* user);

/* The loop clock in nanoseconds: CLOCK_MONOTONIC's reading, or a manual
 * clock's (which starts at 0). Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_now(uint64_t* out, weft_loop_t* loop);

/* Moves a manual clock forward by `ns` and wakes the loop; timers that
 * became due fire at its next iteration.
 * Errors: WEFT_ERR_INVALID_STATE (the runtime's clock is not manual).
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_advance_clock(weft_loop_t* loop, uint64_t ns);

/* For a host with its own poll()/epoll loop: wait until this fd is readable
 * or weft_loop_backend_timeout's nanoseconds pass, then call
 * weft_loop_run(loop, WEFT_RUN_NOWAIT) (or weft_loop_run_for). Posts from
 * other threads, timers and I/O all make it readable or bound the timeout.
 * Ownership: the fd stays weft's; do not close or read it.
 * Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_loop_backend_fd(int* out, weft_loop_t* loop);

/* Nanoseconds the host may wait on the backend fd before weft needs to run
 * again: 0 when work is ready now, -1 when only an event can bring work (no
 * timer due; with a manual clock, timers never bound it). A host polling in
 * milliseconds rounds up: (*out + 999999) / 1000000.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_loop_backend_timeout(int64_t* out, weft_loop_t* loop);

/* The wait hook (weft_loop_set_wait_hook): `entering` is 1 right before the
 * loop waits, 0 right after. */
typedef void (*weft_wait_hook)(void* user, int entering);

/* For a host that holds a lock while loop callbacks run and must let it go
 * while the loop sleeps (a Python binding's GIL): hook(user, 1) runs on the
 * loop thread right before the loop gives up the CPU to wait (a kernel poll
 * with a non-zero timeout, or spinning for posts or I/O), and
 * hook(user, 0) right after the wait, before any callback runs (I/O
 * callbacks included). Calls come in strictly alternating pairs, only from
 * weft_loop_run with WEFT_RUN_DEFAULT or WEFT_RUN_ONCE (and the functions
 * that run the loop, like weft_scope_drain); WEFT_RUN_NOWAIT and
 * weft_loop_run_for never wait. No weft function may be called from the
 * hook. NULL removes it. A hook costs one more system call per wait (the
 * wait is a poll() on the backend fd, then the I/O it found is dispatched);
 * without one the loop is unchanged.
 * Errors: WEFT_ERR_WRONG_THREAD. Thread: loop thread. Since 1.1. */
WEFT_API weft_status weft_loop_set_wait_hook(weft_loop_t* loop, weft_wait_hook hook, void* user);

WEFT_EXTERN_C_END

#endif /* WEFT_LOOP_H */
