// bench/bench_schedule_extremes.cpp — one delay at attempts near UINT32_MAX, for every schedule
// and every jitter: each is O(1) or O(log n) whatever the attempt (a geometric schedule with a
// factor near 1 stepped once per attempt and took 6.7 s for one call).
//
// BM_Schedule/<name>/<attempt>: schedule.delay(n). BM_Jitter/<name>: jitter.apply(delay(n), n)
// over a geometric schedule whose factor is 1.0000001 (the slowest one there was), n near
// UINT32_MAX. The `near_one` rows are the ones that were slow.
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/random.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <limits>

namespace {

using namespace certretry;
using namespace std::chrono_literals;

constexpr std::uint32_t top = std::numeric_limits<std::uint32_t>::max();
constexpr geometric_schedule near_one{1ms, 1.0000001, 1000h};

template <class S>
void schedule_at(benchmark::State& state, S s) {
  auto n = static_cast<std::uint32_t>(top - static_cast<std::uint32_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(s.delay(n));
  }
}

// Attempts UINT32_MAX, UINT32_MAX - 1000 and 10^8 (where the near-one factor is still far from
// its cap, the worst case for stepping).
void attempts(benchmark::internal::Benchmark* b) {
  b->Arg(0)->Arg(1000)->Arg(static_cast<std::int64_t>(top) - 100'000'000);
}

BENCHMARK_CAPTURE(schedule_at, certctl, schedules::certctl)->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, certctl_documented, schedules::certctl_documented)->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, vcert, schedules::vcert)->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, lego, schedules::lego)->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, acme, schedules::acme)->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, exponential, exponential_schedule(1s, 1h))->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, near_one, near_one)->Apply(attempts);
BENCHMARK_CAPTURE(schedule_at, any_near_one, any_schedule{near_one})->Apply(attempts);

template <class J>
void jitter_at(benchmark::State& state, J j) {
  splitmix64 rng{1};
  std::uint32_t n = top - 1000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(j.apply(near_one.delay(n), n, rng));
    if (++n == top) n = top - 1000;
  }
}

BENCHMARK_CAPTURE(jitter_at, none, no_jitter{});
BENCHMARK_CAPTURE(jitter_at, pct, proportional_jitter{0.2});
BENCHMARK_CAPTURE(jitter_at, full, full_jitter{});
BENCHMARK_CAPTURE(jitter_at, equal, equal_jitter{});
BENCHMARK_CAPTURE(jitter_at, decorrelated, decorrelated_jitter{5min});
BENCHMARK_CAPTURE(jitter_at, decorrelated_v2, decorrelated_jitter_v2{5min});
BENCHMARK_CAPTURE(jitter_at, any_decorrelated_v2, any_jitter{decorrelated_jitter_v2{5min}});

}  // namespace

BENCHMARK_MAIN();
