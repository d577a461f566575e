// certretry/budget/adaptive.hpp — client-side adaptive throttling (Google SRE book, "Handling
// Overload"): when the server accepts too few of the requests sent to it, reject some locally
// before they cost the server anything.
//
//   reject with probability  max(0, (requests − K × accepts) / (requests + 1))
//
// over a sliding window (the book uses 2 minutes), K = 2 by default. requests counts every
// request the client wanted to send, those rejected locally included; accepts counts the ones
// the server handled (a success, or a permanent refusal: the server did the work of saying no).
// Transient failures (408, 429, 5xx, transport errors) are not accepts. Unlike the retry
// budgets this applies to every request, first ones included.
//
// The random draw comes from the generator the machine was given, never a global one, and is
// made only while the probability is above zero: a healthy upstream leaves the machine's
// random sequence (its jitter) untouched.
//
// certretry's recommended protection for clients of a CA, one throttle per CA endpoint shared by
// every machine (docs/budgets.md, "Which one to use"): unlike a retry budget it needs no
// success and no floor to reopen after an outage, since the accepts returning lower the
// probability by themselves.
//
// Thread safety: a small mutex around the window; admit() and record() may run on any threads.
#pragma once

#include "certretry/budget/budget.hpp"
#include "certretry/budget/window.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <cstdint>
#include <mutex>

namespace certretry {

/// The parameters of adaptive_throttle (Google SRE book, "Handling Overload").
///
/// Thread safety: an immutable value: safe to share between threads.
struct adaptive_throttle_params {
  double k = 2.0;          ///< the book's multiplier: accept up to K times what the server accepts
  duration window = 2min;  ///< the window requests and accepts are counted over
  /// A locally rejected poll waits its back-off and tries again (within the deadline) by
  /// default; `finish` hands the work back to the caller at once.
  on_denial denial = on_denial::wait;
};

/// Client-side adaptive throttling (Google SRE book, "Handling Overload"): rejects requests locally
/// with probability max(0, (requests - K accepts) / (requests + 1)).
///
/// Thread safety: safe to share: admit() and record() may run on several threads at once (one small
/// mutex); machines share it through budget_ref. Not copyable.
class adaptive_throttle {
 public:
  /// A throttle with parameters `p` (a negative K is taken as 0).
  explicit adaptive_throttle(const adaptive_throttle_params& p = {}) noexcept
      : p_{std::max(p.k, 0.0), p.window, p.denial}, counts_(p.window) {}
  adaptive_throttle(const adaptive_throttle&) = delete;
  adaptive_throttle& operator=(const adaptive_throttle&) = delete;

  /// The book's formula for given counts.
  static constexpr double probability(std::uint64_t requests, std::uint64_t accepts,
                                      double k) noexcept {
    const double r = static_cast<double>(requests);
    const double p = (r - k * static_cast<double>(accepts)) / (r + 1.0);
    return p > 0.0 ? p : 0.0;
  }

  /// Every request is asked: rejected locally with the book's probability.
  template <random_source R>
  admission admit(time_point now, send_kind, R& rng) {
    double p;
    {
      const std::lock_guard lock(mu_);
      const auto t = counts_.totals(now);
      p = probability(t[requests_at], t[accepts_at], p_.k);
      counts_.add(now, requests_at);  // a rejected request still counts as requested
    }
    if (p > 0.0 && uniform_unit(rng) < p) return admission::no(denied_text, p_.denial);
    return admission::yes();
  }

  /// Counts the request, and an accept when the server answered.
  void record(time_point now, send_kind, call_result r) {
    if (r != call_result::success && r != call_result::refused) return;
    const std::lock_guard lock(mu_);
    counts_.add(now, accepts_at);
  }

  /// What a withheld request becomes.
  on_denial denial() const noexcept { return p_.denial; }
  /// The parameters.
  const adaptive_throttle_params& params() const noexcept { return p_; }

  /// The probability the next request would be rejected with, now.
  double rejection_probability(time_point now) const {
    const std::lock_guard lock(mu_);
    const auto t = counts_.totals(now);
    return probability(t[requests_at], t[accepts_at], p_.k);
  }

  /// Requests and accepts in the window.
  struct window_counts {
    std::uint64_t requests;  ///< requests in the window
    std::uint64_t accepts;   ///< of them, accepted by the server
  };
  /// The counts in the window ending at `now`.
  window_counts counts(time_point now) const {
    const std::lock_guard lock(mu_);
    const auto t = counts_.totals(now);
    return {t[requests_at], t[accepts_at]};
  }

  /// The reason a withheld request's event carries.
  static constexpr std::string_view denied_text =
      "adaptive throttling: the server accepts too few requests; rejected locally";

 private:
  static constexpr std::size_t requests_at = 0;
  static constexpr std::size_t accepts_at = 1;

  adaptive_throttle_params p_;
  mutable std::mutex mu_;
  detail::sliding_counts counts_;
};
static_assert(retry_budget<adaptive_throttle>);

}  // namespace certretry
