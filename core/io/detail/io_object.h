// weft::detail::IoObject: what every I/O object (stream, listener, UDP socket,
// signal watcher, process) is built on, and IoRef, the reference to one.
//
// Lifetime. An IoObject lives on the heap and is reference-counted (atomic, so
// a reference may be dropped on any thread). References are held by the
// user-facing object (TcpStream, ...), by libuv while the handle is open (the
// "open" reference, dropped as the close callback's last act), by every
// operation whose future carries the object's cancel hook, and by callbacks
// posted to the loop on its behalf. So the object outlives its libuv handle,
// and an object whose loop has closed stays valid (and closed) for as long as
// the user holds it.
//
// States: fresh (handle not initialised) -> open (uv_*_init succeeded; the
// object is attached to the loop, see LoopAccess::attach_resource) -> closing
// (close() called: pending operations have failed with Errc::closed, uv_close
// is under way) -> closed (the close callback ran: wait_closed() futures
// complete). close() is idempotent; the close callback runs exactly once.
// Loop::close() closes every object still open.
//
// Keeping the loop alive. An open handle is unref'd (uv_unref) while nothing
// waits on it and ref'd while operations are pending (op_started/op_finished),
// so Loop::run() keeps going exactly as long as some operation is pending,
// the same rule as for futures. libuv still polls unref'd handles: a stream
// keeps reading ahead while nothing waits, within its buffer limit.
//
// Cancellation. Every pending operation's promise carries the object's cancel
// hook (watch()). When such a future is cancelled, from any thread, the hook
// posts sweep_cancelled() to the loop, which drops the operations whose
// futures were cancelled and undoes what they started. Objects also check
// `promise.cancelled()` before completing an operation, so a cancellation the
// sweep has not seen yet is never a problem.
//
// Threads: everything but add_ref/release and the cancel hook runs on the
// loop thread; debug builds check it (Errc::wrong_thread).
#pragma once

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/future/future.h"
#include "core/loop/loop.h"

namespace weft::detail {

class IoObject : public LoopResource {
 public:
  IoObject(const IoObject&) = delete;
  IoObject& operator=(const IoObject&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    // The only reference left: nobody can add one, so no read-modify-write.
    if (refs_.load(std::memory_order_acquire) == 1 ||
        refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  Loop& loop() const noexcept { return *loop_; }
  // Any thread (a snapshot).
  bool is_open() const noexcept { return state() == State::open; }
  bool is_closed() const noexcept { return state() == State::closed; }

  // Starts closing (idempotent): pending operations fail with Errc::closed and
  // the handle is closed. Loop thread.
  void close() noexcept;
  // close() from any thread: posted to the loop when called elsewhere (for
  // destructors of the user-facing objects). Does nothing, and does not touch
  // the loop, once the object is closing or closed.
  void close_from_any_thread() noexcept;
  // Completes once the handle's close callback has run. Loop thread.
  Future<void> wait_closed();

  // Throws Exception(wrong_thread) when called off the loop thread (debug
  // builds only), naming `what`.
  void check_thread(const char* what) const;

  // The error operations on a closed object fail with.
  Error closed_error() const noexcept;

 protected:
  // `kind` names the object in messages ("TCP stream").
  IoObject(Loop& loop, const char* kind) noexcept;
  virtual ~IoObject();

  // Call once uv_*_init succeeded on `handle` (whose data must point to this
  // object): attaches to the loop, takes the "open" reference, unrefs.
  void opened(uv_handle_t* handle) noexcept;

  // Fails every pending operation with `error` (the object is closing).
  virtual void fail_pending(const Error& error) noexcept = 0;
  // Drops operations whose futures were cancelled (see the header comment).
  virtual void sweep_cancelled() noexcept = 0;
  // Starts closing the handle; the default is uv_close. Must end in on_close.
  virtual void close_handle(uv_handle_t* handle) noexcept;
  // The handle's close callback, for close_handle overrides.
  static void on_close(uv_handle_t* handle) noexcept;

  // The object's cancel hook, with the reference one registration holds.
  CancelHook* take_hook() noexcept {
    add_ref();
    return &hook_;
  }
  // Registers the cancel hook on `promise`.
  template <class T>
  void watch(Promise<T>& promise) noexcept {
    promise.set_cancel_hook(take_hook());
  }

  // Pending-operation accounting: the handle is ref'd while the count is > 0.
  void op_started() noexcept;
  void op_finished() noexcept;

  const char* kind() const noexcept { return kind_; }
  uv_handle_t* handle() const noexcept { return handle_; }

  enum class State : std::uint8_t { fresh, open, closing, closed };
  State state() const noexcept { return state_.load(std::memory_order_acquire); }

 private:
  struct Hook : CancelHook {
    IoObject* owner;
  };

  void close_for_loop() noexcept override { close(); }
  static void hook_fired(CancelHook* hook, bool cancelled) noexcept;

  std::atomic<std::uint32_t> refs_{1};
  Loop* const loop_;
  const char* const kind_;
  uv_handle_t* handle_ = nullptr;
  // Written on the loop thread; atomic so that close_from_any_thread() may
  // look at it from elsewhere.
  std::atomic<State> state_{State::fresh};
  std::size_t pending_ops_ = 0;
  Hook hook_;
  std::vector<Promise<void>> close_waiters_;
};

// An owning reference to an IoObject (or a subclass).
template <class T>
class IoRef {
 public:
  IoRef() noexcept = default;
  // Adopts one reference already taken (a new object starts with one).
  static IoRef adopt(T* object) noexcept {
    IoRef ref;
    ref.object_ = object;
    return ref;
  }
  // Takes a new reference.
  static IoRef share(T* object) noexcept {
    if (object != nullptr) object->add_ref();
    return adopt(object);
  }
  IoRef(const IoRef& other) noexcept : object_(other.object_) {
    if (object_ != nullptr) object_->add_ref();
  }
  IoRef(IoRef&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  // From a reference to a derived class (to IoRef<IoObject>, say).
  template <class U>
    requires(std::is_convertible_v<U*, T*>)
  IoRef(IoRef<U>&& other) noexcept : object_(other.release_raw()) {}
  // To a derived class the caller knows the object to be.
  template <class U>
  static IoRef downcast(IoRef<U>&& other) noexcept {
    return adopt(static_cast<T*>(other.release_raw()));
  }
  IoRef& operator=(IoRef other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }
  ~IoRef() { reset(); }

  void reset() noexcept {
    if (object_ != nullptr) std::exchange(object_, nullptr)->release();
  }
  T* get() const noexcept { return object_; }
  T* operator->() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }
  // Gives up the reference without releasing it.
  T* release_raw() noexcept { return std::exchange(object_, nullptr); }

 private:
  T* object_ = nullptr;
};

// The buffer libuv reads into (alloc_cb): one per thread, 64 KiB, consumed by
// the read callback that follows the allocation before any other read.
uv_buf_t read_scratch() noexcept;
void alloc_read_scratch(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
// Takes the thread's scratch buffer, with the bytes just read into it, for a
// reader that found no memory to copy them to; the thread makes a new one
// when it next reads, unless the reader gives it back first.
std::unique_ptr<char[]> take_read_scratch() noexcept;
void give_back_read_scratch(std::unique_ptr<char[]> scratch) noexcept;

}  // namespace weft::detail
