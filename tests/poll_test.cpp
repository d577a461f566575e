// poll_machine with async-CA triage (async_ca_poll_machine): driven by hand, event by event, and
// through run() on a virtual clock against a scripted server. The numbers are certctl's
// (docs/sources.md#certctl-asyncpoll, docs/sources.md#certctl-async-polling-doc): 5 s x3 capped
// at 5 min, 20 % jitter, a 10 min deadline.
#include "certretry/async_ca/poller.hpp"
#include "certretry/core/system.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/poll/machine.hpp"
#include "certretry/testing/scripted.hpp"

#include "support/event_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::model;
using namespace std::chrono_literals;
using time_point = certretry::time_point;
using duration = certretry::duration;

// An arbitrary wall-clock start (2023-11-14T22:13:20Z); every time below is relative to it.
const time_point t0{std::chrono::seconds{1'700'000'000}};

constexpr std::string_view status_target = "GET /orders/7";
constexpr std::string_view pem =
    "-----BEGIN CERTIFICATE-----\nMIIBpoll\n-----END CERTIFICATE-----\n";

std::string issued_body() {
  return R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----\nMIIBpoll\n-----END CERTIFICATE-----\n"})";
}

template <class S = any_schedule, class J = any_jitter>
using poller = poll_machine<async_ca_triage, S, J, splitmix64, capture_sink>;

async_ca_order generic_order() { return {async_ca::generic, "7", {}}; }

template <class S, class J>
poller<S, J> make_poller(std::vector<seen_event>& log, S s, J j, limits l = {.max_wait = 600s},
                         retry_after_policy ra = {}, std::uint64_t seed = 1,
                         async_ca_order order = generic_order()) {
  return poller<S, J>{async_ca_triage{std::move(order)}, backoff_policy<S, J>{s, j, l, ra},
                      splitmix64{seed}, capture_sink{&log}};
}

poller<> make_any_poller(std::vector<seen_event>& log, any_schedule s, any_jitter j,
                         limits l = {.max_wait = 600s}, retry_after_policy ra = {},
                         std::uint64_t seed = 1, async_ca_order order = generic_order()) {
  return make_poller<any_schedule, any_jitter>(log, s, j, l, ra, seed, std::move(order));
}

// Times are compared as milliseconds since t0 so that failures print readably.
std::vector<std::int64_t> times_of(const std::vector<seen_event>& log, event_kind k) {
  std::vector<std::int64_t> out;
  for (const auto& e : log)
    if (e.kind == k) out.push_back((e.at - t0).count());
  return out;
}

std::vector<std::int64_t> seconds_list(std::initializer_list<std::int64_t> s) {
  std::vector<std::int64_t> out;
  for (auto v : s) out.push_back(v * 1000);
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// A scripted world: virtual clock at t0, a sleeper on it, a server.
struct world {
  virtual_clock clock{t0};
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
};

template <class M>
outcome run_in(world& w, M& m) {
  return run(m, w.server, w.clock, w.sleeper);
}

// ---------------------------------------------------------------------------------------------
// Sustained 429 without jitter: certctl's failure mode "Upstream returns 429 forever"
// (docs/sources.md#certctl-async-polling-doc) and its code (docs/sources.md#certctl-asyncpoll):
// polls at 0, 5, 20, 65, 200, 500, 600 s = 7, then StillPending.

template <class M>
void expect_sustained_429(M& m, world& w, std::vector<seen_event>& log,
                          const std::vector<std::int64_t>& expected_sends) {
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(out.sends, expected_sends.size());
  EXPECT_FALSE(out.not_before.has_value());  // no server hint to report
  EXPECT_TRUE(out.certificate.empty());
  EXPECT_EQ(times_of(log, event_kind::send), expected_sends);
  EXPECT_EQ(w.server.calls(status_target), expected_sends.size());
  EXPECT_EQ(w.clock.now() - t0, 600s);  // the deadline, never beyond
}

TEST(PollSustained429, CertctlScheduleNoJitter) {
  std::vector<seen_event> log;
  world w;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  expect_sustained_429(m, w, log, seconds_list({0, 5, 20, 65, 200, 500, 600}));
  // The 6th wait (300 s from 500 s) is cut to the 100 s left.
  const auto waits = only(log, event_kind::wait);
  ASSERT_EQ(waits.size(), 6u);
  EXPECT_EQ(waits.back()->delay, 100s);
  EXPECT_EQ(waits.back()->wait_why, wait_reason::deadline_clamp);
  for (std::size_t i = 0; i + 1 < waits.size(); ++i)
    EXPECT_EQ(waits[i]->wait_why, wait_reason::schedule) << i;
}

TEST(PollSustained429, CertctlScheduleAnyNoJitter) {
  std::vector<seen_event> log;
  world w;
  auto m = make_any_poller(log, schedules::certctl, any_jitter{no_jitter{}});
  expect_sustained_429(m, w, log, seconds_list({0, 5, 20, 65, 200, 500, 600}));
}

TEST(PollSustained429, CertctlDocumentedScheduleNoJitter) {
  // The operator reference's 2 min fourth wait: 65 + 120 = 185, 185 + 300 = 485, then 115 s.
  std::vector<seen_event> log;
  world w;
  auto m = make_any_poller(log, schedules::certctl_documented, any_jitter{no_jitter{}});
  expect_sustained_429(m, w, log, seconds_list({0, 5, 20, 65, 185, 485, 600}));
}

TEST(PollSustained429, ByHandEveryAction) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const response r429{429, {}, {}};

  action a = m.start(t0);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(a));
  EXPECT_EQ(std::get<certretry::send>(a).request.method, "GET");
  EXPECT_EQ(std::get<certretry::send>(a).request.target, "/orders/7");
  EXPECT_EQ(m.state(), poll_state::awaiting_response);

  // Waits after each 429: the schedule, then the last cut to the deadline.
  const duration expected_waits[] = {5s, 15s, 45s, 135s, 300s, 100s};
  time_point now = t0;
  for (std::size_t i = 0; i < std::size(expected_waits); ++i) {
    a = m.on_response(now, r429.view());
    ASSERT_TRUE(std::holds_alternative<certretry::wait>(a)) << "after send " << i + 1;
    EXPECT_EQ(std::get<certretry::wait>(a).delay, expected_waits[i]) << i;
    EXPECT_EQ(std::get<certretry::wait>(a).why, i + 1 == std::size(expected_waits)
                                                    ? wait_reason::deadline_clamp
                                                    : wait_reason::schedule);
    EXPECT_EQ(m.state(), poll_state::waiting);
    now += std::get<certretry::wait>(a).delay;
    a = m.on_wait_elapsed(now);
    ASSERT_TRUE(std::holds_alternative<certretry::send>(a));
    EXPECT_EQ(std::get<certretry::send>(a).request.target, "/orders/7");
  }
  EXPECT_EQ(now - t0, 600s);
  a = m.on_response(now, r429.view());
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::still_pending);
  EXPECT_EQ(m.sends(), 7u);
  const outcome out = m.take_outcome();
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(out.sends, 7u);
  EXPECT_FALSE(out.reason.empty());
}

// ---------------------------------------------------------------------------------------------
// Sustained 429 with certctl's ±20 % jitter, over 1000 seeds: 6 to 8 polls (certctl's reference
// says "at most 7-8": docs/sources.md#certctl-async-polling-doc), never a send after the
// deadline, every wait within ±20 % of its base.

TEST(PollSustained429, ProportionalJitterOverThousandSeeds) {
  for (std::uint64_t seed = 0; seed < 1000; ++seed) {
    std::vector<seen_event> log;
    world w;
    w.server.script(std::string(status_target), {scripted_reply::respond(429)});
    auto m = make_any_poller(log, schedules::certctl, any_jitter{proportional_jitter{0.2}},
                             {.max_wait = 600s}, {}, seed);
    const outcome out = run_in(w, m);
    ASSERT_EQ(out.kind, outcome_kind::still_pending) << "seed " << seed;
    EXPECT_EQ(out.error, make_error_code(errc::deadline_exceeded)) << "seed " << seed;
    EXPECT_GE(out.sends, 6u) << "seed " << seed;
    EXPECT_LE(out.sends, 8u) << "seed " << seed;

    for (std::int64_t at : times_of(log, event_kind::send))
      EXPECT_LE(at, 600'000) << "seed " << seed;

    const auto waits = only(log, event_kind::wait);
    for (std::size_t i = 0; i < waits.size(); ++i) {
      const seen_event& wt = *waits[i];
      if (wt.wait_why == wait_reason::deadline_clamp) {
        // Only the last wait may be cut, and it ends exactly at the deadline.
        EXPECT_EQ(i + 1, waits.size()) << "seed " << seed;
        EXPECT_EQ(wt.at - t0 + wt.delay, 600s) << "seed " << seed;
        continue;
      }
      EXPECT_EQ(wt.wait_why, wait_reason::schedule) << "seed " << seed;
      const auto base =
          static_cast<double>(schedules::certctl.delay(static_cast<std::uint32_t>(i + 1)).count());
      const auto got = static_cast<double>(wt.delay.count());
      EXPECT_GE(got, base * 0.8 - 1.0) << "seed " << seed << " wait " << i + 1;
      EXPECT_LE(got, base * 1.2 + 1.0) << "seed " << seed << " wait " << i + 1;
    }
  }
}

TEST(PollDeterminism, SameSeedSameSendTimesDifferentSeedDifferent) {
  auto send_times = [](std::uint64_t seed) {
    std::vector<seen_event> log;
    world w;
    w.server.script(std::string(status_target), {scripted_reply::respond(429)});
    auto m = make_any_poller(log, schedules::certctl, any_jitter{proportional_jitter{0.2}},
                             {.max_wait = 600s}, {}, seed);
    (void)run_in(w, m);
    return times_of(log, event_kind::send);
  };
  const auto a = send_times(42);
  EXPECT_EQ(a, send_times(42));
  EXPECT_NE(a, send_times(43));
  EXPECT_NE(send_times(1), send_times(2));
}

// ---------------------------------------------------------------------------------------------
// Network errors (certctl's 8th row): transient, retried on the schedule.

struct transport_case {
  errc code;
  std::string_view name;  // what verdict events call it
};

class PollTransportError : public ::testing::TestWithParam<transport_case> {};

TEST_P(PollTransportError, IsTransientAndRetried) {
  const auto [code, name] = GetParam();
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::fail(make_error_code(code)),
                                               scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_EQ(out.sends, 2u);
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 5}));

  const auto verdicts = only(log, event_kind::verdict);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0]->status, 0);  // no HTTP status: the transport failed
  EXPECT_EQ(verdicts[0]->error, make_error_code(code));
  EXPECT_EQ(verdicts[0]->verdict, verdict::transient);
  EXPECT_EQ(verdicts[0]->why, name);
  EXPECT_EQ(verdicts[1]->verdict, verdict::done);
}

INSTANTIATE_TEST_SUITE_P(Poll, PollTransportError,
                         ::testing::Values(transport_case{errc::transport_timeout, "timeout"},
                                           transport_case{errc::connection_refused,
                                                          "connection_refused"},
                                           transport_case{errc::tls_failure, "tls"},
                                           transport_case{errc::connection_reset, "reset"}),
                         [](const auto& tp) { return std::string(tp.param.name); });

TEST(PollTransport, ForeignTransportErrorIsTransientToo) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::fail(std::make_error_code(std::errc::host_unreachable)),
                   scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.sends, 2u);
}

TEST(PollTransport, MixedFailuresRideTheScheduleUntilIssued) {
  // Four different transport errors, a 503 and a 429, then the certificate at the 600 s poll:
  // sends at 0, 5, 20, 65, 200, 500, 600 (the last wait cut to the deadline) and still issued.
  std::vector<seen_event> log;
  world w;
  w.server.script(
      std::string(status_target),
      {scripted_reply::fail(make_error_code(errc::transport_timeout)),
       scripted_reply::fail(make_error_code(errc::connection_refused)),
       scripted_reply::fail(make_error_code(errc::tls_failure)),
       scripted_reply::fail(make_error_code(errc::connection_reset)), scripted_reply::respond(503),
       scripted_reply::respond(429), scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_EQ(out.sends, 7u);
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 5, 20, 65, 200, 500, 600}));
}

// ---------------------------------------------------------------------------------------------
// Verdicts that end the run.

TEST(PollOutcome, PermanentFailsWithServerWords) {
  std::vector<seen_event> log;
  world w;
  w.server.script(
      std::string(status_target),
      {scripted_reply::respond(429),
       scripted_reply::respond(403, R"({"message":"order belongs to another account"})")});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::failed);
  EXPECT_EQ(out.error, make_error_code(errc::server_rejected));
  EXPECT_TRUE(contains(out.reason, "order belongs to another account")) << out.reason;
  EXPECT_EQ(out.sends, 2u);
  EXPECT_TRUE(out.certificate.empty());
}

// A person at the CA refused the order: no poll can change it, so the run ends needs_person with
// what the person must do (docs/operations.md, "Needs a person").
TEST(PollOutcome, RejectedStatusNeedsAPersonNamingTheStatus) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::respond(200, R"({"status":"pending"})"),
                   scripted_reply::respond(200, R"({"status":"denied"})")});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::needs_person);
  EXPECT_TRUE(contains(out.action, "refused")) << out.action;
  EXPECT_TRUE(contains(out.action, "new order")) << out.action;
  EXPECT_EQ(out.error, make_error_code(errc::server_rejected));
  EXPECT_TRUE(contains(out.reason, "denied")) << out.reason;
  EXPECT_EQ(out.sends, 2u);
}

TEST(PollOutcome, DoneIsIssuedWithTheCertificateBytes) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::respond(200, R"({"status":"pending"})"),
                   scripted_reply::respond(200, R"({"status":"processing"})"),
                   scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_FALSE(out.error);
  EXPECT_EQ(out.sends, 3u);
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 5, 20}));
}

TEST(PollOutcome, DigiCertDownloadFollowsAtOnce) {
  // issued + certificate id -> the download goes out in the same poll round, without a wait.
  std::vector<seen_event> log;
  world w;
  w.server.script("GET /order/certificate/40",
                  {scripted_reply::respond(200, R"({"status":"pending"})"),
                   scripted_reply::respond(200, R"({"status":"issued","certificate":{"id":99}})")});
  w.server.script("GET /certificate/99/download/format/pem_all",
                  {scripted_reply::respond(200, std::string(pem))});
  auto m = make_any_poller(log, schedules::certctl, any_jitter{no_jitter{}}, {.max_wait = 600s}, {},
                           1, async_ca_order{async_ca::digicert, "40", {}});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_EQ(out.sends, 3u);
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 5, 5}));
  EXPECT_EQ(w.server.calls("GET /certificate/99/download/format/pem_all"), 1u);
  EXPECT_FALSE(w.server.unmatched().has_value());
}

TEST(PollBorrowedTriage, TwoOrdersInARowThroughOneRebornTriage) {
  // A machine may borrow its triage (poll_machine<T&>): the caller keeps it and rebinds it for
  // the next order, and each run reads like one with a triage of its own.
  std::vector<seen_event> log;
  world w;
  w.server.script("GET /order/certificate/40",
                  {scripted_reply::respond(200, R"({"status":"issued","certificate":{"id":99}})")});
  w.server.script("GET /certificate/99/download/format/pem_all",
                  {scripted_reply::respond(200, std::string(pem))});
  w.server.script(
      "GET /order/certificate/41",
      {scripted_reply::respond(429), scripted_reply::respond(200, R"({"status":"pending"})"),
       scripted_reply::respond(200, R"({"status":"issued","certificate":{"id":100}})")});
  w.server.script("GET /certificate/100/download/format/pem_all",
                  {scripted_reply::respond(200, std::string(pem))});
  using borrowing =
      poll_machine<async_ca_triage&, any_schedule, any_jitter, splitmix64, capture_sink>;
  async_ca_triage kept{async_ca_order{async_ca::digicert, "40", {}}};
  const backoff_policy<any_schedule, any_jitter> policy{
      schedules::certctl, no_jitter{}, {.max_wait = 600s}};
  {
    borrowing first{kept, policy, splitmix64{1}, capture_sink{&log}};
    const outcome out = run_in(w, first);
    EXPECT_EQ(out.kind, outcome_kind::issued);
    EXPECT_EQ(out.sends, 2u);
    EXPECT_TRUE(kept.collecting());  // the machine worked on the caller's triage
  }
  kept.rebind({async_ca::digicert, "41", {}});
  borrowing second{kept, policy, splitmix64{1}, capture_sink{&log}};
  const outcome out = run_in(w, second);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_EQ(out.sends, 4u);
  EXPECT_EQ(w.server.calls("GET /order/certificate/41"), 3u);
  EXPECT_EQ(w.server.calls("GET /certificate/100/download/format/pem_all"), 1u);
  EXPECT_FALSE(w.server.unmatched().has_value());
}

TEST(PollOutcome, SectigoCollectNotReadyRidesTheSchedule) {
  // certctl's reference (docs/sources.md#certctl-async-polling-doc): collectNotReady "rides the
  // same backoff schedule".
  std::vector<seen_event> log;
  world w;
  w.server.script("GET /ssl/v1/11", {scripted_reply::respond(200, R"({"status":"Issued"})")});
  w.server.script("GET /ssl/v1/collect/11/pem",
                  {scripted_reply::respond(
                       400, R"({"code":-183,"description":"Certificate is not collectable"})"),
                   scripted_reply::respond(200, std::string(pem))});
  auto m = make_any_poller(log, schedules::certctl, any_jitter{no_jitter{}}, {.max_wait = 600s}, {},
                           1, async_ca_order{async_ca::sectigo, "11", {}});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 0, 5}));
  EXPECT_EQ(w.server.calls("GET /ssl/v1/collect/11/pem"), 2u);
}

// ---------------------------------------------------------------------------------------------
// Retry-After (RFC 9110 §10.2.3). certctl never reads it
// (docs/sources.md#certctl-asyncpoll); this library does.

std::vector<header_field> retry_after(std::string v) { return {{"Retry-After", std::move(v)}}; }

TEST(PollRetryAfter, LongerHintIsWaited) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429, "", retry_after("30")),
                                               scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  const auto waits = only(log, event_kind::wait);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0]->delay, 30s);
  EXPECT_EQ(waits[0]->wait_why, wait_reason::retry_after);
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 30}));
}

TEST(PollRetryAfter, ByHandLongerHintIsTheWaitAction) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const response r{503, retry_after("120"), {}};
  const action a = m.on_response(t0, r.view());
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_EQ(std::get<certretry::wait>(a).delay, 120s);
  EXPECT_EQ(std::get<certretry::wait>(a).why, wait_reason::retry_after);
}

TEST(PollRetryAfter, ShorterHintLeavesTheSchedule) {
  // The default mode waits max(hint, schedule): a 2 s hint does not shorten the 5 s wait.
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const response r{429, retry_after("2"), {}};
  const action a = m.on_response(t0, r.view());
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_EQ(std::get<certretry::wait>(a).delay, 5s);
  EXPECT_EQ(std::get<certretry::wait>(a).why, wait_reason::schedule);
}

TEST(PollRetryAfter, HintBeyondDeadlineEndsWithNotBefore) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429, "", retry_after("900")),
                                               scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(out.sends, 1u);  // no early poll at the deadline
  ASSERT_TRUE(out.not_before.has_value());
  EXPECT_EQ(*out.not_before, t0 + 900s);
  EXPECT_TRUE(only(log, event_kind::wait).empty());
  EXPECT_EQ(w.clock.now(), t0);
}

TEST(PollRetryAfter, HintBeyondDeadlineMidRun) {
  // At 20 s, 580 s are left; the server asks for 1000 s: stop, come back at 20 + 1000 s.
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const response plain{429, {}, {}};
  const response far{429, retry_after("1000"), {}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(m.on_response(t0, plain.view())));
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.on_wait_elapsed(t0 + 5s)));
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(m.on_response(t0 + 5s, plain.view())));
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.on_wait_elapsed(t0 + 20s)));
  const action a = m.on_response(t0 + 20s, far.view());
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::still_pending);
  const outcome out = m.take_outcome();
  EXPECT_EQ(out.sends, 3u);
  ASSERT_TRUE(out.not_before.has_value());
  EXPECT_EQ(*out.not_before, t0 + 20s + 1000s);
}

struct invalid_hint {
  std::string label;
  std::string value;
  errc expected;
};

class PollRetryAfterInvalid : public ::testing::TestWithParam<invalid_hint> {};

TEST_P(PollRetryAfterInvalid, IsReportedAndTheScheduleIsUsed) {
  const invalid_hint& h = GetParam();
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::respond(429, "", retry_after(h.value)),
                   scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);

  const auto invalid = only(log, event_kind::retry_after_invalid);
  ASSERT_EQ(invalid.size(), 1u);
  EXPECT_EQ(invalid[0]->error, make_error_code(h.expected));
  const auto waits = only(log, event_kind::wait);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0]->delay, 5s);
  EXPECT_EQ(waits[0]->wait_why, wait_reason::schedule);
  // Reported between the verdict on that response and the wait it led to.
  std::vector<event_kind> kinds;
  for (const auto& e : log) kinds.push_back(e.kind);
  const std::vector<event_kind> expected{
      event_kind::send,  event_kind::verdict, event_kind::retry_after_invalid,
      event_kind::wait,  event_kind::send,    event_kind::verdict,
      event_kind::finish};
  EXPECT_EQ(kinds, expected);
}

INSTANTIATE_TEST_SUITE_P(
    Poll, PollRetryAfterInvalid,
    ::testing::Values(invalid_hint{"words", "soon", errc::retry_after_malformed},
                      invalid_hint{"unit", "30s", errc::retry_after_malformed},
                      invalid_hint{"negative", "-30", errc::retry_after_negative},
                      invalid_hint{"fraction", "1.5", errc::retry_after_fractional},
                      invalid_hint{"empty", "", errc::retry_after_empty},
                      invalid_hint{"huge", "99999999999", errc::retry_after_out_of_range}),
    [](const auto& tp) { return tp.param.label; });

TEST(PollRetryAfter, IgnoreModeIgnoresTheHint) {
  // certctl's behaviour, as a named option: the schedule alone decides.
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429, "", retry_after("30")),
                                               scripted_reply::respond(429, "", retry_after("900")),
                                               scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{}, {.max_wait = 600s},
                       retry_after_policy{.mode = retry_after_mode::ignore});
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.sends, 3u);
  EXPECT_FALSE(out.not_before.has_value());
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 5, 20}));
  for (const auto* wt : only(log, event_kind::wait)) EXPECT_EQ(wt->wait_why, wait_reason::schedule);
}

// ---------------------------------------------------------------------------------------------
// The event sink sees what the machine did, in order.

TEST(PollEvents, SendVerdictWaitFinishInOrder) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::respond(429), scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run_in(w, m);
  ASSERT_EQ(out.kind, outcome_kind::issued);

  ASSERT_EQ(log.size(), 6u);
  EXPECT_EQ(log[0].kind, event_kind::send);
  EXPECT_EQ(log[0].request, status_target);
  EXPECT_EQ(log[0].attempt, 1u);
  EXPECT_EQ(log[0].at, t0);

  EXPECT_EQ(log[1].kind, event_kind::verdict);
  EXPECT_EQ(log[1].status, 429);
  EXPECT_EQ(log[1].verdict, verdict::transient);
  EXPECT_FALSE(log[1].why.empty());

  EXPECT_EQ(log[2].kind, event_kind::wait);
  EXPECT_EQ(log[2].delay, 5s);
  EXPECT_EQ(log[2].wait_why, wait_reason::schedule);

  EXPECT_EQ(log[3].kind, event_kind::send);
  EXPECT_EQ(log[3].attempt, 2u);
  EXPECT_EQ(log[3].at, t0 + 5s);

  EXPECT_EQ(log[4].kind, event_kind::verdict);
  EXPECT_EQ(log[4].status, 200);
  EXPECT_EQ(log[4].verdict, verdict::done);

  EXPECT_EQ(log[5].kind, event_kind::finish);
  EXPECT_EQ(log[5].outcome, outcome_kind::issued);
  EXPECT_EQ(log[5].at, t0 + 5s);
  EXPECT_FALSE(log[5].error);
}

TEST(PollEvents, FinishReportsStillPendingWithItsError) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  (void)run_in(w, m);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().kind, event_kind::finish);
  EXPECT_EQ(log.back().outcome, outcome_kind::still_pending);
  EXPECT_EQ(log.back().error, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(log.back().at, t0 + 600s);
  EXPECT_EQ(only(log, event_kind::finish).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Cancellation: nothing more is sent, and a response that arrives after the caller gave up is
// not acted on (never retry what the caller abandoned: docs/sources.md#globalsign-2020-10-28).

struct stop_after_sends {
  const scripted_transport* server;
  std::size_t n;
  bool stop_requested() const noexcept { return server->sent().size() >= n; }
};
static_assert(cancellation<stop_after_sends>);

class PollCancelAfterSends : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(PollCancelAfterSends, EndsCancelledWithExactlyThatManySends) {
  const std::uint32_t n = GetParam();
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, w.clock, w.sleeper, stop_after_sends{&w.server, n});
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(out.error, make_error_code(errc::cancelled));
  EXPECT_EQ(out.sends, n);
  EXPECT_EQ(w.server.sent().size(), n);
  // The n-th response was never triaged.
  EXPECT_EQ(only(log, event_kind::verdict).size(), n - 1);
}

INSTANTIATE_TEST_SUITE_P(Poll, PollCancelAfterSends, ::testing::Values(1u, 2u, 3u, 5u, 7u));

TEST(PollCancel, ResponseAfterCancellationIsNotActedOn) {
  // The second response carries the certificate, but the caller gave up while it was in flight.
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::respond(429), scripted_reply::respond(200, issued_body())});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, w.clock, w.sleeper, stop_after_sends{&w.server, 2});
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_TRUE(out.certificate.empty());
  EXPECT_EQ(out.sends, 2u);
  for (const auto* v : only(log, event_kind::verdict)) EXPECT_NE(v->verdict, verdict::done);
}

TEST(PollCancel, CancelledBeforeStartSendsNothing) {
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, w.clock, w.sleeper, stop_after_sends{&w.server, 0});
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_TRUE(w.server.sent().empty());
  // outcome.sends counts requests sent: none went out.
  EXPECT_EQ(out.sends, 0u);
}

// Stops once the virtual clock reaches a given time: the caller gives up during a wait.
struct stop_at_time {
  const virtual_clock* clock;
  time_point at;
  bool stop_requested() const noexcept { return clock->now() >= at; }
};

TEST(PollCancel, CancelledDuringAWaitCountsOnlyWhatWasSent) {
  // Sends at 0 and 5 s; the caller gives up at 10 s, during the 15 s wait. The request the
  // machine would have sent at 20 s never reaches the server, so it must not be counted.
  std::vector<seen_event> log;
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, w.clock, w.sleeper, stop_at_time{&w.clock, t0 + 10s});
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(w.server.sent().size(), 2u);
  EXPECT_EQ(out.sends, 2u);
}

TEST(PollCancel, CancelMidWaitFinishes) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const response r429{429, {}, {}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(m.on_response(t0, r429.view())));
  const action a = m.cancel(t0 + 2s);
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::cancelled);
  EXPECT_EQ(m.state(), poll_state::finished);

  // The wait ending afterwards sends nothing.
  const std::size_t sends_before = only(log, event_kind::send).size();
  const action after = m.on_wait_elapsed(t0 + 5s);
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(after));
  EXPECT_EQ(std::get<certretry::finish>(after).kind, outcome_kind::cancelled);
  EXPECT_EQ(only(log, event_kind::send).size(), sends_before);

  const outcome out = m.take_outcome();
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(out.error, make_error_code(errc::cancelled));
  EXPECT_EQ(out.sends, 1u);
}

// ---------------------------------------------------------------------------------------------
// Misuse: events out of order end the run as failed instead of crashing; a finished machine
// keeps answering finish.

TEST(PollMisuse, ResponseBeforeStart) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const response r{200, {}, issued_body()};
  const action a = m.on_response(t0, r.view());
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::failed);
  // The machine never sent, so the response must not count as the certificate.
  EXPECT_TRUE(only(log, event_kind::send).empty());
  const outcome out = m.take_outcome();
  EXPECT_EQ(out.kind, outcome_kind::failed);
  EXPECT_TRUE(out.certificate.empty());
  EXPECT_EQ(out.sends, 0u);
  EXPECT_TRUE(out.error);
}

TEST(PollMisuse, WaitElapsedWhileAwaitingResponse) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const action a = m.on_wait_elapsed(t0 + 1s);
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::failed);
  EXPECT_EQ(only(log, event_kind::send).size(), 1u);  // no second request
}

TEST(PollMisuse, TransportErrorWhileWaiting) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const response r429{429, {}, {}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(m.on_response(t0, r429.view())));
  const action a = m.on_transport_error(t0 + 1s, make_error_code(errc::transport_timeout));
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::failed);
}

TEST(PollMisuse, StartTwice) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const action a = m.start(t0);
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::failed);
  EXPECT_EQ(only(log, event_kind::send).size(), 1u);
}

TEST(PollMisuse, FinishedMachineKeepsAnsweringFinish) {
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const response ok{200, {}, issued_body()};
  const response r429{429, {}, {}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const action done = m.on_response(t0, ok.view());
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(done));
  ASSERT_EQ(std::get<certretry::finish>(done).kind, outcome_kind::issued);
  const std::size_t events_before = log.size();

  for (const action& a : {m.start(t0 + 1s), m.on_response(t0 + 1s, r429.view()),
                          m.on_transport_error(t0 + 1s, make_error_code(errc::connection_reset)),
                          m.on_wait_elapsed(t0 + 1s), m.cancel(t0 + 1s)}) {
    ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
    EXPECT_EQ(std::get<certretry::finish>(a).kind,
              outcome_kind::issued);  // the first ending stands
  }
  EXPECT_EQ(log.size(), events_before);  // nothing more happened
  EXPECT_EQ(m.state(), poll_state::finished);
  const outcome out = m.take_outcome();
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.certificate, pem);
  EXPECT_EQ(out.sends, 1u);
}

// ---------------------------------------------------------------------------------------------
// poll_now is honoured at most max_immediate_polls times in a row: a triage that always says
// "poll now" cannot make a tight loop.

struct always_poll_now {
  std::string target = "/stage";
  std::uint32_t classified = 0;
  request_view next_request() const noexcept { return {"GET", target}; }
  triage_result classify(const response_view&) {
    ++classified;
    return {verdict::pending, "moved to the next stage", {}, true};
  }
  void reset() {}
};
static_assert(poll_triage<always_poll_now>);

using eager_poller =
    poll_machine<always_poll_now, geometric_schedule, no_jitter, splitmix64, capture_sink>;

eager_poller make_eager(std::vector<seen_event>& log) {
  return eager_poller{always_poll_now{},
                      backoff_policy<geometric_schedule, no_jitter>{
                          schedules::certctl, no_jitter{}, {.max_wait = 600s}},
                      splitmix64{1}, capture_sink{&log}};
}

TEST(PollNow, HonouredAtMostMaxImmediatePollsInARow) {
  static_assert(eager_poller::max_immediate_polls >= 1);
  std::vector<seen_event> log;
  auto m = make_eager(log);
  const response ok{200, {}, {}};
  time_point now = t0;
  action a = m.start(now);
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(std::holds_alternative<certretry::send>(a)) << "round " << round;
    std::uint32_t immediate = 0;
    for (;;) {
      a = m.on_response(now, ok.view());
      if (!std::holds_alternative<certretry::send>(a)) break;
      ++immediate;
      ASSERT_LE(immediate, eager_poller::max_immediate_polls) << "round " << round;
    }
    // The skip is honoured (up to the limit), then the machine waits a real delay.
    EXPECT_EQ(immediate, eager_poller::max_immediate_polls) << "round " << round;
    ASSERT_TRUE(std::holds_alternative<certretry::wait>(a)) << "round " << round;
    EXPECT_GE(std::get<certretry::wait>(a).delay, 1s);
    now += std::get<certretry::wait>(a).delay;
    a = m.on_wait_elapsed(now);
  }
}

TEST(PollNow, RunStaysBoundedByTheDeadline) {
  // Seven poll rounds fit in 600 s on certctl's schedule; each may add max_immediate_polls sends,
  // except the last, at the deadline itself: no follow-up goes out once the deadline is reached.
  std::vector<seen_event> log;
  world w;
  w.server.script("GET /stage", {scripted_reply::respond(200)});
  auto m = make_eager(log);
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.sends, 6u * (1 + eager_poller::max_immediate_polls) + 1u);
  EXPECT_EQ(w.clock.now() - t0, 600s);
}

// ---------------------------------------------------------------------------------------------
// Clocks: run() measures elapsed time on a monotonic clock; the wall clock judges HTTP-dates
// (docs/async-polling.md#clocks).

// A wall clock that steps by `step` once the monotonic clock passes `step_at`; monotonic() is
// the virtual clock the sleeper advances.
struct stepping_clock {
  virtual_clock* mono;
  time_point step_at;
  duration step;
  time_point now() const noexcept {
    const time_point t = mono->now();
    return t >= step_at ? t + step : t;
  }
  duration monotonic() const noexcept { return mono->now().time_since_epoch(); }
};

// The same wall clock without a monotonic reading.
struct wall_only_clock {
  virtual_clock* mono;
  time_point step_at;
  duration step;
  time_point now() const noexcept {
    const time_point t = mono->now();
    return t >= step_at ? t + step : t;
  }
};

std::string imf_fixdate(time_point t) {
  using namespace std::chrono;
  static constexpr const char* day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = floor<std::chrono::days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %d %02ld:%02ld:%02lld GMT",
                day_names[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

TEST(Clocks, WallClockSteppedBackAnHourDoesNotStretchTheDeadline) {
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  stepping_clock clock{&w.clock, t0 + 100s, -1h};
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, clock, w.sleeper);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.sends, 7u);             // 0, 5, 20, 65, 200, 500, 600 s, as without a step
  EXPECT_EQ(w.clock.now() - t0, 600s);  // not 4200 s
}

TEST(Clocks, WallClockSteppedForwardDoesNotCutTheDeadline) {
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  stepping_clock clock{&w.clock, t0 + 100s, 1h};
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, clock, w.sleeper);
  EXPECT_EQ(out.sends, 7u);
  EXPECT_EQ(w.clock.now() - t0, 600s);  // not ended at the step
}

TEST(Clocks, WithoutAMonotonicReadingTheStepStretchesTheRun) {
  // What a clock without monotonic() gets (and what every run got before): the time given
  // never runs backwards, but an hour of real waiting passes unseen.
  world w;
  w.server.script(std::string(status_target), {scripted_reply::respond(429)});
  wall_only_clock clock{&w.clock, t0 + 100s, -1h};
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, clock, w.sleeper);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_GT(w.clock.now() - t0, 3600s);
  // The machine was never given a time earlier than one it had seen.
  const auto sends = times_of(log, event_kind::send);
  EXPECT_TRUE(std::is_sorted(sends.begin(), sends.end()));
}

TEST(Clocks, HttpDatesAreJudgedAgainstTheWallClock) {
  // The wall clock steps back an hour after the first poll; the server, whose clock agrees with
  // the stepped wall clock, asks for 120 s in an HTTP-date.
  world w;
  const time_point wall_at_second_poll = t0 + 5s - 1h;
  w.server.script(
      std::string(status_target),
      {scripted_reply::respond(200, R"({"status":"pending"})"),
       scripted_reply::respond(503, "", {{"Retry-After", imf_fixdate(wall_at_second_poll + 120s)}}),
       scripted_reply::respond(200, issued_body())});
  stepping_clock clock{&w.clock, t0 + 1s, -1h};
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, clock, w.sleeper);
  EXPECT_EQ(out.kind, outcome_kind::issued) << out.reason;
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 5, 125}));
  EXPECT_EQ(times_of(log, event_kind::retry_after_invalid).size(), 0u);
}

TEST(Clocks, StillPendingNotBeforeIsInWallTime) {
  world w;
  w.server.script(std::string(status_target),
                  {scripted_reply::respond(200, R"({"status":"pending"})"),
                   scripted_reply::respond(429, "", {{"Retry-After", "3600"}})});
  stepping_clock clock{&w.clock, t0 + 1s, -1h};
  std::vector<seen_event> log;
  auto m = make_poller(log, schedules::certctl, no_jitter{});
  const outcome out = run(m, w.server, clock, w.sleeper);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  ASSERT_TRUE(out.not_before);
  // Asked at wall time t0 + 5 s - 1 h to come back 3600 s later.
  EXPECT_EQ(*out.not_before, t0 + 5s);
}

TEST(Clocks, SystemClockHasBothReadings) {
  static_assert(detail::monotonic_clock<system_clock>);
  static_assert(!detail::monotonic_clock<virtual_clock>);
  const system_clock c;
  const duration a = c.monotonic();
  EXPECT_LE(a, c.monotonic());
  EXPECT_GT(c.now().time_since_epoch(), duration::zero());
}

// ---------------------------------------------------------------------------------------------
// Sectigo's collect interval through run().

TEST(SectigoCollectInterval, WaitsTheIntervalBetweenCollects) {
  world w;
  w.server.script("GET /ssl/v1/9", {scripted_reply::respond(200, R"({"status":"Issued"})")});
  w.server.script("GET /ssl/v1/collect/9/pem", {scripted_reply::respond(400, R"({"code":-183})"),
                                                scripted_reply::respond(400, R"({"code":-183})"),
                                                scripted_reply::respond(200, std::string(pem))});
  std::vector<seen_event> log;
  poller<geometric_schedule, no_jitter> m{
      async_ca_triage{{async_ca::sectigo, "9", {}},
                      async_ca_triage_options{.collect_interval = sectigo_collect_guidance}},
      backoff_policy<geometric_schedule, no_jitter>{schedules::certctl, no_jitter{},
                                                    limits{.max_wait = 24h}},
      splitmix64{1}, capture_sink{&log}};
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::issued) << out.reason;
  EXPECT_EQ(times_of(log, event_kind::send), seconds_list({0, 0, 3 * 3600, 6 * 3600}));
}

TEST(SectigoCollectInterval, PastTheDeadlineEndsNowWithNotBefore) {
  world w;
  w.server.script("GET /ssl/v1/9", {scripted_reply::respond(200, R"({"status":"Issued"})")});
  w.server.script("GET /ssl/v1/collect/9/pem", {scripted_reply::respond(400, R"({"code":-183})")});
  std::vector<seen_event> log;
  poller<geometric_schedule, no_jitter> m{
      async_ca_triage{{async_ca::sectigo, "9", {}},
                      async_ca_triage_options{.collect_interval = sectigo_collect_guidance}},
      backoff_policy<geometric_schedule, no_jitter>{schedules::certctl, no_jitter{},
                                                    limits{.max_wait = 600s}},
      splitmix64{1}, capture_sink{&log}};
  const outcome out = run_in(w, m);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.sends, 2u);
  ASSERT_TRUE(out.not_before);
  EXPECT_EQ(*out.not_before, t0 + 3h);
  EXPECT_TRUE(contains(out.reason, "code -183")) << out.reason;
}

}  // namespace
