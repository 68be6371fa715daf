#include "tests/bench/bulk/echo_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace bench::bulk {

namespace {

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Connection {
  int fd = -1;
  std::size_t sent = 0;      // bytes of the current message handed to the kernel
  std::size_t received = 0;  // bytes of its echo back so far
  std::uint64_t sent_at = 0;
  unsigned char fill = 0;    // the current message's byte value
  bool want_out = false;     // waiting for writability to send the rest
  std::unique_ptr<char[]> out;  // the current message (every byte is `fill`)
};

class Client {
 public:
  explicit Client(const EchoClientOptions& options) : options_(options) {}

  ~Client() {
    for (Connection& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  EchoClientResult run(const std::function<void()>& on_connected) {
    EchoClientResult result;
    if (options_.connections <= 0 || options_.message_size == 0 || options_.round_trips == 0) {
      result.error = "connections, message size and round trips must be positive";
      return result;
    }
    if (!connect_all()) {
      result.error = error_;
      return result;
    }
    for (Connection& c : conns_) c.out.reset(new char[options_.message_size]);
    inbuf_.reset(new char[kReadBytes]);
    latencies_ns_.reserve(options_.round_trips);
    on_connected();
    start_ns_ = now_ns();
    const std::uint64_t deadline = start_ns_ + static_cast<std::uint64_t>(options_.time_limit_s * 1e9);
    for (Connection& c : conns_) {
      if (issued_ < options_.round_trips) send_next(c);
    }
    epoll_event events[128];
    while (error_.empty() && completed_ < options_.round_trips) {
      if (now_ns() > deadline) {
        error_ = "time limit: only " + std::to_string(completed_) + " of " +
                 std::to_string(options_.round_trips) + " round trips in " +
                 std::to_string(options_.time_limit_s) + " s";
        break;
      }
      const int ready = epoll_wait(epoll_fd_, events, 128, 1000);
      if (ready < 0 && errno != EINTR) error_ = std::string("epoll_wait: ") + strerror(errno);
      for (int i = 0; i < ready && error_.empty(); ++i) {
        Connection& c = conns_[events[i].data.u32];
        if (events[i].events & EPOLLOUT) send_rest(c);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) receive(c);
      }
    }
    result.error = error_;
    result.round_trips = completed_;
    result.seconds = (end_ns_ - start_ns_) / 1e9;
    result.p50_us = percentile_us(0.50);
    result.p99_us = percentile_us(0.99);
    return result;
  }

 private:
  static constexpr std::size_t kReadBytes = 256 * 1024;

  bool connect_all() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return fail(std::string("epoll_create1: ") + strerror(errno));
    conns_.resize(static_cast<std::size_t>(options_.connections));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Connection& c = conns_[i];
      c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0) return fail(std::string("socket: ") + strerror(errno));
      // A blocking connect: to a listening loopback port it completes at once.
      if (connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        return fail(std::string("connect: ") + strerror(errno));
      }
      int one = 1;
      setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u32 = static_cast<std::uint32_t>(i);
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &event) != 0) {
        return fail(std::string("epoll_ctl: ") + strerror(errno));
      }
    }
    return true;
  }

  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
  }

  void watch_out(Connection& c, bool on) {
    if (c.want_out == on) return;
    c.want_out = on;
    epoll_event event{};
    event.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    event.data.u32 = static_cast<std::uint32_t>(&c - conns_.data());
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &event) != 0) {
      fail(std::string("epoll_ctl: ") + strerror(errno));
    }
  }

  // The next message on `c`: one send() of all of it.
  void send_next(Connection& c) {
    ++issued_;
    c.fill = static_cast<unsigned char>(1 + issued_ % 251);
    std::memset(c.out.get(), c.fill, options_.message_size);
    c.sent = 0;
    c.received = 0;
    c.sent_at = now_ns();
    send_rest(c);
  }

  void send_rest(Connection& c) {
    while (c.sent < options_.message_size) {
      const ssize_t n = send(c.fd, c.out.get() + c.sent, options_.message_size - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        watch_out(c, true);
        return;
      } else {
        fail(std::string("send: ") + strerror(errno));
        return;
      }
    }
    watch_out(c, false);
  }

  void receive(Connection& c) {
    const ssize_t n = recv(c.fd, inbuf_.get(), kReadBytes, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) {
      fail(std::string("recv: ") + strerror(errno));
      return;
    }
    if (n == 0) {
      fail("the server closed a connection");
      return;
    }
    const auto size = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < size; i += 61) {
      if (static_cast<unsigned char>(inbuf_[i]) != c.fill) {
        fail("the echo has the wrong bytes");
        return;
      }
    }
    if (static_cast<unsigned char>(inbuf_[size - 1]) != c.fill) {
      fail("the echo has the wrong bytes");
      return;
    }
    c.received += size;
    if (c.received < options_.message_size) return;
    if (c.received > options_.message_size) {
      fail("more bytes came back than were sent");
      return;
    }
    const std::uint64_t now = now_ns();
    latencies_ns_.push_back(std::min<std::uint64_t>(now - c.sent_at, UINT32_MAX));
    if (++completed_ == options_.round_trips) end_ns_ = now;
    if (issued_ < options_.round_trips) send_next(c);
  }

  double percentile_us(double fraction) {
    if (latencies_ns_.empty()) return 0;
    const std::size_t k =
        std::min(latencies_ns_.size() - 1, static_cast<std::size_t>(fraction * latencies_ns_.size()));
    std::nth_element(latencies_ns_.begin(), latencies_ns_.begin() + static_cast<std::ptrdiff_t>(k),
                     latencies_ns_.end());
    return latencies_ns_[k] / 1000.0;
  }

  const EchoClientOptions options_;
  int epoll_fd_ = -1;
  std::vector<Connection> conns_;
  std::unique_ptr<char[]> inbuf_;
  std::vector<std::uint32_t> latencies_ns_;
  std::uint64_t issued_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t start_ns_ = 0;
  std::uint64_t end_ns_ = 0;
  std::string error_;
};

}  // namespace

EchoClientResult run_echo_client(const EchoClientOptions& options,
                                 const std::function<void()>& on_connected) {
  Client client(options);
  return client.run(on_connected);
}

}  // namespace bench::bulk
