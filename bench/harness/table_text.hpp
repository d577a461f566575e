// The load tables' text (bench_polling_load, bench_tpp_load, bench_acme_poll and
// `certretry-harness report`): printf-style appends to a string, and the targets read back from
// the tables' "Targets:" lists.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

// printf into `out` (appended): the tables are built as text so that a bench program prints
// them and the report embeds the same rows.
[[gnu::format(printf, 2, 3)]] inline void appendf(std::string& out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (n > 0) {
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(n) + 1);
    std::vsnprintf(out.data() + at, static_cast<std::size_t>(n) + 1, format, again);
    out.resize(at + static_cast<std::size_t>(n));
  }
  va_end(again);
}

// A chart a table run draws: its file name and SVG text.
struct named_svg {
  std::string file;
  std::string svg;
};

// One line of a "Targets:" list: "- what: figures -> holds" (or PASS, MISSED).
struct table_target {
  std::string text;  // the line without "- " and without the verdict
  bool ok = false;
};

// The targets of every "Targets:" list in `text`: the "- " lines after a "Targets:" line that
// carry a verdict after "->"; holds and PASS are met, anything else (MISSED) is not.
inline std::vector<table_target> targets_of(std::string_view text) {
  std::vector<table_target> out;
  bool in_list = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line == "Targets:") {
      in_list = true;
      continue;
    }
    if (line.empty()) continue;
    if (!line.starts_with("- ")) {
      in_list = false;
      continue;
    }
    if (!in_list) continue;
    const std::size_t arrow = line.rfind("->");
    if (arrow == std::string_view::npos) continue;
    std::string_view verdict = line.substr(arrow + 2);
    while (verdict.starts_with(' ')) verdict.remove_prefix(1);
    std::string_view what = line.substr(2, arrow - 2);
    while (what.ends_with(' ')) what.remove_suffix(1);
    out.push_back({std::string(what), verdict.starts_with("holds") || verdict.starts_with("PASS")});
  }
  return out;
}

// What a table run printed, its targets and its exit status (0, or 1 when a consistency check
// of the run failed).
struct table_run {
  std::string text;  // Markdown: the tables, the checks, the targets
  std::vector<table_target> targets;
  int exit_code = 0;
};

}  // namespace certretry::harness
