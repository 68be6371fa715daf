// Deterministic pseudo-random timer delays shared by the weft and libuv timer
// workloads, so both arm exactly the same timers.
//
// splitmix64 from a fixed seed: the same sequence on every run and machine.
// Delays are whole milliseconds because that is libuv's timer resolution.
#pragma once

#include <cstdint>
#include <vector>

namespace bench {

// `count` delays in [min_ms, max_ms] milliseconds, uniformly spread.
std::vector<std::uint64_t> spread_delays_ms(std::uint64_t count, std::uint64_t min_ms,
                                            std::uint64_t max_ms, std::uint64_t seed);

// W3: between 1 s and 60 s.
inline std::vector<std::uint64_t> churn_delays_ms(std::uint64_t count) {
  return spread_delays_ms(count, 1'000, 60'000, 0x5EED'0003);
}

// W4: between 0 and 50 ms.
inline std::vector<std::uint64_t> fire_delays_ms(std::uint64_t count) {
  return spread_delays_ms(count, 0, 50, 0x5EED'0004);
}

}  // namespace bench
