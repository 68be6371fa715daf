// The Redis client's throughput: SET or GET from C connections, each keeping
// a pipeline of P commands in flight (send P, read P replies, again), N
// commands in all — the shape of `redis-benchmark -P P -c C -t set,get -n N`
// (the same key "key:__rand_int__" and 3-byte value "xxx" it uses by
// default). Prints one JSON line per test (tests/bench/README.md's format),
// with the process's CPU time per command.
//
//   redis_bench --port PORT [--n 1000000] [--connections 64] [--pipeline 16] [--tests set,get]
//
// Run by run_redis_bench.sh next to redis-benchmark against the same server.
// Runs on the main thread's loop; exits 1 if a reply is wrong.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_client.h"

using namespace std::chrono_literals;

namespace {

struct Settings {
  std::uint16_t port = 6379;
  long n = 1000000;
  int connections = 64;
  int pipeline = 16;
  std::vector<std::string> tests{"set", "get"};
};

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// `count` SETs or GETs of the key and value redis-benchmark uses.
redis::Pipeline commands(const std::string& test, long count) {
  redis::Pipeline pipeline;
  for (long i = 0; i < count; ++i) {
    if (test == "set") {
      pipeline.add({"SET", "key:__rand_int__", "xxx"});
    } else {
      pipeline.add({"GET", "key:__rand_int__"});
    }
  }
  return pipeline;
}

// One connection's share: batches of `pipeline` commands until the shared
// budget is spent. Checks every reply.
weft::Task<void> client(redis::Connection& connection, const std::string& test, long& budget,
                        int pipeline) {
  const redis::Pipeline full = commands(test, pipeline);
  const std::string expected = test == "set" ? "OK" : "xxx";
  while (budget > 0) {
    const long batch = budget < pipeline ? budget : pipeline;
    budget -= batch;
    // (An if, not `?:`: GCC 12 destroys a conditional's temporary twice
    // inside a co_await expression.)
    redis::Pipeline next;
    if (batch < pipeline) {
      next = commands(test, batch);
    } else {
      next = full;
    }
    std::vector<redis::Reply> replies = co_await connection.execute(std::move(next));
    for (const redis::Reply& reply : replies) {
      if (reply.as_string() != expected)
        throw weft::Exception(weft::Errc::io_error, "unexpected reply: " + reply.text);
    }
  }
}

weft::Task<void> run_all(const Settings& settings) {
  weft::Loop& loop = *weft::Loop::current();
  const weft::SocketAddress address = weft::SocketAddress::parse("127.0.0.1", settings.port);
  std::vector<redis::Connection> connections;
  for (int i = 0; i < settings.connections; ++i) {
    connections.push_back(co_await redis::Connection::connect(loop, address));
  }
  for (const std::string& test : settings.tests) {
    long budget = settings.n;
    const double cpu_before = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    std::vector<weft::TaskHandle<void>> clients;
    for (redis::Connection& connection : connections) {
      clients.push_back(weft::spawn(client(connection, test, budget, settings.pipeline)));
    }
    co_await weft::gather(std::move(clients));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_before;
    const double n = static_cast<double>(settings.n);
    double load[1] = {0};
    getloadavg(load, 1);
    std::printf(
        "{\"impl\":\"weft\",\"workload\":\"redis_%s_c%d_p%d\",\"n\":%ld,\"seconds\":%.6f,\"ns_per_"
        "op\":%.1f,"
        "\"ops_per_s\":%.0f,\"cpu_ns_per_op\":%.1f,\"load_avg_1m\":%.2f}\n",
        test.c_str(), settings.connections, settings.pipeline, settings.n, seconds,
        seconds * 1e9 / n, n / seconds, cpu * 1e9 / n, load[0]);
    std::fflush(stdout);
  }
}

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s --port PORT [--n N] [--connections C] [--pipeline P] [--tests set,get]\n",
               program);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> long {
      if (i + 1 >= argc) usage(argv[0]);
      char* end = nullptr;
      long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v <= 0) usage(argv[0]);
      return v;
    };
    if (std::strcmp(argv[i], "--port") == 0) {
      settings.port = static_cast<std::uint16_t>(value());
    } else if (std::strcmp(argv[i], "--n") == 0) {
      settings.n = value();
    } else if (std::strcmp(argv[i], "--connections") == 0) {
      settings.connections = static_cast<int>(value());
    } else if (std::strcmp(argv[i], "--pipeline") == 0) {
      settings.pipeline = static_cast<int>(value());
    } else if (std::strcmp(argv[i], "--tests") == 0 && i + 1 < argc) {
      settings.tests.clear();
      std::string list = argv[++i];
      for (std::size_t at = 0; at <= list.size();) {
        std::size_t comma = list.find(',', at);
        if (comma == std::string::npos) comma = list.size();
        std::string test = list.substr(at, comma - at);
        if (test != "set" && test != "get") usage(argv[0]);
        settings.tests.push_back(test);
        at = comma + 1;
      }
    } else {
      usage(argv[0]);
    }
  }
  weft::Loop loop;
  weft::Result<void> result = weft::run_until_complete(loop, run_all(settings));
  loop.shutdown(2s);
  loop.close();
  if (!result.ok()) {
    std::fprintf(stderr, "redis_bench: %s\n", result.error().message().c_str());
    return 1;
  }
  return 0;
}
