// `certretry-harness report [--out DIR] [--quick]`: the verifier over every machine's default
// policy, the polling-load suite at reduced sizes, the tuned async-CA schedule, and the TPP and
// ACME load tables, in one run over built-in inputs; written as DIR/index.html, DIR/report.md
// and SVG charts, with one summary line per section on stdout (docs/harness.md, "report").
#include "report.hpp"

#include "acme_poll.hpp"
#include "fleet_file.hpp"
#include "polling_load.hpp"
#include "table_text.hpp"
#include "tpp_load.hpp"
#include "tune_file.hpp"
#include "verify.hpp"

#include "certretry/core/text.hpp"
#include "certretry/core/version.hpp"
#include "certretry/tune/svg.hpp"
#include "certretry/tune/tuner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace certretry::harness {

namespace {

// The tuning problem of docs/tuning.md's "certctl's use case" (docs/figures/tuning/certctl.json):
// the default latency model of an asynchronous CA, issuance log-normal with a median of 60 s
// and sigma 1, a call priced as 100 s of added delay, a 10-minute deadline.
constexpr std::string_view default_tuning = R"({
  "description": "an asynchronous CA, lognormal issuance (median 60 s, sigma 1), 10 min deadline",
  "issuance": {"distribution": "lognormal", "median_s": 60, "sigma": 1},
  "call_cost": 1,
  "delay_cost_per_s": 0.01,
  "deadline_s": 600,
  "min_delay_s": 1,
  "first_call": "immediate",
  "anchors": ["certctl", "vcert", "lego", "acme-sh", "async-ca"],
  "monte_carlo": {"orders": 10000, "seed": 1}
})";

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// 1234567 -> "1 234 567", as the docs write counts.
std::string grouped(std::uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

const char* verdict(bool ok) { return ok ? "holds" : "MISSED"; }

// One section of the report: its summary line and its part of report.md.
struct section {
  std::string key;       // the summary line's first word: verify, polling-load, ...
  std::string title;     // its heading in report.md
  std::string headline;  // the figure the summary line quotes
  bool has_target = false;
  bool ok = true;      // every target held
  std::string failed;  // not empty: the section did not run, or its run was inconsistent
  std::string body;    // Markdown
  std::vector<named_svg> charts;
  double seconds = 0;  // wall time

  std::string summary() const {
    std::string line = key;
    line.append(line.size() < 13 ? 13 - line.size() : 1, ' ');
    if (!failed.empty()) return line + "FAILED: " + failed;
    line += headline;
    if (has_target) line += std::string(" -> ") + verdict(ok);
    return line + " (" + fmt("%.1f", seconds) + " s)";
  }
};

// The tables' own headings one level under the section's.
std::string demoted(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with('#')) out += "##";
    out += line;
    out += '\n';
    pos = end + 1;
  }
  return out;
}

std::string targets_headline(const std::vector<table_target>& targets) {
  std::size_t held = 0;
  for (const table_target& t : targets) held += t.ok ? 1 : 0;
  std::string out =
      std::to_string(held) + " of " + std::to_string(targets.size()) + " targets hold";
  std::string missed;
  for (const table_target& t : targets)
    if (!t.ok) {
      // The target's name: up to its figures (':') or its explanation (" (" past a "(4) ").
      const std::size_t cut = std::min(t.text.find(':'), t.text.find(" (", 4));
      missed += (missed.empty() ? "" : "; ") + t.text.substr(0, cut);
    }
  if (!missed.empty()) out += " (missed: " + missed + ")";
  return out;
}

// --- the sections ---------------------------------------------------------------------------

section verify_section(std::uint32_t depth, const std::function<void(std::string_view)>& step) {
  section s;
  s.key = "verify";
  s.title = "Verification: every machine's default policy, every reply sequence up to depth " +
            std::to_string(depth);
  s.has_target = true;
  const auto runs = verify_default_machines(depth, step);
  std::size_t states = 0, verified = 0;
  double cpu = 0;
  bool fast = true;
  std::string& b = s.body;
  b += "`certretry-harness verify --depth " + std::to_string(depth) +
       "`'s figures: each machine with its default options (docs/verify.md); the invariants are "
       "checked after every step, and a counterexample would be printed as a replay "
       "scenario by that command.\n\n![States explored and CPU time per machine](verify.svg)\n\n";
  b += "| machine | letters | depth | sequences | states | merged | ended within the depth "
       "| continued past it | invariants that apply | CPU time | result |\n"
       "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n";
  bar_panel states_panel{"Distinct states explored", "states", {}};
  bar_panel cpu_panel{"CPU time on one thread", "s", {}};
  for (const verified_machine& v : runs) {
    if (!v.error.empty()) {
      s.failed = v.machine + ": " + v.error;
      continue;
    }
    std::string result = v.ok() ? "verified" : "";
    for (const std::string& i : v.violated) result += (result.empty() ? "violates " : ", ") + i;
    if (!v.exhausted) result += " (stopped at the state limit)";
    appendf(b, "| %s | %zu | %u | %zu | %zu | %zu | %zu | %zu | %zu of %zu | %.2f s | %s |\n",
            v.machine.c_str(), v.letters, depth, v.sequences, v.states, v.merged, v.finished,
            v.continued, v.invariants_applying, v.invariants, v.cpu_seconds, result.c_str());
    states += v.states;
    cpu += v.cpu_seconds;
    verified += v.ok() ? 1 : 0;
    fast = fast && v.cpu_seconds < 60;
    states_panel.bars.push_back({v.machine, static_cast<double>(v.states)});
    cpu_panel.bars.push_back({v.machine, v.cpu_seconds});
  }
  s.ok = verified == runs.size() && fast;
  s.headline = std::to_string(verified) + " of " + std::to_string(runs.size()) +
               " machines verified to depth " + std::to_string(depth) + ", " + grouped(states) +
               " states, " + fmt("%.1f", cpu) + " s CPU";
  b += "\nTargets:\n\n";
  b += std::string("- every machine verified: ") + std::to_string(verified) + " of " +
       std::to_string(runs.size()) + " -> " + verdict(verified == runs.size()) + "\n";
  b += std::string("- each within 60 s on one core -> ") + verdict(fast) + "\n";
  s.charts.push_back({"verify.svg", bar_chart_svg("Verifier, depth " + std::to_string(depth),
                                                  {states_panel, cpu_panel})});
  return s;
}

section polling_section() {
  section s;
  s.key = "polling-load";
  s.title = "Polling load on an asynchronous CA (fleet simulator, reduced sizes)";
  s.has_target = true;
  polling_load_run run = polling_load({.reduced = true, .seed = 1, .only = 0});
  const polling_load_figures* ours = nullptr;
  const polling_load_figures* naive = nullptr;
  for (const auto& f : run.orders) {
    if (f.policy == "certretry defaults") ours = &f;
    if (f.policy == "naive 1 s") naive = &f;
  }
  if (ours == nullptr || naive == nullptr) {
    s.failed = "scenario (1) has no row for certretry's defaults or the naive poll";
    return s;
  }
  s.ok = std::all_of(run.targets.begin(), run.targets.end(),
                     [](const table_target& t) { return t.ok; });
  s.headline = "certretry defaults " + fmt("%.2f", ours->calls_per_certificate) +
               " calls/certificate, peak " + fmt("%.0f", ours->peak_requests_5min) +
               " requests in 5 min (naive 1 s: " + fmt("%.0f", naive->peak_requests_5min) + "); " +
               targets_headline(run.targets) +
               (run.full_size_only.empty() ? "" : "; (4) and (5) are judged at full size");
  std::string& b = s.body;
  b += "bench_polling_load's scenarios (docs/polling-load.md) at reduced sizes "
       "(`bench_polling_load --table-only --reduced`): every certificate driven by the library's "
       "own machines against the async-CA model. The ratio targets are judged here; scenario "
       "(4)'s wall time and events/s and (5)'s peak ratio only mean something at the full sizes "
       "(`bench_polling_load --table-only`), so this run shows their figures without a "
       "verdict.\n\n";
  for (const named_svg& c : run.charts) b += "![" + c.file + "](" + c.file + ")\n\n";
  b += demoted(run.text);
  s.charts = std::move(run.charts);
  return s;
}

section tune_section(bool quick) {
  section s;
  s.key = "tune";
  s.title = "The tuned schedule for certctl's use case (log-normal issuance, median 60 s, sigma 1)";
  s.has_target = true;
  std::string detail;
  const file_loader no_files = [](std::string_view, std::size_t, std::string&, std::string& why) {
    why = "the report's tuning problem reads no file";
    return false;
  };
  auto parsed = parse_tune(default_tuning, ".", no_files, detail);
  if (!parsed) {
    s.failed = "the built-in tuning problem: " + detail;
    return s;
  }
  tune_file f = std::move(parsed).value();
  if (quick) f.orders = 2000;
  const tune::problem& pr = f.problem;
  const tune::tuning t = tune::tune_schedules(pr);
  if (!t.recommended) {
    s.failed = t.error.empty() ? std::string("no recommendation") : t.error;
    return s;
  }
  const auto& cs = t.candidates;
  const tune::candidate& rec = cs[*t.recommended];
  const double lb = t.dp.lower_bound;
  const bool within = rec.m.cost <= 1.05 * lb;
  const tune::monte_carlo mc = tune::simulate_candidate(pr, rec, f.orders, f.seed);
  const bool confirmed = tune::confirms(mc, rec.m);
  s.ok = within && confirmed;
  const std::string over = fmt("%+.2f %%", 100.0 * (rec.m.cost / lb - 1.0));
  s.headline = rec.label() + ": " + fmt("%.3f", rec.m.calls) + " calls, p99 added delay " +
               fmt("%.1f", rec.m.p99_delay) + " s, " + over + " over the lower bound";
  for (const tune::candidate& a : cs)
    if (a.fam == tune::family::anchor && a.schedule.name == "certctl")
      s.headline += ", " + fmt("%.0f", 100.0 * (1.0 - rec.m.calls / a.m.calls)) +
                    " % fewer calls than certctl";
  std::string& b = s.body;
  b += "`certretry-harness tune` on " + f.title +
       " (docs/tuning.md, \"certctl's use case\"): a call costs as much as 100 s of added "
       "delay. The async-ca row is the library's default for asynchronous CAs, tuned for CAs "
       "that issue in seconds to hours (docs/tuning.md, \"The async-CA default\")."
       "\n\n![Pareto front](tuning_pareto.svg)\n\n";
  b += "| schedule | family | calls | mean delay (s) | p99 delay (s) | p99 time (s) | cost | over "
       "the lower bound |\n|---|---|--:|--:|--:|--:|--:|--:|\n";
  const auto row = [&](const tune::candidate& c, std::string name) {
    appendf(b, "| %s | %s | %.3f | %.2f | %.2f | %.2f | %.4f | %s |\n", name.c_str(),
            std::string(tune::to_string(c.fam)).c_str(), c.m.calls, c.m.mean_delay, c.m.p99_delay,
            c.m.p99_time, c.m.cost, fmt("%+.2f %%", 100.0 * (c.m.cost / lb - 1.0)).c_str());
  };
  row(rec, "**" + rec.label() + "** (recommended)");
  for (const tune::candidate& a : cs)
    if (a.fam == tune::family::anchor) row(a, a.schedule.name);
  appendf(b, "| lower bound (DP on a %.6g s grid) | | | | | | %.4f | |\n\n", t.dp.step, lb);
  b += "```cpp\n" + tune::cpp_policy(pr, rec) + "\n```\n\n";
  b += "Targets:\n\n";
  b += "- the recommendation within 5 % of the lower bound: " + fmt("%.4f", rec.m.cost) + " vs " +
       fmt("%.4f", lb) + " -> " + verdict(within) + "\n";
  b += "- its figures confirmed by simulation (" + std::to_string(f.orders) +
       " orders through the machine): calls " + fmt("%.3f", mc.calls) + ", p99 delay " +
       fmt("%.2f", mc.p99_delay) + " s -> " + verdict(confirmed) + "\n";
  s.charts.push_back({"tuning_pareto.svg", tune::pareto_svg(t, "Pareto front: " + f.title)});
  return s;
}

section table_section(std::string key, std::string title, std::string intro, const table_run& run) {
  section s;
  s.key = std::move(key);
  s.title = std::move(title);
  s.has_target = !run.targets.empty();
  s.ok = std::all_of(run.targets.begin(), run.targets.end(),
                     [](const table_target& t) { return t.ok; });
  if (run.exit_code != 0) s.failed = "its consistency check failed (see report.md)";
  s.headline = targets_headline(run.targets);
  if (!run.targets.empty()) s.headline += "; " + run.targets.front().text;
  s.body = std::move(intro) + demoted(run.text);
  return s;
}

// --- progress -------------------------------------------------------------------------------

// A bar on stderr when it is a terminal: the report takes a while and says what it is doing.
struct progress {
  bool on = isatty(STDERR_FILENO) == 1;
  int done = 0, total = 1;
  std::string what;

  void draw() const {
    if (!on) return;
    constexpr int width = 30;
    const int filled = total > 0 ? done * width / total : width;
    std::fprintf(stderr, "\r\033[K[%s%s] %d/%d %s", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, total, what.c_str());
    std::fflush(stderr);
  }
  void start(std::string_view w) {
    what = w;
    draw();
  }
  void step() {
    ++done;
    draw();
  }
  void clear() const {
    if (!on) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  // A stdout line between two bars.
  void line(const std::string& text) const {
    clear();
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
    draw();
  }
};

bool write_text(const std::filesystem::path& path, const std::string& text, std::string& error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (!out || !out.flush()) {
    error = "cannot write " + path.string();
    return false;
  }
  return true;
}

constexpr const char* usage_text =
    "usage: certretry-harness report [--out DIR] [--quick]\n"
    "  every machine verified (depth 8; --quick: 6), the polling load at reduced sizes, the\n"
    "  tuned async-CA schedule, the TPP and ACME load tables (10 000 per row; --quick: 2 000);\n"
    "  writes DIR/index.html, DIR/report.md and SVG charts (DIR: report/), one line per\n"
    "  section on stdout. Exit codes: 0 every section ran, 1 a section failed, 2 a bad command\n"
    "  line or an unwritable DIR (docs/harness.md)\n";

constexpr const char* css =
    R"(body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
th{background:#f3f3f3}
td.r,th.r{text-align:right}
code,pre{background:#f6f6f6;font-size:13px}
pre{padding:.6em;overflow:auto}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
.holds{color:#1a7f37;font-weight:bold}
.missed,.failed{color:#b42318;font-weight:bold}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
)";

}  // namespace

// --- Markdown to HTML -----------------------------------------------------------------------

namespace {

// **bold**, `code`, and the verdict words coloured.
std::string inline_html(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '`') {
      const std::size_t end = s.find('`', i + 1);
      if (end != std::string_view::npos) {
        out += "<code>" + certretry::detail::xml_text(s.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    }
    if (s.substr(i).starts_with("**")) {
      const std::size_t end = s.find("**", i + 2);
      if (end != std::string_view::npos) {
        out += "<strong>" + certretry::detail::xml_text(s.substr(i + 2, end - i - 2)) + "</strong>";
        i = end + 2;
        continue;
      }
    }
    std::size_t next = s.find_first_of("`*", i + 1);
    if (next == std::string_view::npos) next = s.size();
    out += certretry::detail::xml_text(s.substr(i, next - i));
    i = next;
  }
  for (const auto& [word, cls] : {std::pair<std::string, std::string>{"-&gt; holds", "holds"},
                                  {"-&gt; PASS", "holds"},
                                  {"-&gt; MISSED", "missed"},
                                  {"FAILED", "failed"}}) {
    std::size_t at = 0;
    while ((at = out.find(word, at)) != std::string::npos) {
      const std::string repl = "<span class=\"" + cls + "\">" + word + "</span>";
      out.replace(at, word.size(), repl);
      at += repl.size();
    }
  }
  return out;
}

std::vector<std::string> cells_of(std::string_view row) {
  std::vector<std::string> cells;
  if (row.starts_with('|')) row.remove_prefix(1);
  if (row.ends_with('|')) row.remove_suffix(1);
  std::size_t pos = 0;
  while (true) {
    const std::size_t bar = row.find('|', pos);
    std::string_view cell = row.substr(pos, bar == std::string_view::npos ? row.npos : bar - pos);
    while (cell.starts_with(' ')) cell.remove_prefix(1);
    while (cell.ends_with(' ')) cell.remove_suffix(1);
    cells.emplace_back(cell);
    if (bar == std::string_view::npos) break;
    pos = bar + 1;
  }
  return cells;
}

}  // namespace

std::string markdown_to_html(std::string_view markdown) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < markdown.size()) {
    std::size_t end = markdown.find('\n', pos);
    if (end == std::string_view::npos) end = markdown.size();
    lines.push_back(markdown.substr(pos, end - pos));
    pos = end + 1;
  }
  std::string out, paragraph;
  const auto flush_paragraph = [&] {
    if (!paragraph.empty()) out += "<p>" + inline_html(paragraph) + "</p>\n";
    paragraph.clear();
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.starts_with("```")) {
      flush_paragraph();
      out += "<pre><code>";
      for (++i; i < lines.size() && !lines[i].starts_with("```"); ++i)
        out += certretry::detail::xml_text(lines[i]) + "\n";
      out += "</code></pre>\n";
      continue;
    }
    if (line.starts_with('#')) {
      flush_paragraph();
      std::size_t level = 0;
      while (level < line.size() && line[level] == '#') ++level;
      const std::string h = std::to_string(std::min<std::size_t>(level, 6));
      out += "<h" + h + ">" + inline_html(line.substr(std::min(level + 1, line.size()))) + "</h" +
             h + ">\n";
      continue;
    }
    if (line.starts_with("![")) {
      flush_paragraph();
      const std::size_t close = line.find("](");
      const std::size_t end = line.rfind(')');
      if (close != std::string_view::npos && end != std::string_view::npos && end > close) {
        out += "<p><img src=\"" +
               certretry::detail::xml_text(line.substr(close + 2, end - close - 2)) + "\" alt=\"" +
               certretry::detail::xml_text(line.substr(2, close - 2)) + "\"></p>\n";
        continue;
      }
    }
    if (line.starts_with('|') && i + 1 < lines.size() && lines[i + 1].starts_with("|-")) {
      flush_paragraph();
      const std::vector<std::string> head = cells_of(line);
      const std::vector<std::string> align = cells_of(lines[i + 1]);
      const auto cls = [&](std::size_t k) {
        return k < align.size() && align[k].ends_with(':') ? std::string(" class=\"r\"") : "";
      };
      out += "<table>\n<tr>";
      for (std::size_t k = 0; k < head.size(); ++k)
        out += "<th" + cls(k) + ">" + inline_html(head[k]) + "</th>";
      out += "</tr>\n";
      for (i += 2; i < lines.size() && lines[i].starts_with('|'); ++i) {
        const std::vector<std::string> row = cells_of(lines[i]);
        out += "<tr>";
        for (std::size_t k = 0; k < row.size(); ++k)
          out += "<td" + cls(k) + ">" + inline_html(row[k]) + "</td>";
        out += "</tr>\n";
      }
      --i;
      out += "</table>\n";
      continue;
    }
    if (line.starts_with("- ")) {
      flush_paragraph();
      out += "<ul>\n";
      for (; i < lines.size() && lines[i].starts_with("- "); ++i)
        out += "<li>" + inline_html(lines[i].substr(2)) + "</li>\n";
      --i;
      out += "</ul>\n";
      continue;
    }
    if (line.empty()) {
      flush_paragraph();
      continue;
    }
    if (!paragraph.empty()) paragraph += ' ';
    paragraph += line;
  }
  flush_paragraph();
  return out;
}

std::string bar_chart_svg(std::string_view title, const std::vector<bar_panel>& panels) {
  constexpr double width = 900, label_w = 170, right = 110, top = 40, bar_h = 22, gap = 50;
  const double plot_w = width - label_w - right;
  double height = top;
  for (const bar_panel& p : panels) height += 24 + static_cast<double>(p.bars.size()) * bar_h + gap;
  const auto num = [](double v) { return fmt("%.1f", v); };
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) +
                    "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " +
                    num(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + num(width / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         certretry::detail::xml_text(title) + "</text>\n";
  constexpr const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};
  double y = top;
  std::size_t panel = 0;
  for (const bar_panel& p : panels) {
    out += "<text x=\"" + num(label_w) + "\" y=\"" + num(y + 14) + "\" font-size=\"13\">" +
           certretry::detail::xml_text(p.title) + "</text>\n";
    y += 24;
    double most = 0;
    for (const auto& [label, v] : p.bars) most = std::max(most, v);
    if (!(most > 0)) most = 1;
    for (const auto& [label, v] : p.bars) {
      const double w = std::max(1.0, plot_w * std::max(0.0, v) / most);
      out += "<text x=\"" + num(label_w - 8) + "\" y=\"" + num(y + bar_h / 2 + 4) +
             "\" text-anchor=\"end\">" + certretry::detail::xml_text(label) + "</text>\n";
      out += "<rect x=\"" + num(label_w) + "\" y=\"" + num(y + 3) + "\" width=\"" + num(w) +
             "\" height=\"" + num(bar_h - 6) + "\" fill=\"" + colours[panel % 5] + "\"/>\n";
      const std::string value =
          v >= 100 ? grouped(static_cast<std::uint64_t>(std::llround(v))) : fmt("%.2f", v);
      out += "<text x=\"" + num(label_w + w + 6) + "\" y=\"" + num(y + bar_h / 2 + 4) + "\">" +
             certretry::detail::xml_text(value + " " + p.unit) + "</text>\n";
      y += bar_h;
    }
    out += "<line x1=\"" + num(label_w) + "\" x2=\"" + num(label_w) + "\" y1=\"" +
           num(y - static_cast<double>(p.bars.size()) * bar_h) + "\" y2=\"" + num(y) +
           "\" stroke=\"#888\"/>\n";
    y += gap;
    ++panel;
  }
  out += "</svg>\n";
  return out;
}

int cmd_report(int argc, char** argv) {
  std::string out_dir = "report";
  bool quick = false;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage_text);
      return 0;
    }
    if (a == "--quick") {
      quick = true;
    } else if (a == "--out" && i + 1 < argc && argv[i + 1][0] != '\0') {
      out_dir = argv[++i];
    } else {
      std::fprintf(stderr, "report: unexpected argument '%s'\n%s", argv[i], usage_text);
      return 2;
    }
  }
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "report: cannot create the directory %s%s%s\n", out_dir.c_str(),
                 ec ? ": " : "", ec ? ec.message().c_str() : "");
    return 2;
  }

  const std::uint32_t depth = quick ? 6 : 8;
  const std::size_t per_row = quick ? 2000 : 10000;
  const auto started = std::chrono::steady_clock::now();
  progress bar;
  bar.total = 5 + 4;  // five verified machines, then one step per other section
  std::printf(
      "certretry report (%s): verify depth %u, polling load at reduced sizes, %s "
      "enrollments and orders per TPP and ACME row -> %s/index.html\n",
      quick ? "--quick" : "full", depth, grouped(per_row).c_str(), out_dir.c_str());
  std::fflush(stdout);

  std::vector<section> sections;
  // A section that throws (out of memory, a bug) is reported as failed; the others still run.
  const auto run = [&](std::string_view what, std::string key,
                       const std::function<section()>& make) {
    bar.start(what);
    const auto t0 = std::chrono::steady_clock::now();
    section s;
    try {
      s = make();
    } catch (const std::exception& e) {
      s.key = std::move(key);
      s.title = std::string(what);
      s.failed = e.what();
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s.key.empty()) s.key = std::move(key);
    bar.line(s.summary());
    sections.push_back(std::move(s));
  };

  bool first_machine = true;
  run("verifier", "verify", [&] {
    return verify_section(depth, [&](std::string_view machine) {
      if (!first_machine) bar.step();
      first_machine = false;
      bar.start("verify " + std::string(machine));
    });
  });
  bar.step();
  run("polling load (reduced)", "polling-load", [] { return polling_section(); });
  bar.step();
  run("tuner", "tune", [&] { return tune_section(quick); });
  bar.step();
  run("TPP load", "tpp-load", [&] {
    return table_section("tpp-load", "TPP enrollment load (Venafi TPP model)",
                         "bench_tpp_load's tables (docs/tpp.md) with " + grouped(per_row) +
                             " enrollments per row (`bench_tpp_load --table-only --enrollments=" +
                             std::to_string(per_row) + "`).\n\n",
                         tpp_load_tables(per_row, 1));
  });
  bar.step();
  run("ACME order polling", "acme-poll", [&] {
    return table_section("acme-poll", "ACME order polling after finalize",
                         "bench_acme_poll's table (docs/acme.md) with " + grouped(per_row) +
                             " orders per row (`bench_acme_poll --table-only --orders=" +
                             std::to_string(per_row) + "`).\n\n",
                         acme_poll_tables(per_row, 1));
  });
  bar.step();
  bar.clear();

  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string md = "# certretry report\n\n";
  md += "certretry " + std::string(version) + ", `certretry-harness report" +
        (quick ? " --quick" : "") + "`, " + fmt("%.1f", total) +
        " s. Everything below runs the library's own machines on virtual clocks against "
        "built-in models; no network, no input files.\n\n";
  md += "| section | headline | targets | wall time |\n|---|---|---|--:|\n";
  for (const section& s : sections) {
    std::string headline = s.failed.empty() ? s.headline : "FAILED: " + s.failed;
    for (char& c : headline)
      if (c == '|') c = '/';
    md += "| [" + s.key + "](#" + s.key + ") | " + headline + " | " +
          (!s.failed.empty() ? "FAILED"
           : !s.has_target   ? "-"
           : s.ok            ? "-> holds"
                             : "-> MISSED") +
          " | " + fmt("%.1f", s.seconds) + " s |\n";
  }
  md += "\n";
  std::vector<named_svg> charts;
  for (section& s : sections) {
    md += "## " + s.title + "\n\n";
    if (!s.failed.empty()) md += "FAILED: " + s.failed + "\n\n";
    md += s.body + "\n";
    for (named_svg& c : s.charts) charts.push_back(std::move(c));
  }

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>certretry "
      "report</title>\n<style>\n" +
      std::string(css) + "</style>\n</head>\n<body>\n" + markdown_to_html(md) +
      "</body>\n</html>\n";
  // Anchors for the summary's links: each section's heading gets its key as id.
  for (const section& s : sections) {
    const std::string h = "<h2>" + inline_html(s.title) + "</h2>";
    const std::size_t at = html.find(h);
    if (at != std::string::npos)
      html.replace(at, h.size(), "<h2 id=\"" + s.key + "\">" + inline_html(s.title) + "</h2>");
  }
  {
    std::size_t at = 0;
    while ((at = html.find("<td>[", at)) != std::string::npos) {
      const std::size_t close = html.find("](#", at);
      const std::size_t end = html.find(")</td>", at);
      if (close == std::string::npos || end == std::string::npos) break;
      const std::string key = html.substr(at + 5, close - at - 5);
      const std::string link = "<td><a href=\"#" + key + "\">" + key + "</a></td>";
      html.replace(at, end + 6 - at, link);
      at += link.size();
    }
  }

  std::string error;
  bool written =
      write_text(dir / "report.md", md, error) && write_text(dir / "index.html", html, error);
  for (const named_svg& c : charts) written = written && write_text(dir / c.file, c.svg, error);
  if (!written) {
    std::fprintf(stderr, "report: %s\n", error.c_str());
    return 2;
  }
  int rc = 0;
  for (const section& s : sections)
    if (!s.failed.empty()) rc = 1;
  std::printf("wrote %s/index.html, %s/report.md and %zu charts in %.1f s%s\n", out_dir.c_str(),
              out_dir.c_str(), charts.size(), total,
              rc == 0 ? "" : "; a section FAILED (see its line above)");
  if (rc != 0) std::fprintf(stderr, "report: a section failed to run (see its line on stdout)\n");
  return rc;
}

}  // namespace certretry::harness
