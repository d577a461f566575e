// Machine options, each declared once: name, kind, default, range or allowed values and one
// line of documentation. Reading a scenario's options, every error message about them,
// `certretry-harness options` and the option tables in docs/harness.md come from these
// declarations.
#pragma once

#include "scenario.hpp"

#include "certretry/core/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace certretry::harness {

enum class option_kind : std::uint8_t {
  text,     // a JSON string
  id,       // a string, or a whole number >= 0 written as one (ids go into paths verbatim)
  number,   // a JSON number in [min, max]
  seconds,  // a number of seconds in [min, max], rounded to whole milliseconds
  whole,    // a whole number in [min, max]
  boolean,  // true or false
  json,     // a JSON array or object, kept as minified text
  time,     // an RFC 3339 string
  choice,   // a string naming one of `choices`
};

// What a 0 means besides zero: nothing more, "no limit", or "the default" (certctl's
// PollMaxWaitSeconds: 0 or unset is the default).
enum class zero_means : std::uint8_t { zero, no_limit, the_default };

// A default as a scenario would write it (a json option's as its text); monostate: absent.
using option_default = std::variant<std::monostate, bool, double, std::string>;

// A checked value in the form its field takes; monostate: absent.
using option_data =
    std::variant<std::monostate, bool, double, std::uint32_t, std::string, duration, time_point>;

// What is wrong with a scenario's options, as printed: "options.NAME: what" (exit 2). Empty
// optional: nothing.
using options_problem = std::optional<std::string>;

// One option of a machine whose settings are a `Settings`. Members are in the order a
// designated initializer lists them.
template <class Settings>
struct option {
  std::string_view name;
  option_kind kind = option_kind::text;
  // Used, and checked like a given value, when the scenario does not give the option.
  option_default def{};
  double min = 0, max = 0;  // number, seconds, whole
  zero_means zero = zero_means::zero;
  std::vector<std::string_view> choices{};  // choice: the names, for messages and docs
  // text, json, choice: accepts the value, and may normalise it; when it refuses, `bad` is the
  // message ("{}" stands for the value; default for a choice: "'{}' is not one of <choices>").
  bool (*check)(std::string&) = nullptr;
  std::string_view bad{};
  std::string_view type_doc{};     // replaces the type column derived from kind and range
  std::string_view default_doc{};  // replaces the default column (a default that depends)
  std::string_view doc{};          // one line of Markdown: what the option does
  // Puts the checked value into its field; false when the field's own parser refuses it (an
  // enum name the library does not know).
  bool (*store)(Settings&, option_data&&) = nullptr;
};

// The parts of an option that do not depend on its machine.
struct option_spec {
  std::string_view name;
  option_kind kind;
  const option_default* def;
  double min, max;
  zero_means zero;
  const std::vector<std::string_view>* choices;
  bool (*check)(std::string&);
  std::string_view bad, type_doc, default_doc, doc;
};

template <class Settings>
option_spec spec_of(const option<Settings>& o) {
  return {o.name,     o.kind,  &o.def, o.min,      o.max,         o.zero,
          &o.choices, o.check, o.bad,  o.type_doc, o.default_doc, o.doc};
}

// One option's value, given or its default, checked against its declaration; on success
// `out` holds it in its field's form. The message lacks the "options.NAME: " prefix.
options_problem check_value(const option_spec& o, const option_value* given, option_data& out);

// The message for a value a field's parser refused.
std::string refused_message(const option_spec& o, const option_data& value);

// "options.NAME: unknown option for machine M (known: ...)" for the first option of the
// scenario that `declared` lacks.
options_problem unknown_option(const scenario& s, const std::vector<std::string_view>& declared);

// Reads the options of `s` into `out`: each declared option in order (its type, then its range
// or allowed values), then options nobody declared. The first problem met is the answer.
template <class Settings>
options_problem read_options(const std::vector<option<Settings>>& table, const scenario& s,
                             Settings& out) {
  std::vector<std::string_view> names;
  for (const auto& o : table) {
    names.push_back(o.name);
    const auto it = s.options.find(o.name);
    const option_spec spec = spec_of(o);
    option_data value;
    if (auto problem = check_value(spec, it == s.options.end() ? nullptr : &it->second, value))
      return "options." + std::string(o.name) + ": " + *problem;
    if (!o.store(out, option_data(value)))
      return "options." + std::string(o.name) + ": " + refused_message(spec, value);
  }
  return unknown_option(s, names);
}

// --- storing into fields -------------------------------------------------------------------

template <class T>
inline constexpr bool is_optional = false;
template <class T>
inline constexpr bool is_optional<std::optional<T>> = true;

template <class T>
bool assign(T& field, option_data&& v) {
  if (std::holds_alternative<std::monostate>(v)) {
    if constexpr (is_optional<T>) field.reset();
    return true;  // absent without a default: the field keeps what it has
  }
  if constexpr (is_optional<T>) {
    return assign(field.emplace(), std::move(v));
  } else if constexpr (std::is_same_v<T, std::size_t>) {
    // Byte counts are read as numbers (a fraction is cut, as before).
    const auto* d = std::get_if<double>(&v);
    if (d) field = static_cast<std::size_t>(*d);
    return d != nullptr;
  } else {
    auto* x = std::get_if<T>(&v);
    if (x) field = std::move(*x);
    return x != nullptr;
  }
}

// `store` for a field of any form option_data has (or an optional of one).
template <class Settings, auto Field>
bool into(Settings& s, option_data&& v) {
  return assign(s.*Field, std::move(v));
}

// `store` for an enum field: the name goes through the library's parser for that enum (the
// one next to its to_string), which answers with a value or an error.
template <class Settings, auto Field, auto Parse>
bool parsed_into(Settings& s, option_data&& v) {
  const auto* name = std::get_if<std::string>(&v);
  if (!name) return std::holds_alternative<std::monostate>(v);
  auto parsed = Parse(*name);
  if (!parsed) return false;
  s.*Field = parsed.value();
  return true;
}

// Concatenates groups of declarations into one machine's table, in order.
template <class Settings>
std::vector<option<Settings>> join(std::initializer_list<std::vector<option<Settings>>> parts) {
  std::vector<option<Settings>> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// --- documentation -------------------------------------------------------------------------

// One row of a machine's option table, as Markdown cells.
struct option_row {
  std::string name, type, def, doc;
};

option_row row_of(const option_spec& o);

template <class Settings>
std::vector<option_spec> specs_of(const std::vector<option<Settings>>& table) {
  std::vector<option_spec> specs;
  for (const auto& o : table) specs.push_back(spec_of(o));
  return specs;
}

// The Markdown table of a machine's options (docs/harness.md), and the same as plain text.
std::string markdown_table(const std::vector<option_spec>& options);
std::string plain_listing(const std::vector<option_spec>& options);

// A number as the docs and messages write it: 0.001, 86400, 1073741824, 1.25.
std::string number_text(double v);

}  // namespace certretry::harness
