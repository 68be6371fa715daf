// The loop functions of the C API: running, call_soon (loop thread and any
// thread), the clock and the backend fd. Timers are in timer.cc.
#include <cstdio>
#include <cstring>

#include "capi/src/executor.h"
#include "capi/src/guard.h"
#include "capi/src/ns.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/loop/loop_access.h"
#include "weft/loop.h"

namespace weft::capi {

namespace {

const char* const kScopeWasCancelled = "the callback's scope was cancelled";

// A call_soon callback in the core's ready queue: 24 bytes, stored inline.
// The count comes down before the callback runs (it may destroy the scope).
// It runs inside a loop run, so the core refuses a run from inside it.
struct SoonCallback {
  Scope* scope;
  weft_callback callback;
  void* user;
  void operator()() const {
    Scope* s = scope;
    --s->queued;
    const bool cancelled = s->cancelled.load(std::memory_order_relaxed);
    settled(s);
    if (cancelled) [[unlikely]] {
      callback(user, WEFT_ERR_CANCELLED, kScopeWasCancelled);
    } else {
      callback(user, WEFT_OK, nullptr);
    }
  }
};

// The same, posted from another thread.
struct RemoteCallback {
  Scope* scope;
  weft_callback callback;
  void* user;
  void operator()() const {
    Scope* s = scope;
    s->remote.fetch_sub(1, std::memory_order_relaxed);
    const bool cancelled = s->cancelled.load(std::memory_order_relaxed);
    settled(s);
    if (cancelled) [[unlikely]] {
      callback(user, WEFT_ERR_CANCELLED, kScopeWasCancelled);
    } else {
      callback(user, WEFT_OK, nullptr);
    }
  }
};

// weft_loop_call_soon's hot path: the checked path's checks in its order
// (handle, callback, thread, open scope, open loop), with nothing built for
// a failure and nothing allocated. False sends the call to the checked path,
// which makes the same checks again and says what failed, or grows the
// ready queue when its chunk is full.
inline bool call_soon_fast(weft_loop_t* loop, weft_callback callback, void* user) noexcept {
  HandleError error = HandleError::none;
  auto* scope = static_cast<Scope*>(lookup_handle(loop, Kind::loop, error));
  if (scope == nullptr || callback == nullptr) [[unlikely]] return false;
  if (!scope->runtime.on_loop_thread() || scope->cancelled.load(std::memory_order_relaxed)) [[unlikely]] {
    return false;
  }
  if (!weft::detail::LoopAccess::try_call_soon(scope->runtime.loop, SoonCallback{scope, callback, user}))
      [[unlikely]] {
    return false;
  }
  ++scope->queued;
  return true;
}

}  // namespace

// The checked path of weft_loop_call_soon (see call_soon_fast).
[[gnu::noinline]] weft_status call_soon_checked(weft_loop_t* loop, weft_callback callback, void* user) noexcept {
  if (const weft_status s = check("weft_loop_call_soon", loop); s != WEFT_OK) return s;
  return api("weft_loop_call_soon", [&] {
    Scope& scope = loop_scope(loop, "weft_loop_call_soon");
    require(reinterpret_cast<const void*>(callback), "callback");
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    scope.runtime.loop.call_soon(SoonCallback{&scope, callback, user});
    ++scope.queued;  // after the push, which may throw
    return WEFT_OK;
  });
}

// weft_loop_run's checks after the loop handle's (precheck.h), without
// throwing: on the loop thread, a run from inside a callback
// (require_not_in_callback's failure) and a mode that is not a
// weft_run_mode. WEFT_OK when they pass, or when the body must make them
// itself (another thread: it fails with wrong_thread first). `mode` by
// reference: a C caller's may be no enumerator, which loading as the enum
// would be undefined (raw_enum reads its bits).
weft_status check_run(weft_loop_t* loop, const weft_run_mode& mode) noexcept {
  HandleError error = HandleError::none;
  auto* scope = static_cast<Scope*>(lookup_handle(loop, Kind::loop, error));
  if (scope == nullptr || !scope->runtime.on_loop_thread()) return WEFT_OK;
  Runtime& runtime = scope->runtime;
  if (runtime.callback_depth > 0 || runtime.loop.is_running()) [[unlikely]] {
    return reject_reentrant_run("weft_loop_run");
  }
  const int raw = raw_enum(mode);
  if (raw != WEFT_RUN_DEFAULT && raw != WEFT_RUN_ONCE && raw != WEFT_RUN_NOWAIT) [[unlikely]] {
    char message[64];
    std::snprintf(message, sizeof message, "weft_loop_run: mode %d is not a weft_run_mode", raw);
    return reject("weft_loop_run", Errc::invalid_argument, message);
  }
  return WEFT_OK;
}

}  // namespace weft::capi

using weft::Errc;
using weft::capi::api;
using weft::capi::fail;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_loop_runtime(weft_runtime_t** out, weft_loop_t* loop) {
  return api(__func__, [&] {
    require(out, "out");
    *out = weft::capi::loop_scope_any_thread(loop).runtime.c_handle();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_run(weft_loop_t* loop, weft_run_mode mode) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  if (const weft_status s = weft::capi::check_run(loop, mode); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::Runtime& runtime = weft::capi::loop_scope(loop, "weft_loop_run").runtime;
    weft::Loop& core = runtime.loop;
    weft::capi::require_not_in_callback(runtime, "weft_loop_run");
    const int raw = weft::capi::raw_enum(mode);
    switch (raw) {
      case WEFT_RUN_DEFAULT:
        core.run();
        return WEFT_OK;
      case WEFT_RUN_ONCE:
        core.run_once();
        return WEFT_OK;
      case WEFT_RUN_NOWAIT:
        core.poll();
        return WEFT_OK;
      default:
        break;
    }
    fail(Errc::invalid_argument, "weft_loop_run: mode " + std::to_string(raw) + " is not a weft_run_mode");
  });
}

WEFT_API weft_status weft_loop_claim(weft_loop_t* loop) {
  return api(__func__, [&] {
    weft::capi::Runtime& runtime = weft::capi::loop_scope_any_thread(loop).runtime;
    if (runtime.on_loop_thread()) return WEFT_OK;
    if (weft::capi::on_runtime_worker(runtime)) {
      fail(Errc::wrong_thread, "called from a worker of one of the runtime's pools (work never owns the loop)");
    }
    if (runtime.destroying.load(std::memory_order_relaxed)) {
      fail(Errc::closed, "the runtime is being destroyed");
    }
    runtime.move_loop_here();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_run_for(weft_run_report* out, weft_loop_t* loop, uint64_t budget_ns) {
  return api(__func__, [&] {
    if (out != nullptr) {
      weft::capi::check_out_struct_size(out->struct_size, sizeof(weft_run_report), "out");
    }
    weft::capi::Runtime& runtime = weft::capi::loop_scope(loop, "weft_loop_run_for").runtime;
    weft::Loop& core = runtime.loop;
    weft::capi::require_not_in_callback(runtime, "weft_loop_run_for");
    const auto budget = budget_ns > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                                     : static_cast<int64_t>(budget_ns);
    const weft::RunReport r = core.run_for(weft::Duration(budget));
    if (out != nullptr) {
      out->ran = r.ran;
      out->ready = r.ready;
      out->has_next_timer = r.next_timer.has_value() ? 1 : 0;
      out->next_timer_ns = r.next_timer ? weft::capi::to_ns(*r.next_timer) : 0;
      out->stopped = r.stopped ? 1 : 0;
    }
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_stop(weft_loop_t* loop) {
  return api(__func__, [&] {
    weft::capi::loop_scope_any_thread(loop).runtime.loop.stop();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_call_soon(weft_loop_t* loop, weft_callback callback, void* user) {
  if (weft::capi::call_soon_fast(loop, callback, user)) [[likely]] return WEFT_OK;
  return weft::capi::call_soon_checked(loop, callback, user);
}

WEFT_API weft_status weft_loop_call_soon_threadsafe(weft_loop_t* loop, weft_callback callback,
                                                    void* user) {
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope_any_thread(loop);
    require(reinterpret_cast<const void*>(callback), "callback");
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    // Counted before the post: the loop may run it before this returns.
    scope.remote.fetch_add(1, std::memory_order_relaxed);
    bool posted = false;
    try {
      posted = scope.runtime.loop.call_soon_threadsafe(weft::capi::RemoteCallback{&scope, callback, user});
    } catch (...) {
      scope.remote.fetch_sub(1, std::memory_order_relaxed);
      throw;
    }
    if (!posted) {
      scope.remote.fetch_sub(1, std::memory_order_relaxed);
      fail(Errc::closed, "weft_loop_call_soon_threadsafe: the runtime is being destroyed");
    }
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_now(uint64_t* out, weft_loop_t* loop) {
  return api(__func__, [&] {
    require(out, "out");
    *out = weft::capi::to_ns(weft::capi::loop_scope_any_thread(loop).runtime.loop.time());
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_advance_clock(weft_loop_t* loop, uint64_t ns) {
  return api(__func__, [&] {
    weft::capi::Runtime& runtime = weft::capi::loop_scope_any_thread(loop).runtime;
    if (!runtime.manual_clock) {
      fail(Errc::invalid_state, "weft_loop_advance_clock: the runtime's clock is not WEFT_CLOCK_MANUAL");
    }
    runtime.manual_clock->advance(
        weft::Duration(ns > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(ns)));
    runtime.loop.wake();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_backend_fd(int* out, weft_loop_t* loop) {
  return api(__func__, [&] {
    require(out, "out");
    *out = weft::capi::loop_scope_any_thread(loop).runtime.loop.backend_fd();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_backend_timeout(int64_t* out, weft_loop_t* loop) {
  return api(__func__, [&] {
    require(out, "out");
    const int ms = weft::capi::loop_scope(loop, "weft_loop_backend_timeout").runtime.loop.backend_timeout();
    *out = ms < 0 ? -1 : static_cast<int64_t>(ms) * 1000000;
    return WEFT_OK;
  });
}

}  // extern "C"

extern "C" {

WEFT_API weft_status weft_loop_set_wait_hook(weft_loop_t* loop, weft_wait_hook hook, void* user) {
  return api(__func__, [&] {
    weft::capi::loop_scope(loop, "weft_loop_set_wait_hook").runtime.loop.set_wait_hook(hook, user);
    return WEFT_OK;
  });
}

}  // extern "C"
