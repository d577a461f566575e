#include "fleet_file.hpp"
#include "json_number.hpp"

// GCC 12 reports the inactive members of a std::variant copied by assignment as "may be used
// uninitialized" (any_schedule below); they are not read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/sim/distribution.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

namespace certretry::harness {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using namespace std::chrono_literals;

// The simulated span and sizes a fleet file may ask for: a year and 10^8 certificates.
constexpr double max_seconds = 400.0 * 24 * 3600;
constexpr double max_certificates = 1e8;

// The first error met: its message and code.
struct parse_state {
  std::string* detail;
  bool ok = true;
  errc code = errc::scenario_malformed;
  bool fail(std::string msg, errc c = errc::scenario_malformed) {
    if (!ok) return false;
    ok = false;
    *detail = std::move(msg);
    code = c;
    return false;
  }
};

// One JSON object of the file: its path for messages, the keys it may have, typed getters that
// say what is wrong. The first error wins; later calls do nothing.
class object_reader {
 public:
  object_reader(element e, std::string path, std::initializer_list<std::string_view> known,
                parse_state& st)
      : path_(std::move(path)), st_(&st) {
    if (!st_->ok) return;
    if (e.get_object().get(obj_)) {
      fail(path_ + ": must be an object");
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
        fail(where(k) + ": unknown key (known: " + list + ")", errc::scenario_unknown_option);
        return;
      }
      if (!seen.insert(k).second) {
        fail(where(k) + ": given twice");
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

  // A number in [lo, hi]; `required` makes absence an error.
  std::optional<double> number(std::string_view key, double lo, double hi, bool required = false) {
    const auto e = get(key);
    if (!e) {
      if (required && st_->ok)
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
  std::optional<std::uint64_t> whole(std::string_view key, double lo, double hi,
                                     bool required = false) {
    const auto v = number(key, lo, hi, required);
    if (!v) return std::nullopt;
    if (std::floor(*v) != *v) {
      fail(where(key) + ": must be a whole number");
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*v);
  }
  // Seconds in [lo, hi] as a duration (whole milliseconds).
  std::optional<duration> seconds(std::string_view key, double lo, double hi,
                                  bool required = false) {
    const auto v = number(key, lo, hi, required);
    if (!v) return std::nullopt;
    return ms_of_seconds(*v);
  }
  std::optional<bool> boolean(std::string_view key) {
    const auto e = get(key);
    if (!e) return std::nullopt;
    bool b = false;
    if (e->get_bool().get(b)) {
      fail(where(key) + ": must be true or false");
      return std::nullopt;
    }
    return b;
  }
  std::optional<std::string_view> string(std::string_view key, bool required = false) {
    const auto e = get(key);
    if (!e) {
      if (required && st_->ok) fail(where(key) + ": missing (a string)");
      return std::nullopt;
    }
    std::string_view s;
    if (e->get_string().get(s)) {
      fail(where(key) + ": must be a string");
      return std::nullopt;
    }
    return s;
  }
  // One of `choices`.
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

  void fail(std::string msg, errc code = errc::scenario_malformed) const {
    st_->fail(std::move(msg), code);
  }

  static std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
  }
  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (s.size() > 64) out += "...";
    return out;
  }

 private:
  std::string path_;
  simdjson::dom::object obj_;
  parse_state* st_;
};

std::string item(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

bool parse_issuance(element e, const std::string& path, std::string_view base_dir,
                    const file_loader& load, sim::distribution& out, parse_state& st) {
  object_reader r(e, path, {"distribution", "median_s", "sigma", "mean_s", "value_s", "csv"}, st);
  const auto kind = r.choice("distribution", {"lognormal", "exponential", "fixed", "empirical"});
  if (!r.ok()) return false;
  if (!kind) {
    r.fail(path + ".distribution: missing (lognormal, exponential, fixed or empirical)");
    return false;
  }
  const auto only = [&](std::initializer_list<std::string_view> keys) {
    for (auto k : {"median_s", "sigma", "mean_s", "value_s", "csv"}) {
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
    if (!only({"median_s", "sigma"})) return false;
    const auto m = r.seconds("median_s", 0.001, max_seconds, true);
    const auto s = r.number("sigma", 0, 10, true);
    if (!r.ok()) return false;
    out = sim::distribution::lognormal(*m, *s);
  } else if (*kind == "exponential") {
    if (!only({"mean_s"})) return false;
    const auto m = r.seconds("mean_s", 0.001, max_seconds, true);
    if (!r.ok()) return false;
    out = sim::distribution::exponential(*m);
  } else if (*kind == "fixed") {
    if (!only({"value_s"})) return false;
    const auto v = r.seconds("value_s", 0, max_seconds, true);
    if (!r.ok()) return false;
    out = sim::distribution::fixed(*v);
  } else {
    if (!only({"csv"})) return false;
    const auto file = r.string("csv", true);
    if (!r.ok()) return false;
    if (file->empty() || file->find('\0') != std::string_view::npos) {
      r.fail(path + ".csv: must name a file");
      return false;
    }
    std::string full(*file);
    if (full.front() != '/' && !base_dir.empty()) full = std::string(base_dir) + "/" + full;
    std::string text, why;
    if (!load(full, max_csv_bytes, text, why)) {
      r.fail(path + ".csv: " + why);
      return false;
    }
    auto d = sim::parse_durations_csv(text, why);
    if (!d) {
      r.fail(path + ".csv: " + object_reader::printable(full) + ": " + why);
      return false;
    }
    out = std::move(d).value();
  }
  return true;
}

bool parse_windows(element e, const std::string& path, std::vector<sim::time_window>& out,
                   parse_state& st) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr)) {
    return st.fail(path + ": must be a list of {\"from_s\", \"to_s\"}");
  }
  std::size_t i = 0;
  for (element w : arr) {
    if (i == 1000) {
      return st.fail(path + ": at most 1000 windows");
    }
    object_reader r(w, item(path, i), {"from_s", "to_s"}, st);
    const auto from = r.seconds("from_s", 0, max_seconds, true);
    const auto to = r.seconds("to_s", 0, max_seconds, true);
    if (!r.ok()) return false;
    if (*to <= *from) {
      r.fail(item(path, i) + ": to_s must be after from_s");
      return false;
    }
    out.push_back({*from, *to});
    ++i;
  }
  return true;
}

// ca of model tpp or acme: the server models of testing/ (docs/harness.md, "Fleet files").
bool parse_model_ca(object_reader& r, std::string_view base_dir, const file_loader& load,
                    fleet_file& f, parse_state& st) {
  const bool tpp = f.model == fleet_model::tpp;
  const std::vector<std::string_view> keys =
      tpp ? std::vector<std::string_view>{"model", "latency_s", "issuance", "outages", "stuck"}
          : std::vector<std::string_view>{"model",
                                          "latency_s",
                                          "issuance",
                                          "order_style",
                                          "bad_nonce",
                                          "new_order_rate_limited",
                                          "new_order_unavailable"};
  for (const std::string_view key :
       {"profile", "ca_id", "issuance", "capacity", "latency_s", "rate_limits", "api_keys",
        "rate_limit_retry_after_s", "outages", "outage_timeout_s", "faults", "keeps_abandoned",
        "ari_window", "ari_retry_after_s", "stuck", "order_style", "bad_nonce",
        "new_order_rate_limited", "new_order_unavailable"})
    if (r.get(key) && std::find(keys.begin(), keys.end(), key) == keys.end()) {
      r.fail("ca." + std::string(key) + ": not a key of model " + (tpp ? "tpp" : "acme"));
      return false;
    }
  const auto latency = r.seconds("latency_s", 0, 3600);
  if (!r.ok()) return false;
  sim::distribution d = sim::distribution::lognormal(std::chrono::seconds{60}, 1.0);
  const bool has_issuance = r.get("issuance").has_value();
  if (const auto i = r.get("issuance"); i && r.ok())
    if (!parse_issuance(*i, "ca.issuance", base_dir, load, d, st)) return false;
  const auto ms = [](double v) { return duration{static_cast<std::int64_t>(std::llround(v))}; };
  using kind = sim::distribution::kind;
  if (tpp) {
    model::tpp_server_options& o = f.tpp;
    if (latency) o.latency = *latency;
    if (has_issuance) switch (d.type()) {
        case kind::exponential: o.mean_issuance = ms(d.scale_ms()); break;
        case kind::fixed: o.mean_issuance = o.min_issuance = ms(d.scale_ms()); break;
        case kind::lognormal:
          o.issuance = model::tpp_issuance::log_normal;
          o.median_issuance = ms(d.scale_ms());
          o.issuance_sigma = d.sigma();
          break;
        default:
          r.fail("ca.issuance: the tpp model draws exponential, fixed or log-normal times");
          return false;
      }
    if (const auto s = r.number("stuck", 0, 1)) f.tpp_stuck = *s;
    if (const auto w = r.get("outages"); w && r.ok()) {
      std::vector<sim::time_window> windows;
      if (!parse_windows(*w, "ca.outages", windows, st)) return false;
      for (const auto& x : windows)
        o.outages.emplace_back(sim::sim_epoch + x.from, sim::sim_epoch + x.to);
    }
    return r.ok();
  }
  model::acme_server_options& o = f.acme;
  if (latency) o.latency = *latency;
  if (has_issuance) {
    if (d.type() != kind::lognormal) {
      r.fail("ca.issuance: the acme model draws log-normal processing times only");
      return false;
    }
    // The model takes a median and a p99: p99 = median x exp(2.326 sigma).
    o.processing_median = ms(d.scale_ms());
    o.processing_p99 = ms(d.scale_ms() * std::exp(2.3263478740408408 * d.sigma()));
    if (o.processing_p99 <= o.processing_median)
      o.processing_p99 = o.processing_median + duration{1};
  }
  if (const auto s = r.choice("order_style", {"boulder", "no-retry-after"}))
    o.order_style = *s == "boulder" ? model::acme_order_style::boulder
                                    : model::acme_order_style::no_retry_after;
  if (const auto p = r.number("bad_nonce", 0, 0.9)) o.bad_nonce = *p;
  if (const auto p = r.number("new_order_rate_limited", 0, 0.9)) o.rate_limited = *p;
  if (const auto p = r.number("new_order_unavailable", 0, 0.9)) o.unavailable = *p;
  return r.ok();
}

bool parse_ca(element e, std::string_view base_dir, const file_loader& load, fleet_file& f,
              parse_state& st) {
  object_reader r(e, "ca",
                  {"model",
                   "profile",
                   "ca_id",
                   "issuance",
                   "capacity",
                   "latency_s",
                   "rate_limits",
                   "api_keys",
                   "rate_limit_retry_after_s",
                   "outages",
                   "outage_timeout_s",
                   "faults",
                   "keeps_abandoned",
                   "ari_window",
                   "ari_retry_after_s",
                   "stuck",
                   "order_style",
                   "bad_nonce",
                   "new_order_rate_limited",
                   "new_order_unavailable"},
                  st);
  sim::async_ca_options& ca = f.ca;
  if (const auto m = r.choice("model", {"async-ca", "tpp", "acme"}))
    f.model = *m == "tpp"    ? fleet_model::tpp
              : *m == "acme" ? fleet_model::acme
                             : fleet_model::async_ca;
  if (!r.ok()) return false;
  if (f.model != fleet_model::async_ca) return parse_model_ca(r, base_dir, load, f, st);
  for (const std::string_view key :
       {"stuck", "order_style", "bad_nonce", "new_order_rate_limited", "new_order_unavailable"})
    if (r.get(key)) {
      r.fail("ca." + std::string(key) + ": not a key of model async-ca (only of tpp or acme)");
      return false;
    }
  if (const auto p =
          r.choice("profile", {"digicert", "sectigo", "entrust", "globalsign", "generic"}))
    ca.profile = *async_ca_from_name(*p);
  if (const auto id = r.string("ca_id")) {
    if (!detail::safe_path_segment(*id)) {
      r.fail("ca.ca_id: must be a plain path segment (letters, digits, no '/', '?', '#', '%')");
      return false;
    }
    ca.ca_id.assign(*id);
  }
  if (const auto i = r.get("issuance"); i && r.ok())
    if (!parse_issuance(*i, "ca.issuance", base_dir, load, ca.issuance, st)) return false;
  if (const auto c = r.whole("capacity", 1, 1e7)) ca.capacity = static_cast<std::uint32_t>(*c);
  if (const auto l = r.seconds("latency_s", 0, 3600)) ca.latency = *l;
  if (const auto k = r.whole("api_keys", 1, 1024)) ca.api_keys = static_cast<std::uint32_t>(*k);
  if (const auto ra = r.seconds("rate_limit_retry_after_s", 0, 86400))
    ca.rate_limit_retry_after = *ra;
  if (const auto t = r.seconds("outage_timeout_s", 0, 3600)) ca.outage_timeout = *t;
  if (const auto k = r.boolean("keeps_abandoned")) ca.keeps_abandoned = *k;
  if (const auto ra = r.seconds("ari_retry_after_s", 60, 86400)) ca.ari_retry_after = *ra;
  if (!r.ok()) return false;
  if (const auto rl = r.get("rate_limits")) {
    std::string_view name;
    simdjson::dom::array arr;
    if (!rl->get_string().get(name)) {
      if (name == "digicert")
        ca.rate_limits = sim::digicert_rate_limits;
      else if (name != "none") {
        r.fail("ca.rate_limits: '" + object_reader::printable(name) +
               "' is not digicert or none (or give a list of {\"requests\", \"per_s\"})");
        return false;
      }
    } else if (!rl->get_array().get(arr)) {
      std::size_t i = 0;
      double total = 0;
      for (element l : arr) {
        if (i == 16) {
          r.fail("ca.rate_limits: at most 16 limits");
          return false;
        }
        object_reader lr(l, item("ca.rate_limits", i), {"requests", "per_s"}, st);
        const auto n = lr.whole("requests", 1, 1e6, true);
        const auto per = lr.seconds("per_s", 0.001, 86400, true);
        if (!lr.ok()) return false;
        ca.rate_limits.push_back({static_cast<std::uint32_t>(*n), *per});
        total += static_cast<double>(*n);
        ++i;
      }
      if (total * ca.api_keys > 1e7) {
        r.fail(
            "ca.rate_limits: requests summed over the limits, times api_keys, must stay "
            "under 10000000 (each accepted request is remembered for its window)");
        return false;
      }
    } else {
      r.fail(
          "ca.rate_limits: must be \"digicert\", \"none\" or a list of "
          "{\"requests\", \"per_s\"}");
      return false;
    }
    double total = 0;
    for (const auto& l : ca.rate_limits) total += l.requests;
    if (total * ca.api_keys > 1e7) {
      r.fail("ca.api_keys: the rate limits' requests times api_keys must stay under 10000000");
      return false;
    }
  }
  if (const auto o = r.get("outages"))
    if (!parse_windows(*o, "ca.outages", ca.outages, st)) return false;
  if (const auto fl = r.get("faults")) {
    simdjson::dom::array arr;
    if (fl->get_array().get(arr)) {
      r.fail("ca.faults: must be a list of {\"from_s\", \"to_s\", \"status\", \"retry_after_s\"}");
      return false;
    }
    std::size_t i = 0;
    for (element x : arr) {
      if (i == 1000) {
        r.fail("ca.faults: at most 1000 windows");
        return false;
      }
      object_reader fr(x, item("ca.faults", i), {"from_s", "to_s", "status", "retry_after_s"}, st);
      sim::fault_window w;
      const auto from = fr.seconds("from_s", 0, max_seconds, true);
      const auto to = fr.seconds("to_s", 0, max_seconds, true);
      if (const auto code = fr.whole("status", 100, 599)) w.status = static_cast<int>(*code);
      if (const auto ra = fr.whole("retry_after_s", 0, 86400))
        w.retry_after = duration{static_cast<std::int64_t>(*ra) * 1000};
      if (!fr.ok()) return false;
      if (*to <= *from) {
        fr.fail(item("ca.faults", i) + ": to_s must be after from_s");
        return false;
      }
      w.from = *from;
      w.to = *to;
      ca.faults.push_back(w);
      ++i;
    }
  }
  if (const auto w = r.get("ari_window")) {
    object_reader wr(*w, "ca.ari_window", {"from_s", "to_s"}, st);
    const auto from = wr.seconds("from_s", 0, max_seconds, true);
    const auto to = wr.seconds("to_s", 0, max_seconds, true);
    if (!wr.ok()) return false;
    if (*to <= *from) {
      wr.fail("ca.ari_window: to_s must be after from_s");
      return false;
    }
    ca.ari_window = {*from, *to};
  }
  return r.ok();
}

bool parse_schedule(element e, const std::string& path, any_schedule& out, parse_state& st) {
  std::string_view name;
  if (!e.get_string().get(name)) {
    if (const auto s = named_schedule(name)) {
      out = *s;
      return true;
    }
    std::string list;
    for (auto n : schedule_names) list += (list.empty() ? "" : ", ") + std::string(n);
    return st.fail(path + ": '" + object_reader::printable(name) + "' is not a schedule (" + list +
                   ", or an object: fixed_s, exponential, geometric, table_s)");
  }
  object_reader r(e, path, {"fixed_s", "exponential", "geometric", "table_s"}, st);
  if (!r.ok()) return false;
  int given = 0;
  for (auto k : {"fixed_s", "exponential", "geometric", "table_s"}) given += r.has(k) ? 1 : 0;
  if (given != 1) {
    r.fail(path + ": give exactly one of fixed_s, exponential, geometric, table_s");
    return false;
  }
  if (const auto f = r.seconds("fixed_s", 0.001, 86400)) {
    out = any_schedule{fixed_schedule{*f}};
  } else if (const auto x = r.get("exponential")) {
    object_reader xr(*x, path + ".exponential", {"base_s", "cap_s"}, st);
    const auto base = xr.seconds("base_s", 0.001, 86400, true);
    const auto cap = xr.seconds("cap_s", 0.001, 86400, true);
    if (!xr.ok()) return false;
    out = any_schedule{exponential_schedule(*base, *cap)};
  } else if (const auto g = r.get("geometric")) {
    object_reader gr(*g, path + ".geometric", {"base_s", "factor", "cap_s"}, st);
    const auto base = gr.seconds("base_s", 0.001, 86400, true);
    const auto factor = gr.number("factor", 1, 100, true);
    const auto cap = gr.seconds("cap_s", 0.001, 86400, true);
    if (!gr.ok()) return false;
    out = any_schedule{geometric_schedule{*base, *factor, *cap}};
  } else if (const auto t = r.get("table_s")) {
    simdjson::dom::array arr;
    if (t->get_array().get(arr) || arr.size() == 0 || arr.size() > table_schedule::max_steps) {
      r.fail(path + ".table_s: must be a list of 1 to 16 delays in seconds");
      return false;
    }
    std::vector<duration> steps;
    for (element v : arr) {
      const double s = number_of(v).value_or(-1.0);
      if (!(s >= 0.001 && s <= 86400)) {
        r.fail(path + ".table_s: each delay must be a number of seconds from 0.001 to 86400");
        return false;
      }
      steps.push_back(ms_of_seconds(s));
    }
    // The last delay repeats, so padding the list with it keeps the schedule.
    const auto at = [&](std::size_t i) { return steps[std::min(i, steps.size() - 1)]; };
    const table_schedule ts{at(0), at(1), at(2),  at(3),  at(4),  at(5),  at(6),  at(7),
                            at(8), at(9), at(10), at(11), at(12), at(13), at(14), at(15)};
    out = any_schedule{ts};
  }
  return r.ok();
}

// A budget by preset name, or a ratio budget, a gRPC token bucket or adaptive throttling with
// its parameters (docs/budgets.md).
bool parse_budget(element e, const std::string& path, sim::budget_spec& out, parse_state& st) {
  using kind = sim::budget_spec::kind;
  std::string_view name;
  if (!e.get_string().get(name)) {
    if (name == "none") {
      out.what = kind::none;
    } else if (name == "sre") {
      out.what = kind::ratio;
      out.ratio = ratio_budget_params::sre();
    } else if (name == "finagle") {
      out.what = kind::ratio;
      out.ratio = ratio_budget_params::finagle();
    } else if (name == "aws") {
      out.what = kind::token_bucket;
      out.bucket = token_bucket_params::aws_standard();
    } else if (name == "adaptive") {
      out.what = kind::adaptive;
      out.adaptive = adaptive_throttle_params{};
    } else {
      return st.fail(path + ": '" + object_reader::printable(name) +
                     "' is not none, sre, finagle, aws or adaptive (or an object with \"kind\")");
    }
    return true;
  }
  object_reader r(e, path,
                  {"kind", "ratio", "window_s", "min_retries_per_s", "max_tokens", "token_ratio",
                   "k", "denial"},
                  st);
  const auto k = r.choice("kind", {"ratio", "grpc", "adaptive"});
  if (!r.ok()) return false;
  if (!k) return st.fail(path + ".kind: missing (ratio, grpc or adaptive)");
  const auto only = [&](std::initializer_list<std::string_view> keys) {
    for (auto key : {"ratio", "window_s", "min_retries_per_s", "max_tokens", "token_ratio", "k"}) {
      bool allowed = false;
      for (auto a : keys) allowed = allowed || a == key;
      if (!allowed && r.has(key))
        return st.fail(r.where(key) + ": not a parameter of a " + std::string(*k) + " budget");
    }
    return true;
  };
  on_denial denial = *k == "adaptive" ? on_denial::wait : on_denial::finish;
  if (const auto d = r.choice("denial", {"finish", "wait"}))
    denial = *d == "wait" ? on_denial::wait : on_denial::finish;
  if (*k == "ratio") {
    if (!only({"ratio", "window_s", "min_retries_per_s"})) return false;
    out.what = kind::ratio;
    out.ratio.ratio = r.number("ratio", 0, 10).value_or(0.1);
    out.ratio.window = r.seconds("window_s", 1, 86400).value_or(std::chrono::minutes{2});
    out.ratio.min_retries_per_second = r.number("min_retries_per_s", 0, 1e6).value_or(0);
    out.ratio.min_retries_per_window = 0;
    out.ratio.denial = denial;
  } else if (*k == "grpc") {
    if (!only({"max_tokens", "token_ratio"})) return false;
    const auto tokens = r.whole("max_tokens", 1, 1000).value_or(10);
    const double ratio = r.number("token_ratio", 0.001, 1000).value_or(0.1);
    if (!r.ok()) return false;
    auto params = token_bucket_params::grpc(static_cast<std::uint32_t>(tokens), ratio, denial);
    if (!params) return st.fail(path + ": max_tokens must be 1 to 1000 and token_ratio above 0");
    out.what = kind::token_bucket;
    out.bucket = params.value();
  } else {
    if (!only({"k", "window_s"})) return false;
    out.what = kind::adaptive;
    out.adaptive.k = r.number("k", 0, 100).value_or(2.0);
    out.adaptive.window = r.seconds("window_s", 1, 86400).value_or(std::chrono::minutes{2});
    out.adaptive.denial = denial;
  }
  return r.ok();
}

bool parse_policy(element e, const std::string& path, fleet_model model, sim::client_policy& p,
                  sim::tpp_fleet_options& enrollment, parse_state& st) {
  object_reader r(
      e, path,
      {"name", "schedule", "jitter", "jitter_pct", "jitter_cap_s", "max_wait_s", "max_attempts",
       "min_delay_s", "honor_retry_after", "retry_after_ceiling_s", "on_pending", "requeue_after_s",
       "requeue_factor", "requeue_cap_s", "budget", "tpp_retrieve", "tpp_reset", "tpp_watch_s"},
      st);
  const auto name = r.string("name", true);
  if (!r.ok()) return false;
  if (name->empty() || name->size() > 64) {
    r.fail(path + ".name: must be 1 to 64 characters");
    return false;
  }
  for (const char c : *name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '<' ||
        c == '>' || c == '&' || c == '|') {
      r.fail(path + ".name: must be printable, without quotes, backslashes, <, >, & or |");
      return false;
    }
  p.name.assign(*name);
  any_schedule sched{schedules::certctl};
  if (const auto s = r.get("schedule"); s && r.ok())
    if (!parse_schedule(*s, path + ".schedule", sched, st)) return false;
  const double pct = r.number("jitter_pct", 0, 100).value_or(20);
  const duration cap = r.seconds("jitter_cap_s", 0.001, 86400).value_or(5min);
  any_jitter jit{proportional_jitter{pct / 100.0}};
  if (const auto j =
          r.choice("jitter", {"none", "pct", "full", "equal", "decorrelated", "decorrelated-v2"}))
    jit = *named_jitter(*j, pct / 100.0, cap);
  limits lim;
  if (const auto w = r.seconds("max_wait_s", 1, max_seconds)) lim.max_wait = *w;
  if (const auto a = r.whole("max_attempts", 0, 1e6))
    lim.max_attempts = static_cast<std::uint32_t>(*a);
  // The machines refuse a floor under 100 ms (limits::lowest_min_delay).
  if (const auto d = r.seconds("min_delay_s", 0.1, 86400)) lim.min_delay = *d;
  retry_after_policy ra;
  if (const auto h = r.boolean("honor_retry_after"); h && !*h) ra.mode = retry_after_mode::ignore;
  if (const auto c = r.seconds("retry_after_ceiling_s", 1, 86400)) ra.ceiling = *c;
  if (const auto op = r.choice("on_pending", {"resume", "resubmit"}))
    p.pending = *op == "resume" ? sim::on_pending::resume : sim::on_pending::resubmit;
  if (const auto q = r.seconds("requeue_after_s", 0, 86400)) p.requeue_after = *q;
  if (const auto f = r.number("requeue_factor", 1, 100)) p.requeue_factor = *f;
  if (const auto c = r.seconds("requeue_cap_s", 0, 86400 * 7)) p.requeue_cap = *c;
  if (const auto b = r.get("budget"); b && r.ok())
    if (!parse_budget(*b, path + ".budget", p.budget, st)) return false;
  for (const std::string_view key : {"tpp_retrieve", "tpp_reset", "tpp_watch_s"})
    if (model != fleet_model::tpp && r.get(key)) {
      r.fail(path + "." + std::string(key) + ": only with model tpp");
      return false;
    }
  if (const auto m = r.choice("tpp_retrieve", {"watch", "poll"}))
    enrollment.mode = *m == "watch" ? tpp::retrieve_mode::watch : tpp::retrieve_mode::poll;
  if (const auto s =
          r.choice("tpp_reset", {"reset-on-detection", "reset-before-request", "query-only"}))
    enrollment.strategy = *s == "reset-on-detection"     ? tpp::reset_strategy::reset_on_detection
                          : *s == "reset-before-request" ? tpp::reset_strategy::reset_before_request
                                                         : tpp::reset_strategy::query_only;
  if (const auto w = r.seconds("tpp_watch_s", 1, 3600)) enrollment.watch = *w;
  if (!r.ok()) return false;
  p.backoff = backoff_policy<any_schedule, any_jitter>{sched, jit, lim, ra};
  return true;
}

}  // namespace

bool load_file(std::string_view path, std::size_t max_bytes, std::string& text,
               std::string& detail) {
  const std::string p(path);
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) {
    detail = object_reader::printable(path) + ": cannot read (" + ec.message() + ")";
    return false;
  }
  if (size > max_bytes) {
    detail =
        object_reader::printable(path) + ": larger than " + std::to_string(max_bytes) + " bytes";
    return false;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    detail = object_reader::printable(path) + ": cannot open";
    return false;
  }
  text.assign(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return true;
}

result<fleet_file> parse_fleet(std::string_view json, std::string_view base_dir,
                               const file_loader& load, std::string& detail) {
  if (json.size() > max_fleet_bytes) {
    detail = "fleet file: larger than " + std::to_string(max_fleet_bytes) + " bytes";
    return errc::scenario_malformed;
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element root;
  if (const auto err = parser.parse(padded).get(root)) {
    detail = std::string("fleet file: not JSON (") + simdjson::error_message(err) + ")";
    return errc::scenario_malformed;
  }
  parse_state st{&detail};
  fleet_file f;
  object_reader top(
      root, "", {"seed", "deadline_s", "bin_s", "peak_window_s", "fleet", "ca", "policies"}, st);
  if (const auto s = top.whole("seed", 0, 9007199254740992.0)) f.run.seed = *s;
  if (const auto d = top.seconds("deadline_s", 1, max_seconds)) f.run.deadline = *d;
  if (const auto b = top.seconds("bin_s", 0.001, 86400)) f.run.bin = *b;
  if (const auto w = top.seconds("peak_window_s", 0.001, 86400)) f.run.peak_window = *w;
  if (st.ok && f.run.deadline / f.run.bin > static_cast<std::int64_t>(sim::timeline::max_bins)) {
    detail = "bin_s: deadline_s / bin_s must be at most " + std::to_string(sim::timeline::max_bins);
    return errc::scenario_malformed;
  }
  if (st.ok && f.run.peak_window < f.run.bin) f.run.peak_window = f.run.bin;

  const auto fleet = top.get("fleet");
  if (st.ok && !fleet) {
    detail = "fleet: missing (certificates, renewal, over_s ...)";
    return errc::scenario_malformed;
  }
  if (fleet) {
    object_reader fr(*fleet, "fleet",
                     {"certificates", "renewal", "start_s", "over_s", "ari", "not_after_s"}, st);
    if (const auto n = fr.whole("certificates", 0, max_certificates, true))
      f.plan.certificates = *n;
    if (const auto s = fr.choice("renewal", {"uniform", "even", "at_once"}))
      f.plan.spread = *s == "uniform" ? sim::renewal_spread::uniform
                      : *s == "even"  ? sim::renewal_spread::even
                                      : sim::renewal_spread::at_once;
    if (const auto s = fr.seconds("start_s", 0, max_seconds)) f.plan.start = *s;
    if (const auto o = fr.seconds("over_s", 0, max_seconds)) f.plan.over = *o;
    if (const auto a = fr.boolean("ari")) f.plan.ari = *a;
    if (const auto na = fr.seconds("not_after_s", 1, max_seconds)) f.plan.not_after = *na;
  }
  if (const auto ca = top.get("ca"); ca && st.ok) {
    if (!parse_ca(*ca, base_dir, load, f, st)) return st.code;
  }
  if (st.ok && f.plan.ari && f.model != fleet_model::async_ca) {
    detail = "fleet.ari: only with model async-ca";
    return errc::scenario_malformed;
  }
  if (st.ok && f.plan.ari && f.ca.ari_window.to <= f.ca.ari_window.from) {
    detail = "ca.ari_window: required when fleet.ari is true ({\"from_s\", \"to_s\"})";
    return errc::scenario_malformed;
  }
  const auto pols = top.get("policies");
  if (st.ok && !pols) {
    detail = "policies: missing (a list of policies, each run against the whole fleet)";
    return errc::scenario_malformed;
  }
  if (pols && st.ok) {
    simdjson::dom::array arr;
    if (pols->get_array().get(arr) || arr.size() == 0 || arr.size() > 32) {
      detail = "policies: must be a list of 1 to 32 policies";
      return errc::scenario_malformed;
    }
    std::size_t i = 0;
    for (element p : arr) {
      sim::client_policy cp;
      sim::tpp_fleet_options enrollment;
      if (!parse_policy(p, item("policies", i), f.model, cp, enrollment, st)) return st.code;
      enrollment.stuck = f.tpp_stuck;
      f.tpp_clients.push_back(enrollment);
      for (const auto& other : f.policies)
        if (other.name == cp.name) {
          detail = item("policies", i) + ".name: '" + cp.name + "' is used twice";
          return errc::scenario_malformed;
        }
      if (f.model != fleet_model::async_ca &&
          (cp.budget.what != sim::budget_spec::kind::none || cp.budget.throttle ||
           cp.pending != sim::on_pending::resume)) {
        detail = item("policies", i) +
                 ": budget and on_pending \"resubmit\" are only for model async-ca";
        return errc::scenario_malformed;
      }
      f.policies.push_back(std::move(cp));
      ++i;
    }
  }
  if (!st.ok) return st.code;
  return f;
}

}  // namespace certretry::harness
