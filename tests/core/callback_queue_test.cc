#include "core/detail/callback_queue.h"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

#include "tests/core/counted.h"

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
