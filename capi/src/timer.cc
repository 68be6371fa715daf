#include "capi/src/timer.h"

#include <utility>

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"

namespace weft::capi {

namespace {

// What a timer's callback needs once its record is retired.
struct Due {
  weft_callback callback;
  void* user;
};

// Takes the timer out of its scope and invalidates its handle; frees the
// record unless the core still holds its fire callback (`queued`).
Due retire(TimerRec* timer, bool queued) noexcept {
  Scope* scope = timer->scope;
  Runtime& runtime = *timer->runtime;
  scope->timers.remove(timer);
  if (timer->handle != 0) runtime.arena.remove(timer->handle);
  const Due due{timer->callback, timer->user};
  if (queued) {
    timer->callback = nullptr;
  } else {
    runtime.allocator.destroy(timer);
  }
  settled(scope);
  return due;
}

// The core timer's callback: 8 bytes, stored inline in the timer heap.
struct FireTimer {
  TimerRec* timer;
  void operator()() const {
    if (timer->callback == nullptr) {  // cancelled while already queued
      timer->runtime->allocator.destroy(timer);
      return;
    }
    const Due due = retire(timer, /*queued=*/false);
    due.callback(due.user, WEFT_OK);  // inside a loop run
  }
};

}  // namespace

TimerRec* arm_timer(Scope& scope, TimePoint when, weft_callback callback, void* user, bool want_handle) {
  Runtime& runtime = scope.runtime;
  TimerRec* timer = runtime.allocator.make<TimerRec>();
  try {
    if (want_handle) timer->handle = runtime.arena.add(Kind::timer, timer);
    timer->core = runtime.loop.call_at(when, FireTimer{timer});
  } catch (...) {
    if (timer->handle != 0) runtime.arena.remove(timer->handle);
    runtime.allocator.destroy(timer);
    throw;
  }
  timer->runtime = &runtime;
  timer->scope = &scope;
  timer->callback = callback;
  timer->user = user;
  scope.timers.push_back(timer);
  return timer;
}

void cancel_timer(TimerRec* timer) {
  Runtime& runtime = *timer->runtime;
  const bool still_in_heap = timer->core.cancel();
  const Due due = retire(timer, /*queued=*/!still_in_heap);
  InCallback in_callback(runtime);  // possibly outside any loop run
  due.callback(due.user, WEFT_ERR_CANCELLED);
}

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::Kind;
using weft::capi::lookup;
using weft::capi::require;
using weft::capi::Scope;
using weft::capi::TimerRec;

namespace {

weft_status arm(const char* function, weft_timer_t** out, weft_loop_t* loop, bool relative,
                uint64_t ns, weft_callback callback, void* user) {
  return api(function, [&] {
    Scope& scope = weft::capi::loop_scope(loop, function);
    require(reinterpret_cast<const void*>(callback), "callback");
    scope.require_open(function);
    const weft::TimePoint when =
        relative ? scope.runtime.loop.time() + weft::Duration(static_cast<weft::Duration::rep>(
                                                   ns > INT64_MAX / 2 ? INT64_MAX / 2 : ns))
                 : weft::TimePoint(weft::Duration(static_cast<weft::Duration::rep>(
                       ns > INT64_MAX ? INT64_MAX : ns)));
    TimerRec* timer = weft::capi::arm_timer(scope, when, callback, user, out != nullptr);
    if (out != nullptr) *out = weft::capi::as_handle<weft_timer_t>(timer->handle);
    return WEFT_OK;
  });
}

}  // namespace

extern "C" {

WEFT_API weft_status weft_loop_call_later(weft_timer_t** out, weft_loop_t* loop, uint64_t delay_ns,
                                          weft_callback callback, void* user) {
  return arm(__func__, out, loop, /*relative=*/true, delay_ns, callback, user);
}

WEFT_API weft_status weft_loop_call_at(weft_timer_t** out, weft_loop_t* loop, uint64_t when_ns,
                                       weft_callback callback, void* user) {
  return arm(__func__, out, loop, /*relative=*/false, when_ns, callback, user);
}

WEFT_API weft_status weft_timer_cancel(weft_timer_t* timer) {
  return api(__func__, [&] {
    TimerRec& rec = lookup<TimerRec>(timer, Kind::timer, "timer");
    rec.scope->runtime.require_loop_thread("weft_timer_cancel");
    weft::capi::cancel_timer(&rec);
    return WEFT_OK;
  });
}

}  // extern "C"
