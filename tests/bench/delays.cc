#include "tests/bench/delays.h"

namespace bench {

namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

std::vector<std::uint64_t> spread_delays_ms(std::uint64_t count, std::uint64_t min_ms,
                                            std::uint64_t max_ms, std::uint64_t seed) {
  std::vector<std::uint64_t> delays;
  delays.reserve(count);
  const std::uint64_t span = max_ms - min_ms + 1;
  std::uint64_t state = seed;
  for (std::uint64_t i = 0; i < count; ++i) delays.push_back(min_ms + splitmix64(state) % span);
  return delays;
}

}  // namespace bench
