#include "tune_file.hpp"
#include "json_number.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

namespace certretry::harness {
namespace {

using simdjson::dom::element;

// Seconds a tuning file may name: a year.
constexpr double max_seconds = 366.0 * 24 * 3600;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string printable(std::string_view s, std::size_t at_most = 64) {
  std::string out;
  for (char c : s.substr(0, at_most)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > at_most) out += "...";
  return out;
}

// The first error met wins; later calls do nothing.
struct state {
  std::string* detail;
  bool ok = true;
  errc code = errc::scenario_malformed;
  void fail(std::string msg, errc c = errc::scenario_malformed) {
    if (!ok) return;
    ok = false;
    *detail = std::move(msg);
    code = c;
  }
};

// One JSON object: the keys it may have and typed getters that say what is wrong.
class reader {
 public:
  reader(element e, std::string path, std::initializer_list<std::string_view> known, state& st)
      : path_(std::move(path)), st_(&st) {
    if (!st_->ok) return;
    if (e.get_object().get(obj_)) {
      st_->fail((path_.empty() ? std::string("the file") : path_) + ": must be an object");
      return;
    }
    std::set<std::string_view> seen;
    for (auto [k, v] : obj_) {
      (void)v;
      bool allowed = false;
      for (auto n : known) allowed = allowed || n == k;
      if (!allowed) {
        std::string list;
        for (auto n : known) list += (list.empty() ? "" : ", ") + std::string(n);
        st_->fail(where(k) + ": unknown key (known: " + list + ")", errc::scenario_unknown_option);
        return;
      }
      if (!seen.insert(k).second) {
        st_->fail(where(k) + ": given twice");
        return;
      }
    }
  }

  bool ok() const { return st_->ok; }
  std::string where(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  std::optional<element> get(std::string_view key) const {
    if (!st_->ok) return std::nullopt;
    element e;
    if (obj_[key].get(e)) return std::nullopt;
    return e;
  }
  bool has(std::string_view key) const { return get(key).has_value(); }

  std::optional<double> number(std::string_view key, double lo, double hi, bool required = false) {
    const auto e = get(key);
    if (!e) {
      if (required)
        fail(where(key) + ": missing (a number from " + num(lo) + " to " + num(hi) + ")");
      return std::nullopt;
    }
    const std::optional<double> n = number_of(*e);
    if (!n) {
      fail(where(key) + ": must be a number from " + num(lo) + " to " + num(hi));
      return std::nullopt;
    }
    const double v = *n;
    if (!(v >= lo && v <= hi)) {
      fail(where(key) + ": " + num(v) + " is out of range (" + num(lo) + " to " + num(hi) + ")");
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::uint64_t> whole(std::string_view key, double lo, double hi) {
    const auto v = number(key, lo, hi);
    if (!v) return std::nullopt;
    if (std::floor(*v) != *v) {
      fail(where(key) + ": must be a whole number");
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*v);
  }
  std::optional<duration> seconds(std::string_view key, double lo, double hi,
                                  bool required = false) {
    const auto v = number(key, lo, hi, required);
    if (!v) return std::nullopt;
    return ms_of_seconds(*v);
  }
  std::optional<std::string_view> string(std::string_view key, bool required = false) {
    const auto e = get(key);
    if (!e) {
      if (required) fail(where(key) + ": missing (a string)");
      return std::nullopt;
    }
    std::string_view s;
    if (e->get_string().get(s)) {
      fail(where(key) + ": must be a string");
      return std::nullopt;
    }
    return s;
  }
  std::optional<std::string_view> choice(std::string_view key,
                                         std::initializer_list<std::string_view> choices) {
    const auto s = string(key);
    if (!s) return std::nullopt;
    for (auto c : choices)
      if (c == *s) return s;
    std::string list;
    for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
    fail(where(key) + ": '" + printable(*s) + "' is not one of " + list);
    return std::nullopt;
  }
  void fail(std::string msg) const { st_->fail(std::move(msg)); }

 private:
  std::string path_;
  simdjson::dom::object obj_;
  state* st_;
};

std::optional<tune::issuance> parse_issuance(element e, std::string_view base_dir,
                                             const file_loader& load, state& st) {
  reader r(e, "issuance", {"distribution", "median_s", "sigma", "p99_s", "mean_s", "csv"}, st);
  const auto kind = r.choice("distribution", {"lognormal", "exponential", "empirical"});
  if (!r.ok()) return std::nullopt;
  if (!kind) {
    r.fail("issuance.distribution: missing (lognormal, exponential or empirical)");
    return std::nullopt;
  }
  const auto only = [&](std::initializer_list<std::string_view> keys) {
    for (auto k : {"median_s", "sigma", "p99_s", "mean_s", "csv"}) {
      bool allowed = false;
      for (auto a : keys) allowed = allowed || a == k;
      if (!allowed && r.has(k)) {
        r.fail(r.where(k) + ": not a parameter of the " + std::string(*kind) + " distribution");
        return false;
      }
    }
    return true;
  };
  if (*kind == "lognormal") {
    if (!only({"median_s", "sigma", "p99_s"})) return std::nullopt;
    const auto m = r.seconds("median_s", 0.001, max_seconds, true);
    if (r.has("sigma") == r.has("p99_s")) {
      r.fail("issuance: give exactly one of sigma and p99_s");
      return std::nullopt;
    }
    const auto s = r.number("sigma", 0.001, 10);
    const auto p99 = r.seconds("p99_s", 0.001, max_seconds);
    if (!r.ok()) return std::nullopt;
    auto d = s ? tune::issuance::lognormal(*m, *s) : tune::issuance::lognormal_p99(*m, *p99);
    if (!d) {
      r.fail("issuance.p99_s: must be larger than median_s (and sigma at most 10)");
      return std::nullopt;
    }
    return std::move(d).value();
  }
  if (*kind == "exponential") {
    if (!only({"mean_s"})) return std::nullopt;
    const auto m = r.seconds("mean_s", 0.001, max_seconds, true);
    if (!r.ok()) return std::nullopt;
    return tune::issuance::exponential(*m).value();
  }
  if (!only({"csv"})) return std::nullopt;
  const auto file = r.string("csv", true);
  if (!r.ok()) return std::nullopt;
  if (file->empty() || file->find('\0') != std::string_view::npos) {
    r.fail("issuance.csv: must name a file");
    return std::nullopt;
  }
  std::string full(*file);
  if (full.front() != '/' && !base_dir.empty()) full = std::string(base_dir) + "/" + full;
  std::string text, why;
  if (!load(full, max_csv_bytes, text, why)) {
    r.fail("issuance.csv: " + why);
    return std::nullopt;
  }
  auto d = tune::parse_issuance_csv(text, why, max_csv_bytes);
  if (!d) {
    r.fail("issuance.csv: " + printable(full) + ": " + why);
    return std::nullopt;
  }
  return std::move(d).value();
}

}  // namespace

result<tune_file> parse_tune(std::string_view json, std::string_view base_dir,
                             const file_loader& load, std::string& detail) {
  if (json.size() > max_tune_bytes) {
    detail = "the tuning file is larger than " + std::to_string(max_tune_bytes) + " bytes";
    return errc::scenario_malformed;
  }
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root)) {
    detail = "not valid JSON";
    return errc::scenario_malformed;
  }
  state st{&detail};
  reader r(root, "",
           {"description", "issuance", "call_cost", "delay_cost_per_s", "deadline_s", "min_delay_s",
            "latency_s", "first_call", "retry_after_s", "watch_max_s", "rate_limit",
            "max_p99_delay_s", "max_p99_time_s", "families", "grid_s", "anchors", "monte_carlo"},
           st);
  tune_file out;
  tune::problem& p = out.problem;
  if (const auto d = r.string("description")) out.title = printable(*d, 240);
  const auto iss = r.get("issuance");
  if (!iss) {
    r.fail("issuance: missing (an object with distribution and its parameters)");
    return st.code;
  }
  auto when = parse_issuance(*iss, base_dir, load, st);
  if (!st.ok) return st.code;
  p.when = std::move(*when);
  if (const auto v = r.number("call_cost", 0, 1e9)) p.cost.call = *v;
  if (const auto v = r.number("delay_cost_per_s", 0, 1e9)) p.cost.delay = *v;
  if (r.ok() && !(p.cost.call > 0) && !(p.cost.delay > 0))
    r.fail("call_cost, delay_cost_per_s: at least one must be positive");
  if (const auto v = r.seconds("deadline_s", 1, max_seconds)) p.deadline = *v;
  // The machines' own floor is 100 ms (no run polls more than 10 times a second), and a floor
  // longer than the deadline leaves no room for a second call: both are what the machines
  // refuse before a run starts, so a tuning file cannot recommend them either.
  if (const auto v = r.seconds("min_delay_s", 0.1, 86400)) p.min_delay = *v;
  if (r.ok() && p.min_delay > p.deadline) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "min_delay_s: %g s is longer than deadline_s (%g s): no second call fits; "
                  "shorten min_delay_s or lengthen deadline_s",
                  tune::seconds_of(p.min_delay), tune::seconds_of(p.deadline));
    r.fail(text);
  }
  if (const auto v = r.seconds("latency_s", 0, 3600)) p.server.latency = *v;
  if (const auto v = r.choice("first_call", {"immediate", "after-wait"}))
    p.server.first = *v == "immediate" ? tune::first_call::immediate : tune::first_call::after_wait;
  if (const auto v = r.whole("retry_after_s", 1, 86400))
    p.server.retry_after = std::chrono::seconds{*v};
  if (const auto v = r.whole("watch_max_s", 1, 86400)) p.watch_max = std::chrono::seconds{*v};
  if (const auto e = r.get("rate_limit")) {
    reader rl(*e, "rate_limit", {"calls", "per_s"}, st);
    const auto calls = rl.whole("calls", 1, 1e6);
    const auto per = rl.seconds("per_s", 0.001, 86400, true);
    if (!st.ok) return st.code;
    if (!calls) {
      rl.fail("rate_limit.calls: missing (a whole number from 1 to 1000000)");
      return st.code;
    }
    p.rate = tune::rate_limit{static_cast<std::uint32_t>(*calls), *per};
  }
  if (const auto v = r.seconds("max_p99_delay_s", 0, max_seconds)) p.max_p99_delay = *v;
  if (const auto v = r.seconds("max_p99_time_s", 0, max_seconds)) p.max_p99_time = *v;
  if (const auto e = r.get("families")) {
    simdjson::dom::array arr;
    if (e->get_array().get(arr)) {
      r.fail("families: must be a list of family names (fixed, geometric, table, jittered, watch)");
      return st.code;
    }
    std::size_t i = 0;
    for (element a : arr) {
      std::string_view name;
      const std::string at = "families[" + std::to_string(i++) + "]";
      constexpr tune::family known[] = {tune::family::fixed, tune::family::geometric,
                                        tune::family::table, tune::family::jittered,
                                        tune::family::watch};
      const auto* f = std::find_if(std::begin(known), std::end(known), [&](tune::family k) {
        return !a.get_string().get(name) && tune::to_string(k) == name;
      });
      if (f == std::end(known)) {
        r.fail(at + ": must be one of fixed, geometric, table, jittered, watch");
        return st.code;
      }
      if (std::find(p.recommend_from.begin(), p.recommend_from.end(), *f) == p.recommend_from.end())
        p.recommend_from.push_back(*f);
    }
    if (p.recommend_from.empty()) {
      r.fail("families: empty (leave the key out to recommend from every family)");
      return st.code;
    }
  }
  if (const auto v = r.number("grid_s", 1e-4, 3600)) {
    p.grid_step = *v;
    if (r.ok() && tune::seconds_of(p.deadline) / *v > static_cast<double>(max_grid_points))
      r.fail("grid_s: deadline_s / grid_s is more than " + std::to_string(max_grid_points) +
             " points");
  }
  if (const auto e = r.get("anchors")) {
    simdjson::dom::array arr;
    if (e->get_array().get(arr)) {
      r.fail("anchors: must be a list of schedule names");
      return st.code;
    }
    p.anchors.clear();
    std::size_t i = 0;
    for (element a : arr) {
      std::string_view name;
      const std::string at = "anchors[" + std::to_string(i++) + "]";
      if (a.get_string().get(name)) {
        r.fail(at + ": must be a string");
        return st.code;
      }
      if (!named_schedule(name)) {
        std::string list;
        for (auto n : schedule_names) list += (list.empty() ? "" : ", ") + std::string(n);
        r.fail(at + ": '" + printable(name) + "' is not one of " + list);
        return st.code;
      }
      if (p.anchors.size() == 16) {
        r.fail("anchors: at most 16");
        return st.code;
      }
      p.anchors.emplace_back(name);
    }
  }
  if (const auto e = r.get("monte_carlo")) {
    reader mc(*e, "monte_carlo", {"orders", "seed"}, st);
    if (const auto v = mc.whole("orders", 0, static_cast<double>(max_monte_carlo_orders)))
      out.orders = static_cast<std::size_t>(*v);
    if (const auto v = mc.whole("seed", 0, 9007199254740992.0)) out.seed = *v;
  }
  if (!st.ok) return st.code;
  if (out.title.empty()) out.title = p.when.describe();
  return out;
}

}  // namespace certretry::harness
