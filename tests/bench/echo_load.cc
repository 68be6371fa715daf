#include "tests/bench/echo_load.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <uv.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "tests/bench/uv_util.h"

namespace bench {

namespace {

struct Generator;

struct Connection {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  Generator* generator = nullptr;
  std::size_t received = 0;      // bytes of the current echo
  std::uint64_t sent_at = 0;     // uv_hrtime() of the current message
  unsigned char fill = 0;        // the current message's byte value
  std::unique_ptr<char[]> inbuf;
  std::unique_ptr<char[]> outbuf;
};

struct Generator {
  uv_loop_t* loop;
  std::size_t message_size;
  std::uint64_t target;
  std::uint64_t issued = 0;
  std::uint64_t completed = 0;
  int connected = 0;
  int connections = 0;
  std::vector<std::uint32_t> latencies_ns;
  std::vector<std::unique_ptr<Connection>> conns;
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  std::string error;

  void fail(const std::string& why) {
    if (error.empty()) error = why;
    uv_stop(loop);
  }

  void send(Connection& c) {
    ++issued;
    c.fill = static_cast<unsigned char>(issued % 251);
    std::fill_n(c.outbuf.get(), message_size, static_cast<char>(c.fill));
    c.received = 0;
    c.sent_at = uv_hrtime();
    uv_buf_t buf = uv_buf_init(c.outbuf.get(), static_cast<unsigned>(message_size));
    int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1);
    if (n == static_cast<int>(message_size)) return;
    if (n < 0 && n != UV_EAGAIN) return fail(std::string("write: ") + uv_strerror(n));
    const std::size_t done = n < 0 ? 0 : static_cast<std::size_t>(n);
    buf = uv_buf_init(c.outbuf.get() + done, static_cast<unsigned>(message_size - done));
    int rc = uv_write(&c.write, reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1, [](uv_write_t* w, int status) {
      if (status < 0) static_cast<Connection*>(w->data)->generator->fail("write failed");
    });
    if (rc < 0) fail(std::string("write: ") + uv_strerror(rc));
  }

  void on_bytes(Connection& c, const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 61) {
      if (static_cast<unsigned char>(data[i]) != c.fill) return fail("the echo has the wrong bytes");
    }
    c.received += n;
    if (c.received < message_size) return;
    if (c.received > message_size) return fail("more bytes came back than were sent");
    const std::uint64_t now = uv_hrtime();
    latencies_ns.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(now - c.sent_at, UINT32_MAX)));
    if (++completed == target) {
      end_ns = now;
      uv_stop(loop);
      return;
    }
    if (issued < target) send(c);
  }
};

void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    c->generator->on_bytes(*c, buf->base, static_cast<std::size_t>(nread));
  } else if (nread < 0) {
    c->generator->fail(std::string("read: ") + uv_strerror(static_cast<int>(nread)));
  }
}

void on_connect(uv_connect_t* request, int status) {
  auto* c = static_cast<Connection*>(request->data);
  Generator& g = *c->generator;
  if (status < 0) return g.fail(std::string("connect: ") + uv_strerror(status));
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(h->data);
        *buf = uv_buf_init(conn->inbuf.get(), 64 * 1024);
      },
      on_read);
  if (++g.connected == g.connections) {
    // Everyone is connected: start the clock and put one message in flight
    // on every connection.
    g.start_ns = uv_hrtime();
    for (auto& conn : g.conns) {
      if (g.issued < g.target) g.send(*conn);
    }
  }
}

double percentile_us(std::vector<std::uint32_t>& values, double fraction) {
  if (values.empty()) return 0;
  const std::size_t k = std::min(values.size() - 1, static_cast<std::size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k] / 1000.0;
}

}  // namespace

EchoLoadResult run_echo_load(int port, int connections, std::size_t message_size,
                             std::uint64_t round_trips) {
  EchoLoadResult result;
  UvLoop loop;
  Generator g;
  g.loop = loop.get();
  g.message_size = message_size;
  g.target = round_trips;
  g.connections = connections;
  g.latencies_ns.reserve(round_trips);
  sockaddr_in address{};
  uv_ip4_addr("127.0.0.1", port, &address);
  for (int i = 0; i < connections; ++i) {
    auto c = std::make_unique<Connection>();
    c->generator = &g;
    c->inbuf.reset(new char[64 * 1024]);
    c->outbuf.reset(new char[message_size]);
    uv_tcp_init(loop.get(), &c->tcp);
    c->tcp.data = c.get();
    c->connect.data = c.get();
    c->write.data = c.get();
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<const sockaddr*>(&address), on_connect);
    g.conns.push_back(std::move(c));
  }
  uv_run(loop.get(), UV_RUN_DEFAULT);
  for (auto& c : g.conns) uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), nullptr);
  std::string closing = loop.close();
  if (!g.error.empty()) {
    result.error = g.error;
  } else if (g.completed != round_trips) {
    result.error = "only " + std::to_string(g.completed) + " round trips completed";
  } else if (!closing.empty()) {
    result.error = closing;
  }
  result.round_trips = g.completed;
  result.seconds = (g.end_ns - g.start_ns) / 1e9;
  result.p50_us = percentile_us(g.latencies_ns, 0.50);
  result.p99_us = percentile_us(g.latencies_ns, 0.99);
  return result;
}

ThreadCpu thread_cpu() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return {usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
          usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6};
}

void pin_to_cpu(int cpu) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) < 2) return;
  // The cpu-th allowed CPU.
  int seen = 0;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (!CPU_ISSET(i, &allowed)) continue;
    if (seen++ == cpu) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(i, &one);
      pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
      return;
    }
  }
}

Outcome measure_echo(EchoServerThread& server, std::size_t message_size, std::uint64_t round_trips) {
  const int port = server.start();
  if (port < 0) return failed("the server did not start: " + server.error());
  pin_to_cpu(0);
  EchoLoadResult load = run_echo_load(port, kEchoConnections, message_size, round_trips);
  server.stop();
  if (!load.error.empty()) return failed(load.error);
  if (!server.error().empty()) return failed(server.error());
  Outcome outcome;
  outcome.seconds = load.seconds;
  outcome.ops = load.round_trips;
  const ThreadCpu cpu = server.cpu();
  const double per_rt_us = 1e6 / static_cast<double>(load.round_trips);
  outcome.extra = {
      {"p50_us", load.p50_us},
      {"p99_us", load.p99_us},
      {"server_cpu_us_per_rt", cpu.total() * per_rt_us},
      {"server_user_us_per_rt", cpu.user * per_rt_us},
      {"mb_per_s", static_cast<double>(message_size) * load.round_trips / load.seconds / 1e6},
  };
  return outcome;
}

}  // namespace bench
