// weft::detail::ResultStorage<T>: a future's outcome as its shared state
// keeps it — a value, an Error or an exception in one union, whose kind the
// owner keeps elsewhere (a shared state: in its state word) instead of
// beside it.
//
// A Result<T> is a std::variant, whose index takes a word of its own once
// padded: 24 bytes for a uint64_t. This is the largest alternative alone:
// 16 bytes for a uint64_t (an Error's size). The owner says on every call
// which alternative lives there (kNone: none does) and destroys it before
// the storage goes.
//
// Not thread-safe: the owner orders the write before any read (a promise
// writes it before it publishes the future's completion).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/result.h"

namespace weft::detail {

template <class T>
class ResultStorage {
  struct NoValue {};
  using Stored = std::conditional_t<std::is_void_v<T>, NoValue, T>;

 public:
  // Which alternative lives in the storage (two bits).
  enum Kind : std::uint32_t { kNone = 0, kValue = 1, kError = 2, kException = 3 };

  ResultStorage() noexcept = default;  // holds nothing
  ResultStorage(const ResultStorage&) = delete;
  ResultStorage& operator=(const ResultStorage&) = delete;
  ~ResultStorage() = default;  // the owner destroy()s what lives here

  // Each constructs an alternative into the empty storage and returns its
  // kind. Only the value's constructor may throw (nothing lives here then).
  template <class... A>
  Kind emplace_value(A&&... args) {
    if constexpr (std::is_void_v<T>) {
      static_assert(sizeof...(A) == 0, "a void future's value takes no arguments");
    } else {
      ::new (static_cast<void*>(bytes_)) T(std::forward<A>(args)...);
    }
    return kValue;
  }
  Kind emplace_error(Error error) noexcept {
    ::new (static_cast<void*>(bytes_)) Error(std::move(error));
    return kError;
  }
  Kind emplace_exception(std::exception_ptr exception) noexcept {
    ::new (static_cast<void*>(bytes_)) std::exception_ptr(std::move(exception));
    return kException;
  }
  Kind emplace_result(Result<T>&& result) {
    switch (result.state_.index()) {
      case 0:
        if constexpr (std::is_void_v<T>) {
          return kValue;
        } else {
          return emplace_value(std::get<0>(std::move(result.state_)));
        }
      case 1:
        return emplace_error(std::get<1>(std::move(result.state_)));
      default:
        return emplace_exception(std::get<2>(std::move(result.state_)));
    }
  }

  // The outcome of `kind` (not kNone), moved out: what is left still lives
  // here, to be destroyed.
  Result<T> take(Kind kind) {
    switch (kind) {
      case kValue:
        if constexpr (std::is_void_v<T>) {
          return Result<T>();
        } else {
          return Result<T>(std::in_place, std::move(value()));
        }
      case kError:
        return Result<T>(std::move(as<Error>()));
      default:
        return Result<T>(std::move(as<std::exception_ptr>()));
    }
  }

  // The value; only while kValue lives here.
  template <class U = T>
    requires(!std::is_void_v<U>)
  U& value() noexcept {
    return as<U>();
  }

  // Destroys what lives here (nothing for kNone).
  void destroy(Kind kind) noexcept {
    switch (kind) {
      case kNone:
        break;
      case kValue:
        if constexpr (!std::is_void_v<T>) std::destroy_at(&as<T>());
        break;
      case kError:
        std::destroy_at(&as<Error>());
        break;
      case kException:
        std::destroy_at(&as<std::exception_ptr>());
        break;
    }
  }

 private:
  template <class U>
  U& as() noexcept {
    return *std::launder(reinterpret_cast<U*>(bytes_));
  }

  static constexpr std::size_t kBytes =
      std::max({sizeof(Stored), sizeof(Error), sizeof(std::exception_ptr)});
  static constexpr std::size_t kAlign =
      std::max({alignof(Stored), alignof(Error), alignof(std::exception_ptr)});

  alignas(kAlign) unsigned char bytes_[kBytes];
};

// The outcome of a word-sized value: the largest alternative, an Error.
static_assert(sizeof(void*) != 8 || sizeof(ResultStorage<std::uint64_t>) == 16,
              "a word-sized value's outcome is an Error's 16 bytes");

}  // namespace weft::detail
