// certretry/tune/plan.hpp — what a poll schedule costs, exactly, for a given issuance time.
//
// A plan is the calls a machine makes while the order is not yet issued, in order: each is sent
// at `send` (seconds from the submission) and sees an issuance up to `covers` (a poll: the
// moment it is sent; a watch held by the server up to W s: send + W). Because a machine's calls
// before issuance do not depend on when issuance comes, one plan describes every order, and with
// X the issuance time:
//   call k is made            iff X > covers(k-1)            (the first always)
//   the call that sees X      the first k with X <= covers(k)
//   added delay               send(k) - X when X <= send(k), else 0 (a held watch answers at X)
//   time to the certificate   max(send(k), X) + latency
// so E[calls] = sum_k P(X > covers(k-1)) and E[delay; seen] = sum_k integral over
// (covers(k-1), send(k)] of (send(k) - x) dF(x), from the distribution's CDF and partial mean.
// p99s are of the orders seen before the plan ends (the rest end still_pending at the deadline).
#pragma once

#include "certretry/tune/issuance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace certretry::tune {

/// One call of a plan.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct call {
  double send = 0;    ///< seconds from the submission
  double covers = 0;  ///< >= send
};

/// The calls a machine makes while the order is not yet issued, in order (see the file's comment).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct plan {
  std::vector<call> calls;  ///< the calls, in order
  double latency = 0;  ///< each call's round trip (the reply arrives this long after it answers)
};

/// A plan's figures. Delays and times are of the orders seen (issued before the plan ended).
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct metrics {
  double calls = 0;       ///< E[calls]
  double p_seen = 0;      ///< P(issued and seen before the plan ends)
  double mean_delay = 0;  ///< E[added delay | seen]
  double p99_delay = 0;   ///< 99th percentile of the added delay (seconds)
  double mean_time = 0;   ///< E[time to the certificate | seen], from the submission
  double p99_time = 0;    ///< 99th percentile of the time to the certificate (seconds)
  double cost = 0;        ///< call_cost * E[calls] + delay_cost * E[delay; seen]
};

/// What a call and a second of added delay cost.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct costs {
  double call = 1.0;    ///< one call
  double delay = 0.01;  ///< one second of added delay
};

namespace detail {

// P(delay > d, seen): the orders that wait more than d for the call that sees them.
inline double delay_tail(const plan& p, const issuance& x, double d) {
  double tail = 0;
  double prev = -std::numeric_limits<double>::infinity();
  for (const call& c : p.calls) {
    const double hi = c.send - d;  // X < hi waits more than d
    const double lo = prev;
    if (hi > lo) tail += std::max(0.0, x.cdf_below(hi) - (std::isfinite(lo) ? x.cdf(lo) : 0.0));
    prev = c.covers;
  }
  return tail;
}

}  // namespace detail

/// A plan's exact figures for issuance time `x` and costs `k`.
inline metrics evaluate(const plan& p, const issuance& x, const costs& k) {
  metrics m;
  if (p.calls.empty()) return m;
  double delay_sum = 0;  // E[delay; seen]
  double prev_f = 0, prev_m = 0;
  bool first = true;
  for (const call& c : p.calls) {
    m.calls += first ? 1.0 : 1.0 - prev_f;
    const double fs = x.cdf(c.send), ms = x.partial_mean(c.send);
    if (fs > prev_f) delay_sum += c.send * (fs - prev_f) - (ms - prev_m);
    prev_f = x.cdf(c.covers);
    prev_m = x.partial_mean(c.covers);
    first = false;
  }
  delay_sum = std::max(0.0, delay_sum);
  m.p_seen = prev_f;
  m.cost = k.call * m.calls + k.delay * delay_sum;
  if (m.p_seen <= 0) return m;
  m.mean_delay = delay_sum / m.p_seen;
  m.mean_time = (delay_sum + prev_m) / m.p_seen + p.latency;

  // p99 delay: the smallest d with P(delay > d | seen) <= 1 %, by bisection on the tail.
  const double target = 0.01 * m.p_seen;
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < p.calls.size(); ++i)
    hi = std::max(hi, p.calls[i].send - (i == 0 ? 0.0 : p.calls[i - 1].covers));
  if (detail::delay_tail(p, x, 0) > target) {
    for (int i = 0; i < 100 && hi - lo > 1e-9 * std::max(1.0, hi); ++i) {
      const double mid = (lo + hi) / 2;
      (detail::delay_tail(p, x, mid) <= target ? hi : lo) = mid;
    }
    m.p99_delay = hi;
  }
  // p99 time: time is nondecreasing in X, so it is the time of the 0.99 * p_seen quantile.
  const double q = x.quantile(0.99 * m.p_seen);
  for (const call& c : p.calls)
    if (q <= c.covers) {
      m.p99_time = std::max(c.send, q) + p.latency;
      break;
    }
  return m;
}

}  // namespace certretry::tune
