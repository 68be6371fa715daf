// An echo server under test, in a process of its own (the driver's child):
// started with `--port 0`, asked where it listens (the first line it prints,
// "... listening on 127.0.0.1:PORT"), its CPU time read from /proc while it
// serves, and stopped with SIGTERM (it must exit 0 within a few seconds, or
// it is killed and the stop fails). Used by the driver's thread only.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bench::bulk {

// CPU time of a process so far.
struct ProcessCpu {
  double total_s = 0;  // /proc/PID/schedstat: time on a CPU, ns precision
  double user_s = 0;   // /proc/PID/stat utime (clock ticks: 10 ms steps)
};

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Kills a server that was not stopped.
  ~ServerProcess();

  // Starts `argv[0]` with `argv[1..]` plus "--port 0"; returns the port, or
  // -1 (error() says why; nothing is left running).
  int start(const std::vector<std::string>& argv);
  // The server's CPU time so far (all its threads); zeros if /proc cannot say.
  ProcessCpu cpu() const;
  // SIGTERM, then waits up to 5 s; returns false (error() says why) if it had
  // to be killed or did not exit 0.
  bool stop();
  const std::string& error() const { return error_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string error_;
};

}  // namespace bench::bulk
