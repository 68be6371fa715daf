#include "capi/src/scope.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <new>
#include <string>

#include "capi/src/guard.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "weft/scope.h"

namespace weft::capi {

Scope::Scope(Runtime& runtime, std::string_view name, bool root)
    : runtime(runtime), name(runtime.allocator, name), root(root) {}

void Scope::fail_closed(const char* function) const {
  static constexpr const char* kFormat = "%s: the scope \"%s\" was cancelled, or its runtime is being destroyed";
  char message[256];  // on the stack unless the scope's name is long
  const int n = std::snprintf(message, sizeof message, kFormat, function, name.c_str());
  if (n >= 0 && static_cast<std::size_t>(n) < sizeof message) fail(Errc::closed, message);
  fail(Errc::closed, std::string(function) + ": the scope \"" + name.c_str() +
                         "\" was cancelled, or its runtime is being destroyed");
}

void Scope::cancel() noexcept {
  cancelled.store(true, std::memory_order_seq_cst);
  if (cancel_done) return;
  cancel_done = true;
  // While callbacks run below, one of them may destroy this scope: keep it.
  ++busy;
  // Callbacks are called inside these loops and may touch the lists, so each
  // round takes the front again. Nothing new is added: the scope is closed.
  while (TimerRec* timer = timers.front()) cancel_timer(timer);
  while (Registration* r = registrations.front()) r->future->cancel_registration(r);
  // Inline callbacks sit in futures this scope created (a callback cannot
  // take a future off that list: only a dispatch or teardown does).
  if (inline_callbacks != 0) futures.for_each([](CFuture* future) { future->cancel_inline_callback(); });
  while (IoOp* op = io_ops.front()) cancel_io_op(op, kOpScopeCancelled);
  while (IoRec* rec = io.front()) end_io(rec, kOpScopeCancelled);
  // Cancelling a future runs no user code here: its continuation is queued.
  futures.for_each([](CFuture* future) { future->cancel(); });
  --busy;
  settled(this);
}

void free_zombie_if_settled(Scope* scope) noexcept {
  // During runtime teardown every scope is freed at the end, in one place.
  if (scope->busy != 0 || scope->outstanding() != 0 ||
      scope->runtime.destroying.load(std::memory_order_relaxed)) {
    return;
  }
  Runtime& runtime = scope->runtime;
  runtime.scopes.remove(scope);
  runtime.allocator.destroy(scope);
}

Scope* create_scope(Runtime& runtime, std::string_view name, bool root) {
  Scope* scope = runtime.allocator.make<Scope>(runtime, name, root);
  try {
    scope->handle = runtime.arena.add(Kind::scope, scope);
    scope->loop_handle = runtime.arena.add(Kind::loop, scope);
  } catch (...) {
    if (scope->handle != 0) runtime.arena.remove(scope->handle);
    runtime.allocator.destroy(scope);
    throw;
  }
  runtime.scopes.push_back(scope);
  return scope;
}

void destroy_scope(Scope* scope) noexcept {
  // Busy throughout: a callback that cancel() calls may destroy this same
  // scope (then the handles are gone already), and must not free it under us.
  ++scope->busy;
  scope->cancel();
  if (!scope->destroyed) {
    Runtime& runtime = scope->runtime;
    runtime.arena.remove(scope->handle);
    runtime.arena.remove(scope->loop_handle);
    scope->handle = scope->loop_handle = 0;
    scope->destroyed = true;
  }
  --scope->busy;
  settled(scope);
}

void free_scope(Scope* scope) noexcept {
  Runtime& runtime = scope->runtime;
  if (scope->handle != 0) runtime.arena.remove(scope->handle);
  if (scope->loop_handle != 0) runtime.arena.remove(scope->loop_handle);
  runtime.scopes.remove(scope);
  runtime.allocator.destroy(scope);
}

namespace {

Scope& scope_of(weft_scope_t* scope, const char* function) {
  Scope& s = lookup<Scope>(scope, Kind::scope, "scope");
  s.runtime.require_loop_thread(function);
  return s;
}

// weft_scope_drain's loop: run what is ready, wait on the backend fd when
// nothing is (work finishing on a pool posts to the loop, which makes the fd
// readable), until the scope has nothing outstanding or the time is up.
weft_status drain(Scope& scope, std::uint64_t timeout_ns, std::size_t* stragglers) {
  using Clock = std::chrono::steady_clock;
  constexpr Clock::duration kDrainSlice = std::chrono::milliseconds(1);
  Loop& loop = scope.runtime.loop;
  const auto deadline =
      Clock::now() + std::chrono::nanoseconds(timeout_ns > INT64_MAX / 2 ? INT64_MAX / 2 : timeout_ns);
  ++scope.busy;  // a callback may destroy the scope while we look at it
  weft_status status = WEFT_OK;
  try {
    while (scope.outstanding() != 0) {
      const auto now = Clock::now();
      if (now >= deadline) {
        status = WEFT_ERR_TIMED_OUT;
        break;
      }
      // Short slices: other scopes' callbacks may keep the loop busy after
      // this one has settled.
      const RunReport report = loop.run_for(std::min<Clock::duration>(deadline - now, kDrainSlice));
      if (report.ready != 0 || scope.outstanding() == 0) continue;
      // Nothing ready: wait for a post, I/O or the next timer.
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      int timeout = loop.backend_timeout();
      if (timeout < 0 || timeout > left) timeout = static_cast<int>(left > 0 ? left : 0);
      pollfd fd{loop.backend_fd(), POLLIN, 0};
      ::poll(&fd, 1, timeout);
    }
  } catch (...) {
    --scope.busy;
    throw;
  }
  if (stragglers != nullptr) *stragglers = scope.outstanding();
  --scope.busy;
  settled(&scope);
  return status;
}

}  // namespace

}  // namespace weft::capi

using weft::Errc;
using weft::capi::api;
using weft::capi::fail;
using weft::capi::lookup;
using weft::capi::require;
using weft::capi::Runtime;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_scope_create(weft_scope_t** out, weft_runtime_t* runtime, const char* name) {
  return api(__func__, [&] {
    require(out, "out");
    Runtime& rt = lookup<Runtime>(runtime, weft::capi::Kind::runtime, "runtime");
    rt.require_loop_thread("weft_scope_create");
    if (rt.destroying.load(std::memory_order_relaxed)) {
      fail(Errc::closed, "weft_scope_create: the runtime is being destroyed");
    }
    Scope* scope = weft::capi::create_scope(rt, name != nullptr ? name : "scope", /*root=*/false);
    *out = weft::capi::as_handle<weft_scope_t>(scope->handle);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_scope_loop(weft_loop_t** out, weft_scope_t* scope) {
  return api(__func__, [&] {
    require(out, "out");
    *out = lookup<Scope>(scope, weft::capi::Kind::scope, "scope").c_loop();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_loop_scope(weft_scope_t** out, weft_loop_t* loop) {
  return api(__func__, [&] {
    require(out, "out");
    *out = weft::capi::as_handle<weft_scope_t>(weft::capi::loop_scope_any_thread(loop).handle);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_scope_cancel(weft_scope_t* scope) {
  if (const weft_status s = weft::capi::check(__func__, scope); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::scope_of(scope, "weft_scope_cancel").cancel();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_scope_drain(size_t* out, weft_scope_t* scope, uint64_t timeout_ns) {
  if (const weft_status s = weft::capi::check(__func__, scope); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& s = weft::capi::scope_of(scope, "weft_scope_drain");
    weft::capi::require_not_in_callback(s.runtime, "weft_scope_drain");
    return weft::capi::drain(s, timeout_ns, out);
  });
}

WEFT_API weft_status weft_scope_destroy(weft_scope_t* scope) {
  if (scope == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, scope); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& s = weft::capi::scope_of(scope, "weft_scope_destroy");
    if (s.root) fail(Errc::invalid_argument, "weft_scope_destroy: the root scope lives as long as its runtime");
    weft::capi::destroy_scope(&s);
    return WEFT_OK;
  });
}

}  // extern "C"
