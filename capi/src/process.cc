// weft_process_t: a child process (weft::Process) as an I/O handle. Loop
// thread only; see io.h for how handles and pending operations live and end,
// and weft/process.h for the contract.
//
// The record keeps the core Process with its pipe ends. Taking a pipe end
// moves its PipeStream out into a stream handle of its own (stream.h) in the
// process's scope. Ending the record drops the Process: the pipe ends still
// in it close, and the child is left to the core, which reaps it when it
// exits.
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/precheck.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "capi/src/stream.h"
#include "core/io/subprocess.h"
#include "weft/process.h"

namespace weft::capi {

namespace {

enum Stdio { kStdin = 0, kStdout = 1, kStderr = 2 };

struct ProcessRec final : IoRec {
  Process core;
  bool piped[3] = {false, false, false};  // that stdio is a pipe
  bool taken[3] = {false, false, false};  // and its end was taken out

  void close_core() noexcept override { core = Process(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

ProcessRec& process_of(const void* handle, const char* function) {
  return static_cast<ProcessRec&>(io_of(handle, Kind::process, "process", function));
}

StdioMode stdio_mode(const weft_stdio_mode& mode, const char* what) {
  switch (raw_enum(mode)) {
    case WEFT_STDIO_INHERIT:
      return StdioMode::inherit;
    case WEFT_STDIO_PIPE:
      return StdioMode::pipe;
    case WEFT_STDIO_NULL:
      return StdioMode::null;
    default:
      fail(Errc::invalid_argument, std::string(what) + " is not a weft_stdio_mode");
  }
}

// The core's options from the caller's; throws for bad input.
ProcessOptions core_options(const weft_process_options& o) {
  if (o.file == nullptr || o.file[0] == '\0') fail(Errc::invalid_argument, "options->file is NULL or empty");
  if (o.args == nullptr || o.args[0] == nullptr) {
    fail(Errc::invalid_argument, "options->args is NULL or has no args[0]");
  }
  ProcessOptions options;
  options.stdin_mode = stdio_mode(o.stdin_mode, "options->stdin_mode");
  options.stdout_mode = stdio_mode(o.stdout_mode, "options->stdout_mode");
  options.stderr_mode = stdio_mode(o.stderr_mode, "options->stderr_mode");
  // `file` is run; args are the child's argv as given (execvp's rule).
  options.file = o.file;
  for (const char* const* arg = o.args; *arg != nullptr; ++arg) options.args.emplace_back(*arg);
  if (o.env != nullptr) {
    options.env.emplace();
    for (const char* const* entry = o.env; *entry != nullptr; ++entry) {
      if (std::strchr(*entry, '=') == nullptr) {
        fail(Errc::invalid_argument, std::string("options->env entry without '=': ") + *entry);
      }
      options.env->emplace_back(*entry);
    }
  }
  if (o.cwd != nullptr) options.cwd = o.cwd;
  return options;
}

PipeStream& pipe_of(ProcessRec& rec, Stdio which) {
  switch (which) {
    case kStdin:
      return rec.core.stdin_pipe();
    case kStdout:
      return rec.core.stdout_pipe();
    case kStderr:
      break;
  }
  return rec.core.stderr_pipe();
}

void take_stdio(weft_stream_t** out, weft_process_t* process, Stdio which, const char* function) {
  static const char* const names[] = {"stdin", "stdout", "stderr"};
  ProcessRec& rec = process_of(process, function);
  require(out, "out");
  if (!rec.piped[which]) fail(Errc::invalid_state, std::string(names[which]) + " is not a pipe");
  if (rec.taken[which]) fail(Errc::invalid_state, std::string(names[which]) + " was taken already");
  rec.scope->require_open(function);
  // Taken even if adopt_stream fails: it closes the stream then.
  rec.taken[which] = true;
  const HandleBits handle =
      adopt_stream(*rec.scope, *rec.runtime, std::move(pipe_of(rec, which)), Kind::pipe_stream);
  *out = as_handle<weft_stream_t>(handle);
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::Kind;
using weft::capi::require;
using weft::capi::Scope;

extern "C" {

WEFT_API weft_status weft_process_spawn(weft_process_t** out, weft_loop_t* loop,
                                        const weft_process_options* options) {
  return api(__func__, [&] {
    Scope& scope = weft::capi::loop_scope(loop, "weft_process_spawn");
    require(out, "out");
    require(options, "options");
    weft::capi::check_struct_size(options, options->struct_size, sizeof(weft_process_options),
                                  sizeof(weft_process_options), "options");
    const weft::ProcessOptions core_options = weft::capi::core_options(*options);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::capi::Runtime& runtime = scope.runtime;
    auto* rec = runtime.allocator.make<weft::capi::ProcessRec>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    const weft::capi::HandleBits handle = weft::capi::register_io(rec, Kind::process);
    try {
      rec->core = weft::Process::spawn(runtime.loop, core_options);
    } catch (...) {
      weft::capi::end_io(rec);  // nothing pending: ends quietly
      throw;
    }
    rec->piped[weft::capi::kStdin] = core_options.stdin_mode == weft::StdioMode::pipe;
    rec->piped[weft::capi::kStdout] = core_options.stdout_mode == weft::StdioMode::pipe;
    rec->piped[weft::capi::kStderr] = core_options.stderr_mode == weft::StdioMode::pipe;
    *out = weft::capi::as_handle<weft_process_t>(handle);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_process_pid(int* out, weft_process_t* process) {
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::ProcessRec& rec = weft::capi::process_of(process, "weft_process_pid");
    require(out, "out");
    *out = rec.core.pid();
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_process_stdin(weft_stream_t** out, weft_process_t* process) {
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::take_stdio(out, process, weft::capi::kStdin, "weft_process_stdin");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_process_stdout(weft_stream_t** out, weft_process_t* process) {
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::take_stdio(out, process, weft::capi::kStdout, "weft_process_stdout");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_process_stderr(weft_stream_t** out, weft_process_t* process) {
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::take_stdio(out, process, weft::capi::kStderr, "weft_process_stderr");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_process_kill(weft_process_t* process, int signum) {
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::ProcessRec& rec = weft::capi::process_of(process, "weft_process_kill");
    if (signum < 0) weft::capi::fail(weft::Errc::invalid_argument, "signum < 0");
    // kill() says false once the child has been reaped (not a misuse).
    return rec.core.kill(signum) ? WEFT_OK : weft::capi::to_status(weft::Errc::already_completed);
  });
}

WEFT_API weft_status weft_process_wait(weft_future_t** out, weft_process_t* process,
                                       weft_process_wait_callback callback, void* user) {
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::ProcessRec& rec = weft::capi::process_of(process, "weft_process_wait");
    weft::capi::require_observer(out, reinterpret_cast<const void*>(callback));
    if (const weft_status closed = rec.scope->open_status(); closed != WEFT_OK) return closed;
    weft::capi::start_io_op(
        *rec.scope, *rec.runtime, &rec, "wait", [&] { return rec.core.wait(); }, out, callback != nullptr,
        [callback, user](weft::Result<weft::ExitStatus>& result, weft::capi::OpFuture& output) {
          if (!result.ok()) return weft::capi::deliver_failure(result, output, callback, user, int64_t{0}, 0);
          const weft::ExitStatus& status = result.value();
          const int64_t code = status.term_signal != 0 ? -static_cast<int64_t>(status.term_signal)
                                                       : static_cast<int64_t>(status.exit_code);
          output.complete(WEFT_OK, nullptr, weft::capi::Value::int64(code));
          if (callback != nullptr) callback(user, WEFT_OK, nullptr, status.exit_code, status.term_signal);
        },
        [callback, user](weft::capi::OpFuture& output, const char* why) {
          output.fail(WEFT_ERR_CANCELLED, why);
          if (callback != nullptr) callback(user, WEFT_ERR_CANCELLED, why, 0, 0);
        });
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_process_close(weft_process_t* process) {
  if (process == nullptr) return WEFT_OK;
  if (const weft_status s = weft::capi::check(__func__, process); s != WEFT_OK) return s;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::process_of(process, "weft_process_close"));
    return WEFT_OK;
  });
}

}  // extern "C"
