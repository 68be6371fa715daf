// weft::detail::LoopAccess: the Loop's internal hooks, for the layers built
// on it — tasks and generators (core/task, core/generator), futures
// (core/future), I/O objects (core/io) and the C API (capi/src). Users call
// Loop's public members; these stay out of its surface (Loop befriends this
// class, as streams befriend StreamAccess).
//
// Each hook forwards to the loop. Thread: the loop's thread, except where a
// hook says "any thread".
#pragma once

#include <uv.h>

#include <cstdint>

#include "core/clock/clock.h"
#include "core/future/shared_state.h"
#include "core/loop/loop.h"
#include "core/loop/task_registry.h"
#include "core/timer/timer_node.h"

namespace weft::detail {

struct LoopAccess {
  // --- tasks and generators (core/task, core/generator) ----------------------
  // A spawned task joins the loop's list (Loop::tasks, shutdown, close) until
  // it finishes.
  static void register_task(Loop& loop, TaskNode& task) noexcept { loop.register_task(task); }
  static void unregister_task(Loop& loop, TaskNode& task) noexcept { loop.unregister_task(task); }
  // Queues a step of a task (its run_queued: a spawned task's first step, a
  // yield's resume) as an object record. Loop thread; throws like call_soon.
  static void queue_task_step(Loop& loop, TaskNode& task) { loop.queue_object(&task); }
  // The id of the next task spawned on `loop` (1, 2, ...).
  static std::uint32_t next_task_id(Loop& loop) noexcept { return loop.next_task_id(); }
  // A started async generator joins the loop's list (shutdown_generators,
  // close) until it finishes.
  static void register_generator(Loop& loop, GeneratorNode& generator) noexcept {
    loop.register_generator(generator);
  }
  static void unregister_generator(Loop& loop, GeneratorNode& generator) noexcept {
    loop.unregister_generator(generator);
  }
  // A finaliser started by shutdown_generators() has finished.
  static void generator_finalized(Loop& loop) noexcept { loop.generator_finalized(); }

  // --- intrusive timers (sleep, time limits, task sets) ----------------------
  // Arms `node`: its fire function runs during the loop's timer pass, as a
  // callback timer's callback would be queued. Throws on a closed loop.
  static void arm_timer_node(Loop& loop, TimerNode& node, TimePoint when) {
    loop.arm_timer_node(node, when);
  }
  // Disarms it; returns whether it was still armed.
  static bool cancel_timer_node(Loop& loop, TimerNode& node) noexcept {
    return loop.cancel_timer_node(node);
  }

  // --- I/O objects (core/io, capi/src) ---------------------------------------
  // The libuv loop under `loop`, for handles built on it. Loop::close()
  // closes whatever is still open on it.
  static uv_loop_t* uv_loop(Loop& loop) noexcept { return loop.uv_loop(); }
  // A stream read more than 64 KiB at once (a peer streams data): the
  // loop's next wait sleeps without spinning for I/O first
  // (Loop::kIoSpinBeforeSleep). Called by StreamImpl; loop thread.
  static void note_bulk_read(Loop& loop) noexcept { loop.note_bulk_read(); }
  // Registers an object Loop::close() must close if it is still open.
  // Harmless if already attached.
  static void attach_resource(Loop& loop, LoopResource* resource) noexcept {
    loop.attach_resource(resource);
  }
  // Unregisters it (it closed by itself). Harmless if not attached.
  static void detach_resource(Loop& loop, LoopResource* resource) noexcept {
    loop.detach_resource(resource);
  }

  // --- the C API's fast paths (capi/src) -------------------------------------
  // call_soon that neither allocates nor throws: false if the loop is closed
  // or its ready queue needs a new chunk (the caller then takes the checked
  // path). Loop thread, checked by the caller.
  template <class F>
  static bool try_call_soon(Loop& loop, F&& f) noexcept {
    return loop.try_call_soon(std::forward<F>(f));
  }

  // --- futures (core/future, capi/src) ---------------------------------------
  // Registers a C++ future whose continuation waits on `loop`: run() keeps
  // going for it, close() cancels it. Into the loop's set of pending
  // futures, in the entry its continuation's reservation made there (so it
  // cannot fail); once per reservation.
  static void track_future(Loop& loop, StateBase* state) noexcept { loop.track_future(state); }
  // The same for a state with links of its own (the C API's futures): needs
  // no reservation, and may come and go.
  static void track_listed_future(Loop& loop, ListedState* state) noexcept {
    loop.track_listed_future(state);
  }
  // Harmless if not tracked.
  static void untrack_future(Loop& loop, StateBase* state) noexcept { loop.untrack_future(state); }
  // Loop thread of `loop`, before a continuation is published: makes room in
  // the ready queue for it, so that scheduling it when the future completes
  // (a path that cannot fail) allocates nothing, and an entry in the loop's
  // set of pending futures, for track_future. Throws std::bad_alloc with
  // nothing reserved. The queue room is used up when the continuation is
  // queued (or given back by the loop when it arrives through the inbox), the
  // entry when the future is tracked.
  static void reserve_continuation(Loop& loop) { loop.reserve_continuation(); }
  // Gives back a reservation whose continuation will not be published (or
  // whose future will not be tracked: the C++ futures' are).
  static void release_continuation(Loop& loop) noexcept { loop.release_continuation(); }
  // The same for a ListedState's continuation: the queue room only.
  static void reserve_listed_continuation(Loop& loop) { loop.reserve_continuation(false); }
  static void release_listed_continuation(Loop& loop) noexcept { loop.release_continuation(false); }
  // Queues a future's continuation to run on `loop`, from another thread
  // (through the inbox).
  static void post_continuation(Loop& loop, StateBase* state) { loop.post_continuation(state); }
  // The same from `loop`'s own thread (the caller knows it is there).
  static void schedule_continuation_here(Loop& loop, StateBase* state) {
    loop.schedule_continuation_here(state);
  }
  // The same, but the continuation runs now, before this returns, when this
  // thread is running `loop` and no more than kMaxContinuationsNow such runs
  // are nested here (a continuation that completes another future this way);
  // otherwise, or in debug mode (whose callbacks are timed) or once stop()
  // was asked for, it is queued as by schedule_continuation_here. An
  // exception from it is reported as a callback's would be.
  static constexpr int kMaxContinuationsNow = 2;
  static void run_continuation_here(Loop& loop, StateBase* state) noexcept {
    loop.run_continuation_here(state);
  }
  // A continuation attached to a future that was already complete, from
  // inside a continuation that run_continuation_here is running now (an
  // I/O callback's reader, say): it runs right after that one returns,
  // before run_continuation_here does — still inside the I/O callback, never
  // inside the call that attached it. At most kMaxContinuationsAfterNow of
  // them per continuation run now (those they attach in turn included);
  // beyond that, outside a continuation run now, off the loop's
  // thread, in debug mode or once stop() was asked for, it is queued as by
  // schedule_continuation_here.
  static constexpr int kMaxContinuationsAfterNow = 4;
  static void run_after_continuation_now(Loop& loop, StateBase* state) noexcept {
    loop.run_after_continuation_now(state);
  }
};

}  // namespace weft::detail
