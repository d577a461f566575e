// `certretry-harness tune TUNING.json [--svg FILE]`: the cheapest poll schedule for an
// issuance-time distribution, its lower bound, the Pareto front, the anchors, and every figure
// confirmed by running the machine (docs/tuning.md).
#include "tune.hpp"

#include "tune_file.hpp"

#include "certretry/tune/svg.hpp"
#include "certretry/tune/tuner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {
namespace {

using namespace certretry::tune;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string f3(double v) { return fmt("%.3f", v); }
std::string f2(double v) { return fmt("%.2f", v); }
std::string f4(double v) { return fmt("%.4f", v); }
std::string pct(double ratio) {  // +0.48 %, -45.0 %
  const double p = 100.0 * (ratio - 1.0);
  return fmt(std::fabs(p) < 10 ? "%+.2f %%" : "%+.1f %%", p);
}

std::string figures(const metrics& m) {
  return f3(m.calls) + " | " + f2(m.mean_delay) + " | " + f2(m.p99_delay) + " | " + f2(m.p99_time) +
         " | " + f4(m.cost);
}

// The DP's sends while they matter (the chance of being still unissued above 1e-6).
std::string sends_text(const plan& pl, const issuance& x) {
  std::string out;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < pl.calls.size(); ++i) {
    if (i > 0 && 1.0 - x.cdf(pl.calls[i - 1].covers) < 1e-6) {
      out += ", … (" + std::to_string(pl.calls.size() - i) + " more to the deadline)";
      break;
    }
    out += (shown++ ? ", " : "") + secs(std::round(pl.calls[i].send * 100) / 100);
  }
  return out + " s";
}

std::string setup_text(const tune_file& f, const tuning& t) {
  const problem& p = f.problem;
  std::string out = "Issuance: " + p.when.describe() + ". Costs: a call " + secs(p.cost.call) +
                    ", a second of added delay " + fmt("%g", p.cost.delay) + ". Deadline " +
                    secs(p.deadline) + " s, floor " + secs(t.floor_s) + " s, latency " +
                    secs(p.server.latency) + " s per call, first call " +
                    (p.server.first == first_call::immediate ? "at once" : "after a wait");
  if (p.server.retry_after) out += ", Retry-After " + secs(*p.server.retry_after) + " s";
  if (p.watch_max) out += ", watch up to " + secs(*p.watch_max) + " s";
  if (p.rate)
    out +=
        ", rate limit " + std::to_string(p.rate->calls) + " calls per " + secs(p.rate->per) + " s";
  out += ".";
  if (p.max_p99_delay)
    out += " Constraint: p99 added delay at most " + secs(*p.max_p99_delay) + " s.";
  if (p.max_p99_time)
    out += " Constraint: p99 time to the certificate at most " + secs(*p.max_p99_time) + " s.";
  if (!p.recommend_from.empty()) {
    out += " Recommended from the ";
    for (std::size_t i = 0; i < p.recommend_from.size(); ++i) {
      if (i > 0) out += i + 1 == p.recommend_from.size() ? " and " : ", ";
      out += to_string(p.recommend_from[i]);
    }
    out += p.recommend_from.size() == 1 ? " family." : " families.";
  }
  return out;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << text;
  return static_cast<bool>(out.flush());
}

// Which candidates to print as the front: those on the calls–p99 or the calls–mean front,
// thinned evenly to `rows`, the recommendation always kept.
std::vector<std::size_t> front_rows(const tuning& t, std::size_t rows) {
  const auto& cs = t.candidates;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (cs[i].m.p_seen <= 0 || cs[i].fam == family::anchor) continue;
    bool on = false;
    for (int which = 0; which < 2 && !on; ++which) {
      bool dominated = false;
      for (std::size_t j = 0; j < cs.size() && !dominated; ++j) {
        if (j == i || cs[j].m.p_seen <= 0 || cs[j].fam == family::anchor) continue;
        const double yi = which ? cs[i].m.p99_delay : cs[i].m.mean_delay;
        const double yj = which ? cs[j].m.p99_delay : cs[j].m.mean_delay;
        dominated = cs[j].m.calls <= cs[i].m.calls + 1e-12 && yj <= yi + 1e-12 &&
                    (cs[j].m.calls < cs[i].m.calls - 1e-12 || yj < yi - 1e-12 ||
                     (j < i && cs[j].m.calls == cs[i].m.calls && yj == yi));
      }
      on = !dominated;
    }
    if (on) idx.push_back(i);
  }
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    return cs[a].m.calls != cs[b].m.calls ? cs[a].m.calls < cs[b].m.calls : a < b;
  });
  if (idx.size() <= rows) return idx;
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < rows; ++k) {
    const std::size_t at = k * (idx.size() - 1) / (rows - 1);
    if (out.empty() || out.back() != idx[at]) out.push_back(idx[at]);
  }
  if (t.recommended && std::find(out.begin(), out.end(), *t.recommended) == out.end()) {
    out.push_back(*t.recommended);
    std::sort(out.begin(), out.end(),
              [&](std::size_t a, std::size_t b) { return cs[a].m.calls < cs[b].m.calls; });
  }
  return out;
}

std::string name_of(const candidate& c) {
  std::string n = c.label();
  if (!c.note.empty()) n += " (" + c.note + ")";
  return n;
}

}  // namespace

int cmd_tune(int argc, char** argv) {
  const char* path = nullptr;
  std::string svg_path;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: certretry-harness tune TUNING.json [--svg FILE]  (docs/tuning.md)\n");
      return 0;
    }
    if (a == "--svg" && i + 1 < argc) {
      svg_path = argv[++i];
    } else if (!a.starts_with("--") && path == nullptr) {
      path = argv[i];
    } else {
      std::fprintf(stderr,
                   "tune: unexpected argument '%s' (usage: certretry-harness tune "
                   "TUNING.json [--svg FILE])\n",
                   argv[i]);
      return 2;
    }
  }
  if (path == nullptr) {
    std::fprintf(stderr,
                 "tune: no tuning file (usage: certretry-harness tune TUNING.json "
                 "[--svg FILE])\n");
    return 2;
  }
  std::string text, detail;
  if (!load_file(path, max_tune_bytes, text, detail)) {
    std::fprintf(stderr, "%s\n", detail.c_str());
    return 2;
  }
  const std::string p(path);
  const auto slash = p.find_last_of('/');
  const std::string base = slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
  auto parsed = parse_tune(text, base, load_file, detail);
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n", path, detail.c_str());
    return 2;
  }
  const tune_file f = std::move(parsed).value();
  const problem& pr = f.problem;
  const tuning t = tune_schedules(pr);
  if (!t.error.empty() && !t.recommended) {
    std::fprintf(stderr, "%s: %s\n", path, t.error.c_str());
    return 2;
  }
  const auto& cs = t.candidates;
  const double lb = t.dp.lower_bound;

  std::printf("## Tuning: %s\n\n%s\n\n", f.title.c_str(), setup_text(f, t).c_str());

  std::printf("### The lower bound\n\n");
  std::printf("| schedule | calls | mean delay (s) | p99 delay (s) | p99 time (s) | cost |\n");
  std::printf("|---|--:|--:|--:|--:|--:|\n");
  const metrics dpm = evaluate(t.dp.best, pr.when, pr.cost);
  std::printf("| DP optimum on a %s s grid (%zu points): sends at %s | %s |\n",
              fmt("%.6g", t.dp.step).c_str(), t.dp.points, sends_text(t.dp.best, pr.when).c_str(),
              figures(dpm).c_str());
  if (t.dp_constrained) {
    const metrics m = evaluate(t.dp_constrained->best, pr.when, pr.cost);
    std::printf("| DP optimum with a send in the p99-time window: sends at %s | %s |\n",
                sends_text(t.dp_constrained->best, pr.when).c_str(), figures(m).c_str());
  }
  std::printf("| lower bound: no schedule under these constraints costs less | | | | | %s |\n\n",
              f4(lb).c_str());

  std::printf("### Recommended\n\n");
  std::printf(
      "| schedule | family | calls | mean delay (s) | p99 delay (s) | p99 time (s) | cost | "
      "over the lower bound |\n");
  std::printf("|---|---|--:|--:|--:|--:|--:|--:|\n");
  const candidate& rec = cs[*t.recommended];
  std::printf("| %s | %s | %s | %s%s |\n\n", name_of(rec).c_str(),
              std::string(to_string(rec.fam)).c_str(), figures(rec.m).c_str(),
              pct(rec.m.cost / lb).c_str(), rec.watch ? " (a watch: the bound is for polls)" : "");
  std::printf("```cpp\n%s\n```\n\nHarness scenario options: `%s`\n\n", cpp_policy(pr, rec).c_str(),
              harness_options(pr, rec).c_str());

  std::size_t on_front = 0;
  for (const candidate& c : cs) on_front += c.front ? 1 : 0;
  std::printf("### The Pareto front: calls against mean and p99 added delay\n\n");
  std::printf(
      "%zu candidates, %zu on the front (no other has fewer calls, lower mean and lower "
      "p99 delay at once); the rows are those on the calls-mean or calls-p99 front, "
      "thinned to 16.\n\n",
      cs.size(), on_front);
  std::printf(
      "| family | schedule | calls | mean delay (s) | p99 delay (s) | p99 time (s) | cost "
      "| over the lower bound |\n");
  std::printf("|---|---|--:|--:|--:|--:|--:|--:|\n");
  for (const std::size_t i : front_rows(t, 16))
    std::printf("| %s | %s%s | %s | %s |\n", std::string(to_string(cs[i].fam)).c_str(),
                name_of(cs[i]).c_str(),
                t.recommended && i == *t.recommended ? " **recommended**" : "",
                figures(cs[i].m).c_str(), pct(cs[i].m.cost / lb).c_str());
  std::printf("\n");

  std::vector<std::size_t> confirm;
  if (t.recommended) confirm.push_back(*t.recommended);
  const auto anchors_present = [&] {
    for (const candidate& c : cs)
      if (c.fam == family::anchor) return true;
    return false;
  }();
  if (anchors_present) {
    std::printf("### The anchors\n\n");
    std::printf(
        "| anchor | calls | mean delay (s) | p99 delay (s) | p99 time (s) | cost | fewest "
        "calls at a p99 delay no worse | its calls | change | recommended: calls | p99 "
        "delay (s) |\n");
    std::printf("|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|\n");
    for (std::size_t i = 0; i < cs.size(); ++i) {
      const candidate& a = cs[i];
      if (a.fam != family::anchor) continue;
      confirm.push_back(i);
      const auto best = fewest_calls_within(t, a.m.p99_delay);
      std::string b = "| - | - | - ";
      if (best) {
        confirm.push_back(*best);
        b = "| " + name_of(cs[*best]) + " | " + f3(cs[*best].m.calls) + " | " +
            pct(cs[*best].m.calls / a.m.calls) + " ";
      }
      std::printf("| %s | %s %s| %s | %s |\n", a.schedule.name.c_str(), figures(a.m).c_str(),
                  b.c_str(), pct(rec.m.calls / a.m.calls).c_str(), f2(rec.m.p99_delay).c_str());
    }
    std::printf("\n");
  }

  // Every figure above, measured on the machine.
  std::set<std::size_t> done;
  std::size_t confirmed = 0, checked = 0;
  if (f.orders > 0) {
    std::printf(
        "### Confirmed by simulation: %zu orders per schedule through the machine, "
        "seed %llu\n\n",
        f.orders, static_cast<unsigned long long>(f.seed));
    std::printf(
        "| schedule | calls | simulated | mean delay (s) | simulated | p99 delay (s) | "
        "simulated (99.9 %% interval) | p99 time (s) | simulated (99.9 %% interval) | "
        "confirmed |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for (const std::size_t i : confirm) {
      if (!done.insert(i).second) continue;
      const candidate& c = cs[i];
      const monte_carlo mc = simulate_candidate(pr, c, f.orders, f.seed);
      const bool ok = confirms(mc, c.m);
      ++checked;
      confirmed += ok ? 1 : 0;
      std::printf(
          "| %s | %s | %s ± %s | %s | %s ± %s | %s | %s (%s to %s) | %s | %s (%s to %s) | "
          "%s |\n",
          name_of(c).c_str(), f3(c.m.calls).c_str(), f3(mc.calls).c_str(), f3(mc.calls_se).c_str(),
          f2(c.m.mean_delay).c_str(), f2(mc.mean_delay).c_str(), f2(mc.mean_delay_se).c_str(),
          f2(c.m.p99_delay).c_str(), f2(mc.p99_delay).c_str(), f2(mc.p99_delay_lo).c_str(),
          f2(mc.p99_delay_hi).c_str(), f2(c.m.p99_time).c_str(), f2(mc.p99_time).c_str(),
          f2(mc.p99_time_lo).c_str(), f2(mc.p99_time_hi).c_str(), ok ? "yes" : "NO");
    }
    std::printf("\n");
  }

  std::printf("Targets:\n\n");
  // The bound is for polling: a watch (the server holds the call) is not bound by it.
  std::optional<std::size_t> best_poll;
  for (std::size_t i = 0; i < cs.size(); ++i)
    if (cs[i].fam != family::anchor && !cs[i].watch && cs[i].feasible &&
        (!best_poll || cs[i].m.cost < cs[*best_poll].m.cost))
      best_poll = i;
  if (rec.watch && best_poll)
    std::printf(
        "- a watch is recommended; the lower bound is for polling, and the cheapest poll "
        "schedule (%s) costs %s\n",
        name_of(cs[*best_poll]).c_str(), f4(cs[*best_poll].m.cost).c_str());
  const candidate& bounded = rec.watch && best_poll ? cs[*best_poll] : rec;
  const bool within = bounded.m.cost <= 1.05 * lb;
  std::printf("- the %s within 5 %% of the lower bound: %s vs %s (%s) -> %s\n",
              rec.watch ? "cheapest poll schedule" : "recommendation", f4(bounded.m.cost).c_str(),
              f4(lb).c_str(), pct(bounded.m.cost / lb).c_str(), within ? "PASS" : "MISSED");
  if (f.orders > 0)
    std::printf("- every figure confirmed by simulation: %zu of %zu schedules -> %s\n", confirmed,
                checked, confirmed == checked ? "PASS" : "MISSED");
  for (const candidate& a : cs) {
    if (a.fam != family::anchor) continue;
    const double change = 100.0 * (rec.m.calls / a.m.calls - 1.0);
    std::printf(
        "- against %s: the recommendation sends %s %% %s calls (%s vs %s) at a p99 added "
        "delay of %s s vs %s s\n",
        a.schedule.name.c_str(), fmt("%.1f", std::fabs(change)).c_str(),
        change <= 0 ? "fewer" : "more", f3(rec.m.calls).c_str(), f3(a.m.calls).c_str(),
        f2(rec.m.p99_delay).c_str(), f2(a.m.p99_delay).c_str());
  }

  if (!svg_path.empty() && !write_file(svg_path, pareto_svg(t, "Pareto front: " + f.title))) {
    std::fprintf(stderr, "tune: cannot write %s\n", svg_path.c_str());
    return 2;
  }
  return confirmed == checked ? 0 : 1;
}

}  // namespace certretry::harness
