// weft::Strand: FIFO order and mutual exclusion on a multi-thread pool, on an
// InlineExecutor and on a LoopExecutor; refusal; exceptions.
//
// Callbacks record what they see (violations are counted, not asserted);
// the main thread checks after the work is done.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/executor/inline_executor.h"
#include "core/executor/loop_executor.h"
#include "core/executor/strand.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "tests/core/counted.h"
#include "tests/core/executor_fixtures.h"

using weft_test::ManualExecutor;

namespace {

static_assert(weft::ExecutorLike<weft::Strand>);
static_assert(weft::ExecutorLike<weft::InlineExecutor>);
static_assert(weft::ExecutorLike<weft::LoopExecutor>);

void wait_for_count(const std::atomic<int>& counter, int target) {
  for (int seen = counter.load(); seen < target; seen = counter.load()) counter.wait(seen);
}

void bump(std::atomic<int>& counter) {
  counter.fetch_add(1);
  counter.notify_all();
}

// Checks, from inside strand callbacks, that no two overlap and that each
// poster's callbacks arrive in the order it posted them. The plain fields are
// only touched inside the strand, so they also let ThreadSanitizer check that
// each callback happens-after the previous one.
struct SerialChecker {
  explicit SerialChecker(int posters) : next(posters, 0) {}

  void enter(int poster, int seq) {
    if (inside.exchange(true)) overlaps.fetch_add(1);
    if (next[poster] != seq) ++out_of_order;
    next[poster] = seq + 1;
    ++ran;
    inside.store(false);
  }

  std::atomic<bool> inside{false};
  std::atomic<int> overlaps{0};
  std::vector<int> next;
  int out_of_order = 0;
  int ran = 0;
};

}  // namespace

TEST_CASE("a strand on a multi-thread pool runs callbacks one at a time in posting order",
          "[strand]") {
  constexpr int kPosters = 4;
  constexpr int kPerPoster = 20'000;
  weft::ThreadPool pool(4);
  weft::Strand strand(pool);
  SerialChecker checker(kPosters);
  std::atomic<int> done{0};
  std::atomic<int> refused{0};

  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kPerPoster; ++i) {
        bool accepted = strand.execute([&, p, i] {
          checker.enter(p, i);
          bump(done);
        });
        if (!accepted) refused.fetch_add(1);
      }
    });
  }
  for (std::thread& t : posters) t.join();
  wait_for_count(done, kPosters * kPerPoster);
  pool.shutdown();  // the last drain job has finished once the workers are joined

  CHECK(refused.load() == 0);
  CHECK(checker.overlaps.load() == 0);
  CHECK(checker.out_of_order == 0);
  CHECK(checker.ran == kPosters * kPerPoster);
}

TEST_CASE("a callback that posts to its own strand never overlaps the one it posted",
          "[strand]") {
  weft::ThreadPool pool(4);
  weft::Strand strand(pool);
  std::atomic<bool> inside{false};
  std::atomic<int> overlaps{0};
  std::atomic<int> done{0};
  std::atomic<int> mismatched{0};
  constexpr int kChain = 5'000;

  struct Step {
    weft::Strand* strand;
    std::atomic<bool>* inside;
    std::atomic<int>* overlaps;
    std::atomic<int>* done;
    std::atomic<int>* mismatched;
    int left;
    void operator()() const {
      if (inside->exchange(true)) overlaps->fetch_add(1);
      if (!strand->running_in_this_thread()) mismatched->fetch_add(1);
      if (left > 0) {
        // Posted while this one still runs; it must wait for this one.
        (void)strand->execute(Step{strand, inside, overlaps, done, mismatched, left - 1});
        std::this_thread::yield();
      }
      inside->store(false);
      bump(*done);
    }
  };
  REQUIRE(strand.execute(Step{&strand, &inside, &overlaps, &done, &mismatched, kChain - 1}));
  wait_for_count(done, kChain);
  pool.shutdown();
  CHECK(overlaps.load() == 0);
  CHECK(mismatched.load() == 0);
  CHECK_FALSE(strand.running_in_this_thread());
}

TEST_CASE("a strand on an InlineExecutor runs a nested post after the current callback",
          "[strand][inline]") {
  weft::InlineExecutor inline_executor;
  weft::Strand strand(inline_executor);
  std::vector<int> order;
  REQUIRE(strand.execute([&] {
    order.push_back(1);
    REQUIRE(strand.execute([&] { order.push_back(3); }));
    order.push_back(2);
  }));
  REQUIRE(strand.execute([&] { order.push_back(4); }));
  CHECK(order == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("a long chain of self-posts on an InlineExecutor does not recurse",
          "[strand][inline]") {
  weft::InlineExecutor inline_executor;
  weft::Strand strand(inline_executor);
  int ran = 0;
  constexpr int kChain = 200'000;  // deep enough to overflow the stack if each batch recursed
  struct Step {
    weft::Strand* strand;
    int* ran;
    int left;
    void operator()() const {
      ++*ran;
      if (left > 0) (void)strand->execute(Step{strand, ran, left - 1});
    }
  };
  REQUIRE(strand.execute(Step{&strand, &ran, kChain - 1}));
  CHECK(ran == kChain);
}

TEST_CASE("a strand on a LoopExecutor runs callbacks on the loop thread in posting order",
          "[strand][loop]") {
  constexpr int kPosters = 3;
  constexpr int kPerPoster = 5'000;
  weft::Loop loop;
  weft::LoopExecutor loop_executor(loop);
  weft::Strand strand(loop_executor);
  SerialChecker checker(kPosters);
  int off_loop_thread = 0;
  const std::thread::id loop_thread = std::this_thread::get_id();
  // A future the loop waits on keeps run() going until the last callback.
  auto finished_pair = weft::make_promise<void>();
  weft::Promise<void>& finished = finished_pair.first;
  std::move(finished_pair.second).then(loop, [](weft::Result<void>) {});

  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kPerPoster; ++i) {
        (void)strand.execute([&, p, i] {
          checker.enter(p, i);
          if (std::this_thread::get_id() != loop_thread) ++off_loop_thread;
          if (checker.ran == kPosters * kPerPoster) finished.set_value();
        });
      }
    });
  }
  loop.run();  // returns once the last callback completed `finished`
  for (std::thread& t : posters) t.join();

  CHECK(checker.ran == kPosters * kPerPoster);
  CHECK(checker.overlaps.load() == 0);
  CHECK(checker.out_of_order == 0);
  CHECK(off_loop_thread == 0);
}

TEST_CASE("a strand whose executor refuses work refuses later posts and drops what is queued",
          "[strand]") {
  ManualExecutor manual;
  weft::Strand strand(manual);
  constexpr int kPosted = 100;
  int ran = 0;
  for (int i = 0; i < kPosted; ++i) REQUIRE(strand.execute([&ran] { ++ran; }));
  REQUIRE(manual.pending.size() == 1);  // one drain job for all of them

  manual.refuse = true;
  manual.run_pending();  // one batch runs, then the re-post is refused
  CHECK(ran == static_cast<int>(weft::Strand::kBatch));
  CHECK_FALSE(strand.execute([&ran] { ++ran; }));
  manual.refuse = false;
  CHECK_FALSE(strand.execute([&ran] { ++ran; }));  // the strand stays closed
  manual.run_pending();
  CHECK(ran == static_cast<int>(weft::Strand::kBatch));
}

TEST_CASE("a strand whose drain job cannot be posted (out of memory) takes the callback back",
          "[strand]") {
  // An executor whose execute() throws std::bad_alloc, as a queue that cannot
  // grow does, until told otherwise.
  struct ThrowingExecutor final : weft::Executor {
    bool out_of_memory = true;
    ManualExecutor inner;
    bool execute(weft::Callback callback) override {
      if (out_of_memory) throw std::bad_alloc();
      return inner.execute(std::move(callback));
    }
  };
  ThrowingExecutor executor;
  weft::Strand strand(executor);
  int ran = 0;
  weft_test::Counts counts;
  struct Job {
    int* ran;
    weft_test::Counted counted;
    void operator()() { ++*ran; }
  };
  CHECK_THROWS_AS(strand.execute(Job{&ran, weft_test::Counted(counts)}), std::bad_alloc);
  CHECK(counts.alive() == 0);  // taken back and destroyed unrun: nothing queued
  CHECK(ran == 0);
  // The strand is still usable: the next post schedules a drain job.
  executor.out_of_memory = false;
  REQUIRE(strand.execute([&ran] { ++ran; }));
  executor.inner.run_pending();
  CHECK(ran == 1);
}

TEST_CASE("a strand on a shut-down pool refuses the first post", "[strand]") {
  weft::ThreadPool pool(1);
  pool.shutdown();
  weft::Strand strand(pool);
  bool ran = false;
  CHECK_FALSE(strand.execute([&ran] { ran = true; }));
  CHECK_FALSE(strand.execute([&ran] { ran = true; }));
  CHECK_FALSE(ran);
}

TEST_CASE("an exception from a strand callback does not stop the callbacks behind it",
          "[strand]") {
  std::atomic<int> failures{0};
  weft::ThreadPoolOptions options;
  options.threads = 2;
  options.on_exception = [&failures](std::exception_ptr) { failures.fetch_add(1); };
  weft::ThreadPool pool(options);
  weft::Strand strand(pool);
  std::atomic<int> done{0};
  for (int i = 0; i < 300; ++i) {
    if (i % 100 == 0) {
      REQUIRE(strand.execute([] { throw std::runtime_error("expected by the test"); }));
    }
    REQUIRE(strand.execute([&] { bump(done); }));
  }
  wait_for_count(done, 300);
  pool.shutdown();
  CHECK(failures.load() == 3);
  CHECK(done.load() == 300);
}

TEST_CASE("on an InlineExecutor a strand callback's exception reaches the poster",
          "[strand][inline]") {
  weft::InlineExecutor inline_executor;
  weft::Strand strand(inline_executor);
  int ran = 0;
  CHECK_THROWS_AS(strand.execute([] { throw std::runtime_error("boom"); }), std::runtime_error);
  CHECK(strand.execute([&ran] { ++ran; }));
  CHECK(ran == 1);
}
