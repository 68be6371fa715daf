// Raw-libuv baselines for weft's callback workloads (tests/bench/README.md): W1, W2,
// W10. Written directly on libuv, measured with the same stopwatch and the same
// N; each closes every handle it opened and checks its own count.
#include <uv.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/bench/uv_util.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

// ---- W1 ------------------------------------------------------------------
// weft: a callback re-posts itself with call_soon n times.
// libuv has no call_soon; the nearest thing is one uv_idle_t whose callback
// runs once per loop iteration: it counts and stays active until n calls, so
// each "re-post" costs one full libuv loop iteration (with no fds to poll).

struct IdleChain {
  std::uint64_t n;
  std::uint64_t ran = 0;
  Stopwatch::time_point last_ran{};
};

Outcome callbacks_chain(std::uint64_t n) {
  UvLoop loop;
  IdleChain state{n};
  uv_idle_t idle;
  uv_idle_init(loop.get(), &idle);
  idle.data = &state;
  const auto start = now();
  uv_idle_start(&idle, [](uv_idle_t* handle) {
    auto* s = static_cast<IdleChain*>(handle->data);
    if (++s->ran == s->n) {
      s->last_ran = now();
      uv_idle_stop(handle);
    }
  });
  uv_run(loop.get(), UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
  std::string closing = loop.close();
  if (!closing.empty()) return failed(closing);
  if (state.ran != n) return failed("ran " + std::to_string(state.ran) + " callbacks, expected " + std::to_string(n));
  Outcome outcome;
  outcome.seconds = seconds_between(start, state.last_ran);
  outcome.ops = n;
  return outcome;
}

// ---- W2 ------------------------------------------------------------------
// weft: n no-op callbacks posted with call_soon, then the loop runs them all.
// libuv: n uv_idle_t handles initialised and started (the "post"), then
// uv_run; each runs once and stops itself, so all run in the first iteration
// and uv_run returns. The handles' memory is allocated before the clock starts
// (libuv handles are caller-allocated); closing them is not timed.

Outcome callbacks_burst(std::uint64_t n) {
  UvLoop loop;
  std::unique_ptr<uv_idle_t[]> handles(new uv_idle_t[n]);
  std::uint64_t ran = 0;
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    uv_idle_init(loop.get(), &handles[i]);
    handles[i].data = &ran;
    uv_idle_start(&handles[i], [](uv_idle_t* handle) {
      ++*static_cast<std::uint64_t*>(handle->data);
      uv_idle_stop(handle);
    });
  }
  const auto posted = now();
  const long rss = rss_kb();  // every handle started: the high point
  const auto run_start = now();
  uv_run(loop.get(), UV_RUN_DEFAULT);
  const auto end = now();
  for (std::uint64_t i = 0; i < n; ++i) uv_close(reinterpret_cast<uv_handle_t*>(&handles[i]), nullptr);
  std::string closing = loop.close();
  if (!closing.empty()) return failed(closing);
  if (ran != n) return failed("ran " + std::to_string(ran) + " callbacks, expected " + std::to_string(n));
  Outcome outcome;
  outcome.seconds = seconds_between(start, posted) + seconds_between(run_start, end);
  outcome.ops = n;
  outcome.rss_kb = rss;
  outcome.extra = {{"post_ns_per_op", seconds_between(start, posted) * 1e9 / n},
                   {"run_ns_per_op", seconds_between(run_start, end) * 1e9 / n}};
  return outcome;
}

// ---- W10 -----------------------------------------------------------------
// weft: an outside thread posts with call_soon_threadsafe; the callback on the
// loop replies through a condition variable; the thread waits for the reply
// before the next ping.
// libuv: the same with one uv_async_t: the thread records the ping under the
// mutex and calls uv_async_send; the async callback replies through the same
// kind of condition variable. The loop runs on the calling thread, as weft's.

struct AsyncPingPong {
  uv_async_t async;
  std::mutex mutex;
  std::condition_variable replied;
  std::uint64_t pings = 0;
  std::uint64_t replies = 0;
  std::uint64_t total = 0;
};

Outcome threadsafe_pingpong(std::uint64_t n) {
  UvLoop loop;
  AsyncPingPong channel;
  channel.total = n + 1;  // one untimed warm-up round trip first
  channel.async.data = &channel;
  uv_async_init(loop.get(), &channel.async, [](uv_async_t* handle) {
    auto* c = static_cast<AsyncPingPong*>(handle->data);
    bool last;
    {
      std::lock_guard<std::mutex> lock(c->mutex);
      if (c->replies == c->pings) return;  // nothing new (sends coalesced)
      c->replies = c->pings;
      last = c->replies == c->total;
    }
    c->replied.notify_one();
    if (last) uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
  });

  Stopwatch::time_point start;
  Stopwatch::time_point end;
  double cpu_start = 0;
  double cpu_end = 0;
  std::thread outside([&] {
    for (std::uint64_t i = 1; i <= channel.total; ++i) {
      if (i == 2) {
        start = now();
        cpu_start = process_cpu_seconds();
      }
      {
        std::lock_guard<std::mutex> lock(channel.mutex);
        channel.pings = i;
      }
      uv_async_send(&channel.async);
      std::unique_lock<std::mutex> lock(channel.mutex);
      channel.replied.wait(lock, [&] { return channel.replies == i; });
    }
    end = now();
    cpu_end = process_cpu_seconds();
  });
  uv_run(loop.get(), UV_RUN_DEFAULT);  // returns once the async handle is closed
  outside.join();
  std::string closing = loop.close();
  if (!closing.empty()) return failed(closing);
  if (channel.replies != channel.total) {
    return failed("got " + std::to_string(channel.replies) + " replies, expected " +
                  std::to_string(channel.total));
  }
  Outcome outcome;
  outcome.seconds = seconds_between(start, end);
  outcome.ops = n;
  const CpuFields cpu = cpu_fields(cpu_end - cpu_start, outcome.seconds, n);
  outcome.extra = {{"us_per_round_trip", outcome.seconds * 1e6 / n},
                   {"cpu_ns_per_op", cpu.cpu_ns_per_op},
                   {"cpu_per_wall", cpu.cpu_per_wall}};
  return outcome;
}

const bool registered = register_workloads({
    {"libuv", "W1_callbacks_chain", 1'000'000, callbacks_chain},
    {"libuv", "W2_callbacks_burst", 1'000'000, callbacks_burst},
    {"libuv", "W10_threadsafe_pingpong", 100'000, threadsafe_pingpong},
});

}  // namespace
}  // namespace bench
