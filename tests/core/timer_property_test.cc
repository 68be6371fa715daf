// The timer properties on the manual clock, over many random timers: each
// timer that is not cancelled fires exactly once, never before its deadline
// and never after the pass that reached it; timers fire in deadline order,
// and timers with equal deadlines in the order they were armed. Timers are
// armed at random moments (so deadlines tie often) and some are cancelled;
// the clock moves in random steps, from nothing to past many deadlines.
//
// WEFT_TIMER_PROPERTY_COUNT sets how many timers (default 20,000: the
// timer_property_test target); timer_property_million_test (manual) runs
// 1,000,000. Single-threaded: the test's thread is the loop's.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/clock/clock.h"
#include "core/loop/loop.h"
#include "tests/core/manual_loop.h"

using namespace std::chrono_literals;
using weft_test::ManualLoop;

namespace {

size_t timer_count() {
  const char* text = std::getenv("WEFT_TIMER_PROPERTY_COUNT");
  if (text == nullptr || *text == '\0') return 20000;
  const long n = std::strtol(text, nullptr, 10);
  return n > 0 && n <= 10000000 ? static_cast<size_t>(n) : 20000;
}

struct Armed {
  weft::TimePoint deadline;
  weft::TimerHandle handle;
  bool cancelled = false;
  int fired = 0;
};

}  // namespace

TEST_CASE("random timers on random clock steps fire once, on time, in deadline then arming order",
          "[timer][property]") {
  const size_t n = timer_count();
  ManualLoop m;
  std::mt19937_64 random(20261203);
  std::vector<Armed> timers(n);
  size_t last = SIZE_MAX;    // the timer that fired last
  size_t fired = 0;          // timers fired so far
  size_t early = 0, late = 0, out_of_order = 0, twice = 0;
  weft::TimePoint now_at_pass;

  auto fire = [&](size_t i) {
    Armed& t = timers[i];
    if (++t.fired > 1) ++twice;
    ++fired;
    if (m.clock.now() < t.deadline) ++early;
    if (t.deadline > now_at_pass) ++early;
    // Deadline order; ties in arming order (index order: armed in order).
    if (last != SIZE_MAX) {
      const Armed& before = timers[last];
      if (t.deadline < before.deadline || (t.deadline == before.deadline && i < last)) ++out_of_order;
    }
    last = i;
  };

  // Arms the timers in random batches between random clock steps; delays
  // are whole milliseconds in a small range, so deadlines tie often.
  size_t armed = 0;
  auto pass = [&] {
    now_at_pass = m.clock.now();
    m.loop.run();
    // Not late: every timer due by now, and not cancelled, has fired.
    // (Checked on a sample each pass, and on all at the end.)
    for (int k = 0; k < 64 && armed > 0; ++k) {
      const Armed& t = timers[random() % armed];
      if (!t.cancelled && t.deadline <= now_at_pass && t.fired == 0) ++late;
    }
  };
  while (armed < n) {
    const size_t batch = std::min<size_t>(n - armed, 1 + random() % 2000);
    for (size_t b = 0; b < batch; ++b, ++armed) {
      const size_t i = armed;
      const auto delay = std::chrono::milliseconds(random() % 500);
      timers[i].deadline = m.clock.now() + delay;
      timers[i].handle = m.loop.call_later(delay, [&fire, i] { fire(i); });
    }
    // Cancel a few armed timers (pending ones stop; fired ones refuse).
    for (int c = 0; c < 20; ++c) {
      Armed& t = timers[random() % armed];
      if (t.handle.cancel()) t.cancelled = true;
    }
    // A random step: often nothing, often a little, sometimes far.
    switch (random() % 4) {
      case 0: break;
      case 1: m.clock.advance(std::chrono::milliseconds(random() % 3)); break;
      case 2: m.clock.advance(std::chrono::milliseconds(random() % 50)); break;
      default: m.clock.advance(std::chrono::milliseconds(random() % 1000)); break;
    }
    pass();
  }
  // Past every deadline (at most 500 ms away), in random steps.
  const weft::TimePoint end = m.clock.now() + 500ms;
  while (m.clock.now() <= end) {
    m.clock.advance(std::chrono::milliseconds(1 + random() % 100));
    pass();
  }
  m.clock.advance(1s);
  pass();

  size_t cancelled = 0, missing = 0;
  for (const Armed& t : timers) {
    if (t.cancelled) {
      ++cancelled;
      if (t.fired != 0) ++twice;  // a cancelled timer must never fire
    } else if (t.fired != 1) {
      ++missing;
    }
  }
  INFO(n << " timers, " << cancelled << " cancelled, " << fired << " fired");
  CHECK(cancelled > 0);
  CHECK(missing == 0);
  CHECK(twice == 0);
  CHECK(early == 0);
  CHECK(late == 0);
  CHECK(out_of_order == 0);
  CHECK(fired + cancelled == n);
}
