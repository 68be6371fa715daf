#include "core/detail/callback_queue.h"

#include <catch2/catch.hpp>
#include <coroutine>
#include <exception>
#include <new>
#include <stdexcept>
#include <vector>

#include "tests/core/counted.h"
#include "tests/core/refusing_new.h"

using weft::detail::CallbackQueue;
using weft_test::Counted;
using weft_test::Counts;

TEST_CASE("the callback queue runs callbacks in FIFO order across many chunks",
          "[callback_queue]") {
  CallbackQueue queue;
  std::vector<int> order;
  const int n = 50'000;  // several 64 KiB chunks
  for (int i = 0; i < n; ++i) queue.emplace_back([&order, i] { order.push_back(i); });
  REQUIRE(queue.size() == static_cast<std::size_t>(n));
  while (!queue.empty()) queue.run_front();
  REQUIRE(order.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) REQUIRE(order[i] == i);
}

TEST_CASE("a running callback can post more callbacks into the same queue", "[callback_queue]") {
  CallbackQueue queue;
  int remaining = 100'000;
  struct Step {
    CallbackQueue* queue;
    int* remaining;
    char payload[40];  // a bigger record, so chunks fill faster
    void operator()() const {
      if (--*remaining > 0) queue->emplace_back(*this);
    }
  };
  queue.emplace_back(Step{&queue, &remaining, {}});
  while (!queue.empty()) queue.run_front();
  REQUIRE(remaining == 0);
}

TEST_CASE("a throwing callback is still popped and destroyed", "[callback_queue]") {
  Counts counts;
  CallbackQueue queue;
  queue.emplace_back([c = Counted(counts)] { throw std::runtime_error("no"); });
  queue.emplace_back([] {});
  REQUIRE_THROWS_AS(queue.run_front(), std::runtime_error);
  REQUIRE(queue.size() == 1);
  REQUIRE(counts.alive() == 0);
  queue.run_front();
  REQUIRE(queue.empty());
}

TEST_CASE("large callables are boxed and run and destroyed like small ones", "[callback_queue]") {
  Counts counts;
  int sum = 0;
  {
    CallbackQueue queue;
    struct Large {
      Counted counted;
      int values[64];
      int* sum;
      void operator()() const { *sum += values[63]; }
    };
    Large large{Counted(counts), {}, &sum};
    large.values[63] = 5;
    queue.emplace_back(std::move(large));
    queue.emplace_back(Large{Counted(counts), {}, &sum});
    queue.run_front();
    REQUIRE(sum == 5);
  }  // the second is destroyed unrun with the queue
  REQUIRE(counts.alive() == 0);
}

TEST_CASE("clear destroys every queued callback unrun", "[callback_queue]") {
  Counts counts;
  CallbackQueue queue;
  bool ran = false;
  for (int i = 0; i < 10'000; ++i) queue.emplace_back([c = Counted(counts), &ran] { ran = true; });
  queue.clear();
  REQUIRE(queue.empty());
  REQUIRE_FALSE(ran);
  REQUIRE(counts.alive() == 0);
  queue.emplace_back([&ran] { ran = true; });  // usable again after clear
  queue.run_front();
  REQUIRE(ran);
}

// ---- reservations: room for appends that cannot fail --------------------

TEST_CASE("appends into reserved room never allocate, across many chunks", "[callback_queue][reserve]") {
  CallbackQueue queue;
  struct Small {
    std::vector<int>* order;
    int i;
    void operator()() const { order->push_back(i); }
  };
  // Larger than Small: ordinary appends interleaved with the reserved ones
  // must leave the reserved room free.
  struct Big {
    std::vector<int>* order;
    int i;
    char padding[48];
    void operator()() const { order->push_back(i); }
  };
  constexpr int kReserved = 20'000;  // several 64 KiB chunks of records
  std::vector<int> order;
  queue.reserve_units(kReserved * CallbackQueue::units_for<Small>());
  CHECK(queue.reserved_units() == kReserved * CallbackQueue::units_for<Small>());
  int allocating = 0;
  for (int i = 0; i < kReserved; ++i) {
    queue.emplace_back(Big{&order, 2 * i, {}});
    const long before = weft_test::allocations_on_this_thread();
    queue.emplace_reserved(Small{&order, 2 * i + 1});
    if (weft_test::allocations_on_this_thread() != before) ++allocating;
  }
  CHECK(allocating == 0);
  CHECK(queue.reserved_units() == 0);
  while (!queue.empty()) queue.run_front();
  REQUIRE(order.size() == 2u * kReserved);
  for (int i = 0; i < 2 * kReserved; ++i) REQUIRE(order[i] == i);
}

TEST_CASE("a reservation that cannot be allocated reserves nothing", "[callback_queue][reserve]") {
  CallbackQueue queue;
  {
    weft_test::RefuseAllocation refuse(0, /*forever=*/true);
    CHECK_THROWS_AS(queue.reserve_units(10), std::bad_alloc);
  }
  CHECK(queue.reserved_units() == 0);
  queue.reserve_units(10);
  CHECK(queue.reserved_units() == 10);
  queue.release_units(10);
  CHECK(queue.reserved_units() == 0);
}

TEST_CASE("an ordinary append refused for the reserved room queues nothing", "[callback_queue][reserve]") {
  CallbackQueue queue;
  // Reserve exactly the first chunk's room: the next ordinary append needs a
  // new chunk, and refusing it leaves the queue as it was.
  queue.reserve_units(1);
  const std::size_t units = queue.reserved_units();
  Counts counts;
  struct Job {
    Counted counted;
    void operator()() const {}
  };
  int appended = 0;
  bool refused = false;
  // A chunk holds 4,092 such records: the refusal comes well before 10,000.
  for (int i = 0; i < 10'000 && !refused; ++i) {
    weft_test::RefuseAllocation refuse(0, /*forever=*/true);
    try {
      queue.emplace_back(Job{Counted(counts)});
      ++appended;
    } catch (const std::bad_alloc&) {
      refused = true;
    }
  }
  REQUIRE(refused);
  CHECK(queue.size() == static_cast<std::size_t>(appended));
  CHECK(counts.alive() == appended);  // the refused one was destroyed
  CHECK(queue.reserved_units() == units);
  // The reserved room is still there: this append needs no memory.
  bool ran = false;
  {
    weft_test::RefuseAllocation refuse(0, /*forever=*/true);
    queue.emplace_reserved([&ran] { ran = true; });
  }
  while (!queue.empty()) queue.run_front();
  CHECK(ran);
  CHECK(counts.alive() == 0);
}

// ---- word records: objects and coroutines queued by their address ---------

namespace {

// Records its own id when run, and counts drops.
class Step final : public weft::detail::QueuedObject {
 public:
  Step(std::vector<int>* order, int id, int* dropped) : order_(order), id_(id), dropped_(dropped) {}
  void run_queued() override { order_->push_back(id_); }
  void drop_queued() noexcept override { ++*dropped_; }

 private:
  std::vector<int>* order_;
  int id_;
  int* dropped_;
};

// A coroutine that records `id` each time it is resumed.
struct Recorder {
  struct promise_type {
    Recorder get_return_object() { return Recorder{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};
Recorder record_resumes(std::vector<int>* order, int id) {
  for (;;) {
    order->push_back(id);
    co_await std::suspend_always{};
  }
}

}  // namespace

TEST_CASE("object and coroutine records run in order with callables, across chunks",
          "[callback_queue][word]") {
  CallbackQueue queue;
  std::vector<int> order;
  int dropped = 0;
  constexpr int kEach = 30'000;  // more than one chunk of 8-byte records
  std::vector<Step> steps;
  steps.reserve(kEach);
  Recorder coroutine = record_resumes(&order, -1);
  for (int i = 0; i < kEach; ++i) {
    steps.emplace_back(&order, 3 * i, &dropped);
    queue.emplace_object(&steps.back());
    queue.emplace_back(weft::detail::ResumeCoroutine{coroutine.handle});
    queue.emplace_back([&order, i] { order.push_back(3 * i + 2); });
  }
  REQUIRE(queue.size() == 3u * kEach);
  while (!queue.empty()) queue.run_front();
  REQUIRE(order.size() == 3u * kEach);
  for (int i = 0; i < kEach; ++i) {
    REQUIRE(order[3 * i] == 3 * i);
    REQUIRE(order[3 * i + 1] == -1);
    REQUIRE(order[3 * i + 2] == 3 * i + 2);
  }
  CHECK(dropped == 0);
  coroutine.handle.destroy();
}

TEST_CASE("object records go into reserved room without allocating; clear drops them",
          "[callback_queue][word][reserve]") {
  CallbackQueue queue;
  std::vector<int> order;
  int dropped = 0;
  constexpr int kReserved = 20'000;
  std::vector<Step> steps;
  steps.reserve(kReserved);
  for (int i = 0; i < kReserved; ++i) steps.emplace_back(&order, i, &dropped);
  queue.reserve_units(kReserved * CallbackQueue::kObjectUnits);
  int allocating = 0;
  for (int i = 0; i < kReserved; ++i) {
    // Ordinary appends in between must leave the reserved room free.
    queue.emplace_back([] {});
    const long before = weft_test::allocations_on_this_thread();
    queue.emplace_object_reserved(&steps[i]);
    if (weft_test::allocations_on_this_thread() != before) ++allocating;
  }
  CHECK(allocating == 0);
  CHECK(queue.reserved_units() == 0);
  queue.run_front();  // a callable
  queue.run_front();  // the first object
  CHECK(order == std::vector<int>{0});
  queue.clear();
  CHECK(dropped == kReserved - 1);
  CHECK(queue.empty());
}
