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
  const std::uint64_t a =
      neg ? static_cast<std::uint64_t>(-(ms + 1)) + 1 : static_cast<std::uint64_t>(ms);
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

class json_line {
 public:
  json_line& str(std::string_view key, std::string_view value) {
    this->key(key);
    detail::append_json_string(text_, value);
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
    detail::append_json_string(text_, k);
    text_ += ':';
  }
  std::string text_ = "{";
};

}  // namespace certretry::harness
