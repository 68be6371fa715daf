#include "capi/src/future.h"

#include <cstdio>
#include <new>
#include <string>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/loop/loop_access.h"

namespace weft::capi {

namespace {

const char* const kScopeCancelled = "the scope the callback was registered through was cancelled";

}  // namespace

// A registration made after the continuation ran: delivered from the ready
// queue at the loop's next pass, holding a reference to the future. If its
// scope is cancelled first, cancel_registration calls it and clears
// `callback`; the delivery then only frees it.
class QueuedDelivery {
 public:
  explicit QueuedDelivery(Registration* registration) noexcept : registration_(registration) {}
  QueuedDelivery(QueuedDelivery&& other) noexcept
      : registration_(std::exchange(other.registration_, nullptr)) {}
  QueuedDelivery& operator=(QueuedDelivery&&) = delete;
  ~QueuedDelivery() {
    // Destroyed unrun (the loop never drops callbacks the C API queues, see
    // runtime.cc): still free what it holds.
    if (registration_ != nullptr) run(/*deliver=*/false);
  }
  void operator()() { run(/*deliver=*/true); }

 private:
  void run(bool deliver) {
    Registration* r = std::exchange(registration_, nullptr);
    CFuture* future = r->future;
    if (r->callback != nullptr && deliver) {
      future->deliver(r, future->outcome());
    } else {
      if (r->scope_hook.linked()) r->scope->registrations.remove(r);
      future->free_registration(r);
    }
    future->release();
  }

  Registration* registration_;
};

// future.h's kFutureSize: keep the C future within it.
static_assert(sizeof(CFuture) <= kFutureSize, "CFuture grew: see future.h (Size)");

const weft::detail::StateOps CFuture::kOps{
    {&CFuture::run_queued, &CFuture::drop_queued}, &CFuture::destroy_state, nullptr, /*listed=*/true};

CFuture::CFuture(Scope& scope) noexcept : ListedState(&kOps), scope_(&scope) {}

void CFuture::run_queued(TabledObject* object) {
  auto* future = static_cast<CFuture*>(static_cast<StateBase*>(object));
  future->untrack();  // tracked again if a callback came after it was made due
  future->take_continuation(&kOps);  // the table stays: it is the future's
  future->run_continuation();
}

void CFuture::drop_queued(TabledObject* object) noexcept {
  auto* future = static_cast<CFuture*>(static_cast<StateBase*>(object));
  future->untrack();
  future->take_continuation(&kOps);
  future->discard_continuation();
}

void CFuture::destroy_state(StateBase* state) noexcept { static_cast<CFuture*>(state)->destroy(); }

CFuture::~CFuture() {
  if (status_ == WEFT_OK) {
    value_.~Value();
  } else {
    message_.~Text();
  }
  if (extras_ != nullptr) runtime().allocator.destroy(extras_);
}

FutureExtras& CFuture::extras() {
  if (extras_ == nullptr) extras_ = runtime().allocator.make<FutureExtras>(this);
  return *extras_;
}

CFuture* CFuture::create(Scope& scope) {
  Runtime& runtime = scope.runtime;
  void* memory = runtime.allocator.allocate(sizeof(CFuture), alignof(CFuture));
  CFuture* future = nullptr;
  bool reserved = false;
  try {
    // Room in the ready queue for the continuation published below, so that
    // completing the future never needs memory.
    weft::detail::LoopAccess::reserve_listed_continuation(runtime.loop);
    reserved = true;
    future = ::new (memory) CFuture(scope);
    future->handle_index_ = static_cast<std::uint32_t>(runtime.arena.add(Kind::future, future));
  } catch (...) {
    if (future != nullptr) future->~CFuture();
    if (reserved) weft::detail::LoopAccess::release_listed_continuation(runtime.loop);
    runtime.allocator.deallocate(memory, sizeof(CFuture), alignof(CFuture));
    throw;
  }
  scope.futures.push_back(future);
  // The core's two initial references: the handles' and the continuation's.
  future->publish_continuation(runtime.loop);
  ++runtime.futures_created;
  runtime.futures_alive.fetch_add(1, std::memory_order_relaxed);
  return future;
}

bool CFuture::complete(weft_status status, Value value, const char* message, bool owned,
                       bool message_required) {
  Text text;
  if (status != WEFT_OK && message != nullptr) {
    if (message_required && (claimed_.load(std::memory_order_acquire) || is_ready())) return false;
    try {
      text = Text(runtime().allocator, message);
    } catch (...) {
      // Refused before anything was claimed: the future is unchanged.
      if (message_required) throw;
      // An operation's outcome: the status alone says it (outcome() falls
      // back to weft_status_str).
    }
  }
  if (claimed_.exchange(true, std::memory_order_acq_rel) || is_ready()) return false;
  if (status == WEFT_OK) {
    value_ = std::move(value);
    value_.commit();
  } else {
    value_.~Value();  // still the empty value of a pending future
    ::new (static_cast<void*>(&message_)) Text(std::move(text));
    status_ = status;
  }
  if (publish_result()) return true;
  // cancel() won between the claim and the publish: nobody will read the
  // outcome; give a POINTER back to a caller that still owns it.
  if (status_ == WEFT_OK) {
    if (!owned) value_.uncommit();
    value_ = Value();
  } else {
    message_.~Text();
    ::new (static_cast<void*>(&value_)) Value();
    status_ = WEFT_OK;
  }
  return false;
}

namespace {

// Asks an operation-bound future's producer to stop, on the loop thread.
// Holds a core reference to the future until it ran (or was dropped unrun
// by a closing loop).
class CancelRequest {
 public:
  explicit CancelRequest(CFuture* future) noexcept : future_(future) {}
  CancelRequest(CancelRequest&& other) noexcept : future_(std::exchange(other.future_, nullptr)) {}
  CancelRequest& operator=(CancelRequest&&) = delete;
  ~CancelRequest() {
    if (future_ != nullptr) future_->release();
  }
  void operator()() {
    CFuture* future = std::exchange(future_, nullptr);
    if (!future->is_ready()) {
      if (FutureExtras* extras = future->extras_if_any(); extras != nullptr && extras->producer != nullptr) {
        extras->producer->on_cancel_requested();
      }
    }
    future->release();
  }

 private:
  CFuture* future_;
};

}  // namespace

bool CFuture::request_cancel() {
  if (!operation_bound()) return cancel();
  if (is_ready()) return false;
  if (runtime().on_loop_thread()) {
    return extras_ != nullptr && extras_->producer != nullptr && extras_->producer->on_cancel_requested();
  }
  add_ref();
  // A closed loop drops the request (and its reference): the operation is
  // being ended anyway.
  return runtime().loop.call_soon_threadsafe(CancelRequest(this));
}

void CFuture::retain_handle() noexcept {
  if (handle_refs_.fetch_add(1, std::memory_order_relaxed) == 0) add_ref();
}

bool CFuture::release_handle() noexcept {
  std::uint32_t refs = handle_refs_.load(std::memory_order_relaxed);
  do {
    if (refs == 0) return false;
  } while (!handle_refs_.compare_exchange_weak(refs, refs - 1, std::memory_order_acq_rel,
                                               std::memory_order_relaxed));
  if (refs == 1) {
    maybe_break();
    release();  // may free the future
  }
  return true;
}

void CFuture::release_producer() noexcept {
  if (extras_->producers.fetch_sub(1, std::memory_order_acq_rel) == 1) maybe_break();
}

void CFuture::maybe_break() noexcept {
  if (handle_refs_.load(std::memory_order_acquire) != 0 || claimed_.load(std::memory_order_acquire) ||
      is_ready()) {
    return;
  }
  // Read extras_ only now: nothing else uses a pending future with no handle
  // reference left, so the loop thread is not making it concurrently.
  if (extras_ != nullptr && extras_->producers.load(std::memory_order_acquire) != 0) return;
  // Nothing can complete it any more: its callbacks learn so now.
  complete(WEFT_ERR_BROKEN_PROMISE, Value(),
           "the last reference to a pending future was released", /*owned=*/true);
}

Outcome CFuture::outcome() const noexcept {
  weft_value none = weft_value_none();
  if (is_cancelled()) return {WEFT_ERR_CANCELLED, none, weft_status_str(WEFT_ERR_CANCELLED)};
  if (status_ == WEFT_OK) return {WEFT_OK, value_.view(), nullptr};
  return {status_, none, message_.c_str(weft_status_str(status_))};
}

void CFuture::add_callback(Scope& scope, weft_future_callback callback, void* user) {
  // scope_ is set until dispatch: the future is still in that scope's list.
  if (&scope == scope_ && callback_ == nullptr && head_ == nullptr) {
    callback_ = callback;
    user_ = user;
    ++scope.inline_callbacks;
    update_tracking();
    return;
  }
  add_registration(scope, callback, user);
}

void CFuture::cancel_inline_callback() noexcept {
  if (callback_ == nullptr) return;
  if (work_unfinished()) {
    // A job's `done` shares `user` with work that may be running: it is
    // called with cancelled once the work has finished (unlink_work).
    extras_->deferred_scope_cancelled = true;
    return;
  }
  Scope* scope = scope_;
  const weft_future_callback callback = std::exchange(callback_, nullptr);
  --scope->inline_callbacks;
  update_tracking();
  settled(scope);
  InCallback in_callback(runtime());  // a scope's cancel: possibly outside any loop run
  call(callback, user_, Outcome{WEFT_ERR_CANCELLED, weft_value_none(), kScopeCancelled});
}

Registration* CFuture::add_registration(Scope& scope, weft_future_callback callback, void* user) {
  Registration* r = runtime().allocator.make<Registration>();
  r->future = this;
  r->scope = &scope;
  r->callback = callback;
  r->user = user;
  if (!dispatched()) {
    scope.registrations.push_back(r);
    Registration** link = &head_;  // the FIFO is short: walk to its end
    while (*link != nullptr) link = &(*link)->next;
    *link = r;
    update_tracking();
    return r;
  }
  // Already completed and dispatched: deliver at the next pass, never inside
  // this call.
  r->queued = true;
  add_ref();
  try {
    runtime().loop.call_soon(QueuedDelivery(r));
  } catch (...) {
    free_registration(r);
    release();
    throw;
  }
  scope.registrations.push_back(r);
  return r;
}

void CFuture::unlink(Registration* r) noexcept {
  Registration** link = &head_;
  while (*link != r) link = &(*link)->next;
  *link = r->next;
  r->next = nullptr;
}

void CFuture::free_registration(Registration* r) noexcept { runtime().allocator.destroy(r); }

void CFuture::deliver(Registration* r, const Outcome& outcome) {
  // Bookkeeping first: the callback may destroy the scope, or the runtime's
  // last reference to this future's neighbours.
  if (!r->queued) unlink(r);
  Scope* scope = r->scope;
  scope->registrations.remove(r);
  const weft_future_callback callback = r->callback;
  void* user = r->user;
  free_registration(r);
  mark_observed();
  settled(scope);
  call(callback, user, outcome);
}

void CFuture::call(weft_future_callback callback, void* user, const Outcome& outcome) noexcept {
  // Loop thread only writes it: no read-modify-write needed.
  const bool was_delivering = loop_flags_.load(std::memory_order_relaxed) & kDelivering;
  set_loop_flag(kDelivering, true);
  try {
    callback(user, c_handle(), outcome.status, &outcome.value, outcome.message);
  } catch (...) {
    runtime().loop.report({ExceptionContext::Kind::callback_exception,
                          "exception in a future callback", std::current_exception(), Duration(0)});
  }
  set_loop_flag(kDelivering, was_delivering);
}

void CFuture::cancel_registration(Registration* r, bool notify) noexcept {
  Scope* scope = r->scope;
  scope->registrations.remove(r);
  const weft_future_callback callback = r->callback;
  void* user = r->user;
  if (!r->queued) {
    unlink(r);
    free_registration(r);
    update_tracking();
  } else {
    r->callback = nullptr;  // the QueuedDelivery frees it
  }
  settled(scope);
  if (callback == nullptr || !notify) return;
  InCallback in_callback(runtime());  // a scope's cancel: possibly outside any loop run
  call(callback, user, Outcome{WEFT_ERR_CANCELLED, weft_value_none(), kScopeCancelled});
}

void CFuture::update_tracking() noexcept {
  // Also while a job's `done` waits for its work to finish (run_continuation).
  const bool wanted = (!dispatched() && (callback_ != nullptr || head_ != nullptr ||
                                         (extras_ != nullptr && extras_->work_hook.linked()))) ||
                      (extras_ != nullptr && extras_->deferred_callback != nullptr);
  if (wanted && !tracked()) {
    weft::detail::LoopAccess::track_listed_future(runtime().loop, this);
  } else if (!wanted && tracked()) {
    weft::detail::LoopAccess::untrack_future(runtime().loop, this);
  }
}

void CFuture::set_name(const char* name) {
  if (name == nullptr && extras_ == nullptr) return;
  extras().name = name != nullptr ? Text(runtime().allocator, name) : Text();
}

void CFuture::start_work(Scope& scope) noexcept {
  extras_->work_scope = &scope;
  scope.work.push_back(extras_);
  add_ref();  // the work list's link, dropped by unlink_work
  add_ref();  // the job's, dropped by the worker
  add_producer();
  update_tracking();
}

void CFuture::unlink_work() noexcept {
  Scope* scope = std::exchange(extras_->work_scope, nullptr);
  scope->work.remove(extras_);
  extras_->work_state.store(2, std::memory_order_relaxed);
  const weft_future_callback callback = std::exchange(extras_->deferred_callback, nullptr);
  update_tracking();
  settled(scope);
  if (callback != nullptr) {
    const Outcome outcome = extras_->deferred_scope_cancelled
                                ? Outcome{WEFT_ERR_CANCELLED, weft_value_none(), kScopeCancelled}
                                : this->outcome();
    mark_observed();
    InCallback in_callback(runtime());  // from a loop callback or the loop's close
    call(callback, user_, outcome);
  }
  release();
}

void CFuture::run_continuation() {
  // Leave the creating scope's pending list, then run the callbacks: the
  // inline one first (it was registered first), then the FIFO.
  Scope* scope = std::exchange(scope_, nullptr);
  const weft_future_callback callback = std::exchange(callback_, nullptr);
  if (scope != nullptr) {
    scope->futures.remove(this);
    if (callback != nullptr) --scope->inline_callbacks;
    ++scope->busy;  // unlink_work may settle the same scope: not freed before we are done
  }
  set_loop_flag(kContinuationRan, true);
  bool work_running = false;  // dispatched (cancelled) before the work finished
  if (extras_ != nullptr) {
    if (extras_->work_hook.linked()) {
      if (extras_->work_flags.fetch_or(kDispatched, std::memory_order_acq_rel) & kWorkFinished) {
        unlink_work();
      } else {
        work_running = true;
      }
    }
    Producer* producer = std::exchange(extras_->producer, nullptr);
    if (producer != nullptr && is_cancelled()) producer->on_output_cancelled();
  }
  if (scope != nullptr) {
    --scope->busy;
    settled(scope);
  }
  const Outcome outcome = this->outcome();
  if (callback != nullptr && work_running) {
    extras_->deferred_callback = callback;  // unlink_work calls it
    update_tracking();                       // run() waits for it
  } else if (callback != nullptr) {
    mark_observed();
    const bool scope_cancelled = extras_ != nullptr && extras_->deferred_scope_cancelled;
    call(callback, user_,
         scope_cancelled ? Outcome{WEFT_ERR_CANCELLED, weft_value_none(), kScopeCancelled} : outcome);
  }
  while (head_ != nullptr) deliver(head_, outcome);
  release();  // the continuation's reference
}

void CFuture::discard_continuation() noexcept {
  // Only if the loop closed with this continuation still queued, which
  // weft_runtime_destroy's order rules out (see runtime.cc); free the
  // reference so nothing leaks.
  set_loop_flag(kContinuationRan, true);
  release();
}

void CFuture::destroy() noexcept {
  Runtime& runtime = this->runtime();
  if (is_ready() && !is_cancelled() && status_ != WEFT_OK && status_ != WEFT_ERR_BROKEN_PROMISE &&
      !observed_.load(std::memory_order_relaxed) && !runtime.destroying.load(std::memory_order_relaxed)) {
    runtime.report(WEFT_EVENT_UNOBSERVED_FAILURE, status_, message_.c_str(weft_status_str(status_)),
                   *name() != '\0' ? name() : nullptr);
  }
  runtime.arena.remove(handle());
  runtime.futures_alive.fetch_sub(1, std::memory_order_relaxed);
  this->~CFuture();
  runtime.allocator.deallocate(this, sizeof(CFuture), alignof(CFuture));
}

void CFuture::force_free() noexcept {
  // Teardown only: nothing else refers to it any more (see runtime.cc).
  Runtime& runtime = this->runtime();
  runtime.arena.remove(handle());
  runtime.futures_alive.fetch_sub(1, std::memory_order_relaxed);
  this->~CFuture();
  runtime.allocator.deallocate(this, sizeof(CFuture), alignof(CFuture));
}

namespace {
// future_of's message for a released future (`what`: a short name from
// this library), on the stack.
struct ReleasedMessage {
  char text[160];
  explicit ReleasedMessage(const char* what) noexcept {
    std::snprintf(text, sizeof text, "%s (weft_future_t) was released: every reference is gone", what);
  }
};

constexpr const char* kOperationBound = "the future of an operation (a timer, I/O) is completed by its operation";
}  // namespace

CFuture& future_of(const weft_future_t* future, const char* what) {
  CFuture& f = lookup<CFuture>(future, Kind::future, what);
  if (!f.usable()) [[unlikely]] fail(Errc::stale_handle, ReleasedMessage(what).text);
  return f;
}

weft_status usable_status(const char* function, const CFuture& f) noexcept {
  if (f.usable()) [[likely]] return WEFT_OK;
  return reject(function, Errc::stale_handle, ReleasedMessage("future").text);
}

}  // namespace weft::capi

// ---- the C API ---------------------------------------------------------------

using weft::Errc;
using weft::capi::api;
using weft::capi::CFuture;
using weft::capi::fail;
using weft::capi::Kind;
using weft::capi::lookup;
using weft::capi::require;
using weft::capi::Scope;

using weft::capi::future_of;

extern "C" {

WEFT_API weft_status weft_future_create(weft_future_t** out, weft_loop_t* loop) {
  // The body's first two checks, without throwing (precheck.h).
  if (out == nullptr) return weft::capi::reject(__func__, Errc::invalid_argument, "out is NULL");
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    require(out, "out");
    Scope& scope = weft::capi::loop_scope(loop, "weft_future_create");
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    *out = CFuture::create(scope)->c_handle();
    return WEFT_OK;
  });
}

namespace {

// future_of's and require_not_operation_bound's checks for the bodies of
// weft_future_resolve and weft_future_reject, without throwing.
weft_status completable_status(const char* function, const CFuture& f) noexcept {
  if (const weft_status s = weft::capi::usable_status(function, f); s != WEFT_OK) return s;
  if (f.operation_bound()) return weft::capi::reject(function, Errc::invalid_state, weft::capi::kOperationBound);
  return WEFT_OK;
}

}  // namespace

WEFT_API weft_status weft_future_resolve(weft_future_t* future, const weft_value* value) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    CFuture& f = lookup<CFuture>(future, Kind::future, "future");
    if (const weft_status s = completable_status("weft_future_resolve", f); s != WEFT_OK) return s;
    weft::capi::Value v;
    if (value != nullptr) v = weft::capi::Value::from_c(*value, f.runtime().allocator);
    return f.complete(WEFT_OK, std::move(v), nullptr, /*owned=*/false) ? WEFT_OK
                                                                      : WEFT_ERR_ALREADY_COMPLETED;
  });
}

WEFT_API weft_status weft_future_reject(weft_future_t* future, weft_status status, const char* message) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    CFuture& f = lookup<CFuture>(future, Kind::future, "future");
    if (const weft_status s = completable_status("weft_future_reject", f); s != WEFT_OK) return s;
    if (status >= 0 || (status > WEFT_STATUS_USER && !weft::capi::is_table_status(status))) {
      fail(Errc::invalid_argument, "weft_future_reject: status " + std::to_string(status) +
                                       " is neither a weft failure code nor <= WEFT_STATUS_USER");
    }
    return f.complete(status, weft::capi::Value(), message, /*owned=*/true, /*message_required=*/true)
               ? WEFT_OK
               : WEFT_ERR_ALREADY_COMPLETED;
  });
}

WEFT_API weft_status weft_future_cancel(weft_future_t* future) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    return future_of(future).request_cancel() ? WEFT_OK : WEFT_ERR_ALREADY_COMPLETED;
  });
}

WEFT_API weft_status weft_future_then(weft_future_t* future, weft_loop_t* loop,
                                      weft_future_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    CFuture& f = lookup<CFuture>(future, Kind::future, "future");
    if (const weft_status s = weft::capi::usable_status("weft_future_then", f); s != WEFT_OK) return s;
    if (const weft_status s = weft::capi::check("weft_future_then", loop); s != WEFT_OK) return s;
    Scope& scope = weft::capi::loop_scope(loop, "weft_future_then");
    require(reinterpret_cast<const void*>(callback), "callback");
    if (&scope.runtime != &f.runtime()) {
      fail(Errc::invalid_argument, "weft_future_then: the loop belongs to another runtime than the future");
    }
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    f.add_callback(scope, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_future_retain(weft_future_t* future) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    future_of(future).retain_handle();  // inside a callback: may bring it back
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_future_release(weft_future_t* future) {
  if (future == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    if (!lookup<CFuture>(future, Kind::future, "future").release_handle()) {
      return weft::capi::reject("weft_future_release", Errc::stale_handle,
                                "weft_future_release: every reference was already released");
    }
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_future_result(weft_status* status, weft_value* value, const char** message,
                                        weft_future_t* future) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    CFuture& f = future_of(future);
    if (!f.is_ready()) return WEFT_ERR_NOT_READY;
    const weft::capi::Outcome outcome = f.outcome();
    f.mark_observed();
    if (status != nullptr) *status = outcome.status;
    if (value != nullptr) *value = outcome.value;
    if (message != nullptr) *message = outcome.message;
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_future_set_name(weft_future_t* future, const char* name) {
  if (const weft_status s = weft::capi::check(__func__, future); s != WEFT_OK) return s;
  return api(__func__, [&] {
    CFuture& f = future_of(future);
    f.runtime().require_loop_thread("weft_future_set_name");
    f.set_name(name);
    return WEFT_OK;
  });
}

}  // extern "C"
