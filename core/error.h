// weft::Error (a code and a message, a value) and the exceptions that carry one.
//
// Futures hold either a value, an Error (which is how cancellation is stored:
// code Errc::cancelled) or a std::exception_ptr. Reading a failed result throws:
// weft::Cancelled for a cancelled one, weft::Exception for any other Error, and
// the original exception for an exception_ptr.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errc.h"

namespace weft {

namespace detail {

// An immutable, reference-counted string: one pointer wide, so an Error (and
// every Result that may hold one) stays small. Copies share the text.
class SharedText {
 public:
  SharedText() = default;
  explicit SharedText(std::string_view text);
  SharedText(const SharedText& other) noexcept;
  SharedText(SharedText&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  SharedText& operator=(SharedText other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~SharedText();

  bool empty() const noexcept { return block_ == nullptr; }
  std::string_view view() const noexcept;
  // The text, NUL-terminated; "" when empty.
  const char* c_str() const noexcept;

 private:
  struct Block;
  Block* block_ = nullptr;
};

template <class T>
class ResultStorage;

}  // namespace detail

class Error {
 public:
  Error() = default;
  explicit Error(Errc code, std::string_view message = {}) : code_(code) {
    if (!message.empty()) message_ = detail::SharedText(message);
  }

  Errc code() const noexcept { return code_; }
  // The message given at construction, or the code's fixed message.
  std::string message() const {
    return std::string(message_.empty() ? errc_message(code_) : message_.view());
  }
  // The same, NUL-terminated, without a copy: valid while this Error (or a
  // copy of it, which shares the text) lives.
  const char* c_message() const noexcept {
    return message_.empty() ? errc_message(code_).data() : message_.c_str();
  }
  bool is_cancelled() const noexcept { return code_ == Errc::cancelled; }

  friend bool operator==(const Error& a, const Error& b) noexcept { return a.code_ == b.code_; }

 private:
  // A future's stored outcome keeps the code and the message apart.
  template <class T>
  friend class detail::ResultStorage;
  Error(Errc code, detail::SharedText message) noexcept : code_(code), message_(std::move(message)) {}

  Errc code_ = Errc::unknown;
  detail::SharedText message_;
};

// Thrown when a failed result is read; carries the Error.
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error)
      : std::runtime_error(error.message()), error_(std::move(error)) {}
  explicit Exception(Errc code, std::string_view message = {}) : Exception(Error(code, message)) {}

  const Error& error() const noexcept { return error_; }
  Errc code() const noexcept { return error_.code(); }

 private:
  Error error_;
};

// Thrown when a cancelled result is read, and (with tasks) at the suspension
// point of a cancelled coroutine.
class Cancelled : public Exception {
 public:
  Cancelled() : Exception(Errc::cancelled) {}
  explicit Cancelled(std::string_view message) : Exception(Errc::cancelled, message) {}
};

// Thrown when a deadline passes: by wait_for/with_timeout when their time
// limit cancelled the work (distinct from Cancelled: a timeout is an error,
// not a cancellation of the caller), and when a timed_out Error is read.
class TimedOut : public Exception {
 public:
  TimedOut() : Exception(Errc::timed_out) {}
  explicit TimedOut(std::string_view message) : Exception(Errc::timed_out, message) {}
};

// Several failures at once, none dropped: what a TaskGroup throws when its
// children (or its body) failed. errors() holds each one in the order they
// happened; what() names how many and the first.
class ErrorGroup : public Exception {
 public:
  explicit ErrorGroup(std::vector<std::exception_ptr> errors, std::string_view context = {});

  const std::vector<std::exception_ptr>& errors() const noexcept { return errors_; }

 private:
  std::vector<std::exception_ptr> errors_;
};

// Throws the exception that matches `error` (Cancelled, TimedOut or
// Exception).
[[noreturn]] void throw_error(const Error& error);

// Converts the exception being handled (inside a catch block) to an Error:
// weft::Exception keeps its Error, any other std::exception becomes
// Errc::exception with its what(), anything else Errc::unknown.
Error error_from_current_exception();

}  // namespace weft
