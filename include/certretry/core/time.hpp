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

/// Every duration in the library: milliseconds (std::chrono).
using duration = std::chrono::milliseconds;
/// Every point in time in the library: system-clock time in milliseconds.
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

using namespace std::chrono_literals;

/// The longest wait a machine asks for, and the furthest ahead an outcome's not_before lies:
/// 2^31 - 1 s (about 68 years), RFC 9111 §1.2.2's bound for delta-seconds and the longest
/// Retry-After the library reads. Longer schedules, hints and budgets are cut to it.
inline constexpr duration longest_delay = std::chrono::seconds{2147483647};

namespace detail {

// Converts a floating number of milliseconds to a duration, saturating instead of overflowing
// (NaN becomes zero). Every jitter formula passes through here.
constexpr duration saturate_ms(double ms) noexcept {
  constexpr double hi = static_cast<double>(std::numeric_limits<std::int64_t>::max()) / 2;
  if (!(ms > 0.0)) return duration::zero();  // also NaN
  if (ms >= hi) return duration{static_cast<std::int64_t>(hi)};
  return duration{static_cast<std::int64_t>(ms + 0.5)};
}

constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  if (b > 0 && a > max - b) return max;
  if (b < 0 && a < min - b) return min;
  return a + b;
}

constexpr std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  if (b < 0 && a > max + b) return max;
  if (b > 0 && a < min + b) return min;
  return a - b;
}

}  // namespace detail

/// Saturating time arithmetic. Every sum or difference of times and durations the library
/// computes goes through these, so a schedule, a hint or a deadline near duration::max() (or a
/// clock that steps back) ends at the largest representable value instead of wrapping around.
constexpr duration saturating_add(duration a, duration b) noexcept {
  return duration{detail::saturating_add(a.count(), b.count())};
}
/// a - b, saturated.
constexpr duration saturating_sub(duration a, duration b) noexcept {
  return duration{detail::saturating_sub(a.count(), b.count())};
}
/// t + d, saturated.
constexpr time_point saturating_add(time_point t, duration d) noexcept {
  return time_point{saturating_add(t.time_since_epoch(), d)};
}
/// a - b, saturated.
constexpr duration saturating_sub(time_point a, time_point b) noexcept {
  return saturating_sub(a.time_since_epoch(), b.time_since_epoch());
}

}  // namespace certretry
