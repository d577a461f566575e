// bench/bench_tpp_load.cpp — the load TPP clients put on Venafi TPP: calls per enrollment, time
// to certificate, and what happens to renewals stuck on "Fix any errors, and then click Retry."
//
// 10 000 simulated enrollments per row against certretry::model::tpp_server (mean issuance 7 s,
// exponential; 50 ms per call), each driven by certretry::run() with a virtual clock, for four
// clients, healthy and with 20 % of the certificates stuck behind a failed earlier enrollment:
//
//   certretry watch   enroll_machine, reset-on-detection, WorkToDoTimeout 30 s, deadline 600 s
//   certretry poll    enroll_machine, reset-on-detection, VCert's 2 s schedule, deadline 600 s
//   VCert             VCert >= 4.24's loop: 2 s poll, any status but 200/202 an error, no
//                     reset, deadline 600 s
//   cert-manager      enroll_machine, reset-before-request (>= 1.12), 2 s poll, 60 s deadline
//                     per reconcile
//
// Then, healthy certificates only, three more tables: a slow CA (issuance log-normal, median
// 60 s, sigma 1: most issuances outlast a 30 s watch, some outlast a run), a 10-minute 503
// burst starting with each enrollment (load balancer in front of a TPP down), and requests
// carrying WorkToDoTimeout 30 s (the certificate comes back on the request).
//
// Everything is deterministic (the server's seed, seeded jitter): one seed, one table. The tables
// are bench/harness/tpp_load.cpp (`certretry-harness report` runs them too). The program first
// runs the Google Benchmark timings of single simulated enrollments (real CPU time, not part of
// the table), then prints the table. Flags: --table-only (skip the timings),
// --seed=N (default 1), --enrollments=N (default 10000); Google Benchmark's own flags pass
// through.

#include "tpp_load.hpp"

#include "certretry/core/action.hpp"
#include "certretry/core/time.hpp"
#include "certretry/testing/tpp_server.hpp"

#include "support/table_main.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

using namespace certretry;
using certretry::harness::tpp_load::certificate_dn;
using certretry::harness::tpp_load::client;
using certretry::harness::tpp_load::clients;
using certretry::harness::tpp_load::enroll;

// --- Google Benchmark: the CPU cost of one simulated enrollment (machine + model + run()) ----

void BM_enrollment(benchmark::State& state, const client* c, bool stuck) {
  virtual_clock clock;
  model::tpp_server server{clock};
  const std::string dn = certificate_dn(0);
  server.add_certificate(dn, stuck ? model::tpp_prior::failed : model::tpp_prior::issued);
  std::uint64_t sends = 0;
  for (auto _ : state) {
    if (stuck) server.add_certificate(dn, model::tpp_prior::failed);
    const outcome out = enroll(*c, 0, server, clock);
    sends += out.sends;
    benchmark::DoNotOptimize(out.kind);
  }
  state.counters["calls"] =
      benchmark::Counter(static_cast<double>(sends), benchmark::Counter::kAvgIterations);
}

BENCHMARK_CAPTURE(BM_enrollment, certretry_watch_healthy, &clients[0], false);
BENCHMARK_CAPTURE(BM_enrollment, certretry_watch_stuck, &clients[0], true);
BENCHMARK_CAPTURE(BM_enrollment, certretry_poll_healthy, &clients[1], false);
BENCHMARK_CAPTURE(BM_enrollment, cert_manager_healthy, &clients[3], false);

}  // namespace

int main(int argc, char** argv) {
  return certretry::bench::table_main(
      argc, argv, "--enrollments=", [](std::size_t n, std::uint64_t seed) {
        const auto run = certretry::harness::tpp_load_tables(n, seed);
        std::fputs(run.text.c_str(), stdout);
        return run.exit_code;
      });
}
