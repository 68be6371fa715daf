// serve_http: see connection.h. Runs on the loop thread, in the connection's
// task; the session and the output buffer live in its frame.
#include "examples/http_server/connection.h"

#include <new>
#include <string>
#include <string_view>

#include "examples/http/http_routes.h"

namespace http_example {

namespace {

// Buffers larger than this are given back once written.
constexpr std::size_t kKeepCapacity = 64 * 1024;
// The most a closing connection reads (and drops) before it closes anyway.
constexpr std::size_t kMaxLingerBytes = 4 * 1024 * 1024;

class Session {
 public:
  explicit Session(const http_limits& limits) {
    if (http_session_init(&session_, &limits, http_routes_handle, nullptr) != 0) {
      throw std::bad_alloc();
    }
  }
  ~Session() { http_session_free(&session_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  http_session* get() noexcept { return &session_; }

 private:
  http_session session_;
};

class Output {
 public:
  Output() = default;
  ~Output() { http_buffer_free(&buffer_); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  http_buffer* get() noexcept { return &buffer_; }
  std::string_view view() const noexcept { return {buffer_.data, buffer_.len}; }

 private:
  http_buffer buffer_ = HTTP_BUFFER_INIT;
};

// Half-closes, then drops what the client still sends until it closes its
// side, `linger` passes or kMaxLingerBytes arrived.
weft::Task<void> linger_close(weft::Stream& stream, weft::Duration linger) {
  weft::Loop& loop = co_await weft::this_task::loop();
  const weft::TimePoint deadline = loop.time() + linger;
  try {
    co_await stream.shutdown();
    std::size_t dropped = 0;
    while (dropped < kMaxLingerBytes) {
      const weft::Duration left = deadline - loop.time();
      if (left <= weft::Duration::zero()) break;
      std::string bytes = co_await weft::wait_for(stream.read_some(), left);
      if (bytes.empty()) break;
      dropped += bytes.size();
    }
  } catch (const weft::Cancelled&) {
    throw;
  } catch (const weft::Exception&) {
    // Timed out, reset, ...: the connection closes all the same.
  }
}

}  // namespace

void ConnectionControl::drain() noexcept {
  draining_ = true;
  if (session_ != nullptr) http_session_drain(session_);
  if (waiting_idle_) close();
}

void ConnectionControl::close() noexcept {
  if (stream_ != nullptr) stream_->close();
}

// Points a ConnectionControl at the connection while serve_http runs.
class Attachment {
 public:
  Attachment(ConnectionControl& control, weft::Stream& stream, http_session* session)
      : control_(control) {
    control_.stream_ = &stream;
    control_.session_ = session;
    if (control_.draining_) http_session_drain(session);
  }
  ~Attachment() {
    control_.stream_ = nullptr;
    control_.session_ = nullptr;
    control_.waiting_idle_ = false;
  }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;
  void waiting_idle(bool idle) noexcept { control_.waiting_idle_ = idle; }

 private:
  ConnectionControl& control_;
};

weft::Task<void> serve_http(weft::Stream& stream, const ConnectionOptions& options,
                            ConnectionControl& control) {
  weft::Loop& loop = co_await weft::this_task::loop();
  Session session(options.limits);
  Output out;
  Attachment attachment(control, stream, session.get());

  weft::TimePoint deadline = loop.time() + options.idle_timeout;
  bool closing = false;
  while (!closing) {
    const bool idle = http_session_idle(session.get());
    if (idle && control.draining()) co_return;  // shutting down between requests
    // A new request gets the whole time-out; a partial one keeps its deadline.
    const weft::TimePoint now = loop.time();
    if (idle) deadline = now + options.idle_timeout;
    const weft::Duration left = deadline - now;
    bool timed_out = left <= weft::Duration::zero();
    std::string bytes;
    if (!timed_out) {
      attachment.waiting_idle(idle);
      try {
        // Bytes already buffered (a pipelined request) need no time limit.
        weft::Future<std::string> reading = stream.read_some();
        if (reading.ready()) {
          bytes = co_await std::move(reading);
        } else {
          bytes = co_await weft::wait_for(std::move(reading), left);
        }
      } catch (const weft::TimedOut&) {
        timed_out = true;
      }
      attachment.waiting_idle(false);
    }
    if (timed_out) {
      http_session_time_out(session.get(), out.get());
      closing = true;
    } else if (bytes.empty()) {
      co_return;  // the client closed its side; a partial request is dropped
    } else {
      closing = http_session_feed(session.get(), bytes.data(), bytes.size(), out.get()) ==
                HTTP_SESSION_CLOSE;
    }
    if (out.get()->failed) co_return;  // out of memory: close without an answer
    if (out.get()->len > 0) {
      // A write the kernel took at once is over: no timer, no extra frame.
      weft::Future<void> writing = stream.write(out.view());
      if (writing.ready()) {
        co_await std::move(writing);  // its outcome (a failure is thrown)
      } else {
        co_await weft::wait_for(std::move(writing), options.idle_timeout);
      }
      http_buffer_reset(out.get(), kKeepCapacity);
    }
  }
  co_await linger_close(stream, options.linger);
}

}  // namespace http_example
