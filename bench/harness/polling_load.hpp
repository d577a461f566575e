// The polling-load tables (docs/polling-load.md) as a function: bench_polling_load prints them,
// `certretry-harness report` runs them at reduced sizes.
#pragma once

#include "table_text.hpp"

#include "certretry/sim/fleet.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace certretry::harness {

struct polling_load_options {
  bool reduced = false;  // small sizes (1 000 orders instead of 10 000, ...), for tests
  std::uint64_t seed = 1;
  int only = 0;  // 1..5 one scenario, 6 the AWS experiment; 0 all
};

// Scenario (1)'s figures for one policy: what the report quotes.
struct polling_load_figures {
  std::string policy;
  double calls_per_certificate = 0;
  double peak_requests_5min = 0;  // the most requests in any 5 minutes
  double mean_requests_per_s = 0;
};

struct polling_load_run {
  std::string text;  // every table and the targets, Markdown, as bench_polling_load prints them
  std::vector<table_target> targets;
  // At reduced sizes: the targets that only a full-size run can judge ((4)'s wall time and
  // events/s, (5)'s peak ratio, which 5 000 certificates make noisy), with their figures.
  std::vector<std::string> full_size_only;
  std::vector<named_svg> charts;             // polling_load_orders.svg, polling_load_429.svg, ...
  std::vector<polling_load_figures> orders;  // scenario (1), one per policy
};

// Runs the scenarios of `options`. Deterministic for a seed but for the wall and CPU times of
// scenario (4)'s targets.
polling_load_run polling_load(const polling_load_options& options);

// certretry's defaults as the tables run them (schedules::async_ca: 98 s x1.25 capped at 45 min,
// +-20 %, Retry-After honoured, resume on still_pending, at most 10 min).
sim::client_policy polling_load_defaults();

}  // namespace certretry::harness
