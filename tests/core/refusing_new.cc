// See refusing_new.h. Thread: the counters are thread-local, so each thread
// counts (and is refused) its own allocations.
#include "tests/core/refusing_new.h"

#include <cstdlib>
#include <new>

namespace {
thread_local long t_allocations = 0;
thread_local long t_refuse_at = -1;
thread_local bool t_forever = false;

bool refuse_this_one() noexcept {
  const long number = t_allocations++;
  return t_refuse_at >= 0 && (number == t_refuse_at || (t_forever && number > t_refuse_at));
}
}  // namespace

namespace weft_test {
long allocations_on_this_thread() noexcept { return t_allocations; }
void refuse_allocation(long n, bool forever) noexcept {
  t_refuse_at = t_allocations + n;
  t_forever = forever;
}
void allow_allocations() noexcept { t_refuse_at = -1; }
}  // namespace weft_test

void* operator new(std::size_t size) {
  if (refuse_this_one()) throw std::bad_alloc();
  if (void* p = std::malloc(size != 0 ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (refuse_this_one()) throw std::bad_alloc();
  const std::size_t align = static_cast<std::size_t>(alignment);
  const std::size_t rounded = (size + align - 1) / align * align;  // aligned_alloc wants a multiple
  if (void* p = std::aligned_alloc(align, rounded != 0 ? rounded : align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) { return operator new(size, alignment); }
// Every nothrow form too: a form left out would come from the runtime's (or
// ASan's) own operator new and not match the free() below.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return operator new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return operator new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  try {
    return operator new(size, alignment);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  try {
    return operator new(size, alignment);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
