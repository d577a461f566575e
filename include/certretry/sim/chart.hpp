// certretry/sim/chart.hpp — line charts as SVG text, written by hand (no library): stacked
// panels sharing a time axis, one line per series, a legend. A panel whose series differ by
// more than 50x in their peaks uses a log10 axis, so a quiet policy stays visible beside a loud
// one.
#pragma once

#include "certretry/core/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::sim {

/// One line of a chart: its name and points.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct chart_series {
  std::string name;       ///< the legend's name
  std::vector<double> x;  ///< seconds from the start
  std::vector<double> y;  ///< the values, one per x
};

/// One panel of a chart: a title, a y-axis label and its lines.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct chart_panel {
  std::string title;                 ///< the panel's title
  std::string y_label;               ///< the y axis's label
  std::vector<chart_series> series;  ///< its lines
};

namespace detail_chart {

inline std::string fmt(double v, int prec = 4) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}

// 1, 2 or 5 times a power of ten, about span / 5.
inline double nice_step(double span) {
  if (!(span > 0)) return 1;
  const double raw = span / 5.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

inline constexpr const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                          "#bcbd22", "#17becf", "#000000", "#aec7e8"};

}  // namespace detail_chart

/// The panels as one SVG document, stacked under `title`, sharing a time axis.
inline std::string render_svg(std::string_view title, const std::vector<chart_panel>& panels) {
  using namespace detail_chart;
  constexpr double width = 1000, left = 80, right = 320, top = 40, panel_h = 240, gap = 60;
  const double plot_w = width - left - right;
  const double height = top + static_cast<double>(panels.size()) * (panel_h + gap) + 10;

  double x_max = 0;
  for (const auto& p : panels)
    for (const auto& s : p.series)
      for (double x : s.x) x_max = std::max(x_max, x);
  if (!(x_max > 0)) x_max = 1;
  // The time axis in the largest unit that keeps several ticks.
  double unit = 1;
  std::string unit_name = "s";
  if (x_max >= 3 * 86400) {
    unit = 86400;
    unit_name = "days";
  } else if (x_max >= 3 * 3600) {
    unit = 3600;
    unit_name = "hours";
  } else if (x_max >= 3 * 60) {
    unit = 60;
    unit_name = "minutes";
  }
  const double xu_max = x_max / unit;
  const double x_step = nice_step(xu_max);

  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(width) + "\" height=\"" +
         fmt(height) + "\" viewBox=\"0 0 " + fmt(width) + " " + fmt(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + fmt(width / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         certretry::detail::xml_text(title) + "</text>\n";

  for (std::size_t pi = 0; pi < panels.size(); ++pi) {
    const chart_panel& p = panels[pi];
    const double y0 = top + static_cast<double>(pi) * (panel_h + gap);
    const double y_bottom = y0 + panel_h;
    double y_max = 0, lo_peak = -1;
    for (const auto& s : p.series) {
      double peak = 0;
      for (double y : s.y) peak = std::max(peak, y);
      y_max = std::max(y_max, peak);
      if (peak > 0) lo_peak = lo_peak < 0 ? peak : std::min(lo_peak, peak);
    }
    const bool log = lo_peak > 0 && y_max > 50 * lo_peak;
    double lo = 0, hi = y_max > 0 ? y_max * 1.05 : 1;
    if (log) {
      lo = std::floor(std::log10(lo_peak / 100));
      hi = std::ceil(std::log10(y_max));
      if (hi <= lo) hi = lo + 1;
    }
    const auto ypos = [&](double v) {
      double t;
      if (log) {
        t = v > 0 ? (std::log10(v) - lo) / (hi - lo) : 0;
      } else {
        t = v / hi;
      }
      t = std::clamp(t, 0.0, 1.0);
      return y_bottom - t * panel_h;
    };
    const auto xpos = [&](double x) { return left + (x / unit) / xu_max * plot_w; };

    out += "<text x=\"" + fmt(left) + "\" y=\"" + fmt(y0 - 8) + "\" font-size=\"13\">" +
           certretry::detail::xml_text(p.title) + (log ? " (log scale)" : "") + "</text>\n";
    out += "<rect x=\"" + fmt(left) + "\" y=\"" + fmt(y0) + "\" width=\"" + fmt(plot_w) +
           "\" height=\"" + fmt(panel_h) + "\" fill=\"none\" stroke=\"#888\"/>\n";
    // y ticks
    if (log) {
      for (double d = lo; d <= hi + 1e-9; d += 1) {
        const double y = ypos(std::pow(10.0, d));
        out += "<line x1=\"" + fmt(left) + "\" x2=\"" + fmt(left + plot_w) + "\" y1=\"" + fmt(y) +
               "\" y2=\"" + fmt(y) + "\" stroke=\"#eee\"/>\n";
        out += "<text x=\"" + fmt(left - 6) + "\" y=\"" + fmt(y + 4) + "\" text-anchor=\"end\">" +
               fmt(std::pow(10.0, d)) + "</text>\n";
      }
    } else {
      const double step = nice_step(hi);
      for (double v = 0; v <= hi + 1e-9; v += step) {
        const double y = ypos(v);
        out += "<line x1=\"" + fmt(left) + "\" x2=\"" + fmt(left + plot_w) + "\" y1=\"" + fmt(y) +
               "\" y2=\"" + fmt(y) + "\" stroke=\"#eee\"/>\n";
        out += "<text x=\"" + fmt(left - 6) + "\" y=\"" + fmt(y + 4) + "\" text-anchor=\"end\">" +
               fmt(v) + "</text>\n";
      }
    }
    // x ticks
    for (double v = 0; v <= xu_max + 1e-9; v += x_step) {
      const double x = left + v / xu_max * plot_w;
      out += "<line x1=\"" + fmt(x) + "\" x2=\"" + fmt(x) + "\" y1=\"" + fmt(y_bottom) +
             "\" y2=\"" + fmt(y_bottom + 4) + "\" stroke=\"#888\"/>\n";
      out += "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y_bottom + 17) + "\" text-anchor=\"middle\">" +
             fmt(v) + "</text>\n";
    }
    out += "<text x=\"" + fmt(left + plot_w / 2) + "\" y=\"" + fmt(y_bottom + 34) +
           "\" text-anchor=\"middle\">time (" + unit_name + ")</text>\n";
    out += "<text transform=\"translate(" + fmt(18) + "," + fmt(y0 + panel_h / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + certretry::detail::xml_text(p.y_label) +
           "</text>\n";
    // lines and legend
    for (std::size_t si = 0; si < p.series.size(); ++si) {
      const chart_series& s = p.series[si];
      const char* color = palette[si % std::size(palette)];
      out += "<polyline fill=\"none\" stroke=\"" + std::string(color) +
             "\" stroke-width=\"1.5\" points=\"";
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        out += fmt(xpos(s.x[i]), 6) + "," + fmt(ypos(s.y[i]), 6) + " ";
      }
      out += "\"/>\n";
      const double ly = y0 + 14 + static_cast<double>(si) * 18;
      out += "<line x1=\"" + fmt(left + plot_w + 12) + "\" x2=\"" + fmt(left + plot_w + 32) +
             "\" y1=\"" + fmt(ly - 4) + "\" y2=\"" + fmt(ly - 4) + "\" stroke=\"" + color +
             "\" stroke-width=\"3\"/>\n";
      out += "<text x=\"" + fmt(left + plot_w + 38) + "\" y=\"" + fmt(ly) + "\">" +
             certretry::detail::xml_text(s.name.substr(0, 44)) + "</text>\n";
    }
  }
  out += "</svg>\n";
  return out;
}

}  // namespace certretry::sim
