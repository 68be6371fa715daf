// gather, wait, when_any and as_completed (manual clock).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/generator/as_completed.h"
#include "core/result.h"
#include "core/task/combinators.h"
#include "core/task/task.h"
#include "tests/core/manual_loop.h"

using namespace std::chrono_literals;

namespace {

using Manual = weft_test::ManualLoop;

weft::Task<int> after(weft::Duration d, int value) {
  co_await weft::sleep(d);
  co_return value;
}

weft::Task<int> fail_after(weft::Duration d, std::string what) {
  co_await weft::sleep(d);
  throw std::runtime_error(what);
}

}  // namespace

TEST_CASE("gather returns values in the order given, not the order they finish", "[gather]") {
  Manual m;
  auto body = []() -> weft::Task<std::vector<int>> {
    std::vector<weft::TaskHandle<int>> handles;
    handles.push_back(weft::spawn(after(30ms, 1)));
    handles.push_back(weft::spawn(after(10ms, 2)));
    handles.push_back(weft::spawn(after(20ms, 3)));
    co_return co_await weft::gather(std::move(handles));
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(40ms);
  REQUIRE(h.get() == std::vector<int>{1, 2, 3});
}

TEST_CASE("gather of several tasks of different types gives a tuple", "[gather]") {
  Manual m;
  auto text = []() -> weft::Task<std::string> {
    co_await weft::sleep(5ms);
    co_return "five";
  };
  auto nothing = []() -> weft::Task<void> { co_await weft::sleep(1ms); };
  auto body = [&]() -> weft::Task<std::string> {
    auto [n, s, v] = co_await weft::gather(after(2ms, 2), text(), nothing());
    (void)v;  // std::monostate for the void task
    co_return s + std::to_string(n);
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(10ms);
  REQUIRE(h.get() == "five2");
}

TEST_CASE("gather cancels the others on the first failure and throws it", "[gather]") {
  Manual m;
  std::vector<weft::TaskHandle<int>> handles;
  auto body = [&]() -> weft::Task<std::string> {
    handles.push_back(weft::spawn(after(1h, 1), "slow"));
    handles.push_back(weft::spawn(fail_after(5ms, "first"), "failing"));
    handles.push_back(weft::spawn(fail_after(8ms, "second"), "later"));
    try {
      co_await weft::gather(handles);
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(6ms);
  REQUIRE(h.get() == "first");
  REQUIRE(handles[0].cancelled());
  REQUIRE(handles[2].cancelled());  // cancelled before it could fail
}

TEST_CASE("gather with return_exceptions collects every outcome in place", "[gather]") {
  Manual m;
  std::vector<weft::TaskHandle<int>> handles;
  auto body = [&]() -> weft::Task<std::vector<weft::Result<int>>> {
    handles.push_back(weft::spawn(after(3ms, 1)));
    handles.push_back(weft::spawn(fail_after(1ms, "bad")));
    handles.push_back(weft::spawn(after(1h, 3)));
    handles.back().cancel();
    co_return co_await weft::gather(handles, weft::return_exceptions);
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(5ms);
  auto results = h.get();
  REQUIRE(results.size() == 3);
  REQUIRE(results[0].value() == 1);
  REQUIRE(results[1].has_exception());
  REQUIRE_THROWS_WITH(results[1].value(), "bad");
  REQUIRE(results[2].is_cancelled());

  auto tuple_body = []() -> weft::Task<bool> {
    auto [a, b] = co_await weft::gather(weft::return_exceptions, after(1ms, 4), fail_after(1ms, "x"));
    co_return a.value() == 4 && b.has_exception();
  };
  auto h2 = weft::spawn(m.loop, tuple_body());
  m.advance(2ms);
  REQUIRE(h2.get());
}

TEST_CASE("cancelling a gather cancels every task and waits for them", "[gather]") {
  Manual m;
  std::vector<weft::TaskHandle<int>> handles;
  int cleanups = 0;
  auto child = [&]() -> weft::Task<int> {
    bool cancelled = false;
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      cancelled = true;
    }
    if (cancelled) {
      co_await weft::sleep(2ms);
      ++cleanups;
      throw weft::Cancelled();
    }
    co_return 0;
  };
  auto body = [&]() -> weft::Task<void> {
    for (int i = 0; i < 3; ++i) handles.push_back(weft::spawn(child()));
    co_await weft::gather(handles);
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  h.cancel();
  m.loop.run();
  REQUIRE_FALSE(h.done());  // waits for the children's cleanup
  m.advance(3ms);
  REQUIRE(h.cancelled());
  REQUIRE(cleanups == 3);
  for (auto& c : handles) REQUIRE(c.cancelled());
}

TEST_CASE("gather of a vector of Tasks spawns them", "[gather]") {
  Manual m;
  auto body = []() -> weft::Task<int> {
    std::vector<weft::Task<int>> tasks;
    for (int i = 1; i <= 4; ++i) tasks.push_back(after(std::chrono::milliseconds(i), i));
    auto values = co_await weft::gather(std::move(tasks));
    int sum = 0;
    for (int v : values) sum += v;
    co_return sum;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(5ms);
  REQUIRE(h.get() == 10);
}

TEST_CASE("wait returns done and pending for each condition", "[wait]") {
  Manual m;
  std::vector<weft::TaskHandle<int>> handles;
  auto body = [&]() -> weft::Task<std::vector<std::size_t>> {
    handles.push_back(weft::spawn(after(10ms, 1)));
    handles.push_back(weft::spawn(fail_after(20ms, "boom")));
    handles.push_back(weft::spawn(after(30ms, 3)));
    std::vector<std::size_t> sizes;
    auto first = co_await weft::wait(handles, weft::ReturnWhen::first_completed);
    sizes.push_back(first.done.size());
    auto failure = co_await weft::wait(handles, weft::ReturnWhen::first_exception);
    sizes.push_back(failure.done.size());
    REQUIRE(failure.done.back().failed());
    auto timed = co_await weft::wait(handles, weft::ReturnWhen::all_completed, 1ms);
    sizes.push_back(timed.pending.size());
    auto all = co_await weft::wait(handles);
    sizes.push_back(all.done.size());
    REQUIRE(handles[1].exception());  // retrieve it (else it would be reported)
    co_return sizes;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(40ms);
  REQUIRE(h.get() == std::vector<std::size_t>{1, 2, 1, 3});
  REQUIRE(handles[2].get() == 3);  // wait never cancels
}

TEST_CASE("a cancelled wait stops waiting and leaves the tasks alone", "[wait]") {
  Manual m;
  auto child = weft::spawn(m.loop, after(10ms, 5));
  auto body = [&]() -> weft::Task<void> {
    std::vector<weft::TaskRef> set{child};  // (gcc 12 rejects a braced list inside co_await)
    co_await weft::wait(std::move(set));
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  h.cancel();
  m.loop.run();
  REQUIRE(h.cancelled());
  REQUIRE_FALSE(child.done());
  m.advance(10ms);
  REQUIRE(child.get() == 5);
}

TEST_CASE("when_any gives the index of the first task to finish", "[wait]") {
  Manual m;
  std::vector<weft::TaskHandle<int>> handles;
  auto body = [&]() -> weft::Task<std::size_t> {
    handles.push_back(weft::spawn(after(30ms, 0)));
    handles.push_back(weft::spawn(after(10ms, 1)));
    handles.push_back(weft::spawn(after(20ms, 2)));
    co_return co_await weft::when_any(handles);
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(15ms);
  REQUIRE(h.get() == 1);
  REQUIRE_FALSE(handles[0].done());
  m.advance(20ms);
}

TEST_CASE("as_completed yields the tasks in the order they finish", "[as_completed][generator]") {
  Manual m;
  auto body = []() -> weft::Task<std::vector<int>> {
    std::vector<weft::TaskHandle<int>> handles;
    handles.push_back(weft::spawn(after(30ms, 30)));
    handles.push_back(weft::spawn(after(10ms, 10)));
    handles.push_back(weft::spawn(after(20ms, 20)));
    std::vector<int> order;
    auto finished = weft::as_completed(std::move(handles));
    while (auto h = co_await finished.next()) order.push_back(co_await *h);
    co_return order;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(40ms);
  REQUIRE(h.get() == std::vector<int>{10, 20, 30});
}

TEST_CASE("as_completed throws TimedOut once its timeout passes", "[as_completed][generator]") {
  Manual m;
  std::vector<weft::TaskHandle<int>> handles;
  auto body = [&]() -> weft::Task<std::string> {
    handles.push_back(weft::spawn(after(5ms, 5)));
    handles.push_back(weft::spawn(after(1h, 0)));
    auto finished = weft::as_completed(handles, 10ms);
    std::string seen;
    try {
      while (auto h = co_await finished.next()) seen += std::to_string(h->get()) + " ";
    } catch (const weft::TimedOut&) {
      seen += "timed out";
    }
    co_return seen;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(12ms);
  REQUIRE(h.get() == "5 timed out");
  REQUIRE_FALSE(handles[1].done());  // not cancelled
  handles[1].cancel();
  m.loop.run();
}

TEST_CASE("a task in two gathers at once, or twice in one, tells every gather", "[gather]") {
  Manual m;
  auto body = []() -> weft::Task<std::vector<int>> {
    auto a = weft::spawn(after(3ms, 1));
    auto b = weft::spawn(after(1ms, 2), "named");  // waited on through its extras
    auto first = weft::spawn(weft::gather(std::vector<weft::TaskHandle<int>>{a, b, a}));
    auto second = weft::spawn(weft::gather(std::vector<weft::TaskHandle<int>>{b, a}));
    std::vector<int> values = co_await first;
    for (int v : co_await second) values.push_back(v);
    co_return values;
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(5ms);
  REQUIRE(h.get() == std::vector<int>{1, 2, 1, 2, 1});
}

TEST_CASE("a gathered task that makes its cancellation token while waited on still tells the gather",
          "[gather]") {
  Manual m;
  bool token_cancelled = false;
  auto member = [&](int value) -> weft::Task<int> {
    co_await weft::sleep(1ms);  // the gather waits on it by now
    weft::CancellationToken token = co_await weft::this_task::cancellation_token();
    token_cancelled = token.cancelled();
    co_await weft::sleep(1ms);
    co_return value;
  };
  auto body = [&]() -> weft::Task<int> {
    std::vector<weft::TaskHandle<int>> handles;
    handles.push_back(weft::spawn(member(5)));
    handles.push_back(weft::spawn(after(1ms, 6)));
    auto values = co_await weft::gather(std::move(handles));
    co_return values[0] * 10 + values[1];
  };
  auto h = weft::spawn(m.loop, body());
  m.advance(4ms);
  REQUIRE(h.get() == 56);
  REQUIRE_FALSE(token_cancelled);
}

TEST_CASE("a gather destroyed while its members still run leaves them cleanly", "[gather]") {
  // Members that refuse to be cancelled are still pending when close() gives
  // up and destroys every task; whichever goes first, nothing dangles (ASan).
  int destroyed = 0;
  {
    weft::Loop loop;
    auto stubborn = [&]() -> weft::Task<int> {
      struct Count {
        int* n;
        ~Count() { ++*n; }
      } count{&destroyed};
      for (;;) {
        try {
          co_await weft::sleep(1h);
        } catch (const weft::Cancelled&) {
        }
      }
    };
    auto body = [&]() -> weft::Task<int> {
      std::vector<weft::TaskHandle<int>> handles;
      for (int i = 0; i < 3; ++i) handles.push_back(weft::spawn(stubborn()));
      auto values = co_await weft::gather(std::move(handles));
      co_return static_cast<int>(values.size());
    };
    auto h = weft::spawn(loop, body());
    loop.run_once();
    loop.run_once();
    REQUIRE_FALSE(h.done());
    auto report = loop.close();
    REQUIRE(report.tasks_destroyed >= 3);
    REQUIRE(h.done());
  }
  REQUIRE(destroyed == 3);
}

TEST_CASE("a gather member's word names the gather's span and the member's index", "[gather]") {
  using weft::detail::WaiterSpan;
  static_assert(sizeof(WaiterSpan) == 16 && alignof(WaiterSpan) == 16);
  weft::detail::WaiterArray array;
  WaiterSpan spans[2];
  spans[0].array = &array;
  spans[1].array = &array;
  spans[1].first = WaiterSpan::kMembers;
  std::vector<std::uintptr_t> words;
  for (const WaiterSpan& span : spans) {
    for (std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                               std::size_t{65535}, std::size_t{65536}, WaiterSpan::kMembers - 1}) {
      const std::uintptr_t word = span.word_for(offset);
      REQUIRE(word != 0);
      REQUIRE((word & WaiterSpan::kTag) != 0);  // never taken for an extras pointer
      REQUIRE(&WaiterSpan::of(word) == &span);
      REQUIRE(WaiterSpan::of(word).array == &array);
      REQUIRE(WaiterSpan::index_of(word) == span.first + offset);
      words.push_back(word);
    }
  }
  std::sort(words.begin(), words.end());
  REQUIRE(std::adjacent_find(words.begin(), words.end()) == words.end());
}

TEST_CASE("a gather of more tasks than one span holds gets every value in order", "[gather]") {
  // Members past the first 2^19 are waited on through the second span; each
  // yields once, so the gather waits on every one of them.
  const std::size_t n = weft::detail::WaiterSpan::kMembers + 5;
  weft::Loop loop;
  auto member = [](std::size_t i) -> weft::Task<std::size_t> {
    co_await weft::yield();
    co_return i;
  };
  auto body = [&]() -> weft::Task<std::size_t> {
    std::vector<weft::TaskHandle<std::size_t>> handles;
    handles.reserve(n);
    for (std::size_t i = 0; i < n; ++i) handles.push_back(weft::spawn(member(i)));
    handles.push_back(handles[n - 1]);  // twice: the second waits with a node of its own
    std::vector<std::size_t> values = co_await weft::gather(std::move(handles));
    REQUIRE(values.size() == n + 1);
    std::size_t misplaced = 0;
    for (std::size_t i = 0; i < n; ++i) misplaced += values[i] != i;
    REQUIRE(misplaced == 0);
    co_return values[n];
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.get() == n - 1);
  REQUIRE(loop.stats().tasks_alive == 0);
}
