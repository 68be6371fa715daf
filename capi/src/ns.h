// Nanoseconds, the C API's one time unit, to and from the core's clock types.
// Any thread.
#pragma once

#include <cstdint>

#include "core/clock/clock.h"

namespace weft::capi {

// A C duration (uint64_t nanoseconds) as a core Duration, clamped to what
// the core can add to a time point without overflow.
inline Duration duration_of_ns(std::uint64_t ns) noexcept {
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX / 2);
  return Duration(static_cast<Duration::rep>(ns > kMax ? kMax : ns));
}

// A core time point as C nanoseconds of the loop clock (0 before its epoch).
inline std::uint64_t to_ns(TimePoint t) noexcept {
  const auto ns = t.time_since_epoch().count();
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

}  // namespace weft::capi
