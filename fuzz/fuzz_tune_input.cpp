// The tuner's input is what users write and share: a tuning file (docs/tuning.md) and a CSV of
// measured issuance times. The input is "JSON\n--csv--\nCSV" (the CSV served for any file the
// tuning file names). Whatever parses is checked: the distribution's CDF and partial mean are
// monotone and bounded, the DP on a small grid never costs less than its lower bound and its
// schedule costs what the DP says, and a machine's plan of a named schedule stays inside the
// deadline with gaps no shorter than the floor. Errors are values with a message, never a crash.
#include "fuzz_support.hpp"
#include "tune_file.hpp"

#include "certretry/tune/lower_bound.hpp"
#include "certretry/tune/machine_runs.hpp"
#include "certretry/tune/plan.hpp"
#include "certretry/tune/tuner.hpp"

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace certretry;
using namespace certretry::tune;
using namespace std::chrono_literals;

std::string_view csv_part;

bool loader(std::string_view path, std::size_t max_bytes, std::string& text, std::string& detail) {
  FUZZ_CHECK(max_bytes > 0);
  if (path.find("missing") != std::string_view::npos) {
    detail = "cannot read";
    return false;
  }
  text.assign(csv_part.substr(0, max_bytes));
  return true;
}

void check_distribution(const issuance& x) {
  double prev_f = 0, prev_m = 0;
  for (double t = 0; t < 1e6; t = t * 1.7 + 0.01) {
    const double f = x.cdf(t), m = x.partial_mean(t);
    FUZZ_CHECK(f >= 0 && f <= 1 && f >= prev_f - 1e-12);
    FUZZ_CHECK(std::isfinite(m) && m >= -1e-9 && m >= prev_m - 1e-9 * (1 + prev_m));
    FUZZ_CHECK(m <= x.mean() * (1 + 1e-9) + 1e-9);
    FUZZ_CHECK(x.cdf_below(t) <= f + 1e-15);
    prev_f = f;
    prev_m = m;
  }
  const double q = x.quantile(0.99);
  FUZZ_CHECK(std::isfinite(q) && x.cdf(q) >= 0.99 - 1e-9);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  constexpr std::string_view sep = "\n--csv--\n";
  const auto at = text.find(sep);
  csv_part = at == std::string_view::npos ? std::string_view{} : text.substr(at + sep.size());
  const std::string_view json = text.substr(0, at);

  // The CSV on its own.
  std::string detail;
  if (auto csv = parse_issuance_csv(csv_part, detail)) {
    check_distribution(csv.value());
  } else {
    FUZZ_CHECK(csv.error() == errc::invalid_policy && !detail.empty());
  }

  detail.clear();
  auto parsed = certretry::harness::parse_tune(json, "base", loader, detail);
  if (!parsed) {
    FUZZ_CHECK(parsed.error() == errc::scenario_malformed ||
               parsed.error() == errc::scenario_unknown_option);
    FUZZ_CHECK(!detail.empty());
    return 0;
  }
  const problem& p = parsed.value().problem;
  check_distribution(p.when);
  FUZZ_CHECK(p.deadline >= 1s && p.min_delay >= 1ms);

  // The DP on a small grid: its schedule costs what it says, never below its bound.
  const double lat = seconds_of(p.server.latency);
  grid_spec g;
  g.start = lat;
  g.horizon = seconds_of(p.deadline);
  g.gap = lat + std::max(seconds_of(p.min_delay),
                         p.server.retry_after ? seconds_of(*p.server.retry_after) : 0.0);
  g.first_gap = g.gap - lat;
  g.immediate = p.server.first == first_call::immediate;
  g.max_points = 2000;
  auto dp = optimal_plan(p.when, p.cost, g);
  FUZZ_CHECK(dp.has_value());
  const optimum& o = dp.value();
  FUZZ_CHECK(o.points <= 2001);
  FUZZ_CHECK(o.lower_bound <= o.cost + 1e-9 * (1 + o.cost));
  if (!o.best.calls.empty()) {
    const metrics m = evaluate(o.best, p.when, p.cost);
    FUZZ_CHECK(std::fabs(m.cost - o.cost) <= 1e-6 * (1 + o.cost));
    for (std::size_t i = 1; i < o.best.calls.size(); ++i)
      FUZZ_CHECK(o.best.calls[i].send - o.best.calls[i - 1].send >= g.gap * (1 - 1e-9) - 1e-9);
  }

  // A named schedule through its machine, when the run is short.
  if (p.deadline <= 1h && p.min_delay >= 1s) {
    candidate c;
    c.schedule.k = schedule_choice::kind::named;
    c.schedule.name = p.anchors.empty() ? "certctl" : p.anchors.front();
    const plan pl = plan_of(p.server, machine_policy_of(p, c));
    // No call at all only when the server's first Retry-After already lies past the deadline
    // (honouring it leaves no time to poll, so the machine gives up at once), or when a rate
    // limit's spacing raised the floor past the deadline (a policy validate() refuses; the
    // tuner says so instead of recommending).
    if (pl.calls.empty()) {
      const bool retry_after_past = p.server.first == first_call::after_wait &&
                                    p.server.retry_after && *p.server.retry_after > p.deadline;
      const bool floor_past = p.rate && !machine_policy_of(p, c).backoff.validate();
      FUZZ_CHECK(retry_after_past || floor_past);
      return 0;
    }
    const double end = lat + seconds_of(p.deadline) + 1e-9;
    for (std::size_t i = 0; i < pl.calls.size(); ++i) {
      FUZZ_CHECK(pl.calls[i].send <= end);
      if (i > 0) FUZZ_CHECK(pl.calls[i].send - pl.calls[i - 1].send >= 1.0 - 1e-9);
    }
    const metrics m = evaluate(pl, p.when, p.cost);
    FUZZ_CHECK(m.calls >= 1 - 1e-9 && m.calls <= static_cast<double>(pl.calls.size()) + 1e-9);
    // The machine's schedule is one the bound covers (a rate limit can stop it earlier).
    if (!p.rate) FUZZ_CHECK(m.cost >= o.lower_bound - 1e-9 * (1 + std::fabs(o.cost)));
  }
  return 0;
}
