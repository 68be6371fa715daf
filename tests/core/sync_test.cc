// Mutex, Semaphore, Event, Condition and Queue between tasks.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/loop/loop.h"
#include "core/sync/event.h"
#include "core/sync/mutex.h"
#include "core/sync/queue.h"
#include "core/task/task.h"
#include "tests/core/manual_loop.h"

using namespace std::chrono_literals;

namespace {

using Manual = weft_test::ManualLoop;

}  // namespace

TEST_CASE("a mutex admits one task at a time, in the order they came", "[sync][mutex]") {
  Manual m;
  weft::Mutex mutex;
  std::vector<std::string> log;
  int inside = 0;
  auto worker = [&](std::string name) -> weft::Task<void> {
    auto lock = co_await mutex.lock_guard();
    REQUIRE(++inside == 1);
    log.push_back(name + " in");
    co_await weft::sleep(5ms);
    log.push_back(name + " out");
    --inside;
  };
  std::vector<weft::TaskHandle<void>> tasks;
  for (const char* name : {"a", "b", "c"}) tasks.push_back(weft::spawn(m.loop, worker(name)));
  m.advance(20ms);
  REQUIRE(log == std::vector<std::string>{"a in", "a out", "b in", "b out", "c in", "c out"});
  REQUIRE_FALSE(mutex.locked());
  REQUIRE_THROWS_AS(mutex.unlock(), weft::Exception);
}

TEST_CASE("a task cancelled while waiting for a mutex leaves the queue; the lock is never lost",
          "[sync][mutex]") {
  weft::Loop loop;
  weft::Mutex mutex;
  std::vector<std::string> log;
  auto waiter = [&](std::string name) -> weft::Task<void> {
    co_await mutex.lock();
    log.push_back(name + " locked");
    co_await weft::yield();  // a cancellation that came after the handover lands here
    mutex.unlock();
  };
  REQUIRE(mutex.try_lock());
  auto a = weft::spawn(loop, waiter("a"));
  auto b = weft::spawn(loop, waiter("b"));
  auto c = weft::spawn(loop, waiter("c"));
  loop.run();
  REQUIRE(mutex.waiting() == 3);
  REQUIRE(a.info().awaiting == "Mutex");
  a.cancel();  // still queued: leaves
  loop.run();
  REQUIRE(a.cancelled());
  REQUIRE(mutex.waiting() == 2);
  mutex.unlock();  // handed to b
  b.cancel();      // after the handover: b keeps the lock until its next await
  loop.run();
  REQUIRE(b.cancelled());
  REQUIRE(log == std::vector<std::string>{"b locked"});
  // b was cancelled holding the lock at its yield; its unlock never ran.
  REQUIRE(mutex.locked());
  mutex.unlock();
  loop.run();
  REQUIRE(log == std::vector<std::string>{"b locked", "c locked"});
  REQUIRE(c.done());
  REQUIRE_FALSE(mutex.locked());
}

TEST_CASE("a semaphore bounds how many tasks run at once", "[sync][semaphore]") {
  Manual m;
  weft::Semaphore slots(3);
  int running = 0;
  int peak = 0;
  int finished = 0;
  auto job = [&](int i) -> weft::Task<void> {
    auto permit = co_await slots.acquire_guard();
    peak = std::max(peak, ++running);
    co_await weft::sleep(std::chrono::milliseconds(1 + i % 4));
    --running;
    ++finished;
  };
  std::vector<weft::TaskHandle<void>> jobs;
  for (int i = 0; i < 20; ++i) jobs.push_back(weft::spawn(m.loop, job(i)));
  m.advance(50ms);
  REQUIRE(finished == 20);
  REQUIRE(peak == 3);
  REQUIRE(slots.available() == 3);
  REQUIRE(slots.try_acquire());
  REQUIRE(slots.available() == 2);
  slots.release();
}

TEST_CASE("a permit given to a task that is then cancelled is not lost", "[sync][semaphore]") {
  weft::Loop loop;
  weft::Semaphore sem(0);
  auto take = [&]() -> weft::Task<void> {
    auto permit = co_await sem.acquire_guard();
    co_await weft::yield();
  };
  auto h = weft::spawn(loop, take());
  loop.run();
  sem.release();  // handed to the waiter
  h.cancel();
  loop.run();
  REQUIRE(h.cancelled());
  REQUIRE(sem.available() == 1);  // the guard released it during unwinding
}

TEST_CASE("an event wakes every waiter and stays set until cleared", "[sync][event]") {
  weft::Loop loop;
  weft::Event event;
  int woken = 0;
  auto waiter = [&]() -> weft::Task<void> {
    co_await event.wait();
    ++woken;
  };
  std::vector<weft::TaskHandle<void>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(weft::spawn(loop, waiter()));
  loop.run();
  REQUIRE(woken == 0);
  REQUIRE(event.waiting() == 5);
  event.set();
  loop.run();
  REQUIRE(woken == 5);
  auto late = weft::spawn(loop, waiter());  // set: returns at once
  loop.run();
  REQUIRE(woken == 6);
  event.clear();
  REQUIRE_FALSE(event.is_set());
  auto cancelled = weft::spawn(loop, waiter());
  loop.run();
  cancelled.cancel();
  loop.run();
  REQUIRE(cancelled.cancelled());
  REQUIRE(event.waiting() == 0);
}

TEST_CASE("a condition waits with its mutex released and wakes on notify", "[sync][condition]") {
  weft::Loop loop;
  weft::Mutex mutex;
  weft::Condition changed(mutex);
  std::vector<int> items;
  std::vector<int> consumed;
  auto consumer = [&]() -> weft::Task<void> {
    auto lock = co_await mutex.lock_guard();
    co_await changed.wait([&] { return !items.empty(); });
    REQUIRE(mutex.locked());
    consumed.push_back(items.back());
    items.pop_back();
  };
  auto producer = [&]() -> weft::Task<void> {
    co_await weft::yield();
    {
      auto lock = co_await mutex.lock_guard();  // free: the consumer waits unlocked
      items.push_back(42);
      changed.notify();
    }
  };
  auto c = weft::spawn(loop, consumer());
  auto p = weft::spawn(loop, producer());
  loop.run();
  REQUIRE(consumed == std::vector<int>{42});
  REQUIRE(c.done());
  REQUIRE_FALSE(mutex.locked());
}

TEST_CASE("a cancelled condition wait re-locks the mutex before it throws", "[sync][condition]") {
  weft::Loop loop;
  weft::Mutex mutex;
  weft::Condition changed(mutex);
  bool locked_when_cancelled = false;
  auto waiter = [&]() -> weft::Task<void> {
    co_await mutex.lock();
    try {
      co_await changed.wait();
    } catch (const weft::Cancelled&) {
      locked_when_cancelled = mutex.locked();
      mutex.unlock();
      throw;
    }
  };
  auto h = weft::spawn(loop, waiter());
  loop.run();
  REQUIRE_FALSE(mutex.locked());  // released while waiting
  h.cancel();
  loop.run();
  REQUIRE(h.cancelled());
  REQUIRE(locked_when_cancelled);
  REQUIRE_FALSE(mutex.locked());
}

TEST_CASE("a full queue suspends the producer until a consumer makes room", "[sync][queue]") {
  weft::Loop loop;
  weft::Queue<int> queue(2);
  std::vector<std::string> log;
  auto producer = [&]() -> weft::Task<void> {
    for (int i = 1; i <= 4; ++i) {
      co_await queue.put(i);
      log.push_back("put " + std::to_string(i));
    }
    queue.close();
  };
  auto p = weft::spawn(loop, producer());
  loop.run();
  REQUIRE(log == std::vector<std::string>{"put 1", "put 2"});  // then blocked: full
  REQUIRE(queue.full());
  auto consumer = [&]() -> weft::Task<void> {
    while (auto item = co_await queue.next()) log.push_back("got " + std::to_string(*item));
    log.push_back("closed");
  };
  auto c = weft::spawn(loop, consumer());
  loop.run();
  // Taking item 1 moved the waiting item 3 into the queue at once (the slot
  // went straight to the producer), so the consumer reads 3 before the
  // producer resumes.
  REQUIRE(log == std::vector<std::string>{"put 1", "put 2", "got 1", "got 2", "got 3", "put 3",
                                          "put 4", "got 4", "closed"});
  REQUIRE(p.done());
  REQUIRE(c.done());
}

TEST_CASE("a closed queue refuses puts and ends gets once drained", "[sync][queue]") {
  weft::Loop loop;
  weft::Queue<std::string> queue;  // unbounded
  REQUIRE(queue.try_put("a"));
  REQUIRE(queue.try_put(std::string("b")));
  queue.close();
  REQUIRE_FALSE(queue.try_put("c"));
  auto body = [&]() -> weft::Task<std::string> {
    std::string seen = co_await queue.get();
    seen += co_await queue.get();
    try {
      co_await queue.get();
    } catch (const weft::Exception& e) {
      REQUIRE(e.code() == weft::Errc::closed);
      seen += " closed";
    }
    try {
      co_await queue.put("d");
    } catch (const weft::Exception& e) {
      seen += " refused";
    }
    co_return seen;
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.get() == "ab closed refused");
}

TEST_CASE("closing wakes waiting consumers and producers", "[sync][queue]") {
  weft::Loop loop;
  weft::Queue<int> empty(1);
  weft::Queue<int> full(1);
  REQUIRE(full.try_put(0));
  auto consumer = [&]() -> weft::Task<bool> { co_return !(co_await empty.next()).has_value(); };
  auto producer = [&]() -> weft::Task<void> { co_await full.put(1); };
  auto c = weft::spawn(loop, consumer());
  auto p = weft::spawn(loop, producer());
  loop.run();
  empty.close();
  full.close();
  loop.run();
  REQUIRE(c.get());
  REQUIRE(p.failed());
  REQUIRE(full.size() == 1);  // the waiting producer's item was not added
  REQUIRE_THROWS_AS(p.get(), weft::Exception);
}

TEST_CASE("cancellation never loses a queue item", "[sync][queue]") {
  weft::Loop loop;
  weft::Queue<int> queue(1);
  std::vector<int> got;
  auto consumer = [&]() -> weft::Task<void> {
    int v = co_await queue.get();
    got.push_back(v);
    co_await weft::yield();
  };
  // A consumer cancelled while waiting takes nothing.
  auto a = weft::spawn(loop, consumer());
  loop.run();
  a.cancel();
  loop.run();
  REQUIRE(a.cancelled());
  REQUIRE(queue.try_put(1));
  REQUIRE(queue.size() == 1);
  REQUIRE(queue.try_get() == 1);
  // A consumer handed an item and then cancelled keeps the item.
  auto b = weft::spawn(loop, consumer());
  loop.run();
  REQUIRE(queue.try_put(2));  // straight to the waiting consumer
  b.cancel();
  loop.run();
  REQUIRE(got == std::vector<int>{2});
  REQUIRE(b.cancelled());
  // A producer cancelled while waiting for room did not put its item.
  REQUIRE(queue.try_put(3));
  auto producer = [&]() -> weft::Task<void> { co_await queue.put(4); };
  auto p = weft::spawn(loop, producer());
  loop.run();
  p.cancel();
  loop.run();
  REQUIRE(p.cancelled());
  REQUIRE(queue.try_get() == 3);
  REQUIRE_FALSE(queue.try_get().has_value());
}
