// weft::capi::Runtime: the object behind a weft_runtime_t — one loop, its
// clock, its default pool, its scopes and executors, its handle arena and its
// allocator.
//
// Construction order is the members' order: the allocator first (the
// runtime itself lives in it), the clock before the loop, the loop before the
// arena (whose owner thread is the loop's). Teardown (weft_runtime_destroy)
// is spelled out in runtime.cc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

#include "capi/src/alloc.h"
#include "capi/src/executor.h"
#include "capi/src/guard.h"
#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "capi/src/scope.h"
#include "core/clock/clock.h"
#include "core/loop/loop.h"
#include "weft/diagnostics.h"
#include "weft/runtime.h"

namespace weft::capi {

struct Runtime {
  explicit Runtime(const weft_runtime_options& options);

  Allocator allocator;
  std::optional<ManualClock> manual_clock;
  Loop loop;
  HandleArena arena;
  Text name;
  HandleBits handle = 0;

  Scope* root = nullptr;
  List<Scope, &Scope::runtime_hook> scopes;  // loop thread

  std::mutex executors_mutex;
  List<CExecutor, &CExecutor::runtime_hook> executors;  // guarded by executors_mutex
  CExecutor* default_pool = nullptr;

  weft_error_handler error_handler = nullptr;  // loop thread
  void* error_user = nullptr;

  // How deep the loop thread is inside user callbacks weft calls outside a
  // loop run: from a C API call that cancels (weft_timer_cancel, scope
  // cancel and destroy, runtime destroy) and the error handler. While > 0
  // (or while the loop runs: the core knows about the callbacks it runs),
  // running the loop, draining a scope or destroying the runtime is refused.
  int callback_depth = 0;  // loop thread

  // Set when weft_runtime_destroy starts: everything refuses new work.
  std::atomic<bool> destroying{false};

 private:
  static const void* this_thread_pointer() noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
    return __builtin_thread_pointer();
#else
    return &thread_marker_;
#endif
  }
#if !(defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__)))
  static thread_local char thread_marker_;
#endif
  mutable std::atomic<const void*> loop_thread_{nullptr};

 public:

  // Counters (loop thread unless atomic).
  std::uint64_t futures_created = 0;
  // Futures whose handle is in the arena (weft_stats.futures_alive): a
  // future is freed on whichever thread drops its last reference.
  std::atomic<std::size_t> futures_alive{0};
  std::uint64_t work_submitted = 0;
  std::uint64_t errors_reported = 0;

  weft_runtime_t* c_handle() const noexcept { return as_handle<weft_runtime_t>(handle); }

  // Whether the calling thread is the loop thread. The fast path compares
  // the thread pointer with the one cached at the last successful check; the
  // loop moves to another thread only through move_loop_here, which caches
  // the new thread, so the cache is never stale.
  bool on_loop_thread() const noexcept {
    const void* self = this_thread_pointer();
    if (self == loop_thread_.load(std::memory_order_relaxed)) [[likely]] return true;
    if (!loop.in_loop_thread()) return false;
    loop_thread_.store(self, std::memory_order_relaxed);
    return true;
  }
  // Makes the calling thread the loop thread (weft_loop_claim); throws
  // wrong_thread while the loop runs on another thread.
  void move_loop_here() {
    loop.move_to_this_thread();
    loop_thread_.store(this_thread_pointer(), std::memory_order_relaxed);
  }
  static bool on_loop_thread_of(const void* runtime) noexcept {
    return static_cast<const Runtime*>(runtime)->on_loop_thread();
  }

  // Fails with wrong_thread unless called on the loop thread.
  void require_loop_thread(const char* function) const {
    if (!on_loop_thread()) [[unlikely]] fail_wrong_thread(function);
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void fail_wrong_thread(const char* function);

  // Gives an event to the error handler (loop thread), or posts it there.
  void report(weft_event_kind kind, weft_status status, const char* message,
              const char* scope = nullptr, std::uint64_t duration_ns = 0) noexcept;
};

// Marks a user callback as running (see Runtime::callback_depth).
class InCallback {
 public:
  explicit InCallback(Runtime& runtime) noexcept : runtime_(runtime) { ++runtime_.callback_depth; }
  ~InCallback() { --runtime_.callback_depth; }
  InCallback(const InCallback&) = delete;
  InCallback& operator=(const InCallback&) = delete;

 private:
  Runtime& runtime_;
};

// Fails with reentrant_run if the loop cannot be run here: inside one of
// its callbacks. Call it on the loop thread.
void require_not_in_callback(Runtime& runtime, const char* function);
// require_not_in_callback's failure, reported and returned without throwing
// (precheck.h); call it once the check has failed.
weft_status reject_reentrant_run(const char* function) noexcept;

inline void Scope::require_open(const char* function) const {
  // Teardown closes every scope before it runs any callback, so this one
  // flag also covers "the runtime is being destroyed".
  if (cancelled.load(std::memory_order_relaxed)) [[unlikely]] fail_closed(function);
}

inline weft_status Scope::open_status() const noexcept {
  return cancelled.load(std::memory_order_relaxed) ? to_status(Errc::closed) : WEFT_OK;
}

inline Scope& loop_scope(weft_loop_t* loop, const char* function) {
  Scope& scope = lookup<Scope>(loop, Kind::loop, "loop");
  scope.runtime.require_loop_thread(function);
  return scope;
}

// A future's runtime, from the loop its core state was published to.
inline Runtime& CFuture::runtime() const noexcept {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
  constexpr std::size_t offset = offsetof(Runtime, loop);
#pragma GCC diagnostic pop
  return *reinterpret_cast<Runtime*>(reinterpret_cast<char*>(continuation_loop()) - offset);
}

}  // namespace weft::capi
