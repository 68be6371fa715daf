// weft::CancellationSource / CancellationToken / CancellationRegistration:
// cancellation that works outside coroutines too.
//
//   weft::CancellationSource source;
//   pool.post([token = source.token()] {
//     while (!token.cancelled()) crunch_a_little();     // a pool job polls it
//   });
//   source.cancel();                                    // any thread
//
// - A source cancels once; every token made from it sees it (cancelled() is
//   one atomic load). Sources and tokens are cheap to copy (they share one
//   reference-counted state, C++20's std::stop_source underneath).
// - on_cancel(fn) registers `fn` to run once when the source cancels: on the
//   thread that calls cancel(), inside that call; or at once, on the calling
//   thread, if it already was. The returned registration unregisters on
//   destruction (waiting for `fn` if it is running on another thread), so
//   what `fn` captures may die with it.
// - Tasks: `co_await weft::this_task::cancellation_token()` gives a token
//   that is cancelled when the current task is, to hand to work that runs
//   elsewhere; SpawnOptions::token (core/task/spawn.h) cancels a task when a
//   source outside it cancels.
//
// All members are safe from any thread.
#pragma once

#include <memory>
#include <stop_token>
#include <utility>

#include "core/detail/callback.h"
#include "core/error.h"

namespace weft {

class CancellationRegistration;

class CancellationToken {
 public:
  // A token that is never cancelled.
  CancellationToken() = default;

  bool cancelled() const noexcept { return token_.stop_requested(); }
  // False for a default token (nothing can cancel it).
  bool can_be_cancelled() const noexcept { return token_.stop_possible(); }
  // Throws weft::Cancelled if cancelled.
  void throw_if_cancelled() const {
    if (cancelled()) throw Cancelled();
  }

  // See the header comment. `fn` must not throw.
  template <class F>
  [[nodiscard]] CancellationRegistration on_cancel(F&& fn) const;

 private:
  friend class CancellationSource;
  explicit CancellationToken(std::stop_token token) noexcept : token_(std::move(token)) {}
  std::stop_token token_;
};

class CancellationSource {
 public:
  CancellationSource() = default;

  CancellationToken token() const noexcept { return CancellationToken(source_.get_token()); }
  // Returns true if this call cancelled it (false if it already was).
  bool cancel() noexcept { return source_.request_stop(); }
  bool cancelled() const noexcept { return source_.stop_requested(); }

 private:
  std::stop_source source_;
};

class CancellationRegistration {
 public:
  CancellationRegistration() = default;
  CancellationRegistration(CancellationRegistration&&) noexcept = default;
  CancellationRegistration& operator=(CancellationRegistration&&) noexcept = default;

  // Unregisters now (as the destructor does).
  void reset() noexcept { callback_.reset(); }
  bool active() const noexcept { return callback_ != nullptr; }

 private:
  friend class CancellationToken;
  using StopCallback = std::stop_callback<Callback>;
  explicit CancellationRegistration(std::unique_ptr<StopCallback> callback) noexcept
      : callback_(std::move(callback)) {}
  std::unique_ptr<StopCallback> callback_;
};

template <class F>
CancellationRegistration CancellationToken::on_cancel(F&& fn) const {
  if (!token_.stop_possible()) return {};
  return CancellationRegistration(
      std::make_unique<CancellationRegistration::StopCallback>(token_, Callback(std::forward<F>(fn))));
}

}  // namespace weft
