#include "core/io/subprocess.h"

#include <uv.h>

#include <string>
#include <utility>
#include <vector>

#include "core/io/detail/stream_impl.h"
#include "core/io/io_error.h"
#include "core/loop/loop_access.h"

namespace weft {

namespace detail {

// The uv_process_t behind a Process. It closes itself once the child has
// exited (libuv reaps it); until then it stays open even if the Process is
// destroyed, so the child is still reaped.
class ProcessImpl final : public IoObject {
 public:
  explicit ProcessImpl(Loop& loop) noexcept : IoObject(loop, "process") {}

  // Spawns; on failure closes the handle and throws.
  void spawn(uv_process_options_t& options) {
    check_thread("spawn");
    options.exit_cb = &ProcessImpl::on_exit;
    process_.data = this;
    const int rc = uv_spawn(detail::LoopAccess::uv_loop(loop()), &process_, &options);
    // uv_spawn initialises the handle even when it fails: it must be closed.
    opened(reinterpret_cast<uv_handle_t*>(&process_));
    if (rc < 0) {
      close();
      throw Exception(uv_error(rc, std::string("spawn ") + options.file));
    }
    pid_ = process_.pid;
  }

  int pid() const noexcept { return pid_; }
  const std::optional<ExitStatus>& status() const noexcept { return status_; }

  Future<ExitStatus> wait() {
    if (status_) return make_ready_future<ExitStatus>(*status_);
    if (!is_open()) return make_failed_future<ExitStatus>(closed_error());
    check_thread("wait");
    auto [promise, future] = detail::make_hooked_promise<ExitStatus>();
    watch(promise);
    if (waiters_.empty()) op_started();
    waiters_.push_back(std::move(promise));
    return std::move(future);
  }

  bool kill(int signum) {
    if (status_ || !is_open()) return false;
    check_thread("kill");
    const int rc = uv_process_kill(&process_, signum);
    if (rc == UV_ESRCH) return false;
    throw_if_uv_error(rc, "kill " + std::to_string(pid_));
    return true;
  }

 private:
  void fail_pending(const Error& error) noexcept override {
    std::vector<Promise<ExitStatus>> waiters = std::move(waiters_);
    for (Promise<ExitStatus>& waiter : waiters) waiter.set_error(error);
  }

  void sweep_cancelled() noexcept override {
    if (waiters_.empty()) return;
    std::erase_if(waiters_, [](const Promise<ExitStatus>& p) { return p.cancelled(); });
    if (waiters_.empty()) op_finished();
  }

  static void on_exit(uv_process_t* process, std::int64_t exit_code, int term_signal) {
    auto* self = static_cast<ProcessImpl*>(process->data);
    self->status_ = ExitStatus{exit_code, term_signal};
    std::vector<Promise<ExitStatus>> waiters = std::move(self->waiters_);
    if (!waiters.empty()) self->op_finished();
    for (Promise<ExitStatus>& waiter : waiters) waiter.set_value(*self->status_);
    self->close();  // reaped: nothing left to watch
  }

  uv_process_t process_;
  int pid_ = 0;
  std::optional<ExitStatus> status_;
  std::vector<Promise<ExitStatus>> waiters_;
};

}  // namespace detail

namespace {

// Fills one stdio slot; for a pipe, creates the stream end weft keeps.
void set_stdio(Loop& loop, StdioMode mode, int fd, bool child_reads, uv_stdio_container_t& slot,
               PipeStream& stream) {
  switch (mode) {
    case StdioMode::inherit:
      slot.flags = UV_INHERIT_FD;
      slot.data.fd = fd;
      break;
    case StdioMode::null:
      slot.flags = UV_IGNORE;
      break;
    case StdioMode::pipe: {
      auto impl = detail::StreamImpl::create(loop, detail::StreamImpl::Type::pipe);
      slot.flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE |
                                               (child_reads ? UV_READABLE_PIPE : UV_WRITABLE_PIPE));
      slot.data.stream = impl->uv_stream();
      stream = detail::StreamAccess::make<PipeStream>(std::move(impl));
      break;
    }
  }
}

}  // namespace

Process::Process() noexcept = default;
Process::Process(Process&&) noexcept = default;
Process& Process::operator=(Process&&) noexcept = default;
Process::~Process() = default;

Process Process::spawn(Loop& loop, const ProcessOptions& options) {
  if (options.args.empty() || options.args[0].empty()) {
    throw Exception(Errc::invalid_argument, "spawn: args[0] must name the program");
  }
  Process process;
  std::vector<char*> argv;
  for (const std::string& arg : options.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env) {
    for (const std::string& entry : *options.env) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
  }
  uv_stdio_container_t stdio[3];
  set_stdio(loop, options.stdin_mode, 0, true, stdio[0], process.stdin_);
  set_stdio(loop, options.stdout_mode, 1, false, stdio[1], process.stdout_);
  set_stdio(loop, options.stderr_mode, 2, false, stdio[2], process.stderr_);

  uv_process_options_t uv_options{};
  uv_options.file = options.file.empty() ? argv[0] : options.file.c_str();
  uv_options.args = argv.data();
  uv_options.env = options.env ? envp.data() : nullptr;
  uv_options.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  uv_options.stdio_count = 3;
  uv_options.stdio = stdio;
  process.impl_ = detail::IoRef<detail::ProcessImpl>::adopt(new detail::ProcessImpl(loop));
  process.impl_->spawn(uv_options);  // on failure, the pipes close with `process`
  return process;
}

int Process::pid() const noexcept { return impl_ ? impl_->pid() : 0; }

Future<ExitStatus> Process::wait() {
  if (!impl_) return make_failed_future<ExitStatus>(Error(Errc::closed, "the process is empty"));
  return impl_->wait();
}

bool Process::kill(int signum) { return impl_ && impl_->kill(signum); }

std::optional<ExitStatus> Process::exit_status() const noexcept {
  return impl_ ? impl_->status() : std::nullopt;
}

}  // namespace weft
