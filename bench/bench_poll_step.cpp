// bench/bench_poll_step.cpp — the cost of one poll-machine decision step, and whether it
// allocates.
//
// One step is the pair decide(now, verdict, hint) -> wait, then on_wait_elapsed(now) -> send:
// the machine is back to awaiting a response, so the loop can run forever. The benchmark names
// say "decide+wait_elapsed" because both transitions are inside the timed loop. Time advances
// as in a real run (response latency, then the delay the machine asked for) and the deadline is
// set far beyond any run, so the loop never measures the give-up path.
//
// Global operator new/delete are replaced below to count heap allocations while a benchmark
// loop runs; allocs_per_step is that count divided by the iterations.

#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/target.hpp"
#include "certretry/core/time.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/poll/machine.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

// ---------------------------------------------------------------------------------------------
// Counting allocator: every replaceable global allocation function, counting while enabled.

namespace {

std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};

void* counted_malloc(std::size_t size) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* counted_aligned_malloc(std::size_t size, std::align_val_t align) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = ((size == 0 ? 1 : size) + a - 1) / a * a;
  return std::aligned_alloc(a, rounded);
}

void* throwing(void* p) {
  if (p == nullptr) throw std::bad_alloc{};
  return p;
}

// Counts allocations from construction to stop(); only one is live at a time.
class allocation_scope {
 public:
  allocation_scope() noexcept {
    allocations.store(0, std::memory_order_relaxed);
    counting.store(true, std::memory_order_relaxed);
  }
  ~allocation_scope() { counting.store(false, std::memory_order_relaxed); }
  allocation_scope(const allocation_scope&) = delete;
  allocation_scope& operator=(const allocation_scope&) = delete;

  std::uint64_t stop() noexcept {
    counting.store(false, std::memory_order_relaxed);
    return allocations.load(std::memory_order_relaxed);
  }
};

}  // namespace

void* operator new(std::size_t n) { return throwing(counted_malloc(n)); }
void* operator new[](std::size_t n) { return throwing(counted_malloc(n)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  return throwing(counted_aligned_malloc(n, a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return throwing(counted_aligned_malloc(n, a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_malloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_malloc(n, a);
}

// GCC sees free() on memory from (its notion of) operator new; the replacements above allocate
// with malloc, so free is the matching release.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

// ---------------------------------------------------------------------------------------------

namespace {

using namespace certretry;

// certctl's schedule and jitter, resolved at compile time ...
using concrete_machine = poll_machine<async_ca_triage, geometric_schedule, proportional_jitter>;
// ... and chosen at run time from configuration names (what the harness does).
using runtime_machine = poll_machine<async_ca_triage, any_schedule, any_jitter>;

// A deadline no benchmark run reaches (~73 million years at ~5 min per step), so every
// decision is a wait and never the give-up path. No attempt cap either.
constexpr limits endless() noexcept {
  limits l;
  l.max_wait = duration{std::numeric_limits<duration::rep>::max() / 4};
  return l;
}

// A typical round trip to a CA's status endpoint.
constexpr duration response_latency = 180ms;

async_ca_triage digicert_triage() { return async_ca_triage{{async_ca::digicert, "1234567", ""}}; }

concrete_machine make_concrete() {
  return concrete_machine{digicert_triage(),
                          backoff_policy<geometric_schedule, proportional_jitter>{
                              schedules::certctl, proportional_jitter{0.2}, endless()},
                          splitmix64{42}};
}

runtime_machine make_runtime() {
  // Names the compiler cannot see through, as if read from a configuration file.
  std::string schedule_name = "certctl";
  std::string jitter_name = "pct";
  benchmark::DoNotOptimize(schedule_name.data());
  benchmark::DoNotOptimize(jitter_name.data());
  const any_schedule s = named_schedule(schedule_name).value_or(any_schedule{schedules::certctl});
  const any_jitter j = named_jitter(jitter_name, 0.2, 5min).value_or(any_jitter{});
  return runtime_machine{digicert_triage(),
                         backoff_policy<any_schedule, any_jitter>{s, j, endless()}, splitmix64{42}};
}

// What the machine gets after triage: a pending status, or a transient failure (503) whose
// Retry-After said 60 s (Boulder's value for 500s).
struct decision_input {
  triage_result verdict;
  std::optional<duration> hint;
};
const decision_input pending_status{{verdict::pending, "status pending", {}, false}, std::nullopt};
const decision_input transient_with_hint{
    {verdict::transient, "server error (5xx) on status", {}, false}, 60s};

void report_allocations(benchmark::State& state, std::uint64_t count) {
  state.counters["allocs_per_step"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kAvgIterations);
}

// The machine must still be polling after the loop; anything else means the loop measured a
// different path, which is reported instead of a number.
template <class Machine>
void check_still_polling(benchmark::State& state, const Machine& m) {
  if (m.state() != poll_state::awaiting_response)
    state.SkipWithError("the machine left the poll loop; the numbers measure another path");
}

template <class Machine>
void decide_then_wait_elapsed(benchmark::State& state, Machine m, const decision_input& in) {
  time_point now{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};
  benchmark::DoNotOptimize(m.start(now));
  const auto step = [&] {
    now += response_latency;
    const action a = m.decide(now, in.verdict, in.hint);
    if (const auto* w = std::get_if<wait>(&a)) now += w->delay;
    const action b = m.on_wait_elapsed(now);
    benchmark::DoNotOptimize(b);
  };
  step();  // first use happens once per run, not per step
  allocation_scope scope;
  for (auto _ : state) step();
  report_allocations(state, scope.stop());
  check_still_polling(state, m);
}

void BM_step_decide_and_wait_elapsed_concrete(benchmark::State& state, const decision_input* in) {
  decide_then_wait_elapsed(state, make_concrete(), *in);
}
void BM_step_decide_and_wait_elapsed_runtime(benchmark::State& state, const decision_input* in) {
  decide_then_wait_elapsed(state, make_runtime(), *in);
}

// For reference: the whole step from raw response to next request, DigiCert triage (simdjson)
// included.
constexpr std::string_view digicert_pending_body =
    R"({"id":1234567,"status":"pending","certificate":{"id":10987654,)"
    R"("common_name":"www.example.com","dns_names":["www.example.com","example.com"]},)"
    R"("product":{"name_id":"ssl_plus","name":"Standard SSL"}})";
// A 429: DigiCert sends no Retry-After, only an error body the triage quotes in its reason.
constexpr std::string_view digicert_429_body =
    R"({"errors":[{"code":"request_limit_exceeded","message":"Request limit exceeded. )"
    R"(Please wait before sending more requests."}]})";

void BM_step_on_response_and_wait_elapsed_digicert(benchmark::State& state, int status,
                                                   std::string_view body) {
  concrete_machine m = make_concrete();
  time_point now{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};
  benchmark::DoNotOptimize(m.start(now));
  const response_view r{status, {}, body};
  const auto step = [&] {
    now += response_latency;
    const action a = m.on_response(now, r);
    if (const auto* w = std::get_if<wait>(&a)) now += w->delay;
    const action b = m.on_wait_elapsed(now);
    benchmark::DoNotOptimize(b);
  };
  step();  // sizes the parser and the reason buffer once
  allocation_scope scope;
  for (auto _ : state) step();
  report_allocations(state, scope.stop());
  check_still_polling(state, m);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(body.size()));
}

// An ACME order poll (acme::resource_poll_machine, RFC 8555 §7.4): the reply says processing
// with a Replay-Nonce and Boulder's Retry-After: 3; the machine reads both, waits, and sends the
// next POST-as-GET signed with that nonce.
void BM_step_acme_poll_processing(benchmark::State& state) {
  acme::poll_options o;
  o.url = "/acme/order/1";
  o.nonce.initial = "oFvnlFP1wIhRlYS2jTaXbA";
  acme::resource_poll_machine m{o, acme::default_policy(std::chrono::hours{24 * 365 * 100}),
                                splitmix64{1}};
  time_point now{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};
  benchmark::DoNotOptimize(m.start(now));
  const header_field headers[] = {{"Replay-Nonce", "zRo3OB7tlbUlX8pwwG_xFX1M9KIUrRvp"},
                                  {"Retry-After", "3"},
                                  {"Content-Type", "application/json"}};
  constexpr std::string_view body =
      R"({"status":"processing","expires":"2025-01-08T00:00:00Z","identifiers":[{"type":"dns",)"
      R"("value":"www.example.com"}],"authorizations":["https://ca.example/acme/authz/1"],)"
      R"("finalize":"https://ca.example/acme/order/1/finalize"})";
  const response_view r{200, headers, body};
  bool polling = true;
  const auto step = [&] {
    now += response_latency;
    const action a = m.on_response(now, r);
    if (const auto* w = std::get_if<wait>(&a))
      now += w->delay;
    else
      polling = false;
    const action b = m.on_wait_elapsed(now);
    benchmark::DoNotOptimize(b);
  };
  step();
  step();  // both nonce buffers sized
  allocation_scope scope;
  for (auto _ : state) step();
  report_allocations(state, scope.stop());
  if (!polling) state.SkipWithError("the ACME poller stopped polling");
}
BENCHMARK(BM_step_acme_poll_processing);

// The check every request passes before a machine sends it (core/target.hpp request_problem),
// against its floor: one scan that only asks whether each byte may be in a URI at all. The
// check does that and more (percent-encoding, the scheme and host, brackets, dot and empty
// segments) in the same single pass.
constexpr std::string_view digicert_download = "/certificate/987654/download/format/pem_all";
constexpr std::string_view acme_order_url =
    "https://acme-v02.api.letsencrypt.org/acme/order/1234567/89012345";

void BM_request_target_check(benchmark::State& state, std::string_view target) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(target);
    benchmark::DoNotOptimize(request_problem(request_view{"GET", target}));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(target.size()));
}

void BM_request_target_byte_scan_floor(benchmark::State& state, std::string_view target) {
  static constexpr auto uri_byte = [] {
    std::array<bool, 256> ok{};
    for (unsigned c = 0; c < ok.size(); ++c)
      ok[c] = certretry::detail::uri_byte_problem(static_cast<unsigned char>(c)).empty();
    return ok;
  }();
  for (auto _ : state) {
    benchmark::DoNotOptimize(target);
    std::size_t i = 0;
    while (i < target.size() && uri_byte[static_cast<unsigned char>(target[i])]) ++i;
    benchmark::DoNotOptimize(i);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(target.size()));
}

BENCHMARK_CAPTURE(BM_request_target_check, digicert_download, digicert_download);
BENCHMARK_CAPTURE(BM_request_target_byte_scan_floor, digicert_download, digicert_download);
BENCHMARK_CAPTURE(BM_request_target_check, acme_order, acme_order_url);
BENCHMARK_CAPTURE(BM_request_target_byte_scan_floor, acme_order, acme_order_url);

BENCHMARK_CAPTURE(BM_step_decide_and_wait_elapsed_concrete, pending, &pending_status);
BENCHMARK_CAPTURE(BM_step_decide_and_wait_elapsed_concrete, transient_retry_after,
                  &transient_with_hint);
BENCHMARK_CAPTURE(BM_step_decide_and_wait_elapsed_runtime, pending, &pending_status);
BENCHMARK_CAPTURE(BM_step_decide_and_wait_elapsed_runtime, transient_retry_after,
                  &transient_with_hint);
BENCHMARK_CAPTURE(BM_step_on_response_and_wait_elapsed_digicert, pending_200, 200,
                  digicert_pending_body);
BENCHMARK_CAPTURE(BM_step_on_response_and_wait_elapsed_digicert, rate_limited_429, 429,
                  digicert_429_body);

}  // namespace

BENCHMARK_MAIN();
