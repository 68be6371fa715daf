// pool_scaling: how weft::ThreadPool's throughput grows with its workers.
//
//   bazel run --config=opt //tests/bench:pool_scaling -- [--workers 1,2,4,8]
//       [--impl weft|weft-spin-off|floor|libuv] [--jobs N] [--repeat R]
//
// For each worker count it posts N jobs from the main thread and waits for the
// last one, in two shapes:
//   "tiny": an atomic increment (W8's job), which measures the queue itself:
//           posting, handing out and the workers' contention on it;
//   "work": about 2 µs of arithmetic per job (a fixed number of splitmix64
//           rounds, the result kept), which measures how much of the added
//           workers' CPU becomes throughput. No job touches shared memory:
//           the run ends when the pool has drained (shutdown) or the
//           threads are joined.
// Implementations, each its own process-independent run:
//   weft          ThreadPool, SpinPolicy::adaptive (the default);
//   weft-spin-off ThreadPool, SpinPolicy::off;
//   floor         the same jobs split beforehand into equal slices, one
//                 std::thread per worker running its slice: no queue, no
//                 hand-out, the best a pool could do;
//   libuv         uv_queue_work from the loop thread, with UV_THREADPOOL_SIZE
//                 workers (libuv reads it once per process, so each worker
//                 count runs in a forked child process).
// Prints one JSON line per (impl, shape, workers): the median of R runs of
// jobs/s, speedup (jobs/s over the first worker count's jobs/s per worker:
// over one worker's when the list starts at 1) and process CPU per job; for
// weft also the medians of the pool's wake-ups, parks, spins and steals
// (ThreadPoolStats).
// Threads: the main thread posts and waits; the workers are the pool's.
#include <uv.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/executor/thread_pool.h"
#include "tests/bench/timing.h"

namespace {

using bench::now;
using bench::process_cpu_seconds;
using bench::seconds_between;

// About 2 µs of dependent arithmetic on a 2020s x86 core.
constexpr int kWorkRounds = 600;

std::uint64_t splitmix_rounds(std::uint64_t seed) {
  std::uint64_t z = seed;
  for (int i = 0; i < kWorkRounds; ++i) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
  }
  return z;
}

// Runs the work job for `seed` and keeps its result observable without
// touching memory another thread uses.
void work_job(std::uint64_t seed) {
  std::uint64_t result = splitmix_rounds(seed);
  asm volatile("" : "+r"(result));
}

struct Run {
  double seconds = 0;
  double cpu_seconds = 0;
  // The pool's counters (weft only): how its workers idled and shared work.
  double wakeups = 0;
  double parks = 0;
  double spins = 0;
  double steals = 0;
};

struct Options {
  std::vector<unsigned> workers;
  std::vector<std::string> impls{"weft", "weft-spin-off", "floor", "libuv"};
  std::uint64_t jobs_tiny = 1'000'000;
  std::uint64_t jobs_work = 200'000;
  int repeat = 3;
};

// ---- weft ------------------------------------------------------------------

Run run_weft(unsigned workers, bool work, std::uint64_t n, weft::SpinPolicy spin) {
  weft::ThreadPoolOptions options;
  options.threads = workers;
  options.spin = spin;
  weft::ThreadPool pool(options);
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> all_done{false};
  const double cpu = process_cpu_seconds();
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    bool accepted;
    if (work) {
      accepted = pool.post([i] { work_job(i); });
    } else {
      accepted = pool.post([&done, &all_done, n] {
        if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
          all_done.store(true, std::memory_order_release);
          all_done.notify_one();
        }
      });
    }
    if (!accepted) {
      std::fprintf(stderr, "pool_scaling: the pool refused job %llu\n", static_cast<unsigned long long>(i));
      std::exit(1);
    }
  }
  if (work) {
    pool.shutdown();  // drains: every queued job runs, then the workers exit
  } else {
    all_done.wait(false, std::memory_order_acquire);
  }
  Run run{seconds_between(start, now()), process_cpu_seconds() - cpu};
  pool.shutdown();
  const weft::ThreadPoolStats stats = pool.stats();
  run.wakeups = static_cast<double>(stats.wakeups);
  run.parks = static_cast<double>(stats.parks);
  run.spins = static_cast<double>(stats.spins);
  run.steals = static_cast<double>(stats.steals);
  if (stats.jobs_run != n) {
    std::fprintf(stderr, "pool_scaling: the pool ran %llu jobs of %llu\n",
                 static_cast<unsigned long long>(stats.jobs_run), static_cast<unsigned long long>(n));
    std::exit(1);
  }
  return run;
}

// ---- floor: static slices, one thread each ---------------------------------

Run run_floor(unsigned workers, bool work, std::uint64_t n) {
  std::atomic<std::uint64_t> done{0};
  const double cpu = process_cpu_seconds();
  const auto start = now();
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    const std::uint64_t from = n * w / workers;
    const std::uint64_t to = n * (w + 1) / workers;
    threads.emplace_back([&done, work, from, to] {
      if (work) {
        for (std::uint64_t i = from; i < to; ++i) work_job(i);
        done.fetch_add(to - from, std::memory_order_relaxed);
      } else {
        for (std::uint64_t i = from; i < to; ++i) done.fetch_add(1, std::memory_order_acq_rel);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Run run{seconds_between(start, now()), process_cpu_seconds() - cpu};
  if (done.load() != n) {
    std::fprintf(stderr, "pool_scaling: floor ran %llu jobs of %llu\n",
                 static_cast<unsigned long long>(done.load()), static_cast<unsigned long long>(n));
    std::exit(1);
  }
  return run;
}

// ---- libuv: uv_queue_work from the loop thread -----------------------------

struct UvJobs {
  bool work;
  std::uint64_t completed = 0;
  std::vector<uv_work_t> requests;
};

Run run_libuv(bool work, std::uint64_t n) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  UvJobs jobs{work, 0, {}};
  jobs.requests.resize(n);
  const double cpu = process_cpu_seconds();
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    uv_work_t* request = &jobs.requests[i];
    request->data = &jobs;
    const int rc = uv_queue_work(
        &loop, request,
        [](uv_work_t* r) {
          if (static_cast<UvJobs*>(r->data)->work) work_job(reinterpret_cast<std::uintptr_t>(r));
        },
        [](uv_work_t* r, int status) {
          if (status == 0) ++static_cast<UvJobs*>(r->data)->completed;
        });
    if (rc != 0) {
      std::fprintf(stderr, "pool_scaling: uv_queue_work: %s\n", uv_strerror(rc));
      std::exit(1);
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  Run run{seconds_between(start, now()), process_cpu_seconds() - cpu};
  uv_loop_close(&loop);
  if (jobs.completed != n) {
    std::fprintf(stderr, "pool_scaling: libuv completed %llu jobs of %llu\n",
                 static_cast<unsigned long long>(jobs.completed), static_cast<unsigned long long>(n));
    std::exit(1);
  }
  return run;
}

// Runs libuv with `workers` threads in a forked child (libuv reads
// UV_THREADPOOL_SIZE once per process, when its pool starts; this process
// never starts it, and has no other thread when it forks) and reads back the
// child's "seconds cpu_seconds" lines.
std::vector<Run> libuv_in_child(unsigned workers, bool work, std::uint64_t n, int repeat) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(1);
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) std::exit(1);
  if (pid == 0) {
    close(fds[0]);
    setenv("UV_THREADPOOL_SIZE", std::to_string(workers).c_str(), 1);
    for (int r = 0; r < repeat; ++r) {
      const Run run = run_libuv(work, n);
      char line[64];
      const int length = std::snprintf(line, sizeof line, "%.9f %.9f\n", run.seconds, run.cpu_seconds);
      if (write(fds[1], line, static_cast<std::size_t>(length)) != length) _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buffer[512];
  for (ssize_t got; (got = read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(got));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "pool_scaling: the libuv child for %u workers failed\n", workers);
    std::exit(1);
  }
  std::vector<Run> runs;
  const char* cursor = text.c_str();
  Run run;
  int used = 0;
  while (std::sscanf(cursor, "%lf %lf\n%n", &run.seconds, &run.cpu_seconds, &used) == 2) {
    runs.push_back(run);
    cursor += used;
  }
  if (static_cast<int>(runs.size()) != repeat) std::exit(1);
  return runs;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::vector<unsigned> parse_workers(const char* text) {
  std::vector<unsigned> workers;
  for (const char* p = text; *p;) {
    char* end = nullptr;
    const unsigned long value = std::strtoul(p, &end, 10);
    if (end == p || value == 0 || value > 256) {
      std::fprintf(stderr, "pool_scaling: --workers takes a list like 1,2,4 (1 to 256)\n");
      std::exit(2);
    }
    workers.push_back(static_cast<unsigned>(value));
    p = *end == ',' ? end + 1 : end;
  }
  return workers;
}

std::vector<unsigned> default_workers() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<unsigned> workers;
  for (unsigned w = 1; w < cores; w *= 2) workers.push_back(w);
  // The last count leaves one core for the posting thread.
  if (cores > 1 && workers.back() != cores - 1) workers.push_back(cores - 1);
  return workers;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--workers" && value) {
      options.workers = parse_workers(value);
    } else if (arg == "--impl" && value) {
      options.impls = {value};
    } else if (arg == "--jobs" && value) {
      options.jobs_tiny = options.jobs_work = std::strtoull(value, nullptr, 10);
    } else if (arg == "--repeat" && value) {
      options.repeat = std::max(1, std::atoi(value));
    } else {
      std::fprintf(stderr,
                   "usage: pool_scaling [--workers 1,2,4] [--impl weft|weft-spin-off|floor|libuv] "
                   "[--jobs N] [--repeat R]\n");
      return 2;
    }
    ++i;
  }
  if (options.workers.empty()) options.workers = default_workers();
  if (options.jobs_tiny == 0) {
    std::fprintf(stderr, "pool_scaling: --jobs must be at least 1\n");
    return 2;
  }
  for (const char* shape : {"tiny", "work"}) {
    const bool work = std::strcmp(shape, "work") == 0;
    const std::uint64_t n = work ? options.jobs_work : options.jobs_tiny;
    for (const std::string& impl : options.impls) {
      double one_worker_rate = 0;
      for (unsigned workers : options.workers) {
        std::vector<Run> runs;
        if (impl == "libuv") {
          runs = libuv_in_child(workers, work, n, options.repeat);
        } else {
          for (int r = 0; r < options.repeat; ++r) {
            if (impl == "floor") {
              runs.push_back(run_floor(workers, work, n));
            } else if (impl == "weft" || impl == "weft-spin-off") {
              runs.push_back(run_weft(workers, work, n,
                                      impl == "weft" ? weft::SpinPolicy::adaptive : weft::SpinPolicy::off));
            } else {
              std::fprintf(stderr, "pool_scaling: no impl %s\n", impl.c_str());
              return 2;
            }
          }
        }
        std::vector<double> rates, cpu_per_job, wakeups, parks, spins, steals;
        for (const Run& run : runs) {
          rates.push_back(static_cast<double>(n) / run.seconds);
          cpu_per_job.push_back(run.cpu_seconds * 1e9 / static_cast<double>(n));
          wakeups.push_back(run.wakeups);
          parks.push_back(run.parks);
          spins.push_back(run.spins);
          steals.push_back(run.steals);
        }
        const double rate = median(rates);
        if (workers == options.workers.front()) one_worker_rate = rate / workers;
        std::printf(
            "{\"workload\":\"pool_scaling\",\"shape\":\"%s\",\"impl\":\"%s\",\"workers\":%u,"
            "\"cores\":%u,\"jobs\":%llu,\"repeat\":%d,\"jobs_per_s\":%.0f,\"speedup\":%.2f,"
            "\"cpu_ns_per_job\":%.1f",
            shape, impl.c_str(), workers, std::thread::hardware_concurrency(),
            static_cast<unsigned long long>(n), options.repeat, rate, rate / one_worker_rate,
            median(cpu_per_job));
        if (impl == "weft" || impl == "weft-spin-off") {
          std::printf(",\"wakeups\":%.0f,\"parks\":%.0f,\"spins\":%.0f,\"steals\":%.0f",
                      median(wakeups), median(parks), median(spins), median(steals));
        }
        std::printf("}\n");
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
