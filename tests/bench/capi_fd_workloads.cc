// tests/bench/README.md's W14 (fd_pingpong) through the C API (weft/fd.h,
// linked against the shipped libweft.so.1): a socketpair, one byte at a
// time; the callback of each readable wait reads it, writes the next one
// from the other end and waits again (asyncio's add_reader pattern).
// "weft-c" runs the loop as it is; "weft-c-hook" with an empty wait hook
// (weft_loop_set_wait_hook), which makes every wait a poll() on the backend
// fd followed by a non-blocking dispatch: the difference is what a binding
// that releases its interpreter lock around waits pays per event.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"
#include "weft/weft.h"

namespace bench {
namespace {

struct PingPong {
  weft_fd_watch_t* watch = nullptr;
  int reader = -1;
  int writer = -1;
  std::uint64_t n = 0;
  std::uint64_t rounds = 0;
  std::uint64_t hook_calls = 0;
  std::string failure;
};

void on_readable(void* user, weft_status status, const char* message, int events) {
  auto* p = static_cast<PingPong*>(user);
  if (status != WEFT_OK || events != WEFT_FD_READABLE) {
    p->failure = std::string("wait: ") + (message != nullptr ? message : "no readable event");
    return;
  }
  char c;
  if (read(p->reader, &c, 1) != 1) {
    p->failure = "read failed";
    return;
  }
  if (++p->rounds == p->n) return;
  if (write(p->writer, "p", 1) != 1) {
    p->failure = "write failed";
    return;
  }
  weft_status s = weft_fd_wait(nullptr, p->watch, WEFT_FD_READABLE, on_readable, p);
  if (s != WEFT_OK) p->failure = std::string("weft_fd_wait: ") + weft_status_str(s);
}

void count_hook(void* user, int entering) {
  if (entering != 0) ++static_cast<PingPong*>(user)->hook_calls;
}

Outcome fd_pingpong(std::uint64_t n, bool with_hook) {
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 1;
  weft_runtime_t* runtime = nullptr;
  if (weft_runtime_create(&runtime, &options) != WEFT_OK) return failed("weft_runtime_create failed");
  weft_loop_t* loop = nullptr;
  weft_runtime_loop(&loop, runtime);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    weft_runtime_destroy(runtime);
    return failed("socketpair failed");
  }
  PingPong p;
  p.reader = fds[0];
  p.writer = fds[1];
  p.n = n;
  Outcome outcome;
  if (with_hook) weft_loop_set_wait_hook(loop, count_hook, &p);
  if (weft_fd_watch(&p.watch, loop, fds[0]) != WEFT_OK) {
    outcome = failed("weft_fd_watch failed");
  } else {
    const auto start = now();
    const double cpu_start = thread_cpu_seconds();
    if (write(fds[1], "p", 1) != 1 ||
        weft_fd_wait(nullptr, p.watch, WEFT_FD_READABLE, on_readable, &p) != WEFT_OK ||
        weft_loop_run(loop, WEFT_RUN_DEFAULT) != WEFT_OK) {
      outcome = failed("start or run failed");
    } else if (!p.failure.empty() || p.rounds != n) {
      outcome = failed("ran " + std::to_string(p.rounds) + " of " + std::to_string(n) + " rounds: " + p.failure);
    } else {
      outcome.seconds = seconds_between(start, now());
      outcome.ops = n;
      outcome.extra = {{"cpu_ns_per_op", (thread_cpu_seconds() - cpu_start) * 1e9 / static_cast<double>(n)},
                       {"hook_calls_per_op", static_cast<double>(p.hook_calls) / static_cast<double>(n)}};
    }
    weft_fd_watch_close(p.watch);
  }
  weft_runtime_destroy(runtime);
  close(fds[0]);
  close(fds[1]);
  return outcome;
}

Outcome fd_pingpong_plain(std::uint64_t n) { return fd_pingpong(n, false); }
Outcome fd_pingpong_hooked(std::uint64_t n) { return fd_pingpong(n, true); }

const bool registered = register_workloads({
    {"weft-c", "W14_fd_pingpong", 200'000, fd_pingpong_plain},
    {"weft-c-hook", "W14_fd_pingpong", 200'000, fd_pingpong_hooked},
});

}  // namespace
}  // namespace bench
