#include "capi/src/op_future.h"

#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"

namespace weft::capi {

CFailure::CFailure(const Error& error) : status(to_status(error.code())), message(error.message()) {}

weft_future_t* OpFuture::attach(Scope& scope, Producer* operation, bool wanted, bool observed) {
  if (!wanted) return nullptr;
  CFuture* future = CFuture::create(scope);
  try {
    future->extras().producer = operation;
  } catch (...) {
    future->release_handle();  // nothing can complete it: broken, then freed
    throw;
  }
  future->bind_to_operation();
  future->add_ref();
  future->add_producer();
  future_ = future;
  observed_ = observed;
  return future->c_handle();
}

void OpFuture::abandon() noexcept {
  CFuture* future = future_;
  if (future == nullptr) return;
  reset();
  future->release_handle();
}

void OpFuture::complete(weft_status status, const char* message, Value value) noexcept {
  if (future_ == nullptr) return;
  if (FutureExtras* extras = future_->extras_if_any()) extras->producer = nullptr;
  if (observed_) future_->mark_observed();
  try {
    future_->complete(status, std::move(value), message, /*owned=*/true);
  } catch (...) {
    // complete() copies nothing that can fail but the message, which it
    // handles; a POINTER value's ownership stays with weft either way.
  }
  reset();
}

void OpFuture::reset() noexcept {
  CFuture* future = std::exchange(future_, nullptr);
  if (future == nullptr) return;
  if (FutureExtras* extras = future->extras_if_any()) extras->producer = nullptr;
  future->release_producer();
  future->release();
}

}  // namespace weft::capi
