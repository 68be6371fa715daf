#include "core/error.h"

#include <exception>
#include <cstddef>
#include <new>

#include <atomic>
#include <cstring>
#include <string>

namespace weft {

namespace detail {

struct SharedText::Block {
  std::atomic<std::size_t> refs;
  std::size_t length;
  char text[1];
};

SharedText::SharedText(std::string_view text) {
  void* memory = ::operator new(offsetof(Block, text) + text.size() + 1);
  block_ = static_cast<Block*>(memory);
  ::new (&block_->refs) std::atomic<std::size_t>(1);
  block_->length = text.size();
  std::memcpy(block_->text, text.data(), text.size());
  block_->text[text.size()] = '\0';
}

SharedText::SharedText(const SharedText& other) noexcept : block_(other.block_) {
  if (block_ != nullptr) block_->refs.fetch_add(1, std::memory_order_relaxed);
}

SharedText::~SharedText() {
  if (block_ != nullptr && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    ::operator delete(block_);
  }
}

std::string_view SharedText::view() const noexcept {
  return block_ == nullptr ? std::string_view() : std::string_view(block_->text, block_->length);
}

const char* SharedText::c_str() const noexcept { return block_ == nullptr ? "" : block_->text; }

}  // namespace detail

void throw_error(const Error& error) {
  if (error.is_cancelled()) throw Cancelled(error.message());
  if (error.code() == Errc::timed_out) throw TimedOut(error.message());
  throw Exception(error);
}

namespace {

std::string describe_group(const std::vector<std::exception_ptr>& errors, std::string_view context) {
  std::string text = std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors");
  if (!context.empty()) text = std::string(context) + ": " + text;
  if (!errors.empty()) {
    try {
      std::rethrow_exception(errors.front());
    } catch (const std::exception& e) {
      text += "; first: ";
      text += e.what();
    } catch (...) {
      text += "; first: a non-standard exception";
    }
  }
  return text;
}

}  // namespace

ErrorGroup::ErrorGroup(std::vector<std::exception_ptr> errors, std::string_view context)
    : Exception(Errc::multiple_errors, describe_group(errors, context)), errors_(std::move(errors)) {}

Error error_from_current_exception() {
  try {
    throw;
  } catch (const Exception& e) {
    return e.error();
  } catch (const std::bad_alloc&) {
    return Error(Errc::no_memory);
  } catch (const std::exception& e) {
    return Error(Errc::exception, e.what());
  } catch (...) {
    return Error(Errc::unknown, "a non-standard exception was thrown");
  }
}

}  // namespace weft
