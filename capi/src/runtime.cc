#include "capi/src/runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "capi/src/guard.h"
#include "capi/src/precheck.h"

namespace weft::capi {

namespace {

LoopOptions loop_options(const weft_runtime_options& options, std::optional<ManualClock>& manual) {
  LoopOptions out;
  if (options.clock == WEFT_CLOCK_MANUAL) {
    manual.emplace();
    out.clock = &*manual;
  }
  out.spin = spin_policy(options.spin, "options.spin");
  if (options.slow_callback_ns != 0) {
    out.debug = true;
    out.slow_callback_threshold = Duration(static_cast<Duration::rep>(
        options.slow_callback_ns > INT64_MAX ? INT64_MAX : options.slow_callback_ns));
  }
  return out;
}

const char* event_name(weft_event_kind kind) noexcept {
  switch (kind) {
    case WEFT_EVENT_CALLBACK_EXCEPTION: return "exception in a callback";
    case WEFT_EVENT_SLOW_CALLBACK: return "slow callback";
    case WEFT_EVENT_DROPPED_CALLBACKS: return "callbacks dropped";
    case WEFT_EVENT_UNOBSERVED_FAILURE: return "a failure nobody observed";
    case WEFT_EVENT_KIND_FORCE32: break;
  }
  return "event";
}

// The core loop's reports (exceptions escaping callbacks, slow callbacks,
// dropped callbacks) become C events.
void forward_loop_report(Runtime& runtime, const ExceptionContext& context) {
  weft_event_kind kind = WEFT_EVENT_CALLBACK_EXCEPTION;
  weft_status status = WEFT_OK;
  switch (context.kind) {
    case ExceptionContext::Kind::callback_exception:
      kind = WEFT_EVENT_CALLBACK_EXCEPTION;
      status = WEFT_ERR_EXCEPTION;
      break;
    case ExceptionContext::Kind::slow_callback:
      kind = WEFT_EVENT_SLOW_CALLBACK;
      break;
    case ExceptionContext::Kind::dropped_callbacks:
      kind = WEFT_EVENT_DROPPED_CALLBACKS;
      status = WEFT_ERR_CANCELLED;
      break;
    case ExceptionContext::Kind::unretrieved_error:
      kind = WEFT_EVENT_UNOBSERVED_FAILURE;
      status = WEFT_ERR_UNKNOWN;
      break;
    case ExceptionContext::Kind::task_destroyed:  // pending work destroyed at close
      kind = WEFT_EVENT_DROPPED_CALLBACKS;
      status = WEFT_ERR_CANCELLED;
      break;
    case ExceptionContext::Kind::generator_error:  // user code failed while finalising
      kind = WEFT_EVENT_CALLBACK_EXCEPTION;
      status = WEFT_ERR_EXCEPTION;
      break;
  }
  std::string message = context.message;
  if (context.exception) {
    try {
      std::rethrow_exception(context.exception);
    } catch (...) {
      message += ": " + error_from_current_exception().message();
    }
  }
  const auto ns = context.duration.count();
  runtime.report(kind, status, message.c_str(), nullptr, ns < 0 ? 0 : static_cast<std::uint64_t>(ns));
}

// weft_runtime_destroy's order, also used to undo a half-built runtime.
// Every step is needed for the next to be safe:
//   1. Mark the runtime destroying and close every scope: every function that
//      would add work refuses (WEFT_ERR_CLOSED) from here on, including calls
//      made by the callbacks the next steps run.
//   2. Cancel every scope: timers and future callbacks are called with
//      cancelled now; pending futures are cancelled, which queues their
//      continuations and makes jobs not yet started skip their work.
//   3. Destroy every executor (strands, then pools): drained, joined. After
//      this no thread but this one touches the runtime; every completion a
//      worker made is already in the loop's inbox.
//   4. Close the loop: it runs the queued continuations (registrations get
//      cancelled outcomes), call_soon callbacks (called with cancelled) and
//      the inbox, so every reference held by a job, a delivery or a
//      combinator is dropped here.
//   5. Free what the program still holds: futures (their handles go stale),
//      then the scopes.
//   6. Remove the runtime's own handle. The caller then destroys the object.
void teardown(Runtime& runtime) noexcept {
  runtime.destroying.store(true, std::memory_order_seq_cst);
  // Close every scope first (no callback runs yet), then cancel them: a
  // callback of the second step must find every scope closed.
  runtime.scopes.for_each([](Scope* scope) { scope->cancelled.store(true, std::memory_order_seq_cst); });
  runtime.scopes.for_each([](Scope* scope) { scope->cancel(); });
  for (;;) {
    CExecutor* executor;
    {
      std::lock_guard<std::mutex> lock(runtime.executors_mutex);
      executor = runtime.executors.front();
    }
    if (executor == nullptr) break;
    destroy_executor(executor);
  }
  runtime.default_pool = nullptr;
  try {
    runtime.loop.close();
  } catch (...) {
    // Only misuse makes close() throw (running, wrong thread), which
    // weft_runtime_destroy has ruled out.
  }
  runtime.arena.for_each_live([](Kind kind, void* object, HandleBits) {
    if (kind == Kind::future) static_cast<CFuture*>(object)->force_free();
  });
  while (Scope* scope = runtime.scopes.front()) free_scope(scope);
  runtime.root = nullptr;
  if (runtime.handle != 0) process_arena().remove(runtime.handle);
}

void free_runtime(Runtime* runtime) noexcept {
  const weft_allocator hooks = runtime->allocator.hooks();
  runtime->~Runtime();
  hooks.free(hooks.user, runtime, sizeof(Runtime), alignof(Runtime));
}

}  // namespace

#if !(defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__)))
thread_local char Runtime::thread_marker_;
#endif

Runtime::Runtime(const weft_runtime_options& options)
    : allocator(options.allocator),
      loop(loop_options(options, manual_clock)),
      arena(Runtime::on_loop_thread_of, this),
      name(allocator, options.name != nullptr ? options.name : "weft") {
  allocator.set_owner(Runtime::on_loop_thread_of, this);
}

namespace {
// A message about `function` (a weft_* name: short) in a buffer on the
// stack, so that reporting it allocates nothing.
struct FunctionMessage {
  char text[160];
  FunctionMessage(const char* function, const char* rest) noexcept {
    std::snprintf(text, sizeof text, "%s%s", function, rest);
  }
};

constexpr const char* kReentrantRun = ": the loop cannot run from inside one of its callbacks";
}  // namespace

void require_not_in_callback(Runtime& runtime, const char* function) {
  if (runtime.callback_depth > 0 || runtime.loop.is_running()) {
    fail(Errc::reentrant_run, FunctionMessage(function, kReentrantRun).text);
  }
}

weft_status reject_reentrant_run(const char* function) noexcept {
  return reject(function, Errc::reentrant_run, FunctionMessage(function, kReentrantRun).text);
}

void Runtime::fail_wrong_thread(const char* function) {
  fail(Errc::wrong_thread, FunctionMessage(function, " must be called on the loop thread").text);
}

void Runtime::report(weft_event_kind kind, weft_status status, const char* message, const char* scope,
                     std::uint64_t duration_ns) noexcept {
  if (!on_loop_thread()) {
    // The handler runs on the loop thread: post a copy there.
    try {
      loop.call_soon_threadsafe([this, kind, status, text = std::string(message),
                                 scope_name = std::string(scope != nullptr ? scope : ""),
                                 has_scope = scope != nullptr, duration_ns] {
        report(kind, status, text.c_str(), has_scope ? scope_name.c_str() : nullptr, duration_ns);
      });
    } catch (...) {
      // No memory: the event is lost.
    }
    return;
  }
  ++errors_reported;
  const weft_event event{sizeof(weft_event), kind, status, message, scope, duration_ns};
  InCallback in_callback(*this);
  try {
    if (error_handler != nullptr) {
      error_handler(error_user, &event);
    } else {
      std::fprintf(stderr, "weft [%s]: %s: %s%s%s%s\n", name.c_str(), event_name(kind), message,
                   scope != nullptr ? " (" : "", scope != nullptr ? scope : "", scope != nullptr ? ")" : "");
    }
  } catch (...) {
    // A C++ host's handler threw: it must not cross back into C.
  }
}

}  // namespace weft::capi

using weft::Errc;
using weft::capi::api;
using weft::capi::fail;
using weft::capi::Kind;
using weft::capi::lookup;
using weft::capi::require;
using weft::capi::Runtime;

extern "C" {

WEFT_API weft_status weft_runtime_create(weft_runtime_t** out, const weft_runtime_options* options) {
  return api(__func__, [&] {
    require(out, "out");
    weft_runtime_options o = WEFT_RUNTIME_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, weft::capi::kRuntimeOptionsSize1_0,
                                    sizeof(o), "options");
      // Fields beyond an older caller's struct keep their defaults.
      std::memcpy(&o, options, std::min(options->struct_size, sizeof(o)));
      o.struct_size = sizeof(o);
    }
    const weft::SpinPolicy spin = weft::capi::spin_policy(o.spin, "options.spin");
    const int clock = weft::capi::raw_enum(o.clock);
    if (clock != WEFT_CLOCK_MONOTONIC && clock != WEFT_CLOCK_MANUAL) {
      fail(Errc::invalid_argument, "options.clock " + std::to_string(clock) + " is not a weft_clock_kind");
    }
    if ((o.allocator.alloc == nullptr) != (o.allocator.free == nullptr)) {
      fail(Errc::invalid_argument, "options.allocator: set both alloc and free, or neither");
    }


    // The runtime lives in its own allocator.
    weft::capi::Allocator bootstrap(o.allocator);
    void* memory = bootstrap.allocate(sizeof(Runtime), alignof(Runtime));
    Runtime* runtime;
    try {
      runtime = ::new (memory) Runtime(o);
    } catch (...) {
      bootstrap.deallocate(memory, sizeof(Runtime), alignof(Runtime));
      throw;
    }
    try {
      runtime->handle = weft::capi::process_arena().add(Kind::runtime, runtime);
      runtime->root = weft::capi::create_scope(*runtime, "root", /*root=*/true);
      std::string pool_name = std::string(runtime->name.c_str()) + "-pool";
      runtime->default_pool = weft::capi::register_executor(
          runtime->allocator.make<weft::capi::CExecutor>(*runtime, o.threads, pool_name, spin,
                                                         /*is_default=*/true));
    } catch (...) {
      weft::capi::teardown(*runtime);
      weft::capi::free_runtime(runtime);
      throw;
    }
    runtime->loop.set_exception_handler([runtime](const weft::ExceptionContext& context) {
      weft::capi::forward_loop_report(*runtime, context);
    });
    *out = runtime->c_handle();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_runtime_destroy(weft_runtime_t* runtime) {
  if (runtime == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    Runtime& rt = lookup<Runtime>(runtime, Kind::runtime, "runtime");
    rt.require_loop_thread("weft_runtime_destroy");
    if (rt.loop.is_running() || rt.callback_depth > 0) {
      fail(Errc::invalid_state, "weft_runtime_destroy called from inside one of the runtime's callbacks");
    }
    weft::capi::teardown(rt);
    weft::capi::free_runtime(&rt);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_runtime_loop(weft_loop_t** out, weft_runtime_t* runtime) {
  return api(__func__, [&] {
    require(out, "out");
    *out = lookup<Runtime>(runtime, Kind::runtime, "runtime").root->c_loop();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_runtime_pool(weft_executor_t** out, weft_runtime_t* runtime) {
  return api(__func__, [&] {
    require(out, "out");
    Runtime& rt = lookup<Runtime>(runtime, Kind::runtime, "runtime");
    *out = weft::capi::as_handle<weft_executor_t>(rt.default_pool->handle);
    return WEFT_OK;
  });
}

}  // extern "C"
