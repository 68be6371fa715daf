// weft::capi::Value: a weft_value that weft owns — what a future holds.
//
// Scalars are stored inline. Bytes, strings and opaque pointers live in one
// reference-counted block in the runtime's allocator, so a value can be
// shared (with_timeout forwards its input's value) without copying, and an
// opaque pointer's destroy function runs once, when the last holder lets go,
// on that holder's thread.
//
// A Value is not itself thread-safe; copies of it may live on different
// threads (the block's count is atomic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "capi/src/alloc.h"
#include "weft/value.h"

namespace weft::capi {

class Value {
 public:
  Value() noexcept { u_.int64 = 0; }

  // Validates `value` and takes it: bytes and strings are copied into the
  // allocator. A POINTER's destroy function is armed only by commit(), so
  // that a call that fails after building the Value leaves the caller owning
  // the pointer. Throws Exception(invalid_argument) or std::bad_alloc.
  static Value from_c(const weft_value& value, Allocator& allocator);

  static Value int64(std::int64_t v) noexcept {
    Value out;
    out.kind_ = WEFT_VALUE_INT64;
    out.u_.int64 = v;
    return out;
  }

  Value(const Value& other) noexcept;
  Value(Value&& other) noexcept : kind_(other.kind_), u_(other.u_) { other.kind_ = WEFT_VALUE_NONE; }
  Value& operator=(Value other) noexcept {
    swap(other);
    return *this;
  }
  ~Value() { release(); }

  void swap(Value& other) noexcept {
    std::swap(kind_, other.kind_);
    std::swap(u_, other.u_);
  }

  // weft now owns a POINTER value's pointer (see from_c): its destroy
  // function will run when the last copy goes.
  void commit() noexcept;
  // Undoes commit(): the caller owns the pointer again.
  void uncommit() noexcept;

  weft_value_kind kind() const noexcept { return kind_; }

  // Sets the pointer of a POINTER value built ahead of its result (from_c
  // with weft_value_pointer(NULL, NULL)) and not shared yet.
  void set_pointer(void* pointer) noexcept;

  // A borrowed C view, valid while this Value (or a copy) lives.
  weft_value view() const noexcept;

  // A POINTER value over `size` bytes of zeroed memory from `allocator` that
  // weft frees when the value goes (an operation's structured result:
  // weft_datagram, weft_address_list). *memory receives it to fill in.
  // Throws std::bad_alloc.
  static Value owned_block(Allocator& allocator, std::size_t size, void** memory);

 private:
  struct Block;

  bool has_block() const noexcept {
    return kind_ == WEFT_VALUE_BYTES || kind_ == WEFT_VALUE_STRING || kind_ == WEFT_VALUE_POINTER;
  }
  Block* block() const noexcept { return has_block() ? u_.block : nullptr; }
  void release() noexcept;

  // 16 bytes: the kind, then a scalar or the shared block.
  weft_value_kind kind_ = WEFT_VALUE_NONE;
  union {
    int boolean;
    std::int64_t int64;
    double f64;
    Block* block;
  } u_;
};

}  // namespace weft::capi
