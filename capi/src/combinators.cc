// weft_future_all, weft_future_any and weft_future_with_timeout.
//
// A Combinator registers an ordinary callback on each input, through the
// loop handle it was given (so its scope owns those registrations, like any
// awaiter's), and produces one output future in the same scope. It holds a
// core reference to the output and to each input. Once it has its answer
// (`done_`) it takes back the registrations not yet called and stops its
// timer, so a finished combinator keeps nothing waiting (run() does not wait
// for the inputs `any` did not need), and it is freed. If the output is
// cancelled, the combinator hears it from the output's continuation
// (Producer) and cancels the inputs still pending.
// Everything here runs on the loop thread.
#include <new>
#include <string>
#include <vector>

#include "capi/src/future.h"
#include "capi/src/guard.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "capi/src/timer.h"

namespace weft::capi {

namespace {

class Combinator final : public Producer {
 public:
  enum class Type { all, any, timeout };

  static CFuture* start(Type type, Scope& scope, CFuture* const* inputs, std::size_t count,
                        std::uint64_t timeout_ns);

  Combinator(Type type, Scope& scope) noexcept : type_(type), scope_(scope) {}

  void on_output_cancelled() noexcept override {
    ++refs_;  // detach() below may drop the others
    for (std::size_t i = 0; i < count_; ++i) inputs_[i]->request_cancel();
    detach();
    unref();
  }

 private:
  struct Link {
    Combinator* owner;
    std::size_t index;
    Registration* registration;  // until called or taken back
  };

  // Done: take back what is still registered, stop the timer.
  void detach() noexcept {
    done_ = true;
    for (std::size_t i = 0; i < count_; ++i) {
      if (Registration* r = std::exchange(links_[i].registration, nullptr)) {
        inputs_[i]->cancel_registration(r, /*notify=*/false);
        unref();
      }
    }
    stop_timer();
  }

  static void on_input(void* user, weft_future_t*, weft_status status, const weft_value*,
                       const char* message) {
    Link* link = static_cast<Link*>(user);
    link->registration = nullptr;  // called: gone
    Combinator* self = link->owner;
    if (!self->done_) {
      switch (self->type_) {
        case Type::all:
          if (status != WEFT_OK) {
            self->finish(status, Value(), message);
          } else if (--self->remaining_ == 0) {
            self->finish(WEFT_OK, Value(), nullptr);
          }
          break;
        case Type::any:
          self->finish(WEFT_OK, Value::int64(static_cast<std::int64_t>(link->index)), nullptr);
          break;
        case Type::timeout:
          // The input's own value, shared (not copied).
          self->finish(status, status == WEFT_OK ? self->inputs_[0]->value() : Value(), message);
          break;
      }
    }
    self->unref();
  }

  static void on_timeout(void* user, weft_status status, const char*) {
    Combinator* self = static_cast<Combinator*>(user);
    self->timer_ = nullptr;
    if (status == WEFT_OK && !self->done_) {
      self->finish(WEFT_ERR_TIMED_OUT, Value(), "the future did not complete in time");
      self->inputs_[0]->request_cancel();
    }
    self->unref();
  }

  // Completes the output; the caller holds a reference across detach().
  void finish(weft_status status, Value value, const char* message) {
    output_->complete(status, std::move(value), message, /*owned=*/true);
    detach();
  }

  void stop_timer() noexcept {
    // Calls on_timeout(cancelled) inside, which drops the timer's reference.
    if (TimerRec* timer = std::exchange(timer_, nullptr)) cancel_timer(timer);
  }

  void unref() noexcept {
    if (--refs_ != 0) return;
    Allocator& allocator = scope_.runtime.allocator;
    if (FutureExtras* extras = output_->extras_if_any()) extras->producer = nullptr;
    output_->release_producer();
    output_->release();
    for (std::size_t i = 0; i < count_; ++i) inputs_[i]->release();
    allocator.deallocate(inputs_, sizeof(CFuture*) * count_, alignof(CFuture*));
    allocator.deallocate(links_, sizeof(Link) * count_, alignof(Link));
    allocator.destroy(this);
  }

  const Type type_;
  Scope& scope_;
  CFuture* output_ = nullptr;
  CFuture** inputs_ = nullptr;
  Link* links_ = nullptr;
  std::size_t count_ = 0;
  std::size_t remaining_ = 0;
  TimerRec* timer_ = nullptr;
  int refs_ = 1;  // start()'s own, then one per registration and the timer
  bool done_ = false;
};

CFuture* Combinator::start(Type type, Scope& scope, CFuture* const* inputs, std::size_t count,
                           std::uint64_t timeout_ns) {
  Runtime& runtime = scope.runtime;
  Allocator& allocator = runtime.allocator;
  Combinator* self = allocator.make<Combinator>(type, scope);
  // Arrays only for a non-empty input list (an allocator may refuse 0 bytes).
  auto free_parts = [&] {
    if (self->inputs_ != nullptr) allocator.deallocate(self->inputs_, sizeof(CFuture*) * count, alignof(CFuture*));
    if (self->links_ != nullptr) allocator.deallocate(self->links_, sizeof(Link) * count, alignof(Link));
    allocator.destroy(self);
  };
  try {
    if (count != 0) {
      self->inputs_ = static_cast<CFuture**>(allocator.allocate(sizeof(CFuture*) * count, alignof(CFuture*)));
      self->links_ = static_cast<Link*>(allocator.allocate(sizeof(Link) * count, alignof(Link)));
    }
    self->output_ = CFuture::create(scope);
  } catch (...) {
    free_parts();
    throw;
  }
  CFuture* output = self->output_;
  try {
    output->extras().producer = self;
  } catch (...) {
    output->release_handle();
    free_parts();
    throw;
  }
  output->add_ref();
  output->add_producer();
  for (std::size_t i = 0; i < count; ++i) {
    inputs[i]->add_ref();
    self->inputs_[i] = inputs[i];
    self->links_[i] = Link{self, i, nullptr};
  }
  self->count_ = count;
  self->remaining_ = count;

  // From here the combinator is whole: a failure finishes it with the
  // failure, drops start()'s reference and the caller's handle, and throws.
  try {
    for (std::size_t i = 0; i < count; ++i) {
      self->links_[i].registration = inputs[i]->add_registration(scope, on_input, &self->links_[i]);
      ++self->refs_;
    }
    if (type == Type::timeout) {
      const TimePoint when = runtime.loop.time() + Duration(static_cast<Duration::rep>(
                                                       timeout_ns > INT64_MAX / 2 ? INT64_MAX / 2 : timeout_ns));
      self->timer_ = arm_timer(scope, when, on_timeout, self, /*out=*/nullptr);
      ++self->refs_;
    }
  } catch (...) {
    if (!self->done_) self->finish(WEFT_ERR_NO_MEMORY, Value(), nullptr);
    output->release_handle();
    self->unref();
    throw;
  }
  if (type == Type::all && count == 0) self->finish(WEFT_OK, Value(), nullptr);
  self->unref();
  return output;
}

// start_combinator's checks, in its order, without throwing (precheck.h):
// WEFT_OK when they pass or when one it does not repeat (the thread, a
// released future, a future of another runtime) comes first.
weft_status check_combinator(const char* function, Combinator::Type type, weft_future_t** out,
                             weft_loop_t* loop, weft_future_t* const* futures,
                             std::size_t count) noexcept {
  if (out == nullptr) return reject(function, Errc::invalid_argument, "out is NULL");
  if (const weft_status s = check(function, loop); s != WEFT_OK) return s;
  HandleError error = HandleError::none;
  Scope& scope = *static_cast<Scope*>(lookup_handle(loop, Kind::loop, error));
  if (!scope.runtime.on_loop_thread()) return WEFT_OK;
  if (futures == nullptr && count != 0) {
    return reject(function, Errc::invalid_argument, "futures is NULL with a non-zero count");
  }
  if (type == Combinator::Type::any && count == 0) {
    return reject(function, Errc::invalid_argument, "weft_future_any needs at least one future");
  }
  for (std::size_t i = 0; i < count; ++i) {
    auto* f = static_cast<CFuture*>(lookup_handle(futures[i], Kind::future, error));
    if (f == nullptr) return reject_lookup(function, futures[i], Kind::future, "futures[i]");
    if (!f->usable() || &f->runtime() != &scope.runtime) return WEFT_OK;
  }
  return WEFT_OK;
}

weft_status start_combinator(const char* function, Combinator::Type type, weft_future_t** out,
                             weft_loop_t* loop, weft_future_t* const* futures, std::size_t count,
                             std::uint64_t timeout_ns) {
  if (const weft_status s = check_combinator(function, type, out, loop, futures, count); s != WEFT_OK) {
    return s;
  }
  return api(function, [&] {
    require(out, "out");
    Scope& scope = loop_scope(loop, function);
    if (futures == nullptr && count != 0) fail(Errc::invalid_argument, "futures is NULL with a non-zero count");
    if (type == Combinator::Type::any && count == 0) {
      fail(Errc::invalid_argument, "weft_future_any needs at least one future");
    }
    // Check every input before creating anything.
    std::vector<CFuture*> inputs(count);
    for (std::size_t i = 0; i < count; ++i) {
      inputs[i] = &future_of(futures[i], "futures[i]");
      if (&inputs[i]->runtime() != &scope.runtime) {
        fail(Errc::invalid_argument, "futures[" + std::to_string(i) + "] belongs to another runtime");
      }
    }
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    *out = Combinator::start(type, scope, inputs.data(), count, timeout_ns)->c_handle();
    return WEFT_OK;
  });
}

}  // namespace

}  // namespace weft::capi

using weft::capi::Combinator;

extern "C" {

WEFT_API weft_status weft_future_all(weft_future_t** out, weft_loop_t* loop, weft_future_t* const* futures,
                                     size_t count) {
  return weft::capi::start_combinator(__func__, Combinator::Type::all, out, loop, futures, count, 0);
}

WEFT_API weft_status weft_future_any(weft_future_t** out, weft_loop_t* loop, weft_future_t* const* futures,
                                     size_t count) {
  return weft::capi::start_combinator(__func__, Combinator::Type::any, out, loop, futures, count, 0);
}

WEFT_API weft_status weft_future_with_timeout(weft_future_t** out, weft_loop_t* loop, weft_future_t* future,
                                              uint64_t timeout_ns) {
  return weft::capi::start_combinator(__func__, Combinator::Type::timeout, out, loop, &future, 1, timeout_ns);
}

}  // extern "C"
