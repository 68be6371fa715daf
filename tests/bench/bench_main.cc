// weft's benchmark program: runs the workloads of tests/bench/README.md on weft and the
// raw-libuv baselines, and prints one JSON object per line.
//
//   bench [--only NAME]... [--repeat K] [--scale X] [--impl IMPL] [--list]
//
// --only NAME   run only the workloads named NAME ("W1_callbacks_chain") or
//               with that id ("W1"); may repeat, or list names with commas
// --repeat K    run everything K times (A B A B ...: each repeat runs every
//               selected workload, weft then libuv per workload); with K > 1,
//               a summary line of medians per (impl, workload) ends the output
// --scale X     multiply every N by X (at least 1), e.g. 0.001 for a smoke test
// --impl IMPL   run only one implementation ("weft", "weft-spin-off", "weft-c",
//               "weft-c-hook", "libuv", "floor")
// --list        print the selected workloads, one "impl workload n" per line
//
// A workload that fails its own check prints its reason on stderr instead of a
// line; the program then exits 1 after running the rest.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/bench/report.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

struct Options {
  std::vector<std::string> only;
  std::string impl;
  int repeat = 1;
  double scale = 1.0;
  bool list = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "bench: %s\nusage: bench [--only NAME]... [--repeat K] [--scale X] [--impl IMPL] "
               "[--list]\n",
               message.c_str());
  std::exit(2);
}

void split_commas(const std::string& text, std::vector<std::string>& out) {
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const bool takes_value =
        arg == "--only" || arg == "--repeat" || arg == "--scale" || arg == "--impl";
    if (std::size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (takes_value) {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      value = argv[++i];
    }
    if (arg == "--only") {
      split_commas(value, options.only);
    } else if (arg == "--repeat") {
      options.repeat = std::atoi(value.c_str());
      if (options.repeat < 1) usage_error("--repeat must be at least 1");
    } else if (arg == "--scale") {
      char* end = nullptr;
      options.scale = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !(options.scale > 0)) {
        usage_error("--scale must be a positive number");
      }
    } else if (arg == "--impl") {
      options.impl = value;
    } else if (arg == "--list") {
      options.list = true;
    } else {
      usage_error("unknown argument " + arg);
    }
  }
  return options;
}

// "W10_threadsafe_pingpong" -> "W10".
std::string workload_id(const std::string& name) { return name.substr(0, name.find('_')); }

int workload_number(const std::string& name) { return std::atoi(workload_id(name).c_str() + 1); }

int impl_rank(const std::string& impl) {
  if (impl == "weft") return 0;
  if (impl == "weft-spin-off") return 1;  // the same C++ workload with SpinPolicy::off
  if (impl == "weft-c") return 2;  // the C API, right after the C++ figures
  if (impl == "libuv") return 3;
  if (impl == "floor") return 4;  // W5's C floor (floor_workloads.cc)
  return 5;
}

bool matches(const std::string& pattern, const Workload& w) {
  return pattern == w.name || pattern == workload_id(w.name);
}

// The registered workloads the options select, by workload id, weft first.
std::vector<Workload> select(const Options& options) {
  std::vector<Workload> all = registered_workloads();
  std::stable_sort(all.begin(), all.end(), [](const Workload& a, const Workload& b) {
    if (workload_number(a.name) != workload_number(b.name)) {
      return workload_number(a.name) < workload_number(b.name);
    }
    // Variants of one workload (W11_tcp_echo, W11_tcp_echo_16k) each run
    // weft then libuv, side by side.
    if (std::string(a.name) != b.name) return std::string(a.name) < b.name;
    return impl_rank(a.impl) < impl_rank(b.impl);
  });
  for (const std::string& pattern : options.only) {
    if (std::none_of(all.begin(), all.end(), [&](const Workload& w) { return matches(pattern, w); })) {
      usage_error("--only " + pattern + ": no such workload (see --list)");
    }
  }
  std::vector<Workload> chosen;
  for (const Workload& w : all) {
    if (!options.impl.empty() && options.impl != w.impl) continue;
    if (!options.only.empty() &&
        std::none_of(options.only.begin(), options.only.end(),
                     [&](const std::string& pattern) { return matches(pattern, w); })) {
      continue;
    }
    chosen.push_back(w);
  }
  if (chosen.empty()) usage_error("nothing selected");
  return chosen;
}

std::uint64_t scaled(std::uint64_t n, double scale) {
  double v = std::llround(static_cast<double>(n) * scale);
  return v < 1 ? 1 : static_cast<std::uint64_t>(v);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Every number a run reported, by field, for the medians.
struct Samples {
  std::uint64_t n = 0;
  std::vector<std::string> order;  // field names in first-seen order
  std::map<std::string, std::vector<double>> values;

  void add(const std::string& field, double value) {
    auto [it, inserted] = values.try_emplace(field);
    if (inserted) order.push_back(field);
    it->second.push_back(value);
  }
};

Outcome run_guarded(const Workload& w, std::uint64_t n) {
  try {
    return w.run(n);
  } catch (const std::exception& e) {
    return failed(std::string("exception: ") + e.what());
  } catch (...) {
    return failed("unknown exception");
  }
}

int run(const Options& options) {
  const std::vector<Workload> chosen = select(options);
  if (options.list) {
    for (const Workload& w : chosen) {
      std::printf("%s %s %llu\n", w.impl, w.name,
                  static_cast<unsigned long long>(scaled(w.n, options.scale)));
    }
    return 0;
  }
#ifndef NDEBUG
  std::fputs("bench: note: built without NDEBUG; use --config=opt for real numbers\n", stderr);
#endif
  std::vector<Samples> samples(chosen.size());
  int failures = 0;
  for (int repeat = 1; repeat <= options.repeat; ++repeat) {
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const Workload& w = chosen[i];
      const std::uint64_t n = scaled(w.n, options.scale);
      const Outcome outcome = run_guarded(w, n);
      if (!outcome.error.empty() || outcome.ops == 0 || !(outcome.seconds > 0)) {
        std::fprintf(stderr, "bench: %s %s (n=%llu) failed: %s\n", w.impl, w.name,
                     static_cast<unsigned long long>(n),
                     outcome.error.empty() ? "no time or no ops measured" : outcome.error.c_str());
        ++failures;
        continue;
      }
      const double ns_per_op = outcome.seconds * 1e9 / static_cast<double>(outcome.ops);
      const double ops_per_s = static_cast<double>(outcome.ops) / outcome.seconds;
      JsonLine line;
      line.add("impl", w.impl).add("workload", w.name).add("n", n);
      line.add("seconds", outcome.seconds).add("ns_per_op", ns_per_op).add("ops_per_s", ops_per_s, 9);
      if (outcome.rss_kb >= 0) line.add("rss_kb", outcome.rss_kb);
      for (const auto& [field, value] : outcome.extra) line.add(field, value);
      line.add("repeat", repeat);
      std::printf("%s\n", line.str().c_str());
      std::fflush(stdout);

      Samples& s = samples[i];
      s.n = n;
      s.add("seconds", outcome.seconds);
      s.add("ns_per_op", ns_per_op);
      s.add("ops_per_s", ops_per_s);
      if (outcome.rss_kb >= 0) s.add("rss_kb", static_cast<double>(outcome.rss_kb));
      for (const auto& [field, value] : outcome.extra) s.add(field, value);
    }
  }
  if (options.repeat > 1) {
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const Samples& s = samples[i];
      if (s.values.empty()) continue;
      JsonLine line;
      line.add("impl", chosen[i].impl).add("workload", chosen[i].name).add("n", s.n);
      for (const std::string& field : s.order) {
        line.add("median_" + field, median(s.values.at(field)), field == "ops_per_s" ? 9 : 6);
      }
      line.add("repeats", static_cast<std::uint64_t>(s.values.at("seconds").size()));
      std::printf("%s\n", line.str().c_str());
    }
  }
  if (failures > 0) {
    std::fprintf(stderr, "bench: %d workload run(s) failed\n", failures);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::run(bench::parse_options(argc, argv)); }
