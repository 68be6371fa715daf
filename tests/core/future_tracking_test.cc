// How the loop tracks the futures whose continuations wait on it: a C++
// future's state sits in the loop's set of pending futures (core/detail/
// pointer_set.h) from then() until its continuation is due, in room reserved
// with the continuation's. futures_pending counts them; Loop::close()
// cancels every one still pending, however many; a refused allocation in
// then() leaves nothing tracked and nothing half-attached; and futures
// completed on another thread while the loop closes are waited for, not lost.
#include <catch2/catch.hpp>

#include <cstddef>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "core/errc.h"
#include "core/error.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "tests/core/refusing_new.h"

namespace {

struct Outcomes {
  std::size_t values = 0;
  std::size_t cancelled = 0;
  long sum = 0;
};

// Counts what a continuation is handed.
void count(Outcomes& out, weft::Result<int>&& r) {
  if (r.is_cancelled()) {
    ++out.cancelled;
  } else {
    ++out.values;
    out.sum += r.value();
  }
}

// `n` futures with counting continuations on `loop`; their promises.
std::vector<weft::Promise<int>> attach_counted(weft::Loop& loop, Outcomes& out, int n) {
  std::vector<weft::Promise<int>> promises;
  for (int i = 0; i < n; ++i) {
    auto [promise, future] = weft::make_promise<int>();
    std::move(future).then(loop, [&out](weft::Result<int> r) { count(out, std::move(r)); });
    promises.push_back(std::move(promise));
  }
  return promises;
}

}  // namespace

TEST_CASE("close cancels every pending future, across the set's growth and erases",
          "[future][tracking]") {
  constexpr std::size_t kFutures = 5000;
  weft::Loop loop;
  Outcomes out;
  std::vector<weft::Promise<int>> promises;
  std::vector<weft::Future<int>> futures;
  for (std::size_t i = 0; i < kFutures; ++i) {
    auto [promise, future] = weft::make_promise<int>();
    future.then(loop, [&out](weft::Result<int> r) { count(out, std::move(r)); });
    promises.push_back(std::move(promise));
    futures.push_back(std::move(future));
  }
  REQUIRE(loop.stats().futures_pending == kFutures);
  // Every third resolved, every fifth of the rest cancelled through its
  // future: each leaves the set as its continuation becomes due.
  std::size_t resolved = 0;
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < kFutures; ++i) {
    if (i % 3 == 0) {
      REQUIRE(promises[i].set_value(static_cast<int>(i)));
      ++resolved;
    } else if (i % 5 == 0) {
      REQUIRE(futures[i].cancel());
      ++cancelled;
    }
  }
  const std::size_t left = kFutures - resolved - cancelled;
  REQUIRE(loop.stats().futures_pending == left);
  loop.poll();
  REQUIRE(out.values == resolved);
  REQUIRE(out.cancelled == cancelled);
  REQUIRE(loop.stats().futures_pending == left);

  const weft::CloseReport report = loop.close();
  REQUIRE(report.futures_cancelled == left);
  REQUIRE(out.cancelled == cancelled + left);
  REQUIRE(out.values == resolved);
  REQUIRE(loop.stats().futures_pending == 0);
  // Their promises find them complete.
  for (std::size_t i = 0; i < kFutures; ++i) {
    if (i % 3 != 0 && i % 5 != 0) REQUIRE_FALSE(promises[i].set_value(1));
  }
}

TEST_CASE("a then() whose allocation is refused tracks nothing; what was attached is cancelled at close",
          "[future][tracking]") {
  weft::Loop loop;
  Outcomes out;
  std::vector<weft::Promise<int>> promises;
  std::vector<weft::Future<int>> futures;
  std::size_t attached = 0;
  std::size_t refused = 0;
  // 400 attaches, each with every allocation of then() refused: the set's
  // growth, the ready queue's and the inbox's room fail in turn.
  for (int i = 0; i < 400; ++i) {
    auto [promise, future] = weft::make_promise<int>();
    bool ok = false;
    {
      weft_test::RefuseAllocation refuse(0, /*forever=*/true);
      try {
        future.then(loop, [&out](weft::Result<int> r) { count(out, std::move(r)); });
        ok = true;
      } catch (const std::bad_alloc&) {
        ++refused;
      }
    }
    if (!ok) {
      // Nothing tracked, nothing attached: the same future takes it now.
      REQUIRE(loop.stats().futures_pending == attached);
      future.then(loop, [&out](weft::Result<int> r) { count(out, std::move(r)); });
    }
    ++attached;
    REQUIRE(loop.stats().futures_pending == attached);
    promises.push_back(std::move(promise));
    futures.push_back(std::move(future));
  }
  // Growing the set (and the queues) was refused at least at each doubling.
  REQUIRE(refused >= 6);
  const weft::CloseReport report = loop.close();
  REQUIRE(report.futures_cancelled == attached);
  REQUIRE(out.cancelled == attached);
  REQUIRE(loop.stats().futures_pending == 0);
}

TEST_CASE("futures completed on other threads while the loop closes are run, not lost",
          "[future][tracking]") {
  constexpr int kFutures = 2000;
  weft::Loop loop;
  Outcomes out;
  std::vector<weft::Promise<int>> promises = attach_counted(loop, out, kFutures);
  REQUIRE(loop.stats().futures_pending == kFutures);
  std::size_t set_by_thread = 0;
  std::thread other([&] {
    for (auto& promise : promises) {
      if (promise.set_value(1)) ++set_by_thread;
    }
  });
  const weft::CloseReport report = loop.close();
  other.join();
  // Each future was completed exactly once, by the thread or by close, and
  // its continuation ran (or, posted after the loop closed, was destroyed
  // unrun: none here, since close waits for the posts it raced with).
  REQUIRE(report.futures_cancelled + set_by_thread == kFutures);
  REQUIRE(out.cancelled == report.futures_cancelled);
  REQUIRE(out.values == set_by_thread);
  REQUIRE(loop.stats().futures_pending == 0);
}

TEST_CASE("a future completed on another thread stays tracked until its post is drained",
          "[future][tracking]") {
  constexpr int kFutures = 100;
  weft::Loop loop;
  Outcomes out;
  std::vector<weft::Promise<int>> promises = attach_counted(loop, out, kFutures);
  std::thread other([&] {
    for (auto& promise : promises) promise.set_value(2);
  });
  other.join();
  // Posted to the loop's inbox: still pending as far as the loop knows.
  REQUIRE(loop.stats().futures_pending == kFutures);
  loop.poll();
  REQUIRE(out.values == kFutures);
  REQUIRE(out.sum == 2 * kFutures);
  REQUIRE(loop.stats().futures_pending == 0);
  const weft::CloseReport report = loop.close();
  REQUIRE(report.futures_cancelled == 0);
}
