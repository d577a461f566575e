// certretry/core/json_text.hpp — whether a caller's text is one JSON value (RFC 8259), and where
// it stops being one.
//
// Machines put a few caller-built JSON texts into request bodies as they are (ACME identifiers
// and payloads, a TPP request body). Text that is not exactly one JSON value of the expected
// kind could carry members of its own into the body (`[], "replaces": "x"`), so it is checked
// before anything is sent. No allocation, no exceptions, no simdjson: the check is in core.
#pragma once

#include "certretry/core/text.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace certretry {

/// The kind of a JSON value (RFC 8259 §3).
enum class json_kind : std::uint8_t { none, object, array, string, number, literal };

/// What check_json_syntax() found: the first syntax error, or the kind of the one top-level value.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct json_syntax {
  std::size_t error_at = 0;         ///< where the text stops being JSON (a byte offset), if it does
  std::string_view what{};          ///< why, or empty when the text is one JSON value
  json_kind top = json_kind::none;  ///< the kind of the (first) top-level value

  /// True when the text is one JSON value.
  constexpr bool ok() const noexcept { return what.empty(); }
};

/// Nesting deeper than this is refused (simdjson's default is 1024; no request needs 64).
inline constexpr std::size_t max_json_depth = 256;

/// Checks that `s` is exactly one JSON value, with optional whitespace around it: strings with
/// valid escapes and UTF-8 and no raw control characters, numbers in RFC 8259 §6's grammar,
/// true/false/null, objects with string keys. Duplicate keys are not looked for.
constexpr json_syntax check_json(std::string_view s) noexcept {
  std::array<bool, max_json_depth> is_object{};
  std::size_t depth = 0, i = 0;
  json_kind top = json_kind::none;
  const auto fail = [&](std::string_view what) { return json_syntax{i, what, top}; };
  const auto skip_space = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  const auto digit = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  // A string starting at s[i] == '"'; on success i is past its closing quote.
  const auto string = [&]() -> std::string_view {
    ++i;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return {};
      }
      if (c < 0x20) return "a string holds a raw control character";
      if (c == '\\') {
        if (i + 1 >= s.size()) break;
        const char e = s[i + 1];
        if (e == 'u') {
          for (std::size_t k = 2; k < 6; ++k) {
            const char h = i + k < s.size() ? s[i + k] : '\0';
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
              return "a \\u escape needs four hex digits";
          }
          i += 6;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
            e != 't')
          return "a string has an unknown escape";
        i += 2;
        continue;
      }
      if (c >= 0x80) {
        const std::size_t n = detail::utf8_sequence_length(s, i);
        if (n == 0) return "a string is not valid UTF-8";
        i += n;
        continue;
      }
      ++i;
    }
    return "a string is not terminated";
  };
  const auto member_key = [&]() -> std::string_view {
    skip_space();
    if (i >= s.size() || s[i] != '"') return "expected a member name (a string)";
    if (const auto p = string(); !p.empty()) return p;
    skip_space();
    if (i >= s.size() || s[i] != ':') return "expected ':' after a member name";
    ++i;
    return {};
  };

  bool want_value = true;
  for (;;) {
    skip_space();
    if (want_value) {
      if (i >= s.size()) return fail("expected a value, found the end");
      const char c = s[i];
      json_kind k = json_kind::none;
      if (c == '{' || c == '[') {
        if (depth == max_json_depth) return fail("nested more than 256 levels deep");
        if (top == json_kind::none) top = c == '{' ? json_kind::object : json_kind::array;
        is_object[depth++] = c == '{';
        ++i;
        skip_space();
        if (i < s.size() && s[i] == (c == '{' ? '}' : ']')) {
          ++i;
          --depth;
          want_value = false;
        } else if (c == '{') {
          if (const auto p = member_key(); !p.empty()) return fail(p);
        }
        continue;
      }
      if (c == '"') {
        if (const auto p = string(); !p.empty()) return fail(p);
        k = json_kind::string;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (c == '-') ++i;
        if (!digit(i)) return fail("a number needs a digit");
        if (s[i] == '0')
          ++i;
        else
          while (digit(i)) ++i;
        if (i < s.size() && s[i] == '.') {
          ++i;
          if (!digit(i)) return fail("a number needs a digit after '.'");
          while (digit(i)) ++i;
        }
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
          ++i;
          if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
          if (!digit(i)) return fail("a number needs a digit in its exponent");
          while (digit(i)) ++i;
        }
        k = json_kind::number;
      } else if (s.substr(i, 4) == "true" || s.substr(i, 4) == "null") {
        i += 4;
        k = json_kind::literal;
      } else if (s.substr(i, 5) == "false") {
        i += 5;
        k = json_kind::literal;
      } else {
        return fail("expected a value");
      }
      if (top == json_kind::none) top = k;
      want_value = false;
      continue;
    }
    if (depth == 0) {
      if (i == s.size()) return {s.size(), {}, top};
      return fail("more text after the JSON value");
    }
    if (i >= s.size())
      return fail(is_object[depth - 1] ? "an object is not closed" : "an array is not closed");
    if (s[i] == ',') {
      ++i;
      if (is_object[depth - 1])
        if (const auto p = member_key(); !p.empty()) return fail(p);
      want_value = true;
    } else if (s[i] == (is_object[depth - 1] ? '}' : ']')) {
      ++i;
      --depth;
    } else {
      return fail(is_object[depth - 1] ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}

}  // namespace certretry
