#include "capi/src/value.h"

#include <cstddef>
#include <cstring>
#include <string>

#include "capi/src/guard.h"

namespace weft::capi {

// One allocation: the header, then the bytes (NUL-terminated for strings).
struct Value::Block {
  std::atomic<std::uint32_t> refs{1};
  Allocator* allocator;
  std::size_t allocated;
  void* pointer = nullptr;
  weft_destroy_fn destroy = nullptr;  // armed by commit()
  weft_destroy_fn pending_destroy = nullptr;
  std::size_t size = 0;

  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
};

Value Value::from_c(const weft_value& value, Allocator& allocator) {
  Value out;
  const int kind = raw_enum(value.kind);
  switch (kind) {
    case WEFT_VALUE_NONE:
      return out;
    case WEFT_VALUE_BOOL:
      out.kind_ = WEFT_VALUE_BOOL;
      out.u_.boolean = value.as.boolean != 0 ? 1 : 0;
      return out;
    case WEFT_VALUE_INT64:
      out.kind_ = WEFT_VALUE_INT64;
      out.u_.int64 = value.as.int64;
      return out;
    case WEFT_VALUE_DOUBLE:
      out.kind_ = WEFT_VALUE_DOUBLE;
      out.u_.f64 = value.as.f64;
      return out;
    case WEFT_VALUE_BYTES:
    case WEFT_VALUE_STRING: {
      const weft_bytes& bytes = value.as.bytes;
      if (bytes.data == nullptr && bytes.size != 0) {
        fail(Errc::invalid_argument, "value.as.bytes.data is NULL with a non-zero size");
      }
      const std::size_t allocated = sizeof(Block) + bytes.size + 1;
      void* memory = allocator.allocate(allocated, alignof(Block));
      Block* block = ::new (memory) Block{};
      block->allocator = &allocator;
      block->allocated = allocated;
      block->size = bytes.size;
      if (bytes.size != 0) std::memcpy(block->bytes(), bytes.data, bytes.size);
      block->bytes()[bytes.size] = '\0';
      out.kind_ = static_cast<weft_value_kind>(kind);
      out.u_.block = block;
      return out;
    }
    case WEFT_VALUE_POINTER: {
      void* memory = allocator.allocate(sizeof(Block), alignof(Block));
      Block* block = ::new (memory) Block{};
      block->allocator = &allocator;
      block->allocated = sizeof(Block);
      block->pointer = value.as.pointer.pointer;
      block->pending_destroy = value.as.pointer.destroy;
      out.kind_ = WEFT_VALUE_POINTER;
      out.u_.block = block;
      return out;
    }
    default:
      break;
  }
  fail(Errc::invalid_argument, "value.kind " + std::to_string(kind) + " is not a weft_value_kind");
}

Value::Value(const Value& other) noexcept : kind_(other.kind_), u_(other.u_) {
  if (Block* b = block()) b->refs.fetch_add(1, std::memory_order_relaxed);
}

void Value::commit() noexcept {
  // A shared value (forwarded from another future) is committed already.
  if (kind_ == WEFT_VALUE_POINTER && u_.block->pending_destroy != nullptr) {
    u_.block->destroy = std::exchange(u_.block->pending_destroy, nullptr);
  }
}

void Value::set_pointer(void* pointer) noexcept {
  if (kind_ == WEFT_VALUE_POINTER) u_.block->pointer = pointer;
}

void Value::uncommit() noexcept {
  if (kind_ == WEFT_VALUE_POINTER) {
    u_.block->pending_destroy = std::exchange(u_.block->destroy, nullptr);
  }
}

void Value::release() noexcept {
  Block* block = this->block();
  kind_ = WEFT_VALUE_NONE;
  if (block == nullptr || block->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (block->destroy != nullptr) block->destroy(block->pointer);
  Allocator* allocator = block->allocator;
  const std::size_t allocated = block->allocated;
  block->~Block();
  allocator->deallocate(block, allocated, alignof(Block));
}

weft_value Value::view() const noexcept {
  weft_value out;
  out.kind = kind_;
  switch (kind_) {
    case WEFT_VALUE_BOOL:
      out.as.boolean = u_.boolean;
      break;
    case WEFT_VALUE_INT64:
      out.as.int64 = u_.int64;
      break;
    case WEFT_VALUE_DOUBLE:
      out.as.f64 = u_.f64;
      break;
    case WEFT_VALUE_BYTES:
    case WEFT_VALUE_STRING:
      out.as.bytes.data = u_.block->bytes();
      out.as.bytes.size = u_.block->size;
      break;
    case WEFT_VALUE_POINTER:
      out.as.pointer.pointer = u_.block->pointer;
      out.as.pointer.destroy = u_.block->destroy;
      break;
    default:
      out.kind = WEFT_VALUE_NONE;
      out.as.int64 = 0;
      break;
  }
  return out;
}

}  // namespace weft::capi

// ---- the C builders and readers --------------------------------------------

namespace {

weft_status read_check(const void* out, const weft_value* value, weft_value_kind a,
                       weft_value_kind b, const char* function) {
  return weft::capi::api(function, [&] {
    weft::capi::require(out, "out");
    weft::capi::require(value, "value");
    const int kind = weft::capi::raw_enum(value->kind);
    if (kind != a && kind != b) {
      weft::capi::fail(weft::Errc::invalid_argument, "the value is of another kind");
    }
    return WEFT_OK;
  });
}

}  // namespace

extern "C" {

WEFT_API weft_value weft_value_none(void) {
  weft_value v;
  v.kind = WEFT_VALUE_NONE;
  v.as.int64 = 0;
  return v;
}

WEFT_API weft_value weft_value_bool(int value) {
  weft_value v;
  v.kind = WEFT_VALUE_BOOL;
  v.as.boolean = value != 0 ? 1 : 0;
  return v;
}

WEFT_API weft_value weft_value_int64(int64_t value) {
  weft_value v;
  v.kind = WEFT_VALUE_INT64;
  v.as.int64 = value;
  return v;
}

WEFT_API weft_value weft_value_double(double value) {
  weft_value v;
  v.kind = WEFT_VALUE_DOUBLE;
  v.as.f64 = value;
  return v;
}

WEFT_API weft_value weft_value_bytes(const void* data, size_t size) {
  weft_value v;
  v.kind = WEFT_VALUE_BYTES;
  v.as.bytes.data = data;
  v.as.bytes.size = size;
  return v;
}

WEFT_API weft_value weft_value_string(const char* text) {
  weft_value v;
  v.kind = WEFT_VALUE_STRING;
  v.as.bytes.data = text != nullptr ? text : "";
  v.as.bytes.size = text != nullptr ? std::strlen(text) : 0;
  return v;
}

WEFT_API weft_value weft_value_pointer(void* pointer, weft_destroy_fn destroy) {
  weft_value v;
  v.kind = WEFT_VALUE_POINTER;
  v.as.pointer.pointer = pointer;
  v.as.pointer.destroy = destroy;
  return v;
}

WEFT_API weft_status weft_value_get_bool(int* out, const weft_value* value) {
  weft_status s = read_check(out, value, WEFT_VALUE_BOOL, WEFT_VALUE_BOOL, __func__);
  if (s == WEFT_OK) *out = value->as.boolean;
  return s;
}

WEFT_API weft_status weft_value_get_int64(int64_t* out, const weft_value* value) {
  weft_status s = read_check(out, value, WEFT_VALUE_INT64, WEFT_VALUE_INT64, __func__);
  if (s == WEFT_OK) *out = value->as.int64;
  return s;
}

WEFT_API weft_status weft_value_get_double(double* out, const weft_value* value) {
  weft_status s = read_check(out, value, WEFT_VALUE_DOUBLE, WEFT_VALUE_DOUBLE, __func__);
  if (s == WEFT_OK) *out = value->as.f64;
  return s;
}

WEFT_API weft_status weft_value_get_bytes(const void** data, size_t* size, const weft_value* value) {
  weft_status s = weft::capi::api(__func__, [&] {
    weft::capi::require(size, "size");
    return WEFT_OK;
  });
  if (s == WEFT_OK)
    s = read_check(data, value, WEFT_VALUE_BYTES, WEFT_VALUE_STRING, "weft_value_get_bytes");
  if (s == WEFT_OK) {
    *data = value->as.bytes.data;
    *size = value->as.bytes.size;
  }
  return s;
}

WEFT_API weft_status weft_value_get_pointer(void** out, const weft_value* value) {
  weft_status s = read_check(out, value, WEFT_VALUE_POINTER, WEFT_VALUE_POINTER, __func__);
  if (s == WEFT_OK) *out = value->as.pointer.pointer;
  return s;
}

}  // extern "C"

namespace weft::capi {

namespace {

// The header in front of an owned_block's memory: what freeing it needs.
struct alignas(std::max_align_t) OwnedHeader {
  Allocator* allocator;
  std::size_t size;
};

void free_owned_block(void* memory) {
  auto* header = static_cast<OwnedHeader*>(memory) - 1;
  header->allocator->deallocate(header, header->size, alignof(OwnedHeader));
}

}  // namespace

Value Value::owned_block(Allocator& allocator, std::size_t size, void** memory) {
  const std::size_t total = sizeof(OwnedHeader) + size;
  void* raw = allocator.allocate(total, alignof(OwnedHeader));
  auto* header = ::new (raw) OwnedHeader{&allocator, total};
  void* body = header + 1;
  std::memset(body, 0, size);
  try {
    Value value = from_c(weft_value_pointer(body, free_owned_block), allocator);
    value.commit();  // weft's own memory: freed with the value, whatever happens
    *memory = body;
    return value;
  } catch (...) {
    allocator.deallocate(raw, total, alignof(OwnedHeader));
    throw;
  }
}

}  // namespace weft::capi
