// certretry/ledger/renewal_guard.hpp — no renewal loops: a minimum interval between two renewals
// of one certificate lineage.
//
// When ARI keeps answering a window in the past for every newly issued certificate (a CA bug,
// a revocation that names each replacement again), a client that obeys it renews back to back,
// for ever. The guard holds a renewal back until `interval` after the lineage's last issuance:
// at least an hour, and at least the CA's own suggested window length when it gave one (a CA
// that suggests a 2-day window does not expect a renewal every hour).
#pragma once

#include "certretry/core/rfc3339.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace certretry {

/// A renewal held back, and why.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct renewal_hold {
  time_point until{};  ///< the earliest renewal allowed
  std::string why;     ///< why, for the operator
};

/// No renewal loops: holds a renewal back until an interval after the lineage's last issuance (at
/// least an hour, at least the CA's suggested window).
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct renewal_loop_guard {
  /// the least time between two renewals of one lineage
  duration min_interval = std::chrono::hours{1};

  /// The interval: min_interval, or the window's length when longer.
  constexpr duration interval(std::optional<duration> window_length) const noexcept {
    return window_length ? std::max(min_interval, *window_length) : min_interval;
  }

  /// Whether a renewal wanted at `now` must wait: the lineage was last issued at `last_issued`.
  std::optional<renewal_hold> check(std::optional<time_point> last_issued, time_point now,
                                    std::optional<duration> window_length = {}) const {
    if (!last_issued) return std::nullopt;
    const time_point until = saturating_add(*last_issued, interval(window_length));
    if (now >= until) return std::nullopt;
    return renewal_hold{
        until,
        "renewal held back: the lineage was renewed at " + format_rfc3339(*last_issued) +
            ", less than " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::minutes>(interval(window_length)).count()) +
            " min ago (renewal_loop_guard); next renewal not before " + format_rfc3339(until)};
  }
};

/// Opt-in: stop claiming `replaces` after K consecutive 5xx on orders that carried it. A server
/// that fails every order carrying `replaces` with a 5xx blocks renewal for ever (lego issue
/// #2137: docs/sources.md#lego-2137); the default (0) keeps `replaces` through an outage, since a
/// 5xx is usually an outage, and an outage is no reason to give up the ARI claim.
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct replaces_after_server_errors {
  std::uint32_t drop_after = 0;  ///< 0: never drop

  /// Whether the next new-order should claim `replaces`, after that many 5xx in a row.
  constexpr bool send_replaces(std::uint32_t consecutive_5xx_with_replaces) const noexcept {
    return drop_after == 0 || consecutive_5xx_with_replaces < drop_after;
  }
};

}  // namespace certretry
