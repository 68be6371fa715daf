#include "capi/src/pipe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "capi/src/guard.h"
#include "capi/src/ns.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "capi/src/stream.h"
#include "weft/pipe.h"

namespace weft::capi {

namespace {

static_assert(WEFT_PIPE_PATH_MAX + 1 == sizeof(sockaddr_un{}.sun_path),
              "WEFT_PIPE_PATH_MAX is sun_path without its NUL");

PipeListenerRec& listener_of(const void* handle, const char* function) {
  return static_cast<PipeListenerRec&>(io_of(handle, Kind::pipe_listener, "listener", function));
}

// A socket path: libuv would silently cut one that does not fit.
std::string socket_path(const char* path) {
  require(path, "path");
  const std::size_t length = std::strlen(path);
  if (length == 0) fail(Errc::invalid_argument, "the path is empty");
  if (length > WEFT_PIPE_PATH_MAX) {
    fail(Errc::invalid_argument, "the path is longer than WEFT_PIPE_PATH_MAX (" +
                                     std::to_string(length) + " bytes)");
  }
  return std::string(path, length);
}

// A descriptor that may become a stream, or fails.
void check_stream_fd(int fd) {
  if (fd < 0) fail(Errc::invalid_argument, "fd < 0");
  struct stat st {};
  if (::fcntl(fd, F_GETFD) == -1 || ::fstat(fd, &st) != 0) {
    fail(Errc::invalid_argument, "fd " + std::to_string(fd) + " is not an open descriptor");
  }
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    fail(Errc::invalid_argument, "fd " + std::to_string(fd) + " is a file, not a stream");
  }
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::Kind;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_pipe_listen(weft_pipe_listener_t** out, weft_loop_t* loop, const char* path,
                                      const weft_pipe_listen_options* options) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_pipe_listen");
    require(out, "out");
    weft_pipe_listen_options o = WEFT_PIPE_LISTEN_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
      o = *options;
    }
    if (o.backlog < 0) weft::capi::fail(weft::Errc::invalid_argument, "backlog < 0");
    const std::string socket_path = weft::capi::socket_path(path);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::Runtime& runtime = scope.runtime;
    weft::PipeListener listener =
        weft::PipeListener::bind(runtime.loop, socket_path, o.backlog > 0 ? o.backlog : 511);
    auto* rec = runtime.allocator.make<weft::capi::PipeListenerRec>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    rec->core = std::move(listener);
    *out = weft::capi::as_handle<weft_pipe_listener_t>(weft::capi::register_io(rec, Kind::pipe_listener));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_pipe_listener_path(char* buffer, size_t capacity, size_t* length,
                                             weft_pipe_listener_t* listener) {
  if (const weft_status s = weft::capi::check(__func__, listener); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::PipeListenerRec& rec = weft::capi::listener_of(listener, "weft_pipe_listener_path");
    if (capacity > 0) require(buffer, "buffer");
    const std::string path = rec.core.path();
    if (capacity > 0) {
      const std::size_t n = path.size() < capacity - 1 ? path.size() : capacity - 1;
      std::memcpy(buffer, path.data(), n);
      buffer[n] = '\0';
    }
    if (length != nullptr) *length = path.size();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_pipe_accept(weft_future_t** out, weft_pipe_listener_t* listener,
                                      weft_stream_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, listener); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::PipeListenerRec& rec = weft::capi::listener_of(listener, "weft_pipe_accept");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_new_stream_op(*rec.scope, *rec.runtime, &rec, "accept", [&] { return rec.core.accept(); },
                                    Kind::pipe_stream, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_pipe_connect(weft_future_t** out, weft_loop_t* loop, const char* path,
                                       uint64_t timeout_ns, weft_stream_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_pipe_connect");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    const std::string socket_path = weft::capi::socket_path(path);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_new_stream_op(
        scope, scope.runtime, nullptr, "connect",
        [&] {
          return weft::PipeStream::connect(scope.runtime.loop, socket_path, weft::capi::duration_of_ns(timeout_ns));
        },
        Kind::pipe_stream, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_pipe_listener_close(weft_pipe_listener_t* listener) {
  if (listener == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, listener); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::listener_of(listener, "weft_pipe_listener_close"));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_pipe_pair(weft_stream_t** a, weft_stream_t** b, weft_loop_t* loop) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_pipe_pair");
    require(a, "a");
    require(b, "b");
    if (static_cast<void*>(a) == static_cast<void*>(b)) {
      weft::capi::fail(weft::Errc::invalid_argument, "a and b are the same pointer");
    }
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::Runtime& runtime = scope.runtime;
    auto streams = weft::PipeStream::pair(runtime.loop);
    const weft::capi::HandleBits first =
        weft::capi::adopt_stream(scope, runtime, std::move(streams.first), Kind::pipe_stream);
    weft::capi::HandleBits second = 0;
    try {
      second = weft::capi::adopt_stream(scope, runtime, std::move(streams.second), Kind::pipe_stream);
    } catch (...) {
      weft::capi::end_io(
          &weft::capi::lookup<weft::capi::IoRec>(reinterpret_cast<const void*>(first), Kind::pipe_stream));
      throw;
    }
    *a = weft::capi::as_handle<weft_stream_t>(first);
    *b = weft::capi::as_handle<weft_stream_t>(second);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_pipe_open(weft_stream_t** out, weft_loop_t* loop, int fd) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_pipe_open");
    require(out, "out");
    weft::capi::check_stream_fd(fd);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::Runtime& runtime = scope.runtime;
    // The handle first, over an empty stream: once the descriptor is the
    // stream's, nothing can fail any more, so on failure it stays the caller's.
    auto* rec = runtime.allocator.make<weft::capi::CoreStreamRec<weft::PipeStream>>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    const weft::capi::HandleBits handle = weft::capi::register_io(rec, Kind::pipe_stream);
    try {
      rec->core = weft::PipeStream::open(runtime.loop, fd);
    } catch (...) {
      weft::capi::end_io(rec);
      throw;
    }
    *out = weft::capi::as_handle<weft_stream_t>(handle);
    return WEFT_OK;
  });
}

}  // extern "C"
