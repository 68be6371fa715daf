// weft's tour: the loop, timers, futures, thread-pool offload and run_for
// stepping, each printed as it happens. Run it with `bazel run //examples:tour`.
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "core/weft.h"

using namespace std::chrono_literals;

namespace {

const auto program_start = std::chrono::steady_clock::now();

// Milliseconds since the program started, for the log lines.
double ms_since_start() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - program_start)
      .count();
}

void say(const std::string& what) { std::printf("[%7.2f ms] %s\n", ms_since_start(), what.c_str()); }

void heading(const char* title) { std::printf("\n== %s\n", title); }

bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

// 1. call_soon: callbacks run in order, on the loop's thread.
void show_callbacks(weft::Loop& loop) {
  heading("1. call_soon runs callbacks in FIFO order on the loop thread");
  for (int i = 1; i <= 3; ++i) loop.call_soon([i] { say("callback " + std::to_string(i)); });
  loop.call_soon([&loop] {
    say("a callback can post another; it runs after those already queued");
    loop.call_soon([] { say("  ...like this one"); });
  });
  loop.call_soon([] { say("callback 4"); });
  loop.run();  // returns when nothing is left to do
}

// 2. Timers: call_later returns a handle that can cancel.
void show_timers(weft::Loop& loop) {
  heading("2. timers fire in deadline order, never early; a handle cancels one");
  auto armed_at = loop.time();
  auto report = [&loop, armed_at](int planned_ms) {
    auto waited = std::chrono::duration<double, std::milli>(loop.time() - armed_at).count();
    say("timer planned at " + std::to_string(planned_ms) + " ms fired after " +
        std::to_string(waited).substr(0, 5) + " ms");
  };
  loop.call_later(30ms, [=] { report(30); });
  loop.call_later(10ms, [=] { report(10); });
  auto doomed = loop.call_later(20ms, [] { say("this never prints"); });
  loop.call_later(5ms, [doomed]() mutable { say("cancelling the 20 ms timer: " +
                                                std::string(doomed.cancel() ? "done" : "too late")); });
  loop.run();
}

// 3. Futures: a promise completed later, a continuation on the loop.
void show_futures(weft::Loop& loop) {
  heading("3. futures: a continuation runs on the loop when the value arrives");
  auto [promise, future] = weft::make_promise<std::string>();
  std::move(future).then(loop, [](weft::Result<std::string> r) {
    say("continuation got \"" + r.value() + "\"");
  });
  loop.call_later(15ms, [p = std::move(promise)]() mutable {
    say("a timer completes the promise");
    p.set_value("hello from the promise");
  });

  auto [failing, failed_future] = weft::make_promise<int>();
  std::move(failed_future).then(loop, [](weft::Result<int> r) {
    say("continuation got an error: " + r.error().message());
  });
  failing.set_error(weft::Error(weft::Errc::timed_out, "the server did not answer"));
  loop.run();
}

// 4. Offload: blocking work runs on the pool, the result comes back to the loop.
void show_offload(weft::Loop& loop, weft::ThreadPool& pool) {
  heading("4. run_in_executor: blocking work on the pool, result back on the loop");
  const auto loop_thread = std::this_thread::get_id();
  for (long limit : {200'000L, 100'000L}) {
    auto count = weft::run_in_executor(loop, pool, [limit, loop_thread] {
      bool on_loop = std::this_thread::get_id() == loop_thread;
      say("pool thread counting primes below " + std::to_string(limit) +
          (on_loop ? " (on the loop thread?!)" : " (not the loop thread)"));
      long primes = 0;
      for (long n = 0; n < limit; ++n) primes += is_prime(n) ? 1 : 0;
      return primes;
    });
    std::move(count).then([limit, loop_thread](weft::Result<long> r) {
      bool on_loop = std::this_thread::get_id() == loop_thread;
      say(std::to_string(r.value()) + " primes below " + std::to_string(limit) +
          (on_loop ? " (continuation on the loop thread)" : " (continuation off the loop?!)"));
    });
  }
  loop.call_soon([] { say("the loop stays responsive while the pool works"); });
  loop.run();  // waits for both results: their continuations keep it running
}

// 5. run_for: a host's frame loop gives weft a slice of each frame.
void show_frames() {
  heading("5. run_for: a 60 fps frame loop on a manual clock gives weft 2 ms a frame");
  weft::ManualClock game_time;  // advanced by the frame loop; paused frames don't advance it
  weft::Loop loop(weft::LoopOptions{&game_time});

  int spawned = 0;
  std::function<void()> spawn_enemy = [&] {
    ++spawned;
    say("  game timer: enemy #" + std::to_string(spawned) + " spawns (every 50 ms of game time)");
    if (spawned < 3) loop.call_later(50ms, spawn_enemy);
  };
  loop.call_later(50ms, spawn_enemy);

  // A long job cut into 0.3 ms slices; each slice re-posts the next, so timers
  // and other callbacks get their turn between slices.
  int slices_left = 30;
  std::function<void()> path_finding = [&] {
    auto until = std::chrono::steady_clock::now() + 300us;
    while (std::chrono::steady_clock::now() < until) {
    }
    if (--slices_left > 0) {
      loop.call_soon(path_finding);
    } else {
      say("  path finding done (30 slices of 0.3 ms, spread over frames)");
    }
  };
  loop.call_soon(path_finding);

  auto frame_start = std::chrono::steady_clock::now();
  for (int frame = 1; frame <= 12; ++frame, frame_start += std::chrono::microseconds(16'667)) {
    std::this_thread::sleep_until(frame_start);  // the host's vsync
    bool paused = frame >= 4 && frame <= 6;
    if (!paused) game_time.advance(std::chrono::microseconds(16'667));
    auto frame_report = loop.run_for(2ms);
    std::string next =
        frame_report.next_timer
            ? std::to_string((*frame_report.next_timer - game_time.now()) / 1ms) + " ms"
            : "-";
    std::printf("[%7.2f ms] frame %2d%s: ran %2zu callbacks, %2zu still ready, next timer in %s\n",
                ms_since_start(), frame, paused ? " (paused)" : "         ", frame_report.ran,
                frame_report.ready, next.c_str());
  }
  loop.close();
}

}  // namespace

int main() {
  std::printf("weft tour: one loop, its timers, futures, a thread pool and a frame loop\n");
  weft::Loop loop;
  weft::ThreadPool pool(2);
  show_callbacks(loop);
  show_timers(loop);
  show_futures(loop);
  show_offload(loop, pool);
  show_frames();
  auto stats = loop.stats();
  heading("counters");
  std::printf("callbacks run %llu, timers armed %llu / fired %llu / cancelled %llu, cross-thread posts %llu\n",
              static_cast<unsigned long long>(stats.callbacks_run),
              static_cast<unsigned long long>(stats.timers_armed),
              static_cast<unsigned long long>(stats.timers_fired),
              static_cast<unsigned long long>(stats.timers_cancelled),
              static_cast<unsigned long long>(stats.threadsafe_posts));
  auto closed = loop.close();
  std::printf("closed: %zu callbacks run at close, %zu timers cancelled\n", closed.callbacks_run,
              closed.timers_cancelled);
  return 0;
}
