// bench/bench_polling_load.cpp — the load polling schedules put on an asynchronous CA, fleet by
// fleet, on certretry's fleet simulator (include/certretry/sim/): every certificate is driven by
// the library's own machines (the poll machine for the submit and async_ca_poll_machine for the
// status, acme::ari_machine for ARI) through their sans-IO interface, against the async-CA
// model on the event engine.
//
// Schedules: certretry's defaults (certctl's 5 s x3 capped at 5 min, +-20 %, Retry-After
// honoured, resume on still_pending), certctl's code (the same schedule, Retry-After ignored)
// and its documented table (5 s, 15 s, 45 s, 2 min, 5 min), VCert's fixed 2 s, a naive 1 s,
// AWS's full / equal / decorrelated jitter over 5 s doubling to 5 min; certretry's defaults and
// the 1 s poll again with the fleet sharing adaptive throttling (the SRE book's K = 2 over
// 2 min, the recommended protection) and with a ratio retry budget.
//
// Scenarios: (1) 10 000 orders, log-normal issuance (median 60 s, sigma 1); (2) 429 on every
// request for 10 minutes; (3) GlobalSign Atlas 2020-10-28: capacity 0 for 70 minutes, every
// request answered 503 after 6 s, timed-out submits kept in the queue; (4) 1 000 000
// certificates renewing over 30 days; (5) a mass revocation: 100 000 certificates told by ARI
// to renew within 24 h. Then the AWS Architecture Blog's backoff experiment on the same engine.
//
// The scenarios and tables are bench/harness/polling_load.cpp (`certretry-harness report` runs
// them too). One command, one run: the Google Benchmark timings of the engine first (skipped
// with --table-only), then the tables and the targets (holds / MISSED). Flags: --table-only,
// --reduced (small sizes, for tests), --seed=N (default 1), --svg-dir=DIR (write the charts).
// Tables are deterministic for a seed; wall and CPU times appear only in the target lines.

#include "polling_load.hpp"

#include "certretry/sim/engine.hpp"
#include "certretry/sim/fleet.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace {

using namespace certretry;
using namespace certretry::sim;
using namespace std::chrono_literals;

// --- Google Benchmark: the engine alone, and one fleet -------------------------------------

void BM_engine_events(benchmark::State& state) {
  const auto pending = static_cast<std::uint32_t>(state.range(0));
  engine eng;
  splitmix64 rng{1};
  for (std::uint32_t i = 0; i < pending; ++i)
    eng.after(duration{static_cast<std::int64_t>(rng() % 100000)}, i, 1);
  for (auto _ : state) {
    eng.run(time_point::max(), [&](const sim_event& e) {
      eng.after(duration{static_cast<std::int64_t>(rng() % 100000)}, e.who, e.what);
      return false;
    });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_engine_events)->Arg(100)->Arg(10000)->Arg(1000000);

void BM_fleet_10k(benchmark::State& state) {
  renewal_plan plan;
  plan.certificates = 10000;
  plan.over = 24h;
  async_ca_options ca;
  ca.capacity = 100;
  run_options run;
  run.deadline = 30h;
  std::uint64_t events = 0;
  for (auto _ : state) {
    const fleet_result r =
        simulate_fleet(plan, ca, certretry::harness::polling_load_defaults(), run);
    events += r.events;
    benchmark::DoNotOptimize(r.issued);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_fleet_10k)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  bool table_only = false, reduced = false;
  int only = 0;
  std::uint64_t seed = 1;
  std::string svg_dir;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--table-only") {
      table_only = true;
    } else if (a == "--reduced") {
      reduced = true;
    } else if (a.starts_with("--seed=")) {
      char* end = nullptr;
      seed = std::strtoull(argv[i] + 7, &end, 10);
      if (end == argv[i] + 7 || *end != '\0') {
        std::fprintf(stderr, "bad value for --seed=\n");
        return 2;
      }
    } else if (a.starts_with("--only=")) {
      only = std::atoi(argv[i] + 7);
    } else if (a.starts_with("--svg-dir=")) {
      svg_dir = std::string(a.substr(10));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (!table_only) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  }
  const auto run = certretry::harness::polling_load({reduced, seed, only});
  std::fputs(run.text.c_str(), stdout);
  if (!svg_dir.empty())
    for (const auto& chart : run.charts) {
      std::ofstream out(svg_dir + "/" + chart.file, std::ios::binary | std::ios::trunc);
      out << chart.svg;
    }
  return 0;
}
