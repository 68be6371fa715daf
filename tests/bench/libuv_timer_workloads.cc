// Raw-libuv baselines for weft's timer workloads (tests/bench/README.md): W3, W4, with
// the same delays (delays.h) and the same N. One uv_timer_t per timer, as a
// libuv program would write it; handle memory is allocated before the clock
// starts and the handles are closed after it stops.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/delays.h"
#include "tests/bench/report.h"
#include "tests/bench/timer_shapes.h"
#include "tests/bench/timing.h"
#include "tests/bench/uv_util.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

void close_all(uv_timer_t* timers, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) uv_close(reinterpret_cast<uv_handle_t*>(&timers[i]), nullptr);
}

// ---- W3 ------------------------------------------------------------------
// weft: call_later with a delay of 1..60 s, then TimerHandle::cancel, per timer.
// libuv: uv_timer_init + uv_timer_start with the same delay, then
// uv_timer_stop, per timer (libuv's timer heap does the work weft's does).

Outcome timers_churn(std::uint64_t n) {
  const std::vector<std::uint64_t> delays = churn_delays_ms(n);
  std::unique_ptr<uv_timer_t[]> timers(new uv_timer_t[n]);
  UvLoop loop;
  std::uint64_t fired = 0;
  uv_update_time(loop.get());
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    uv_timer_init(loop.get(), &timers[i]);
    timers[i].data = &fired;
    uv_timer_start(
        &timers[i], [](uv_timer_t* t) { ++*static_cast<std::uint64_t*>(t->data); }, delays[i], 0);
  }
  const auto armed = now();
  const long rss = rss_kb();  // every timer armed: the high point
  const auto cancel_start = now();
  std::uint64_t stopped = 0;
  for (std::uint64_t i = 0; i < n; ++i) stopped += uv_timer_stop(&timers[i]) == 0 ? 1 : 0;
  const auto end = now();
  std::uint64_t still_active = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    still_active += uv_is_active(reinterpret_cast<uv_handle_t*>(&timers[i])) ? 1 : 0;
  }
  close_all(timers.get(), n);
  std::string closing = loop.close();
  if (!closing.empty()) return failed(closing);
  if (stopped != n || still_active != 0 || fired != 0) {
    return failed("stopped " + std::to_string(stopped) + " of " + std::to_string(n) + " timers, " +
                  std::to_string(still_active) + " still active, " + std::to_string(fired) + " fired");
  }
  return arm_cancel_outcome(start, armed, cancel_start, end, n, rss);
}

// ---- W4 ------------------------------------------------------------------
// weft: call_later with a delay of 0..50 ms per timer, run until all fired.
// libuv: one uv_timer_t per timer started with the same delay, uv_run until
// the last one fired (uv_run returns when no timer is active any more).

Outcome timers_fire(std::uint64_t n) {
  const std::vector<std::uint64_t> delays = fire_delays_ms(n);
  const std::uint64_t longest_ms = longest_delay_ms(delays);
  std::unique_ptr<uv_timer_t[]> timers(new uv_timer_t[n]);
  UvLoop loop;
  FireState state{n};
  uv_update_time(loop.get());
  const auto start = now();
  for (std::uint64_t i = 0; i < n; ++i) {
    uv_timer_init(loop.get(), &timers[i]);
    timers[i].data = &state;
    uv_timer_start(
        &timers[i],
        [](uv_timer_t* t) {
          auto* s = static_cast<FireState*>(t->data);
          if (++s->fired == s->n) s->last_fired = now();
        },
        delays[i], 0);
  }
  const auto armed = now();
  uv_run(loop.get(), UV_RUN_DEFAULT);
  close_all(timers.get(), n);
  std::string closing = loop.close();
  if (!closing.empty()) return failed(closing);
  const double elapsed_ms = seconds_between(start, state.last_fired) * 1e3;
  if (state.fired != n) {
    return failed("fired " + std::to_string(state.fired) + " timers, expected " + std::to_string(n));
  }
  // libuv arms against its millisecond loop clock (uv_now, truncated), so a
  // timer may fire up to 1 ms before its delay has passed on the stopwatch.
  return fire_outcome(elapsed_ms, start, armed, n, longest_ms, /*early_ms=*/1.0);
}

const bool registered = register_workloads({
    {"libuv", "W3_timers_churn", 1'000'000, timers_churn},
    {"libuv", "W4_timers_fire", 200'000, timers_fire},
});

}  // namespace
}  // namespace bench
