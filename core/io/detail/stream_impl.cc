#include "core/io/detail/stream_impl.h"

#include "core/io/detail/read_buffers.h"
#include "core/io/detail/sigpipe.h"
#include "core/io/detail/stream_requests.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <new>
#include <string>
#include <utility>

#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft::detail {

StreamImpl::StreamImpl(Loop& loop, Type type) noexcept
    : StreamBase(loop, type == Type::tcp ? "TCP stream" : "pipe stream"), type_(type) {}

StreamImpl::~StreamImpl() { give_back_read_scratch(std::move(stash_)); }

IoRef<StreamImpl> StreamImpl::create(Loop& loop, Type type, int family) {
  ignore_default_sigpipe();  // a write to a gone peer fails instead of killing
  auto impl = IoRef<StreamImpl>::adopt(new StreamImpl(loop, type));
  impl->check_thread("create");
  int rc = type == Type::tcp ? uv_tcp_init_ex(LoopAccess::uv_loop(loop), impl->uv_tcp(),
                                              static_cast<unsigned>(family))
                             : uv_pipe_init(LoopAccess::uv_loop(loop), impl->uv_pipe(), 0);
  throw_if_uv_error(rc, type == Type::tcp ? "uv_tcp_init" : "uv_pipe_init");
  impl->handle_.handle.data = impl.get();
  impl->opened(&impl->handle_.handle);
  return impl;
}

// ---- closing and cancellation ----------------------------------------------

void StreamImpl::fail_pending(const Error& error) noexcept {
  if (read_) {
    PendingRead read = std::move(*read_);
    read_.reset();
    read.fail(error);
  }
  std::vector<Promise<void>> drains = std::move(drains_);
  for (Promise<void>& drain : drains) drain.set_error(error);
  if (connect_op_) {
    connect_timer_.cancel();
    std::unique_ptr<StreamResultOp> op = std::move(connect_op_);
    op->fail(error);
  }
  reading_ = false;
  // Queued writes and a pending shutdown are failed by libuv (UV_ECANCELED)
  // while the handle closes; write_failure() reports them as `closed`.
}

void StreamImpl::sweep_cancelled() noexcept {
  if (read_ && read_->cancelled()) drop_read();
  std::erase_if(drains_, [](const Promise<void>& p) { return p.cancelled(); });
  if (connect_op_ && connect_op_->cancelled()) {
    // The connection was not handed out yet: drop it.
    connect_op_.reset();
    connect_timer_.cancel();
    close();
  }
}

void StreamImpl::close_handle(uv_handle_t* handle) noexcept {
  if (abort_ && type_ == Type::tcp && uv_tcp_close_reset(uv_tcp(), &IoObject::on_close) == 0) return;
  IoObject::close_handle(handle);
}

void StreamImpl::abort() noexcept {
  if (!is_open()) return;
  abort_ = true;
  close();
}

// ---- reading ----------------------------------------------------------------

bool StreamImpl::refuse_second_read() {
  if (!read_) return false;
  if (!read_->cancelled()) return true;
  drop_read();
  return false;
}

// Completes a new read at once if it can, or makes it the pending one.
void StreamImpl::begin_read(PendingRead& pending) {
  if (stash_ != nullptr) {  // bytes on_read found no memory for come first
    append_input(stash_data_, stash_size_);
    give_back_read_scratch(std::move(stash_));
    stash_size_ = 0;
  }
  // How far the buffer was searched belongs to the read that searched it: an
  // earlier read_until that failed (too long, cancelled) searched for its own
  // delimiter, which may not be this one.
  scanned_ = 0;
  if (try_complete(pending)) return;
  if (read_after_bulk(pending)) return;
  start_reading();
  if (try_complete(pending)) return;  // reading could not start
  if (pending.kind == ReadKind::into) {
    watch(pending.into_promise);
  } else {
    watch(pending.promise);
  }
  read_.emplace(std::move(pending));
  op_started();
}

// A read_some asked for right after a full bulk read (pause_ is
// bulk_next_poll: reading is paused, and the kernel most likely holds more of
// the same transfer): reads from the kernel now, into the pooled buffer the
// result is delivered in, instead of going back to the loop's poll for it.
// A peer streaming a large message is then read and answered in one go, as
// libuv's own read loop would (at most kMaxReadsAfterBulk such reads in a
// row, so one stream does not keep the loop from the others). Returns whether
// `read` completed (with bytes, the end, or an error); false, and nothing
// changed, if the kernel had nothing (EAGAIN: the read waits for the poll).
bool StreamImpl::read_after_bulk(PendingRead& read) {
  if (pause_ != Pause::bulk_next_poll ||
      (read.kind != ReadKind::some && read.kind != ReadKind::into) || reads_after_bulk_ == 0) {
    return false;
  }
  uv_os_fd_t fd;
  if (uv_fileno(&handle_.handle, &fd) != 0) return false;
  std::string buffer;
  std::span<char> memory;
  if (read.kind == ReadKind::into) {
    memory = read.target.buffer();
    if (memory.empty()) {
      read.into_promise.set_error(Error(Errc::no_memory, "read_some_into: no memory was lent to read into"));
      return true;
    }
  } else {
    buffer = lend_read_buffer(read.n);
    if (buffer.empty()) return false;
    memory = std::span<char>(buffer.data(), buffer.size());
  }
  ssize_t n;
  do {
    n = ::read(fd, memory.data(), memory.size());
  } while (n < 0 && errno == EINTR);
  pause_ = Pause::none;
  if (n > 0) {
    --reads_after_bulk_;
    const auto size = static_cast<std::size_t>(n);
    note_read_size(size, memory.size());
    if (size == memory.size() && size >= kBulkRead) pause_ = Pause::bulk_next_poll;
    if (read.kind == ReadKind::into) {
      deliver_into(read, memory.data(), size, /*now=*/false);
      return true;
    }
    buffer.resize(size);
    deliver(read, std::move(buffer));
    return true;
  }
  const int error = n < 0 ? errno : 0;
  if (!buffer.empty()) recycle_read_buffer(std::move(buffer));
  if (n < 0 && (error == EAGAIN || error == EWOULDBLOCK)) return false;
  // The end, or an error (which the kernel reports only once: keep it).
  if (n == 0) {
    eof_ = true;
  } else {
    read_error_ = errno_error(error, "read");
  }
  stop_reading();
  return try_complete(read);
}

// Completes `read` from the buffer, or with the stream's end or error, if it
// can; returns whether it did.
bool StreamImpl::try_complete(PendingRead& read) {
  const std::size_t available = in_.size() - in_pos_;
  switch (read.kind) {
    case ReadKind::some:
      if (available > 0) {
        deliver(read, take(std::min(read.n, available)));
        return true;
      }
      break;
    case ReadKind::into:
      if (available > 0) {
        read.take_into(in_, in_pos_);  // only what the reader got
        scanned_ = 0;
        return true;
      }
      break;
    case ReadKind::exactly:
      if (available >= read.n) {
        deliver(read, take(read.n));
        return true;
      }
      break;
    case ReadKind::until: {
      const std::string_view buffered(in_.data() + in_pos_, available);
      const std::size_t dlen = read.delimiter.size();
      const std::size_t from = scanned_ >= dlen ? scanned_ - dlen + 1 : 0;
      const std::size_t at = buffered.find(read.delimiter, from);
      if (at != std::string_view::npos && at + dlen <= read.n) {
        deliver(read, take(at + dlen));
        return true;
      }
      if (at != std::string_view::npos || available >= read.n) {
        read.promise.set_error(Error(Errc::message_too_long,
                                     "read_until: no delimiter within " + std::to_string(read.n) +
                                         " bytes"));
        return true;
      }
      scanned_ = available;
      break;
    }
  }
  if (read_error_) {
    read.fail(*read_error_);
    return true;
  }
  if (eof_) {
    read.end();
    return true;
  }
  return false;
}

// Hands `data` to the read's future; if that was cancelled meanwhile (by
// another thread), the bytes go back in front of the buffer. `now`: the
// future's continuation runs before this returns (set_value_or_keep_now),
// so the caller must find the stream as the continuation left it: closed,
// or with a new read pending.
void StreamImpl::deliver(PendingRead& read, std::string data, bool now) {
  if (now ? read.promise.set_value_or_keep_now(data) : read.promise.set_value_or_keep(data)) return;
  if (in_pos_ == in_.size()) {
    in_ = std::move(data);  // nothing else buffered: no allocation
  } else {
    in_.replace(0, in_pos_, data);
  }
  in_pos_ = 0;
  scanned_ = 0;
}

// Completes a read_some_into whose `size` bytes the kernel put straight into
// the reader's memory at `data` (`now`: as deliver's). If its future was
// cancelled meanwhile (by another thread), the bytes are copied into the
// buffer for the next read; should that memory be refused, they are lost
// (only then: a cancellation racing the read's completion, with no memory).
void StreamImpl::deliver_into(PendingRead& read, const char* data, std::size_t size, bool now) {
  if (now ? read.into_promise.set_value_or_keep_now(size) : read.into_promise.set_value_or_keep(size)) {
    return;
  }
  try {
    append_input(data, size);
  } catch (const std::bad_alloc&) {
  }
}

void StreamImpl::unread(std::string_view data) {
  if (data.empty()) return;
  if (data.size() <= in_pos_) {
    in_pos_ -= data.size();
    in_.replace(in_pos_, data.size(), data);
  } else {
    in_.replace(0, in_pos_, data);
    in_pos_ = 0;
  }
  scanned_ = 0;
}

std::string StreamImpl::take(std::size_t n) {
  scanned_ = 0;
  // All of a buffer not much larger than its bytes: hand over the buffer
  // itself. A larger one (grown by reading ahead) stays, so that reading
  // ahead does not grow a new one again.
  if (in_pos_ == 0 && n == in_.size() && in_.capacity() <= 2 * n) {
    std::string out = std::move(in_);
    in_.clear();  // no memory until bytes arrive with no read waiting (append_input)
    return out;
  }
  std::string out = take_read_buffer();
  out.assign(in_, in_pos_, n);
  in_pos_ += n;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  // Taken bytes are dropped from the front only when the buffer would
  // otherwise have to grow (append_input), so each byte moves at most once.
  return out;
}

void StreamImpl::drop_read() noexcept {
  read_.reset();
  op_finished();
}

// After new bytes, the end, or an error: completes the pending read if it can,
// and stops reading ahead once the buffer is full and nothing waits.
void StreamImpl::service_read() {
  if (read_) {
    if (read_->cancelled()) {
      drop_read();
    } else if (try_complete(*read_)) {
      read_.reset();
      op_finished();
    }
  }
  if (reading_ && !read_ && in_.size() - in_pos_ >= limits_.read_high_water) stop_reading();
}

void StreamImpl::start_reading() {
  if (reading_ || eof_ || read_error_ || stash_ != nullptr || !is_open()) return;
  int rc = uv_read_start(uv_stream(), &StreamImpl::on_alloc, &StreamImpl::on_read);
  if (rc < 0) {
    read_error_ = uv_error(rc, "read");
    return;
  }
  reading_ = true;
}

void StreamImpl::stop_reading() noexcept {
  pause_ = Pause::none;
  if (!reading_) return;
  uv_read_stop(uv_stream());
  reading_ = false;
}

// Bytes read into the thread's scratch buffer (on_alloc). Nothing changes
// before their memory is made; if it is refused, the bytes are kept in the
// scratch buffer itself (stash): none the kernel gave is dropped.
void StreamImpl::on_data(const char* data, std::size_t size, bool filled) noexcept {
  if (read_ && read_->kind == ReadKind::some && in_pos_ == in_.size() &&
      !read_->cancelled()) {
    // The common case: someone waits for whatever comes; hand it over.
    const std::size_t n = std::min(size, read_->n);
    std::string result;
    try {
      result = make_read_result(data, n);
    } catch (const std::bad_alloc&) {
      stash(data, size);
      return;
    }
    PendingRead read = std::move(*read_);
    read_.reset();
    op_finished();
    deliver(read, std::move(result));  // nothing else is buffered: no allocation
    if (n < size) store(data + n, size - n);
    if (reading_ && in_.size() - in_pos_ >= limits_.read_high_water) stop_reading();
    if (filled && n == size) after_full_delivery(size);
    return;
  }
  if (!store(data, size)) return;
  try {
    service_read();
  } catch (const std::bad_alloc&) {
    fail_read(Error(Errc::no_memory));  // the bytes are in `in_`, for the next read
  }
}

// Appends to `in_`, or keeps the bytes in the scratch buffer (stash) if
// that memory is refused; returns whether they are in `in_`.
bool StreamImpl::store(const char* data, std::size_t size) noexcept {
  try {
    append_input(data, size);
    return true;
  } catch (const std::bad_alloc&) {
    stash(data, size);
    return false;
  }
}

// Keeps `size` bytes at `data`, in the thread's scratch buffer, which the
// stream takes for them: reading stops until a read moves them to `in_`
// (read()), and a pending read fails with Errc::no_memory.
void StreamImpl::stash(const char* data, std::size_t size) noexcept {
  stash_ = take_read_scratch();
  stash_data_ = data;
  stash_size_ = size;
  stop_reading();
  fail_read(Error(Errc::no_memory));
}

void StreamImpl::fail_read(const Error& error) noexcept {
  if (!read_) return;
  PendingRead read = std::move(*read_);
  read_.reset();
  op_finished();
  read.fail(error);
}

void StreamImpl::append_input(const char* data, std::size_t size) {
  if (in_.capacity() < size && in_.empty()) in_ = take_read_buffer();
  if (in_pos_ > 0 && in_.size() + size > in_.capacity()) {
    // Make room by dropping what was taken rather than by growing.
    // scanned_ counts from in_pos_, so it still holds.
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(data, size);
}

// Where the kernel's next bytes go. A read_some waiting on an empty buffer
// gets them read straight into the string it will deliver (a pooled one, as
// large as the bytes it last held: no copy, no zero-filling); otherwise they
// go to the thread's scratch buffer and from there to the pending read or
// `in_` (on_data).
void StreamImpl::on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept {
  auto* self = static_cast<StreamImpl*>(handle->data);
  if ((!self->read_ || self->pause_ == Pause::asked_again) && self->decline_read_ahead()) {
    *buf = uv_buf_init(nullptr, 0);  // after a full read: see after_full_delivery
    return;
  }
  self->pause_ = Pause::none;
  if (self->read_ && self->read_->kind == ReadKind::into && self->in_pos_ == self->in_.size() &&
      !self->read_->cancelled()) {
    const std::span<char> memory = self->read_->target.buffer();
    if (memory.empty()) {  // declined: the read fails, nothing is read for it
      self->fail_read(Error(Errc::no_memory, "read_some_into: no memory was lent to read into"));
      self->declined_ = true;
      *buf = uv_buf_init(nullptr, 0);
      return;
    }
    self->direct_into_ = memory.data();
    *buf = uv_buf_init(memory.data(),
                       static_cast<unsigned>(std::min<std::size_t>(memory.size(), UINT32_MAX)));
    return;
  }
  if (self->read_ && self->read_->kind == ReadKind::some && self->in_pos_ == self->in_.size() &&
      !self->read_->cancelled()) {
    std::string buffer = self->lend_read_buffer(self->read_->n);
    if (!buffer.empty()) {
      self->direct_ = std::move(buffer);
      *buf = uv_buf_init(self->direct_.data(), static_cast<unsigned>(self->direct_.size()));
      return;
    }
  }
  alloc_read_scratch(handle, suggested, buf);
}

// A pooled buffer for the kernel to read at most `n` bytes into (sized: its
// size is what may be read), or "" if none is kept. Its size is all of its
// capacity (a buffer that last held a short read would otherwise keep later
// reads short, each filling it) up to the larger of kBulkRead and the bytes
// it last held, so that a buffer grown by a bulk stream does not cost a
// stream of short reads the zero-filling of all of it on every read (only
// the bytes past those it last held are filled, and no memory is allocated).
// While the peer streams (bulk_reads_), a read asking for more gets up to
// kMaxBulkRead bytes at once, in a new buffer if this one is smaller
// (zero-filled once; the pool keeps it for the next reads): half the system
// calls, callbacks and results of 64 KiB reads. A stream that outgrew the
// pool's small buffers (outgrown_: note_read_size) gets one of up to
// kBulkRead likewise, once.
std::string StreamImpl::lend_read_buffer(std::size_t n) noexcept {
  std::string buffer = take_sized_read_buffer();
  if (buffer.size() < kMinPooledCapacity) {
    recycle_read_buffer(std::move(buffer));
    return std::string();
  }
  const bool bulk = bulk_reads_ && n > kBulkRead;
  const std::size_t limit = bulk ? std::min(n, kMaxBulkRead)
                                 : std::min(n, std::max(buffer.size(), kBulkRead));
  const bool grow = bulk || std::exchange(outgrown_, false);
  if (buffer.capacity() < limit && grow) {
    try {
      std::string larger;
      larger.reserve(limit);  // from empty: nothing stale is copied
      recycle_read_buffer(std::move(buffer));
      buffer = std::move(larger);
    } catch (const std::bad_alloc&) {
      // The buffer as it is: a shorter read.
    }
  }
  buffer.resize(std::min(buffer.capacity(), limit));  // within the capacity: no allocation
  return buffer;
}

// After a read of `size` bytes into a buffer of `lent`: the peer streams
// (bulk_reads_) when a read brings kBulkRead bytes or more, or fills a
// buffer of half that. A read of more than kBulkRead (a reader that asks
// for that much, lend_read_buffer) tells the loop to sleep for the next
// bytes rather than spin for them (LoopAccess::note_bulk_read): they then
// come in fewer, larger reads. An echo of large messages (64 KiB reads)
// keeps its spins: there they bring the answers sooner.
//
// A stream whose reads keep filling small pooled buffers (buffers are as
// large as the results they last held: a process that read 10 KiB messages
// before has 10 KiB buffers) would read a streaming peer 10 KiB at a time,
// never bringing the 32 KiB that show it streams. So after
// kFilledReadsBeforeProbe such reads in a row the kernel is asked
// (FIONREAD) whether more bytes wait: if so the peer streams (outgrown_).
// An exchange of messages that each fill their buffer exactly (an echo)
// finds nothing waiting, and keeps its buffers; the probe costs it one
// ioctl(2) every kFilledReadsBeforeProbe messages.
void StreamImpl::note_read_size(std::size_t size, std::size_t lent) noexcept {
  bulk_reads_ = size >= kBulkRead || (size == lent && size >= kBulkRead / 2);
  if (size > kBulkRead) LoopAccess::note_bulk_read(loop());
  if (size != lent || bulk_reads_) {
    filled_small_reads_ = 0;
    return;
  }
  if (++filled_small_reads_ < kFilledReadsBeforeProbe) return;
  filled_small_reads_ = 0;
  outgrown_ = kernel_has_more();
}

// Whether the kernel holds bytes of this stream that no read took yet.
bool StreamImpl::kernel_has_more() noexcept {
  uv_os_fd_t fd;
  if (uv_fileno(&handle_.handle, &fd) != 0) return false;
  int waiting = 0;
  return ::ioctl(fd, FIONREAD, &waiting) == 0 && waiting > 0;
}

// Bytes read into direct_ (on_alloc): they become the pending read's result.
// Its reader runs now, inside libuv's read callback, while the bytes are in
// the core's cache (an echo's write then copies them from there): the read
// is done with, and nothing of this stream is touched after the delivery
// but what after_full_delivery checks.
void StreamImpl::on_direct_data(std::size_t size, bool filled) {
  std::string data = std::move(direct_);
  direct_.clear();
  data.resize(size);  // smaller: no allocation, no fill
  PendingRead read = std::move(*read_);
  read_.reset();
  op_finished();
  deliver(read, std::move(data), /*now=*/true);
  if (filled) after_full_delivery(size);
}

// A read_some was just completed by a read that filled its buffer, so libuv
// is about to read again, and the kernel may or may not hold more. The
// reader's continuation runs after this round of I/O callbacks and most often
// asks for the next read at once: that read should get what follows straight
// from the kernel. So nothing is read ahead in this round (it would copy the
// bytes into `in_` and out again, or, with nothing there, cost a read(2) that
// fails with EAGAIN); the next poll finds the socket still readable if bytes
// wait. If by then no read waits, reading ahead resumes as usual, except after
// a bulk read (kBulkRead bytes or more): then reading stops, and the rest
// stays in the kernel until the next read asks (bulk bytes are not copied
// through `in_`).
//
// When the reader's continuation ran at once (on_direct_data) and asked
// again, its read waits already. After a bulk read libuv's read loop then
// goes on straight into that read's buffer, as it would for its own reader;
// after a smaller one it is held back for this round all the same (the
// message most likely ended with the buffer: the read(2) would fail with
// EAGAIN), and the next poll serves the read.
void StreamImpl::after_full_delivery(std::size_t size) noexcept {
  if (!reading_) return;  // also: the reader closed the stream
  if (read_) {
    if (size < kBulkRead) pause_ = Pause::asked_again;
    return;
  }
  pause_ = size >= kBulkRead ? Pause::bulk : Pause::this_round;
}

// on_alloc with no read waiting while a pause is on (or with one, after
// asked_again): whether to decline this read (libuv then reports UV_ENOBUFS
// and ends its round of reads without a system call), and what the pause
// becomes.
bool StreamImpl::decline_read_ahead() noexcept {
  switch (pause_) {
    case Pause::none:
      return false;
    case Pause::this_round:
    case Pause::asked_again:
      pause_ = Pause::none;
      break;
    case Pause::bulk:
      pause_ = Pause::bulk_next_poll;
      break;
    case Pause::bulk_next_poll:
      pause_ = Pause::stop;  // on_read stops reading
      break;
    case Pause::stop:
      break;
  }
  declined_ = true;
  return true;
}

void StreamImpl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<StreamImpl*>(stream->data);
  self->reads_after_bulk_ = kMaxReadsAfterBulk;
  if (nread > 0) {
    self->note_read_size(static_cast<std::size_t>(nread), buf->len);
  }
  if (nread == UV_ENOBUFS && self->declined_) {
    self->declined_ = false;  // no read ahead this time (decline_read_ahead)
    if (self->pause_ == Pause::stop) self->stop_reading();
    return;
  }
  if (self->direct_into_ != nullptr && buf->base == self->direct_into_) {
    self->direct_into_ = nullptr;
    if (nread == 0) return;  // EAGAIN: the read waits; its memory is asked for again
    if (nread > 0 && self->read_) {
      const auto size = static_cast<std::size_t>(nread);
      PendingRead read = std::move(*self->read_);
      self->read_.reset();
      self->op_finished();
      self->deliver_into(read, buf->base, size, /*now=*/true);
      if (size == buf->len) self->after_full_delivery(size);
      return;
    }
    if (nread > 0) {  // no read waits any more (cannot happen: kept for safety)
      try {
        self->append_input(buf->base, static_cast<std::size_t>(nread));
      } catch (const std::bad_alloc&) {
      }
      return;
    }
    // The end or an error: below, as for any read.
  }
  const bool direct = !self->direct_.empty() && buf->base == self->direct_.data();
  if (direct && nread > 0 && self->read_) {
    self->on_direct_data(static_cast<std::size_t>(nread), static_cast<std::size_t>(nread) == buf->len);
    return;
  }
  if (direct) {
    // Nothing read into it (EAGAIN, end, error): back to the pool.
    recycle_read_buffer(std::move(self->direct_));
    self->direct_.clear();
    if (nread > 0) {  // no read waits any more (cannot happen: kept for safety)
      self->append_input(buf->base, static_cast<std::size_t>(nread));
      self->service_read();
      return;
    }
  }
  if (nread > 0) {
    self->on_data(buf->base, static_cast<std::size_t>(nread),
                  static_cast<std::size_t>(nread) == buf->len);
    return;
  }
  if (nread == 0) return;  // nothing this time (EAGAIN)
  self->stop_reading();
  if (nread == UV_ENOBUFS) {  // no scratch buffer: the bytes stay in the kernel
    self->fail_read(Error(Errc::no_memory));
    return;
  }
  if (nread == UV_EOF) {
    self->eof_ = true;
  } else {
    try {
      self->read_error_ = uv_error(static_cast<int>(nread), "read");
    } catch (const std::bad_alloc&) {
      self->read_error_ = Error(errc_from_uv(static_cast<int>(nread)));
    }
  }
  try {
    self->service_read();
  } catch (const std::bad_alloc&) {
    self->fail_read(Error(Errc::no_memory));
  }
}

}  // namespace weft::detail
