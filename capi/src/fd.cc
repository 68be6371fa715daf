// weft/fd.h over weft::FdWatch (core/io/fd_watch.h). Loop thread only; see
// io.h for how handles and pending operations live and end.
//
// A watch is an FdRec (Kind::fd_watch) holding the core FdWatch; each wait
// is an IoOp over the core's Future<int> (the ready events), so its
// weft_future_t, its cancellation and its end with the handle or the scope
// work as for every other operation.
#include <string>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/io/fd_watch.h"
#include "weft/fd.h"

namespace weft::capi {

namespace {

static_assert(WEFT_FD_READABLE == FdWatch::kReadable && WEFT_FD_WRITABLE == FdWatch::kWritable,
              "weft/fd.h's bits are the core's");

struct FdRec final : IoRec {
  FdWatch watch;

  void close_core() noexcept override { watch.close(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

FdRec& fd_of(const void* handle, const char* function) {
  return static_cast<FdRec&>(io_of(handle, Kind::fd_watch, "fd watch", function));
}

const char* direction_name(int events) noexcept {
  switch (events) {
    case WEFT_FD_READABLE: return "readable";
    case WEFT_FD_WRITABLE: return "writable";
    default: return "readable or writable";
  }
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_fd_watch(weft_fd_watch_t** out, weft_loop_t* loop, int fd) {
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_fd_watch");
    require(out, "out");
    if (fd < 0) weft::capi::fail(weft::Errc::invalid_argument, "fd is negative");
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::FdWatch watch = weft::FdWatch::watch(scope.runtime.loop, fd);
    weft::capi::Runtime& runtime = scope.runtime;
    auto* rec = runtime.allocator.make<weft::capi::FdRec>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    rec->watch = std::move(watch);
    *out = weft::capi::as_handle<weft_fd_watch_t>(weft::capi::register_io(rec, weft::capi::Kind::fd_watch));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_fd_wait(weft_future_t** out, weft_fd_watch_t* watch, int events,
                                  weft_fd_callback callback, void* user) {
  return api(__func__, [&] {
    weft::capi::FdRec& rec = weft::capi::fd_of(watch, "weft_fd_wait");
    if (events == 0 || (events & ~(WEFT_FD_READABLE | WEFT_FD_WRITABLE)) != 0) {
      weft::capi::fail(weft::Errc::invalid_argument,
                       "events must be WEFT_FD_READABLE, WEFT_FD_WRITABLE or both");
    }
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    const int busy = rec.watch.waiting_events() & events;
    if (busy != 0) {
      weft::capi::fail(weft::Errc::invalid_state, std::string("a wait for ") + weft::capi::direction_name(busy) +
                                                      " is already pending on this fd watch");
    }
    weft::capi::start_io_op(
        *rec.scope, *rec.runtime, &rec, "fd wait", [&] { return rec.watch.wait(events); }, out, callback != nullptr,
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

WEFT_API weft_status weft_fd_watch_close(weft_fd_watch_t* watch) {
  if (watch == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::fd_of(watch, "weft_fd_watch_close"));
    return WEFT_OK;
  });
}

}  // extern "C"
