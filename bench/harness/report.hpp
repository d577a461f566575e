// `certretry-harness report`: what the library's machines do, in one command (docs/harness.md,
// "report"): every machine verified, the polling load at reduced sizes, the tuned async-CA
// schedule, and the TPP and ACME load tables, written as HTML, Markdown and SVG charts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

// argv holds the arguments after "report". Exit codes: 0 every section ran (a target it
// missed is reported, not an error), 1 a section failed to run or its run was inconsistent,
// 2 a malformed command line or an output directory that cannot be written.
int cmd_report(int argc, char** argv);

// Markdown as the report writes it (headings, pipe tables, "- " lists, ``` blocks, images,
// paragraphs; **bold** and `code` inline) as HTML, for index.html.
std::string markdown_to_html(std::string_view markdown);

// Horizontal bar charts as SVG, one panel per (title, bars); each panel has its own scale.
struct bar_panel {
  std::string title;
  std::string unit;
  std::vector<std::pair<std::string, double>> bars;  // label, value
};
std::string bar_chart_svg(std::string_view title, const std::vector<bar_panel>& panels);

}  // namespace certretry::harness
