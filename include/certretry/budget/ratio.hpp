// certretry/budget/ratio.hpp — a retry budget as a ratio: over a sliding window, retries may be
// at most `ratio` of the other requests, plus a floor so that a quiet client can still retry.
//
//   admitted  iff  retries + 1  <=  ratio x requests  +  min_retries_per_second x window
//
// where requests are first requests and follow-ups (polls) admitted in the window, and retries
// the retries admitted in it. This is Finagle's RetryBudget (percentCanRetry 20 %,
// minRetriesPerSec 10, ttl 10 s: the `finagle` preset); the Google SRE book ("Handling
// Overload") caps retries at 10 % of a client's requests (the `sre` preset, no floor; the book
// gives no window, so the 2 minutes it uses for adaptive throttling). Envoy's retry budget
// (20 %, min_retry_concurrency 3) bounds retries in flight rather than per window; with
// machines that keep one request out at a time, `min_retries_per_window` = 3 is the nearest
// rate form.
//
// Thread safety: a small mutex around the window; admit() and record() may run on any threads.
#pragma once

#include "certretry/budget/budget.hpp"
#include "certretry/budget/window.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>

namespace certretry {

/// The parameters of ratio_budget: retries at most `ratio` of the other requests in a sliding
/// window.
///
/// Thread safety: an immutable value: safe to share between threads.
struct ratio_budget_params {
  double ratio = 0.2;                        ///< retries per other request
  duration window = 10s;                     ///< the sliding window (10 steps)
  double min_retries_per_second = 10.0;      ///< floor: this many retries per second of window ...
  std::uint32_t min_retries_per_window = 0;  ///< ... or this many per window, whichever is more
  on_denial denial = on_denial::finish;      ///< what a withheld retry becomes

  /// Finagle's RetryBudget defaults: 20 % over 10 s, at least 10 retries a second.
  static constexpr ratio_budget_params finagle(on_denial d = on_denial::finish) noexcept {
    return {0.2, 10s, 10.0, 0, d};
  }
  /// The Google SRE book's per-client budget: 10 % over 2 min.
  static constexpr ratio_budget_params sre(on_denial d = on_denial::finish) noexcept {
    return {0.1, 2min, 0.0, 0, d};
  }
};

/// A retry budget as a ratio: a retry goes out while retries stay under `ratio` of the other
/// requests in the window (Finagle's RetryBudget, the Google SRE book).
///
/// Thread safety: safe to share: admit() and record() may run on several threads at once (one small
/// mutex); machines share it through budget_ref. Not copyable.
class ratio_budget {
 public:
  /// A budget with parameters `p`.
  explicit ratio_budget(const ratio_budget_params& p) noexcept
      : p_(p),
        ratio_ppm_(to_ppm(p.ratio, 1e3)),
        floor_ppm_(std::max(
            to_ppm(p.min_retries_per_second * std::chrono::duration<double>(p.window).count(), 1e9),
            static_cast<std::int64_t>(p.min_retries_per_window) * 1'000'000)),
        counts_(p.window) {}
  ratio_budget(const ratio_budget&) = delete;
  ratio_budget& operator=(const ratio_budget&) = delete;

  /// Every first request and follow-up is admitted and counted; a retry is admitted (and
  /// counted) while the window has room for it.
  template <random_source R>
  admission admit(time_point now, send_kind k, R&) {
    const std::lock_guard lock(mu_);
    if (!is_retry(k)) {
      counts_.add(now, requests_at);
      return admission::yes();
    }
    if (fits(counts_.totals(now))) {
      counts_.add(now, retries_at);
      return admission::yes();
    }
    // When the oldest retries leave the window, if that is enough.
    for (std::size_t k_steps = 1; k_steps <= detail::sliding_counts::slots; ++k_steps) {
      const auto later = counts_.after_expiry(now, k_steps);
      if (fits(later.totals)) return admission::no(denied_text, p_.denial, later.in);
    }
    return admission::no(denied_text, p_.denial);
  }

  /// Counting happens at admission; results do not move a ratio budget.
  void record(time_point, send_kind, call_result) noexcept {}

  /// What a withheld retry becomes.
  on_denial denial() const noexcept { return p_.denial; }
  /// The parameters.
  const ratio_budget_params& params() const noexcept { return p_; }

  /// Requests and retries in the window.
  struct window_counts {
    std::uint64_t requests;  ///< requests in the window
    std::uint64_t retries;   ///< of them, retries
  };
  /// The counts in the window ending at `now`.
  window_counts counts(time_point now) const {
    const std::lock_guard lock(mu_);
    const auto t = counts_.totals(now);
    return {t[requests_at], t[retries_at]};
  }

  /// The reason a withheld request's event carries.
  static constexpr std::string_view denied_text =
      "retry budget: retries would exceed their share of requests in the window";

 private:
  static constexpr std::size_t requests_at = 0;
  static constexpr std::size_t retries_at = 1;

  // Bounded so that ratio x requests + floor cannot overflow: a ratio above 1000 or a floor
  // above 10^9 retries means "no limit" anyway.
  static std::int64_t to_ppm(double x, double cap) noexcept {
    if (!(x > 0.0)) return 0;
    if (x > cap) x = cap;
    return static_cast<std::int64_t>(std::floor(x * 1e6 + 0.5));
  }

  bool fits(const std::array<std::uint64_t, 2>& t) const noexcept {
    // (retries + 1) <= ratio * requests + floor, in millionths; requests are bounded far below
    // overflow by the window.
    const auto requests = static_cast<std::int64_t>(t[requests_at]);
    const auto retries = static_cast<std::int64_t>(t[retries_at]);
    return (retries + 1) * 1'000'000 <= ratio_ppm_ * requests + floor_ppm_;
  }

  ratio_budget_params p_;
  std::int64_t ratio_ppm_;
  std::int64_t floor_ppm_;
  mutable std::mutex mu_;
  detail::sliding_counts counts_;
};
static_assert(retry_budget<ratio_budget>);

}  // namespace certretry
