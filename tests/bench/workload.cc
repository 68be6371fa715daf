#include "tests/bench/workload.h"

namespace bench {

namespace {
// A function-local static: safe to use from other files' static initialisers.
std::vector<Workload>& registry() {
  static std::vector<Workload> workloads;
  return workloads;
}
}  // namespace

bool register_workloads(std::initializer_list<Workload> workloads) {
  registry().insert(registry().end(), workloads.begin(), workloads.end());
  return true;
}

const std::vector<Workload>& registered_workloads() { return registry(); }

}  // namespace bench
