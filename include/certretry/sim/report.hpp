// certretry/sim/report.hpp — a fleet run's metrics as a markdown table row, as JSON, and as
// chart series (requests per second and CA backlog over time).
#pragma once

#include "certretry/core/text.hpp"
#include "certretry/sim/chart.hpp"
#include "certretry/sim/fleet.hpp"
#include "certretry/sim/stats.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::sim {

/// `v` with `decimals` digits after the point.
inline std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// A duration for people: seconds below 1000 s, hours below two days, else days.
inline std::string human_duration(double ms) {
  const double s = ms / 1000.0;
  if (s < 1000) return fixed(s, 1) + " s";
  if (s < 48 * 3600) return fixed(s / 3600, 2) + " h";
  return fixed(s / 86400, 1) + " d";
}

/// The header of the fleet summary table (Markdown), matching summary_row().
inline std::string summary_header() {
  return "| policy | issued | calls / certificate | amplification | time to certificate p50 | "
         "p99 | max | peak requests/s | mean requests/s | 429s | work abandoned | pending at "
         "deadline | CA backlog max | drained after outage |\n"
         "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
}

/// One fleet result as a row of the summary table, the peak rate over `peak_window`.
inline std::string summary_row(const fleet_result& r, duration peak_window) {
  const auto& t = r.time_to_certificate;
  const bool any = r.issued > 0;
  const auto when = [&](std::int64_t ms) {
    return any ? human_duration(static_cast<double>(ms)) : std::string("-");
  };
  std::string row =
      "| " + r.policy + " | " + std::to_string(r.issued) + " | " +
      (any ? fixed(r.calls_per_certificate(), 2) : "-") + " | " +
      (r.needed + r.unfinished_requests ? fixed(r.amplification(), 2) + "x" : "-") + " | " +
      when(t.percentile(0.5)) + " | " + when(t.percentile(0.99)) + " | " + when(t.max()) + " | " +
      fixed(r.tl.peak_rate(peak_window), 2) + " | " + fixed(r.mean_rate(), 2) + " | " +
      std::to_string(r.rate_limited) + " | " + std::to_string(r.work_abandoned()) + " | " +
      std::to_string(r.pending_at_deadline) + " | " + std::to_string(r.backlog_max) + " | ";
  if (r.drain_time)
    row += human_duration(static_cast<double>(r.drain_time->count()));
  else
    row += "-";
  return row + " |";
}

/// Timeline bins grouped so that at most `points` remain: requests per second (the group's mean)
/// and the CA backlog (the group's largest).
inline chart_series rate_series(const fleet_result& r, std::size_t points = 600) {
  chart_series s;
  s.name = r.policy;
  const auto& bins = r.tl.bins();
  const std::size_t g =
      std::max<std::size_t>(1, (bins.size() + points - 1) / std::max<std::size_t>(points, 1));
  const double width = std::chrono::duration<double>(r.tl.width()).count();
  for (std::size_t i = 0; i < bins.size(); i += g) {
    std::uint64_t n = 0;
    const std::size_t end = std::min(bins.size(), i + g);
    for (std::size_t j = i; j < end; ++j) n += bins[j].requests;
    s.x.push_back(static_cast<double>(i) * width);
    s.y.push_back(static_cast<double>(n) / (static_cast<double>(end - i) * width));
  }
  return s;
}

/// Timeline bins grouped so that at most `points` remain: the CA backlog (the group's largest).
inline chart_series backlog_series(const fleet_result& r, std::size_t points = 600) {
  chart_series s;
  s.name = r.policy;
  const auto& bins = r.tl.bins();
  const std::size_t g =
      std::max<std::size_t>(1, (bins.size() + points - 1) / std::max<std::size_t>(points, 1));
  const double width = std::chrono::duration<double>(r.tl.width()).count();
  for (std::size_t i = 0; i < bins.size(); i += g) {
    std::uint32_t m = 0;
    for (std::size_t j = i; j < std::min(bins.size(), i + g); ++j)
      m = std::max(m, bins[j].backlog_max);
    s.x.push_back(static_cast<double>(i) * width);
    s.y.push_back(static_cast<double>(m));
  }
  return s;
}

/// A fleet chart: requests per second and the CA backlog of every run, as SVG.
inline std::string fleet_chart(std::string_view title, const std::vector<fleet_result>& runs) {
  chart_panel rate{"Requests per second", "requests/s", {}};
  chart_panel queue{"CA backlog (orders accepted, not yet issued)", "orders", {}};
  for (const auto& r : runs) {
    rate.series.push_back(rate_series(r));
    queue.series.push_back(backlog_series(r));
  }
  return render_svg(title, {rate, queue});
}

/// Every metric of every run, and their timelines, as one JSON document.
inline std::string fleet_json(const std::vector<fleet_result>& runs, duration peak_window) {
  std::string o = "{\"runs\":[";
  const auto num = [&](std::string_view k, double v, bool comma = true) {
    o += '"';
    o += k;
    o += "\":";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    o += buf;
    if (comma) o += ',';
  };
  const auto u64 = [&](std::string_view k, std::uint64_t v) {
    o += '"';
    o += k;
    o += "\":" + std::to_string(v) + ",";
  };
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const fleet_result& r = runs[i];
    if (i) o += ',';
    o += "{\"policy\":";
    certretry::detail::append_json_string(o, r.policy);
    o += ',';
    u64("certificates", r.certificates);
    u64("started", r.started);
    u64("issued", r.issued);
    u64("failed", r.failed);
    u64("pending_at_deadline", r.pending_at_deadline);
    u64("requests", r.requests);
    u64("requests_needed", r.needed);
    u64("retries", r.retries);
    u64("abandoned_order_requests", r.abandoned_requests);
    u64("unfinished_requests", r.unfinished_requests);
    u64("budget_denied", r.budget_denied);
    u64("ari_requests", r.ari_requests);
    u64("rate_limited_429", r.rate_limited);
    u64("unavailable_5xx", r.unavailable);
    num("calls_per_certificate", r.calls_per_certificate());
    num("amplification", r.amplification());
    u64("min_requests_per_certificate", r.min_requests_per_certificate);
    num("time_to_certificate_p50_s",
        static_cast<double>(r.time_to_certificate.percentile(0.5)) / 1000);
    num("time_to_certificate_p99_s",
        static_cast<double>(r.time_to_certificate.percentile(0.99)) / 1000);
    num("time_to_certificate_max_s", static_cast<double>(r.time_to_certificate.max()) / 1000);
    num("time_to_certificate_mean_s", r.time_to_certificate.mean() / 1000);
    num("requests_per_certificate_p50",
        static_cast<double>(r.requests_per_certificate.percentile(0.5)));
    num("requests_per_certificate_max", static_cast<double>(r.requests_per_certificate.max()));
    num("peak_requests_per_s", r.tl.peak_rate(peak_window));
    num("peak_window_s", std::chrono::duration<double>(peak_window).count());
    num("mean_requests_per_s", r.mean_rate());
    num("even_requests_per_s", r.even_rate());
    u64("work_abandoned", r.work_abandoned());
    u64("ca_submits_accepted", r.ca.submits_accepted);
    u64("ca_submits_timed_out", r.ca.submits_timed_out);
    u64("ca_orders_abandoned_by_clients", r.ca.abandoned_by_client);
    u64("ca_abandoned_dropped", r.ca.abandoned_dropped);
    u64("ca_issued", r.ca.issued);
    u64("ca_issued_abandoned", r.ca.issued_abandoned);
    u64("ca_outage_503", r.ca.outage_503);
    u64("backlog_max", r.backlog_max);
    if (r.drain_time)
      num("drain_time_s", std::chrono::duration<double>(*r.drain_time).count());
    else
      o += "\"drain_time_s\":null,";
    u64("events", r.events);
    num("bin_s", std::chrono::duration<double>(r.tl.width()).count());
    const auto series = [&](std::string_view k, auto get) {
      o += '"';
      o += k;
      o += "\":[";
      bool first = true;
      for (const auto& b : r.tl.bins()) {
        if (!first) o += ',';
        first = false;
        o += std::to_string(get(b));
      }
      o += "]";
    };
    series("requests_per_bin", [](const bin_stats& b) { return b.requests; });
    o += ',';
    series("rate_limited_per_bin", [](const bin_stats& b) { return b.rate_limited; });
    o += ',';
    series("issued_per_bin", [](const bin_stats& b) { return b.issued; });
    o += ',';
    series("backlog_max_per_bin", [](const bin_stats& b) { return b.backlog_max; });
    o += '}';
  }
  o += "]}\n";
  return o;
}

}  // namespace certretry::sim
