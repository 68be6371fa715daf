// weft::capi::Scope: the object behind a weft_scope_t and its loop handle.
//
// What a scope counts as outstanding (see outstanding()): callbacks it
// queued with call_soon (`queued`) or call_soon_threadsafe (`remote`), its
// pending timers, the pending futures it created, the future callbacks it
// registered and not yet called (Registrations, and the futures' inline
// callbacks: `inline_callbacks`), its work not finished, and its I/O
// operations whose callbacks have not been called (io.h). Each count goes
// down on the loop thread, and every place that lowers one calls settled(),
// which frees a destroyed scope once nothing is outstanding (a destroyed
// scope with stragglers stays as a "zombie" in the runtime's list until
// then, or until the runtime is destroyed).
//
// Threads: everything on the loop thread, except `remote` (incremented by
// posting threads) and `cancelled` (read by posting threads and workers).
#pragma once

#include <atomic>
#include <cstddef>
#include <string_view>

#include "capi/src/alloc.h"
#include "capi/src/future.h"
#include "capi/src/guard.h"
#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "capi/src/io.h"
#include "capi/src/timer.h"

namespace weft::capi {

struct Runtime;

struct Scope {
  Scope(Runtime& runtime, std::string_view name, bool root);

  Runtime& runtime;
  Text name;
  const bool root;
  HandleBits handle = 0;       // weft_scope_t
  HandleBits loop_handle = 0;  // weft_loop_t
  std::atomic<bool> cancelled{false};  // closed to new work (also set by teardown)
  bool cancel_done = false;             // cancel() ran
  bool destroyed = false;
  int busy = 0;  // > 0 while cancel/drain walk the scope: not freed meanwhile

  std::size_t queued = 0;              // call_soon callbacks not yet run
  std::atomic<std::size_t> remote{0};  // call_soon_threadsafe callbacks not yet run
  List<TimerRec, &TimerRec::scope_hook> timers;
  List<CFuture, &CFuture::scope_hook> futures;  // pending futures created here
  List<Registration, &Registration::scope_hook> registrations;
  std::size_t inline_callbacks = 0;  // inline future callbacks not yet called (future.h)
  List<FutureExtras, &FutureExtras::work_hook> work;
  List<IoRec, &IoRec::scope_hook> io;  // open I/O handles (listeners, streams, sockets, ...)
  List<IoOp, &IoOp::hook> io_ops;      // pending I/O operations without a handle (connect, ...)
  std::size_t io_pending = 0;          // I/O callbacks not yet called
  ListHook runtime_hook;

  weft_loop_t* c_loop() const noexcept { return as_handle<weft_loop_t>(loop_handle); }

  std::size_t outstanding() const noexcept {
    return queued + remote.load(std::memory_order_acquire) + timers.size() + futures.size() +
           registrations.size() + inline_callbacks + work.size() + io_pending;
  }

  // Fails with closed if the scope (or its runtime) takes no new work.
  inline void require_open(const char* function) const;
  // require_open's check for an api() body, without throwing: WEFT_OK, or
  // WEFT_ERR_CLOSED, the status fail_closed's exception becomes there
  // (closed is no misuse: nothing is reported, so its message is never
  // read).
  inline weft_status open_status() const noexcept;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_closed(const char* function) const;

  // See the top of this file.
  void cancel() noexcept;
};

// Frees `scope` if it was destroyed and nothing is outstanding any more.
// Loop thread. Call after lowering any of the scope's counts.
inline void settled(Scope* scope) noexcept;
void free_zombie_if_settled(Scope* scope) noexcept;
inline void settled(Scope* scope) noexcept {
  if (scope->destroyed) [[unlikely]] free_zombie_if_settled(scope);
}

// Looks up a loop handle (and checks the calling thread): the prologue of
// every function that takes a weft_loop_t. loop_scope is defined in
// runtime.h.
inline Scope& loop_scope_any_thread(weft_loop_t* loop) { return lookup<Scope>(loop, Kind::loop, "loop"); }
inline Scope& loop_scope(weft_loop_t* loop, const char* function);

// Creates a scope with its two handles in the runtime's list. Loop thread.
Scope* create_scope(Runtime& runtime, std::string_view name, bool root);
// Removes the scope's handles; frees it now or when it has settled.
void destroy_scope(Scope* scope) noexcept;
// Runtime teardown: frees whatever the scope still is.
void free_scope(Scope* scope) noexcept;

}  // namespace weft::capi
