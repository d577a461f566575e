// certretry/backoff/error_backoff.hpp — how errors are spaced when the server says nothing: a
// 429 or 5xx without Retry-After, a transport failure.
//
// A machine's pending pace is for a server at work, not one that refuses or fails: a client that
// retries an outage at its poll pace, in lockstep with the rest of its fleet, is what the
// GlobalSign outage of 2020-10-28 was made of (docs/sources.md#globalsign-2020-10-28). The n-th
// error in a row waits base x factor^(n-1), capped, x (1 + U[-jitter, jitter]), so that clients
// failed by one outage do not come back together. The TPP and ACME machines use it; how a
// Retry-After combines with it is each machine's rule.
#pragma once

#include "certretry/backoff/schedule.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace certretry {

/// How the caller's options name an error_backoff's members, for the message of check().
///
/// Thread safety: a plain value (static text): safe to share between threads.
struct error_backoff_names {
  std::string_view base = "error_backoff.base";      ///< the name of `base` in messages
  std::string_view factor = "error_backoff.factor";  ///< the name of `factor` in messages
  std::string_view cap = "error_backoff.cap";        ///< the name of `cap` in messages
  std::string_view jitter = "error_backoff.jitter";  ///< the name of `jitter` in messages
};

/// The ACME machines' wait after an error reply: geometric from `base` by `factor` up to `cap`,
/// each wait jittered by ±`jitter`.
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct error_backoff {
  duration base = std::chrono::seconds{5};  ///< the first wait
  double factor = 2.0;                      ///< growth per error in a row (at least 1)
  duration cap = std::chrono::minutes{5};   ///< the longest wait, before jitter
  double jitter = 0.2;                      ///< ± fraction of each wait, 0 to 1

  /// n >= 1: errors in a row; u in [0, 1).
  constexpr duration wait(std::uint32_t n, double u) const noexcept {
    const duration d = geometric_schedule{base, factor, cap}.delay(n);
    const double j = std::clamp(jitter, 0.0, 1.0);
    return detail::saturate_ms(static_cast<double>(d.count()) * (1.0 + j * (2.0 * u - 1.0)));
  }

  /// Empty when every member is in range; otherwise the member (named as `names` says) and why.
  constexpr invalid_value check(const error_backoff_names& names = {}) const noexcept {
    if (base < duration::zero()) return {names.base, "must not be negative"};
    if (cap < duration::zero()) return {names.cap, "must not be negative"};
    if (!(factor >= 1.0)) return {names.factor, "must be a number of at least 1"};
    if (!(jitter >= 0.0 && jitter <= 1.0))
      return {names.jitter, "must be a number from 0 to 1 (0.2 is ±20 %)"};
    return {};
  }
};

}  // namespace certretry
