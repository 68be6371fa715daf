#include "core/io/signal.h"

#include <uv.h>

#include <csignal>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft {

namespace detail {

// The uv_signal_t behind a SignalWatcher. Besides futures, it can call a
// callback on every delivery (used by ShutdownOnSignals), which does not
// count as a pending operation.
class SignalImpl final : public IoObject {
 public:
  static IoRef<SignalImpl> watch(Loop& loop, int signum) {
    auto impl = IoRef<SignalImpl>::adopt(new SignalImpl(loop, signum));
    impl->check_thread("watch");
    throw_if_uv_error(uv_signal_init(detail::LoopAccess::uv_loop(loop), &impl->signal_),
                      "uv_signal_init");
    impl->signal_.data = impl.get();
    impl->opened(reinterpret_cast<uv_handle_t*>(&impl->signal_));
    int rc = uv_signal_start(&impl->signal_, &SignalImpl::on_signal, signum);
    if (rc < 0) {
      impl->close();
      throw Exception(uv_error(rc, "watch signal " + std::to_string(signum)));
    }
    return impl;
  }

  Future<int> wait() {
    if (!is_open()) return make_failed_future<int>(closed_error());
    check_thread("wait");
    if (undelivered_) {
      undelivered_ = false;
      return make_ready_future<int>(signum_);
    }
    auto [promise, future] = detail::make_hooked_promise<int>();
    IoObject::watch(promise);
    if (waiters_.empty()) op_started();
    waiters_.push_back(std::move(promise));
    return std::move(future);
  }

  int signum() const noexcept { return signum_; }
  void set_callback(std::function<void(int)> callback) { callback_ = std::move(callback); }

 private:
  SignalImpl(Loop& loop, int signum) noexcept : IoObject(loop, "signal watcher"), signum_(signum) {}

  void fail_pending(const Error& error) noexcept override {
    std::vector<Promise<int>> waiters = std::move(waiters_);
    for (Promise<int>& waiter : waiters) waiter.set_error(error);
  }

  void sweep_cancelled() noexcept override {
    if (waiters_.empty()) return;
    std::erase_if(waiters_, [](const Promise<int>& p) { return p.cancelled(); });
    if (waiters_.empty()) op_finished();
  }

  static void on_signal(uv_signal_t* handle, int signum) {
    auto* self = static_cast<SignalImpl*>(handle->data);
    auto keep = IoRef<SignalImpl>::share(self);  // the callback may close us
    bool delivered = false;
    if (!self->waiters_.empty()) {
      std::vector<Promise<int>> waiters = std::move(self->waiters_);
      self->op_finished();
      for (Promise<int>& waiter : waiters) delivered |= waiter.set_value(signum);
    }
    if (!delivered) self->undelivered_ = true;
    if (!self->callback_) return;
    try {
      self->callback_(signum);
    } catch (...) {
      self->loop().report({ExceptionContext::Kind::callback_exception, "exception in a signal callback",
                           std::current_exception(), Duration(0)});
    }
  }

  uv_signal_t signal_;
  const int signum_;
  bool undelivered_ = false;
  std::vector<Promise<int>> waiters_;
  std::function<void(int)> callback_;
};

}  // namespace detail

SignalWatcher::SignalWatcher(detail::IoRef<detail::SignalImpl> impl) noexcept : IoHandle(std::move(impl)) {}

detail::SignalImpl* SignalWatcher::impl() const noexcept { return static_cast<detail::SignalImpl*>(object()); }

SignalWatcher SignalWatcher::watch(Loop& loop, int signum) {
  return SignalWatcher(detail::SignalImpl::watch(loop, signum));
}

Future<int> SignalWatcher::wait() {
  if (impl() == nullptr) return make_failed_future<int>(Error(Errc::closed, "the signal watcher is empty"));
  return impl()->wait();
}

int SignalWatcher::signum() const noexcept { return impl() != nullptr ? impl()->signum() : 0; }

ShutdownOnSignals::ShutdownOnSignals(Loop& loop, std::function<void(int)> on_shutdown)
    : received_(std::make_shared<int>(0)),
      interrupt_(SignalWatcher::watch(loop, SIGINT)),
      terminate_(SignalWatcher::watch(loop, SIGTERM)) {
  if (!on_shutdown) on_shutdown = [&loop](int) { loop.stop(); };
  auto handler = [received = received_, on_shutdown = std::move(on_shutdown)](int signum) {
    if (*received != 0) {
      // A second signal: the graceful shutdown is taking too long.
      std::signal(signum, SIG_DFL);
      std::raise(signum);
      return;
    }
    *received = signum;
    on_shutdown(signum);
  };
  interrupt_.impl()->set_callback(handler);
  terminate_.impl()->set_callback(handler);
}

ShutdownOnSignals::~ShutdownOnSignals() = default;

}  // namespace weft
