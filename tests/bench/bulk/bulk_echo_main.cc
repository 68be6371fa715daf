// W11's bulk variants (tests/bench/README.md): echo servers in processes of
// their own, each driven by the same independent load generator (this
// process, echo_client.h), side by side in one run, alternating.
//
//   bazel run --config=opt //tests/bench/bulk:bulk_echo -- --repeat 5
//   ... -- --sizes 16k,1m --impl weft --impl libuv --scale 0.5
//
// The servers are given as --server IMPL=PATH (the BUILD file passes weft's
// C++ and C example echo servers, raw libuv's and the epoll reference). For
// each repeat, each message size and each server (the order rotates from one
// repeat to the next): start the server, connect 64 connections, read the
// server's CPU time, run the round trips, read its CPU time again, stop it.
// One JSON line per run; with --repeat K > 1 a line of medians per (impl,
// size), with the ratios to raw libuv's medians of the same run
// (`mb_per_s_vs_libuv`, `server_cpu_vs_libuv`, `p99_vs_libuv`).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/bench/bulk/echo_client.h"
#include "tests/bench/bulk/server_process.h"
#include "tests/bench/report.h"

namespace {

using bench::JsonLine;
using bench::bulk::EchoClientOptions;
using bench::bulk::ProcessCpu;
using bench::bulk::ServerProcess;

struct Size {
  const char* label;      // the workload's suffix
  std::size_t bytes;
  std::uint64_t round_trips;  // at --scale 1: about 0.8 GB echoed, 64 B aside
};

constexpr Size kSizes[] = {
    {"64", 64, 200'000},
    {"16k", 16 * 1024, 50'000},
    {"64k", 64 * 1024, 12'000},
    {"1m", 1024 * 1024, 800},
};

struct Server {
  std::string impl;
  std::string path;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bulk_echo: %s\n"
               "usage: bulk_echo --server IMPL=PATH... [--sizes 64,16k,64k,1m] [--repeat K]\n"
               "                 [--scale X] [--impl IMPL]... [--connections N]\n",
               why);
  std::exit(2);
}

double loadavg_1m() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

constexpr const char* kFields[] = {"seconds", "mb_per_s", "ops_per_s", "p50_us", "p99_us",
                                   "server_cpu_us_per_rt", "server_user_us_per_rt"};

}  // namespace

int main(int argc, char** argv) {
  std::vector<Server> servers;
  std::vector<Size> sizes(std::begin(kSizes), std::end(kSizes));
  std::vector<std::string> only;
  int repeat = 1;
  int connections = 64;
  double scale = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing a value after " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--server") {
      const std::size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) usage("--server wants IMPL=PATH");
      servers.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (arg == "--sizes") {
      sizes.clear();
      std::size_t from = 0;
      while (from <= value.size()) {
        const std::size_t comma = std::min(value.find(',', from), value.size());
        const std::string label = value.substr(from, comma - from);
        auto it = std::find_if(std::begin(kSizes), std::end(kSizes),
                               [&](const Size& s) { return label == s.label; });
        if (it == std::end(kSizes)) usage(("unknown size " + label + " (64, 16k, 64k, 1m)").c_str());
        sizes.push_back(*it);
        from = comma + 1;
      }
    } else if (arg == "--repeat") {
      repeat = std::atoi(value.c_str());
      if (repeat < 1 || repeat > 100) usage("--repeat wants 1..100");
    } else if (arg == "--scale") {
      scale = std::strtod(value.c_str(), nullptr);
      if (!(scale > 0 && scale <= 100)) usage("--scale wants a number in (0, 100]");
    } else if (arg == "--connections") {
      connections = std::atoi(value.c_str());
      if (connections < 1 || connections > 1000) usage("--connections wants 1..1000");
    } else if (arg == "--impl") {
      only.push_back(value);
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (!only.empty()) {
    std::erase_if(servers, [&](const Server& s) {
      return std::find(only.begin(), only.end(), s.impl) == only.end();
    });
  }
  if (servers.empty()) usage("no server to measure");

  // field -> values, per (impl, workload)
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<double>>> samples;
  int failures = 0;
  for (int r = 0; r < repeat; ++r) {
    for (const Size& size : sizes) {
      const std::string workload = std::string("W11_tcp_echo_ext_") + size.label;
      const std::uint64_t n = std::max<std::uint64_t>(
          static_cast<std::uint64_t>(connections), static_cast<std::uint64_t>(size.round_trips * scale));
      for (std::size_t k = 0; k < servers.size(); ++k) {
        const Server& server = servers[(k + static_cast<std::size_t>(r)) % servers.size()];
        ServerProcess process;
        const int port = process.start({server.path});
        if (port < 0) {
          std::fprintf(stderr, "bulk_echo: %s %s: %s\n", server.impl.c_str(), workload.c_str(),
                       process.error().c_str());
          ++failures;
          continue;
        }
        EchoClientOptions options;
        options.port = port;
        options.connections = connections;
        options.message_size = size.bytes;
        options.round_trips = n;
        ProcessCpu before;
        const double load = loadavg_1m();
        const auto result = bench::bulk::run_echo_client(options, [&] { before = process.cpu(); });
        const ProcessCpu after = process.cpu();
        const bool stopped = process.stop();
        std::string error = result.error;
        if (error.empty() && !stopped) error = process.error();
        if (!error.empty()) {
          std::fprintf(stderr, "bulk_echo: %s %s (n=%llu) failed: %s\n", server.impl.c_str(),
                       workload.c_str(), static_cast<unsigned long long>(n), error.c_str());
          ++failures;
          continue;
        }
        const double rts = static_cast<double>(result.round_trips);
        std::map<std::string, double> values = {
            {"seconds", result.seconds},
            {"mb_per_s", size.bytes * rts / result.seconds / 1e6},
            {"ops_per_s", rts / result.seconds},
            {"p50_us", result.p50_us},
            {"p99_us", result.p99_us},
            {"server_cpu_us_per_rt", (after.total_s - before.total_s) * 1e6 / rts},
            {"server_user_us_per_rt", (after.user_s - before.user_s) * 1e6 / rts},
        };
        JsonLine line;
        line.add("impl", server.impl).add("workload", workload).add("n", result.round_trips);
        line.add("message_bytes", static_cast<std::uint64_t>(size.bytes));
        line.add("connections", connections);
        line.add("seconds", result.seconds);
        line.add("ns_per_op", result.seconds * 1e9 / rts);
        for (const char* field : kFields) {
          if (std::strcmp(field, "seconds") == 0) continue;
          line.add(field, values[field]);
        }
        line.add("loadavg", load, 3);
        line.add("repeat", r);
        std::printf("%s\n", line.str().c_str());
        std::fflush(stdout);
        auto& s = samples[{server.impl, workload}];
        for (const auto& [field, value] : values) s[field].push_back(value);
      }
    }
  }
  if (repeat > 1) {
    for (const auto& [key, fields] : samples) {
      const auto& [impl, workload] = key;
      JsonLine line;
      line.add("impl", impl).add("workload", workload);
      for (const char* field : kFields) line.add(std::string("median_") + field, median(fields.at(field)));
      line.add("repeats", static_cast<std::uint64_t>(fields.at("seconds").size()));
      auto base = samples.find({"libuv", workload});
      if (impl != "libuv" && base != samples.end()) {
        const auto& b = base->second;
        line.add("mb_per_s_vs_libuv", median(fields.at("mb_per_s")) / median(b.at("mb_per_s")), 3);
        line.add("server_cpu_vs_libuv",
                 median(fields.at("server_cpu_us_per_rt")) / median(b.at("server_cpu_us_per_rt")), 3);
        line.add("p99_vs_libuv", median(fields.at("p99_us")) / median(b.at("p99_us")), 3);
      }
      std::printf("%s\n", line.str().c_str());
    }
  }
  if (failures > 0) std::fprintf(stderr, "bulk_echo: %d run(s) failed\n", failures);
  return failures > 0 ? 1 : 0;
}
