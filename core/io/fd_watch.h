// weft::FdWatch: readiness of a file descriptor the program owns (a socket,
// a pipe, an eventfd, ...) as one-shot waits on the loop, over uv_poll_t.
//
//   auto watch = weft::FdWatch::watch(loop, fd);
//   watch.wait(weft::FdWatch::kReadable).then(loop, [](weft::Result<int> r) {
//     // r.value(): the ready events among those waited for (kReadable here)
//   });
//
// wait(events) completes once the descriptor is ready for any of `events`
// (level-triggered: a descriptor that is ready now completes the wait at the
// loop's next I/O poll), with the subset of `events` that is ready. An error
// or hang-up on the descriptor counts as ready. At most one wait per
// direction is pending: a kReadable wait and a kWritable wait may be pending
// together, a second wait for a direction already waited on fails with
// Errc::invalid_state. A pending wait keeps Loop::run() going; cancelling
// its future drops it.
//
// Cost: the kernel registration is kept while waits are pending and changed
// only when the set of directions waited on changes. When a delivery leaves
// fewer directions waited on, the change is made after the callbacks the
// delivery scheduled have run, so a reader that waits again from its
// callback costs no kernel call per event.
//
// Ownership: the descriptor stays the caller's; weft never closes it, but
// libuv puts it in non-blocking mode. Close the watch before closing the
// descriptor. One watch per descriptor per loop (libuv refuses a second).
//
// Threads: the loop's thread; close() and the destructor from any thread
// (IoHandle).
#pragma once

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/io_handle.h"

namespace weft {

namespace detail {
class FdWatchImpl;
}

// is_open(), close() and wait_closed() come from IoHandle (io_handle.h).
class FdWatch final : public IoHandle {
 public:
  static constexpr int kReadable = 1;
  static constexpr int kWritable = 2;

  FdWatch() noexcept = default;

  // Starts watching `fd`. Throws weft::Exception: invalid_argument for a
  // negative fd, or one libuv cannot poll (a regular file, a closed fd, an fd
  // already watched on this loop), with libuv's reason.
  static FdWatch watch(Loop& loop, int fd);

  // See above. Fails (a failed future) with invalid_argument for `events`
  // 0 or with other bits than kReadable|kWritable, invalid_state for a
  // direction already waited on, closed once the watch is closed.
  [[nodiscard]] Future<int> wait(int events);

  // The directions (kReadable|kWritable) with a pending wait; 0 when closed.
  int waiting_events() const noexcept;
  // The watched descriptor; -1 for an empty watch.
  int fd() const noexcept;

 private:
  explicit FdWatch(detail::IoRef<detail::FdWatchImpl> impl) noexcept;
  detail::FdWatchImpl* impl() const noexcept;
};

}  // namespace weft
