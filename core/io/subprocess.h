// weft::Process: a child process with pipes, on the loop.
//
//   weft::ProcessOptions options;
//   options.args = {"sort", "-r"};
//   auto child = weft::Process::spawn(loop, options);
//   child.stdin_pipe().write("b\na\n");  child.stdin_pipe().shutdown();
//   child.stdout_pipe().read_some() ...;  child.wait() -> ExitStatus
//
// - `file` is the program (when empty: args[0]); without a '/' it is
//   searched in PATH. args become the child's argv as given. `env`
//   replaces the environment ("NAME=value" entries) when given; `cwd` sets the
//   working directory when not empty.
// - Each of stdin/stdout/stderr is inherited, a pipe (a PipeStream on the
//   loop, see stream.h: the child's stdin is written, its stdout and stderr
//   read), or /dev/null.
// - spawn() throws weft::Exception when the program cannot be started
//   (Errc::not_found, permission_denied, ...).
// - wait() completes with the exit status once the child has exited (at once
//   if it already has); several waits may be pending. A pending wait keeps
//   Loop::run() going.
// - kill(signum) sends a signal; false if the child has already exited.
// - Destroying a Process neither kills nor waits for the child: weft still
//   reaps it when it exits, as long as the loop runs. Closing the loop stops
//   watching it (pending waits fail with Errc::closed).
//
// Threads: the loop's thread; destroying elsewhere is allowed.
#pragma once

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/future/future.h"
#include "core/io/detail/io_object.h"
#include "core/io/pipe_stream.h"

namespace weft {

namespace detail {
class ProcessImpl;
}

enum class StdioMode { inherit, pipe, null };

struct ProcessOptions {
  std::string file;                              // the program; "": args[0]
  std::vector<std::string> args;                 // the child's argv
  std::optional<std::vector<std::string>> env;   // "NAME=value"; nullopt: inherit
  std::string cwd;                               // "": inherit
  StdioMode stdin_mode = StdioMode::pipe;
  StdioMode stdout_mode = StdioMode::pipe;
  StdioMode stderr_mode = StdioMode::inherit;
};

struct ExitStatus {
  std::int64_t exit_code = 0;
  int term_signal = 0;  // the signal that ended it, or 0
  bool success() const noexcept { return exit_code == 0 && term_signal == 0; }
};

class Process {
 public:
  Process() noexcept;
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  ~Process();

  // Loop thread. Throws weft::Exception.
  static Process spawn(Loop& loop, const ProcessOptions& options);

  int pid() const noexcept;
  // The pipes (empty streams for the modes that are not `pipe`). They may be
  // moved out; they live on independently of the Process.
  PipeStream& stdin_pipe() noexcept { return stdin_; }
  PipeStream& stdout_pipe() noexcept { return stdout_; }
  PipeStream& stderr_pipe() noexcept { return stderr_; }

  [[nodiscard]] Future<ExitStatus> wait();
  // Loop thread. False if the child has already exited; throws for an invalid signal.
  bool kill(int signum = SIGTERM);
  // The status, once the child has exited.
  std::optional<ExitStatus> exit_status() const noexcept;

 private:
  detail::IoRef<detail::ProcessImpl> impl_;
  PipeStream stdin_;
  PipeStream stdout_;
  PipeStream stderr_;
};

}  // namespace weft
