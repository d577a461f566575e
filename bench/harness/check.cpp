// `certretry-harness check`: a scenario's `expect` block, asserted against its transcript.
#include "replay.hpp"

#include "json_number.hpp"
#include "json_out.hpp"

#include <simdjson.h>

#include <cmath>
#include <functional>

namespace certretry::harness {
namespace {

using simdjson::dom::element;

duration seconds_of(element e, bool& ok) {
  const std::optional<double> n = number_of(e);
  if (!n) ok = false;
  const double v = n.value_or(0.0);
  return ms_of_seconds(v);
}

std::string list_text(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) out += (out.size() > 1 ? ", " : "") + i;
  return out + "]";
}

std::vector<std::string> pick(const replay_result& r, const std::string& kind,
                              const std::function<std::string(const entry&)>& f) {
  std::vector<std::string> out;
  for (const auto& e : r.entries)
    if (e.kind == kind) out.push_back(f(e));
  return out;
}

// Whether `seen` holds `want`: an object every member of `want` (recursively; a `null` member:
// absent from `seen`), anything else the same JSON value. On a mismatch `where` names the member.
bool holds_subset(element want, element seen, std::string& where) {
  simdjson::dom::object w, s;
  if (!want.get_object().get(w)) {
    if (seen.get_object().get(s)) return false;
    for (auto [k, v] : w) {
      const std::string at = where + "." + std::string(k);
      element got;
      if (s[k].get(got)) {
        if (v.is_null()) continue;
        where = at + ": absent";
        return false;
      }
      if (v.is_null()) {
        where = at + ": wanted absent, saw " + simdjson::minify(got);
        return false;
      }
      std::string inner = at;
      if (!holds_subset(v, got, inner)) {
        where = inner;
        return false;
      }
    }
    return true;
  }
  if (simdjson::minify(want) == simdjson::minify(seen)) return true;
  where += ": wanted " + simdjson::minify(want) + ", saw " + simdjson::minify(seen);
  return false;
}

}  // namespace

bool check_expectations(const std::string& expect_json, const replay_result& r, std::string& why,
                        bool& malformed) {
  malformed = false;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(std::string_view{expect_json});
  simdjson::dom::object expect;
  if (parser.parse(padded).get_object().get(expect)) {
    malformed = true;
    why = "expect: must be an object";
    return false;
  }
  if (r.entries.empty() || r.entries.back().kind != "outcome") {
    why = "the run did not finish with an outcome line";
    return false;
  }
  const entry& out = r.entries.back();
  bool ok = true;
  auto fail = [&](std::string msg) {
    if (ok) why = std::move(msg);
    ok = false;
  };
  auto bad_field = [&](std::string_view key, std::string_view form) {
    malformed = true;
    fail("expect." + std::string(key) + ": must be " + std::string(form));
  };
  // Compares a list of strings the transcript has with the list the scenario expects.
  auto string_list = [&](std::string_view key, element v, const std::vector<std::string>& seen) {
    simdjson::dom::array arr;
    if (v.get_array().get(arr)) return bad_field(key, "a list of strings");
    std::vector<std::string> want;
    for (element x : arr) {
      std::string_view s;
      if (x.get_string().get(s)) return bad_field(key, "a list of strings");
      want.emplace_back(s);
    }
    if (want != seen)
      fail("expect." + std::string(key) + ": wanted " + list_text(want) + ", saw " +
           list_text(seen));
  };
  auto seconds_list = [&](std::string_view key, element v, const std::vector<duration>& seen) {
    simdjson::dom::array arr;
    if (v.get_array().get(arr)) return bad_field(key, "a list of seconds");
    std::vector<std::string> want_text, seen_text;
    bool num_ok = true;
    std::vector<duration> want;
    for (element x : arr) want.push_back(seconds_of(x, num_ok));
    if (!num_ok) return bad_field(key, "a list of seconds");
    for (auto d : want) want_text.push_back(seconds_text(d));
    for (auto d : seen) seen_text.push_back(seconds_text(d));
    if (want != seen)
      fail("expect." + std::string(key) + ": wanted " + list_text(want_text) + ", saw " +
           list_text(seen_text));
  };

  std::vector<duration> send_times, waits;
  for (const auto& e : r.entries) {
    if (e.kind == "send") send_times.push_back(e.t);
    if (e.kind == "wait") waits.push_back(e.wait);
  }

  for (auto [k, v] : expect) {
    const std::string key(k);
    std::string_view s;
    std::int64_t n = 0;
    bool num_ok = true;
    if (key == "outcome") {
      if (v.get_string().get(s))
        bad_field(key, "a string");
      else if (s != out.what)
        fail("expect.outcome: wanted " + std::string(s) + ", saw " + out.what);
    } else if (key == "sends") {
      if (v.get_int64().get(n))
        bad_field(key, "an integer");
      else if (n != out.sends)
        fail("expect.sends: wanted " + std::to_string(n) + ", saw " + std::to_string(out.sends));
    } else if (key == "sends_between") {
      simdjson::dom::array arr;
      std::int64_t lo = 0, hi = 0;
      if (v.get_array().get(arr) || arr.size() != 2 || arr.at(0).get_int64().get(lo) ||
          arr.at(1).get_int64().get(hi))
        bad_field(key, "[min, max]");
      else if (out.sends < lo || out.sends > hi)
        fail("expect.sends_between: wanted " + std::to_string(lo) + ".." + std::to_string(hi) +
             ", saw " + std::to_string(out.sends));
    } else if (key == "reason_contains") {
      if (v.get_string().get(s))
        bad_field(key, "a string");
      else if (out.why.find(s) == std::string::npos)
        fail("expect.reason_contains: '" + std::string(s) + "' not in '" + out.why + "'");
    } else if (key == "requests") {
      string_list(key, v, pick(r, "send", [](const entry& e) { return e.what; }));
    } else if (key == "recv") {
      string_list(key, v, pick(r, "recv", [](const entry& e) { return e.what; }));
    } else if (key == "verdicts") {
      string_list(key, v, pick(r, "recv", [](const entry& e) { return e.verdict; }));
    } else if (key == "wait_whys") {
      string_list(key, v, pick(r, "wait", [](const entry& e) { return e.why; }));
    } else if (key == "events") {
      string_list(key, v, pick(r, "event", [](const entry& e) { return e.what; }));
    } else if (key == "why_contains") {
      // Each string must appear in some recv line's why, in order.
      simdjson::dom::array arr;
      if (v.get_array().get(arr)) {
        bad_field(key, "a list of strings");
        continue;
      }
      const auto whys = pick(r, "recv", [](const entry& e) { return e.why; });
      std::size_t at = 0;
      for (element x : arr) {
        if (x.get_string().get(s)) {
          bad_field(key, "a list of strings");
          break;
        }
        while (at < whys.size() && whys[at].find(s) == std::string::npos) ++at;
        if (at == whys.size()) {
          fail("expect.why_contains: no verdict's why contains '" + std::string(s) +
               "' (in order)");
          break;
        }
        ++at;
      }
    } else if (key == "send_times") {
      seconds_list(key, v, send_times);
    } else if (key == "waits") {
      seconds_list(key, v, waits);
    } else if (key == "wait_bounds") {
      simdjson::dom::array arr;
      if (v.get_array().get(arr)) {
        bad_field(key, "a list of [min, max] seconds");
        continue;
      }
      std::size_t i = 0;
      for (element pair : arr) {
        simdjson::dom::array p;
        if (pair.get_array().get(p) || p.size() != 2) {
          bad_field(key, "a list of [min, max] seconds");
          break;
        }
        const duration lo = seconds_of(p.at(0).value(), num_ok);
        const duration hi = seconds_of(p.at(1).value(), num_ok);
        if (!num_ok) {
          bad_field(key, "a list of [min, max] seconds");
          break;
        }
        if (i >= waits.size()) {
          fail("expect.wait_bounds: wanted at least " + std::to_string(arr.size()) +
               " waits, saw " + std::to_string(waits.size()));
          break;
        }
        if (waits[i] < lo || waits[i] > hi)
          fail("expect.wait_bounds[" + std::to_string(i) + "]: " + seconds_text(waits[i]) +
               " outside [" + seconds_text(lo) + ", " + seconds_text(hi) + "]");
        ++i;
      }
    } else if (key == "final_t" || key == "max_t") {
      const duration want = seconds_of(v, num_ok);
      if (!num_ok)
        bad_field(key, "seconds");
      else if (key == "final_t" ? out.t != want : out.t > want)
        fail("expect." + key + ": wanted " + (key == "max_t" ? "<= " : "") + seconds_text(want) +
             ", the run ended at " + seconds_text(out.t));
    } else if (key == "not_before" || key == "action") {
      // The outcome line's not_before (RFC 3339, as printed) or action; null: the line has none.
      const std::string& seen = key == "not_before" ? out.not_before : out.action;
      if (v.is_null()) {
        if (!seen.empty()) fail("expect." + key + ": wanted none, saw " + seen);
      } else if (v.get_string().get(s)) {
        bad_field(key, "a string or null");
      } else if (s != seen) {
        fail("expect." + key + ": wanted " + std::string(s) + ", saw " +
             (seen.empty() ? std::string("none") : seen));
      }
    } else if (key == "ledger") {
      // Members of the ledger saved after the run (the `ledger` event), a subset.
      if (!v.is_object()) {
        bad_field(key, "an object (members of the saved ledger)");
      } else if (!r.ledger) {
        fail("expect.ledger: the scenario has no ledger, so none was saved");
      } else {
        simdjson::dom::parser saved_parser;
        const simdjson::padded_string saved{std::string_view{*r.ledger}};
        element seen;
        std::string where = "expect.ledger";
        if (saved_parser.parse(saved).get(seen))
          fail("expect.ledger: the saved ledger is not JSON");
        else if (!holds_subset(v, seen, where))
          fail(where + "; the saved ledger: " + *r.ledger);
      }
    } else if (key == "description") {
      // free text
    } else {
      malformed = true;
      fail("expect." + key + ": unknown assertion (see docs/harness.md)");
    }
  }
  return ok;
}

}  // namespace certretry::harness
