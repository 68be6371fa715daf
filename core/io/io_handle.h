// weft::IoHandle: what the I/O objects a program holds have in common —
// streams (TcpStream, PipeStream), listeners, UDP sockets, signal watchers.
//
// An IoHandle owns one I/O object on a loop (or nothing, once moved from or
// default-constructed). Destroying it, or assigning another over it, closes
// the object; so does close(). Closing fails the object's pending operations
// with Errc::closed and completes wait_closed() once the handle is closed.
// Handles are move-only.
//
// Threads: the operations of the derived classes run on the loop's thread.
// is_open() and close() may be called from any thread (a close from elsewhere
// is posted to the loop), and so may the destructor — but not while the loop
// is being destroyed.
#pragma once

#include "core/future/future.h"
#include "core/io/detail/io_object.h"

namespace weft {

class IoHandle {
 public:
  // A snapshot from any thread; false for an empty handle.
  bool is_open() const noexcept { return object_ && object_->is_open(); }
  // Idempotent; see above.
  void close() noexcept {
    if (object_) object_->close_from_any_thread();
  }
  // Completes once the object has closed; at once for an empty or closed
  // handle. Loop thread.
  [[nodiscard]] Future<void> wait_closed() {
    return object_ ? object_->wait_closed() : make_ready_future<void>();
  }

 protected:
  IoHandle() noexcept = default;
  explicit IoHandle(detail::IoRef<detail::IoObject> object) noexcept : object_(std::move(object)) {}
  IoHandle(IoHandle&& other) noexcept = default;
  IoHandle& operator=(IoHandle&& other) noexcept {
    if (this != &other) {
      close();
      object_ = std::move(other.object_);
    }
    return *this;
  }
  ~IoHandle() { close(); }

  detail::IoObject* object() const noexcept { return object_.get(); }
  // Gives the object up without closing it (it moves to another handle).
  detail::IoRef<detail::IoObject> release_object() noexcept { return std::move(object_); }

 private:
  detail::IoRef<detail::IoObject> object_;
};

}  // namespace weft
