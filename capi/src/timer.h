// weft::capi timers: the record behind weft_loop_call_later/call_at, armed
// on the core loop's timer heap. Loop thread only.
//
// A timer is in its scope's `timers` list from arming until its outcome is
// delivered: by the loop when it fires (WEFT_OK), or by cancel_timer (WEFT_ERR_
// CANCELLED), which weft_future_cancel on the timer's future, scope
// cancellation and runtime teardown use. Its future (made only if the caller
// asked for one: op_future.h) completes at that moment, just before the
// callback runs, and the record is freed before the callback runs — except
// when the timer is cancelled after it expired but before its turn came (the
// loop moves every expired timer to the ready queue at once, so a callback
// of that pass may cancel a later one): the core then still holds the fire
// callback, which finds `retired` set and only frees the record.
#pragma once

#include <cstdint>

#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "capi/src/op_future.h"
#include "core/loop/loop.h"
#include "weft/loop.h"

namespace weft::capi {

struct Runtime;
struct Scope;

struct TimerRec final : Producer {
  Runtime* runtime = nullptr;
  Scope* scope = nullptr;
  weft_callback callback = nullptr;
  void* user = nullptr;
  TimerHandle core;
  OpFuture output;
  bool retired = false;  // cancelled while the core still held its fire callback
  ListHook scope_hook;

  void on_output_cancelled() noexcept override;
  bool on_cancel_requested() noexcept override;
};

// Arms a timer at `when` (loop clock) in `scope`; if `out` is not NULL,
// *out receives its future. Returns the record. Throws std::bad_alloc
// (nothing armed, *out untouched).
TimerRec* arm_timer(Scope& scope, TimePoint when, weft_callback callback, void* user,
                    weft_future_t** out);

// Cancels a pending timer: frees it, then completes its future and calls
// its callback with WEFT_ERR_CANCELLED and `why`.
void cancel_timer(TimerRec* timer, const char* why = "the timer was cancelled") noexcept;

}  // namespace weft::capi
