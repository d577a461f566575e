// certretry/tune/machine_runs.hpp — the tuner's schedules as the library's own machines run them.
//
// A schedule is never turned into poll times by a formula of the tuner's: the machine is run
// (run() on a virtual clock) against a server that does not issue, and the sends it makes are
// the plan (plan.hpp), the deadline clamp, the floor and the server's Retry-After included.
// The Monte Carlo check runs the same machine against a server that issues at a drawn time.
//   first call immediate   async_ca_poll_machine (generic profile), polling at once: an
//                          asynchronous CA after the order (certctl's poller)
//   first call after wait  acme::resource_poll_machine with wait_first: an ACME order after finalize
//   watch                  tpp::enroll_machine in watch mode: each retrieve carries
//                          WorkToDoTimeout and the server holds it until issuance or timeout
// The submission (order, finalize, TPP request) is sent at t = 0 and not counted as a call.
#pragma once

#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/random.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"
#include "certretry/tune/issuance.hpp"
#include "certretry/tune/plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::tune {

/// Whether the first call goes out at submission or after the first wait.
enum class first_call : std::uint8_t { immediate, after_wait };

/// What the server does, for every schedule alike.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct server_setup {
  duration latency{};                        ///< each call's round trip
  first_call first = first_call::immediate;  ///< the first call at submission, or after a wait
  std::optional<duration> retry_after;       ///< on every pending reply (and the submission's)
};

/// A schedule as a machine runs it: the backoff policy, or a watch.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct machine_policy {
  /// the backoff policy
  backoff_policy<any_schedule, any_jitter> backoff{any_schedule{schedules::certctl},
                                                   any_jitter{no_jitter{}}};
  std::optional<duration> watch;  ///< TPP's WorkToDoTimeout: every retrieve is held up to this
};

/// One order as the machine lived it.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct order_run {
  bool seen = false;        ///< issued before the machine gave up
  std::uint32_t calls = 0;  ///< calls made
  double delay = 0;         ///< seconds: the call that saw it was sent this long after issuance
  double time = 0;          ///< seconds from the submission to the reply that said issued
};

namespace detail {

inline double since(time_point origin, time_point now) {
  return std::chrono::duration<double>(now - origin).count();
}

// A server for one order that issues at `x` seconds after the submission (infinity: never).
class issuing_server {
 public:
  issuing_server(virtual_clock& clock, const server_setup& s, double x, bool watch)
      : clock_(&clock), origin_(clock.now()), setup_(s), x_(x), watch_(watch) {}

  result<response> send(const request_view& req) {
    const double s = since(origin_, clock_->now());
    if (req.target == tpp::request_path) {  // the submission of a watched enrollment
      clock_->advance(setup_.latency);
      return response{200, {}, R"({"CertificateDN":"\\VED\\Policy\\tuned"})"};
    }
    double covers = s;
    if (watch_) covers = s + hold_of(req.body);
    const bool issued = x_ <= covers;
    calls_.push_back({s, covers});
    if (issued && x_ > s)  // a held watch answers when the certificate is issued
      clock_->advance(duration{static_cast<std::int64_t>(std::ceil((x_ - s) * 1000.0))});
    else if (!issued && covers > s)
      clock_->advance(certretry::detail::saturate_ms((covers - s) * 1000.0));
    clock_->advance(setup_.latency);
    if (issued) {
      seen_at_ = s;
      return issued_reply(req);
    }
    return pending_reply(req);
  }

  const std::vector<call>& calls() const noexcept { return calls_; }
  std::optional<double> seen_at() const noexcept { return seen_at_; }
  time_point origin() const noexcept { return origin_; }

 private:
  static double hold_of(std::string_view body) {
    constexpr std::string_view key = "\"WorkToDoTimeout\":\"";
    const auto at = body.find(key);
    if (at == std::string_view::npos) return 0;
    const char* b = body.data() + at + key.size();
    double v = 0;
    const auto [end, ec] = std::from_chars(b, body.data() + body.size(), v);
    return ec == std::errc{} && end != b ? v : 0;
  }

  std::vector<header_field> headers() {
    std::vector<header_field> h;
    h.push_back({"Replay-Nonce", "tune" + std::to_string(++nonces_)});
    return h;
  }

  result<response> issued_reply(const request_view& req) {
    if (watch_) return response{200, {}, R"({"CertificateData":"TUlJQ3R1bmVk"})"};
    if (req.method == "POST") return response{200, headers(), R"({"status":"valid"})"};
    return response{200, {}, R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----"})"};
  }

  result<response> pending_reply(const request_view& req) {
    std::vector<header_field> h =
        req.method == "POST" && !watch_ ? headers() : std::vector<header_field>{};
    if (setup_.retry_after)
      h.push_back(
          {"Retry-After",
           std::to_string(std::chrono::ceil<std::chrono::seconds>(*setup_.retry_after).count())});
    if (watch_) return response{202, std::move(h), R"({"Stage":500,"Status":"Post CSR"})"};
    if (req.method == "POST") return response{200, std::move(h), R"({"status":"processing"})"};
    return response{200, std::move(h), R"({"status":"pending"})"};
  }

  virtual_clock* clock_;
  time_point origin_;
  server_setup setup_;
  double x_;
  bool watch_;
  std::vector<call> calls_;
  std::optional<double> seen_at_;
  std::uint64_t nonces_ = 0;
};

// Runs the machine the setup and policy call for against `server`; the clock stands at the
// submission's send.
inline outcome drive(const server_setup& s, const machine_policy& p, std::uint64_t seed,
                     issuing_server& server, virtual_clock& clock) {
  virtual_sleeper sleeper{clock};
  if (p.watch) {
    tpp::enroll_options o;
    o.strategy = tpp::reset_strategy::query_only;
    o.mode = tpp::retrieve_mode::watch;
    o.watch = *p.watch;
    tpp::enroll_machine<> m{std::move(o), p.backoff, splitmix64{seed}};
    return run(m, server, clock, sleeper);
  }
  clock.advance(s.latency);  // the submission's reply: the machine starts now
  if (s.first == first_call::after_wait) {
    acme::poll_options o;
    o.url = "/order/1";
    o.kind = acme::resource_kind::order;
    o.nonce.initial = "tune0";
    o.wait_first = true;
    o.first_retry_after = s.retry_after;
    acme::resource_poll_machine<> m{std::move(o), p.backoff, splitmix64{seed}};
    return run(m, server, clock, sleeper);
  }
  async_ca_poll_machine<> m{async_ca_triage{{async_ca::generic, "1", ""}}, p.backoff,
                            splitmix64{seed}};
  return run(m, server, clock, sleeper);
}

}  // namespace detail

/// The calls the machine makes for an order that is never issued: the plan of every order.
inline plan plan_of(const server_setup& s, const machine_policy& p, std::uint64_t seed = 1) {
  virtual_clock clock;
  detail::issuing_server server{clock, s, std::numeric_limits<double>::infinity(),
                                p.watch.has_value()};
  detail::drive(s, p, seed, server, clock);
  plan out;
  out.calls = server.calls();
  out.latency = seconds_of(s.latency);
  return out;
}

/// One order issued `x` seconds after its submission.
inline order_run run_order(const server_setup& s, const machine_policy& p, double x,
                           std::uint64_t seed = 1) {
  virtual_clock clock;
  detail::issuing_server server{clock, s, x, p.watch.has_value()};
  const outcome o = detail::drive(s, p, seed, server, clock);
  order_run r;
  r.calls = static_cast<std::uint32_t>(server.calls().size());
  const bool done = o.kind == outcome_kind::issued || o.kind == outcome_kind::completed;
  if (done && server.seen_at()) {
    r.seen = true;
    r.delay = std::max(0.0, *server.seen_at() - x);
    r.time = detail::since(server.origin(), clock.now());
  }
  return r;
}

/// What the machine did over many orders, and how far each figure can be from the truth.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct monte_carlo {
  /// @{
  /// Orders simulated, and of them those issued before the machine gave up.
  std::size_t orders = 0, seen = 0;
  /// @}
  /// @{
  /// Mean calls per order, and its standard error.
  double calls = 0, calls_se = 0;
  /// @}
  /// @{
  /// Mean added delay (seconds) of the orders seen, and its standard error.
  double mean_delay = 0, mean_delay_se = 0;
  /// @}
  /// @{
  double p99_delay = 0, p99_delay_lo = 0, p99_delay_hi = 0;  ///< nearest rank; 99.9 % interval
  /// @}
  double mean_time = 0;  ///< mean time to the certificate (seconds) of the orders seen
  /// @{
  /// 99th percentile of the time to the certificate, and its 99.9 % interval.
  double p99_time = 0, p99_time_lo = 0, p99_time_hi = 0;
  /// @}
  /// @{
  /// Mean cost per order (costs), and its standard error.
  double cost = 0, cost_se = 0;
  /// @}
};

namespace detail {

struct running {
  double n = 0, sum = 0, sum2 = 0;
  void add(double v) {
    n += 1;
    sum += v;
    sum2 += v * v;
  }
  double mean() const { return n > 0 ? sum / n : 0; }
  double se() const {
    if (n < 2) return 0;
    const double m = mean();
    return std::sqrt(std::max(0.0, (sum2 / n - m * m)) / (n - 1));
  }
};

// The 99th percentile (nearest rank) and a distribution-free 99.9 % interval around it from
// the order statistics (binomial ranks, normal approximation: docs/sources.md#quantile-confidence).
inline void percentile_99(std::vector<double>& v, double& p, double& lo, double& hi) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  const auto at = [&](double rank) {
    const double r = std::clamp(rank, 1.0, n);
    return v[static_cast<std::size_t>(r) - 1];
  };
  const double spread = 3.29 * std::sqrt(n * 0.99 * 0.01);
  p = at(std::ceil(0.99 * n));
  lo = at(std::floor(0.99 * n - spread));
  hi = at(std::ceil(0.99 * n + spread) + 1);
}

}  // namespace detail

/// `orders` orders with issuance times drawn from `x` (seeded), each run through the machine.
/// With `seed_cycle` n > 0, order i runs the machine with seed (i mod n) + 1: the same jitter
/// draws plan_of gives for seeds 1..n, so a jittered schedule's exact figures (a mixture of n
/// plans) and the simulation describe the same thing.
inline monte_carlo simulate(const server_setup& s, const machine_policy& p, const issuance& x,
                            const costs& k, std::size_t orders, std::uint64_t seed,
                            std::size_t seed_cycle = 0) {
  splitmix64 draws{seed};
  monte_carlo mc;
  mc.orders = orders;
  detail::running calls, delay, time, cost;
  std::vector<double> delays, times;
  delays.reserve(orders);
  times.reserve(orders);
  for (std::size_t i = 0; i < orders; ++i) {
    const double xi = x.sample(draws);
    const std::uint64_t machine_seed =
        seed_cycle ? i % seed_cycle + 1 : seed ^ ((i + 1) * 0x9e3779b97f4a7c15ULL);
    const order_run r = run_order(s, p, xi, machine_seed);
    calls.add(r.calls);
    cost.add(k.call * r.calls + k.delay * (r.seen ? r.delay : 0.0));
    if (!r.seen) continue;
    ++mc.seen;
    delay.add(r.delay);
    time.add(r.time);
    delays.push_back(r.delay);
    times.push_back(r.time);
  }
  mc.calls = calls.mean();
  mc.calls_se = calls.se();
  mc.mean_delay = delay.mean();
  mc.mean_delay_se = delay.se();
  mc.mean_time = time.mean();
  mc.cost = cost.mean();
  mc.cost_se = cost.se();
  detail::percentile_99(delays, mc.p99_delay, mc.p99_delay_lo, mc.p99_delay_hi);
  detail::percentile_99(times, mc.p99_time, mc.p99_time_lo, mc.p99_time_hi);
  return mc;
}

/// Whether the simulation confirms the exact figures: each mean within 4 standard errors (and
/// a millisecond, the clock's resolution), each p99 inside its interval (with a millisecond).
inline bool confirms(const monte_carlo& mc, const metrics& m) {
  const auto near = [](double a, double b, double se) {
    return std::fabs(a - b) <= 4 * se + 1e-3 + 1e-6 * std::fabs(b);
  };
  return near(mc.calls, m.calls, mc.calls_se) &&
         near(mc.mean_delay, m.mean_delay, mc.mean_delay_se) &&
         m.p99_delay >= mc.p99_delay_lo - 1e-3 && m.p99_delay <= mc.p99_delay_hi + 1e-3 &&
         m.p99_time >= mc.p99_time_lo - 1e-3 && m.p99_time <= mc.p99_time_hi + 1e-3;
}

}  // namespace certretry::tune
