// weft::Result<T>: the outcome of an operation — a value, an Error (including
// cancellation) or an exception — as delivered to a future's continuation.
//
// Result<void> holds no value. A Result is a plain value type, owned by whoever
// holds it; it is not thread-safe.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace weft {

namespace detail {
template <class T>
class ResultStorage;  // a future's stored outcome (core/future/result_storage.h)
}  // namespace detail

template <class T>
class Result {
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

 public:
  // A successful Result<void>.
  Result()
    requires std::is_void_v<T>
      : state_(std::in_place_index<0>) {}

  template <class U = Stored>
    requires(!std::is_void_v<T> && std::is_constructible_v<Stored, U &&> &&
             !std::is_same_v<std::decay_t<U>, Result> &&
             !std::is_same_v<std::decay_t<U>, Error> &&
             !std::is_same_v<std::decay_t<U>, std::exception_ptr>)
  Result(U&& value)  // NOLINT: implicit, like std::expected
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}

  // Constructs the value in place from `args`.
  template <class... A>
  explicit Result(std::in_place_t, A&&... args)
      : state_(std::in_place_index<0>, std::forward<A>(args)...) {}

  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Result(std::exception_ptr exception)  // NOLINT
      : state_(std::in_place_index<2>, std::move(exception)) {}

  static Result cancelled() { return Result(Error(Errc::cancelled)); }

  bool ok() const noexcept { return state_.index() == 0; }
  bool has_error() const noexcept { return state_.index() == 1; }
  bool has_exception() const noexcept { return state_.index() == 2; }
  bool is_cancelled() const noexcept {
    return state_.index() == 1 && std::get<1>(state_).is_cancelled();
  }

  // The Error; for an exception, the Error it converts to. Errc::ok if ok().
  Error error() const {
    if (state_.index() == 1) return std::get<1>(state_);
    if (state_.index() == 2) {
      try {
        std::rethrow_exception(std::get<2>(state_));
      } catch (...) {
        return error_from_current_exception();
      }
    }
    return Error(Errc::ok);
  }

  const std::exception_ptr* exception() const noexcept { return std::get_if<2>(&state_); }

  // The value, or throws the failure (Cancelled, Exception, or the exception).
  decltype(auto) value() & {
    rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return static_cast<T&>(std::get<0>(state_));
  }
  decltype(auto) value() const& {
    rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(std::get<0>(state_));
  }
  T value() && {
    rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return std::move(std::get<0>(state_));
  }

  void rethrow_if_failed() const {
    if (state_.index() == 1) throw_error(std::get<1>(state_));
    if (state_.index() == 2) std::rethrow_exception(std::get<2>(state_));
  }

 private:
  friend class detail::ResultStorage<T>;  // moves the alternatives out

  std::variant<Stored, Error, std::exception_ptr> state_;
};

}  // namespace weft
