#include "core/detail/callback_queue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <stdexcept>
#include <utility>
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

// ---- run_batch: how the loop drains the queue ----------------------------

namespace {

// A callable of `Bytes` bytes that records its id when it runs.
template <std::size_t Bytes>
struct Sized {
  std::vector<int>* order;
  int id;
  unsigned char pad[Bytes - sizeof(std::vector<int>*) - sizeof(int)];
  void operator()() const { order->push_back(id); }
};

}  // namespace

TEST_CASE("run_batch runs records of every size in order across chunks",
          "[callback_queue][batch]") {
  CallbackQueue queue;
  std::vector<int> order;
  const int n = 30'000;  // every inline size, several chunks; ids in posting order
  for (int i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:
        queue.emplace_back([&order, i] { order.push_back(i); });
        break;
      case 1:
        queue.emplace_back(Sized<40>{&order, i, {}});
        break;
      case 2:
        queue.emplace_back(Sized<CallbackQueue::kMaxInlineBytes>{&order, i, {}});
        break;
      default:
        queue.emplace_back(Sized<CallbackQueue::kMaxInlineBytes + 8>{&order, i, {}});  // boxed
    }
  }
  std::atomic<bool> stop{false};
  std::size_t ran = 0;
  queue.run_batch(ran, 1000, stop);  // stops at its limit
  REQUIRE(ran == 1000);
  REQUIRE(order.size() == 1000);
  REQUIRE(queue.size() == static_cast<std::size_t>(n - 1000));
  while (!queue.empty()) queue.run_batch(ran, ran + 4096, stop);
  REQUIRE(ran == static_cast<std::size_t>(n));
  REQUIRE(order.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) REQUIRE(order[i] == i);
}

TEST_CASE("run_batch runs what its callbacks post, and stops when asked",
          "[callback_queue][batch]") {
  CallbackQueue queue;
  std::atomic<bool> stop{false};
  int remaining = 100'000;
  struct Step {
    CallbackQueue* queue;
    int* remaining;
    std::atomic<bool>* stop;
    void operator()() const {
      if (--*remaining == 50'000) stop->store(true, std::memory_order_relaxed);
      if (*remaining > 0) queue->emplace_back(*this);
    }
  };
  queue.emplace_back(Step{&queue, &remaining, &stop});
  std::size_t ran = 0;
  queue.run_batch(ran, 1'000'000, stop);
  REQUIRE(ran == 50'000);  // the record that asked to stop was the last
  REQUIRE(remaining == 50'000);
  REQUIRE(queue.size() == 1);
  stop.store(false);
  queue.run_batch(ran, 1'000'000, stop);
  REQUIRE(ran == 100'000);
  REQUIRE(remaining == 0);
  REQUIRE(queue.empty());
  queue.emplace_back([] {});  // the emptied queue takes new records
  queue.run_batch(ran, ran + 1, stop);
  REQUIRE(queue.empty());
}

TEST_CASE("run_batch pops and counts a throwing record before the exception leaves",
          "[callback_queue][batch]") {
  Counts counts;
  CallbackQueue queue;
  int after = 0;
  queue.emplace_back([] {});
  queue.emplace_back([c = Counted(counts)] { throw std::runtime_error("no"); });
  queue.emplace_back([&after] { ++after; });
  std::atomic<bool> stop{false};
  std::size_t ran = 0;
  REQUIRE_THROWS_AS(queue.run_batch(ran, 10, stop), std::runtime_error);
  REQUIRE(ran == 2);
  REQUIRE(queue.size() == 1);
  REQUIRE(counts.alive() == 0);
  queue.run_batch(ran, 10, stop);
  REQUIRE(ran == 3);
  REQUIRE(after == 1);
  REQUIRE(queue.empty());
}

namespace {

// Records its id and what size() says while it runs, then posts the next
// record of its chain: alternately this size and `Other`, so a batch meets a
// record of another size every time.
template <std::size_t Bytes, std::size_t Other>
struct Probe {
  CallbackQueue* queue;
  std::vector<std::pair<int, std::size_t>>* seen;
  int id;
  int chains;
  int last;
  unsigned char pad[Bytes - sizeof(CallbackQueue*) - sizeof(void*) - 3 * sizeof(int)];
  void operator()() const {
    seen->emplace_back(id, queue->size());
    if (id + chains <= last) queue->emplace_back(Probe<Other, Bytes>{queue, seen, id + chains, chains, last, {}});
  }
};

}  // namespace

TEST_CASE("run_batch runs posts of changing sizes in order; a callback's size() leaves it out",
          "[callback_queue][batch]") {
  // One chain: every record is the last in the queue while it runs and posts
  // into the chunk it is in. Two chains: the other chain's record waits.
  const int chains = GENERATE(1, 2);
  CallbackQueue queue;
  std::vector<std::pair<int, std::size_t>> seen;
  const int last = 20'000;  // several chunks
  queue.emplace_back(Probe<32, 96>{&queue, &seen, 0, chains, last, {}});
  if (chains == 2) queue.emplace_back(Probe<96, 32>{&queue, &seen, 1, chains, last, {}});
  std::atomic<bool> stop{false};
  std::size_t ran = 0;
  queue.run_batch(ran, 5'000, stop);
  REQUIRE(ran == 5'000);
  // Where the batch stopped, records one by one take over, then a batch.
  for (int i = 0; i < 1'000; ++i) queue.run_front();
  ran += 1'000;
  while (!queue.empty()) queue.run_batch(ran, ran + 3'000, stop);
  REQUIRE(ran == static_cast<std::size_t>(last + 1));
  REQUIRE(seen.size() == static_cast<std::size_t>(last + 1));
  for (int i = 0; i <= last; ++i) {
    REQUIRE(seen[i].first == i);
    // The other chain's record waits, but for the very last.
    REQUIRE(seen[i].second == (i < last ? static_cast<std::size_t>(chains - 1) : 0u));
  }
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

// The same through a table of functions instead of a vtable, as a future's
// shared state is queued; it may switch tables as it goes (here: once run).
class TabledStep final : public weft::detail::TabledObject {
 public:
  TabledStep(std::vector<int>* order, int id, int* dropped)
      : TabledObject(&kOps), order_(order), id_(id), dropped_(dropped) {}
  bool ran() const { return ops_ == &kRan; }

 private:
  static void run(TabledObject* self) {
    auto* step = static_cast<TabledStep*>(self);
    step->ops_ = &kRan;
    step->order_->push_back(step->id_);
  }
  static void drop(TabledObject* self) noexcept { ++*static_cast<TabledStep*>(self)->dropped_; }
  static constexpr Ops kOps{&run, &drop};
  static constexpr Ops kRan{nullptr, nullptr};

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

TEST_CASE("object (both kinds) and coroutine records run in order with callables, across chunks",
          "[callback_queue][word]") {
  CallbackQueue queue;
  std::vector<int> order;
  int dropped = 0;
  constexpr int kEach = 30'000;  // more than one chunk of 8-byte records
  std::vector<Step> steps;
  std::vector<TabledStep> tabled;
  steps.reserve(kEach);
  tabled.reserve(kEach);
  Recorder coroutine = record_resumes(&order, -1);
  for (int i = 0; i < kEach; ++i) {
    steps.emplace_back(&order, 4 * i, &dropped);
    queue.emplace_object(&steps.back());
    queue.emplace_back(weft::detail::ResumeCoroutine{coroutine.handle});
    queue.emplace_back([&order, i] { order.push_back(4 * i + 2); });
    tabled.emplace_back(&order, 4 * i + 3, &dropped);
    queue.emplace_object(&tabled.back());
  }
  REQUIRE(queue.size() == 4u * kEach);
  // One by one, then the rest in a batch.
  for (int i = 0; i < kEach; ++i) queue.run_front();
  std::size_t ran = 0;
  std::atomic<bool> stop{false};
  queue.run_batch(ran, 4 * kEach, stop);
  REQUIRE(queue.empty());
  REQUIRE(order.size() == 4u * kEach);
  for (int i = 0; i < kEach; ++i) {
    REQUIRE(order[4 * i] == 4 * i);
    REQUIRE(order[4 * i + 1] == -1);
    REQUIRE(order[4 * i + 2] == 4 * i + 2);
    REQUIRE(order[4 * i + 3] == 4 * i + 3);
  }
  CHECK(tabled.back().ran());
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
  std::vector<TabledStep> tabled;
  steps.reserve(kReserved / 2);
  tabled.reserve(kReserved / 2);
  for (int i = 0; i < kReserved / 2; ++i) {
    steps.emplace_back(&order, 2 * i, &dropped);
    tabled.emplace_back(&order, 2 * i + 1, &dropped);
  }
  queue.reserve_units(kReserved * CallbackQueue::kObjectUnits);
  int allocating = 0;
  for (int i = 0; i < kReserved; ++i) {
    // Ordinary appends in between must leave the reserved room free.
    queue.emplace_back([] {});
    const long before = weft_test::allocations_on_this_thread();
    if (i % 2 == 0) {
      queue.emplace_object_reserved(&steps[i / 2]);
    } else {
      queue.emplace_object_reserved(&tabled[i / 2]);
    }
    if (weft_test::allocations_on_this_thread() != before) ++allocating;
  }
  CHECK(allocating == 0);
  CHECK(queue.reserved_units() == 0);
  for (int i = 0; i < 4; ++i) queue.run_front();  // callable, object, callable, tabled
  CHECK(order == std::vector<int>{0, 1});
  CHECK(tabled[0].ran());
  queue.clear();
  CHECK(dropped == kReserved - 2);
  CHECK_FALSE(tabled.back().ran());
  CHECK(queue.empty());
}
