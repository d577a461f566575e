// Small JSON writer for transcripts: one object per line, keys in the order written.
#pragma once

#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace certretry::harness {

// Seconds with millisecond precision and no trailing zeros: 0, 5, 9.3, 2.25.
inline std::string seconds_text(duration d, bool force_fraction = false) {
  const std::int64_t ms = d.count();
  const bool neg = ms < 0;
  const std::uint64_t a = neg ? static_cast<std::uint64_t>(-(ms + 1)) + 1 : static_cast<std::uint64_t>(ms);
  std::string s = (neg ? "-" : "") + std::to_string(a / 1000);
  std::uint64_t frac = a % 1000;
  if (frac != 0) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%03u", static_cast<unsigned>(frac));
    std::string f(buf);
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  } else if (force_fraction) {
    s += ".0";
  }
  return s;
}

// Writes s as a JSON string; malformed UTF-8 becomes U+FFFD so every line stays valid JSON.
inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = detail::utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\\ufffd";
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

class json_line {
 public:
  json_line& str(std::string_view key, std::string_view value) {
    this->key(key);
    append_json_string(text_, value);
    return *this;
  }
  json_line& raw(std::string_view key, std::string_view json) {
    this->key(key);
    text_ += json;
    return *this;
  }
  json_line& num(std::string_view key, std::int64_t v) { return raw(key, std::to_string(v)); }
  json_line& secs(std::string_view key, duration d, bool force_fraction = false) {
    return raw(key, seconds_text(d, force_fraction));
  }
  std::string done() {
    text_ += "}";
    return std::move(text_);
  }

 private:
  void key(std::string_view k) {
    text_ += text_.size() > 1 ? "," : "";
    append_json_string(text_, k);
    text_ += ':';
  }
  std::string text_ = "{";
};

}  // namespace certretry::harness
