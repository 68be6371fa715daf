// tests/bench/README.md's W1 (callbacks_chain) and W5 (futures) driven through the C
// API (weft.h, linked against the shipped libweft.so.1), as "impl":"weft-c",
// to measure what the C boundary costs against the C++ figures ("weft") of
// the same run. Same N, same shape as loop_workloads.cc.
#include <cstdint>
#include <string>

#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/workload.h"
#include "weft/weft.h"

namespace bench {
namespace {

// A runtime for one run: one pool worker (idle here), monotonic clock.
class CRuntime {
 public:
  CRuntime() {
    weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
    options.threads = 1;
    status_ = weft_runtime_create(&runtime_, &options);
    if (status_ == WEFT_OK) status_ = weft_runtime_loop(&loop_, runtime_);
  }
  ~CRuntime() { weft_runtime_destroy(runtime_); }
  CRuntime(const CRuntime&) = delete;
  CRuntime& operator=(const CRuntime&) = delete;

  bool ok() const { return status_ == WEFT_OK; }
  std::string error() const { return std::string("weft runtime: ") + weft_status_str(status_); }
  weft_loop_t* loop() const { return loop_; }

 private:
  weft_runtime_t* runtime_ = nullptr;
  weft_loop_t* loop_ = nullptr;
  weft_status status_ = WEFT_OK;
};

// ---- W1: one callback re-posting itself with weft_loop_call_soon ----------

struct Chain {
  weft_loop_t* loop;
  std::uint64_t n;
  std::uint64_t ran = 0;
  weft_status failure = WEFT_OK;
  Stopwatch::time_point last_ran{};
};

void chain_step(void* user, weft_status status, const char*) {
  auto* chain = static_cast<Chain*>(user);
  if (status != WEFT_OK) {
    chain->failure = status;
    return;
  }
  if (++chain->ran < chain->n) {
    weft_status s = weft_loop_call_soon(chain->loop, chain_step, chain);
    if (s != WEFT_OK) chain->failure = s;
  } else {
    chain->last_ran = now();
  }
}

Outcome callbacks_chain(std::uint64_t n) {
  CRuntime rt;
  if (!rt.ok()) return failed(rt.error());
  Chain chain{rt.loop(), n};
  const auto start = now();
  if (weft_loop_call_soon(rt.loop(), chain_step, &chain) != WEFT_OK) return failed("call_soon failed");
  if (weft_loop_run(rt.loop(), WEFT_RUN_DEFAULT) != WEFT_OK) return failed("run failed");
  if (chain.failure != WEFT_OK || chain.ran != n) {
    return failed("ran " + std::to_string(chain.ran) + " callbacks, expected " + std::to_string(n) + " (" +
                  weft_status_str(chain.failure) + ")");
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, chain.last_ran);
  outcome.ops = n;
  return outcome;
}

// ---- W5: futures, each with a callback, resolved ----------------------------

struct Sum {
  std::uint64_t ran = 0;
  std::uint64_t sum = 0;
};

void add_value(void* user, weft_future_t*, weft_status status, const weft_value* value, const char*) {
  auto* sum = static_cast<Sum*>(user);
  if (status == WEFT_OK) sum->sum += static_cast<std::uint64_t>(value->as.int64);
  ++sum->ran;
}

Outcome futures(std::uint64_t n) {
  CRuntime rt;
  if (!rt.ok()) return failed(rt.error());
  Sum sum;
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    weft_future_t* future;
    if (weft_future_create(&future, rt.loop()) != WEFT_OK) return failed("weft_future_create failed");
    if (weft_future_then(future, rt.loop(), add_value, &sum) != WEFT_OK) return failed("then failed");
    const weft_value value = weft_value_int64(static_cast<std::int64_t>(i));
    if (weft_future_resolve(future, &value) != WEFT_OK) return failed("resolve failed");
    weft_future_release(future);
  }
  const auto resolved = now();
  const long rss = rss_kb();  // every callback queued: the high point
  const auto run_start = now();
  if (weft_loop_run(rt.loop(), WEFT_RUN_DEFAULT) != WEFT_OK) return failed("run failed");
  const auto end = now();
  const std::uint64_t expected_sum = n * (n - 1) / 2;
  if (sum.ran != n || sum.sum != expected_sum) {
    return failed("ran " + std::to_string(sum.ran) + " callbacks (sum " + std::to_string(sum.sum) +
                  "), expected " + std::to_string(n) + " (sum " + std::to_string(expected_sum) + ")");
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, resolved) + seconds_between(run_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"setup_ns_per_op", seconds_between(start, resolved) * 1e9 / n},
                   {"run_ns_per_op", seconds_between(run_start, end) * 1e9 / n}};
  return outcome;
}

const bool registered = register_workloads({
    {"weft-c", "W1_callbacks_chain", 1'000'000, callbacks_chain},
    {"weft-c", "W5_futures", 1'000'000, futures},
});

}  // namespace
}  // namespace bench
