// certretry/tune/svg.hpp — the Pareto front as SVG text, written by hand (no library).
//
// Two panels share the calls axis (log scale): expected calls against the mean added delay,
// then against the p99 added delay (both log scale). Every candidate is a grey dot, the front's
// points are coloured by family, the DP's schedules over the sweep of delay costs are joined by
// a line (the cheapest a schedule can be: nothing lies below and left of it in the first
// panel), the anchors are black squares with their names, the recommendation a red star.
#pragma once

#include "certretry/core/text.hpp"
#include "certretry/tune/tuner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::tune {

namespace detail_svg {

inline std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

inline std::string tick(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A log10 axis over [vmin, vmax] (positive) with a margin, ticked at 1, 2 and 5 times powers of
// ten (only the powers of ten when the range spans more than two decades).
struct log_axis {
  double lo, hi;  // log10 of the ends
  log_axis(double vmin, double vmax) {
    vmin = std::max(vmin, 1e-3);
    vmax = std::max(vmax, vmin * 1.5);
    const double pad = 0.04 * (std::log10(vmax) - std::log10(vmin));
    lo = std::log10(vmin) - pad;
    hi = std::log10(vmax) + pad;
  }
  double at(double v) const {  // 0..1
    return std::clamp((std::log10(std::max(v, 1e-12)) - lo) / (hi - lo), 0.0, 1.0);
  }
  std::vector<double> ticks() const {
    std::vector<double> out;
    const bool wide = hi - lo > 2.0;
    for (double d = std::floor(lo); d <= std::ceil(hi); d += 1)
      for (const double m : {1.0, 2.0, 5.0}) {
        if (wide && m != 1.0) continue;
        const double v = m * std::pow(10.0, d);
        const double l = std::log10(v);
        if (l >= lo && l <= hi) out.push_back(v);
      }
    return out;
  }
};

inline const char* color_of(family f) {
  switch (f) {
    case family::fixed: return "#1f77b4";
    case family::geometric: return "#2ca02c";
    case family::table: return "#9467bd";
    case family::jittered: return "#ff7f0e";
    case family::watch: return "#17becf";
    case family::anchor: return "#000000";
  }
  return "#7f7f7f";
}

}  // namespace detail_svg

/// The tuning as SVG text under `title`: two panels of expected calls against mean and p99
/// added delay, as the file's comment describes.
inline std::string pareto_svg(const tuning& t, std::string_view title) {
  using namespace detail_svg;
  constexpr double width = 900, left = 70, right = 170, top = 64, panel_h = 300, gap = 70;
  const double plot_w = width - left - right;
  const double height = top + 2 * (panel_h + gap);

  double cmin = 1e300, cmax = 0, mmin = 1e300, mmax = 0, pmin = 1e300, pmax = 0;
  for (const candidate& c : t.candidates) {
    if (c.m.p_seen <= 0) continue;
    cmin = std::min(cmin, c.m.calls);
    cmax = std::max(cmax, c.m.calls);
    if (c.m.mean_delay > 0) mmin = std::min(mmin, c.m.mean_delay);
    mmax = std::max(mmax, c.m.mean_delay);
    if (c.m.p99_delay > 0) pmin = std::min(pmin, c.m.p99_delay);
    pmax = std::max(pmax, c.m.p99_delay);
  }
  if (cmax <= 0) cmin = 1, cmax = 10;
  const log_axis xa(cmin, cmax);
  const double floor_delay = std::max(1e-3, std::min(mmin, pmin));
  const log_axis ya_mean(std::max(floor_delay, mmin), std::max(mmax, 1.0));
  const log_axis ya_p99(std::max(floor_delay, pmin), std::max(pmax, 1.0));

  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" +
         num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // A long title on two lines, split at the space nearest its middle.
  std::string_view first = title, second;
  if (title.size() > 90) {
    std::size_t cut = title.rfind(' ', title.size() / 2);
    if (cut == std::string_view::npos) cut = title.find(' ');
    if (cut != std::string_view::npos) {
      first = title.substr(0, cut);
      second = title.substr(cut + 1);
    }
  }
  out += "<text x=\"" + num(width / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" +
         certretry::detail::xml_text(first) + "</text>\n";
  if (!second.empty())
    out += "<text x=\"" + num(width / 2) +
           "\" y=\"38\" text-anchor=\"middle\" "
           "font-size=\"14\">" +
           certretry::detail::xml_text(second) + "</text>\n";

  for (int panel = 0; panel < 2; ++panel) {
    const log_axis& ya = panel == 0 ? ya_mean : ya_p99;
    const double y0 = top + panel * (panel_h + gap), yb = y0 + panel_h;
    const auto px = [&](double v) { return left + xa.at(v) * plot_w; };
    const auto py = [&](double v) { return yb - ya.at(v) * panel_h; };
    const auto yv = [&](const metrics& m) { return panel == 0 ? m.mean_delay : m.p99_delay; };
    out += "<text x=\"" + num(left) + "\" y=\"" + num(y0 - 8) + "\" font-size=\"13\">" +
           std::string(panel == 0 ? "mean added delay" : "p99 added delay") +
           " against expected calls (log scales)</text>\n";
    out += "<rect x=\"" + num(left) + "\" y=\"" + num(y0) + "\" width=\"" + num(plot_w) +
           "\" height=\"" + num(panel_h) + "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (const double v : ya.ticks()) {
      const double y = py(v);
      out += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + plot_w) + "\" y1=\"" + num(y) +
             "\" y2=\"" + num(y) + "\" stroke=\"#eee\"/>\n";
      out += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
             tick(v) + " s</text>\n";
    }
    for (const double v : xa.ticks()) {
      const double x = px(v);
      out += "<line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(y0) + "\" y2=\"" +
             num(yb) + "\" stroke=\"#eee\"/>\n";
      out += "<text x=\"" + num(x) + "\" y=\"" + num(yb + 16) + "\" text-anchor=\"middle\">" +
             tick(v) + "</text>\n";
    }
    out += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(yb + 34) +
           "\" text-anchor=\"middle\">expected calls per order</text>\n";
    // Every candidate, then the front on top.
    for (int pass = 0; pass < 2; ++pass)
      for (const candidate& c : t.candidates) {
        if (c.m.p_seen <= 0 || c.fam == family::anchor || c.front != (pass == 1)) continue;
        out += "<circle cx=\"" + num(px(c.m.calls)) + "\" cy=\"" + num(py(yv(c.m))) + "\" r=\"" +
               (pass ? "3.5" : "2") + "\" fill=\"" + (pass ? color_of(c.fam) : "#ccc") + "\"/>\n";
      }
    // The DP's schedules over the delay-cost sweep.
    if (panel == 0 && !t.dp_curve.empty()) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& [f, m] : t.dp_curve)
        if (m.p_seen > 0) pts.push_back({m.calls, m.mean_delay});
      std::sort(pts.begin(), pts.end());
      out += "<polyline fill=\"none\" stroke=\"#9467bd\" stroke-dasharray=\"4 3\" points=\"";
      for (const auto& [x, y] : pts) out += num(px(x)) + "," + num(py(y)) + " ";
      out += "\"/>\n";
    }
    // Anchors at the same point (VCert's and acme.sh's 2 s) share one label.
    std::vector<std::pair<std::pair<std::string, std::string>, std::string>> marks;
    for (const candidate& c : t.candidates) {
      if (c.fam != family::anchor || c.m.p_seen <= 0) continue;
      const std::pair<std::string, std::string> at{num(px(c.m.calls)), num(py(yv(c.m)))};
      auto it =
          std::find_if(marks.begin(), marks.end(), [&](const auto& m) { return m.first == at; });
      if (it == marks.end())
        marks.push_back({at, c.schedule.name});
      else
        it->second += ", " + c.schedule.name;
    }
    for (const auto& [at, names] : marks) {
      const double x = std::stod(at.first), y = std::stod(at.second);
      out += "<rect x=\"" + num(x - 4) + "\" y=\"" + num(y - 4) +
             "\" width=\"8\" height=\"8\" fill=\"black\"/>\n";
      out += "<text x=\"" + num(x + 7) + "\" y=\"" + num(y - 6) + "\">" +
             certretry::detail::xml_text(names) + "</text>\n";
    }
    if (t.recommended) {
      const candidate& c = t.candidates[*t.recommended];
      const double x = px(c.m.calls), y = py(yv(c.m));
      std::string star;
      for (int k = 0; k < 10; ++k) {
        const double a = -std::numbers::pi / 2 + k * std::numbers::pi / 5, r = k % 2 ? 3.5 : 9;
        star += num(x + r * std::cos(a)) + "," + num(y + r * std::sin(a)) + " ";
      }
      out += "<polygon points=\"" + star +
             "\" fill=\"#d62728\" stroke=\"black\" "
             "stroke-width=\"0.5\"/>\n";
    }
    // Legend.
    double ly = y0 + 14;
    const auto legend = [&](const std::string& shape, std::string_view text) {
      out += shape;
      out += "<text x=\"" + num(left + plot_w + 30) + "\" y=\"" + num(ly + 4) + "\">" +
             certretry::detail::xml_text(text) + "</text>\n";
      ly += 18;
    };
    const double lx = left + plot_w + 18;
    for (const family f :
         {family::fixed, family::geometric, family::table, family::jittered, family::watch}) {
      bool any = false;
      for (const candidate& c : t.candidates) any = any || (c.fam == f && c.front);
      if (!any) continue;
      legend("<circle cx=\"" + num(lx) + "\" cy=\"" + num(ly) + "\" r=\"3.5\" fill=\"" +
                 color_of(f) + "\"/>\n",
             std::string(to_string(f)) + " (front)");
    }
    legend("<circle cx=\"" + num(lx) + "\" cy=\"" + num(ly) + "\" r=\"2\" fill=\"#ccc\"/>\n",
           "dominated");
    if (panel == 0)
      legend("<line x1=\"" + num(lx - 8) + "\" x2=\"" + num(lx + 8) + "\" y1=\"" + num(ly) +
                 "\" y2=\"" + num(ly) + "\" stroke=\"#9467bd\" stroke-dasharray=\"4 3\"/>\n",
             "DP optimum (sweep)");
    legend("<rect x=\"" + num(lx - 4) + "\" y=\"" + num(ly - 4) +
               "\" width=\"8\" height=\"8\" fill=\"black\"/>\n",
           "anchor");
    legend("<circle cx=\"" + num(lx) + "\" cy=\"" + num(ly) + "\" r=\"5\" fill=\"#d62728\"/>\n",
           "recommended");
  }
  out += "</svg>\n";
  return out;
}

}  // namespace certretry::tune
