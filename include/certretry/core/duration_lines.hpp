// certretry/core/duration_lines.hpp — measured durations in seconds, one per line: what a CSV
// export of issuance times looks like. The fleet simulator's and the tuner's empirical
// distributions both read it; each says in its own words what was wrong.
//
// The first comma-separated field of each line is the number; an optional first line that is
// not a number is a header; blank lines and lines starting with '#' are skipped; spaces and tabs
// around the field and a CR before the LF are ignored. Bounded: a value outside [0, max_seconds]
// or more than max_samples values is an error naming it.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace certretry {

/// Why read_duration_lines() refused a text, and where.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct duration_lines_error {
  /// What went wrong: a line that is not a duration, too many lines, or no line at all.
  enum class kind : std::uint8_t { bad_value, too_many, none_at_all };
  kind what = kind::none_at_all;  ///< what went wrong
  std::size_t line = 0;           ///< bad_value: the line (from 1)
};

/// Appends each duration (in seconds) to `out`; on an error, what and where.
inline std::optional<duration_lines_error> read_duration_lines(std::string_view text,
                                                               double max_seconds,
                                                               std::size_t max_samples,
                                                               std::vector<double>& out) {
  std::size_t line_no = 0, read = 0;
  bool header_allowed = true;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (const auto comma = line.find(','); comma != std::string_view::npos)
      line = line.substr(0, comma);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    double v = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
    const bool number = ec == std::errc{} && end == line.data() + line.size();
    if (!number && header_allowed) {
      header_allowed = false;
      continue;
    }
    header_allowed = false;
    if (!number || !std::isfinite(v) || v < 0 || v > max_seconds)
      return duration_lines_error{duration_lines_error::kind::bad_value, line_no};
    if (read == max_samples) return duration_lines_error{duration_lines_error::kind::too_many};
    out.push_back(v);
    ++read;
  }
  if (read == 0) return duration_lines_error{duration_lines_error::kind::none_at_all};
  return std::nullopt;
}

}  // namespace certretry
