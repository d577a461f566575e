// bench/bench_acme_poll.cpp — how often ACME clients poll an order between finalize and `valid`,
// how long they take to see it valid, and whether they poll sooner than the server asked.
//
// 10 000 simulated orders per row against certretry::model::acme_server (processing after
// finalize lognormal, median 2 s, p99 10 s; 50 ms per call), for two servers:
//
//   Retry-After 3 s   Boulder: `Retry-After: 3` on every processing reply, finalize included
//   no Retry-After    a server that sends none (Pebble 2.4: docs/sources.md#pebble)
//
// and five clients: four of today's clients as docs/sources.md describes their order polling
// (small policies below, no code of theirs), and certretry's acme::resource_poll_machine with its
// defaults, driven by certretry::run() on the server's virtual clock. Every client sends the
// finalize itself, then polls with POST-as-GET and a fresh nonce from the previous reply.
//
// Everything is deterministic: an order's processing time depends only on the seed and its
// number, so order k takes as long for every client. The table is bench/harness/acme_poll.cpp
// (`certretry-harness report` runs it too). The program first runs the Google Benchmark timings
// of single simulated orders (real CPU time, not part of the table), then prints the table. Flags: --table-only (skip the timings), --seed=N (default 1), --orders=N
// (default 10000); Google Benchmark's own flags pass through.

#include "acme_poll.hpp"

#include "certretry/core/time.hpp"
#include "certretry/testing/acme/server.hpp"

#include "support/table_main.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace {

using namespace certretry;
using certretry::harness::acme_poll::client;
using certretry::harness::acme_poll::clients;
using certretry::harness::acme_poll::order_result;
using certretry::harness::acme_poll::poll_order;
using certretry::harness::acme_poll::server_kind;
using certretry::harness::acme_poll::servers;

// --- Google Benchmark: the CPU cost of one simulated order (client + model + run()) ---------

void BM_order(benchmark::State& state, const client* c, const server_kind* s) {
  virtual_clock clock;
  model::acme_server server{clock, {.order_style = s->style}};
  std::uint64_t polls = 0;
  for (auto _ : state) {
    const std::uint64_t id = server.create_order();
    const order_result o = poll_order(*c, server, clock, id);
    polls += o.polls;
    benchmark::DoNotOptimize(o.valid);
  }
  state.counters["polls"] =
      benchmark::Counter(static_cast<double>(polls), benchmark::Counter::kAvgIterations);
}

BENCHMARK_CAPTURE(BM_order, certretry_retry_after, &clients[4], &servers[0]);
BENCHMARK_CAPTURE(BM_order, certretry_none, &clients[4], &servers[1]);
BENCHMARK_CAPTURE(BM_order, certbot_none, &clients[1], &servers[1]);
BENCHMARK_CAPTURE(BM_order, lego_retry_after, &clients[0], &servers[0]);

}  // namespace

int main(int argc, char** argv) {
  return certretry::bench::table_main(
      argc, argv, "--orders=", [](std::size_t n, std::uint64_t seed) {
        const auto run = certretry::harness::acme_poll_tables(n, seed);
        std::fputs(run.text.c_str(), stdout);
        return run.exit_code;
      });
}
