// certretry/ledger/ledger_json.hpp — a failure ledger saved as JSON and read back.
//
// The saved form (docs/operations.md, "The ledger file"):
//   {"version":1,"unit":"acme:acct-1:example.com","consecutive":3,
//    "failures":{"transient":1,"rate_limited":0,"rejected":2,"needs_person":0},
//    "last":{"kind":"failed","at":"2026-11-30T06:00:00Z","reason":"…"},
//    "next_attempt":"2026-11-30T07:40:00Z","last_success":"2026-09-01T00:00:00Z",
//    "needs_person":false,"action":"","replaces_5xx":0}
// Members other than "version" and "unit" may be absent (a fresh ledger). A saved ledger is
// input the caller may not control (a shared volume, a Kubernetes annotation), so the reader is
// strict and bounded like every other parser: at most ledger_max_json bytes, unknown members
// and wrong types are errors naming the member, texts are cut to ledger_max_text, and counts
// must agree (the classes add up to the consecutive failures).
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/text.hpp"
#include "certretry/ledger/failure_ledger.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certretry {

/// The largest saved ledger from_json() reads (16 KiB); longer text is refused.
inline constexpr std::size_t ledger_max_json = 16 * 1024;

/// Access to a ledger's fields for from_json(), which restores them; not for callers.
///
/// Thread safety: as the ledger it is given.
struct ledger_access {
  /// The unit's name.
  static std::string& unit(failure_ledger& l) { return l.unit_; }
  /// Failures in a row.
  static std::uint32_t& consecutive(failure_ledger& l) { return l.consecutive_; }
  /// Failures by class.
  static auto& by_class(failure_ledger& l) { return l.by_class_; }
  /// How the last run ended.
  static auto& last_kind(failure_ledger& l) { return l.last_kind_; }
  /// When the last run ended.
  static auto& last_at(failure_ledger& l) { return l.last_at_; }
  /// The last failure's reason.
  static std::string& last_reason(failure_ledger& l) { return l.last_reason_; }
  /// The earliest next attempt.
  static auto& next_attempt(failure_ledger& l) { return l.next_attempt_; }
  /// When the last run succeeded.
  static auto& last_success(failure_ledger& l) { return l.last_success_; }
  /// Whether a person must act.
  static bool& needs_person(failure_ledger& l) { return l.needs_person_; }
  /// What the person needs.
  static std::string& action(failure_ledger& l) { return l.action_; }
  /// Consecutive 5xx to new-orders that carried `replaces`.
  static std::uint32_t& replaces_5xx(failure_ledger& l) { return l.replaces_5xx_; }
};

/// The ledger as JSON text (the saved form above), the same for the same ledger.
inline std::string to_json(const failure_ledger& l) {
  std::string out = "{\"version\":1,\"unit\":";
  detail::append_json_string(out, l.unit());
  out += ",\"consecutive\":" + std::to_string(l.consecutive_failures()) + ",\"failures\":{";
  for (std::size_t i = 0; i < failure_class_count; ++i) {
    const auto c = static_cast<failure_class>(i);
    if (i) out += ',';
    detail::append_json_string(out, to_string(c));
    out += ':' + std::to_string(l.failures(c));
  }
  out += '}';
  if (l.last_kind()) {
    out += ",\"last\":{\"kind\":";
    detail::append_json_string(out, to_string(*l.last_kind()));
    if (l.last_at()) out += ",\"at\":\"" + format_rfc3339(*l.last_at()) + '"';
    out += ",\"reason\":";
    detail::append_json_string(out, l.last_reason());
    out += '}';
  }
  if (l.next_attempt()) out += ",\"next_attempt\":\"" + format_rfc3339(*l.next_attempt()) + '"';
  if (l.last_success()) out += ",\"last_success\":\"" + format_rfc3339(*l.last_success()) + '"';
  out += std::string(",\"needs_person\":") + (l.needs_person() ? "true" : "false");
  out += ",\"action\":";
  detail::append_json_string(out, l.action());
  if (l.replaces_server_errors())
    out += ",\"replaces_5xx\":" + std::to_string(l.replaces_server_errors());
  out += '}';
  return out;
}

namespace detail {

inline std::optional<outcome_kind> outcome_kind_named(std::string_view s) noexcept {
  for (auto k : {outcome_kind::issued, outcome_kind::still_pending, outcome_kind::failed,
                 outcome_kind::needs_reset, outcome_kind::cancelled, outcome_kind::renew_at,
                 outcome_kind::completed, outcome_kind::needs_person})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

}  // namespace detail

/// Reads a saved ledger. On an error, `detail` says which member is wrong and why.
inline result<failure_ledger> parse_ledger(std::string_view text, std::string& detail) {
  const auto fail = [&](std::string what) -> result<failure_ledger> {
    detail = "ledger: " + std::move(what);
    return errc::body_wrong_type;
  };
  if (text.size() > ledger_max_json) {
    detail = "ledger: " + std::to_string(text.size()) + " bytes, more than " +
             std::to_string(ledger_max_json) + ": not a saved ledger";
    return errc::body_too_large;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(text.data(), text.size()).get(root)) {
    detail = std::string("ledger: not JSON: ") + simdjson::error_message(e);
    return errc::body_not_json;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return fail("must be a JSON object");

  failure_ledger l;
  using A = ledger_access;
  bool has_version = false, has_unit = false;
  // Texts are read back only as to_json writes them (sanitised, cut to ledger_max_text plus
  // "..."), so that reading and saving again gives the same file; anything else is refused.
  const auto text_of = [&](simdjson::dom::element v, std::string& into) -> bool {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    into.clear();
    detail::append_sanitized(into, s, ledger_max_text + 3);
    return into == s;
  };
  const std::string text_rule = ": must be a string of printable UTF-8, at most " +
                                std::to_string(ledger_max_text + 3) + " bytes";
  const auto time_of = [&](simdjson::dom::element v) -> std::optional<time_point> {
    std::string_view s;
    if (v.get_string().get(s)) return std::nullopt;
    return parse_rfc3339(s);
  };
  const auto count_of = [&](simdjson::dom::element v) -> std::optional<std::uint32_t> {
    std::uint64_t n = 0;
    if (v.get_uint64().get(n) || n > UINT32_MAX) return std::nullopt;
    return static_cast<std::uint32_t>(n);
  };
  std::vector<std::string_view> seen;
  for (auto [key, value] : obj) {
    // A member given twice would let one copy of the file say two things.
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      std::string k;
      detail::append_sanitized(k, key, 40);
      return fail(k + ": given twice");
    }
    seen.push_back(key);
    if (key == "version") {
      std::uint64_t v = 0;
      if (value.get_uint64().get(v) || v != 1)
        return fail("version: must be 1 (this library reads version 1)");
      has_version = true;
    } else if (key == "unit") {
      if (!text_of(value, A::unit(l))) return fail("unit" + text_rule);
      has_unit = true;
    } else if (key == "consecutive") {
      const auto n = count_of(value);
      if (!n) return fail("consecutive: must be a whole number from 0 to 4294967295");
      A::consecutive(l) = *n;
    } else if (key == "failures") {
      simdjson::dom::object f;
      if (value.get_object().get(f)) return fail("failures: must be an object");
      for (auto [ck, cv] : f) {
        std::optional<std::size_t> at;
        for (std::size_t i = 0; i < failure_class_count; ++i)
          if (to_string(static_cast<failure_class>(i)) == ck) at = i;
        std::string k;
        detail::append_sanitized(k, ck, 40);
        if (!at)
          return fail("failures." + k +
                      ": unknown class (known: transient, rate_limited, rejected, needs_person)");
        const auto n = count_of(cv);
        if (!n) return fail("failures." + k + ": must be a whole number");
        A::by_class(l)[*at] = *n;
      }
    } else if (key == "last") {
      simdjson::dom::object o;
      if (value.get_object().get(o)) return fail("last: must be an object");
      for (auto [lk, lv] : o) {
        if (lk == "kind") {
          std::string_view s;
          std::optional<outcome_kind> k;
          if (!lv.get_string().get(s)) k = detail::outcome_kind_named(s);
          if (!k) return fail("last.kind: must be an outcome kind (issued, failed, …)");
          A::last_kind(l) = *k;
        } else if (lk == "at") {
          const auto t = time_of(lv);
          if (!t) return fail("last.at: must be an RFC 3339 time");
          A::last_at(l) = *t;
        } else if (lk == "reason") {
          if (!text_of(lv, A::last_reason(l))) return fail("last.reason" + text_rule);
        } else {
          std::string k;
          detail::append_sanitized(k, lk, 40);
          return fail("last." + k + ": unknown member (known: kind, at, reason)");
        }
      }
      if (!A::last_kind(l)) return fail("last.kind: missing");
    } else if (key == "next_attempt" || key == "last_success") {
      const auto t = time_of(value);
      if (!t) return fail(std::string(key) + ": must be an RFC 3339 time");
      (key == "next_attempt" ? A::next_attempt(l) : A::last_success(l)) = *t;
    } else if (key == "needs_person") {
      if (value.get_bool().get(A::needs_person(l))) return fail("needs_person: must be a boolean");
    } else if (key == "replaces_5xx") {
      const auto n = count_of(value);
      if (!n) return fail("replaces_5xx: must be a whole number");
      A::replaces_5xx(l) = *n;
    } else if (key == "action") {
      if (!text_of(value, A::action(l))) return fail("action" + text_rule);
    } else {
      std::string k;
      detail::append_sanitized(k, key, 40);
      return fail(k +
                  ": unknown member (known: version, unit, consecutive, failures, last, "
                  "next_attempt, last_success, needs_person, action, replaces_5xx)");
    }
  }
  if (!has_version) return fail("version: missing");
  if (!has_unit) return fail("unit: missing");
  std::uint64_t sum = 0;
  for (auto n : A::by_class(l)) sum += n;
  if (sum > A::consecutive(l))
    return fail("failures: the classes add up to " + std::to_string(sum) +
                ", more than consecutive (" + std::to_string(A::consecutive(l)) + ")");
  return l;
}

}  // namespace certretry
