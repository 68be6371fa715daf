// weft/file.h over weft::File (core/io/file.h): the record behind a
// weft_file_t, and the executor link every file's calls go through.
// Loop thread only; see io.h for how handles and pending operations live and
// end.
//
// Executor links. A core File keeps the Executor& it was opened with and
// posts every call to it, its close() included — but a C caller may destroy
// a weft_executor_t while files still use it. So a File never sees a
// CExecutor: it sees an ExecutorLink, which holds the executor's handle and
// looks it up on every post (a stale handle, or an executor shutting down,
// refuses the job: the operation fails with Errc::closed, and File::close
// then lets the descriptor go on the loop thread).
//
// A link must outlive every File that points at it. It is reference-counted
// (loop thread only) by:
//   1. the continuation that receives File::open's outcome (`relay`, below);
//   2. every Opened (a File plus a reference, in that order, so that the
//      File is closed before the reference goes), and the FileRec it ends in.
// The relay normally drops its reference after handing the File on. If it is
// cancelled instead (by Loop::close; or File::open's job was dropped unrun,
// which weft's pools never do), File::open's own
// continuation may still make a File and drop it, closing it through the
// link: the relay's reference then goes to the loop (LoopResource), which
// drops it at the end of Loop::close, after every continuation has run.
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "capi/src/executor.h"
#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "core/io/file.h"
#include "core/loop/loop_access.h"
#include "weft/file.h"

namespace weft::capi {

namespace {

class ExecutorLink final : public Executor, public weft::detail::LoopResource {
 public:
  ExecutorLink(Runtime& runtime, HandleBits executor) noexcept : runtime_(runtime), executor_(executor) {}

  bool execute(Callback callback) override {
    HandleError error = HandleError::none;
    void* object = lookup_handle(as_handle<void>(executor_), Kind::executor, error);
    if (object == nullptr) return false;  // destroyed: the job is refused
    CExecutor& executor = *static_cast<CExecutor*>(object);
    std::lock_guard<std::mutex> lock(executor.mutex);
    if (!executor.accepting) return false;
    return executor.target().execute(std::move(callback));
  }

  void retain() noexcept { ++references_; }
  void release() noexcept {
    if (--references_ > 0) return;
    weft::detail::LoopAccess::detach_resource(runtime_.loop, this);
    runtime_.allocator.destroy(this);
  }

  // Hands one reference to the loop, which drops it when it closes.
  void release_when_loop_closes() noexcept {
    weft::detail::LoopAccess::attach_resource(runtime_.loop, this);
  }
  void close_for_loop() noexcept override { release(); }

  ~ExecutorLink() = default;

 private:
  Runtime& runtime_;
  const HandleBits executor_;
  int references_ = 1;
};

// A counted reference to a link.
class LinkRef {
 public:
  LinkRef() noexcept = default;
  explicit LinkRef(ExecutorLink* link) noexcept : link_(link) { link_->retain(); }
  LinkRef(LinkRef&& other) noexcept : link_(std::exchange(other.link_, nullptr)) {}
  LinkRef& operator=(LinkRef&& other) noexcept {
    if (this != &other) {
      reset();
      link_ = std::exchange(other.link_, nullptr);
    }
    return *this;
  }
  ~LinkRef() { reset(); }
  void reset() noexcept {
    if (ExecutorLink* link = std::exchange(link_, nullptr)) link->release();
  }

 private:
  ExecutorLink* link_ = nullptr;
};

// An opened File with the reference that keeps its executor link; the File
// is destroyed (closed) first.
struct Opened {
  LinkRef link;
  File file;
};

struct FileRec final : IoRec {
  std::uint32_t mode = 0;  // weft_file_mode bits
  LinkRef link;
  File core;  // destroyed before `link`
  void close_core() noexcept override {
    try {
      (void)core.close();
    } catch (...) {
      // No memory for close()'s future: the File's destructor closes it.
    }
  }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

FileRec& file_of(const void* handle, const char* function) {
  return static_cast<FileRec&>(io_of(handle, Kind::file, "file", function));
}


// The options of every function here, checked, with the executor looked up.
struct FileOptions {
  HandleBits executor = 0;
  int permissions = 0644;
};

FileOptions file_options(Scope& scope, const weft_file_options* options) {
  weft_file_options o = WEFT_FILE_OPTIONS_INIT;
  if (options != nullptr) {
    check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
    o = *options;
  }
  if (o.permissions > 07777) fail(Errc::invalid_argument, "permissions above 07777");
  Runtime& runtime = scope.runtime;
  CExecutor* executor = runtime.default_pool;
  if (o.executor != nullptr) {
    executor = &lookup<CExecutor>(o.executor, Kind::executor, "options->executor");
    if (&executor->runtime != &runtime) {
      fail(Errc::invalid_argument, "the executor belongs to another runtime than the loop");
    }
  }
  if (executor == nullptr) fail(Errc::closed, "the runtime has no pool any more");
  {
    std::lock_guard<std::mutex> lock(executor->mutex);
    if (!executor->accepting) fail(Errc::closed, "the executor is being destroyed");
  }
  FileOptions result;
  result.executor = executor->handle;
  if (o.permissions != 0) result.permissions = static_cast<int>(o.permissions);
  return result;
}

FileMode file_mode(std::uint32_t mode) {
  constexpr std::uint32_t known = WEFT_FILE_READ | WEFT_FILE_WRITE | WEFT_FILE_CREATE | WEFT_FILE_TRUNCATE |
                                  WEFT_FILE_APPEND | WEFT_FILE_EXCLUSIVE;
  if ((mode & ~known) != 0) fail(Errc::invalid_argument, "mode has an unknown bit");
  if ((mode & WEFT_FILE_READ_WRITE) == 0) fail(Errc::invalid_argument, "mode has neither READ nor WRITE");
  if ((mode & (WEFT_FILE_TRUNCATE | WEFT_FILE_APPEND)) != 0 && (mode & WEFT_FILE_WRITE) == 0) {
    fail(Errc::invalid_argument, "TRUNCATE and APPEND need WRITE");
  }
  if ((mode & WEFT_FILE_EXCLUSIVE) != 0 && (mode & WEFT_FILE_CREATE) == 0) {
    fail(Errc::invalid_argument, "EXCLUSIVE needs CREATE");
  }
  // weft_file_mode's values are FileMode's.
  static_assert(WEFT_FILE_READ == static_cast<int>(FileMode::read) &&
                WEFT_FILE_WRITE == static_cast<int>(FileMode::write) &&
                WEFT_FILE_CREATE == static_cast<int>(FileMode::create) &&
                WEFT_FILE_TRUNCATE == static_cast<int>(FileMode::truncate) &&
                WEFT_FILE_APPEND == static_cast<int>(FileMode::append) &&
                WEFT_FILE_EXCLUSIVE == static_cast<int>(FileMode::exclusive));
  return static_cast<FileMode>(mode);
}

// The kernel would answer EBADF, which reads as "closed": say what it is.
void require_mode(const FileRec& rec, std::uint32_t bit, const char* message) {
  if ((rec.mode & bit) == 0) fail(Errc::invalid_state, message);
}

void require_offset(std::uint64_t offset) {
  if (offset > static_cast<std::uint64_t>(INT64_MAX)) fail(Errc::invalid_argument, "offset above INT64_MAX");
}

// File::open through a new link; the outcome carries the link's reference.
Future<Opened> open_file(Runtime& runtime, HandleBits executor, std::string path, FileMode mode,
                         int permissions) {
  auto* link = runtime.allocator.make<ExecutorLink>(runtime, executor);  // the relay's reference
  auto [promise, opened] = make_promise<Opened>();
  Future<File> file;
  // The continuation's queue room, reserved before the open starts and
  // handed to then() below, which then cannot fail for it.
  try {
    weft::detail::LoopAccess::reserve_continuation(runtime.loop);
  } catch (...) {
    link->release();
    throw;
  }
  try {
    file = File::open(runtime.loop, *link, std::move(path), mode, permissions);
  } catch (...) {
    weft::detail::LoopAccess::release_continuation(runtime.loop);
    link->release();  // nothing can make a File over it
    throw;
  }
  weft::detail::LoopAccess::release_continuation(runtime.loop);
  try {
    std::move(file).then(runtime.loop, [link, relay = std::move(promise)](Result<File> r) mutable {
      if (r.is_cancelled()) {
        // The loop is closing (see the top of this file).
        relay.set_result(Result<Opened>::cancelled());
        link->release_when_loop_closes();
        return;
      }
      if (r.ok()) {
        // Dropped here (closing the File) if the open was cancelled meanwhile.
        relay.set_value(Opened{LinkRef(link), std::move(r).value()});
      } else {
        relay.set_result(Result<Opened>(r.error()));
      }
      link->release();
    });
  } catch (...) {
    // File::open's continuation may still make (and drop) a File over it.
    link->release_when_loop_closes();
    throw;
  }
  return std::move(opened);
}

template <class T>
IoOp* start_size_op(Scope& scope, IoRec* rec, const char* name, T&& start, weft_future_t** out,
                    weft_file_size_callback callback, void* user) {
  return start_io_op(
      scope, scope.runtime, rec, name, start, out, callback != nullptr,
      [callback, user](auto& result, OpFuture& output) {
        if (!result.ok()) return deliver_failure(result, output, callback, user, std::uint64_t{0});
        const auto size = static_cast<std::uint64_t>(result.value());
        output.complete(WEFT_OK, nullptr, Value::int64(static_cast<std::int64_t>(size)));
        if (callback != nullptr) callback(user, WEFT_OK, nullptr, size);
      },
      [callback, user](OpFuture& output, const char* why) {
        output.fail(WEFT_ERR_CANCELLED, why);
        if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, 0);
      });
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_file_open(weft_future_t** out, weft_loop_t* loop, const char* path,
                                    uint32_t mode, const weft_file_options* options,
                                    weft_file_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_file_open");
    require(path, "path");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    const weft::FileMode core_mode = weft::capi::file_mode(mode);
    const weft::capi::FileOptions o = weft::capi::file_options(scope, options);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::Runtime& runtime = scope.runtime;
    Scope* const owner = &scope;
    // The file's record and the future's value, before anything starts.
    weft::capi::Spare<weft::capi::FileRec> spare(runtime.allocator);
    weft::capi::Value value;
    if (out != nullptr)
      value = weft::capi::Value::from_c(weft_value_pointer(nullptr, nullptr), runtime.allocator);
    weft::capi::start_io_op(
        scope, runtime, nullptr, "open",
        [&] { return weft::capi::open_file(runtime, o.executor, path, core_mode, o.permissions); },
        out, callback != nullptr,
        [owner, mode, callback, user, spare = std::move(spare), value = std::move(value)](
            weft::Result<weft::capi::Opened>& result, weft::capi::OpFuture& output) mutable {
          if (!result.ok()) {
            return weft::capi::deliver_failure(result, output, callback, user,
                                               static_cast<weft_file_t*>(nullptr));
          }
          weft::capi::Opened& opened = result.value();
          weft::capi::Runtime& rt = owner->runtime;
          weft_file_t* handle;
          try {
            weft::capi::FileRec* rec = spare.take();
            rec->runtime = &rt;
            rec->scope = owner;
            rec->mode = mode;
            rec->link = std::move(opened.link);
            rec->core = std::move(opened.file);
            handle = weft::capi::as_handle<weft_file_t>(weft::capi::register_io(rec, weft::capi::Kind::file));
          } catch (...) {
            // Only the handle table's growth can be refused here; the file
            // was closed with its record.
            const char* const no_memory = "no memory for the file's handle";
            output.fail(WEFT_ERR_NO_MEMORY, no_memory);
            if (callback != nullptr) callback(user, WEFT_ERR_NO_MEMORY, no_memory, nullptr);
            return;
          }
          value.set_pointer(handle);
          output.complete(WEFT_OK, nullptr,
                          output.wanted() ? std::move(value) : weft::capi::Value());
          if (callback != nullptr) callback(user, WEFT_OK, nullptr, handle);
        },
        [callback, user](weft::capi::OpFuture& output, const char* why) {
          output.fail(WEFT_ERR_CANCELLED, why);
          if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, nullptr);
        });
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_read_at(weft_future_t** out, weft_file_t* file, uint64_t offset,
                                       size_t max, weft_bytes_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, file); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::FileRec& rec = weft::capi::file_of(file, "weft_file_read_at");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (max == 0) weft::capi::fail(weft::Errc::invalid_argument, "max is 0");
    weft::capi::require_offset(offset);
    weft::capi::require_mode(rec, WEFT_FILE_READ, "the file was not opened for reading");
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_bytes_op(*rec.scope, *rec.runtime, &rec, "read", [&] { return rec.core.read_at(offset, max); }, false,
                               out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_write_at(weft_future_t** out, weft_file_t* file, uint64_t offset,
                                        const void* bytes, size_t len,
                                        weft_file_size_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, file); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::FileRec& rec = weft::capi::file_of(file, "weft_file_write_at");
    if (len > 0) require(bytes, "bytes");
    weft::capi::require_offset(offset);
    weft::capi::require_mode(rec, WEFT_FILE_WRITE, "the file was not opened for writing");
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    std::string data = len > 0 ? std::string(static_cast<const char*>(bytes), len) : std::string();
    weft::capi::start_size_op(*rec.scope, &rec, "write", [&] { return rec.core.write_at(offset, std::move(data)); }, out,
                              callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_size(weft_future_t** out, weft_file_t* file,
                                    weft_file_size_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, file); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::FileRec& rec = weft::capi::file_of(file, "weft_file_size");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_size_op(*rec.scope, &rec, "size", [&] { return rec.core.size(); }, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_sync(weft_future_t** out, weft_file_t* file, weft_callback callback,
                                    void* user) {
  if (const weft_status s = weft::capi::check(__func__, file); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::FileRec& rec = weft::capi::file_of(file, "weft_file_sync");
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_void_op(*rec.scope, *rec.runtime, &rec, "sync", [&] { return rec.core.sync(); }, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_read_all(weft_future_t** out, weft_loop_t* loop, const char* path,
                                        const weft_file_options* options,
                                        weft_bytes_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_file_read_all");
    require(path, "path");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    const weft::capi::FileOptions o = weft::capi::file_options(scope, options);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    // read_file posts its job at once and keeps no reference to the link.
    weft::capi::ExecutorLink link(scope.runtime, o.executor);
    weft::capi::start_bytes_op(scope, scope.runtime, nullptr, "read_all",
                               [&] { return weft::read_file(scope.runtime.loop, link, path); }, false, out, callback, user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_write_all(weft_future_t** out, weft_loop_t* loop, const char* path,
                                         const void* bytes, size_t len,
                                         const weft_file_options* options, weft_callback callback,
                                         void* user) {
  if (const weft_status s = weft::capi::check(__func__, loop); s != WEFT_OK) return s;
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_file_write_all");
    require(path, "path");
    if (len > 0) require(bytes, "bytes");
    const weft::capi::FileOptions o = weft::capi::file_options(scope, options);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::ExecutorLink link(scope.runtime, o.executor);
    std::string data = len > 0 ? std::string(static_cast<const char*>(bytes), len) : std::string();
    weft::capi::start_void_op(
        scope, scope.runtime, nullptr, "write_all",
        [&] { return weft::write_file(scope.runtime.loop, link, path, std::move(data), o.permissions); }, out,
        callback,
        user);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_file_close(weft_file_t* file) {
  if (file == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, file); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::file_of(file, "weft_file_close"));
    return WEFT_OK;
  });
}

}  // extern "C"
