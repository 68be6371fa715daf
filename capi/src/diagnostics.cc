// Counters, the error handler, dumps and straggler lists.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "weft/diagnostics.h"
#include "weft/scope.h"

namespace weft::capi {

namespace {

const char* scope_state(const Scope& scope) noexcept {
  if (scope.destroyed) return "destroyed, still draining";
  return scope.cancelled.load(std::memory_order_relaxed) ? "cancelled" : "open";
}

const char* work_state(const FutureExtras& work) noexcept {
  switch (work.work_state.load(std::memory_order_relaxed)) {
    case 0: return "queued";
    case 1: return "running";
    default: return "finished";
  }
}

void emit(weft_object_visitor visit, void* user, weft_object_kind kind, const Scope& scope,
          const char* name, const char* state, std::size_t count = 1) {
  const weft_object_info info{sizeof(weft_object_info), kind, scope.name.c_str(), name, state, count};
  visit(user, &info);
}

// Everything `scope` has outstanding (see weft_scope_drain).
void list_outstanding(const Scope& scope, weft_object_visitor visit, void* user) {
  scope.futures.for_each([&](CFuture* f) {
    const char* state = f->is_cancelled() ? "cancelled" : f->is_ready() ? "completed" : "pending";
    emit(visit, user, WEFT_OBJECT_FUTURE, scope, f->name(), state);
  });
  scope.timers.for_each([&](TimerRec*) { emit(visit, user, WEFT_OBJECT_TIMER, scope, "", "pending"); });
  const std::size_t queued = scope.queued + scope.remote.load(std::memory_order_acquire);
  if (queued != 0) emit(visit, user, WEFT_OBJECT_CALLBACKS, scope, "", "queued", queued);
  scope.registrations.for_each([&](Registration* r) {
    emit(visit, user, WEFT_OBJECT_FUTURE_CALLBACK, scope, r->future->name(),
         r->future->dispatched() ? "queued" : "waiting");
  });
  scope.futures.for_each([&](CFuture* f) {
    if (f->has_inline_callback()) emit(visit, user, WEFT_OBJECT_FUTURE_CALLBACK, scope, f->name(), "waiting");
  });
  scope.work.for_each([&](FutureExtras* w) {
    emit(visit, user, WEFT_OBJECT_WORK, scope, w->future->name(), work_state(*w));
  });
  scope.io_ops.for_each([&](IoOp* op) { emit(visit, user, op->object_kind, scope, op->name, "pending"); });
  scope.io.for_each([&](IoRec* rec) {
    rec->ops.for_each([&](IoOp* op) { emit(visit, user, op->object_kind, scope, op->name, "pending"); });
  });
}

void dump(Runtime& runtime, weft_object_visitor visit, void* user) {
  // Executors are listed from a copy: the visitor runs without the lock.
  // The copy is on the stack for the few executors a runtime mostly has.
  struct ExecutorEntry {
    std::string name;
    const char* kind;
  };
  constexpr std::size_t kOnStack = 8;
  ExecutorEntry on_stack[kOnStack];
  std::vector<ExecutorEntry> more;
  std::size_t count = 0;
  {
    std::lock_guard<std::mutex> lock(runtime.executors_mutex);
    runtime.executors.for_each([&](CExecutor* e) {
      ExecutorEntry entry{e->name.c_str(),
                          e->type == CExecutor::Type::pool ? (e->is_default ? "default pool" : "pool") : "strand"};
      if (count < kOnStack) {
        on_stack[count] = std::move(entry);
      } else {
        more.push_back(std::move(entry));
      }
      ++count;
    });
  }
  for (std::size_t i = 0; i < count; ++i) {
    const ExecutorEntry& e = i < kOnStack ? on_stack[i] : more[i - kOnStack];
    emit(visit, user, WEFT_OBJECT_EXECUTOR, *runtime.root, e.name.c_str(), e.kind);
  }
  runtime.scopes.for_each([&](Scope* scope) {
    emit(visit, user, WEFT_OBJECT_SCOPE, *scope, scope->name.c_str(), scope_state(*scope));
    list_outstanding(*scope, visit, user);
  });
}

// Text written into a caller's buffer of `capacity` bytes: what fits of it
// (capacity - 1 bytes, then a NUL from terminate()), and the length of all
// of it, as snprintf counts.
struct TextSink {
  char* buffer;
  std::size_t capacity;
  std::size_t length = 0;

  void add(const char* text) noexcept {
    const std::size_t n = std::strlen(text);
    if (length + 1 < capacity) {
      const std::size_t room = capacity - 1 - length;
      std::memcpy(buffer + length, text, n < room ? n : room);
    }
    length += n;
  }
  void terminate() noexcept {
    if (capacity != 0) buffer[length < capacity - 1 ? length : capacity - 1] = '\0';
  }
};

const char* object_kind_name(weft_object_kind kind) noexcept {
  switch (kind) {
    case WEFT_OBJECT_SCOPE: return "scope";
    case WEFT_OBJECT_EXECUTOR: return "executor";
    case WEFT_OBJECT_FUTURE: return "future";
    case WEFT_OBJECT_TIMER: return "timer";
    case WEFT_OBJECT_CALLBACKS: return "callbacks";
    case WEFT_OBJECT_FUTURE_CALLBACK: return "future callback";
    case WEFT_OBJECT_WORK: return "work";
    case WEFT_OBJECT_TCP_OPERATION: return "TCP operation";
    case WEFT_OBJECT_IO_OPERATION: return "I/O operation";
    case WEFT_OBJECT_KIND_FORCE32: break;
  }
  return "object";
}

Runtime& runtime_on_loop(weft_runtime_t* runtime, const char* function) {
  Runtime& rt = lookup<Runtime>(runtime, Kind::runtime, "runtime");
  rt.require_loop_thread(function);
  return rt;
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::require;
using weft::capi::Runtime;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_runtime_stats(weft_stats* out, weft_runtime_t* runtime) {
  return api(__func__, [&] {
    require(out, "out");
    weft::capi::check_out_struct_size(out->struct_size, sizeof(weft_stats), "out");
    Runtime& rt = weft::capi::runtime_on_loop(runtime, "weft_runtime_stats");
    const weft::LoopStats loop = rt.loop.stats();
    weft_stats s = WEFT_STATS_INIT;
    s.callbacks_run = loop.callbacks_run;
    s.threadsafe_posts = loop.threadsafe_posts;
    s.timers_armed = loop.timers_armed;
    s.timers_fired = loop.timers_fired;
    s.timers_cancelled = loop.timers_cancelled;
    s.iterations = loop.iterations;
    s.futures_created = rt.futures_created;
    s.work_submitted = rt.work_submitted;
    s.errors_reported = rt.errors_reported;
    s.ready = loop.ready_depth;
    s.timers_pending = loop.timers_pending;
    s.futures_alive = rt.futures_alive.load(std::memory_order_relaxed);
    rt.scopes.for_each([&](Scope* scope) {
      s.futures_pending += scope->futures.size();
      s.work_pending += scope->work.size();
    });
    s.scopes = rt.scopes.size();
    {
      std::lock_guard<std::mutex> lock(rt.executors_mutex);
      s.executors = rt.executors.size();
    }
    s.bytes_allocated = rt.allocator.bytes();
    const std::size_t size = out->struct_size;
    std::memcpy(out, &s, sizeof(s));
    out->struct_size = size;
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_runtime_set_error_handler(weft_runtime_t* runtime, weft_error_handler handler,
                                                    void* user) {
  return api(__func__, [&] {
    Runtime& rt = weft::capi::runtime_on_loop(runtime, "weft_runtime_set_error_handler");
    rt.error_handler = handler;
    rt.error_user = user;
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_runtime_dump(weft_runtime_t* runtime, weft_object_visitor visit, void* user) {
  return api(__func__, [&] {
    require(reinterpret_cast<const void*>(visit), "visit");
    weft::capi::dump(weft::capi::runtime_on_loop(runtime, "weft_runtime_dump"), visit, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_runtime_dump_text(char* buffer, size_t capacity, size_t* length,
                                            weft_runtime_t* runtime) {
  return api(__func__, [&] {
    if (buffer == nullptr && capacity != 0) {
      weft::capi::fail(weft::Errc::invalid_argument, "buffer is NULL with a non-zero capacity");
    }
    Runtime& rt = weft::capi::runtime_on_loop(runtime, "weft_runtime_dump_text");
    // Written straight into the caller's buffer (what fits) and counted in
    // full: no copy of the text is made, so a dump allocates nothing.
    weft::capi::TextSink text{buffer, capacity};
    text.add("runtime ");
    text.add(rt.name.c_str());
    text.add("\n");
    weft::capi::dump(rt, [](void* user, const weft_object_info* info) {
      weft::capi::TextSink& out = *static_cast<weft::capi::TextSink*>(user);
      out.add(info->kind == WEFT_OBJECT_SCOPE || info->kind == WEFT_OBJECT_EXECUTOR ? "  " : "    ");
      out.add(weft::capi::object_kind_name(info->kind));
      if (info->name[0] != '\0') {
        out.add(" \"");
        out.add(info->name);
        out.add("\"");
      }
      out.add(": ");
      out.add(info->state);
      if (info->count != 1) {
        char count[32];
        std::snprintf(count, sizeof count, " (%zu)", info->count);
        out.add(count);
      }
      out.add("\n");
    }, &text);
    if (length != nullptr) *length = text.length;
    text.terminate();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_scope_list(weft_scope_t* scope, weft_object_visitor visit, void* user) {
  return api(__func__, [&] {
    require(reinterpret_cast<const void*>(visit), "visit");
    Scope& s = weft::capi::lookup<Scope>(scope, weft::capi::Kind::scope, "scope");
    s.runtime.require_loop_thread("weft_scope_list");
    weft::capi::list_outstanding(s, visit, user);
    return WEFT_OK;
  });
}

}  // extern "C"
