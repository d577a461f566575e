// The option tables of `certretry-harness options` and docs/harness.md, from the declarations.
#include "machine.hpp"
#include "options.hpp"

#include "certretry/core/text.hpp"

namespace certretry::harness {
namespace {

std::string code(std::string_view s) { return "`" + std::string(s) + "`"; }

std::string type_text(const option_spec& o) {
  if (!o.type_doc.empty()) return std::string(o.type_doc);
  const std::string range = number_text(o.min) + "–" + number_text(o.max);
  switch (o.kind) {
    case option_kind::text: return "string";
    case option_kind::id: return "string, or whole number ≥ 0";
    case option_kind::number: return "number, " + range;
    case option_kind::seconds: return "seconds, " + range;
    case option_kind::whole: return "whole number, " + range;
    case option_kind::boolean: return "boolean";
    case option_kind::json: return "JSON array or object";
    case option_kind::time: return "RFC 3339 string";
    case option_kind::choice: {
      std::string names;
      for (auto n : *o.choices) names += (names.empty() ? "" : ", ") + code(n);
      return "one of " + names;
    }
  }
  return "?";
}

std::string default_text(const option_spec& o) {
  if (!o.default_doc.empty()) return std::string(o.default_doc);
  return std::visit(
      [&](const auto& d) -> std::string {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::monostate>) {
          return "absent";
        } else if constexpr (std::is_same_v<D, bool>) {
          return code(d ? "true" : "false");
        } else if constexpr (std::is_same_v<D, double>) {
          return code(number_text(d)) +
                 (d == 0 && o.zero == zero_means::no_limit ? " (no cap)" : "");
        } else {
          if (o.kind == option_kind::json) return code(d);
          std::string quoted;
          certretry::detail::append_json_string(quoted, d);
          return code(quoted);
        }
      },
      *o.def);
}

// A table cell: a '|' would end it.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// Markdown to plain text: no backticks or emphasis, links as their text.
std::string plain(std::string_view md) {
  std::string out;
  for (std::size_t i = 0; i < md.size(); ++i) {
    const char c = md[i];
    if (c == '`') continue;
    if (c == '*' && i + 1 < md.size() && md[i + 1] == '*') {
      ++i;
      continue;
    }
    if (c == '[') {
      const auto close = md.find("](", i);
      const auto end = close == std::string_view::npos ? close : md.find(')', close);
      if (end != std::string_view::npos &&
          md.substr(i + 1, close - i - 1).find('[') == std::string_view::npos) {
        out += plain(md.substr(i + 1, close - i - 1));
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

}  // namespace

option_row row_of(const option_spec& o) {
  return {code(o.name), type_text(o), default_text(o), std::string(o.doc)};
}

std::string markdown_table(const std::vector<option_spec>& options) {
  std::string out = "| option | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& o : options) {
    const option_row r = row_of(o);
    out += "| " + cell(r.name) + " | " + cell(r.type) + " | " + cell(r.def) + " | " + cell(r.doc) +
           " |\n";
  }
  return out;
}

std::string plain_listing(const std::vector<option_spec>& options) {
  std::string out;
  for (const auto& o : options) {
    const option_row r = row_of(o);
    out += "  " + plain(r.name) + "  (" + plain(r.type) + "; default " + plain(r.def) + ")\n";
    out += "      " + plain(r.doc) + "\n";
  }
  return out;
}

std::string options_reference(bool markdown) {
  std::string out;
  for (const auto& m : machines()) {
    if (markdown)
      out += "### " + std::string(m.name) + " options\n\n`" + std::string(m.name) + "` " +
             std::string(m.summary) + ".\n\n" + markdown_table(m.options()) + "\n";
    else
      out += (out.empty() ? "" : "\n") + std::string(m.name) + ": " + plain(m.summary) + "\n" +
             plain_listing(m.options());
  }
  return out;
}

}  // namespace certretry::harness
