#include "core/timer/timer_queue.h"

#include <catch2/catch.hpp>
#include <new>
#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "tests/core/counted.h"
#include "tests/core/refusing_new.h"

using weft::Duration;
using weft::TimePoint;
using weft::detail::TimerQueue;

namespace {
TimePoint at(long ns) { return TimePoint(Duration(ns)); }
}  // namespace

TEST_CASE("timers come out in deadline order, ties in arming order", "[timer_queue]") {
  TimerQueue timers;
  std::vector<int> fired;
  timers.arm(at(30), [&] { fired.push_back(3); });
  timers.arm(at(10), [&] { fired.push_back(1); });
  timers.arm(at(20), [&] { fired.push_back(21); });
  timers.arm(at(20), [&] { fired.push_back(22); });
  timers.arm(at(20), [&] { fired.push_back(23); });
  REQUIRE(timers.next_deadline() == at(10));
  timers.pop_expired(at(100), [](weft::Callback&& cb) { cb.invoke_once(); });
  REQUIRE(fired == std::vector<int>{1, 21, 22, 23, 3});
  REQUIRE(timers.empty());
}

TEST_CASE("a timer is not popped before its deadline", "[timer_queue]") {
  TimerQueue timers;
  int fired = 0;
  timers.arm(at(1000), [&] { ++fired; });
  auto run = [](weft::Callback&& cb) { cb.invoke_once(); };
  REQUIRE(timers.pop_expired(at(999), run) == 0);
  REQUIRE(fired == 0);
  REQUIRE(timers.pop_expired(at(1000), run) == 1);
  REQUIRE(fired == 1);
}

TEST_CASE("a cancelled timer never fires and its id goes stale", "[timer_queue]") {
  TimerQueue timers;
  int fired = 0;
  auto id = timers.arm(at(5), [&] { ++fired; });
  REQUIRE(timers.is_pending(id));
  REQUIRE(timers.cancel(id));
  REQUIRE_FALSE(timers.is_pending(id));
  REQUIRE_FALSE(timers.cancel(id));
  REQUIRE_FALSE(timers.next_deadline().has_value());
  timers.pop_expired(at(10), [](weft::Callback&& cb) { cb.invoke_once(); });
  REQUIRE(fired == 0);
}

TEST_CASE("a reused slot does not revive an old timer id", "[timer_queue]") {
  TimerQueue timers;
  auto old_id = timers.arm(at(5), [] {});
  REQUIRE(timers.cancel(old_id));
  auto new_id = timers.arm(at(6), [] {});
  REQUIRE(new_id.slot == old_id.slot);
  REQUIRE_FALSE(timers.cancel(old_id));
  REQUIRE(timers.is_pending(new_id));
}

TEST_CASE("many random timers with cancellations fire in exact order", "[timer_queue]") {
  TimerQueue timers;
  std::mt19937 rng(42);
  std::uniform_int_distribution<long> delay(0, 1'000'000);
  struct Armed {
    long deadline;
    int order;
    weft::detail::TimerId id;
    bool cancelled = false;
  };
  std::vector<Armed> armed;
  std::vector<std::pair<long, int>> fired;
  for (int i = 0; i < 20000; ++i) {
    long d = delay(rng) / 100 * 100;  // many equal deadlines
    auto id = timers.arm(at(d), [&fired, d, i] { fired.emplace_back(d, i); });
    armed.push_back({d, i, id});
  }
  for (std::size_t i = 0; i < armed.size(); i += 3) {
    REQUIRE(timers.cancel(armed[i].id));
    armed[i].cancelled = true;
  }
  timers.pop_expired(at(2'000'000), [](weft::Callback&& cb) { cb.invoke_once(); });
  std::vector<std::pair<long, int>> expected;
  for (auto& a : armed)
    if (!a.cancelled) expected.emplace_back(a.deadline, a.order);
  std::sort(expected.begin(), expected.end());
  REQUIRE(fired == expected);
}

TEST_CASE("cancel_all destroys every pending callback", "[timer_queue]") {
  TimerQueue timers;
  auto token = std::make_shared<int>(0);
  for (int i = 0; i < 100; ++i) timers.arm(at(i), [token] {});
  REQUIRE(token.use_count() == 101);
  REQUIRE(timers.cancel_all() == 100);
  REQUIRE(token.use_count() == 1);
  REQUIRE(timers.empty());
}

namespace {

// A timer node that records when it fired.
struct RecordingNode : weft::detail::TimerNode {
  RecordingNode(std::vector<int>* log, int id) : TimerNode(&RecordingNode::on_fire), log(log), id(id) {}
  static void on_fire(weft::detail::TimerNode& node) {
    auto& self = static_cast<RecordingNode&>(node);
    self.log->push_back(self.id);
  }
  std::vector<int>* log;
  int id;
};

}  // namespace

TEST_CASE("timer nodes and callback timers fire in one deadline order, ties in arming order",
          "[timer_queue][timer_node]") {
  TimerQueue timers;
  std::vector<int> fired;
  RecordingNode n1(&fired, 1), n3(&fired, 3), n5(&fired, 5);
  timers.arm_node(n3, at(20));
  timers.arm(at(10), [&] { fired.push_back(2); });
  timers.arm_node(n1, at(10));  // same deadline, armed later than timer 2
  timers.arm(at(20), [&] { fired.push_back(4); });
  timers.arm_node(n5, at(30));
  REQUIRE(timers.size() == 5);
  REQUIRE(timers.next_deadline() == at(10));
  timers.pop_expired(at(25), [](weft::Callback&& cb) { cb.invoke_once(); });
  REQUIRE(fired == std::vector<int>{2, 1, 3, 4});
  REQUIRE_FALSE(n1.armed());
  REQUIRE(n5.armed());
  REQUIRE(timers.next_deadline() == at(30));
  REQUIRE(timers.cancel_node(n5));
  REQUIRE_FALSE(timers.cancel_node(n5));
  REQUIRE(timers.empty());
}

TEST_CASE("cancelled timer nodes leave the heap at once, in any order", "[timer_queue][timer_node]") {
  TimerQueue timers;
  std::vector<int> fired;
  std::vector<std::unique_ptr<RecordingNode>> nodes;
  std::mt19937 rng(7);
  std::uniform_int_distribution<long> delay(0, 10'000);
  for (int i = 0; i < 2000; ++i) {
    nodes.push_back(std::make_unique<RecordingNode>(&fired, i));
    timers.arm_node(*nodes.back(), at(delay(rng)));
  }
  std::vector<std::pair<long, int>> expected;
  for (int i = 0; i < 2000; ++i) {
    if (i % 3 == 0) {
      REQUIRE(timers.cancel_node(*nodes[i]));
      nodes[i].reset();  // a cancelled node may go at once
    } else {
      expected.emplace_back(nodes[i]->deadline_ns, i);
    }
  }
  std::sort(expected.begin(), expected.end());
  timers.pop_expired(at(20'000), [](weft::Callback&&) {});
  REQUIRE(fired.size() == expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) REQUIRE(fired[k] == expected[k].second);
}

TEST_CASE("cancel_all disarms timer nodes without firing them", "[timer_queue][timer_node]") {
  TimerQueue timers;
  std::vector<int> fired;
  RecordingNode node(&fired, 1);
  timers.arm_node(node, at(5));
  timers.arm(at(5), [] {});
  REQUIRE(timers.cancel_all() == 2);
  REQUIRE_FALSE(node.armed());
  timers.pop_expired(at(10), [](weft::Callback&& cb) { cb.invoke_once(); });
  REQUIRE(fired.empty());
}

TEST_CASE("an arm refused any of its allocations arms nothing and keeps nothing",
          "[timer_queue][out_of_memory]") {
  // A callable too big to store inline: arming allocates its box, the heap's
  // room and the slab's first chunk. Refuse each in turn.
  struct Big {
    weft_test::Counted counted;
    int* fired;
    char padding[64];
    void operator()() const { ++*fired; }
  };
  for (long n = 0;; ++n) {
    TimerQueue timers;
    weft_test::Counts counts;
    int fired = 0;
    bool armed = true;
    {
      weft_test::RefuseAllocation refuse(n);
      try {
        timers.arm(at(10), Big{weft_test::Counted(counts), &fired, {}});
      } catch (const std::bad_alloc&) {
        armed = false;
      }
    }
    INFO("refusing allocation " << n);
    CHECK(timers.size() == (armed ? 1u : 0u));
    CHECK(counts.alive() == (armed ? 1 : 0));  // a refused callback is not kept
    // Another timer still arms and fires, alone if the first was refused.
    timers.arm(at(20), [&fired] { fired += 10; });
    timers.pop_expired(at(30), [](weft::Callback&& cb) { cb.invoke_once(); });
    CHECK(fired == (armed ? 11 : 10));
    CHECK(counts.alive() == 0);
    if (armed) break;  // the arm needed fewer than n + 1 allocations
  }
}
