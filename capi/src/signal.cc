// weft/signal.h over weft::SignalWatcher and weft::ShutdownOnSignals
// (core/io/signal.h). Loop thread only; see io.h for how handles and pending
// operations live and end.
//
// Both kinds of handle are a SignalRec (Kind::signal_watcher): a watcher
// (weft_signal_watch), whose waits are IoOps, or a shutdown watch
// (weft_signal_shutdown), whose one callback is not an IoOp — it must not
// count as outstanding work of its scope, since it may never come — but is
// kept in the record: the core calls it on the first SIGINT/SIGTERM, and
// ending the record calls it with WEFT_ERR_CANCELLED if it has not run.
#include <csignal>
#include <functional>
#include <optional>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/io/signal.h"
#include "weft/signal.h"

namespace weft::capi {

namespace {

struct SignalRec final : IoRec {
  SignalWatcher watcher;                      // weft_signal_watch
  std::optional<ShutdownOnSignals> shutdown;  // weft_signal_shutdown
  weft_signal_callback on_shutdown = nullptr;
  void* user = nullptr;
  bool shutdown_pending = false;  // on_shutdown not yet called

  void close_core() noexcept override {
    watcher.close();
    shutdown.reset();  // no signal reaches on_shutdown from here on
    if (!shutdown_pending) return;
    shutdown_pending = false;
    InCallback in_callback(*runtime);  // inside weft_signal_close, scope cancel, ...
    invoke_callback(*runtime, [this] { on_shutdown(user, WEFT_ERR_CANCELLED, "the signal watch was closed", 0); });
  }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

SignalRec& signal_of(const void* handle, const char* function) {
  return static_cast<SignalRec&>(io_of(handle, Kind::signal_watcher, "signal", function));
}

SignalRec* new_signal_rec(Scope& scope) {
  Runtime& runtime = scope.runtime;
  auto* rec = runtime.allocator.make<SignalRec>();
  rec->runtime = &runtime;
  rec->scope = &scope;
  return rec;
}

// The core's handler for the first SIGINT/SIGTERM, from a loop run. `rec`
// is alive: ending it destroys the ShutdownOnSignals first.
void deliver_shutdown(SignalRec* rec, int signum) {
  if (!rec->shutdown_pending) return;
  rec->shutdown_pending = false;
  const weft_signal_callback callback = rec->on_shutdown;
  void* const user = rec->user;
  Runtime& runtime = *rec->runtime;
  // The callback may close the handle: `rec` is not touched after it.
  invoke_callback(runtime, [&] { callback(user, WEFT_OK, nullptr, signum); });
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_signal_watch(weft_signal_t** out, weft_loop_t* loop, int signum) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_signal_watch");
    require(out, "out");
    if (signum <= 0 || signum >= NSIG)
      weft::capi::fail(weft::Errc::invalid_argument, "not a signal number");
    if (signum == SIGKILL || signum == SIGSTOP) {
      weft::capi::fail(weft::Errc::invalid_argument, "SIGKILL and SIGSTOP cannot be watched");
    }
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::SignalWatcher watcher = weft::SignalWatcher::watch(scope.runtime.loop, signum);
    weft::capi::SignalRec* rec = weft::capi::new_signal_rec(scope);
    rec->watcher = std::move(watcher);
    *out = weft::capi::as_handle<weft_signal_t>(
        weft::capi::register_io(rec, weft::capi::Kind::signal_watcher));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_signal_wait(weft_future_t** out, weft_signal_t* handle,
                                      weft_signal_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, handle); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::SignalRec& rec = weft::capi::signal_of(handle, "weft_signal_wait");
    if (rec.shutdown)
      weft::capi::fail(weft::Errc::invalid_argument, "a shutdown watch has no waits");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_io_op(
        *rec.scope, *rec.runtime, &rec, "signal wait", [&] { return rec.watcher.wait(); }, out, callback != nullptr,
        [callback, user](weft::Result<int>& result, weft::capi::OpFuture& output) {
          if (!result.ok()) return weft::capi::deliver_failure(result, output, callback, user, 0);
          output.complete(WEFT_OK, nullptr, weft::capi::Value::int64(result.value()));
          if (callback != nullptr) callback(user, WEFT_OK, nullptr, result.value());
        },
        [callback, user](weft::capi::OpFuture& output, const char* why) {
          output.fail(WEFT_ERR_CANCELLED, why);
          if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, 0);
        });
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_signal_close(weft_signal_t* handle) {
  if (handle == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, handle); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::signal_of(handle, "weft_signal_close"));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_signal_shutdown(weft_signal_t** out, weft_loop_t* loop,
                                          weft_signal_callback callback, void* user) {
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_signal_shutdown");
    require(out, "out");
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::Runtime& runtime = scope.runtime;
    weft::capi::SignalRec* rec = weft::capi::new_signal_rec(scope);
    try {
      std::function<void(int)> on_shutdown;  // empty: the core stops the loop
      if (callback != nullptr) {
        on_shutdown = [rec](int signum) { weft::capi::deliver_shutdown(rec, signum); };
      }
      rec->shutdown.emplace(runtime.loop, std::move(on_shutdown));
    } catch (...) {
      rec->destroy();
      throw;
    }
    rec->on_shutdown = callback;
    rec->user = user;
    rec->shutdown_pending = callback != nullptr;
    *out = weft::capi::as_handle<weft_signal_t>(
        weft::capi::register_io(rec, weft::capi::Kind::signal_watcher));
    return WEFT_OK;
  });
}

}  // extern "C"
