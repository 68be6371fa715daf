// weft::capi::OpFuture: the weft_future_t of one asynchronous operation
// (an I/O operation, a timer), for a caller that passed a non-NULL `out`.
//
// Every asynchronous C operation reports the same way: its callback gets a
// status and a message (and its result), and, if the caller asked for one,
// the operation's future completes with the same outcome just before the
// callback runs — resolved with the result as a weft_value, or rejected with
// the status and message. The future is how the operation joins
// weft_future_all/any/with_timeout, and how it is cancelled on its own.
//
// The operation owns an OpFuture while it is pending: a core reference to
// the future (its memory) and a producer count (so it is not broken while
// the operation may still complete it). The future names the operation as
// its Producer and is marked `operation_bound`, so that cancelling it
// (weft_future_cancel, a combinator) *asks* the operation to stop instead of
// completing the future directly: the operation then completes with
// WEFT_ERR_CANCELLED if it could still be stopped, or with its real outcome
// if that was already decided — so a read's bytes are never dropped between
// the two. The future completes only through its operation.
//
// Thread: loop thread, except CFuture::request_cancel (future.h), which
// posts to the loop from other threads.
#pragma once

#include <string>
#include <utility>

#include "capi/src/future.h"
#include "capi/src/value.h"
#include "core/error.h"
#include "weft/common.h"

namespace weft::capi {

struct Scope;

// A core failure as the C API reports it: a status and a message.
struct CFailure {
  explicit CFailure(const Error& error);
  weft_status status;
  std::string message;
};

class OpFuture {
 public:
  OpFuture() noexcept = default;
  OpFuture(OpFuture&& other) noexcept
      : future_(std::exchange(other.future_, nullptr)), observed_(other.observed_) {}
  OpFuture& operator=(OpFuture&& other) noexcept {
    std::swap(future_, other.future_);
    std::swap(observed_, other.observed_);
    return *this;
  }
  OpFuture(const OpFuture&) = delete;
  OpFuture& operator=(const OpFuture&) = delete;
  ~OpFuture() { reset(); }

  // If `wanted` (the caller passed a non-NULL `out`): makes a pending
  // future in `scope` whose producer is `operation`, and returns a handle to
  // it holding the caller's reference; otherwise returns NULL. Throws
  // std::bad_alloc (nothing made then). If the operation then fails to
  // start, abandon() takes everything back.
  // `observed`: a callback hears the outcome too, so a failure nobody read
  // from the future is not reported as unobserved.
  weft_future_t* attach(Scope& scope, Producer* operation, bool wanted, bool observed);
  void abandon() noexcept;

  // Whether a future waits for the outcome (build its value only then).
  bool wanted() const noexcept { return future_ != nullptr; }

  // Completes the future (if any) and lets it go.
  void complete(weft_status status, const char* message, Value value = Value()) noexcept;
  void fail(weft_status status, const char* message) noexcept { complete(status, message); }

  // Lets the future go without completing it (it is then broken, unless
  // someone else completed it). Also what the destructor does.
  void reset() noexcept;

 private:
  CFuture* future_ = nullptr;
  bool observed_ = false;
};

}  // namespace weft::capi
