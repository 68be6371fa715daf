// Cancellation: of tasks (where it is delivered, what it cancels, shield),
// and tokens and sources outside coroutines.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/cancel/cancellation.h"
#include "core/executor/run_in_executor.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/task/task.h"
#include "tests/core/manual_loop.h"
#include "tests/core/counted.h"

using namespace std::chrono_literals;

namespace {

using Manual = weft_test::ManualLoop;

// Runs what is ready without waiting (run() would wait for a future that is
// still pending).
void drain(weft::Loop& loop) {
  while (loop.poll() > 0) {
  }
}

}  // namespace

TEST_CASE("a sleeping task sees Cancelled at once and its handle ends cancelled", "[cancel]") {
  Manual m;
  std::vector<std::string> log;
  weft_test::Counts counts;
  auto body = [&]() -> weft::Task<int> {
    weft_test::Counted guard(counts);  // RAII cleanup runs
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      log.push_back("cleanup");
      throw;
    }
    co_return 1;
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  REQUIRE(h.status() == weft::TaskStatus::waiting);
  REQUIRE(h.cancel());
  REQUIRE(h.cancelling() == 1);
  m.loop.run();  // no clock advance needed
  REQUIRE(log == std::vector<std::string>{"cleanup"});
  REQUIRE(h.cancelled());
  REQUIRE(h.result().is_cancelled());
  REQUIRE_THROWS_AS(h.get(), weft::Cancelled);
  REQUIRE(counts.alive() == 0);
  REQUIRE_FALSE(h.cancel());  // finished
  REQUIRE(m.loop.stats().timers_pending == 0);
}

TEST_CASE("a task cancelled before it started never runs its body", "[cancel]") {
  weft::Loop loop;
  bool ran = false;
  auto body = [&]() -> weft::Task<void> {
    ran = true;
    co_return;
  };
  auto h = weft::spawn(loop, body());
  REQUIRE(h.cancel());
  loop.run();
  REQUIRE_FALSE(ran);
  REQUIRE(h.cancelled());
}

TEST_CASE("a task that handles Cancelled finishes with its own value", "[cancel]") {
  Manual m;
  auto body = []() -> weft::Task<std::string> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      co_return "handled";
    }
    co_return "slept";
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  h.cancel();
  m.loop.run();
  REQUIRE_FALSE(h.cancelled());
  REQUIRE(h.get() == "handled");
}

TEST_CASE("a cancelled task may await during its cleanup", "[cancel]") {
  Manual m;
  std::vector<std::string> log;
  auto body = [&]() -> weft::Task<void> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      log.push_back("cancelled");
    }
    co_await weft::sleep(10ms);  // the request was delivered: this sleep is not interrupted
    log.push_back("cleaned up");
  };
  auto h = weft::spawn(m.loop, body());
  m.loop.run();
  h.cancel();
  m.loop.run();
  REQUIRE(log == std::vector<std::string>{"cancelled"});
  m.clock.advance(10ms);
  m.loop.run();
  REQUIRE(log == std::vector<std::string>{"cancelled", "cleaned up"});
  REQUIRE(h.done());
  REQUIRE_FALSE(h.cancelled());
}

TEST_CASE("a task that cancels itself sees Cancelled at its next suspension point", "[cancel]") {
  weft::Loop loop;
  std::vector<std::string> log;
  auto body = [&]() -> weft::Task<void> {
    weft::TaskRef me = co_await weft::this_task::handle();
    me.cancel();
    log.push_back("still running");
    co_await weft::yield();
    log.push_back("not reached");
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(log == std::vector<std::string>{"still running"});
  REQUIRE(h.cancelled());
}

TEST_CASE("cancelling a task cancels the future it awaits", "[cancel][future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  auto body = [&, f = std::move(future)]() mutable -> weft::Task<int> { co_return co_await std::move(f); };
  auto h = weft::spawn(loop, body());
  loop.run_once();  // the task now waits on the future
  REQUIRE(h.info().awaiting == "future");
  h.cancel();
  loop.run();
  REQUIRE(promise.cancelled());  // owned by the await: cancelled with it
  REQUIRE(h.cancelled());
  REQUIRE_FALSE(promise.set_value(1));
}

TEST_CASE("a value that arrived first wins over a later cancellation", "[cancel][future]") {
  weft::Loop loop;
  auto [promise, future] = weft::make_promise<int>();
  std::vector<std::string> log;
  auto body = [&, f = std::move(future)]() mutable -> weft::Task<void> {
    int v = co_await std::move(f);
    log.push_back("got " + std::to_string(v));
    try {
      co_await weft::yield();
    } catch (const weft::Cancelled&) {
      log.push_back("cancelled at the next await");
    }
  };
  auto h = weft::spawn(loop, body());
  loop.run_once();
  promise.set_value(5);  // the continuation is queued...
  h.cancel();            // ...before the cancellation arrives
  loop.run();
  REQUIRE(log == std::vector<std::string>{"got 5", "cancelled at the next await"});
}

TEST_CASE("awaiting a handle: a copy is not cancelled with the waiter, a moved one is", "[cancel]") {
  Manual m;
  auto sleeper = []() -> weft::Task<int> {
    co_await weft::sleep(1s);
    co_return 7;
  };
  auto shared = weft::spawn(m.loop, sleeper());
  auto owned = weft::spawn(m.loop, sleeper());
  auto wait_shared = [&]() -> weft::Task<int> { co_return co_await shared; };
  auto wait_owned = [&]() -> weft::Task<int> { co_return co_await weft::TaskHandle<int>(owned); };
  auto w1 = weft::spawn(m.loop, wait_shared());
  auto w2 = weft::spawn(m.loop, wait_owned());
  m.loop.run();
  w1.cancel();
  w2.cancel();
  m.loop.run();
  REQUIRE(w1.cancelled());
  REQUIRE_FALSE(shared.done());  // still sleeping
  REQUIRE(w2.cancelled());
  REQUIRE(owned.cancelled());    // cancelled and waited for
  m.clock.advance(1s);
  m.loop.run();
  REQUIRE(shared.get() == 7);
}

TEST_CASE("shield keeps the awaited operation going when the waiter is cancelled", "[cancel][shield]") {
  Manual m;
  auto [promise, future] = weft::make_promise<int>();
  bool inner_finished = false;
  auto inner = [&]() -> weft::Task<int> {
    co_await weft::sleep(1s);
    inner_finished = true;
    co_return 3;
  };
  weft::TaskHandle<int> inner_handle;
  auto body = [&, f = std::move(future)]() mutable -> weft::Task<void> {
    try {
      co_await weft::shield(std::move(f));
    } catch (const weft::Cancelled&) {
    }
    inner_handle = weft::spawn(inner());
    co_await weft::shield(inner_handle);
  };
  auto h = weft::spawn(m.loop, body());
  drain(m.loop);
  h.cancel();  // interrupts the shielded future wait
  drain(m.loop);
  REQUIRE_FALSE(promise.cancelled());
  REQUIRE(promise.set_value(1));  // still wanted by nobody, but not cancelled
  REQUIRE(inner_handle.valid());
  h.cancel();  // interrupts the shielded task wait
  m.loop.run();
  REQUIRE(h.cancelled());
  REQUIRE_FALSE(inner_handle.done());
  m.clock.advance(1s);
  m.loop.run();
  REQUIRE(inner_finished);
  REQUIRE(inner_handle.get() == 3);
}

TEST_CASE("uncancel withdraws a request that was not delivered yet", "[cancel]") {
  weft::Loop loop;
  std::vector<std::string> log;
  auto body = [&]() -> weft::Task<void> {
    weft::TaskRef me = co_await weft::this_task::handle();
    me.cancel();
    me.cancel();
    REQUIRE(me.cancelling() == 2);
    REQUIRE(me.uncancel() == 1);
    REQUIRE(me.uncancel() == 0);
    co_await weft::yield();  // nothing pending any more
    log.push_back("went on");
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(log == std::vector<std::string>{"went on"});
  REQUIRE(h.done());
}

TEST_CASE("a token cancels without a loop and runs callbacks once", "[cancel][token]") {
  weft::CancellationSource source;
  weft::CancellationToken token = source.token();
  REQUIRE(token.can_be_cancelled());
  REQUIRE_FALSE(weft::CancellationToken().can_be_cancelled());
  int calls = 0;
  auto registration = token.on_cancel([&] { ++calls; });
  {
    auto gone = token.on_cancel([&] { calls += 100; });
  }  // unregistered
  REQUIRE_FALSE(token.cancelled());
  REQUIRE(source.cancel());
  REQUIRE_FALSE(source.cancel());
  REQUIRE(token.cancelled());
  REQUIRE(calls == 1);
  REQUIRE_THROWS_AS(token.throw_if_cancelled(), weft::Cancelled);
  auto late = token.on_cancel([&] { calls += 10; });  // runs at once
  REQUIRE(calls == 11);
}

TEST_CASE("a pool job polls the token of the task that started it", "[cancel][token]") {
  weft::Loop loop;
  weft::ThreadPool pool(1);
  std::atomic<bool> job_started{false};
  std::atomic<bool> job_saw_cancel{false};
  auto body = [&]() -> weft::Task<void> {
    auto token = co_await weft::this_task::cancellation_token();
    // Bound to a local first: gcc 12 destroys a capturing lambda written
    // inside a co_await expression twice (see docs/cpp-guide.md, "Known compiler bugs").
    auto job = [&, token] {
      job_started = true;
      while (!token.cancelled()) std::this_thread::yield();
      job_saw_cancel = true;
    };
    co_await weft::run_in_executor(loop, pool, std::move(job));
  };
  auto h = weft::spawn(loop, body());
  loop.call_soon([&] {
    // Cancel once the job runs (from a callback polling for it).
    struct Poll {
      std::atomic<bool>* started;
      weft::TaskHandle<void>* h;
      weft::Loop* loop;
      void operator()() const {
        if (started->load()) {
          h->cancel();
        } else {
          loop->call_later(1ms, *this);
        }
      }
    };
    Poll{&job_started, &h, &loop}();
  });
  loop.run();
  pool.shutdown();
  REQUIRE(job_saw_cancel);
  REQUIRE(h.cancelled());
}

TEST_CASE("a source outside the loop cancels a task spawned with its token", "[cancel][token]") {
  weft::Loop loop;
  weft::CancellationSource stop;
  auto body = []() -> weft::Task<void> { co_await weft::sleep(1h); };
  auto h = weft::spawn(loop, body(), {.name = "stoppable", .token = stop.token()});
  std::thread other([&] {
    std::this_thread::sleep_for(5ms);
    stop.cancel();  // posted to the loop
  });
  loop.run();  // the sleep keeps it running until the cancellation arrives
  other.join();
  REQUIRE(h.cancelled());
  REQUIRE(h.name() == "stoppable");
}

TEST_CASE("an already cancelled token cancels the task before it starts", "[cancel][token]") {
  weft::Loop loop;
  weft::CancellationSource stop;
  stop.cancel();
  bool ran = false;
  auto body = [&]() -> weft::Task<void> {
    ran = true;
    co_return;
  };
  auto h = weft::spawn(loop, body(), {.name = "", .token = stop.token()});
  loop.run();
  REQUIRE_FALSE(ran);
  REQUIRE(h.cancelled());
}

TEST_CASE("cancellation reaches the innermost await of a child coroutine", "[cancel]") {
  Manual m;
  std::vector<std::string> log;
  auto grandchild = [&]() -> weft::Task<int> {
    try {
      co_await weft::sleep(1h);
    } catch (const weft::Cancelled&) {
      log.push_back("grandchild");
      throw;
    }
    co_return 1;
  };
  auto child = [&]() -> weft::Task<int> {
    try {
      co_return co_await grandchild();
    } catch (const weft::Cancelled&) {
      log.push_back("child");
      throw;
    }
  };
  auto parent = [&]() -> weft::Task<int> { co_return co_await child(); };
  auto h = weft::spawn(m.loop, parent());
  m.loop.run();
  REQUIRE(h.info().awaiting.find("sleep") == 0);
  h.cancel();
  m.loop.run();
  REQUIRE(log == std::vector<std::string>{"grandchild", "child"});
  REQUIRE(h.cancelled());
}

TEST_CASE("a cancellation that arrives while a yield's resume is queued is thrown by that yield", "[cancel]") {
  weft::Loop loop;
  std::vector<std::string> log;
  // Queues a cancellation of the running task: it runs after the task has
  // suspended at the yield that follows, before the yield's resume.
  auto cancel_soon = [&loop](weft::TaskRef me, bool withdraw) {
    loop.call_soon([me, withdraw]() mutable {
      me.cancel();
      if (withdraw) me.uncancel();
    });
  };
  auto child = [&]() -> weft::Task<int> {
    cancel_soon(co_await weft::this_task::handle(), false);
    try {
      co_await weft::yield();
    } catch (const weft::Cancelled&) {
      log.push_back("child: cancelled at its yield");
      throw;
    }
    co_return 1;
  };
  auto body = [&]() -> weft::Task<void> {
    weft::TaskRef me = co_await weft::this_task::handle();
    cancel_soon(me, false);
    try {
      co_await weft::yield();
      log.push_back("root: not cancelled");
    } catch (const weft::Cancelled&) {
      log.push_back("root: cancelled at its yield");
      me.uncancel();  // none left, so a withdrawn request below clears the pending one
    }
    REQUIRE(me.status() == weft::TaskStatus::running);
    co_await weft::yield();  // the request was delivered: nothing pending
    log.push_back("root: next yield passed");
    cancel_soon(me, true);
    co_await weft::yield();  // withdrawn before the resume: not thrown
    log.push_back("root: withdrawn request not thrown");
    try {
      co_await child();
    } catch (const weft::Cancelled&) {
      log.push_back("root: the child's Cancelled reached it");
    }
  };
  auto h = weft::spawn(loop, body());
  loop.run();
  REQUIRE(h.done());
  REQUIRE_FALSE(h.cancelled());
  REQUIRE(log == std::vector<std::string>{"root: cancelled at its yield", "root: next yield passed",
                                          "root: withdrawn request not thrown",
                                          "child: cancelled at its yield",
                                          "root: the child's Cancelled reached it"});
}

TEST_CASE("a yielding task is running, not waiting, and one cancelled at the yield ends cancelled",
          "[cancel]") {
  weft::Loop loop;
  bool after_yield = false;
  auto body = [&]() -> weft::Task<int> {
    co_await weft::yield();
    after_yield = true;
    co_return 1;
  };
  auto h = weft::spawn(loop, body());
  auto other = weft::spawn(loop, body());
  loop.call_soon([&] {
    // Both tasks have yielded: their resumes are queued after this callback.
    REQUIRE(h.status() == weft::TaskStatus::running);
    REQUIRE(h.info().awaiting.empty());
    REQUIRE(h.cancel());
  });
  loop.run();
  REQUIRE(h.cancelled());
  REQUIRE(other.get() == 1);  // a cancellation is delivered to its own task only
  REQUIRE(after_yield);
}

TEST_CASE("closing a loop drops a yield's queued resume and destroys the task and its child",
          "[cancel][close]") {
  weft_test::Counts counts;
  std::vector<weft::ExceptionContext::Kind> reported;
  {
    weft::Loop loop;
    loop.set_exception_handler([&](const weft::ExceptionContext& c) { reported.push_back(c.kind); });
    // Ignores its cancellation and yields forever: close() gives up on it.
    auto child = [&]() -> weft::Task<int> {
      weft_test::Counted held(counts);
      loop.stop();  // run() returns once this child has yielded
      for (;;) {
        try {
          co_await weft::yield();
        } catch (const weft::Cancelled&) {
        }
      }
    };
    auto body = [&]() -> weft::Task<int> {
      weft_test::Counted held(counts);
      co_await weft::yield();
      co_return co_await child();
    };
    auto h = weft::spawn(loop, body());
    loop.run();
    REQUIRE(counts.alive() == 2);
    const weft::CloseReport report = loop.close();
    REQUIRE(report.tasks_cancelled == 1);
    REQUIRE(report.callbacks_dropped == 1);  // the child's resume
    REQUIRE(report.tasks_destroyed == 1);
    REQUIRE(h.cancelled());
    REQUIRE(counts.alive() == 0);
  }
  REQUIRE(reported == std::vector{weft::ExceptionContext::Kind::dropped_callbacks,
                                  weft::ExceptionContext::Kind::task_destroyed});
}
