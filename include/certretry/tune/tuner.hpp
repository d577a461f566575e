// certretry/tune/tuner.hpp — the cheapest poll schedule for an issuance-time distribution.
//
// Input (problem): when the CA issues (issuance.hpp), what a call and a second of added delay
// cost, the deadline, the floor, an optional rate limit, whether the server sends Retry-After
// or holds a watch (TPP's WorkToDoTimeout), optional p99 constraints and the families the
// recommendation may come from. Output (tuning):
//   - every candidate of the schedule families, each run through the library's machine
//     (machine_runs.hpp) and priced exactly (plan.hpp): fixed, geometric (exponential is
//     factor 2), tables from the dynamic programme, geometric or fixed with jitter (±20 %,
//     full), watch;
//   - the Pareto front over expected calls, mean and p99 added delay;
//   - the lower bound (lower_bound.hpp) and the recommendation: the cheapest candidate that
//     meets the constraints (a simpler one when it costs at most 0.5 % more), as a C++ policy
//     and as harness options;
//   - the anchors (certctl, VCert's 2 s, lego, acme.sh by default) on the same terms, and for
//     each the front's fewest calls at a p99 delay no worse than the anchor's.
// Cost = call_cost * E[calls] + delay_cost * E[added delay; seen], added delay = time from
// issuance to the call that sees it. The Monte Carlo check (confirm) runs the same machines
// against drawn issuance times.
#pragma once

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/tune/issuance.hpp"
#include "certretry/tune/lower_bound.hpp"
#include "certretry/tune/machine_runs.hpp"
#include "certretry/tune/plan.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::tune {

/// A per-order rate limit the schedule must keep.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct rate_limit {
  std::uint32_t calls = 1;  ///< at most this many calls of one order ...
  duration per = 1s;        ///< ... in this long: enforced as calls at least per / calls apart
};

/// The schedule families the tuner tries.
enum class family : std::uint8_t { fixed, geometric, table, jittered, watch, anchor };

/// What the tuner is asked (see the file's comment).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct problem {
  issuance when = issuance::exponential(60s).assume_value();  ///< when the CA issues
  costs cost;                         ///< what a call and a second of delay cost
  duration deadline = 10min;          ///< the machine's deadline
  duration min_delay = 1s;            ///< the policy's floor
  server_setup server;                ///< latency, first call, Retry-After
  std::optional<duration> watch_max;  ///< the server holds a call up to this long
  std::optional<rate_limit> rate;     ///< a rate limit to keep, if any
  /// @{
  std::optional<duration> max_p99_delay, max_p99_time;  ///< constraints on the recommendation
  /// @}
  /// the families the recommendation may come from (every family is priced and shown either
  /// way); empty: any
  std::vector<family> recommend_from;
  double grid_step = 0;  ///< seconds; 0: chosen
  /// the schedules compared with the recommendation
  std::vector<std::string> anchors{"certctl", "vcert", "lego", "acme-sh"};
  std::size_t jitter_draws = 200;  ///< jitter draws priced per jittered candidate
};

/// The family's name, as the tuner's tables print it.
constexpr std::string_view to_string(family f) noexcept {
  switch (f) {
    case family::fixed: return "fixed";
    case family::geometric: return "geometric";
    case family::table: return "table";
    case family::jittered: return "jittered";
    case family::watch: return "watch";
    case family::anchor: return "anchor";
  }
  return "?";
}

/// A schedule written out: what builds it, what the harness reads, what C++ pastes.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct schedule_choice {
  /// @{
  /// How the schedule is written: a name, or a fixed, geometric or table schedule.
  enum class kind : std::uint8_t { named, fixed, geometric, table } k = kind::fixed;
  /// @}
  std::string name;  ///< named
  /// @{
  /// fixed: the delay (base); geometric: the first delay and the cap.
  duration base{}, cap{};
  /// @}
  double factor = 1;            ///< geometric: growth per step
  std::vector<duration> steps;  ///< table

  /// The schedule this describes.
  any_schedule make() const {
    switch (k) {
      case kind::named: return named_schedule(name).value_or(any_schedule{schedules::certctl});
      case kind::fixed: return any_schedule{fixed_schedule{base}};
      case kind::geometric: return any_schedule{geometric_schedule{base, factor, cap}};
      case kind::table: return any_schedule{table_schedule{std::span<const duration>(steps)}};
    }
    return any_schedule{schedules::certctl};
  }
};

/// Seconds as the docs write them: 2, 2.5, 0.05, 103.25.
inline std::string secs(double s) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  std::string t = buf;
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t;
}
/// `d` as secs() writes seconds.
inline std::string secs(duration d) { return secs(seconds_of(d)); }

/// The harness's `schedule` text (backoff/schedule.hpp, parse_schedule).
inline std::string spec_of(const schedule_choice& s) {
  switch (s.k) {
    case schedule_choice::kind::named: return s.name;
    case schedule_choice::kind::fixed: return "fixed:" + secs(s.base);
    case schedule_choice::kind::geometric: {
      char f[32];
      std::snprintf(f, sizeof f, "%g", s.factor);
      return "geometric:" + secs(s.base) + "," + f + "," + secs(s.cap);
    }
    case schedule_choice::kind::table: {
      std::string out = "table:";
      for (std::size_t i = 0; i < s.steps.size(); ++i) out += (i ? "," : "") + secs(s.steps[i]);
      return out;
    }
  }
  return {};
}

/// A duration as a C++ literal: 5s, 1500ms, 10min.
inline std::string cpp_duration(duration d) {
  const auto ms = d.count();
  if (ms % 60000 == 0 && ms != 0) return std::to_string(ms / 60000) + "min";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

/// The schedule as C++ code (a policy's schedule argument).
inline std::string cpp_of(const schedule_choice& s) {
  switch (s.k) {
    case schedule_choice::kind::named: {
      std::string n = s.name;
      std::replace(n.begin(), n.end(), '-', '_');
      return "certretry::schedules::" + n;
    }
    case schedule_choice::kind::fixed:
      return "certretry::fixed_schedule{" + cpp_duration(s.base) + "}";
    case schedule_choice::kind::geometric: {
      char f[32];
      std::snprintf(f, sizeof f, "%g", s.factor);
      std::string fs = f;
      if (fs.find('.') == std::string::npos) fs += ".0";
      return "certretry::geometric_schedule{" + cpp_duration(s.base) + ", " + fs + ", " +
             cpp_duration(s.cap) + "}";
    }
    case schedule_choice::kind::table: {
      std::string out = "certretry::table_schedule{";
      for (std::size_t i = 0; i < s.steps.size(); ++i)
        out += (i ? ", " : "") + cpp_duration(s.steps[i]);
      return out + "}";
    }
  }
  return {};
}

/// How people name it: "geometric 5 s x3 to 300 s".
inline std::string label_of(const schedule_choice& s) {
  switch (s.k) {
    case schedule_choice::kind::named: return s.name;
    case schedule_choice::kind::fixed: return "every " + secs(s.base) + " s";
    case schedule_choice::kind::geometric: {
      char f[32];
      std::snprintf(f, sizeof f, "%g", s.factor);
      return secs(s.base) + " s x" + f + " to " + secs(s.cap) + " s";
    }
    case schedule_choice::kind::table: {
      std::string out;
      for (std::size_t i = 0; i < s.steps.size(); ++i) out += (i ? ", " : "") + secs(s.steps[i]);
      return out + " s";
    }
  }
  return {};
}

/// One schedule the tuner priced.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct candidate {
  family fam = family::fixed;     ///< its family
  schedule_choice schedule;       ///< the schedule
  std::string jitter = "none";    ///< none, pct (20 %), full
  std::optional<duration> watch;  ///< TPP's WorkToDoTimeout, for the watch family
  std::string note;               ///< "DP, delay cost x2" and the like
  metrics m;                      ///< its figures
  bool feasible = true;           ///< meets the p99 constraints
  bool front = false;             ///< on the Pareto front (calls, mean delay, p99 delay)

  /// How the tables name it: the schedule, its jitter and watch.
  std::string label() const {
    if (watch) return "watch " + secs(*watch) + " s";
    std::string out = label_of(schedule);
    if (jitter == "pct") out += ", ±20 %";
    if (jitter == "full") out += ", full jitter";
    return out;
  }
};

/// What the tuner found (see the file's comment).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct tuning {
  std::vector<candidate> candidates;       ///< every family's points, then the anchors
  std::optional<std::size_t> recommended;  ///< the index of the recommended candidate, if any
  optimum dp;                              ///< the DP at the problem's costs (the lower bound)
  std::optional<optimum> dp_constrained;   ///< with a send forced by max_p99_time
  std::vector<std::pair<double, metrics>> dp_curve;  ///< (delay cost factor, the DP plan's figures)
  /// @{
  double floor_s = 1, gap_s = 1;  ///< the effective floor and least gap between sends
  /// @}
  std::string error;  ///< why nothing could be recommended, or empty
};

/// The policy every candidate of a problem runs with.
inline backoff_policy<any_schedule, any_jitter> policy_for(const problem& p, any_schedule s,
                                                           std::string_view jitter = "none") {
  limits l;
  l.max_wait = p.deadline;
  l.min_delay = p.min_delay;
  if (p.rate && p.rate->calls > 0) {
    const duration gap = p.rate->per / p.rate->calls;
    l.min_delay = std::max(l.min_delay, gap - std::min(gap, p.server.latency));
  }
  const any_jitter j = jitter == "pct"    ? any_jitter{proportional_jitter{0.2}}
                       : jitter == "full" ? any_jitter{full_jitter{}}
                                          : any_jitter{no_jitter{}};
  return {s, j, l, retry_after_policy{}};
}

/// The machine policy a candidate runs with.
inline machine_policy machine_policy_of(const problem& p, const candidate& c) {
  machine_policy mp{policy_for(p, c.schedule.make(), c.jitter), c.watch};
  return mp;
}

/// The plans a candidate makes: one, or one per jitter draw.
inline std::vector<plan> plans_of(const problem& p, const candidate& c) {
  const machine_policy mp = machine_policy_of(p, c);
  std::vector<plan> out;
  const std::size_t draws = c.jitter == "none" ? 1 : std::max<std::size_t>(1, p.jitter_draws);
  for (std::size_t i = 0; i < draws; ++i) out.push_back(plan_of(p.server, mp, i + 1));
  return out;
}

/// The figures of a mixture of plans (a jittered schedule: one plan per draw, equally likely).
inline metrics evaluate_all(const std::vector<plan>& plans, const issuance& x, const costs& k) {
  if (plans.size() == 1) return evaluate(plans.front(), x, k);
  metrics m;
  const double w = 1.0 / static_cast<double>(plans.size());
  double delay_sum = 0, time_sum = 0;
  for (const plan& pl : plans) {
    const metrics one = evaluate(pl, x, k);
    m.calls += w * one.calls;
    m.p_seen += w * one.p_seen;
    m.cost += w * one.cost;
    delay_sum += w * one.mean_delay * one.p_seen;
    time_sum += w * one.mean_time * one.p_seen;
  }
  if (m.p_seen <= 0) return m;
  m.mean_delay = delay_sum / m.p_seen;
  m.mean_time = time_sum / m.p_seen;
  const double target = 0.01 * m.p_seen;
  const auto delay_tail = [&](double d) {
    double t = 0;
    for (const plan& pl : plans) t += w * detail::delay_tail(pl, x, d);
    return t;
  };
  // P(time > y, seen): time is nondecreasing in X within each plan.
  const auto time_tail = [&](double y) {
    double t = 0;
    for (const plan& pl : plans) {
      double seen_by = 0;  // the latest issuance answered by y
      for (const call& c : pl.calls)
        if (c.send + pl.latency <= y)
          seen_by = std::max(seen_by, std::min(c.covers, y - pl.latency));
      const double f_end = pl.calls.empty() ? 0.0 : x.cdf(pl.calls.back().covers);
      t += w * std::max(0.0, f_end - x.cdf(seen_by));
    }
    return t;
  };
  const auto p99 = [&](auto tail, double hi) {
    double lo = 0;
    if (tail(0.0) <= target) return 0.0;
    while (tail(hi) > target && hi < 1e12) hi *= 2;
    for (int i = 0; i < 100 && hi - lo > 1e-9 * std::max(1.0, hi); ++i) {
      const double mid = (lo + hi) / 2;
      (tail(mid) <= target ? hi : lo) = mid;
    }
    return hi;
  };
  double span = 1;
  for (const plan& pl : plans)
    if (!pl.calls.empty()) span = std::max(span, pl.calls.back().covers + pl.latency);
  m.p99_delay = p99(delay_tail, span);
  m.p99_time = p99(time_tail, span);
  return m;
}

namespace detail {

// a dominates b: no worse in calls, mean and p99 delay, better in one.
inline bool dominates(const metrics& a, const metrics& b) {
  const double e = 1e-9;
  const bool no_worse =
      a.calls <= b.calls + e && a.mean_delay <= b.mean_delay + e && a.p99_delay <= b.p99_delay + e;
  const bool better =
      a.calls < b.calls - e || a.mean_delay < b.mean_delay - e || a.p99_delay < b.p99_delay - e;
  return no_worse && better;
}

// Round to `digits` significant digits (a schedule people can read), at least a millisecond.
inline duration round_sig(double seconds, int digits) {
  if (!(seconds > 0)) return duration::zero();
  const double p = std::pow(10.0, std::floor(std::log10(seconds)) - (digits - 1));
  return std::max(duration{1}, duration{std::llround(std::round(seconds / p) * p * 1000.0)});
}

// Log-spaced values from lo to hi, rounded to 2 significant digits, without repeats.
inline std::vector<duration> ladder(double lo, double hi, int n) {
  std::vector<duration> out;
  for (int i = 0; i < n; ++i) {
    const double v = lo * std::pow(hi / lo, n == 1 ? 0.0 : static_cast<double>(i) / (n - 1));
    const duration d = round_sig(v, 2);
    if (out.empty() || d != out.back()) out.push_back(d);
  }
  return out;
}

// A plan's sends as a table schedule for the machine: the waits between them (after the reply's
// latency), 16 at most, the last repeating.
inline schedule_choice table_from(const plan& pl, const problem& p, int digits) {
  schedule_choice s;
  s.k = schedule_choice::kind::table;
  const double lat = seconds_of(p.server.latency);
  const bool immediate = p.server.first == first_call::immediate;
  std::vector<double> t;
  if (!immediate) t.push_back(lat);  // the machine's start
  for (const call& c : pl.calls) t.push_back(c.send);
  for (std::size_t i = 1; i < t.size() && s.steps.size() < table_schedule::max_steps; ++i) {
    const double w = t[i] - t[i - 1] - (immediate || i > 1 ? lat : 0.0);
    s.steps.push_back(digits > 0 ? round_sig(w, digits)
                                 : duration{std::llround(std::max(0.0, w) * 1000.0)});
  }
  if (s.steps.empty()) s.steps.push_back(p.deadline);
  return s;
}

}  // namespace detail

/// Figures of one candidate under the problem.
inline metrics price(const problem& p, const candidate& c) {
  return evaluate_all(plans_of(p, c), p.when, p.cost);
}

/// Runs the tuner: every candidate priced, the front, the lower bound and the recommendation.
inline tuning tune_schedules(const problem& p) {
  tuning out;
  const double lat = seconds_of(p.server.latency);
  const machine_policy base = {policy_for(p, any_schedule{schedules::certctl}), std::nullopt};
  const double floor_s = seconds_of(base.backoff.run_limits().effective_min_delay());
  const double ra = p.server.retry_after ? seconds_of(*p.server.retry_after) : 0.0;
  out.floor_s = floor_s;
  out.gap_s = lat + std::max(floor_s, ra);
  const double horizon = seconds_of(p.deadline);
  if (!(horizon > 0)) {
    out.error = "the deadline must be positive";
    return out;
  }
  // A rate limit whose spacing lies past the deadline raises the floor past it: validate()
  // refuses such a policy (min_delay over max_wait), so every machine would send nothing.
  if (p.rate && p.rate->calls > 0 && base.backoff.run_limits().min_delay > p.deadline) {
    const auto secs = [](duration d) {
      return std::to_string(std::chrono::ceil<std::chrono::seconds>(d).count());
    };
    out.error = "the rate limit (" + std::to_string(p.rate->calls) + " calls per " +
                secs(p.rate->per) + " s) keeps calls " + secs(base.backoff.run_limits().min_delay) +
                " s apart, past the deadline (" + secs(p.deadline) +
                " s): a policy with that floor sends nothing (min_delay over max_wait); raise "
                "deadline_s or the rate limit's calls";
    return out;
  }

  // --- the lower bound -------------------------------------------------------------------
  grid_spec g;
  g.start = lat;
  g.horizon = horizon;
  g.gap = out.gap_s;
  g.first_gap = std::max(floor_s, ra);
  g.immediate = p.server.first == first_call::immediate;
  g.step = p.grid_step;
  auto dp = optimal_plan(p.when, p.cost, g);
  if (!dp) {
    out.error = "the dynamic programme's grid is out of range";
    return out;
  }
  out.dp = std::move(dp).assume_value();
  out.dp.best.latency = lat;

  std::vector<candidate>& cs = out.candidates;
  const auto add = [&](candidate c) {
    c.m = price(p, c);
    cs.push_back(std::move(c));
  };

  // --- tables from the DP over a sweep of delay costs ---------------------------------------
  for (const double f : {1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1.0, 2.0, 4.0, 8.0, 16.0}) {
    costs k = p.cost;
    k.delay *= f;
    const auto r = f == 1.0 ? result<optimum>(out.dp) : optimal_plan(p.when, k, g);
    if (!r || r.assume_value().best.calls.empty()) continue;
    plan pl = r.assume_value().best;
    pl.latency = lat;
    out.dp_curve.push_back({f, evaluate(pl, p.when, p.cost)});
    for (const int digits : {0, 2}) {
      candidate c;
      c.fam = family::table;
      c.schedule = detail::table_from(pl, p, digits);
      char note[64];
      std::snprintf(note, sizeof note, "DP at delay cost x%g%s", f, digits ? ", rounded" : "");
      c.note = note;
      add(std::move(c));
    }
  }
  if (p.max_p99_time) {
    // A send right after the 99th percentile of issuance, at the latest max_p99_time.
    const double q = p.when.quantile(0.99 * p.when.cdf(lat + horizon));
    const auto r =
        optimal_plan(p.when, p.cost, g, send_window{q, seconds_of(*p.max_p99_time) - lat});
    if (r && !r.assume_value().best.calls.empty() && std::isfinite(r.assume_value().cost)) {
      out.dp_constrained = r.assume_value();
      out.dp_constrained->best.latency = lat;
      for (const int digits : {0, 2}) {
        candidate c;
        c.fam = family::table;
        c.schedule = detail::table_from(out.dp_constrained->best, p, digits);
        c.note = digits ? "DP with the p99-time send, rounded" : "DP with the p99-time send";
        add(std::move(c));
      }
    }
  }

  // --- fixed and geometric ---------------------------------------------------------------
  const double lo = std::max(floor_s, 0.05), hi = std::max(lo * 2, horizon / 2);
  for (const duration d : detail::ladder(lo, hi, 24)) {
    candidate c;
    c.fam = family::fixed;
    c.schedule.k = schedule_choice::kind::fixed;
    c.schedule.base = d;
    add(std::move(c));
  }
  for (const duration b : detail::ladder(lo, hi / 2, 16))
    for (const double f : {1.25, 1.5, 2.0, 3.0})
      for (const double capf : {0.125, 0.25, 0.5, 1.0}) {
        const duration cap = detail::round_sig(horizon * capf, 2);
        if (cap <= b) continue;
        candidate c;
        c.fam = family::geometric;
        c.schedule.k = schedule_choice::kind::geometric;
        c.schedule.base = b;
        c.schedule.factor = f;
        c.schedule.cap = cap;
        add(std::move(c));
      }

  // --- jitter on the cheapest fixed and geometric schedules --------------------------------
  {
    std::vector<std::size_t> plain;
    for (std::size_t i = 0; i < cs.size(); ++i)
      if (cs[i].fam == family::fixed || cs[i].fam == family::geometric) plain.push_back(i);
    std::sort(plain.begin(), plain.end(),
              [&](std::size_t a, std::size_t b) { return cs[a].m.cost < cs[b].m.cost; });
    plain.resize(std::min<std::size_t>(plain.size(), 3));
    for (const std::size_t i : plain)
      for (const char* j : {"pct", "full"}) {
        candidate c;
        c.fam = family::jittered;
        c.schedule = cs[i].schedule;
        c.jitter = j;
        add(std::move(c));
      }
  }

  // --- watch ------------------------------------------------------------------------------
  if (p.watch_max && *p.watch_max >= 1s) {
    std::vector<duration> ws;
    for (const duration w : {5s, 10s, 15s, 30s, 60s, 120s, 300s, 600s, 1800s, 3600s})
      if (w < *p.watch_max) ws.push_back(w);
    ws.push_back(std::chrono::floor<std::chrono::seconds>(*p.watch_max));
    for (const duration w : ws) {
      candidate c;
      c.fam = family::watch;
      c.schedule.k = schedule_choice::kind::named;
      c.schedule.name = "certctl";  // paces errors and a server that answers at once
      c.watch = w;
      add(std::move(c));
    }
  }

  // --- anchors -------------------------------------------------------------------------------
  for (const std::string& a : p.anchors) {
    if (!named_schedule(a)) continue;
    candidate c;
    c.fam = family::anchor;
    c.schedule.k = schedule_choice::kind::named;
    c.schedule.name = a;
    add(std::move(c));
  }

  // --- for each anchor: the DP's table at the delay cost that matches the anchor's p99 delay --
  {
    grid_spec coarse = g;
    coarse.step = horizon / 20000.0;
    const auto table_at = [&](double f) -> std::optional<candidate> {
      costs k = p.cost;
      k.delay = (p.cost.delay > 0 ? p.cost.delay : 1e-3) * f;
      const auto r = optimal_plan(p.when, k, coarse);
      if (!r || r.assume_value().best.calls.empty()) return std::nullopt;
      candidate c;
      c.fam = family::table;
      c.schedule = detail::table_from(r.assume_value().best, p, 0);
      c.m = price(p, c);
      return c;
    };
    const std::size_t n_before = cs.size();
    for (std::size_t a = 0; a < n_before; ++a) {
      if (cs[a].fam != family::anchor || cs[a].m.p_seen <= 0) continue;
      const double target = cs[a].m.p99_delay;
      double f_lo = std::log(1.0 / 64), f_hi = std::log(65536.0);
      auto best = table_at(std::exp(f_hi));
      if (!best || best->m.p99_delay > target) continue;
      for (int i = 0; i < 16; ++i) {
        const double mid = (f_lo + f_hi) / 2;
        auto c = table_at(std::exp(mid));
        if (c && c->m.p99_delay <= target) {
          f_hi = mid;
          best = std::move(c);
        } else {
          f_lo = mid;
        }
      }
      best->note = "DP matched to " + cs[a].schedule.name + "'s p99 delay";
      cs.push_back(std::move(*best));
    }
  }

  // --- constraints, front, recommendation ----------------------------------------------------
  for (candidate& c : cs) {
    c.feasible = c.m.p_seen > 0;
    if (p.max_p99_delay)
      c.feasible = c.feasible && c.m.p99_delay <= seconds_of(*p.max_p99_delay) + 1e-9;
    if (p.max_p99_time)
      c.feasible = c.feasible && c.m.p99_time <= seconds_of(*p.max_p99_time) + 1e-9;
  }
  for (std::size_t i = 0; i < cs.size(); ++i) {
    cs[i].front = true;
    for (std::size_t j = 0; j < cs.size() && cs[i].front; ++j)
      if (j != i && detail::dominates(cs[j].m, cs[i].m)) cs[i].front = false;
  }
  const auto simplicity = [](const candidate& c) {
    switch (c.fam) {
      case family::watch:
      case family::fixed: return 0;
      case family::geometric: return 1;
      case family::table: return c.note.find("rounded") != std::string::npos ? 2 : 3;
      case family::jittered: return 4;
      case family::anchor: return 5;
    }
    return 6;
  };
  const auto eligible = [&](const candidate& c) {
    return c.feasible && c.fam != family::anchor &&
           (p.recommend_from.empty() || std::find(p.recommend_from.begin(), p.recommend_from.end(),
                                                  c.fam) != p.recommend_from.end());
  };
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < cs.size(); ++i)
    if (eligible(cs[i]) && (!best || cs[i].m.cost < cs[*best].m.cost)) best = i;
  if (best) {
    const double limit = cs[*best].m.cost * 1.005;
    for (std::size_t i = 0; i < cs.size(); ++i)
      if (eligible(cs[i]) && cs[i].m.cost <= limit &&
          (simplicity(cs[i]) < simplicity(cs[*best]) ||
           (simplicity(cs[i]) == simplicity(cs[*best]) && cs[i].m.cost < cs[*best].m.cost)))
        best = i;
  }
  out.recommended = best;
  if (!best) {
    out.error = p.recommend_from.empty()
                    ? "no schedule meets the constraints"
                    : "no schedule of the families asked meets the constraints";
    // The one case no schedule can help: honouring the first Retry-After ends the run unpolled.
    if (p.server.first == first_call::after_wait && p.server.retry_after &&
        *p.server.retry_after > p.deadline)
      out.error +=
          ": the server's first Retry-After (" +
          std::to_string(std::chrono::ceil<std::chrono::seconds>(*p.server.retry_after).count()) +
          " s) lies past the deadline (" +
          std::to_string(std::chrono::ceil<std::chrono::seconds>(p.deadline).count()) +
          " s), so no poll can be sent; raise deadline_s";
  }
  return out;
}

/// The front's candidate with the fewest calls at a p99 delay no worse than `limit` (anchors
/// excluded).
inline std::optional<std::size_t> fewest_calls_within(const tuning& t, double p99_limit) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < t.candidates.size(); ++i) {
    const candidate& c = t.candidates[i];
    if (c.fam == family::anchor || c.m.p99_delay > p99_limit + 1e-9 || c.m.p_seen <= 0) continue;
    if (!best || c.m.calls < t.candidates[*best].m.calls) best = i;
  }
  return best;
}

/// The candidate's figures measured: `orders` orders through its machine (a jittered one with
/// the same draws its exact figures average over).
inline monte_carlo simulate_candidate(const problem& p, const candidate& c, std::size_t orders,
                                      std::uint64_t seed) {
  const std::size_t cycle = c.jitter == "none" ? 0 : std::max<std::size_t>(1, p.jitter_draws);
  return simulate(p.server, machine_policy_of(p, c), p.when, p.cost, orders, seed, cycle);
}

/// The C++ policy value of a candidate, ready to paste.
inline std::string cpp_policy(const problem& p, const candidate& c) {
  const auto pol = policy_for(p, c.schedule.make(), c.jitter);
  std::string limits = "certretry::limits{.max_wait = " + cpp_duration(p.deadline) +
                       ", .min_delay = " + cpp_duration(pol.run_limits().min_delay) + "}";
  if (c.watch)
    return "certretry::tpp::enroll_options options{.mode = certretry::tpp::retrieve_mode::watch, "
           ".watch = " +
           cpp_duration(*c.watch) + "};\nauto policy = certretry::backoff_policy{" +
           cpp_of(c.schedule) + ", certretry::no_jitter{},\n    " + limits + "};";
  const std::string jitter = c.jitter == "pct"    ? "certretry::proportional_jitter{0.2}"
                             : c.jitter == "full" ? "certretry::full_jitter{}"
                                                  : "certretry::no_jitter{}";
  return "auto policy = certretry::backoff_policy{" + cpp_of(c.schedule) + ", " + jitter +
         ",\n    " + limits + "};";
}

/// The same as the options of a harness scenario (docs/harness.md).
inline std::string harness_options(const problem& p, const candidate& c) {
  const auto pol = policy_for(p, c.schedule.make(), c.jitter);
  const std::string common =
      "\"max_wait_s\":" + secs(p.deadline) + ",\"min_delay_s\":" + secs(pol.run_limits().min_delay);
  if (c.watch)
    return "{\"machine\":\"tpp-enroll\",\"options\":{\"mode\":\"watch\",\"watch_s\":" +
           secs(*c.watch) + "," + common + "}}";
  const std::string machine = p.server.first == first_call::immediate ? "async-poll" : "acme-poll";
  std::string jitter =
      c.jitter == "none" ? "\"jitter\":\"none\"" : "\"jitter\":\"" + c.jitter + "\"";
  if (c.jitter == "pct") jitter += ",\"jitter_pct\":20";
  return "{\"machine\":\"" + machine + "\",\"options\":{\"schedule\":\"" + spec_of(c.schedule) +
         "\"," + jitter + "," + common + "}}";
}

}  // namespace certretry::tune
