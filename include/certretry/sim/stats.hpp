// certretry/sim/stats.hpp — bounded-memory statistics for simulations: a log-linear histogram
// (percentiles to within 0.4 %, exact count, mean and max) and a timeline of fixed bins.
#pragma once

#include "certretry/core/time.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace certretry::sim {

/// Non-negative integers (milliseconds) in 7 500 buckets: exact below 256, then 128 buckets per
/// power of two. Memory is fixed whatever the count.
///
/// Thread safety: a plain value: safe to read from several threads; add() and merge() need the
/// caller's lock.
class histogram {
 public:
  /// Counts `v` (negative values count as 0).
  void add(std::int64_t v) {
    if (v < 0) v = 0;
    const auto u = static_cast<std::uint64_t>(v);
    const std::size_t i = index(u);
    if (i >= counts_.size()) counts_.resize(i + 1, 0);
    ++counts_[i];
    ++count_;
    sum_ += static_cast<double>(v);
    if (count_ == 1 || v < min_) min_ = v;
    if (v > max_) max_ = v;
  }

  /// Values counted.
  std::uint64_t count() const noexcept { return count_; }
  /// The largest value (0 when empty).
  std::int64_t max() const noexcept { return count_ ? max_ : 0; }
  /// The smallest value (0 when empty).
  std::int64_t min() const noexcept { return count_ ? min_ : 0; }
  /// The mean (0 when empty).
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

  /// Nearest rank: the smallest value with at least ceil(p * count) values at or below it
  /// (the bucket's midpoint, within [min, max]).
  std::int64_t percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    if (p >= 1.0) return max_;
    auto rank = static_cast<std::uint64_t>(p * static_cast<double>(count_));
    if (static_cast<double>(rank) < p * static_cast<double>(count_)) ++rank;
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(midpoint(i), min_, max_);
    }
    return max_;
  }

  /// Adds another histogram's counts.
  void merge(const histogram& o) {
    if (o.counts_.size() > counts_.size()) counts_.resize(o.counts_.size(), 0);
    for (std::size_t i = 0; i < o.counts_.size(); ++i) counts_[i] += o.counts_[i];
    if (o.count_ && (count_ == 0 || o.min_ < min_)) min_ = o.min_;
    if (o.count_ && o.max_ > max_) max_ = o.max_;
    count_ += o.count_;
    sum_ += o.sum_;
  }

 private:
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < 256) return static_cast<std::size_t>(v);
    const int shift = static_cast<int>(std::bit_width(v)) - 8;  // >= 1
    const std::uint64_t mantissa = v >> shift;                  // 128..255
    return 256 + static_cast<std::size_t>(shift - 1) * 128 +
           static_cast<std::size_t>(mantissa - 128);
  }
  static std::int64_t midpoint(std::size_t i) noexcept {
    if (i < 256) return static_cast<std::int64_t>(i);
    const std::size_t shift = (i - 256) / 128 + 1;
    const std::uint64_t mantissa = (i - 256) % 128 + 128;
    const std::uint64_t lo = mantissa << shift;
    return static_cast<std::int64_t>(lo + ((std::uint64_t{1} << shift) >> 1));
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
};

/// Per-bin counters over time: requests sent, 429s received, certificates issued, and the
/// largest CA backlog seen in the bin. Bins are `width` wide from `start`; memory grows with the
/// simulated span / width, not with the number of events.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct bin_stats {
  std::uint32_t requests = 0;      ///< requests sent
  std::uint32_t rate_limited = 0;  ///< 429s received
  std::uint32_t issued = 0;        ///< certificates issued
  std::uint32_t backlog_max = 0;   ///< the largest CA backlog seen
};

/// Per-bin counters over simulated time (bin_stats).
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
class timeline {
 public:
  /// At most this many bins (a fleet file's span and bin width are checked against it).
  static constexpr std::size_t max_bins = 4'000'000;

  /// Bins `width` wide from `start`.
  timeline(time_point start = {}, duration width = std::chrono::seconds{60})
      : start_(start), width_(width < duration{1} ? duration{1} : width) {}

  /// The bin of time `t` (grown as needed, up to max_bins).
  bin_stats& at(time_point t) {
    std::size_t i = 0;
    if (t > start_) i = static_cast<std::size_t>((t - start_) / width_);
    if (i >= max_bins) i = max_bins - 1;
    if (i >= bins_.size()) bins_.resize(i + 1);
    return bins_[i];
  }
  /// Notes a CA backlog of `n` at time `t`.
  void backlog(time_point t, std::uint64_t n) {
    bin_stats& b = at(t);
    const auto v = static_cast<std::uint32_t>(std::min<std::uint64_t>(n, UINT32_MAX));
    if (v > b.backlog_max) b.backlog_max = v;
  }

  /// The bins.
  const std::vector<bin_stats>& bins() const noexcept { return bins_; }
  /// The bins' width.
  duration width() const noexcept { return width_; }
  /// The first bin's start.
  time_point start() const noexcept { return start_; }

  /// The most requests in any `window` (a whole number of bins, at least one), per second.
  double peak_rate(duration window) const {
    const std::size_t k = std::max<std::size_t>(1, static_cast<std::size_t>(window / width_));
    std::uint64_t sum = 0, best = 0;
    for (std::size_t i = 0; i < bins_.size(); ++i) {
      sum += bins_[i].requests;
      if (i >= k) sum -= bins_[i - k].requests;
      best = std::max(best, sum);
    }
    const double secs =
        std::chrono::duration<double>(width_ * static_cast<std::int64_t>(k)).count();
    return static_cast<double>(best) / secs;
  }

 private:
  time_point start_;
  duration width_;
  std::vector<bin_stats> bins_;
};

}  // namespace certretry::sim
