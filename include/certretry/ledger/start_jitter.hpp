// certretry/ledger/start_jitter.hpp — a random delay before a scheduled run begins.
//
// Runs started by cron, a systemd timer or a controller's resync all start in the same second:
// a fleet's load on the CA peaks in the first second of every hour. Debian's certbot timer
// spreads its twice-daily run with `RandomizedDelaySec=43200`
// (docs/sources.md#certbot-timer); a run that starts at a scheduled time should do the same.
// The delay is drawn from the caller's random source, so a test or a simulation can seed it.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace certretry {

/// A random delay before a scheduled run begins, so a fleet's runs spread out.
///
/// Thread safety: an immutable value (a policy): safe to share between threads; draw() uses the
/// caller's random source.
struct start_jitter {
  /// The delay is uniform in [0, max_delay). 0 turns it off. The default, 1 h, is the period of
  /// an hourly cron, the most frequent schedule renewal clients run on: a fleet started at :00
  /// then spreads over the whole hour and its busiest second stays within 2x the hour's mean
  /// (docs/operations.md, "Start jitter"). A longer schedule spreads over its own period: over().
  duration max_delay = std::chrono::hours{1};

  /// errc::invalid_policy unless 0 ≤ max_delay ≤ 24 h.
  result<void> validate() const noexcept {
    if (max_delay < duration::zero() || max_delay > std::chrono::hours{24})
      return errc::invalid_policy;
    return success();
  }

  /// Spread over the whole period of the schedule (Debian's certbot timer, twice a day: 12 h), at
  /// most 24 h: a fleet's peak second then stays within 2x its mean rate (docs/operations.md,
  /// "Start jitter"); a shorter delay crowds the period's load into its first part.
  static constexpr start_jitter over(duration period) noexcept {
    return {std::clamp(period, duration::zero(), duration{std::chrono::hours{24}})};
  }

  /// The delay before this run starts. The mapping is the library's own (uniform_unit), not a
  /// standard distribution's, so one seed gives one delay on every platform.
  template <random_source R>
  duration draw(R& rng) const {
    if (max_delay <= duration::zero()) return duration::zero();
    const auto span = static_cast<double>(max_delay.count());
    const auto d = static_cast<duration::rep>(uniform_unit(rng) * span);
    return duration{std::min<duration::rep>(d, max_delay.count() - 1)};
  }
};

}  // namespace certretry
