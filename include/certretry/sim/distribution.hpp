// certretry/sim/distribution.hpp — durations drawn from a distribution: fixed, exponential,
// log-normal, |normal| (the AWS backoff simulator's network delay) or an empirical list of
// measured durations (one per CSV line).
//
// Draws come only from the injected generator, mapped to [0, 1) by the library's own
// uniform_unit, so one seed gives one sequence. Normal variates use Box-Muller.
#pragma once

#include "certretry/core/duration_lines.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace certretry::sim {

/// A standard normal variate (Box-Muller; one of the pair is kept unused for simplicity).
template <random_source R>
double standard_normal(R& rng) {
  const double u1 = 1.0 - uniform_unit(rng);  // (0, 1]: log is finite
  const double u2 = uniform_unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// A distribution of durations (issuance times, latencies): fixed, exponential, log-normal,
/// |normal| or measured.
///
/// Thread safety: an immutable value: safe to share between threads; sample() draws from the
/// caller's random source.
class distribution {
 public:
  /// Which family.
  enum class kind : std::uint8_t { fixed, exponential, lognormal, abs_normal, empirical };

  /// Always `d`.
  static distribution fixed(duration d) { return {kind::fixed, ms(d), 0.0, {}}; }
  /// Exponential with mean `mean`.
  static distribution exponential(duration mean) { return {kind::exponential, ms(mean), 0.0, {}}; }
  /// Median and sigma of the underlying normal (ln X ~ N(ln median, sigma^2)).
  static distribution lognormal(duration median, double sigma) {
    return {kind::lognormal, ms(median), sigma, {}};
  }
  /// |N(mean, sd)|: the AWS simulator's network delay.
  static distribution abs_normal(duration mean, duration sd) {
    return {kind::abs_normal, ms(mean), ms(sd), {}};
  }
  /// Measured durations in milliseconds; draws interpolate between order statistics.
  static distribution empirical(std::vector<double> samples_ms) {
    std::sort(samples_ms.begin(), samples_ms.end());
    return {kind::empirical, 0.0, 0.0, std::move(samples_ms)};
  }

  /// Which family.
  kind type() const noexcept { return kind_; }
  /// The parameters as given, for models that draw on their own: the value (fixed), the mean
  /// (exponential) or the median (log-normal) in milliseconds, and sigma (log-normal).
  double scale_ms() const noexcept { return a_; }
  double sigma() const noexcept { return b_; }  ///< sigma of a log-normal

  /// One draw, in milliseconds (rounded).
  template <random_source R>
  duration sample(R& rng) const {
    return certretry::detail::saturate_ms(sample_ms(rng));
  }

  /// One draw, in (fractional) milliseconds.
  template <random_source R>
  double sample_ms(R& rng) const {
    switch (kind_) {
      case kind::fixed: return a_;
      case kind::exponential: return -a_ * std::log(1.0 - uniform_unit(rng));
      case kind::lognormal: return a_ * std::exp(b_ * standard_normal(rng));
      case kind::abs_normal: return std::fabs(a_ + b_ * standard_normal(rng));
      case kind::empirical: {
        if (samples_.empty()) return 0.0;
        if (samples_.size() == 1) return samples_.front();
        const double x = uniform_unit(rng) * static_cast<double>(samples_.size() - 1);
        const auto i = static_cast<std::size_t>(x);
        const double f = x - static_cast<double>(i);
        return samples_[i] + f * (samples_[i + 1] - samples_[i]);
      }
    }
    return 0.0;
  }

  /// The distribution's mean in milliseconds (what "spread evenly" and capacity planning use).
  double mean_ms() const noexcept {
    switch (kind_) {
      case kind::fixed:
      case kind::exponential: return a_;
      case kind::lognormal: return a_ * std::exp(b_ * b_ / 2.0);
      case kind::abs_normal: return a_;  // close enough when mean >> sd
      case kind::empirical: {
        double s = 0;
        for (double v : samples_) s += v;
        return samples_.empty() ? 0.0 : s / static_cast<double>(samples_.size());
      }
    }
    return 0.0;
  }
  /// How many measured durations an empirical distribution holds (0 for the others).
  std::size_t samples() const noexcept { return samples_.size(); }

 private:
  distribution(kind k, double a, double b, std::vector<double> s)
      : kind_(k), a_(a), b_(b), samples_(std::move(s)) {}
  static double ms(duration d) { return static_cast<double>(d.count()); }

  kind kind_;
  double a_;  // fixed: value; exponential: mean; lognormal: median; abs_normal: mean (ms)
  double b_;  // lognormal: sigma; abs_normal: sd (ms)
  std::vector<double> samples_;
};

/// At most this many durations in an empirical CSV.
inline constexpr std::size_t max_empirical_samples = 1'000'000;
/// No measured duration is longer than a year.
inline constexpr double max_empirical_seconds = 366.0 * 24 * 3600;

/// Reads durations in seconds, one per line (the first comma-separated field of each line). An
/// optional first line that is not a number is a header; blank lines and lines starting with '#'
/// are skipped. On error `detail` says which line and why.
inline result<distribution> parse_durations_csv(std::string_view text, std::string& detail) {
  std::vector<double> samples;
  if (const auto bad =
          read_duration_lines(text, max_empirical_seconds, max_empirical_samples, samples)) {
    switch (bad->what) {
      case duration_lines_error::kind::bad_value:
        detail = "line " + std::to_string(bad->line) +
                 ": expected a duration in seconds from 0 to 31622400 (one per line, first "
                 "field of a CSV line)";
        break;
      case duration_lines_error::kind::too_many:
        detail = "more than " + std::to_string(max_empirical_samples) + " durations";
        break;
      case duration_lines_error::kind::none_at_all:
        detail = "no durations (one number of seconds per line)";
        break;
    }
    return errc::scenario_malformed;
  }
  for (double& s : samples) s *= 1000.0;  // the simulator's durations are in milliseconds
  return distribution::empirical(std::move(samples));
}

}  // namespace certretry::sim
