// The examples of the asyncio articles, in weft's C++: coroutines, concurrent
// tasks, gather with a semaphore, blocking work on a pool, an async generator
// and a timeout. The timings printed show what runs concurrently.
//
//   bazel run //examples:coroutines
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "core/weft.h"

using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;
Clock::time_point section_start = Clock::now();

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void say(const std::string& what) { std::printf("  [%6.1f ms] %s\n", ms_since(section_start), what.c_str()); }

void heading(const char* title) {
  std::printf("\n== %s\n", title);
  section_start = Clock::now();
}

// ---- 1. Sequential versus concurrent awaits ---------------------------------

weft::Task<void> say_after(weft::Duration delay, std::string what) {
  co_await weft::sleep(delay);
  say(what);
}

weft::Task<void> sequential() {
  heading("1a. awaiting one coroutine after the other: 100 ms + 200 ms");
  co_await say_after(100ms, "hello");
  co_await say_after(200ms, "world");
  say("finished (about 300 ms)");
}

weft::Task<void> concurrent() {
  heading("1b. the same as two tasks (asyncio.create_task): they overlap");
  auto first = weft::spawn(say_after(100ms, "hello"), "hello");
  auto second = weft::spawn(say_after(200ms, "world"), "world");
  co_await first;
  co_await second;
  say("finished (about 200 ms)");
}

// ---- 2. gather of simulated downloads, at most 3 at a time ------------------

weft::Task<std::size_t> download(weft::Semaphore& slots, int id, weft::Duration takes) {
  auto permit = co_await slots.acquire_guard();  // the "coroutine pool": waits while 3 run
  say("download " + std::to_string(id) + " starts");
  co_await weft::sleep(takes);
  say("download " + std::to_string(id) + " done");
  co_return static_cast<std::size_t>(id) * 1000;
}

weft::Task<void> downloads() {
  heading("2. gather of 8 downloads of 50-150 ms, a Semaphore(3) bounds them");
  weft::Semaphore slots(3);
  std::vector<weft::TaskHandle<std::size_t>> handles;
  for (int id = 1; id <= 8; ++id) {
    handles.push_back(weft::spawn(download(slots, id, std::chrono::milliseconds(50 + (id * 37) % 101))));
  }
  std::vector<std::size_t> sizes = co_await weft::gather(std::move(handles));
  std::size_t total = 0;
  for (std::size_t s : sizes) total += s;
  say("all done, " + std::to_string(total) + " bytes in total, in input order");
}

// ---- 3. Blocking work offloaded to the pool ---------------------------------

long blocking_work(int id) {
  std::this_thread::sleep_for(150ms);  // a blocking call: never on the loop thread
  return id;
}

weft::Task<void> ticker(weft::Event& stop) {
  int ticks = 0;
  while (!stop.is_set()) {
    co_await weft::sleep(50ms);
    ++ticks;
  }
  say("the loop ticked " + std::to_string(ticks) + " times meanwhile: it never blocked");
}

weft::Task<long> offload(weft::ThreadPool& pool, int id) {
  auto work = [id] { return blocking_work(id); };  // (a local: see docs/cpp-guide.md, gcc 12)
  co_return co_await weft::run_in_executor(pool, work);
}

weft::Task<void> blocking(weft::ThreadPool& pool) {
  heading("3. four 150 ms blocking calls on a 4-thread pool, awaited from the loop");
  weft::Event stop;
  auto tick = weft::spawn(ticker(stop), "ticker");
  std::vector<weft::TaskHandle<long>> calls;
  for (int id = 1; id <= 4; ++id) calls.push_back(weft::spawn(offload(pool, id)));
  co_await weft::gather(std::move(calls));
  say("4 blocking calls finished together (about 150 ms, not 600)");
  stop.set();
  co_await tick;
}

// ---- 4. An async generator consumed with a loop -----------------------------

weft::Generator<int> countdown(int from, weft::Duration every) {
  for (int i = from; i > 0; --i) {
    co_await weft::sleep(every);
    co_yield i;
  }
}

weft::Task<void> generator() {
  heading("4. an async generator: values arrive as they are produced");
  auto numbers = countdown(3, 40ms);
  while (auto n = co_await numbers.next()) say("got " + std::to_string(*n));
  say("liftoff");
}

// ---- 5. A timeout -----------------------------------------------------------

weft::Task<std::string> slow_answer() {
  co_await weft::sleep(1s);
  co_return "too late";
}

weft::Task<void> timeout() {
  heading("5. wait_for: a 1 s operation with a 100 ms limit");
  try {
    std::string answer = co_await weft::wait_for(slow_answer(), 100ms);
    say("answer: " + answer);
  } catch (const weft::TimedOut& e) {
    say(std::string("timed out: ") + e.what());
  }
}

weft::Task<void> all(weft::ThreadPool& pool) {
  co_await sequential();
  co_await concurrent();
  co_await downloads();
  co_await blocking(pool);
  co_await generator();
  co_await timeout();
}

}  // namespace

int main() {
  weft::ThreadPool pool(4);
  weft::Loop loop;
  weft::Result<void> outcome = weft::run_until_complete(loop, all(pool));
  if (!outcome.ok()) {
    std::printf("failed: %s\n", outcome.error().message().c_str());
    return 1;
  }
  std::printf("\nall examples done\n");
  return 0;
}
