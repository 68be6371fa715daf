#include "core/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "core/executor/run_in_executor.h"
#include "core/io/io_error.h"

namespace weft {

// The open descriptor, shared by the File and the jobs in flight: the last
// one to let go closes it (on a worker, or wherever the last job was
// dropped), and tells close()'s future.
struct File::State {
  int fd = -1;
  bool append = false;  // opened with O_APPEND: writes ignore the offset
  std::string path;
  Promise<void> closed;  // set by close(), on the loop thread, before letting go

  ~State() {
    if (fd < 0) return;
    const int rc = ::close(fd);
    const int error = errno;
    if (!closed.valid()) return;
    if (rc == 0 || error == EINTR) {
      closed.set_value();
    } else {
      closed.set_error(errno_error(error, "close " + path));
    }
  }
};

namespace {

[[noreturn]] void throw_errno(const std::string& what) { throw Exception(errno_error(errno, what)); }

int open_flags(FileMode mode) {
  int flags = O_CLOEXEC;
  if (has(mode, FileMode::read_write)) {
    flags |= O_RDWR;
  } else if (has(mode, FileMode::write)) {
    flags |= O_WRONLY;
  } else {
    flags |= O_RDONLY;
  }
  if (has(mode, FileMode::create)) flags |= O_CREAT;
  if (has(mode, FileMode::truncate)) flags |= O_TRUNC;
  if (has(mode, FileMode::append)) flags |= O_APPEND;
  if (has(mode, FileMode::exclusive)) flags |= O_EXCL;
  return flags;
}

int open_or_throw(const std::string& path, int flags, int permissions) {
  for (;;) {
    int fd = ::open(path.c_str(), flags, permissions);
    if (fd >= 0) return fd;
    if (errno != EINTR) throw_errno("open " + path);
  }
}

std::string read_fully(int fd, std::uint64_t offset, std::size_t n, const std::string& path) {
  std::string buffer(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buffer.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("read " + path);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  buffer.resize(got);
  return buffer;
}

void write_fully(int fd, std::uint64_t offset, const std::string& data, bool append, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t r = append ? ::write(fd, data.data() + done, data.size() - done)
                       : ::pwrite(fd, data.data() + done, data.size() - done,
                                  static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("write " + path);
    }
    done += static_cast<std::size_t>(r);
  }
}

}  // namespace

File::File() noexcept = default;
File::File(Loop& loop, Executor& executor, std::shared_ptr<State> state) noexcept
    : loop_(&loop), executor_(&executor), state_(std::move(state)) {}
File::File(File&&) noexcept = default;

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (state_) (void)close();
    loop_ = other.loop_;
    executor_ = other.executor_;
    state_ = std::move(other.state_);
  }
  return *this;
}

File::~File() {
  if (state_) (void)close();
}

const std::string& File::path() const noexcept {
  static const std::string none;
  return state_ ? state_->path : none;
}

Error File::closed_error() const { return Error(Errc::closed, "the file is closed"); }

Future<File> File::open(Loop& loop, Executor& executor, std::string path, FileMode mode, int permissions) {
  const int flags = open_flags(mode);
  const bool append = has(mode, FileMode::append);
  // The File's state is made here, before anything starts: the worker only
  // opens the descriptor, so an open that succeeds needs no more memory.
  auto state = std::make_shared<State>();
  state->path = std::move(path);
  state->append = append;
  auto opened = run_in_executor(loop, executor, [state = std::move(state), flags, permissions]() mutable {
    state->fd = open_or_throw(state->path, flags, permissions);
    return std::move(state);
  });
  // A File needs the loop and executor too: finish it on the loop.
  auto [promise, future] = make_promise<File>();
  future.set_home_loop(loop);
  std::move(opened).then(loop, [&loop, &executor, p = std::move(promise)](
                                   weft::Result<std::shared_ptr<State>> r) mutable {
    if (!r.ok()) {
      p.set_result(r.is_cancelled() ? Result<File>::cancelled() : Result<File>(r.error()));
      return;
    }
    File file(loop, executor, std::move(r).value());
    // If nobody wants it any more, the File's destructor closes it.
    p.set_value(std::move(file));
  });
  return std::move(future);
}

Future<std::string> File::read_at(std::uint64_t offset, std::size_t n) {
  if (!state_) return make_failed_future<std::string>(closed_error());
  return run_in_executor(*loop_, *executor_, [state = state_, offset, n] {
    return read_fully(state->fd, offset, n, state->path);
  });
}

Future<std::size_t> File::write_at(std::uint64_t offset, std::string data) {
  if (!state_) return make_failed_future<std::size_t>(closed_error());
  return run_in_executor(*loop_, *executor_, [state = state_, offset, data = std::move(data)] {
    write_fully(state->fd, offset, data, state->append, state->path);
    return data.size();
  });
}

Future<std::uint64_t> File::size() {
  if (!state_) return make_failed_future<std::uint64_t>(closed_error());
  return run_in_executor(*loop_, *executor_, [state = state_] {
    struct stat st {};
    if (::fstat(state->fd, &st) != 0) throw_errno("stat " + state->path);
    return static_cast<std::uint64_t>(st.st_size);
  });
}

Future<void> File::sync() {
  if (!state_) return make_failed_future<void>(closed_error());
  return run_in_executor(*loop_, *executor_, [state = state_] {
    if (::fsync(state->fd) != 0) throw_errno("sync " + state->path);
  });
}

Future<void> File::close() {
  if (!state_) return make_ready_future<void>();
  auto [promise, future] = make_promise<void>();
  future.set_home_loop(*loop_);
  state_->closed = std::move(promise);
  // Let go on a worker: if nothing else is in flight, the close happens there.
  (void)executor_->execute([state = std::move(state_)]() mutable { state.reset(); });
  return std::move(future);
}

Future<std::string> read_file(Loop& loop, Executor& executor, std::string path) {
  return run_in_executor(loop, executor, [path = std::move(path)] {
    const int fd = open_or_throw(path, O_RDONLY | O_CLOEXEC, 0);
    std::string contents;
    try {
      struct stat st {};
      if (::fstat(fd, &st) != 0) throw_errno("stat " + path);
      // Read the size stat gave, then on until the end (the file may grow, or
      // report no size, as in /proc).
      contents = read_fully(fd, 0, static_cast<std::size_t>(st.st_size), path);
      for (;;) {
        std::string more = read_fully(fd, contents.size(), 64 * 1024, path);
        if (more.empty()) break;
        contents += more;
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return contents;
  });
}

Future<void> write_file(Loop& loop, Executor& executor, std::string path, std::string data,
                        int permissions) {
  return run_in_executor(loop, executor, [path = std::move(path), data = std::move(data), permissions] {
    const int fd = open_or_throw(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions);
    try {
      write_fully(fd, 0, data, false, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0 && errno != EINTR) throw_errno("close " + path);
  });
}

}  // namespace weft
