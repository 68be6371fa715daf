// detail::SpinGovernor: the spin limit halves on spins that found nothing,
// comes back through probes after short sleeps, backs off when probes keep
// failing, the ceiling follows the wake-up latency within its range, and
// SpinPolicy::off never spins. Pure logic: no threads, no clock.
#include <catch2/catch.hpp>

#include "core/detail/spin_governor.h"

using namespace std::chrono_literals;
using weft::Duration;
using weft::SpinPolicy;
using weft::detail::SpinGovernor;

namespace {

// Spins in vain until the limit is 0.
void stop_spinning(SpinGovernor& governor) {
  for (int i = 0; i < 10 && governor.limit() > Duration::zero(); ++i) governor.spun_in_vain();
  REQUIRE(governor.limit() == Duration::zero());
}

}  // namespace

TEST_CASE("the limit starts at the ceiling and halves to nothing on empty spins", "[spin]") {
  SpinGovernor governor(SpinPolicy::adaptive, 20us);
  REQUIRE(governor.enabled());
  REQUIRE(governor.limit() == 20us);
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 10us);
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 5us);
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 2500ns);
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 1250ns);
  governor.spun_in_vain();  // 625 ns is below the floor
  REQUIRE(governor.limit() == Duration::zero());
  // Long sleeps after that never bring it back.
  for (int i = 0; i < 100; ++i) {
    governor.slept_until_work(2ms);
    governor.slept_without_work(1s);
  }
  REQUIRE(governor.limit() == Duration::zero());
}

TEST_CASE("a spin that finds work keeps the limit at the ceiling", "[spin]") {
  SpinGovernor governor(SpinPolicy::adaptive, 20us);
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 10us);
  governor.spun_and_found(3us);
  REQUIRE(governor.limit() == 20us);
  governor.spun_and_found(19us);
  REQUIRE(governor.limit() == 20us);
  // Found, but only after the spinner was off its core past the ceiling.
  governor.spun_and_found(2ms);
  REQUIRE(governor.limit() == 10us);
}

TEST_CASE("a short sleep probes with twice its gap; a probe that finds work grows", "[spin]") {
  SpinGovernor governor(SpinPolicy::adaptive, 20us);
  stop_spinning(governor);
  REQUIRE(governor.backoff() == 1);
  governor.slept_until_work(3us);
  REQUIRE(governor.limit() == 6us);
  governor.spun_and_found(2us);
  REQUIRE(governor.limit() == 12us);
  governor.spun_and_found(2us);
  REQUIRE(governor.limit() == 20us);
  // Confirmed now: one empty spin halves it instead of ending it.
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 10us);
  // A tiny gap still probes with at least the floor; one at the ceiling
  // still counts as short.
  stop_spinning(governor);
  governor.slept_until_work(10ns);
  REQUIRE(governor.limit() == SpinGovernor::kFloor);
  governor.spun_and_found(10ns);
  stop_spinning(governor);
  governor.slept_until_work(20us);
  REQUIRE(governor.limit() == 20us);
}

TEST_CASE("probes that find nothing back off up to the maximum", "[spin]") {
  // The sender runs only once the spinner stops: every probe spins in vain,
  // and the work comes just after it.
  SpinGovernor governor(SpinPolicy::adaptive, 20us);
  stop_spinning(governor);
  std::uint32_t expected_backoff = 1;
  int probes = 0;
  for (int wait = 0; wait < 1000; ++wait) {
    if (governor.limit() > Duration::zero()) {
      ++probes;
      governor.spun_in_vain();  // a probe: straight back to 0
      REQUIRE(governor.limit() == Duration::zero());
      expected_backoff = std::min<std::uint32_t>(expected_backoff * 2, SpinGovernor::kMaxBackoff);
      REQUIRE(governor.backoff() == expected_backoff);
    } else {
      governor.slept_until_work(4us);
    }
  }
  // 1, 2, 4, ..., 64 short sleeps between probes: few probes in 1000 waits.
  INFO("probes " << probes);
  REQUIRE(probes >= 10);
  REQUIRE(probes <= 25);
  // A long sleep breaks a row of short ones.
  const std::uint32_t backoff = governor.backoff();
  REQUIRE(backoff == SpinGovernor::kMaxBackoff);
  governor.slept_without_work(1ms);  // a fresh row
  for (std::uint32_t i = 0; i + 1 < backoff; ++i) governor.slept_until_work(4us);
  governor.slept_without_work(1ms);
  governor.slept_until_work(4us);
  REQUIRE(governor.limit() == Duration::zero());
  // A probe that finds work resets the backoff.
  for (std::uint32_t i = 0; i < backoff; ++i) governor.slept_until_work(4us);
  REQUIRE(governor.limit() == 8us);
  governor.spun_and_found(1us);
  REQUIRE(governor.backoff() == 1);
  REQUIRE(governor.limit() == 16us);
}

TEST_CASE("a short wait that nothing ended says nothing", "[spin]") {
  SpinGovernor governor(SpinPolicy::adaptive, 20us);
  stop_spinning(governor);
  governor.slept_without_work(5us);
  governor.slept_without_work(20us);
  REQUIRE(governor.limit() == Duration::zero());
  governor.slept_until_work(5us);
  REQUIRE(governor.limit() == 10us);
}

TEST_CASE("SpinPolicy::off never spins, whatever the waits say", "[spin]") {
  SpinGovernor governor(SpinPolicy::off, 20us);
  REQUIRE_FALSE(governor.enabled());
  REQUIRE(governor.limit() == Duration::zero());
  governor.slept_until_work(1us);
  governor.spun_and_found(1us);
  governor.slept_until_work(1us);
  REQUIRE(governor.limit() == Duration::zero());
}

TEST_CASE("the ceiling follows twice the wake-up latency within its range", "[spin]") {
  SpinGovernor governor(SpinPolicy::adaptive, 20us, 100us);
  REQUIRE(governor.ceiling() == 20us);
  REQUIRE(governor.wake_latency() == Duration::zero());
  // Fast wake-ups keep the base ceiling.
  governor.woke_after(4us);
  REQUIRE(governor.wake_latency() == 4us);
  REQUIRE(governor.ceiling() == 20us);
  // Slow ones move the average an eighth of the way each: from 4 us towards
  // 36 us, the ceiling twice the average once that passes 10 us.
  for (int i = 0; i < 100; ++i) governor.woke_after(36us);
  REQUIRE(governor.wake_latency() > 35us);
  REQUIRE(governor.wake_latency() <= 36us);
  REQUIRE(governor.ceiling() == 2 * governor.wake_latency());
  // Spins that find work early double the limit only up to the base.
  governor.spun_in_vain();
  REQUIRE(governor.limit() == 10us);
  governor.spun_and_found(1us);
  REQUIRE(governor.limit() == 20us);
  governor.spun_and_found(1us);
  REQUIRE(governor.limit() == 20us);
  // A gap of 30 us is now short: the limit grows to twice the gaps seen,
  // keeps that length for earlier posts, and stops at the ceiling.
  governor.spun_and_found(30us);
  REQUIRE(governor.limit() == 60us);
  governor.spun_and_found(2us);
  REQUIRE(governor.limit() == 60us);
  governor.spun_and_found(40us);
  REQUIRE(governor.limit() == governor.ceiling());
  // A sample longer than half the top counts as that much (a preempted
  // loop thread): the ceiling never passes the top of the range.
  for (int i = 0; i < 100; ++i) governor.woke_after(5ms);
  REQUIRE(governor.wake_latency() > 49us);
  REQUIRE(governor.wake_latency() <= 50us);
  REQUIRE(governor.ceiling() > 98us);
  REQUIRE(governor.ceiling() <= 100us);
  // Fast again: the ceiling comes down to its base, and the limit with it.
  governor.spun_and_found(45us);
  REQUIRE(governor.limit() == 90us);
  for (int i = 0; i < 100; ++i) governor.woke_after(1us);
  REQUIRE(governor.ceiling() == 20us);
  REQUIRE(governor.limit() == 20us);
  // A gap beyond it is no longer short.
  stop_spinning(governor);
  governor.slept_until_work(30us);
  REQUIRE(governor.limit() == Duration::zero());
}

TEST_CASE("without a range, or spinning off, wake-ups change nothing", "[spin]") {
  SpinGovernor fixed(SpinPolicy::adaptive, 20us);
  for (int i = 0; i < 100; ++i) fixed.woke_after(50us);
  REQUIRE(fixed.ceiling() == 20us);
  REQUIRE(fixed.wake_latency() == Duration::zero());
  SpinGovernor off(SpinPolicy::off, 20us, 100us);
  for (int i = 0; i < 100; ++i) off.woke_after(50us);
  REQUIRE(off.limit() == Duration::zero());
  REQUIRE(off.wake_latency() == Duration::zero());
}
