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
#include <cstdint>
#include <mutex>
#include <optional>

#include "capi/src/alloc.h"
#include "capi/src/executor.h"
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

  // Set when weft_runtime_destroy starts: everything refuses new work.
  std::atomic<bool> destroying{false};

  // Counters (loop thread unless atomic).
  std::uint64_t futures_created = 0;
  std::uint64_t work_submitted = 0;
  std::uint64_t errors_reported = 0;
  std::atomic<std::size_t> futures_alive{0};

  weft_runtime_t* c_handle() const noexcept { return as_handle<weft_runtime_t>(handle); }

  // Fails with wrong_thread unless called on the loop thread.
  void require_loop_thread(const char* function) const {
    if (!loop.in_loop_thread()) [[unlikely]] fail_wrong_thread(function);
  }
  [[noreturn]] static void fail_wrong_thread(const char* function);

  // Gives an event to the error handler (loop thread), or posts it there.
  void report(weft_event_kind kind, weft_status status, const char* message,
              const char* scope = nullptr, std::uint64_t duration_ns = 0) noexcept;
};

}  // namespace weft::capi
