// Across runs with the library's own machines (docs/operations.md): every answer that needs a
// person ends needs_person with what the person must do, and the failure ledger then stops
// every later run before it sends anything until the caller clears it; a never-succeeding unit
// escalates across runs as the ledger's policy says; start jitter is seeded and spreads a fleet.
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/ledger/failure_ledger.hpp"
#include "certretry/ledger/ledger_json.hpp"
#include "certretry/ledger/start_jitter.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;

const time_point t0 = *parse_rfc3339("2026-11-30T00:00:00Z");

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// A unit's runs: each asks the ledger first; a refused run sends nothing.
struct unit_runs {
  failure_ledger ledger{"unit"};
  virtual_clock clock{t0};
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};

  // Runs `m` if the ledger allows it; the outcome (the gate's, when refused) and whether it ran.
  template <class M>
  std::pair<outcome, bool> attempt(M& m) {
    if (const gate_decision g = ledger.gate(clock.now()); !g.allowed())
      return {g.as_outcome(), false};
    outcome o = run(m, server, clock, sleeper);
    ledger.record(o, clock.now());
    return {std::move(o), true};
  }
};

// The ledger's promise for an answer that needs a person: the second run sends nothing and
// says needs_person with the same action; after clear() the third run goes out again.
template <class Make>
void expect_stops_until_cleared(unit_runs& u, Make make, std::string_view action_part) {
  auto first = make();
  const auto [o1, ran1] = u.attempt(first);
  ASSERT_TRUE(ran1);
  EXPECT_EQ(o1.kind, outcome_kind::needs_person) << o1.reason;
  EXPECT_TRUE(contains(o1.action, action_part)) << o1.action;
  const std::size_t sent = u.server.sent().size();
  EXPECT_GT(sent, 0u);
  // A restart in between: the ledger is saved and read back.
  std::string detail;
  auto restored = parse_ledger(to_json(u.ledger), detail);
  ASSERT_TRUE(restored) << detail;
  u.ledger = restored.value();
  u.clock.advance(std::chrono::hours{24 * 30});  // a month later: still stopped
  auto second = make();
  const auto [o2, ran2] = u.attempt(second);
  EXPECT_FALSE(ran2);
  EXPECT_EQ(o2.kind, outcome_kind::needs_person);
  EXPECT_EQ(o2.action, o1.action);
  EXPECT_EQ(u.server.sent().size(), sent) << "a refused run sent a request";
  u.ledger.clear();
  auto third = make();
  const auto [o3, ran3] = u.attempt(third);
  EXPECT_TRUE(ran3);
  EXPECT_GT(u.server.sent().size(), sent);
}

// --- TPP's rights errors ------------------------------------------------------------------------

tpp::enroll_options tpp_options() {
  tpp::enroll_options o;
  o.certificate_dn = R"(\VED\Policy\Test\foo.com)";
  o.request_body = R"({"PolicyDN":"\\VED\\Policy\\Test","PKCS10":"MIIBcsr"})";
  return o;
}

TEST(NeedsAPerson, TppRightsErrorsStopEveryLaterRunUntilCleared) {
  struct variant {
    std::string key;  // the call that is refused
    int status;
    std::string body;
    std::string_view action_part;
  };
  const std::string rights =
      R"({"Error":"Certificate \\VED\\Policy\\Test\\foo.com does not exist or you do not have sufficient rights to the object."})";
  const variant variants[] = {
      {"POST /vedsdk/certificates/retrieve", 401,
       R"({"error":"invalid_token","error_description":"The access token has expired"})",
       "The access token has expired"},
      {"POST /vedsdk/certificates/retrieve", 403,
       R"({"error":"insufficient_scope","error_description":"Grant rejected scope certificate:manage"})",
       "Grant rejected scope certificate:manage"},
      {"POST /vedsdk/certificates/request", 400, rights, "rights to the policy folder"},
      {"POST /vedsdk/certificates/request", 403, R"({"Error":"Access denied"})", "Access denied"},
  };
  for (const variant& v : variants) {
    SCOPED_TRACE(v.key + " " + std::to_string(v.status));
    unit_runs u;
    u.server.script(
        "POST /vedsdk/certificates/request",
        {scripted_reply::respond(200, R"({"CertificateDN":"\\VED\\Policy\\Test\\foo.com"})")});
    u.server.script(v.key, {scripted_reply::respond(v.status, v.body)});
    const auto make = [] {
      return tpp::enroll_machine{tpp_options(),
                                 backoff_policy{any_schedule{schedules::vcert},
                                                any_jitter{no_jitter{}}, limits{.max_wait = 600s}},
                                 splitmix64{1}};
    };
    expect_stops_until_cleared(u, make, v.action_part);
  }
}

TEST(NeedsAPerson, TppResetRefusedAfterADetectionNeedsSomeoneWithRights) {
  unit_runs u;
  u.server.script(
      "POST /vedsdk/certificates/request",
      {scripted_reply::respond(200, R"({"CertificateDN":"\\VED\\Policy\\Test\\foo.com"})")});
  u.server.script(
      "POST /vedsdk/certificates/retrieve",
      {scripted_reply::respond(
          500,
          R"({"Stage":500,"Status":"This certificate cannot be processed while it is in an error state. Fix any errors, and then click Retry."})")});
  u.server.script(
      "POST /vedsdk/certificates/reset",
      {scripted_reply::respond(
          400,
          R"({"Error":"Certificate \\VED\\Policy\\Test\\foo.com does not exist or you do not have sufficient rights to the object."})")});
  const auto make = [] {
    return tpp::enroll_machine{tpp_options(),
                               backoff_policy{any_schedule{schedules::vcert},
                                              any_jitter{no_jitter{}}, limits{.max_wait = 600s}},
                               splitmix64{1}};
  };
  expect_stops_until_cleared(u, make, "must reset it");
}

// --- a CA's "rejected" or "denied" order ---------------------------------------------------------

TEST(NeedsAPerson, EveryCaProfileSaysWhichStatusesAPersonRefused) {
  struct variant {
    async_ca ca;
    std::string_view status;
    bool person;
  };
  const variant variants[] = {
      {async_ca::digicert, "rejected", true},     {async_ca::digicert, "denied", true},
      {async_ca::digicert, "canceled", false},    {async_ca::digicert, "expired", false},
      {async_ca::digicert, "revoked", false},     {async_ca::sectigo, "Rejected", true},
      {async_ca::sectigo, "Declined", true},      {async_ca::sectigo, "Invalid", false},
      {async_ca::sectigo, "Not Enrolled", false}, {async_ca::entrust, "REJECTED", true},
      {async_ca::entrust, "DENIED", true},        {async_ca::entrust, "FAILED", false},
      {async_ca::globalsign, "rejected", true},   {async_ca::globalsign, "DENIED", true},
      {async_ca::globalsign, "REVOKED", false},   {async_ca::globalsign, "failed", false},
      {async_ca::generic, "rejected", true},      {async_ca::generic, "denied", true},
      {async_ca::generic, "failed", false},
  };
  for (const variant& v : variants) {
    SCOPED_TRACE(std::string(profile_of(v.ca).name) + " " + std::string(v.status));
    async_ca_triage t{async_ca_order{v.ca, "1234", "ca1"}};
    const std::string body = R"({"status":")" + std::string(v.status) + R"("})";
    const triage_result r = t.classify(response_view{200, {}, body});
    EXPECT_EQ(r.verdict, verdict::permanent);
    EXPECT_EQ(r.needs_person, v.person);
    if (v.person) {
      EXPECT_TRUE(contains(r.action, "order 1234")) << r.action;
      EXPECT_TRUE(contains(r.action, v.status)) << r.action;
      EXPECT_TRUE(contains(r.action, "new order")) << r.action;
      EXPECT_TRUE(contains(r.why, "needs a person")) << r.why;
    } else {
      EXPECT_TRUE(r.action.empty());
    }
  }
}

TEST(NeedsAPerson, ARejectedOrderStopsEveryLaterRunUntilCleared) {
  unit_runs u;
  u.server.script("GET /order/certificate/1234",
                  {scripted_reply::respond(200, R"({"status":"pending"})"),
                   scripted_reply::respond(200, R"({"status":"rejected"})")});
  const auto make = [] {
    return async_ca_poll_machine{async_ca_triage{async_ca_order{async_ca::digicert, "1234", {}}},
                                 backoff_policy{any_schedule{schedules::certctl},
                                                any_jitter{no_jitter{}}, limits{.max_wait = 600s}},
                                 splitmix64{1}};
  };
  expect_stops_until_cleared(u, make, "digicert order 1234 is 'rejected'");
}

// --- Let's Encrypt's pause ------------------------------------------------------------------------

TEST(NeedsAPerson, APausedAccountStopsEveryLaterRunUntilCleared) {
  unit_runs u;
  u.server.script("HEAD /acme/new-nonce",
                  {scripted_reply::respond(200, "", {{"Replay-Nonce", "n0"}})});
  u.server.script(
      "POST /acme/new-order",
      {scripted_reply::respond(
          429,
          R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"Your account is temporarily prevented from requesting certificates for example.com and possibly others. Please visit: https://portal.letsencrypt.org/sfe/v1/unpause?jwt=x.y.z","status":429})",
          {{"Replay-Nonce", "n1"}, {"Retry-After", "60"}})});
  const auto make = [] {
    return acme::new_order_machine{acme::new_order_options{}, acme::default_policy(),
                                   splitmix64{1}};
  };
  expect_stops_until_cleared(u, make, "https://portal.letsencrypt.org/sfe/v1/unpause");
}

// --- escalation across runs ------------------------------------------------------------------------

// An identifier that never validates, run by an hourly cron: the ledger lets runs out at 0,
// 1 min, 10 min and 100 min after each failure's end (as the next cron tick allows), then once
// a day, and stops for a person after the tenth: 10 attempts, never one more.
TEST(LedgerAcrossRuns, ANeverValidatingIdentifierEscalatesThenStops) {
  unit_runs u;
  u.server.script(
      "POST /acme/authz/1",
      {scripted_reply::respond(
          200,
          R"({"identifier":{"type":"dns","value":"example.com"},"status":"invalid","challenges":[{"type":"http-01","url":"/c/1","status":"invalid","token":"t","error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"404","status":403}}]})",
          {{"Replay-Nonce", "n2"}})});
  std::vector<time_point> attempts;
  for (time_point cron = t0; cron < t0 + std::chrono::hours{24 * 28}; cron += 1h) {
    if (u.clock.now() < cron) u.clock.advance(cron - u.clock.now());
    acme::poll_options p;
    p.url = "/acme/authz/1";
    p.kind = acme::resource_kind::authorization;
    p.nonce.initial = "n1";
    acme::resource_poll_machine m{std::move(p), acme::default_policy(), splitmix64{1}};
    const auto [o, ran] = u.attempt(m);
    if (!ran) continue;
    EXPECT_EQ(o.kind, outcome_kind::failed) << o.reason;
    attempts.push_back(cron);
  }
  ASSERT_EQ(attempts.size(), 10u);
  // 0 h, then the next ticks after 1 min, 10 min, 100 min: 1 h, 2 h, 4 h; then every 24 h.
  EXPECT_EQ(attempts[1] - attempts[0], 1h);
  EXPECT_EQ(attempts[2] - attempts[1], 1h);
  EXPECT_EQ(attempts[3] - attempts[2], 2h);
  for (std::size_t i = 4; i < attempts.size(); ++i) EXPECT_EQ(attempts[i] - attempts[i - 1], 24h);
  EXPECT_TRUE(u.ledger.needs_person());
  EXPECT_TRUE(contains(u.ledger.last_reason(), "10 consecutive failures"))
      << u.ledger.last_reason();
}

// --- start jitter ------------------------------------------------------------------------------------

TEST(StartJitterFleet, SeededAndSpreadOverThePeriodKeepsThePeakNearTheMean) {
  // One seed, one delay, whatever the platform's standard library: the same draws twice.
  splitmix64 a{42}, b{42};
  const start_jitter j = start_jitter::over(1h);
  EXPECT_EQ(j.max_delay, 1h);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(j.draw(a), j.draw(b));
  EXPECT_EQ(start_jitter::over(48h).max_delay, 24h);
  EXPECT_EQ(start_jitter::over(-1h).max_delay, 0h);
  // 100 000 clients started by cron at :00: no jitter puts them all in the first second; spread
  // over the hour the busiest second stays within 2x the mean (27.8 a second).
  std::vector<int> per_second(3600, 0);
  splitmix64 rng{1};
  for (int i = 0; i < 100000; ++i)
    ++per_second[static_cast<std::size_t>(
        std::chrono::floor<std::chrono::seconds>(j.draw(rng)).count())];
  const int peak = *std::max_element(per_second.begin(), per_second.end());
  EXPECT_LE(peak, 2 * 100000 / 3600);
  EXPECT_GT(peak, 0);
}

}  // namespace
