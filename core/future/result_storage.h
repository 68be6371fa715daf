// weft::detail::ResultStorage<T>: a future's outcome as its shared state
// keeps it — a value, an Error or an exception in one union, whose kind the
// owner keeps elsewhere (a shared state: in its state word) instead of
// beside it.
//
// A Result<T> is a std::variant, whose index takes a word of its own once
// padded: 24 bytes for a uint64_t. This is the largest alternative alone,
// and an Error is kept as its message (one pointer) while its code goes
// into the tag the owner keeps: 8 bytes for a uint64_t or void, where an
// Error itself would take 16. A code outside the tag's 23 bits (no Errc
// has one) is kept in an Error of its own on the heap instead.
//
// The tag: the kind in the low kKindBits, an error's code above them. The
// owner says on every call which tag the storage holds (kNone: nothing
// lives there) and destroys what lives there before the storage goes.
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
  // Which alternative lives in the storage: kError keeps an Error's message
  // (its code is in the tag), kBoxedError an Error* (a code too wide).
  enum Kind : std::uint32_t { kNone = 0, kValue = 1, kError = 2, kException = 3, kBoxedError = 4 };
  // See the header comment: 26 bits in all.
  using Tag = std::uint32_t;
  static constexpr unsigned kKindBits = 3;
  static constexpr unsigned kCodeBits = 23;
  static constexpr unsigned kTagBits = kKindBits + kCodeBits;

  ResultStorage() noexcept = default;  // holds nothing
  ResultStorage(const ResultStorage&) = delete;
  ResultStorage& operator=(const ResultStorage&) = delete;
  ~ResultStorage() = default;  // the owner destroy()s what lives here

  // Each constructs an alternative into the empty storage and returns its
  // tag. Only the value's constructor may throw (nothing lives here then).
  template <class... A>
  Tag emplace_value(A&&... args) {
    if constexpr (std::is_void_v<T>) {
      static_assert(sizeof...(A) == 0, "a void future's value takes no arguments");
    } else {
      ::new (static_cast<void*>(bytes_)) T(std::forward<A>(args)...);
    }
    return kValue;
  }
  // A code too wide for the tag takes an allocation, in this noexcept path
  // (std::terminate if memory runs out; no Errc takes it).
  Tag emplace_error(Error error) noexcept {
    const int code = static_cast<int>(error.code_);
    if (code < kMinCode || code > kMaxCode) {
      ::new (static_cast<void*>(bytes_)) Error*(new Error(std::move(error)));
      return kBoxedError;
    }
    ::new (static_cast<void*>(bytes_)) SharedText(std::move(error.message_));
    return kError | ((static_cast<Tag>(code) & kCodeMask) << kKindBits);
  }
  Tag emplace_exception(std::exception_ptr exception) noexcept {
    ::new (static_cast<void*>(bytes_)) std::exception_ptr(std::move(exception));
    return kException;
  }
  Tag emplace_result(Result<T>&& result) {
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

  // The outcome of `tag` (not kNone), moved out: what is left still lives
  // here, to be destroyed.
  Result<T> take(Tag tag) {
    switch (kind_of(tag)) {
      case kValue:
        if constexpr (std::is_void_v<T>) {
          return Result<T>();
        } else {
          return Result<T>(std::in_place, std::move(value()));
        }
      case kError:
        return Result<T>(Error(code_of(tag), std::move(as<SharedText>())));
      case kBoxedError:
        return Result<T>(std::move(*as<Error*>()));
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

  // Whether destroying what `tag` says lives here does nothing: none, or
  // a trivially destructible value.
  static constexpr bool trivially_gone(Tag tag) noexcept {
    return tag == kNone || (tag == kValue && std::is_trivially_destructible_v<Stored>);
  }

  // Destroys what lives here (nothing for kNone).
  void destroy(Tag tag) noexcept {
    switch (kind_of(tag)) {
      case kNone:
        break;
      case kValue:
        if constexpr (!std::is_void_v<T>) std::destroy_at(&as<T>());
        break;
      case kError:
        std::destroy_at(&as<SharedText>());
        break;
      case kBoxedError:
        delete as<Error*>();
        break;
      case kException:
        std::destroy_at(&as<std::exception_ptr>());
        break;
    }
  }

 private:
  using SharedText = weft::detail::SharedText;
  static constexpr Tag kCodeMask = (Tag{1} << kCodeBits) - 1;
  static constexpr int kMinCode = -(1 << (kCodeBits - 1));
  static constexpr int kMaxCode = (1 << (kCodeBits - 1)) - 1;

  static Kind kind_of(Tag tag) noexcept { return static_cast<Kind>(tag & ((Tag{1} << kKindBits) - 1)); }
  // The code's kCodeBits, sign-extended.
  static Errc code_of(Tag tag) noexcept {
    const int bits = static_cast<int>((tag >> kKindBits) & kCodeMask);
    return static_cast<Errc>((bits ^ (1 << (kCodeBits - 1))) - (1 << (kCodeBits - 1)));
  }

  template <class U>
  U& as() noexcept {
    return *std::launder(reinterpret_cast<U*>(bytes_));
  }

  static constexpr std::size_t kBytes =
      std::max({sizeof(Stored), sizeof(SharedText), sizeof(Error*), sizeof(std::exception_ptr)});
  static constexpr std::size_t kAlign =
      std::max({alignof(Stored), alignof(SharedText), alignof(Error*), alignof(std::exception_ptr)});

  alignas(kAlign) unsigned char bytes_[kBytes];
};

// The outcome of a word-sized value, or none: one word (an Error's message,
// an exception_ptr or the value).
static_assert(sizeof(void*) != 8 || sizeof(ResultStorage<std::uint64_t>) == 8,
              "a word-sized value's outcome is one word");
static_assert(sizeof(void*) != 8 || sizeof(ResultStorage<void>) == 8, "a void future's outcome is one word");

}  // namespace weft::detail
