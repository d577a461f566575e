// certretry/tune/issuance.hpp — when a CA issues, as a distribution the tuner can integrate.
//
// X = time from the submission (the order, the finalize, the request) to the moment the server
// would answer "issued". The tuner needs more than draws: the CDF F(t) = P(X <= t), the partial
// mean M(t) = E[X; X <= t] (so that the delay of a poll schedule is exact, not sampled) and
// draws for the Monte Carlo check. Three kinds:
//   exponential(mean)          F = 1 - e^(-t/m),  M = m - (t + m) e^(-t/m)
//   lognormal(median, sigma)   ln X ~ N(ln median, sigma^2); M = e^(mu + sigma^2/2)
//                              Phi((ln t - mu - sigma^2) / sigma)  (the lognormal's partial
//                              expectation: docs/sources.md#lognormal-partial-expectation)
//   empirical(durations)       the step CDF of measured durations: a draw is one of them
// Times are double seconds inside the tuner (it integrates); the API takes std::chrono
// durations. Parameters out of range are errors (errc::invalid_policy), never clamped.
#pragma once

#include "certretry/core/duration_lines.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace certretry::tune {

/// z of the normal's 99th percentile.
inline constexpr double normal_z99 = 2.3263478740408408;
/// @{
/// Bounds on what the tuner accepts: a year, a million measured durations.
inline constexpr double max_issuance_seconds = 366.0 * 24 * 3600;
inline constexpr std::size_t max_issuance_samples = 1'000'000;
/// @}

/// `d` in seconds.
inline double seconds_of(duration d) noexcept { return std::chrono::duration<double>(d).count(); }

/// The standard normal's CDF.
inline double normal_cdf(double z) noexcept { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

/// When a CA issues: an issuance-time distribution (exponential, lognormal or measured), with the
/// exact figures the tuner prices plans by.
///
/// Thread safety: an immutable value: safe to share between threads.
class issuance {
 public:
  /// Which family.
  enum class kind : std::uint8_t { exponential, lognormal, empirical };

  /// Exponential with mean `mean` (positive, at most a year).
  static result<issuance> exponential(duration mean) {
    const double m = seconds_of(mean);
    if (!(m > 0) || m > max_issuance_seconds) return errc::invalid_policy;
    return issuance{kind::exponential, m, 0, {}};
  }
  /// ln X ~ N(ln median, sigma^2).
  static result<issuance> lognormal(duration median, double sigma) {
    const double m = seconds_of(median);
    if (!(m > 0) || m > max_issuance_seconds || !(sigma > 0) || sigma > 10)
      return errc::invalid_policy;
    return issuance{kind::lognormal, m, sigma, {}};
  }
  /// The lognormal with this median and 99th percentile (sigma = ln(p99 / median) / z99).
  static result<issuance> lognormal_p99(duration median, duration p99) {
    if (!(p99 > median) || median <= duration::zero()) return errc::invalid_policy;
    return lognormal(median, std::log(seconds_of(p99) / seconds_of(median)) / normal_z99);
  }
  /// Measured durations in seconds; at least one, none negative or beyond a year.
  static result<issuance> empirical(std::vector<double> seconds) {
    if (seconds.empty() || seconds.size() > max_issuance_samples) return errc::invalid_policy;
    for (const double v : seconds)
      if (!std::isfinite(v) || v < 0 || v > max_issuance_seconds) return errc::invalid_policy;
    std::sort(seconds.begin(), seconds.end());
    std::vector<double> prefix(seconds.size() + 1, 0.0);
    for (std::size_t i = 0; i < seconds.size(); ++i) prefix[i + 1] = prefix[i] + seconds[i];
    issuance out{kind::empirical, 0, 0, std::move(seconds)};
    out.prefix_ = std::move(prefix);
    return out;
  }

  /// Which family.
  kind type() const noexcept { return kind_; }
  /// lognormal: the median; exponential: the mean (seconds).
  double median_or_mean() const noexcept { return a_; }  // lognormal: median; exponential: mean
  /// lognormal: sigma of ln X.
  double sigma() const noexcept { return b_; }
  /// empirical: the measured durations, sorted (seconds).
  const std::vector<double>& samples() const noexcept { return samples_; }

  /// P(X <= t).
  double cdf(double t) const noexcept {
    if (!(t >= 0)) return 0.0;
    switch (kind_) {
      case kind::exponential: return -std::expm1(-t / a_);
      case kind::lognormal: return t == 0 ? 0.0 : normal_cdf((std::log(t) - std::log(a_)) / b_);
      case kind::empirical: return upper_count(t) / n();
    }
    return 0.0;
  }
  /// P(X < t): differs from cdf only at an empirical sample.
  double cdf_below(double t) const noexcept {
    if (kind_ != kind::empirical) return cdf(t);
    if (!(t > 0)) return 0.0;
    return static_cast<double>(std::lower_bound(samples_.begin(), samples_.end(), t) -
                               samples_.begin()) /
           n();
  }
  /// E[X; X <= t].
  double partial_mean(double t) const noexcept {
    if (!(t > 0)) return 0.0;
    switch (kind_) {
      case kind::exponential: return a_ - (t + a_) * std::exp(-t / a_);
      case kind::lognormal: {
        const double mu = std::log(a_);
        return std::exp(mu + b_ * b_ / 2) * normal_cdf((std::log(t) - mu - b_ * b_) / b_);
      }
      case kind::empirical: return prefix_[static_cast<std::size_t>(upper_count(t))] / n();
    }
    return 0.0;
  }
  /// E[X], in seconds.
  double mean() const noexcept {
    switch (kind_) {
      case kind::exponential: return a_;
      case kind::lognormal: return a_ * std::exp(b_ * b_ / 2);
      case kind::empirical: return prefix_.back() / n();
    }
    return 0.0;
  }
  /// The smallest t with cdf(t) >= p (bisection: the kinds need no closed form).
  double quantile(double p) const noexcept {
    if (kind_ == kind::empirical) {
      const double r = std::ceil(std::clamp(p, 0.0, 1.0) * n());
      const auto i = static_cast<std::size_t>(std::clamp(r, 1.0, n())) - 1;
      return samples_[i];
    }
    double lo = 0, hi = a_;
    while (cdf(hi) < p && hi < 1e300) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-9 * hi; ++i) {
      const double mid = (lo + hi) / 2;
      (cdf(mid) >= p ? hi : lo) = mid;
    }
    return hi;
  }

  /// One draw, in seconds, from the injected generator (Box-Muller for the lognormal).
  template <random_source R>
  double sample(R& rng) const {
    switch (kind_) {
      case kind::exponential: return -a_ * std::log1p(-uniform_unit(rng));
      case kind::lognormal: {
        const double u1 = 1.0 - uniform_unit(rng);  // (0, 1]: the log is finite
        const double u2 = uniform_unit(rng);
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
        return a_ * std::exp(b_ * z);
      }
      case kind::empirical: {
        const auto i = static_cast<std::size_t>(uniform_unit(rng) * n());
        return samples_[std::min(i, samples_.size() - 1)];
      }
    }
    return 0.0;
  }

  /// "lognormal, median 60 s, sigma 1" and the like.
  std::string describe() const {
    char buf[128];
    switch (kind_) {
      case kind::exponential: std::snprintf(buf, sizeof buf, "exponential, mean %g s", a_); break;
      case kind::lognormal:
        std::snprintf(buf, sizeof buf, "lognormal, median %g s, sigma %.3g (p99 %.4g s)", a_, b_,
                      quantile(0.99));
        break;
      case kind::empirical:
        std::snprintf(buf, sizeof buf, "empirical, %zu durations, median %g s, p99 %g s",
                      samples_.size(), quantile(0.5), quantile(0.99));
        break;
    }
    return buf;
  }

 private:
  issuance(kind k, double a, double b, std::vector<double> s)
      : kind_(k), a_(a), b_(b), samples_(std::move(s)) {}
  double n() const noexcept { return static_cast<double>(samples_.size()); }
  double upper_count(double t) const noexcept {
    return static_cast<double>(std::upper_bound(samples_.begin(), samples_.end(), t) -
                               samples_.begin());
  }

  kind kind_;
  double a_;                     // exponential: mean; lognormal: median (seconds)
  double b_;                     // lognormal: sigma
  std::vector<double> samples_;  // empirical, sorted
  std::vector<double> prefix_;   // empirical: prefix sums of samples_
};

/// Measured durations as CSV: seconds in the first field of each line; an optional first line
/// that is not a number is a header; blank lines and lines starting with '#' are skipped (the
/// fleet simulator's format, docs/harness.md). At most `max_bytes` of text. On error `detail`
/// names the line.
inline result<issuance> parse_issuance_csv(std::string_view text, std::string& detail,
                                           std::size_t max_bytes = 64u << 20) {
  if (text.size() > max_bytes) {
    detail = "more than " + std::to_string(max_bytes) + " bytes";
    return errc::invalid_policy;
  }
  std::vector<double> samples;
  if (const auto bad =
          read_duration_lines(text, max_issuance_seconds, max_issuance_samples, samples)) {
    switch (bad->what) {
      case duration_lines_error::kind::bad_value:
        detail = "line " + std::to_string(bad->line) +
                 ": expected a duration in seconds from 0 to 31622400 (first field of a line)";
        break;
      case duration_lines_error::kind::too_many:
        detail = "more than " + std::to_string(max_issuance_samples) + " durations";
        break;
      case duration_lines_error::kind::none_at_all:
        detail = "no durations (one number of seconds per line)";
        break;
    }
    return errc::invalid_policy;
  }
  return issuance::empirical(std::move(samples));
}

}  // namespace certretry::tune
