// certretry/tune/lower_bound.hpp — the cheapest deterministic poll schedule for a distribution,
// by dynamic programming over a time grid, and the lower bound it proves.
//
// Sends lie on the grid T_i = start + i*step, i = 0..N (T_N = start + horizon, the deadline).
// Consecutive sends are at least `gap` apart (latency + the floor, the server's Retry-After or a
// rate limit); the machine stops when the next send could not come before the deadline, so a
// schedule's last send is after T_N - gap (a poll at the deadline, as the machines clamp their
// last wait). With V(i) the expected cost still to come after a send at T_i that did not see the
// certificate (counted unconditionally):
//   V(i) = 0                                                          if i > N - g
//   V(i) = min_{j >= i+g}  c_call (1 - F_i) + c_delay (T_j (F_j - F_i) - (M_j - M_i)) + V(j)
// F and M the distribution's CDF and partial mean (issuance.hpp). The minimum is over lines,
// one per next send j (intercept c_delay (T_j F_j - M_j) + V(j), slope -T_j), queried at
// c_delay F_i, so a monotone convex-hull sweep gives it in O(N) instead of O(N^2)
// (docs/sources.md#convex-hull-trick).
//
// Lower bound: any schedule in continuous time (same gaps, same deadline) rounded up to the grid
// sends no more calls and adds at most one step of delay to an order, so
//   lower_bound = DP - c_delay * step * F(T_N)
// is below every such schedule's cost. When the gaps are not multiples of the step, the bound
// comes from a relaxed DP (gaps rounded down) and the schedule from one with gaps rounded up.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/tune/issuance.hpp"
#include "certretry/tune/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

namespace certretry::tune {

/// The grid the dynamic programme searches (seconds).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct grid_spec {
  double start = 0;       ///< the machine's start: no send before it (seconds from submission)
  double horizon = 600;   ///< the deadline, from the start
  double gap = 1;         ///< least time between two sends
  double first_gap = 1;   ///< least time from the start to the first send when not immediate
  bool immediate = true;  ///< the first call goes out at the start
  double step = 0;        ///< grid step; 0: chosen (multiples of the gaps, about 200 000 points)
  std::size_t max_points = 2'000'000;  ///< the most grid points (a coarser step above it)
};

/// A send required inside [lo, hi] (the p99-time constraint: a poll right after the 99th
/// percentile of issuance).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct send_window {
  /// @{
  /// The window's ends, seconds from the submission.
  double lo = 0, hi = 0;
  /// @}
};

/// What the dynamic programme found: the cheapest plan on its grid and a lower bound for any
/// schedule.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct optimum {
  plan best;               ///< the DP's schedule
  double cost = 0;         ///< its expected cost
  double lower_bound = 0;  ///< no schedule under the same constraints costs less
  double step = 0;         ///< the grid step used (seconds)
  std::size_t points = 0;  ///< grid points searched
  bool exact = true;       ///< gaps and horizon are multiples of the step
};

namespace detail {

// Lines y = b + k x, added with nonincreasing k, queried with nondecreasing x: the minimum.
class min_hull {
 public:
  void clear() {
    lines_.clear();
    front_ = 0;
  }
  void add(double k, double b, std::size_t id) {
    if (!lines_.empty() && lines_.back().k == k) {
      if (lines_.back().b <= b) return;
      lines_.pop_back();
    }
    while (lines_.size() >= front_ + 2) {
      const line& l1 = lines_[lines_.size() - 2];
      const line& l2 = lines_.back();
      // l2 is never the minimum when l1 and the new line cross before l2 takes over.
      if ((l2.b - l1.b) * (l2.k - k) >= (b - l2.b) * (l1.k - l2.k))
        lines_.pop_back();
      else
        break;
    }
    lines_.push_back({k, b, id});
    front_ = std::min(front_, lines_.size() - 1);
  }
  bool empty() const noexcept { return front_ >= lines_.size(); }
  // The minimum at x and the id of the line giving it.
  std::pair<double, std::size_t> query(double x) {
    while (front_ + 1 < lines_.size() && value(lines_[front_ + 1], x) <= value(lines_[front_], x))
      ++front_;
    return {value(lines_[front_], x), lines_[front_].id};
  }

 private:
  struct line {
    double k, b;
    std::size_t id;
  };
  static double value(const line& l, double x) noexcept { return l.b + l.k * x; }
  std::vector<line> lines_;
  std::size_t front_ = 0;
};

struct dp_grid {
  std::vector<double> t, f, m;
};

inline dp_grid make_grid(const issuance& x, double start, double step, std::size_t n) {
  dp_grid g;
  g.t.resize(n + 1);
  g.f.resize(n + 1);
  g.m.resize(n + 1);
  for (std::size_t i = 0; i <= n; ++i) {
    g.t[i] = start + static_cast<double>(i) * step;
    g.f[i] = x.cdf(g.t[i]);
    g.m[i] = x.partial_mean(g.t[i]);
  }
  return g;
}

struct dp_run {
  double cost = 0;
  std::vector<std::size_t> sends;  // grid indices
};

// One DP over the grid: moves at least g_move steps apart; stopping allowed after i > N - g_stop
// (and forced once no move fits); first send at 0 (immediate) or at least g_first steps in.
// With a window, one send must lie in [w_lo, w_hi] (indices).
inline dp_run solve_grid(const dp_grid& g, const costs& k, std::size_t g_move, std::size_t g_stop,
                         bool immediate, std::size_t g_first,
                         std::optional<std::pair<std::size_t, std::size_t>> window) {
  const std::size_t n = g.t.size() - 1;
  const double inf = std::numeric_limits<double>::infinity();
  const double lam = k.delay;
  std::vector<double> v(n + 1, inf);
  std::vector<std::size_t> next(n + 1, n + 1);  // n + 1: stop
  min_hull hull;
  // Backward: lines j = i + g_move become available as i decreases. In x' = -lam F_i the
  // slopes T_j decrease as they are added and the queries increase.
  for (std::size_t ii = n + 1; ii-- > 0;) {
    const std::size_t i = ii;
    if (i + g_move <= n) {
      const std::size_t j = i + g_move;
      hull.add(g.t[j], lam * (g.t[j] * g.f[j] - g.m[j]) + v[j], j);
    }
    double best = inf;
    std::size_t arg = n + 1;
    if (i + g_stop > n || i + g_move > n) best = 0;  // may stop (the deadline is near)
    if (!hull.empty()) {
      const auto [val, j] = hull.query(-lam * g.f[i]);
      const double c = k.call * (1.0 - g.f[i]) + lam * g.m[i] + val;
      if (c < best) {
        best = c;
        arg = j;
      }
    }
    v[i] = best;
    next[i] = arg;
  }
  const auto first_cost = [&](std::size_t j) { return k.call + lam * (g.t[j] * g.f[j] - g.m[j]); };
  const auto chain = [&](std::size_t from, std::vector<std::size_t>& out) {
    for (std::size_t i = from; i <= n; i = next[i]) out.push_back(i);
  };
  dp_run out;
  if (!window) {
    if (immediate) {
      out.cost = first_cost(0) + v[0];
      chain(0, out.sends);
      return out;
    }
    double best = inf;
    std::size_t arg = n + 1;
    for (std::size_t j = std::max<std::size_t>(g_first, 0); j <= n; ++j) {
      const double c = first_cost(j) + v[j];
      if (c < best) {
        best = c;
        arg = j;
      }
    }
    out.cost = best;
    if (arg <= n) chain(arg, out.sends);
    return out;
  }
  // Forward: w(j) = cheapest way to send at j (everything up to T_j counted). Lines from sends
  // i <= j - g_move: slope -lam F_i (nonincreasing as i grows), queried at T_j (increasing).
  std::vector<double> w(n + 1, inf);
  std::vector<std::size_t> prev(n + 1, n + 1);
  hull.clear();
  for (std::size_t j = 0; j <= n; ++j) {
    if (j >= g_move) {
      const std::size_t i = j - g_move;
      if (w[i] < inf && i + g_move <= n)
        hull.add(-lam * g.f[i], w[i] + k.call * (1.0 - g.f[i]) + lam * g.m[i], i);
    }
    double best = inf;
    if ((immediate && j == 0) || (!immediate && j >= g_first)) best = first_cost(j);
    if (!hull.empty()) {
      const auto [val, i] = hull.query(g.t[j]);
      const double c = lam * (g.t[j] * g.f[j] - g.m[j]) + val;
      if (c < best) {
        best = c;
        prev[j] = i;
      }
    }
    w[j] = best;
  }
  double best = inf;
  std::size_t arg = n + 1;
  for (std::size_t j = window->first; j <= std::min(window->second, n); ++j)
    if (w[j] + v[j] < best) {
      best = w[j] + v[j];
      arg = j;
    }
  out.cost = best;
  if (arg > n) return out;
  std::vector<std::size_t> before;
  for (std::size_t i = arg; i <= n; i = prev[i]) before.push_back(i);
  out.sends.assign(before.rbegin(), before.rend());
  for (std::size_t i = next[arg]; i <= n; i = next[i]) out.sends.push_back(i);
  return out;
}

inline bool multiple_of(double v, double step) {
  const double r = v / step;
  return std::fabs(r - std::round(r)) < 1e-9 * std::max(1.0, r);
}

}  // namespace detail

/// The cheapest schedule on the grid and the lower bound it proves. Errors: a spec out of range
/// (errc::invalid_policy).
inline result<optimum> optimal_plan(const issuance& x, const costs& k, const grid_spec& s,
                                    std::optional<send_window> window = std::nullopt) {
  if (!(s.horizon > 0) || !(s.gap > 0) || !(s.first_gap >= 0) || !(s.start >= 0) ||
      !(k.call >= 0) || !(k.delay >= 0) || s.max_points < 2 || !std::isfinite(s.horizon) ||
      !std::isfinite(s.start))
    return errc::invalid_policy;
  double step = s.step;
  if (step <= 0) {
    // The largest step that divides the horizon and both gaps (in whole milliseconds), cut
    // into equal parts until about 200 000 points cover the horizon.
    const auto ms = [](double v) { return static_cast<std::int64_t>(std::llround(v * 1000)); };
    std::int64_t g = std::gcd(ms(s.horizon), ms(s.gap));
    if (!s.immediate && ms(s.first_gap) > 0) g = std::gcd(g, ms(s.first_gap));
    const double unit = static_cast<double>(std::max<std::int64_t>(g, 1)) / 1000.0;
    const double target = s.horizon / 200000.0;
    step = unit / std::max(1.0, std::ceil(unit / target));
  }
  // Past max_points the step may exceed the gap: rounding a schedule up to the grid then merges
  // sends that fall in one step, which only saves calls, so the bound still holds.
  const double max_n = static_cast<double>(s.max_points);
  if (s.horizon / step > max_n) step = s.horizon / max_n;
  const bool exact = detail::multiple_of(s.horizon, step) && detail::multiple_of(s.gap, step) &&
                     (s.immediate || detail::multiple_of(s.first_gap, step));
  const auto steps_floor = [&](double v) {
    return static_cast<std::size_t>(std::floor(v / step + 1e-9));
  };
  const auto steps_ceil = [&](double v) {
    return static_cast<std::size_t>(std::ceil(v / step - 1e-9));
  };
  const auto to_window = [&](std::size_t n) -> std::optional<std::pair<std::size_t, std::size_t>> {
    if (!window) return std::nullopt;
    const double lo = std::max(0.0, window->lo - s.start), hi = window->hi - s.start;
    if (hi < lo) return std::make_pair(n + 1, n);
    return std::make_pair(steps_ceil(lo), std::min(n, steps_floor(hi)));
  };

  optimum out;
  out.step = step;
  out.exact = exact;
  // The schedule: gaps rounded up, the grid inside the deadline.
  const std::size_t n = steps_floor(s.horizon);
  const detail::dp_grid grid = detail::make_grid(x, s.start, step, n);
  const std::size_t g_up = std::max<std::size_t>(1, steps_ceil(s.gap));
  const detail::dp_run run =
      detail::solve_grid(grid, k, g_up, g_up, s.immediate, steps_ceil(s.first_gap), to_window(n));
  out.points = n + 1;
  out.cost = run.cost;
  out.best.latency = 0;
  for (const std::size_t i : run.sends) out.best.calls.push_back({grid.t[i], grid.t[i]});
  double relaxed = run.cost;
  double f_end = grid.f.back();
  if (!exact) {
    // The bound: gaps rounded down, stopping allowed wherever a machine might, the grid
    // reaching past the deadline.
    const std::size_t n2 = steps_ceil(s.horizon);
    const detail::dp_grid g2 = detail::make_grid(x, s.start, step, n2);
    const std::size_t g_down = std::max<std::size_t>(1, steps_floor(s.gap));
    relaxed = detail::solve_grid(g2, k, g_down, g_up + 1, s.immediate, steps_floor(s.first_gap),
                                 to_window(n2))
                  .cost;
    f_end = g2.f.back();
  }
  out.lower_bound = relaxed - k.delay * step * f_end;
  return out;
}

}  // namespace certretry::tune
