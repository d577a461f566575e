// The ACME machines against the server model (testing/acme/server.hpp), which answers in each
// server's own style (docs/sources.md#boulder, docs/sources.md#pebble): the `replaces` fallback
// for every rejection style, no fallback under nonce, rate-limit and outage faults, and ARI
// against renewalInfo with Boulder's 6 h ±20 % Retry-After and injected errors. Pebble 2.4 has
// no ARI, so this and the replay scenarios are where ARI meets a server.
#include "certretry/acme/ari.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/acme/server.hpp"
#include "certretry/testing/scripted.hpp"

#include "support/event_log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::model;
using namespace std::chrono_literals;
using time_point = certretry::time_point;
using duration = certretry::duration;
using model::acme_server;

// RFC 9773's example CertID; its serial is 0x0087654321.
const std::string cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

model::acme_certificate certificate(time_point start, time_point end) {
  return {cert_id, {"example.com"}, start, end, ""};
}

acme::new_order_options renewal() {
  acme::new_order_options o;
  o.replaces = cert_id;
  o.renewal_info_advertised = true;
  return o;
}

struct world {
  virtual_clock clock{time_point{std::chrono::seconds{1'735'689'600}}};  // 2025-01-01
  acme_server server;
  std::vector<seen_event> log;
  explicit world(model::acme_server_options o = {}) : server(clock, std::move(o)) {}

  template <class M>
  outcome run_machine(M& m) {
    virtual_sleeper sleeper{clock};
    return run(m, server, clock, sleeper);
  }
};

class ReplacesStyle : public ::testing::TestWithParam<model::acme_replaces_style> {};

TEST_P(ReplacesStyle, AlreadyReplacedFallsBackOnceAndTheOrderIsCreated) {
  world w{{.replaces_style = GetParam()}};
  w.server.add_certificate(certificate(w.clock.now(), w.clock.now() + 24h));
  w.server.mark_replaced(cert_id);
  acme::new_order_machine m{renewal(), acme::default_policy(), splitmix64{1}, capture_sink{&w.log}};
  const outcome o = w.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::completed) << o.reason;
  EXPECT_TRUE(m.fell_back());
  EXPECT_EQ(only(w.log, event_kind::fallback).size(), 1u);
  EXPECT_EQ(w.server.counters().replaces_rejected, 1u);
  EXPECT_EQ(w.server.counters().new_order, 2u);
  EXPECT_EQ(w.server.inspect_order(1).replaces, "");  // created without the claim
}

INSTANTIATE_TEST_SUITE_P(Styles, ReplacesStyle,
                         ::testing::Values(model::acme_replaces_style::rfc9773,
                                           model::acme_replaces_style::boulder_conflict,
                                           model::acme_replaces_style::pebble));

TEST(AgainstModel, UnknownSerialIsBouldersMalformedAndFallsBack) {
  world w;  // no certificate known: Boulder's 404 malformed "Could not validate ARI ..."
  acme::new_order_machine m{renewal(), acme::default_policy(), splitmix64{1}, capture_sink{&w.log}};
  const outcome o = w.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::completed) << o.reason;
  const auto fb = only(w.log, event_kind::fallback);
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_NE(fb[0]->why.find("Could not validate ARI 'replaces' field"), std::string::npos)
      << fb[0]->why;
}

TEST(AgainstModel, IdentifierMismatchFallsBack) {
  world w;
  w.server.add_certificate({cert_id, {"other.example"}, w.clock.now(), w.clock.now() + 24h, ""});
  acme::new_order_machine m{renewal(), acme::default_policy(), splitmix64{1}, capture_sink{&w.log}};
  EXPECT_EQ(w.run_machine(m).kind, outcome_kind::completed);
  EXPECT_TRUE(m.fell_back());
}

TEST(AgainstModel, FaultsNeverDropReplaces) {
  // 200 renewals through badNonce (30 %), rate limits (5 %) and 503s (10 %): every order is
  // created with its `replaces`, none falls back.
  int created = 0, fallbacks = 0, bad_nonces = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    world w{{.seed = seed,
             .bad_nonce = 0.3,
             .rate_limited = 0.05,
             .unavailable = 0.1,
             .rate_limit_retry_after = 60s}};
    w.server.add_certificate(certificate(w.clock.now(), w.clock.now() + 24h));
    auto opts = renewal();
    opts.nonce.max_bad_nonce_retries = 10;
    acme::new_order_machine m{opts, acme::default_policy(30min), splitmix64{seed},
                              capture_sink{&w.log}};
    const outcome o = w.run_machine(m);
    ASSERT_EQ(o.kind, outcome_kind::completed) << "seed " << seed << ": " << o.reason;
    ++created;
    fallbacks += m.fell_back() ? 1 : 0;
    bad_nonces += static_cast<int>(m.bad_nonces());
    EXPECT_EQ(w.server.inspect_order(1).replaces, cert_id) << "seed " << seed;
    EXPECT_EQ(w.server.counters().early_order_polls, 0u);
  }
  EXPECT_EQ(created, 200);
  EXPECT_EQ(fallbacks, 0);
  EXPECT_GT(bad_nonces, 40);  // the faults really happened
}

// --- ARI -----------------------------------------------------------------------------------

acme::ari_options ari_for(time_point not_after) {
  acme::ari_options o;
  o.cert_id = cert_id;
  o.not_after = not_after;
  return o;
}

TEST(AgainstModel, AriPollsAtTheServersPaceAndRenewsInTheWindow) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    world w{{.seed = seed}};
    const time_point start = w.clock.now() + 24h * 60, end = start + 48h;
    w.server.add_certificate(certificate(start, end));
    acme::ari_machine m{ari_for(w.clock.now() + 24h * 90), acme::ari_error_policy(),
                        splitmix64{seed}, capture_sink{&w.log}};
    const outcome o = w.run_machine(m);
    ASSERT_EQ(o.kind, outcome_kind::renew_at);
    ASSERT_TRUE(o.not_before.has_value());
    EXPECT_GE(*o.not_before, start);
    EXPECT_LT(*o.not_before, end);
    const auto info = w.server.inspect_certificate(cert_id);
    EXPECT_EQ(info.early_gets, 0u) << "seed " << seed;
    // About one GET per 6 h (±20 %) over the 60-62 days before the renewal time.
    EXPECT_GE(info.renewal_info_gets, 60u * 4 * 5 / 6 - 1) << "seed " << seed;
    EXPECT_LE(info.renewal_info_gets, 62u * 4 * 5 / 4 + 1) << "seed " << seed;
  }
}

TEST(AgainstModel, AriThroughErrorsAndTimeoutsStillRenewsInTheWindow) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    world w{{.seed = seed, .renewal_info_errors = 0.2, .renewal_info_timeouts = 0.1}};
    const time_point start = w.clock.now() + 24h * 20, end = start + 48h;
    const time_point not_after = w.clock.now() + 24h * 30;
    w.server.add_certificate(certificate(start, end));
    acme::ari_machine m{ari_for(not_after), acme::ari_error_policy(), splitmix64{seed},
                        capture_sink{&w.log}};
    const outcome o = w.run_machine(m);
    ASSERT_EQ(o.kind, outcome_kind::renew_at);
    EXPECT_GE(*o.not_before, start) << "seed " << seed;
    EXPECT_LT(*o.not_before, end) << "seed " << seed;
    EXPECT_LT(w.clock.now(), not_after);
    EXPECT_GT(w.server.counters().server_errors + w.server.counters().timeouts, 0u);
  }
}

TEST(AgainstModel, AriFollowsAMovedWindow) {
  world w;
  const time_point start = w.clock.now() + 24h * 60;
  w.server.add_certificate(certificate(start, start + 48h));
  // A revocation pulls the window in after ten days.
  const time_point moved = w.clock.now() + 24h * 12;
  w.server.move_window(cert_id, moved, moved + 24h, w.clock.now() + 24h * 10);
  acme::ari_machine m{ari_for(w.clock.now() + 24h * 90), acme::ari_error_policy(), splitmix64{3},
                      capture_sink{&w.log}};
  const outcome o = w.run_machine(m);
  ASSERT_EQ(o.kind, outcome_kind::renew_at);
  EXPECT_GE(*o.not_before, moved);
  EXPECT_LT(*o.not_before, moved + 24h);
  EXPECT_EQ(only(w.log, event_kind::renewal_time).size(), 2u);
}

// --- the model's newer behaviours: Pebble's refusal, Boulder's 500s, 404s, lost replies ------

TEST(AgainstModel, PebbleRefusingAnotherIssuersCertIdFallsBackOnce) {
  world w{{.replaces_style = model::acme_replaces_style::pebble}};
  acme::new_order_machine m{renewal(), acme::default_policy(), splitmix64{1}, capture_sink{&w.log}};
  const outcome o = w.run_machine(m);  // no such certificate: another CA's
  EXPECT_EQ(o.kind, outcome_kind::completed) << o.reason;
  EXPECT_TRUE(m.fell_back());
  EXPECT_EQ(w.server.counters().new_order, 2u);
  const auto fb = only(w.log, event_kind::fallback);
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_NE(fb[0]->why.find("no known issuer matches"), std::string::npos);
}

TEST(AgainstModel, ABrokenRenewalInfoCostsFewRequestsAndRenewsAtTheFallback) {
  // Every GET is Boulder's 500 with Retry-After: 60, for a 90-day certificate.
  world w{{.renewal_info_errors = 1.0}};
  const time_point nb = w.clock.now();
  w.server.add_certificate(certificate(nb + 24h * 60, nb + 24h * 62));
  acme::ari_options o = ari_for(nb + 24h * 90);
  o.not_before = nb;
  acme::ari_machine m{o, acme::ari_error_policy(), splitmix64{5}, capture_sink{&w.log}};
  const outcome out = w.run_machine(m);
  ASSERT_EQ(out.kind, outcome_kind::renew_at);
  EXPECT_EQ(*out.not_before, nb + 24h * 60);  // two thirds of 90 days
  // 5 backed-off tries, then every 6 h for 60 days: about 245, not 86 400 at 60 s.
  EXPECT_LE(w.server.counters().renewal_info, 250u);
  EXPECT_NE(out.reason.find("fallback"), std::string::npos) << out.reason;
}

TEST(AgainstModel, AnUnknownCertificateRenewsAtTheFallback) {
  world w;  // renewalInfo answers 404 for a certificate the CA does not know
  const time_point nb = w.clock.now() - 24h;
  acme::ari_options o = ari_for(nb + 24h * 6);
  o.not_before = nb;
  acme::ari_machine m{o, acme::ari_error_policy(), splitmix64{5}, capture_sink{&w.log}};
  const outcome out = w.run_machine(m);
  ASSERT_EQ(out.kind, outcome_kind::renew_at);
  EXPECT_EQ(*out.not_before, nb + 24h * 3);  // half of a 6-day certificate
}

TEST(AgainstModel, TheExplanationUrlReachesTheOutcome) {
  world w;
  const time_point now = w.clock.now();
  auto c = certificate(now - 24h, now - 1h);  // a window already past: a mass revocation
  c.explanation_url = "https://ca.example/incidents/2025-01";
  w.server.add_certificate(c);
  acme::ari_machine m{ari_for(now + 24h * 30), acme::ari_error_policy(), splitmix64{5},
                      capture_sink{&w.log}};
  const outcome out = w.run_machine(m);
  EXPECT_LE(*out.not_before, now + 1s);  // now, after the round trip
  EXPECT_NE(out.reason.find("explanation: https://ca.example/incidents/2025-01"), std::string::npos)
      << out.reason;
}

TEST(AgainstModel, ALostFinalizeReplyIsLookedIntoNotAbandoned) {
  world w{{.lost_finalize_replies = 1}};
  const std::uint64_t id = w.server.create_order();
  acme::post_options p;
  p.url = "/acme/finalize/" + std::to_string(id);
  p.payload = R"({"csr":"MIIB"})";
  p.kind = acme::post_kind::finalize;
  p.resource_url = "/acme/order/" + std::to_string(id);
  acme::post_machine m{p, acme::default_policy(), splitmix64{1}, capture_sink{&w.log}};
  const outcome o = w.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::completed) << o.reason;
  EXPECT_TRUE(m.looked_after_loss());
  EXPECT_EQ(w.server.counters().lost_replies, 1u);
  EXPECT_EQ(w.server.counters().finalize, 2u);
  EXPECT_EQ(w.server.counters().new_order, 0u);  // no second order, no duplicate certificate
  // The poller takes over and sees the certificate issued.
  acme::poll_options q;
  q.url = p.resource_url;
  q.nonce.initial = std::string(m.nonce());
  acme::resource_poll_machine poll{q, acme::default_policy(), splitmix64{1}};
  EXPECT_EQ(w.run_machine(poll).kind, outcome_kind::completed);
  EXPECT_EQ(poll.status(), acme::resource_status::valid);
}

TEST(AgainstModel, ARateLimitOfHoursIsWaitedInFull) {
  world w{{.rate_limit_retry_after = std::chrono::hours{3}}};
  w.server.queue_new_order_fault(model::acme_fault::rate_limited);
  acme::new_order_options o;
  acme::new_order_machine m{o, acme::default_policy(24h), splitmix64{1}, capture_sink{&w.log}};
  const time_point start = w.clock.now();
  const outcome out = w.run_machine(m);
  EXPECT_EQ(out.kind, outcome_kind::completed) << out.reason;
  EXPECT_EQ(w.server.counters().rate_limited, 1u);
  EXPECT_GE(w.clock.now() - start, 3h);  // not the 1 h hint ceiling
}

}  // namespace
