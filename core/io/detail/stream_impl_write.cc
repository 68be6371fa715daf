// weft::detail::StreamImpl, its writing half: write (at once with
// uv_try_write where the kernel takes the bytes, else a queued request),
// drain, shutdown, and the requests kept spare for the next write. The rest
// is in stream_impl.cc (reading, closing) and stream_impl_connect.cc;
// stream_impl.h says what runs where and who owns what.
#include <string>
#include <utility>

#include "core/io/detail/read_buffers.h"
#include "core/io/detail/stream_impl.h"
#include "core/io/detail/stream_requests.h"
#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

namespace {

// The most buffer capacity a spare write request keeps.
constexpr std::size_t kMaxSpareWriteCapacity = 64 * 1024;

}  // namespace

// ---- writing ----------------------------------------------------------------

Error StreamImpl::write_failure(int status) const {
  if (status == UV_ECANCELED && !is_open()) return closed_error();
  return uv_error(status, "write");
}

Future<void> StreamImpl::write(const char* data, std::size_t size, std::string* owned) {
  if (!is_open()) return make_failed_future<void>(closed_error());
  check_thread("write");
  if (shut_down_) {
    return make_failed_future<void>(Error(Errc::invalid_state, "write after shutdown()"));
  }
  if (write_error_) return make_failed_future<void>(*write_error_);
  if (size == 0) return make_ready_future<void>();
  // Everything that needs memory comes before the first byte is sent (here,
  // or ahead by reserve_write): a refused allocation then leaves the stream
  // untouched.
  reserve_write(size);
  if (owned == nullptr) spare_write_->data.reserve(size);
  std::unique_ptr<WriteRequest> request = std::move(spare_write_);
  Future<void> future = std::move(request->future);
  std::size_t sent = 0;
  if (writes_queued_ == 0) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(size));
    int rc = uv_try_write(uv_stream(), &buf, 1);
    if (rc >= 0 && static_cast<std::size_t>(rc) == size) {
      // All in the kernel: a string given by move (often a read's result,
      // echoed or forwarded) serves a later read (read_buffers.h).
      if (owned != nullptr) recycle_read_buffer(std::move(*owned));
      Promise<void> promise = std::move(request->promise);
      promise.set_value();
      if (request->data.capacity() > kMaxSpareWriteCapacity) request->data = std::string();
      spare_write_ = std::move(request);  // unused: data empty, offset 0
      return future;
    }
    if (rc >= 0) {
      sent = static_cast<std::size_t>(rc);
    } else if (rc != UV_EAGAIN && rc != UV_ENOSYS) {
      write_error_ = uv_error(rc, "write");
      request->promise.set_error(*write_error_);
      return future;
    }
  }
  if (owned != nullptr) {
    // The string is ours: no copy, whatever the kernel took.
    request->data = std::move(*owned);
    request->offset = sent;
  } else {
    request->data.assign(data + sent, size - sent);  // within the reserved capacity
  }
  request->request.data = this;
  uv_buf_t buf = uv_buf_init(request->data.data() + request->offset,
                             static_cast<unsigned>(request->bytes()));
  int rc = uv_write(&request->request, uv_stream(), &buf, 1, &StreamImpl::on_write);
  if (rc < 0) {
    write_error_ = uv_error(rc, "write");
    request->promise.set_error(*write_error_);
    return future;
  }
  ++writes_queued_;
  write_buffered_ += request->bytes();
  request.release();  // owned by libuv until on_write
  return future;
}

void StreamImpl::reserve_write(std::size_t) {
  if (spare_write_ == nullptr) spare_write_ = std::make_unique<WriteRequest>();
  if (spare_write_->future.valid()) return;
  auto [promise, future] = make_promise<void>();
  spare_write_->promise = std::move(promise);
  spare_write_->future = std::move(future);
}

void StreamImpl::on_write(uv_write_t* raw, int status) {
  std::unique_ptr<WriteRequest> request(reinterpret_cast<WriteRequest*>(raw));
  auto* self = static_cast<StreamImpl*>(raw->data);
  --self->writes_queued_;
  self->write_buffered_ -= request->bytes();
  recycle_read_buffer(std::move(request->data));
  if (status == 0) {
    request->promise.set_value();
  } else {
    Error error = self->write_failure(status);
    if (!self->write_error_ && status != UV_ECANCELED) self->write_error_ = error;
    request->promise.set_error(std::move(error));
  }
  if (self->write_buffered_ <= self->limits_.write_low_water) self->complete_drains();
}

void StreamImpl::complete_drains() noexcept {
  if (drains_.empty()) return;
  std::vector<Promise<void>> drains = std::move(drains_);
  for (Promise<void>& drain : drains) drain.set_value();
}

Future<void> StreamImpl::drain() {
  if (!is_open()) return make_failed_future<void>(closed_error());
  check_thread("drain");
  if (write_error_) return make_failed_future<void>(*write_error_);
  if (write_buffered_ <= limits_.write_high_water) return make_ready_future<void>();
  auto [promise, future] = detail::make_hooked_promise<void>();
  watch(promise);
  drains_.push_back(std::move(promise));
  return std::move(future);
}

Future<void> StreamImpl::shutdown() {
  if (!is_open()) return make_failed_future<void>(closed_error());
  check_thread("shutdown");
  if (shut_down_) return make_failed_future<void>(Error(Errc::invalid_state, "shutdown() twice"));
  reserve_shutdown();
  std::unique_ptr<ShutdownRequest> request = std::move(spare_shutdown_);
  Future<void> future = std::move(request->future);
  request->request.data = this;
  int rc = uv_shutdown(&request->request, uv_stream(), &StreamImpl::on_shutdown);
  if (rc < 0) {
    request->promise.set_error(uv_error(rc, "shutdown"));
    return future;
  }
  shut_down_ = true;
  request.release();
  return future;
}

void StreamImpl::reserve_shutdown() {
  if (spare_shutdown_ != nullptr) return;
  auto request = std::make_unique<ShutdownRequest>();
  auto [promise, future] = make_promise<void>();
  request->promise = std::move(promise);
  request->future = std::move(future);
  spare_shutdown_ = std::move(request);
}

void StreamImpl::on_shutdown(uv_shutdown_t* raw, int status) {
  std::unique_ptr<ShutdownRequest> request(reinterpret_cast<ShutdownRequest*>(raw));
  auto* self = static_cast<StreamImpl*>(raw->data);
  if (status == 0) {
    request->promise.set_value();
  } else {
    request->promise.set_error(self->write_failure(status));
  }
}

}  // namespace weft::detail
