// Reading machine options from their declarations (options.hpp).
#include "options.hpp"

#include "certretry/core/rfc3339.hpp"

#include <charconv>
#include <cmath>

namespace certretry::harness {
namespace {

// Replaces "{}" in `pattern` with `value`.
std::string fill(std::string_view pattern, std::string_view value) {
  std::string out(pattern);
  if (const auto at = out.find("{}"); at != std::string::npos) out.replace(at, 2, value);
  return out;
}

std::string choice_message(const option_spec& o, std::string_view value) {
  if (!o.bad.empty()) return fill(o.bad, value);
  std::string names;
  for (auto n : *o.choices) names += (names.empty() ? "" : ", ") + std::string(n);
  return "'" + std::string(value) + "' is not one of " + names;
}

std::string refused_text(const option_spec& o, std::string_view value) {
  return o.kind == option_kind::choice ? choice_message(o, value) : fill(o.bad, value);
}

// The default as the scenario would have given it.
option_value default_value(const option_spec& o) {
  option_value v;
  std::visit(
      [&](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::string>) {
          if (o.kind == option_kind::json)
            v.v = raw_json{d};
          else
            v.v = d;
        } else if constexpr (!std::is_same_v<D, std::monostate>) {
          v.v = d;
        }
      },
      *o.def);
  return v;
}

options_problem check_number(const option_spec& o, double d, option_data& out) {
  const bool whole = o.kind == option_kind::whole;
  if (!(d >= o.min && d <= o.max) || (whole && std::floor(d) != d)) {
    if (whole)
      return "must be a whole number from " + number_text(o.min) +
             (o.zero == zero_means::no_limit && o.min == 0 ? " (no cap)" : "") + " to " +
             number_text(o.max);
    return "must be between " + number_text(o.min) + " and " + number_text(o.max) +
           (o.kind == option_kind::seconds ? " seconds" : "");
  }
  if (d == 0 && o.zero == zero_means::the_default)
    if (const auto* def = std::get_if<double>(o.def)) d = *def;
  if (o.kind == option_kind::seconds)
    out = certretry::detail::saturate_ms(d * 1000.0);
  else if (whole)
    out = static_cast<std::uint32_t>(d);
  else
    out = d;
  return std::nullopt;
}

}  // namespace

std::string number_text(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

options_problem check_value(const option_spec& o, const option_value* given, option_data& out) {
  option_value fallback;
  if (!given) {
    if (std::holds_alternative<std::monostate>(*o.def)) {
      out = std::monostate{};
      return std::nullopt;
    }
    fallback = default_value(o);
    given = &fallback;
  }
  const auto& v = given->v;
  switch (o.kind) {
    case option_kind::text:
    case option_kind::choice:
    case option_kind::time: {
      const auto* s = std::get_if<std::string>(&v);
      if (!s) return "must be a string";
      std::string text = *s;
      if (o.kind == option_kind::time) {
        const auto t = parse_rfc3339(text);
        if (!t)
          return fill(
              o.bad.empty() ? "'{}' is not an RFC 3339 time (e.g. 2025-01-01T00:00:00Z)" : o.bad,
              text);
        out = *t;
        return std::nullopt;
      }
      if (o.check && !o.check(text)) return refused_text(o, text);
      out = std::move(text);
      return std::nullopt;
    }
    case option_kind::id: {
      if (const auto* s = std::get_if<std::string>(&v)) {
        out = *s;
        return std::nullopt;
      }
      const auto* d = std::get_if<double>(&v);
      if (d && *d >= 0 && *d < 9e15 && std::floor(*d) == *d) {
        out = std::to_string(static_cast<std::int64_t>(*d));
        return std::nullopt;
      }
      return "must be a string or an integer";
    }
    case option_kind::json: {
      const auto* r = std::get_if<raw_json>(&v);
      if (!r) return "must be a JSON array or object";
      std::string text = r->text;
      if (o.check && !o.check(text)) return refused_text(o, text);
      out = std::move(text);
      return std::nullopt;
    }
    case option_kind::boolean: {
      const auto* b = std::get_if<bool>(&v);
      if (!b) return "must be true or false";
      out = *b;
      return std::nullopt;
    }
    case option_kind::number:
    case option_kind::seconds:
    case option_kind::whole: {
      const auto* d = std::get_if<double>(&v);
      if (!d) return "must be a number";
      return check_number(o, *d, out);
    }
  }
  return "has a kind this harness does not know";
}

std::string refused_message(const option_spec& o, const option_data& value) {
  const auto* s = std::get_if<std::string>(&value);
  return refused_text(o, s ? std::string_view(*s) : std::string_view{});
}

options_problem unknown_option(const scenario& s, const std::vector<std::string_view>& declared) {
  for (const auto& [name, value] : s.options) {
    bool known = false;
    for (auto d : declared) known = known || d == name;
    if (known) continue;
    std::string list;
    for (auto d : declared) list += (list.empty() ? "" : ", ") + std::string(d);
    return "options." + name + ": unknown option for machine " + s.machine + " (known: " + list +
           ")";
  }
  return std::nullopt;
}

}  // namespace certretry::harness
