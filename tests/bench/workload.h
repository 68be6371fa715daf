// The benchmark's registry: a workload is an (impl, name, n, function) entry.
//
// Each workloads file registers its entries at static-initialisation time
// (`const bool registered = bench::register_workloads({...})`), so a file
// that is left out of the build simply contributes nothing. bench_main orders
// the entries by workload id, then by name (a workload's variants), then by
// impl (weft before libuv), so every comparison runs side by side in the same
// process: W1 weft, W1 libuv, W2 ..., W11_tcp_echo weft, W11_tcp_echo libuv,
// W11_tcp_echo_16k weft, ...
//
// A workload runs once per call, measures itself and checks its own result:
// it fills an Outcome, or returns one with `error` set when the check failed
// (the harness then prints nothing for it and exits non-zero at the end).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Outcome {
  double seconds = 0;          // the timed part
  std::uint64_t ops = 0;       // what ns_per_op and ops_per_s divide by (n unless said)
  long rss_kb = -1;            // VmRSS at the workload's high point; -1: not measured
  // Extra numeric fields printed as they are, e.g. {"elapsed_ms", 51.2}.
  std::vector<std::pair<std::string, double>> extra;
  std::string error;           // non-empty: the workload's self-check failed
};

// Makes an Outcome that reports a failed self-check.
inline Outcome failed(std::string why) {
  Outcome outcome;
  outcome.error = std::move(why);
  return outcome;
}

using WorkloadFn = Outcome (*)(std::uint64_t n);

struct Workload {
  const char* impl;      // "weft", "libuv"
  const char* name;      // "W1_callbacks_chain": id, underscore, tests/bench/README.md name
  std::uint64_t n;       // full-size N from tests/bench/README.md (the harness may scale it)
  WorkloadFn run;
};

// Adds entries to the registry; returns true so it can initialise a constant.
bool register_workloads(std::initializer_list<Workload> workloads);

// Every registered workload, in registration order.
const std::vector<Workload>& registered_workloads();

}  // namespace bench
