// certretry/core/rfc3339.hpp — RFC 3339 timestamps (ARI windows, RFC 9773 §4.2; ACME expires).
#pragma once

#include "certretry/core/time.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace certretry {

namespace detail {
constexpr std::optional<int> fixed_digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}
}  // namespace detail

/// "2025-01-02T03:04:05Z", "...05.123Z", "...05+02:00"; 't'/'z' accepted as RFC 3339 allows.
/// Fractions beyond milliseconds are truncated. Nothing on any syntax or range error.
constexpr std::optional<time_point> parse_rfc3339(std::string_view s) noexcept {
  using namespace std::chrono;
  using detail::fixed_digits;
  if (s.size() < 20 || s.size() > 40) return std::nullopt;
  const auto y = fixed_digits(s, 0, 4), mo = fixed_digits(s, 5, 2), d = fixed_digits(s, 8, 2);
  const auto h = fixed_digits(s, 11, 2), mi = fixed_digits(s, 14, 2), se = fixed_digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !se || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  minutes offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const auto oh = fixed_digits(s, pos + 1, 2), om = fixed_digits(s, pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59)
      return std::nullopt;
    offset = hours{*oh} + minutes{*om};
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int sec = *se == 60 ? 59 : *se;
  return time_point{sys_days{ymd}} + hours{*h} + minutes{*mi} + seconds{sec} + milliseconds{ms} -
         offset;
}

/// "2025-01-02T03:04:05Z", with ".123" when the time has milliseconds.
inline std::string format_rfc3339(time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  char buf[40];
  const int ms = static_cast<int>(hms.subseconds().count());
  const int n = std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", int(ymd.year()), unsigned(ymd.month()),
      unsigned(ymd.day()), static_cast<int>(hms.hours().count()),
      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", ms);
    out += buf;
  }
  out += 'Z';
  return out;
}

}  // namespace certretry
