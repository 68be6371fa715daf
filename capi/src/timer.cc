#include "capi/src/timer.h"

#include <utility>

#include "capi/src/guard.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"

namespace weft::capi {

namespace {

// What a timer's outcome needs once its record is retired.
struct Due {
  weft_callback callback;
  void* user;
  OpFuture output;
};

// Takes the timer out of its scope; frees the record unless the core still
// holds its fire callback (`queued`).
Due retire(TimerRec* timer, bool queued) noexcept {
  Scope* scope = timer->scope;
  Runtime& runtime = *timer->runtime;
  scope->timers.remove(timer);
  Due due{timer->callback, timer->user, std::move(timer->output)};
  if (queued) {
    timer->retired = true;
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
    if (timer->retired) {  // cancelled while already queued
      timer->runtime->allocator.destroy(timer);
      return;
    }
    Due due = retire(timer, /*queued=*/false);
    due.output.complete(WEFT_OK, nullptr);
    if (due.callback != nullptr) due.callback(due.user, WEFT_OK, nullptr);  // inside a loop run
  }
};

}  // namespace

TimerRec* arm_timer(Scope& scope, TimePoint when, weft_callback callback, void* user,
                    weft_future_t** out) {
  Runtime& runtime = scope.runtime;
  TimerRec* timer = runtime.allocator.make<TimerRec>();
  weft_future_t* handle = nullptr;
  try {
    handle = timer->output.attach(scope, timer, out != nullptr, callback != nullptr);
    timer->core = runtime.loop.call_at(when, FireTimer{timer});
  } catch (...) {
    timer->output.abandon();
    runtime.allocator.destroy(timer);
    throw;
  }
  if (out != nullptr) *out = handle;
  timer->runtime = &runtime;
  timer->scope = &scope;
  timer->callback = callback;
  timer->user = user;
  scope.timers.push_back(timer);
  return timer;
}

void cancel_timer(TimerRec* timer, const char* why) noexcept {
  Runtime& runtime = *timer->runtime;
  const bool still_in_heap = timer->core.cancel();
  Due due = retire(timer, /*queued=*/!still_in_heap);
  due.output.fail(WEFT_ERR_CANCELLED, why);
  if (due.callback == nullptr) return;
  InCallback in_callback(runtime);  // possibly outside any loop run
  try {
    due.callback(due.user, WEFT_ERR_CANCELLED, why);
  } catch (...) {
    runtime.loop.report({ExceptionContext::Kind::callback_exception, "exception in a timer callback",
                         std::current_exception(), Duration(0)});
  }
}

void TimerRec::on_output_cancelled() noexcept {
  if (!retired) cancel_timer(this, "the timer's scope was cancelled");
}

bool TimerRec::on_cancel_requested() noexcept {
  if (retired) return false;
  cancel_timer(this);
  return true;
}

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::Kind;
using weft::capi::lookup;
using weft::capi::require;
using weft::capi::Scope;
using weft::capi::TimerRec;

namespace {

weft_status arm(const char* function, weft_future_t** out, weft_loop_t* loop, bool relative,
                uint64_t ns, weft_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(function, loop); s != WEFT_OK) return s;
  if (callback == nullptr && out == nullptr) {
    // The body's next check, once it has checked the thread (precheck.h).
    weft::capi::HandleError error = weft::capi::HandleError::none;
    if (static_cast<Scope*>(weft::capi::lookup_handle(loop, Kind::loop, error))->runtime.on_loop_thread()) {
      return weft::capi::reject(function, weft::Errc::invalid_argument, "callback and out are both NULL");
    }
  }
  return api(function, [&] {
    Scope& scope = weft::capi::loop_scope(loop, function);
    if (callback == nullptr && out == nullptr) {
      weft::capi::fail(weft::Errc::invalid_argument, "callback and out are both NULL");
    }
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    const weft::TimePoint when =
        relative ? scope.runtime.loop.time() + weft::Duration(static_cast<weft::Duration::rep>(
                                                   ns > INT64_MAX / 2 ? INT64_MAX / 2 : ns))
                 : weft::TimePoint(weft::Duration(static_cast<weft::Duration::rep>(
                       ns > INT64_MAX ? INT64_MAX : ns)));
    weft::capi::arm_timer(scope, when, callback, user, out);
    return WEFT_OK;
  });
}

}  // namespace

extern "C" {

WEFT_API weft_status weft_loop_call_later(weft_future_t** out, weft_loop_t* loop, uint64_t delay_ns,
                                          weft_callback callback, void* user) {
  return arm(__func__, out, loop, /*relative=*/true, delay_ns, callback, user);
}

WEFT_API weft_status weft_loop_call_at(weft_future_t** out, weft_loop_t* loop, uint64_t when_ns,
                                       weft_callback callback, void* user) {
  return arm(__func__, out, loop, /*relative=*/false, when_ns, callback, user);
}

}  // extern "C"
