#include "core/io/fd_watch.h"

#include <uv.h>

#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft {

namespace detail {

namespace {

// The descriptors watched on each libuv loop. libuv itself notices a second
// poll handle on a descriptor only once the first has been handed to the
// kernel; otherwise the second silently takes the events away from the
// first. Any thread (loops live on different threads).
class WatchedFds {
 public:
  // False if `fd` is watched on `loop` already.
  bool add(const uv_loop_t* loop, int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    return fds_.insert({loop, fd}).second;
  }
  void remove(const uv_loop_t* loop, int fd) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    fds_.erase({loop, fd});
  }

 private:
  std::mutex mutex_;
  std::set<std::pair<const uv_loop_t*, int>> fds_;
};

WatchedFds& watched_fds() {
  static WatchedFds* fds = new WatchedFds();  // never destroyed: watches may close at exit
  return *fds;
}

std::string already_watched(int fd) { return "watch fd " + std::to_string(fd) + ": already watched on this loop"; }

}  // namespace

// The uv_poll_t behind an FdWatch: its pending waits (at most one per
// direction) and the events the poll handle is started with. Loop thread.
class FdWatchImpl final : public IoObject {
 public:
  static IoRef<FdWatchImpl> watch(Loop& loop, int fd) {
    if (fd < 0) throw Exception(Errc::invalid_argument, "watch fd " + std::to_string(fd) + ": not a file descriptor");
    auto impl = IoRef<FdWatchImpl>::adopt(new FdWatchImpl(loop, fd));
    impl->check_thread("watch");
    impl->waiters_.reserve(2);
    uv_loop_t* uv = detail::LoopAccess::uv_loop(loop);
    if (!watched_fds().add(uv, fd)) throw Exception(Errc::invalid_argument, already_watched(fd));
    int rc = uv_poll_init(uv, &impl->poll_, fd);
    if (rc < 0) {  // nothing was initialised: no handle to close
      watched_fds().remove(uv, fd);
      if (rc == UV_EEXIST) throw Exception(Errc::invalid_argument, already_watched(fd));
      throw Exception(Errc::invalid_argument, "watch fd " + std::to_string(fd) + ": " + uv_strerror(rc));
    }
    impl->poll_.data = impl.get();
    impl->opened(reinterpret_cast<uv_handle_t*>(&impl->poll_));
    return impl;
  }

  Future<int> wait(int events) {
    if (!is_open()) return make_failed_future<int>(closed_error());
    check_thread("wait");
    if (events == 0 || (events & ~(FdWatch::kReadable | FdWatch::kWritable)) != 0) {
      return make_failed_future<int>(
          Error(Errc::invalid_argument, "fd wait: events must be readable, writable or both"));
    }
    drop_cancelled();
    if ((waiting_events() & events) != 0) {
      return make_failed_future<int>(Error(Errc::invalid_state, "fd wait: a wait for this direction is already pending"));
    }
    const int want = waiting_events() | events;
    if (want != polled_events_) {
      int rc = uv_poll_start(&poll_, uv_events(want), &FdWatchImpl::on_poll);
      if (rc < 0) return make_failed_future<int>(uv_error(rc, "poll fd " + std::to_string(fd_)));
      polled_events_ = want;
    }
    auto [promise, future] = detail::make_hooked_promise<int>();
    IoObject::watch(promise);
    if (waiters_.empty()) op_started();
    waiters_.push_back(Waiter{std::move(promise), events});
    return std::move(future);
  }

  int waiting_events() const noexcept {
    if (!is_open()) return 0;
    int events = 0;
    for (const Waiter& waiter : waiters_) {
      if (!waiter.promise.cancelled()) events |= waiter.events;
    }
    return events;
  }

  int fd() const noexcept { return fd_; }

 private:
  struct Waiter {
    Promise<int> promise;
    int events;  // FdWatch::kReadable | kWritable
  };

  FdWatchImpl(Loop& loop, int fd) noexcept : IoObject(loop, "fd watch"), fd_(fd) {}

  static int uv_events(int events) noexcept {
    return ((events & FdWatch::kReadable) != 0 ? UV_READABLE : 0) |
           ((events & FdWatch::kWritable) != 0 ? UV_WRITABLE : 0);
  }

  void close_handle(uv_handle_t* handle) noexcept override {
    watched_fds().remove(handle->loop, fd_);
    IoObject::close_handle(handle);
  }

  void fail_pending(const Error& error) noexcept override {
    polled_events_ = 0;  // the handle is being closed, which stops it
    std::vector<Waiter> waiters = std::move(waiters_);
    waiters_.clear();
    for (Waiter& waiter : waiters) waiter.promise.set_error(error);
  }

  void sweep_cancelled() noexcept override {
    if (!is_open()) return;
    drop_cancelled();
    if (!update_scheduled_) update_poll();
  }

  // Forgets waits whose futures were cancelled.
  void drop_cancelled() noexcept {
    if (waiters_.empty()) return;
    std::erase_if(waiters_, [](const Waiter& w) { return w.promise.cancelled(); });
    if (waiters_.empty()) op_finished();
  }

  // Starts, changes or stops the poll handle to match the pending waits.
  void update_poll() noexcept {
    const int want = waiting_events();
    if (want == polled_events_) return;
    if (want == 0) {
      uv_poll_stop(&poll_);
      polled_events_ = 0;
      return;
    }
    int rc = uv_poll_start(&poll_, uv_events(want), &FdWatchImpl::on_poll);
    if (rc < 0) {
      fail_waiters(uv_error(rc, "poll fd " + std::to_string(fd_)));
      return;
    }
    polled_events_ = want;
  }

  // Fails the pending waits (the watch stays open) and stops polling.
  void fail_waiters(const Error& error) noexcept {
    std::vector<Waiter> waiters = std::move(waiters_);
    waiters_.clear();
    if (!waiters.empty()) op_finished();
    uv_poll_stop(&poll_);
    polled_events_ = 0;
    for (Waiter& waiter : waiters) waiter.promise.set_error(error);
  }

  // After a delivery the poll handle keeps its events until the callbacks
  // the delivery scheduled have run (they are ahead in the ready queue), so
  // a callback that waits again leaves the kernel registration as it is.
  void schedule_update() noexcept {
    if (update_scheduled_) return;
    try {
      loop().call_soon([self = IoRef<FdWatchImpl>::share(this)] {
        self->update_scheduled_ = false;
        if (self->is_open()) self->update_poll();
      });
      update_scheduled_ = true;
    } catch (...) {
      update_poll();  // no memory for the deferral: update now
    }
  }

  static void on_poll(uv_poll_t* handle, int status, int uv_ready) {
    auto* self = static_cast<FdWatchImpl*>(handle->data);
    auto keep = IoRef<FdWatchImpl>::share(self);  // a continuation may close us
    if (status == UV_EBADF) {
      // libuv's report of POLLERR (an error pending on the socket: a refused
      // connect, a reset), after it stopped the handle. weft/fd.h promises
      // readiness in every direction then: the read, write or SO_ERROR says
      // what happened. A wait taken again restarts the handle.
      self->polled_events_ = 0;
      uv_ready = UV_READABLE | UV_WRITABLE;
    } else if (status < 0) {
      self->fail_waiters(uv_error(status, "poll fd " + std::to_string(self->fd_)));
      return;
    }
    const int ready = ((uv_ready & UV_READABLE) != 0 ? FdWatch::kReadable : 0) |
                      ((uv_ready & UV_WRITABLE) != 0 ? FdWatch::kWritable : 0);
    if (ready == 0 || self->waiters_.empty()) return;
    // Take the waits this delivery completes out before completing any.
    Waiter done[2];
    int completed = 0;
    for (auto it = self->waiters_.begin(); it != self->waiters_.end();) {
      if ((it->events & ready) != 0 && completed < 2) {
        done[completed++] = std::move(*it);
        it = self->waiters_.erase(it);
      } else {
        ++it;
      }
    }
    if (completed == 0) return;
    if (self->waiters_.empty()) self->op_finished();
    for (int i = 0; i < completed; ++i) done[i].promise.set_value(done[i].events & ready);
    if (self->is_open() && self->waiting_events() != self->polled_events_) self->schedule_update();
  }

  uv_poll_t poll_;
  const int fd_;
  int polled_events_ = 0;  // what poll_ is started with; 0: stopped
  bool update_scheduled_ = false;
  std::vector<Waiter> waiters_;
};

}  // namespace detail

FdWatch::FdWatch(detail::IoRef<detail::FdWatchImpl> impl) noexcept : IoHandle(std::move(impl)) {}

detail::FdWatchImpl* FdWatch::impl() const noexcept { return static_cast<detail::FdWatchImpl*>(object()); }

FdWatch FdWatch::watch(Loop& loop, int fd) { return FdWatch(detail::FdWatchImpl::watch(loop, fd)); }

Future<int> FdWatch::wait(int events) {
  if (impl() == nullptr) return make_failed_future<int>(Error(Errc::closed, "the fd watch is empty"));
  return impl()->wait(events);
}

int FdWatch::waiting_events() const noexcept { return impl() != nullptr ? impl()->waiting_events() : 0; }

int FdWatch::fd() const noexcept { return impl() != nullptr ? impl()->fd() : -1; }

}  // namespace weft
