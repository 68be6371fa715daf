#include "tests/bench/bulk/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace bench::bulk {

namespace {

// Reads the first line `fd` gives within `timeout_ms`; "" if none.
std::string read_first_line(int fd, int timeout_ms) {
  std::string line;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int reads = 0; reads < 4096; ++reads) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long spent_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1'000'000;
    if (spent_ms >= timeout_ms) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout_ms - spent_ms)) <= 0) break;
    char ch = 0;
    if (read(fd, &ch, 1) != 1) break;
    if (ch == '\n') return line;
    line += ch;
  }
  return line;
}

}  // namespace

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

int ServerProcess::start(const std::vector<std::string>& argv) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    error_ = std::string("pipe: ") + strerror(errno);
    return -1;
  }
  std::vector<std::string> args = argv;
  args.push_back("--port");
  args.push_back("0");
  std::vector<char*> raw;
  for (std::string& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  const int rc = posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  stdout_fd_ = out[0];
  if (rc != 0) {
    pid_ = -1;
    error_ = "cannot start " + argv[0] + ": " + strerror(rc);
    return -1;
  }
  const std::string line = read_first_line(stdout_fd_, 10'000);
  const std::string marker = "listening on 127.0.0.1:";
  const std::size_t at = line.find(marker);
  const int port = at == std::string::npos ? -1 : std::atoi(line.c_str() + at + marker.size());
  if (port <= 0 || port > 65535) {
    error_ = argv[0] + " did not say where it listens: \"" + line + "\"";
    return -1;  // the destructor kills it
  }
  return port;
}

ProcessCpu ServerProcess::cpu() const {
  ProcessCpu cpu;
  if (pid_ <= 0) return cpu;
  std::ifstream schedstat("/proc/" + std::to_string(pid_) + "/schedstat");
  unsigned long long on_cpu_ns = 0;
  if (schedstat >> on_cpu_ns) cpu.total_s = on_cpu_ns / 1e9;
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t paren = text.rfind(')');
  if (paren != std::string::npos) {
    // After the command's ")": field 3 (state) onwards; utime is field 14.
    std::istringstream fields(text.substr(paren + 1));
    std::string field;
    for (int i = 3; i <= 14 && fields >> field; ++i) {
      if (i == 14) cpu.user_s = std::strtod(field.c_str(), nullptr) / sysconf(_SC_CLK_TCK);
    }
  }
  return cpu;
}

bool ServerProcess::stop() {
  if (pid_ <= 0) return error_.empty();
  kill(pid_, SIGTERM);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && done == 0; ++i) {
    done = waitpid(pid_, &status, WNOHANG);
    if (done == 0) usleep(10'000);
  }
  if (done == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    error_ = "the server did not stop within 5 s of SIGTERM";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error_ = "the server did not exit 0 after SIGTERM (status " + std::to_string(status) + ")";
  }
  pid_ = -1;
  return error_.empty();
}

}  // namespace bench::bulk
