// certretry/core/time.hpp — the one time base every machine and policy speaks.
//
// Machines never read a clock: the current time is part of every event they are given. Time is
// wall time in milliseconds because Retry-After HTTP-dates (RFC 9110 §10.2.3) and ARI windows
// (RFC 9773) are wall-clock instants; durations are std::chrono milliseconds everywhere, so a
// seconds-vs-milliseconds mix-up (Azure read Retry-After seconds as ms) cannot compile.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace certretry {

using duration = std::chrono::milliseconds;
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

using namespace std::chrono_literals;

namespace detail {

// Converts a floating number of milliseconds to a duration, saturating instead of overflowing
// (NaN becomes zero). Every jitter formula passes through here.
constexpr duration saturate_ms(double ms) noexcept {
  constexpr double hi = static_cast<double>(std::numeric_limits<std::int64_t>::max()) / 2;
  if (!(ms > 0.0)) return duration::zero();  // also NaN
  if (ms >= hi) return duration{static_cast<std::int64_t>(hi)};
  return duration{static_cast<std::int64_t>(ms + 0.5)};
}

constexpr duration saturating_add(duration a, duration b) noexcept {
  constexpr auto max = std::numeric_limits<duration::rep>::max();
  if (b.count() > 0 && a.count() > max - b.count()) return duration{max};
  return a + b;
}

}  // namespace detail
}  // namespace certretry
