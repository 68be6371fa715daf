// weft::capi timers: the record behind a weft_timer_t, armed on the core
// loop's timer heap. Loop thread only.
//
// A timer is in its scope's `timers` list from arming until its callback is
// called: by the loop when it fires (WEFT_OK), or by cancel_timer (WEFT_ERR_
// CANCELLED), which weft_timer_cancel, scope cancellation and runtime
// teardown use. Its handle (made only if the caller asked for one) goes stale
// at that moment, and the record is freed before the callback runs — except
// when the timer is cancelled after it expired but before its turn came (the
// loop moves every expired timer to the ready queue at once, so a callback
// of that pass may cancel a later one): the core then still holds the fire
// callback, which finds `callback` cleared and only frees the record.
#pragma once

#include <cstdint>

#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "core/loop/loop.h"
#include "weft/loop.h"

namespace weft::capi {

struct Runtime;
struct Scope;

struct TimerRec {
  Runtime* runtime = nullptr;
  Scope* scope = nullptr;
  weft_callback callback = nullptr;
  void* user = nullptr;
  TimerHandle core;
  HandleBits handle = 0;
  ListHook scope_hook;
};

// Arms a timer at `when` (loop clock) in `scope`. Returns the record (its
// handle if `want_handle`). Throws std::bad_alloc.
TimerRec* arm_timer(Scope& scope, TimePoint when, weft_callback callback, void* user,
                    bool want_handle);

// Cancels a pending timer: frees it, then calls its callback with
// WEFT_ERR_CANCELLED.
void cancel_timer(TimerRec* timer);

}  // namespace weft::capi
