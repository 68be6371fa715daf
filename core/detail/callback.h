// weft::detail::BasicCallback<R(Args...)>: a move-only type-erased callable with
// small-buffer storage, the unit of work in weft's queues.
//
// Callables up to kInlineSize bytes (and nothrow-movable) are stored inline, so
// `call_soon` and timers allocate nothing; larger ones are boxed on the heap.
// One pointer-sized `ops` table replaces a vtable, and `invoke_once` calls and
// destroys in a single indirect call, which is what the ready queue does.
//
// Not thread-safe: a callback is owned by whoever holds it (a queue, a timer
// slot, a future's shared state) and moved between threads only through a
// synchronised queue.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace weft::detail {

template <class Signature, std::size_t kInlineBytes = 56>
class BasicCallback;

// kInlineBytes: callables up to this size are stored inline. The default makes
// the whole object 64 bytes, one cache line.
template <class R, class... Args, std::size_t kInlineBytes>
class BasicCallback<R(Args...), kInlineBytes> {
 public:
  static constexpr std::size_t kInlineSize = kInlineBytes;

  BasicCallback() noexcept = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, BasicCallback> &&
                                     std::is_invocable_r_v<R, D&, Args...>>>
  BasicCallback(F&& f) {  // NOLINT: implicit by design, like std::function
    if constexpr (fits_inline<D>()) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      D* boxed = new D(std::forward<F>(f));
      std::memcpy(storage_, &boxed, sizeof(boxed));
      ops_ = &boxed_ops<D>;
    }
  }

  BasicCallback(BasicCallback&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) {
      ops_->relocate(storage_, other.storage_);
      other.ops_ = nullptr;
    }
  }

  BasicCallback& operator=(BasicCallback&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) {
        ops_->relocate(storage_, other.storage_);
        other.ops_ = nullptr;
      }
    }
    return *this;
  }

  BasicCallback(const BasicCallback&) = delete;
  BasicCallback& operator=(const BasicCallback&) = delete;

  ~BasicCallback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // Calls the callable; it stays stored and can be called again.
  R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  // Calls the callable and destroys it, even if it throws. Leaves *this empty.
  R invoke_once(Args... args) {
    const Ops* ops = ops_;
    ops_ = nullptr;
    return ops->invoke_destroy(storage_, std::forward<Args>(args)...);
  }

  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    R (*invoke_destroy)(void* storage, Args&&... args);
    void (*relocate)(void* dst, void* src) noexcept;  // move-construct dst, destroy src
    void (*destroy)(void* storage) noexcept;
  };

  template <class D>
  static constexpr bool fits_inline() {
    return sizeof(D) <= kInlineSize && alignof(D) <= alignof(void*) &&
           std::is_nothrow_move_constructible_v<D>;
  }

  template <class D>
  struct DestroyGuard {
    D* callable;
    ~DestroyGuard() { std::destroy_at(callable); }
  };

  template <class D>
  static D* inline_ptr(void* storage) noexcept {
    return std::launder(static_cast<D*>(storage));
  }

  template <class D>
  static D* boxed_ptr(void* storage) noexcept {
    D* boxed;
    std::memcpy(&boxed, storage, sizeof(boxed));
    return boxed;
  }

  template <class D>
  static constexpr Ops inline_ops = {
      [](void* s, Args&&... args) -> R { return (*inline_ptr<D>(s))(std::forward<Args>(args)...); },
      [](void* s, Args&&... args) -> R {
        DestroyGuard<D> guard{inline_ptr<D>(s)};
        return (*guard.callable)(std::forward<Args>(args)...);
      },
      [](void* dst, void* src) noexcept {
        D* from = inline_ptr<D>(src);
        ::new (dst) D(std::move(*from));
        std::destroy_at(from);
      },
      [](void* s) noexcept { std::destroy_at(inline_ptr<D>(s)); },
  };

  template <class D>
  struct BoxDeleter {
    D* callable;
    ~BoxDeleter() { delete callable; }
  };

  template <class D>
  static constexpr Ops boxed_ops = {
      [](void* s, Args&&... args) -> R { return (*boxed_ptr<D>(s))(std::forward<Args>(args)...); },
      [](void* s, Args&&... args) -> R {
        BoxDeleter<D> guard{boxed_ptr<D>(s)};
        return (*guard.callable)(std::forward<Args>(args)...);
      },
      [](void* dst, void* src) noexcept { std::memcpy(dst, src, sizeof(D*)); },
      [](void* s) noexcept { delete boxed_ptr<D>(s); },
  };

  const Ops* ops_ = nullptr;
  alignas(void*) unsigned char storage_[kInlineSize];
};

static_assert(sizeof(BasicCallback<void()>) == 64, "a callback is one cache line");

}  // namespace weft::detail

namespace weft {

// A unit of work: what call_soon, timers and executors run.
using Callback = detail::BasicCallback<void()>;

}  // namespace weft
