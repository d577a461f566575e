// The TPP server model (testing/tpp_server.hpp) against docs/sources.md#tpp-writeup and the
// Venafi TPP replies of docs/sources.md (#tpp-retrieve, #tpp-reset), and certretry's TPP machine
// against the model: what the load benchmark's figures rest on.
#include <certretry/machine/run.hpp>
#include <certretry/testing/tpp_server.hpp>
#include <certretry/tpp/enroll.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

namespace {

using namespace certretry;

std::string dn_of(int i) { return "\\VED\\Policy\\Sim\\host-" + std::to_string(i); }

tpp::enroll_options options_for(int i, tpp::reset_strategy s, tpp::retrieve_mode m) {
  tpp::enroll_options o;
  o.strategy = s;
  o.mode = m;
  o.certificate_dn = dn_of(i);
  o.request_body = "{\"PolicyDN\":\"\\\\VED\\\\Policy\\\\Sim\",\"ObjectName\":\"host-" +
                   std::to_string(i) + "\"}";
  return o;
}

using policy_t = backoff_policy<fixed_schedule, no_jitter>;
constexpr policy_t two_seconds{schedules::vcert, no_jitter{}, limits{.max_wait = 600s}};

outcome enroll(model::tpp_server& server, virtual_clock& clock, tpp::enroll_options o) {
  tpp::enroll_machine m{std::move(o), two_seconds, splitmix64{1}};
  virtual_sleeper sleeper{clock};
  return run(m, server, clock, sleeper);
}

// docs/sources.md#tpp-writeup: a request on a blocked certificate answers case 1 60 %, case 2
// 30 %, case 3 10 %.
// Chi-square with 2 degrees of freedom over 10 000 draws; 13.82 is the 0.1 % critical value.
TEST(TppServerModel, StuckCasesFollowTheSeedFrequencies) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 7}};
  std::array<int, 3> seen{};
  constexpr int n = 10000;
  for (int i = 0; i < n; ++i) {
    server.add_certificate(dn_of(i), model::tpp_prior::failed);
    const std::string body = "{\"PolicyDN\":\"\\\\VED\\\\Policy\\\\Sim\",\"ObjectName\":\"host-" +
                             std::to_string(i) + "\"}";
    ASSERT_TRUE(server.send({"POST", tpp::request_path, {}, body}).has_value());
    const auto info = server.inspect(dn_of(i));
    ASSERT_TRUE(info.stuck);
    ASSERT_TRUE(info.last_case.has_value());
    ++seen[static_cast<int>(*info.last_case) - 1];
  }
  const std::array<double, 3> expected{0.6 * n, 0.3 * n, 0.1 * n};
  double chi2 = 0;
  for (int k = 0; k < 3; ++k)
    chi2 += (seen[k] - expected[k]) * (seen[k] - expected[k]) / expected[k];
  EXPECT_LT(chi2, 13.82) << seen[0] << " " << seen[1] << " " << seen[2];
}

// TPP's mean issuance time is 7 s (docs/sources.md#tpp-writeup): a watch returns when the
// certificate is issued, so the mean time to certificate over many healthy renewals is close to
// 7 s.
TEST(TppServerModel, MeanIssuanceIsSevenSeconds) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 3, .latency = 0ms}};
  constexpr int n = 4000;
  double total_s = 0;
  for (int i = 0; i < n; ++i) {
    server.add_certificate(dn_of(i), model::tpp_prior::issued);
    const time_point t0 = clock.now();
    const outcome o =
        enroll(server, clock,
               options_for(i, tpp::reset_strategy::reset_on_detection, tpp::retrieve_mode::watch));
    ASSERT_EQ(o.kind, outcome_kind::issued);
    total_s += std::chrono::duration<double>(clock.now() - t0).count();
  }
  // Exponential, sd 7 s: the mean of 4000 has sd 0.11 s; 0.5 s is ~4.5 sd.
  EXPECT_NEAR(total_s / n, 7.0, 0.5);
}

// WorkToDoTimeout holds a retrieve until issuance or the timeout, whichever comes first.
TEST(TppServerModel, WorkToDoTimeoutHoldsTheRetrieve) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 11, .latency = 0ms, .mean_issuance = 3600s}};
  server.add_certificate(dn_of(1), model::tpp_prior::pending);
  const std::string body =
      "{\"CertificateDN\":\"" + std::string("\\\\VED\\\\Policy\\\\Sim\\\\host-1") +
      "\",\"Format\":\"base64\",\"IncludeChain\":true,\"WorkToDoTimeout\":\"30\"}";
  const time_point t0 = clock.now();
  auto r = server.send({"POST", tpp::retrieve_path, {}, body});
  ASSERT_TRUE(r.has_value());
  // Issuance drawn with a 1 h mean: almost surely not within 30 s, so the call is held 30 s.
  if (r.value().status == 202)
    EXPECT_EQ(clock.now() - t0, 30s);
  else
    EXPECT_LT(clock.now() - t0, 30s);
}

// Every strategy recovers a blocked certificate against the model, with Restart=false only.
TEST(TppServerModel, MachineRecoversEveryStuckCertificate) {
  for (const auto strategy :
       {tpp::reset_strategy::reset_on_detection, tpp::reset_strategy::reset_before_request}) {
    for (const auto mode : {tpp::retrieve_mode::watch, tpp::retrieve_mode::poll}) {
      virtual_clock clock;
      model::tpp_server server{clock, {.seed = 5}};
      for (int i = 0; i < 200; ++i) {
        server.add_certificate(dn_of(i), model::tpp_prior::failed);
        const outcome o = enroll(server, clock, options_for(i, strategy, mode));
        ASSERT_EQ(o.kind, outcome_kind::issued) << o.reason;
        EXPECT_FALSE(model::tpp_server::is_old_certificate(o.certificate));
        EXPECT_FALSE(server.inspect(dn_of(i)).stuck);
      }
      EXPECT_EQ(server.counters().restart_true, 0u);
      EXPECT_EQ(server.counters().reset, 200u);  // exactly one reset per enrollment
    }
  }
}

// query-only leaves the command to the caller: needs_reset, then tpp::reset_step() recovers.
TEST(TppServerModel, QueryOnlyThenResetStepRecovers) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 9}};
  server.add_certificate(dn_of(1), model::tpp_prior::failed);
  const auto o = options_for(1, tpp::reset_strategy::query_only, tpp::retrieve_mode::watch);
  const outcome first = enroll(server, clock, o);
  EXPECT_EQ(first.kind, outcome_kind::needs_reset);
  EXPECT_EQ(server.counters().reset, 0u);  // the retrieve stayed a query
  auto step = tpp::reset_step(o, two_seconds, splitmix64{1});
  virtual_sleeper sleeper{clock};
  const outcome second = run(step, server, clock, sleeper);
  EXPECT_EQ(second.kind, outcome_kind::issued) << second.reason;
  EXPECT_EQ(server.counters().reset, 1u);
}

// The fault VCert 4.23 ran into: reset(Restart=true) right after a request restarts the earlier
// enrollment inside TPP and hands back the old certificate. The model reproduces it for a client
// that does it (Solution 3 as shipped), and certretry never does it.
TEST(TppServerModel, RestartTrueRaceReturnsTheOldCertificate) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 2, .restart_race = true}};
  server.add_certificate(dn_of(1), model::tpp_prior::failed);
  const std::string req = "{\"PolicyDN\":\"\\\\VED\\\\Policy\\\\Sim\",\"ObjectName\":\"host-1\"}";
  const std::string dn_json = "\"\\\\VED\\\\Policy\\\\Sim\\\\host-1\"";
  ASSERT_TRUE(server.send({"POST", tpp::request_path, {}, req}).has_value());
  ASSERT_EQ(server.send({"POST", tpp::retrieve_path, {}, "{\"CertificateDN\":" + dn_json + "}"})
                .value()
                .status,
            500);
  ASSERT_EQ(
      server
          .send(
              {"POST", tpp::reset_path, {}, "{\"CertificateDN\":" + dn_json + ",\"Restart\":true}"})
          .value()
          .status,
      200);
  std::string data;
  for (int i = 0; i < 1000 && data.empty(); ++i) {
    auto r = server.send({"POST",
                          tpp::retrieve_path,
                          {},
                          "{\"CertificateDN\":" + dn_json + ",\"WorkToDoTimeout\":\"30\"}"});
    if (r.value().status == 200) data = tpp::reply_reader{}.read(r.value().body).certificate_data;
  }
  EXPECT_TRUE(model::tpp_server::is_old_certificate(data)) << data;
  EXPECT_EQ(server.counters().restart_true, 1u);

  // certretry against the same faulty server: Restart=false only, the right certificate.
  server.add_certificate(dn_of(2), model::tpp_prior::failed);
  const outcome o =
      enroll(server, clock,
             options_for(2, tpp::reset_strategy::reset_on_detection, tpp::retrieve_mode::watch));
  EXPECT_EQ(o.kind, outcome_kind::issued);
  EXPECT_FALSE(model::tpp_server::is_old_certificate(o.certificate));
  EXPECT_EQ(server.counters().restart_true, 1u);
}

// =============================================================================================
// The replies the model learned: a request with WorkToDoTimeout (200 with CertificateData or 202
// busy: docs/sources.md#tpp-request-worktodo), rights errors, refused tokens, 503 outages.

TEST(TppServerModel, RequestWithWorkToDoTimeoutCarriesTheCertificateOrSaysBusy) {
  virtual_clock clock;
  model::tpp_server server{clock,
                           {.seed = 5, .latency = 0ms, .mean_issuance = 20s, .min_issuance = 20s}};
  const std::string body =
      R"({"PolicyDN":"\\VED\\Policy\\Sim","ObjectName":"host-1","WorkToDoTimeout":"30"})";
  auto r = server.send({"POST", tpp::request_path, {}, body});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().status, 200);
  EXPECT_NE(r.value().body.find("\"CertificateData\":\"CERT-"), std::string::npos)
      << r.value().body;
  const std::string quick =
      R"({"PolicyDN":"\\VED\\Policy\\Sim","ObjectName":"host-1","WorkToDoTimeout":"5"})";
  r = server.send({"POST", tpp::request_path, {}, quick});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().status, 202);
  EXPECT_NE(r.value().body.find("took longer than WorkToDoTimeout"), std::string::npos)
      << r.value().body;
  EXPECT_NE(r.value().body.find("\"CertificateDN\""), std::string::npos) << r.value().body;
  EXPECT_EQ(server.counters().certificate_on_request, 1u);
  EXPECT_EQ(server.counters().busy_request, 1u);
}

tpp::enroll_options with_request_watch(tpp::enroll_options o) {
  o.request_work_to_do_timeout = 30s;
  return o;
}

TEST(TppAgainstModel, CertificateOnTheRequestIsOneCall) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 11}};
  int one_call = 0, issued = 0;
  constexpr int n = 1000;
  for (int i = 0; i < n; ++i) {
    server.add_certificate(dn_of(i), model::tpp_prior::issued);
    const outcome o =
        enroll(server, clock,
               with_request_watch(options_for(i, tpp::reset_strategy::reset_on_detection,
                                              tpp::retrieve_mode::watch)));
    ASSERT_EQ(o.kind, outcome_kind::issued) << o.reason;
    ++issued;
    one_call += o.sends == 1;
  }
  // Exp(7 s): P(T <= 30 s) = 98.6 %.
  EXPECT_GT(one_call, n * 95 / 100) << one_call;
  EXPECT_EQ(server.counters().certificate_on_request, static_cast<std::uint64_t>(one_call));
}

// A CA slower than the 30 s hold: reset_step() (reset, request with WorkToDoTimeout) gets a 202
// and watches the DN until the certificate, with one reset.
TEST(TppAgainstModel, SlowIssuanceThroughResetStepIssues) {
  virtual_clock clock;
  model::tpp_server server{clock,
                           {.seed = 13,
                            .issuance = model::tpp_issuance::log_normal,
                            .median_issuance = 60s,
                            .issuance_sigma = 0.5}};
  int issued = 0, slow = 0;
  constexpr int n = 300;
  for (int i = 0; i < n; ++i) {
    server.add_certificate(dn_of(i), model::tpp_prior::failed);
    auto o = options_for(i, tpp::reset_strategy::query_only, tpp::retrieve_mode::watch);
    auto m = tpp::reset_step<tpp::stale_enrollment_detector>(
        o,
        backoff_policy<fixed_schedule, no_jitter>{schedules::vcert, no_jitter{},
                                                  limits{.max_wait = 1h}},
        splitmix64{static_cast<std::uint64_t>(i)});
    virtual_sleeper sleeper{clock};
    const time_point start = clock.now();
    const outcome out = run(m, server, clock, sleeper);
    EXPECT_EQ(out.kind, outcome_kind::issued) << out.reason;
    EXPECT_EQ(m.resets(), 1u);
    issued += out.kind == outcome_kind::issued;
    slow += clock.now() - start > 31s;
  }
  EXPECT_EQ(issued, n);
  EXPECT_GT(slow, n / 2);  // most took longer than the request's hold
  EXPECT_EQ(server.counters().reset, static_cast<std::uint64_t>(n));
  EXPECT_GT(server.counters().busy_request, 0u);
}

// An issuance longer than one run's deadline: the run ends still_pending naming the DN; a run
// resumed from it issues without a request or a reset, and TPP saw one enrollment only.
TEST(TppAgainstModel, ResumedRunAfterStillPendingIssuesWithoutAReset) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 17, .mean_issuance = 150s, .min_issuance = 150s}};
  server.add_certificate(dn_of(1), model::tpp_prior::issued);
  const policy_t one_minute{schedules::vcert, no_jitter{}, limits{.max_wait = 60s}};
  virtual_sleeper sleeper{clock};
  std::string pickup;
  for (int run_no = 0; run_no < 5; ++run_no) {
    auto o = options_for(1, tpp::reset_strategy::reset_before_request, tpp::retrieve_mode::watch);
    o.resume_dn = pickup;
    tpp::enroll_machine m{std::move(o), one_minute, splitmix64{1}};
    const outcome out = run(m, server, clock, sleeper);
    if (out.kind == outcome_kind::issued) break;
    ASSERT_EQ(out.kind, outcome_kind::still_pending) << out.reason;
    EXPECT_NE(out.reason.find(dn_of(1)), std::string::npos) << out.reason;
    pickup = m.pickup_dn();
    ASSERT_EQ(pickup, dn_of(1));
  }
  const auto info = server.inspect(dn_of(1));
  EXPECT_EQ(info.enrollments, 1u);
  EXPECT_EQ(info.requests, 1u);
  EXPECT_EQ(server.counters().reset, 1u);  // the first run's, before its request
  EXPECT_EQ(server.counters().issued, 1u);
}

// A 10-minute 503 burst in poll mode: each enrollment spends at most 10 calls on it (VCert's
// 2 s pace would spend ~300), and all issue once it is over.
TEST(TppAgainstModel, TenMinute503BurstCostsAtMostTenCallsPerEnrollment) {
  constexpr int n = 200;
  std::uint64_t worst = 0, total = 0;
  for (int i = 0; i < n; ++i) {
    virtual_clock clock;
    model::tpp_server server{clock, {.seed = 19, .outages = {{clock.now(), clock.now() + 10min}}}};
    server.add_certificate(dn_of(i), model::tpp_prior::issued);
    tpp::enroll_machine m{
        options_for(i, tpp::reset_strategy::reset_on_detection, tpp::retrieve_mode::poll),
        policy_t{schedules::vcert, no_jitter{}, limits{.max_wait = 30min}},
        splitmix64{static_cast<std::uint64_t>(i) + 1}};
    virtual_sleeper sleeper{clock};
    const outcome out = run(m, server, clock, sleeper);
    EXPECT_EQ(out.kind, outcome_kind::issued) << out.reason;
    worst = std::max(worst, server.counters().outage_503);
    total += server.counters().outage_503;
  }
  EXPECT_LE(worst, 10u);
  std::printf("503 burst: %.2f calls per enrollment during the burst, at most %llu\n",
              static_cast<double>(total) / n, static_cast<unsigned long long>(worst));
}

// A refused token is a rights error: the run stops for a person (docs/operations.md).
TEST(TppAgainstModel, RefusedTokenNeedsAPersonInTppsWords) {
  for (auto refusal :
       {model::tpp_token_refusal::expired_401, model::tpp_token_refusal::scope_403}) {
    virtual_clock clock;
    model::tpp_server server{clock, {.seed = 23, .token_refusal = refusal}};
    const outcome out =
        enroll(server, clock,
               options_for(1, tpp::reset_strategy::reset_on_detection, tpp::retrieve_mode::watch));
    EXPECT_EQ(out.kind, outcome_kind::needs_person);
    EXPECT_FALSE(out.action.empty());
    EXPECT_EQ(out.sends, 1u);
    const bool expired = refusal == model::tpp_token_refusal::expired_401;
    EXPECT_NE(out.reason.find(expired ? "invalid_token" : "insufficient_scope"), std::string::npos)
        << out.reason;
    EXPECT_NE(out.reason.find(expired ? "has expired" : "certificate:manage"), std::string::npos)
        << out.reason;
  }
}

TEST(TppAgainstModel, ResetWithoutRightsNeedsAPersonAtOnce) {
  virtual_clock clock;
  model::tpp_server server{clock, {.seed = 29}};
  server.add_certificate(dn_of(1), model::tpp_prior::failed);
  server.deny_reset(dn_of(1));
  const outcome out =
      enroll(server, clock,
             options_for(1, tpp::reset_strategy::reset_on_detection, tpp::retrieve_mode::watch));
  EXPECT_EQ(out.kind, outcome_kind::needs_person);
  EXPECT_EQ(out.sends, 3u);  // request, retrieve (detection), reset: no second request
  EXPECT_NE(out.reason.find("sufficient rights"), std::string::npos) << out.reason;
  EXPECT_EQ(server.counters().request, 1u);
  EXPECT_TRUE(server.inspect(dn_of(1)).stuck);
}

}  // namespace
