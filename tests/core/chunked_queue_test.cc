#include "core/detail/chunked_queue.h"

#include <catch2/catch.hpp>
#include <new>

#include "tests/core/counted.h"
#include "tests/core/refusing_new.h"

using weft::detail::ChunkedQueue;
using weft_test::Counted;
using weft_test::Counts;

TEST_CASE("a chunked queue is first in, first out across many chunks", "[chunked_queue]") {
  ChunkedQueue<int, 4> queue;
  for (int i = 0; i < 1000; ++i) queue.emplace_back(i);
  REQUIRE(queue.size() == 1000);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(queue.front() == i);
    queue.pop_front();
  }
  REQUIRE(queue.empty());
}

TEST_CASE("a chunked queue interleaving pushes and pops keeps order", "[chunked_queue]") {
  ChunkedQueue<int, 8> queue;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 500; ++round) {
    for (int k = 0; k < round % 13; ++k) queue.emplace_back(next_in++);
    for (int k = 0; k < round % 7 && !queue.empty(); ++k) {
      REQUIRE(queue.take_front() == next_out++);
    }
  }
  while (!queue.empty()) REQUIRE(queue.take_front() == next_out++);
  REQUIRE(next_in == next_out);
}

TEST_CASE("a chunked queue destroys every element exactly once", "[chunked_queue]") {
  Counts counts;
  {
    ChunkedQueue<Counted, 4> queue;
    for (int i = 0; i < 37; ++i) queue.emplace_back(counts, i);
    for (int i = 0; i < 10; ++i) queue.pop_front();
    ChunkedQueue<Counted, 4> other(std::move(queue));
    REQUIRE(other.size() == 27);
    REQUIRE(other.front().value() == 10);
  }
  REQUIRE(counts.alive() == 0);
}

TEST_CASE("swapping chunked queues exchanges their contents", "[chunked_queue]") {
  ChunkedQueue<int, 4> a;
  ChunkedQueue<int, 4> b;
  for (int i = 0; i < 9; ++i) a.emplace_back(i);
  b.emplace_back(100);
  a.swap(b);
  REQUIRE(a.size() == 1);
  REQUIRE(a.front() == 100);
  REQUIRE(b.size() == 9);
  REQUIRE(b.front() == 0);
}

TEST_CASE("room added to a chunked queue is used without allocating", "[chunked_queue][reserve]") {
  ChunkedQueue<int, 4> queue;
  CHECK(queue.free_slots() == 0);
  queue.add_room(10);  // three spare chunks of four
  CHECK(queue.free_slots() == 12);
  const long before = weft_test::allocations_on_this_thread();
  for (int i = 0; i < 12; ++i) queue.emplace_back(i);
  CHECK(weft_test::allocations_on_this_thread() == before);
  CHECK(queue.free_slots() == 0);
  {
    weft_test::RefuseAllocation refuse(0, /*forever=*/true);
    CHECK_THROWS_AS(queue.add_room(1), std::bad_alloc);
  }
  for (int i = 0; i < 12; ++i) CHECK(queue.take_front() == i);
}

TEST_CASE("take_spares moves another queue's spare chunks", "[chunked_queue][reserve]") {
  ChunkedQueue<int, 4> a;
  ChunkedQueue<int, 4> b;
  b.add_room(8);
  a.take_spares(b);
  CHECK(a.free_slots() == 8);
  CHECK(b.free_slots() == 0);
}
