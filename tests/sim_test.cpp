// The fleet simulator: the engine's order, a one-certificate fleet against the same machines
// under run(), determinism, conservation of requests and orders, the five polling-load
// scenarios at reduced size (ratios only, never wall time), the AWS experiment, the fleet file.
#include "certretry/machine/run.hpp"
#include "certretry/sim/distribution.hpp"
#include "certretry/sim/engine.hpp"
#include "certretry/sim/fleet.hpp"
#include "certretry/sim/occ.hpp"
#include "certretry/sim/report.hpp"
#include "certretry/sim/stats.hpp"
#include "certretry/testing/scripted.hpp"

#include "fleet_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::sim;
using namespace std::chrono_literals;

client_policy policy(std::string name, any_schedule s, any_jitter j, on_pending p,
                     duration requeue = 1min, bool honour_ra = true) {
  client_policy c;
  c.name = std::move(name);
  limits l;
  l.max_wait = 10min;
  retry_after_policy ra;
  if (!honour_ra) ra.mode = retry_after_mode::ignore;
  c.backoff = backoff_policy<any_schedule, any_jitter>{s, j, l, ra};
  c.pending = p;
  c.requeue_after = requeue;
  return c;
}
client_policy defaults() {
  return policy("certretry", schedules::certctl, proportional_jitter{0.2}, on_pending::resume);
}
client_policy naive() {
  return policy("naive", fixed_schedule{1s}, no_jitter{}, on_pending::resubmit, 0s, false);
}

// --- the engine ------------------------------------------------------------------------------

TEST(SimEngine, RunsEventsInTimeThenSchedulingOrderAcrossHeapAndLanes) {
  engine eng;
  splitmix64 rng{7};
  std::vector<std::tuple<std::int64_t, std::uint64_t>> expected, seen;
  std::uint64_t seq = 0;
  // Lane pushes in order, heap pushes at random, some lane pushes out of order (to the heap).
  std::int64_t lane_t = 0;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const int kind = static_cast<int>(rng() % 3);
    std::int64_t t;
    if (kind == 0) {
      t = static_cast<std::int64_t>(rng() % 1000);
      eng.at(time_point{duration{t}}, i, 0);
    } else {
      lane_t += static_cast<std::int64_t>(rng() % 3);
      t = kind == 2 && rng() % 10 == 0 ? lane_t - 5 : lane_t;
      if (t < 0) t = 0;
      eng.queue().push_lane(static_cast<std::size_t>(kind - 1), time_point{duration{t}}, i, 0);
    }
    expected.emplace_back(t, seq++);
  }
  std::stable_sort(expected.begin(), expected.end());
  eng.run(time_point::max(), [&](const sim_event& e) {
    seen.emplace_back(e.at.time_since_epoch().count(), e.seq);
    return true;
  });
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(eng.processed(), 5000u);
}

TEST(SimEngine, StopsAtTheDeadlineLeavingLaterEvents) {
  engine eng;
  eng.after(5s, 1, 0);
  eng.after(15s, 2, 0);
  int ran = 0;
  eng.run(time_point{} + 10s, [&](const sim_event&) {
    ++ran;
    return true;
  });
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(eng.pending(), 1u);
}

// --- statistics ------------------------------------------------------------------------------

TEST(SimStats, HistogramPercentilesWithinHalfAPercent) {
  histogram h;
  for (std::int64_t v = 1; v <= 100000; ++v) h.add(v);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max(), 100000);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 50000, 250);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 99000, 500);
  EXPECT_DOUBLE_EQ(h.mean(), 50000.5);
}

TEST(SimStats, PeakRateSlidesOverWholeBins) {
  timeline tl(time_point{}, 1s);
  for (int i = 0; i < 10; ++i) tl.at(time_point{} + 3s).requests++;
  for (int i = 0; i < 10; ++i) tl.at(time_point{} + 4s).requests++;
  EXPECT_DOUBLE_EQ(tl.peak_rate(1s), 10.0);
  EXPECT_DOUBLE_EQ(tl.peak_rate(2s), 10.0);  // 20 requests in 2 s
  EXPECT_DOUBLE_EQ(tl.peak_rate(4s), 5.0);
}

// --- distributions ---------------------------------------------------------------------------

TEST(SimDistribution, LognormalMedianAndEmpiricalQuantiles) {
  splitmix64 rng{3};
  const distribution d = distribution::lognormal(60s, 1.0);
  std::vector<double> v;
  for (int i = 0; i < 20001; ++i) v.push_back(d.sample_ms(rng));
  std::nth_element(v.begin(), v.begin() + 10000, v.end());
  EXPECT_NEAR(v[10000], 60000, 60000 * 0.05);

  std::string why;
  auto e = parse_durations_csv("seconds\n1\n2\n# note\n\n3,extra\n", why);
  ASSERT_TRUE(e) << why;
  EXPECT_EQ(e.value().samples(), 3u);
  EXPECT_DOUBLE_EQ(e.value().mean_ms(), 2000.0);
  for (int i = 0; i < 1000; ++i) {
    const double x = e.value().sample_ms(rng);
    EXPECT_GE(x, 1000.0);
    EXPECT_LE(x, 3000.0);
  }
}

TEST(SimDistribution, CsvErrorsNameTheLine) {
  std::string why;
  EXPECT_FALSE(parse_durations_csv("", why));
  EXPECT_NE(why.find("no durations"), std::string::npos);
  EXPECT_FALSE(parse_durations_csv("1\n2\n-3\n", why));
  EXPECT_NE(why.find("line 3"), std::string::npos);
  EXPECT_FALSE(parse_durations_csv("1\nabc\n", why));
  EXPECT_NE(why.find("line 2"), std::string::npos);
}

// --- one certificate = the same machines under run() ----------------------------------------

// A scripted transport that notes the virtual time of each request.
struct timed_transport {
  scripted_transport* inner;
  virtual_clock* clock;
  std::vector<std::pair<time_point, std::string>>* log;
  result<response> send(const request_view& r) {
    log->emplace_back(clock->now(), std::string(r.method) + " " + std::string(r.target));
    return inner->send(r);
  }
};

TEST(SimFleet, OneCertificateSendsWhatTheMachinesSendUnderRun) {
  renewal_plan plan;
  plan.certificates = 1;
  plan.spread = renewal_spread::at_once;
  async_ca_options ca;
  ca.issuance = distribution::fixed(130s);
  ca.latency = 0ms;
  run_options run;
  run.seed = 42;
  async_fleet fleet{plan, ca, defaults(), run};
  std::vector<std::pair<time_point, std::string>> sim_log;
  std::vector<int> statuses;
  std::string order_id;
  fleet.on_trace([&](const trace_entry& t) {
    if (t.response)
      statuses.push_back(t.status);
    else
      sim_log.emplace_back(t.at, t.method + " " + t.target);
  });
  const fleet_result r = fleet.run();
  ASSERT_EQ(r.issued, 1u);
  ASSERT_GE(sim_log.size(), 3u);
  EXPECT_EQ(statuses.size(), sim_log.size());  // every request answered
  order_id = sim_log[1].second.substr(std::string("GET /order/certificate/").size());

  // The same two machines, the same generators, under run() against a scripted CA that issues
  // at 130 s.
  virtual_clock clock{sim_epoch};
  virtual_sleeper sleeper{clock};
  scripted_transport t{clock};
  t.script("POST /order/certificate/ssl_basic",
           {scripted_reply::respond(201, "{\"id\":" + order_id + "}")});
  scripted_reply pending = scripted_reply::respond(200, R"({"status":"pending"})");
  pending.until = 130s;
  t.script(
      "GET /order/certificate/" + order_id,
      {pending, scripted_reply::respond(
                    200, "{\"status\":\"issued\",\"certificate\":{\"id\":" + order_id + "}}")});
  t.script("GET /certificate/" + order_id + "/download/format/pem_all",
           {scripted_reply::respond(200, "-----BEGIN CERTIFICATE-----\nx\n")});
  std::vector<std::pair<time_point, std::string>> run_log;
  timed_transport tt{&t, &clock, &run_log};
  const client_policy p = defaults();
  order_submitter<> submit{order_submit_triage{"/order/certificate/ssl_basic", "{}", "id"},
                           p.backoff, machine_rng(42, 0, 0)};
  const outcome so = certretry::run(submit, tt, clock, sleeper);
  ASSERT_EQ(so.kind, outcome_kind::issued);
  EXPECT_EQ(so.certificate, order_id);
  async_ca_poll_machine<> poll{async_ca_triage{{async_ca::digicert, order_id, ""}}, p.backoff,
                               machine_rng(42, 0, 1)};
  const outcome po = certretry::run(poll, tt, clock, sleeper);
  ASSERT_EQ(po.kind, outcome_kind::issued);
  EXPECT_EQ(run_log, sim_log);
  EXPECT_EQ(r.requests, run_log.size());
  EXPECT_EQ(r.time_to_certificate.max(), (clock.now() - sim_epoch).count());
}

// --- determinism and conservation -------------------------------------------------------------

async_ca_options troubled_ca() {
  async_ca_options ca;
  ca.capacity = 20;
  ca.rate_limits = {{300, 60s}, {30, 5s}};
  ca.outages.push_back({20min, 35min});
  ca.faults.push_back({50min, 55min, 429, 30s});
  ca.faults.push_back({70min, 72min, 503, std::nullopt});
  return ca;
}

TEST(SimFleet, SameSeedSameMetricsOtherSeedOtherRun) {
  renewal_plan plan;
  plan.certificates = 400;
  plan.over = 1h;
  run_options run;
  run.deadline = 6h;
  run.seed = 9;
  const auto a = fleet_json({simulate_fleet(plan, troubled_ca(), defaults(), run)}, 60s);
  const auto b = fleet_json({simulate_fleet(plan, troubled_ca(), defaults(), run)}, 60s);
  EXPECT_EQ(a, b);
  run.seed = 10;
  const auto c = fleet_json({simulate_fleet(plan, troubled_ca(), defaults(), run)}, 60s);
  EXPECT_NE(a, c);
}

TEST(SimFleet, EveryRequestIsAnsweredAndCountedOnce) {
  for (const client_policy& p : {defaults(), naive()}) {
    renewal_plan plan;
    plan.certificates = 300;
    plan.over = 1h;
    run_options run;
    run.deadline = 3h;
    async_fleet fleet{plan, troubled_ca(), p, run};
    std::uint64_t sent = 0, answered = 0;
    fleet.on_trace([&](const trace_entry& t) { ++(t.response ? answered : sent); });
    const fleet_result r = fleet.run();
    SCOPED_TRACE(p.name);
    // Every request reached the CA and got an answer, except those still on the wire or held
    // by the CA at the deadline (at most one per certificate in flight).
    EXPECT_EQ(sent, r.requests);
    EXPECT_LE(answered, r.ca.requests);
    EXPECT_LE(r.ca.requests, sent);
    EXPECT_LE(sent - answered, r.pending_at_deadline);
    // Each request was needed, a retry, part of an abandoned order, or of an unfinished one.
    EXPECT_EQ(r.requests, r.needed + r.retries + r.abandoned_requests + r.unfinished_requests);
    // Each certificate begun was issued, failed, or is still pending.
    EXPECT_EQ(r.started, r.issued + r.failed + r.pending_at_deadline);
    EXPECT_EQ(r.time_to_certificate.count(), r.issued);
    // Each order the CA took was issued, dropped, or is still in its backlog.
    EXPECT_GE(r.ca.submits_accepted + r.ca.submits_timed_out, r.ca.issued + r.ca.abandoned_dropped);
    EXPECT_GT(r.rate_limited, 0u);
    EXPECT_GT(r.unavailable, 0u);
  }
}

TEST(SimFleet, MemoryFollowsWorkInFlightNotFleetSize) {
  renewal_plan plan;
  plan.certificates = 20000;
  plan.over = 24h * 10;
  run_options run;
  run.deadline = 24h * 11;
  const fleet_result r = simulate_fleet(plan, async_ca_options{}, defaults(), run);
  EXPECT_EQ(r.issued, 20000u);
  EXPECT_LT(r.peak_in_flight, 100u);  // about 0.02 renewals/s x 100 s each
}

// --- the five scenarios at reduced size --------------------------------------------------------

TEST(SimScenarios, OrdersNaivePollsTenTimesMoreForLittleLatency) {
  renewal_plan plan;
  plan.certificates = 500;
  plan.over = 24h;
  async_ca_options ca;
  ca.capacity = 100;
  run_options run;
  run.deadline = 30h;
  const fleet_result ours = simulate_fleet(plan, ca, defaults(), run);
  const fleet_result nv = simulate_fleet(plan, ca, naive(), run);
  EXPECT_EQ(ours.issued, 500u);
  EXPECT_EQ(nv.issued, 500u);
  EXPECT_GT(nv.calls_per_certificate(), 10 * ours.calls_per_certificate());
  EXPECT_LT(ours.calls_per_certificate(), 8.0);
  // The price: latency of the same order of magnitude, not ten times.
  EXPECT_LT(ours.time_to_certificate.percentile(0.5), 2 * nv.time_to_certificate.percentile(0.5));
}

TEST(SimScenarios, Sustained429CostsSixToEightAttemptsNotSixHundred) {
  renewal_plan plan;
  plan.certificates = 50;
  plan.spread = renewal_spread::at_once;
  async_ca_options ca;
  ca.faults.push_back({0s, 600s, 429, std::nullopt});
  run_options run;
  run.deadline = 1h;
  const fleet_result ours = simulate_fleet(plan, ca, defaults(), run);
  const fleet_result nv = simulate_fleet(plan, ca, naive(), run);
  const double a = static_cast<double>(ours.rate_limited) / 50.0;
  const double b = static_cast<double>(nv.rate_limited) / 50.0;
  EXPECT_GE(a, 6.0);
  EXPECT_LE(a, 8.0);
  EXPECT_GE(b, 500.0);
  EXPECT_EQ(ours.issued, 50u);
}

TEST(SimScenarios, GlobalSignOutageNaiveAmplifiesAndLeavesAbandonedWork) {
  renewal_plan plan;
  plan.certificates = 200;
  plan.over = 1h;
  async_ca_options ca;
  ca.issuance = distribution::lognormal(2s, 0.5);
  ca.capacity = 50;
  ca.outages.push_back({0s, 70min});
  run_options run;
  run.deadline = 70min + 40min;
  const fleet_result ours = simulate_fleet(plan, ca, defaults(), run);
  const fleet_result nv = simulate_fleet(plan, ca, naive(), run);
  // Each timed-out submit is an abandoned order the CA still issues.
  EXPECT_GT(ours.ca.submits_timed_out, 0u);
  EXPECT_GT(nv.work_abandoned(), 5 * ours.work_abandoned());
  EXPECT_GT(nv.backlog_max, 5 * ours.backlog_max);
  EXPECT_GE(nv.amplification(), 3.0);
  EXPECT_GT(static_cast<double>(nv.requests), 10.0 * static_cast<double>(ours.requests));
  ASSERT_TRUE(ours.drain_time.has_value());
  EXPECT_FALSE(nv.drain_time.has_value());
}

TEST(SimScenarios, GlobalSignOutageABudgetKeepsRetriesNearTheirShare) {
  renewal_plan plan;
  plan.certificates = 300;
  plan.over = 1h;
  async_ca_options ca;
  ca.issuance = distribution::lognormal(2s, 0.5);
  ca.capacity = 50;
  ca.outages.push_back({0s, 70min});
  run_options run;
  run.deadline = 70min + 40min;
  client_policy budgeted = defaults();
  budgeted.budget.what = budget_spec::kind::ratio;
  budgeted.budget.ratio = ratio_budget_params{0.1, 2min, 0.05, 0, on_denial::finish};
  budgeted.requeue_factor = 2.0;
  budgeted.requeue_cap = 30min;
  const fleet_result plain = simulate_fleet(plan, ca, defaults(), run);
  const fleet_result bud = simulate_fleet(plan, ca, budgeted, run);
  EXPECT_GT(bud.budget_denied, 0u);
  EXPECT_LT(bud.amplification(), plain.amplification());
  EXPECT_LT(bud.work_abandoned(), plain.work_abandoned() / 3);
  EXPECT_LT(bud.retries, plain.retries / 3);
}

// GlobalSign's outage at reduced size with the recommended protection: adaptive throttling
// (the SRE book's K = 2 over 2 min) shared by the fleet. It keeps the fleet off the CA for the
// 70 minutes and lifts by itself when the CA accepts requests again, so amplification stays at
// the 1.1x target and every certificate is issued after the recovery.
TEST(SimScenarios, GlobalSignOutageAdaptiveThrottlingProtectsAndRecovers) {
  renewal_plan plan;
  plan.certificates = 300;
  plan.over = 1h;
  async_ca_options ca;
  ca.issuance = distribution::lognormal(2s, 0.5);
  ca.capacity = 50;
  ca.outages.push_back({0s, 70min});
  run_options run;
  run.deadline = 70min + 40min;
  client_policy throttled = defaults();
  throttled.budget.throttle = adaptive_throttle_params{};
  throttled.requeue_factor = 2.0;
  throttled.requeue_cap = 30min;
  const fleet_result plain = simulate_fleet(plan, ca, defaults(), run);
  const fleet_result thr = simulate_fleet(plan, ca, throttled, run);
  EXPECT_GT(thr.budget_denied, 0u);
  EXPECT_LE(thr.amplification(), 1.1);
  EXPECT_GT(plain.amplification(), 1.5);
  EXPECT_EQ(thr.issued, 300u);
  EXPECT_EQ(thr.pending_at_deadline, 0u);
  EXPECT_LT(thr.work_abandoned(), plain.work_abandoned() / 10);
  ASSERT_TRUE(thr.drain_time.has_value());
  ASSERT_TRUE(plain.drain_time.has_value());
  EXPECT_LT(2 * *thr.drain_time, *plain.drain_time);
}

// The throttle in front of a retry budget: a request the throttle rejects never reaches the
// budget; the caller's question before a re-enqueue goes to the retry budget only.
TEST(SimFleetBudget, ThrottleFirstThenRetryBudgetAndRequeueAsksOnlyTheBudget) {
  budget_spec spec;
  spec.what = budget_spec::kind::ratio;
  spec.ratio = ratio_budget_params::sre();
  spec.throttle = adaptive_throttle_params{};
  fleet_budget b{spec};
  EXPECT_TRUE(b.enabled());
  splitmix64 rng{3};
  const time_point t0{};
  // A ratio budget with no floor and nothing in its window refuses a retry; the throttle has
  // seen nothing and admits.
  EXPECT_FALSE(b.admit_requeue(t0, rng));
  EXPECT_EQ(b.denied(), 1u);
  // 100 first requests, all failing: the throttle's probability climbs towards 1.
  int rejected = 0;
  for (int i = 0; i < 100; ++i) {
    const admission a = b.admit(t0 + std::chrono::milliseconds{i}, send_kind::first, rng);
    if (!a) {
      ++rejected;
      EXPECT_EQ(a.why, adaptive_throttle::denied_text);
      EXPECT_EQ(a.then, on_denial::wait);
      continue;
    }
    b.record(t0 + std::chrono::milliseconds{i}, send_kind::first, call_result::failure);
  }
  EXPECT_GT(rejected, 80);
  EXPECT_EQ(b.denied(), 1u + static_cast<std::uint64_t>(rejected));
  // Only admitted first requests made room in the ratio budget: 100 - rejected of them, so
  // 10 % of that, rounded down, retries fit; the re-enqueue check draws nothing from the
  // throttle.
  const std::uint64_t before = b.denied();
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += b.admit_requeue(t0 + 1s, rng) ? 1 : 0;
  EXPECT_EQ(admitted, (100 - rejected) / 10);
  EXPECT_EQ(b.denied(), before + static_cast<std::uint64_t>(10 - admitted));
}

// Adaptive throttling alone: the caller's re-enqueue check admits without counting, so a
// re-enqueued run's request is counted once, by the machine.
TEST(SimFleetBudget, AdaptiveAloneLeavesTheRequeueCheckToTheMachine) {
  for (const bool as_kind : {false, true}) {
    budget_spec spec;
    if (as_kind)
      spec.what = budget_spec::kind::adaptive;
    else
      spec.throttle = adaptive_throttle_params{};
    fleet_budget b{spec};
    splitmix64 rng{5};
    const time_point t0{};
    ASSERT_TRUE(b.admit(t0, send_kind::first, rng));
    b.record(t0, send_kind::first, call_result::failure);
    // After one failed request the throttle would reject with probability 1/2; the requeue
    // check admits every time and counts nothing.
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(b.admit_requeue(t0 + 1s, rng)) << as_kind;
    EXPECT_EQ(b.denied(), 0u);
  }
}

TEST(SimScenarios, LargeFleetOverWeeksStaysCheapPerCertificate) {
  renewal_plan plan;
  plan.certificates = 10000;
  plan.over = 24h * 30;
  async_ca_options ca;
  ca.capacity = 100;
  run_options run;
  run.deadline = 24h * 31;
  const fleet_result r = simulate_fleet(plan, ca, defaults(), run);
  EXPECT_EQ(r.issued, 10000u);
  EXPECT_DOUBLE_EQ(r.amplification(), 1.0);
  EXPECT_GT(r.calls_per_certificate(), 3.0);
  EXPECT_LT(r.calls_per_certificate(), 8.0);
  EXPECT_GT(r.events, 10000u * 15);
}

TEST(SimScenarios, MassRevocationAriSpreadsWhatAtOnceConcentrates) {
  async_ca_options ca;
  ca.capacity = 1000;
  ca.ari_window = {0s, 24h};
  run_options run;
  run.deadline = 30h;
  run.peak_window = 1h;
  renewal_plan at_once;
  at_once.certificates = 3000;
  at_once.spread = renewal_spread::at_once;
  renewal_plan told = at_once;
  told.ari = true;
  told.spread = renewal_spread::uniform;
  told.over = 1min;
  fleet_result burst = simulate_fleet(at_once, ca, defaults(), run);
  fleet_result ari = simulate_fleet(told, ca, defaults(), run);
  burst.renewal_window = ari.renewal_window = 24h;
  EXPECT_EQ(ari.ari_requests, 3000u);
  EXPECT_EQ(ari.issued, 3000u);
  EXPECT_LT(ari.tl.peak_rate(run.peak_window), 1.5 * ari.even_rate());
  EXPECT_GT(burst.tl.peak_rate(run.peak_window), 10 * burst.even_rate());
}

// --- the AWS experiment ------------------------------------------------------------------------

TEST(SimOcc, ReproducesThePublishedCallsAndTheirRanking) {
  std::vector<std::pair<double, double>> got;
  for (const auto& pub : occ_published_calls) {
    double writes = 0;
    for (int t = 1; t <= 10; ++t)
      writes +=
          static_cast<double>(run_occ(100, pub.backoff, static_cast<std::uint64_t>(t)).writes);
    writes /= 10;
    EXPECT_NEAR(writes, pub.calls, 0.10 * pub.calls) << to_string(pub.backoff);
    got.emplace_back(writes, pub.calls);
  }
  for (const auto& a : got)
    for (const auto& b : got) EXPECT_EQ(a.first < b.first, a.second < b.second);
}

// --- fleet files -------------------------------------------------------------------------------

harness::file_loader no_files() {
  return [](std::string_view, std::size_t, std::string&, std::string& why) {
    why = "no files here";
    return false;
  };
}

TEST(SimFleetFile, ParsesEverySection) {
  const std::string text = R"({
    "seed": 3, "deadline_s": 7200, "bin_s": 10, "peak_window_s": 300,
    "fleet": {"certificates": 50, "renewal": "even", "start_s": 60, "over_s": 600},
    "ca": {"model": "async-ca", "profile": "sectigo", "capacity": 7, "latency_s": 0.1,
           "issuance": {"distribution": "exponential", "mean_s": 30},
           "rate_limits": [{"requests": 10, "per_s": 5}], "api_keys": 2,
           "outages": [{"from_s": 100, "to_s": 200}], "outage_timeout_s": 6,
           "faults": [{"from_s": 300, "to_s": 400, "status": 503, "retry_after_s": 20}],
           "keeps_abandoned": false},
    "policies": [{"name": "a"},
                 {"name": "b", "schedule": {"table_s": [1, 2, 3]}, "jitter": "full",
                  "max_wait_s": 60, "on_pending": "resubmit", "requeue_after_s": 5,
                  "honor_retry_after": false,
                  "budget": {"kind": "ratio", "ratio": 0.1, "window_s": 120,
                             "min_retries_per_s": 1}, "requeue_factor": 2},
                 {"name": "c", "budget": {"kind": "grpc", "max_tokens": 10, "token_ratio": 0.1}},
                 {"name": "d", "budget": "adaptive"}]
  })";
  std::string why;
  auto f = harness::parse_fleet(text, ".", no_files(), why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f.value().run.seed, 3u);
  EXPECT_EQ(f.value().plan.spread, renewal_spread::even);
  EXPECT_EQ(f.value().ca.profile, async_ca::sectigo);
  EXPECT_EQ(f.value().ca.capacity, 7u);
  EXPECT_EQ(f.value().ca.faults.at(0).retry_after, std::optional<duration>(20s));
  ASSERT_EQ(f.value().policies.size(), 4u);
  EXPECT_EQ(f.value().policies[1].pending, on_pending::resubmit);
  EXPECT_EQ(f.value().policies[1].budget.what, budget_spec::kind::ratio);
  EXPECT_DOUBLE_EQ(f.value().policies[1].budget.ratio.ratio, 0.1);
  EXPECT_DOUBLE_EQ(f.value().policies[1].requeue_factor, 2.0);
  EXPECT_EQ(f.value().policies[2].budget.what, budget_spec::kind::token_bucket);
  EXPECT_EQ(f.value().policies[2].budget.bucket.capacity_milli, 10000);
  EXPECT_EQ(f.value().policies[3].budget.what, budget_spec::kind::adaptive);
  EXPECT_EQ(f.value().policies[1].backoff.sched().delay(5), 3s);
  const fleet_result r =
      simulate_fleet(f.value().plan, f.value().ca, f.value().policies[0], f.value().run);
  EXPECT_EQ(r.started, 50u);
}

TEST(SimFleetFile, UnknownKeysAndBadValuesAreNamed) {
  struct bad {
    const char* text;
    const char* names;
    errc code;
  };
  const bad cases[] = {
      {R"({"fleet":{"certificates":1},"policies":[{"name":"a"}],"sede":1})", "sede",
       errc::scenario_unknown_option},
      {R"({"fleet":{"certificates":1,"renewl":"even"},"policies":[{"name":"a"}]})", "fleet.renewl",
       errc::scenario_unknown_option},
      {R"({"fleet":{"certificates":1},"ca":{"outages":[{"from_s":1,"too_s":2}]},"policies":[{"name":"a"}]})",
       "ca.outages[0].too_s", errc::scenario_unknown_option},
      {R"({"fleet":{"certificates":1},"policies":[{"name":"a","jiter":"full"}]})",
       "policies[0].jiter", errc::scenario_unknown_option},
      {R"({"fleet":{"certificates":-1},"policies":[{"name":"a"}]})", "fleet.certificates",
       errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"policies":[{"name":"a"},{"name":"a"}]})", "policies[1].name",
       errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"policies":[]})", "policies", errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"ca":{"issuance":{"distribution":"empirical","csv":"x.csv"}},"policies":[{"name":"a"}]})",
       "ca.issuance.csv", errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"ca":{"capacity":1,"capacity":2},"policies":[{"name":"a"}]})",
       "ca.capacity", errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"policies":[{"name":"a","schedule":"fast"}]})",
       "policies[0].schedule", errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"policies":[{"name":"a","budget":{"kind":"ratio","max_tokens":3}}]})",
       "policies[0].budget.max_tokens", errc::scenario_malformed},
      {R"({"fleet":{"certificates":1},"policies":[{"name":"a","budget":"generous"}]})",
       "policies[0].budget", errc::scenario_malformed},
      {"{\"fleet\":", "not JSON", errc::scenario_malformed},
  };
  for (const auto& c : cases) {
    std::string why;
    auto f = harness::parse_fleet(c.text, ".", no_files(), why);
    ASSERT_FALSE(f) << c.text;
    EXPECT_EQ(f.error(), make_error_code(c.code)) << c.text << ": " << why;
    EXPECT_NE(why.find(c.names), std::string::npos) << why;
  }
}

TEST(SimFleetFile, EmpiricalIssuanceComesFromTheLoader) {
  const harness::file_loader csv = [](std::string_view path, std::size_t, std::string& text,
                                      std::string&) {
    EXPECT_EQ(path, "dir/durations.csv");
    text = "seconds\n10\n20\n30\n";
    return true;
  };
  std::string why;
  auto f = harness::parse_fleet(
      R"({"fleet":{"certificates":1},"ca":{"issuance":{"distribution":"empirical","csv":"durations.csv"}},"policies":[{"name":"a"}]})",
      "dir", csv, why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f.value().ca.issuance.type(), distribution::kind::empirical);
  EXPECT_DOUBLE_EQ(f.value().ca.issuance.mean_ms(), 20000.0);
}

}  // namespace
