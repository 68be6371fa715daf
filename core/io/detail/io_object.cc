#include "core/io/detail/io_object.h"

#include <memory>
#include <cstdio>
#include <string>

#include "core/detail/fast_tls.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

IoObject::IoObject(Loop& loop, const char* kind) noexcept : loop_(&loop), kind_(kind) {
  hook_.fn = &IoObject::hook_fired;
  hook_.owner = this;
}

IoObject::~IoObject() = default;

void IoObject::opened(uv_handle_t* handle) noexcept {
  handle_ = handle;
  state_.store(State::open, std::memory_order_release);
  add_ref();  // the "open" reference, dropped in on_close
  LoopAccess::attach_resource(*loop_, this);
  uv_unref(handle);
}

void IoObject::check_thread(const char* what) const {
#ifndef NDEBUG
  if (!loop_->in_loop_thread()) {
    throw Exception(Errc::wrong_thread,
                    std::string(kind_) + ": " + what + " called off the loop's thread");
  }
#else
  (void)what;
#endif
}

Error IoObject::closed_error() const noexcept {
  try {
    char message[96];  // kind_ is a short name ("TCP stream"): it fits
    std::snprintf(message, sizeof message, "the %s is closed", kind_);
    return Error(Errc::closed, message);
  } catch (...) {
    return Error(Errc::closed);  // no memory for the message: the code's own
  }
}

void IoObject::op_started() noexcept {
  if (state() == State::open && pending_ops_++ == 0) uv_ref(handle_);
}

void IoObject::op_finished() noexcept {
  if (state() == State::open && pending_ops_ > 0 && --pending_ops_ == 0) uv_unref(handle_);
}

void IoObject::close() noexcept {
  if (state() != State::open) return;
  state_.store(State::closing, std::memory_order_release);
  pending_ops_ = 0;
  LoopAccess::detach_resource(*loop_, this);
  fail_pending(closed_error());
  close_handle(handle_);
}

void IoObject::close_handle(uv_handle_t* handle) noexcept { uv_close(handle, &IoObject::on_close); }

void IoObject::on_close(uv_handle_t* handle) noexcept {
  auto* self = static_cast<IoObject*>(handle->data);
  self->state_.store(State::closed, std::memory_order_release);
  std::vector<Promise<void>> waiters = std::move(self->close_waiters_);
  for (Promise<void>& waiter : waiters) waiter.set_value();
  self->release();  // the "open" reference; may delete self
}

namespace {
// Runs a member of an IoObject on the loop, holding a reference until it is
// destroyed (run or refused by a closed loop).
template <class Fn>
struct Posted {
  IoObject* object;
  Fn fn;
  Posted(IoObject* o, Fn f) noexcept : object(o), fn(f) {}
  Posted(Posted&& other) noexcept : object(std::exchange(other.object, nullptr)), fn(other.fn) {}
  Posted& operator=(Posted&&) = delete;
  ~Posted() {
    if (object != nullptr) object->release();
  }
  void operator()() { fn(*object); }
};
}  // namespace

void IoObject::close_from_any_thread() noexcept {
  if (state() != State::open) return;
  if (loop_->in_loop_thread()) {
    close();
    return;
  }
  add_ref();
  auto post = Posted(this, [](IoObject& object) { object.close(); });
  try {
    (void)loop_->call_soon_threadsafe(std::move(post));
  } catch (...) {
    // Out of memory for the post: the reference goes with `post`.
  }
}

void IoObject::hook_fired(CancelHook* hook, bool cancelled) noexcept {
  IoObject* self = static_cast<Hook*>(hook)->owner;
  if (!cancelled) {
    self->release();
    return;
  }
  // Cancelled, perhaps on another thread: sweep on the loop. The reference the
  // hook held travels with the post.
  auto post = Posted(self, [](IoObject& object) {
    if (object.is_open()) object.sweep_cancelled();
  });
  try {
    (void)self->loop_->call_soon_threadsafe(std::move(post));
  } catch (...) {
  }
}

Future<void> IoObject::wait_closed() {
  if (state() == State::closed || state() == State::fresh) return make_ready_future<void>();
  check_thread("wait_closed");
  auto [promise, future] = make_promise<void>();
  close_waiters_.push_back(std::move(promise));
  return std::move(future);
}

namespace {
constexpr std::size_t kScratchBytes = 64 * 1024;
}  // namespace
WEFT_FAST_TLS thread_local std::unique_ptr<char[]> tls_scratch;

uv_buf_t read_scratch() noexcept {
  if (!tls_scratch) tls_scratch.reset(new (std::nothrow) char[kScratchBytes]);
  if (!tls_scratch) return uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS
  return uv_buf_init(tls_scratch.get(), kScratchBytes);
}

void alloc_read_scratch(uv_handle_t*, std::size_t, uv_buf_t* buf) noexcept { *buf = read_scratch(); }

std::unique_ptr<char[]> take_read_scratch() noexcept { return std::move(tls_scratch); }

void give_back_read_scratch(std::unique_ptr<char[]> scratch) noexcept {
  if (!tls_scratch) tls_scratch = std::move(scratch);
}

}  // namespace weft::detail
