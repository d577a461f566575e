// The failure ledger, start jitter, the renewal loop guard and the opt-in `replaces` drop
// (docs/operations.md): what a caller remembers across runs.
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/ledger/failure_ledger.hpp"
#include "certretry/ledger/ledger_json.hpp"
#include "certretry/ledger/renewal_guard.hpp"
#include "certretry/ledger/start_jitter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;

const time_point t0 = *parse_rfc3339("2026-11-30T00:00:00Z");

outcome failed(std::string why) {
  outcome o;
  o.kind = outcome_kind::failed;
  o.reason = std::move(why);
  return o;
}

outcome issued() {
  outcome o;
  o.kind = outcome_kind::issued;
  o.certificate = "PEM";
  return o;
}

TEST(FailureLedger, ClassifiesEveryOutcomeKind) {
  outcome o;
  o.kind = outcome_kind::issued;
  EXPECT_FALSE(classify(o));
  o.kind = outcome_kind::completed;
  EXPECT_FALSE(classify(o));
  o.kind = outcome_kind::renew_at;
  EXPECT_FALSE(classify(o));
  o.kind = outcome_kind::cancelled;
  EXPECT_FALSE(classify(o));
  o.kind = outcome_kind::still_pending;
  EXPECT_EQ(classify(o), failure_class::transient);
  o.not_before = t0 + 1h;  // the server said when: a rate limit
  EXPECT_EQ(classify(o), failure_class::rate_limited);
  o.kind = outcome_kind::failed;
  EXPECT_EQ(classify(o), failure_class::rejected);
  o.kind = outcome_kind::needs_reset;
  EXPECT_EQ(classify(o), failure_class::needs_person);
  o.kind = outcome_kind::needs_person;
  EXPECT_EQ(classify(o), failure_class::needs_person);
}

// Let's Encrypt's integration guide: 1 minute, 10 minutes, 100 minutes, then once a day.
TEST(FailureLedger, EscalatesAsLetsEncryptsIntegrationGuideSays) {
  failure_ledger l("acme:acct-1:example.com");
  time_point now = t0;
  const std::vector<duration> expected{1min, 10min, 100min, 24h, 24h, 24h};
  for (duration want : expected) {
    ASSERT_TRUE(l.gate(now).allowed());
    l.record(failed("authorization invalid"), now);
    const gate_decision d = l.gate(now);
    ASSERT_EQ(d.k, gate_decision::kind::wait);
    EXPECT_EQ(d.not_before - now, want);
    // Just before the time: still waiting; at it: go.
    EXPECT_FALSE(l.gate(d.not_before - 1ms).allowed());
    now = d.not_before;
  }
  EXPECT_EQ(l.consecutive_failures(), 6u);
  EXPECT_EQ(l.failures(failure_class::rejected), 6u);
}

TEST(FailureLedger, AServersNotBeforeIsNeverShortened) {
  failure_ledger l("u");
  outcome o;
  o.kind = outcome_kind::still_pending;
  o.reason = "rateLimited";
  o.not_before = t0 + 3h;  // longer than the first step (1 min)
  l.record(o, t0);
  EXPECT_EQ(l.gate(t0).not_before, t0 + 3h);
  EXPECT_EQ(l.failures(failure_class::rate_limited), 1u);
}

TEST(FailureLedger, SuccessClearsTheFailuresAndCancelledTeachesNothing) {
  failure_ledger l("u");
  l.record(failed("x"), t0);
  l.record(failed("x"), t0 + 1min);
  outcome c;
  c.kind = outcome_kind::cancelled;
  l.record(c, t0 + 2min);
  EXPECT_EQ(l.consecutive_failures(), 2u);
  l.record(issued(), t0 + 20min);
  EXPECT_EQ(l.consecutive_failures(), 0u);
  EXPECT_EQ(l.failures(failure_class::rejected), 0u);
  EXPECT_TRUE(l.gate(t0 + 20min).allowed());
  EXPECT_EQ(l.last_success(), t0 + 20min);
}

TEST(FailureLedger, NeedsAPersonStopsEveryLaterRunUntilCleared) {
  failure_ledger l("acme:acct-1:example.com");
  outcome o;
  o.kind = outcome_kind::needs_person;
  o.reason = "Your account is temporarily prevented from requesting certificates for example.com";
  o.action = "https://portal.letsencrypt.org/sfe/v1/unpause?jwt=abc";
  l.record(o, t0);
  for (duration later : std::vector<duration>{0s, 1s, 24h, 24h * 365}) {
    const gate_decision d = l.gate(t0 + later);
    EXPECT_EQ(d.k, gate_decision::kind::needs_person);
    EXPECT_EQ(d.action, o.action);
    const outcome refused = d.as_outcome();
    EXPECT_EQ(refused.kind, outcome_kind::needs_person);
    EXPECT_EQ(refused.sends, 0u);
    EXPECT_NE(refused.reason.find("temporarily prevented"), std::string::npos);
  }
  l.clear();
  EXPECT_TRUE(l.gate(t0 + 1s).allowed());
}

TEST(FailureLedger, GivesUpForAPersonAfterAWeekOfDailyFailures) {
  failure_ledger l("u");
  time_point now = t0;
  escalation_policy p;  // give_up_after = 10: 1 min, 10 min, 100 min, then 7 days
  for (std::uint32_t i = 1; i < p.give_up_after; ++i) {
    l.record(failed("dns problem: NXDOMAIN"), now, p);
    ASSERT_FALSE(l.needs_person()) << i;
    now = *l.next_attempt();
  }
  l.record(failed("dns problem: NXDOMAIN"), now, p);
  EXPECT_TRUE(l.needs_person());
  EXPECT_LT(now - t0, 8 * 24h);
  const gate_decision d = l.gate(now + 48h);
  EXPECT_EQ(d.k, gate_decision::kind::needs_person);
  EXPECT_NE(d.why.find("10 consecutive failures"), std::string::npos) << d.why;
  EXPECT_NE(d.why.find("NXDOMAIN"), std::string::npos) << d.why;

  escalation_policy forever;
  forever.give_up_after = 0;
  failure_ledger f("u");
  for (int i = 0; i < 100; ++i) f.record(failed("x"), t0, forever);
  EXPECT_FALSE(f.needs_person());
  EXPECT_EQ(forever.after(100), 24h);
}

TEST(FailureLedger, TheServersWordsAreBoundedAndSanitised) {
  failure_ledger l("u");
  l.record(failed(std::string(100000, 'x') + "\r\nInjected: yes"), t0);
  EXPECT_LE(l.last_reason().size(), ledger_max_text + 3);
  EXPECT_EQ(l.last_reason().find('\n'), std::string::npos);
}

TEST(FailureLedger, CountsSaturateInsteadOfWrapping) {
  std::string saved = R"({"version":1,"unit":"u","consecutive":4294967295,)"
                      R"("failures":{"rejected":4294967295}})";
  std::string detail;
  auto l = parse_ledger(saved, detail);
  ASSERT_TRUE(l) << detail;
  failure_ledger x = l.value();
  x.record(failed("again"), t0);
  EXPECT_EQ(x.consecutive_failures(), 4294967295u);
  EXPECT_EQ(x.failures(failure_class::rejected), 4294967295u);
}

// --- saved and restored -------------------------------------------------------------------------

TEST(LedgerJson, RoundTripsEveryField) {
  failure_ledger l("tpp:\\VED\\Policy\\Certificates\\www.example.com");
  l.record(issued(), t0 - 24h * 60);
  l.record(failed("Post CSR failed with error: \"denied\""), t0);
  outcome rl;
  rl.kind = outcome_kind::still_pending;
  rl.reason = "429 — rateLimited";
  rl.not_before = t0 + 5h;
  l.record(rl, t0 + 2h);
  l.record_replaces_answer(true);
  const std::string saved = to_json(l);
  std::string detail;
  auto back = parse_ledger(saved, detail);
  // The longest texts the ledger keeps (cut, with "...") read back unchanged too.
  failure_ledger big(std::string(2000, 'u') + "\n");
  big.record(failed(std::string(2000, 'r')), t0);
  auto big_back = parse_ledger(to_json(big), detail);
  ASSERT_TRUE(big_back) << detail;
  EXPECT_EQ(big_back.value(), big);
  ASSERT_TRUE(back) << detail << "\n" << saved;
  EXPECT_EQ(back.value(), l) << saved;
  EXPECT_EQ(to_json(back.value()), saved);

  failure_ledger person("acme:a:b");
  outcome o;
  o.kind = outcome_kind::needs_person;
  o.reason = "rejectedIdentifier";
  o.action = "https://example.com/terms";
  person.record(o, t0);
  auto p = parse_ledger(to_json(person), detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p.value(), person);
  EXPECT_EQ(p.value().gate(t0 + 24h * 30).k, gate_decision::kind::needs_person);
}

// A restarted process behaves as the one that saved the ledger: same gate, same escalation.
TEST(LedgerJson, RestoreAfterRestartKeepsTheEscalation) {
  failure_ledger l("u");
  l.record(failed("a"), t0);
  l.record(failed("b"), t0 + 1min);  // second failure: 10 min
  std::string detail;
  failure_ledger restored = parse_ledger(to_json(l), detail).value();
  EXPECT_EQ(restored.gate(t0 + 5min).k, gate_decision::kind::wait);
  EXPECT_EQ(restored.gate(t0 + 5min).not_before, t0 + 11min);
  restored.record(failed("c"), t0 + 11min);  // third: 100 min
  EXPECT_EQ(*restored.next_attempt(), t0 + 111min);
}

TEST(LedgerJson, RefusesWhatIsNotASavedLedgerNamingTheMember) {
  const auto error = [](std::string_view text) {
    std::string detail;
    auto r = parse_ledger(text, detail);
    EXPECT_FALSE(r) << text;
    return detail;
  };
  EXPECT_EQ(error("[]"), "ledger: must be a JSON object");
  EXPECT_EQ(error(R"({"unit":"u"})"), "ledger: version: missing");
  EXPECT_EQ(error(R"({"version":2,"unit":"u"})"),
            "ledger: version: must be 1 (this library reads version 1)");
  EXPECT_EQ(error(R"({"version":1})"), "ledger: unit: missing");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","colour":1})"),
            "ledger: colour: unknown member (known: version, unit, consecutive, failures, last, "
            "next_attempt, last_success, needs_person, action, replaces_5xx)");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","unit":"v"})"), "ledger: unit: given twice");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","consecutive":-1})"),
            "ledger: consecutive: must be a whole number from 0 to 4294967295");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","failures":{"weather":1}})"),
            "ledger: failures.weather: unknown class (known: transient, rate_limited, rejected, "
            "needs_person)");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","consecutive":1,"failures":{"rejected":2}})"),
            "ledger: failures: the classes add up to 2, more than consecutive (1)");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","next_attempt":"tomorrow"})"),
            "ledger: next_attempt: must be an RFC 3339 time");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","last":{"kind":"exploded"}})"),
            "ledger: last.kind: must be an outcome kind (issued, failed, …)");
  EXPECT_EQ(error(R"({"version":1,"unit":"a\u0001b"})"),
            "ledger: unit: must be a string of printable UTF-8, at most 515 bytes");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","action":")" + std::string(600, 'x') + "\"}"),
            "ledger: action: must be a string of printable UTF-8, at most 515 bytes");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","last":{"reason":"x"}})"),
            "ledger: last.kind: missing");
  EXPECT_EQ(error(R"({"version":1,"unit":"u","needs_person":"yes"})"),
            "ledger: needs_person: must be a boolean");
  EXPECT_NE(error("{").find("ledger: not JSON"), std::string::npos);
  EXPECT_NE(error(std::string(ledger_max_json + 1, ' ')).find("more than 16384"),
            std::string::npos);
  // Hostile names are quoted sanitised and short.
  const std::string d =
      error("{\"version\":1,\"unit\":\"u\",\"a\\r\\nb" + std::string(500, 'k') + "\":1}");
  EXPECT_EQ(d.find('\n'), std::string::npos);
  EXPECT_LT(d.size(), 300u);
}

// --- start jitter -----------------------------------------------------------------------------

TEST(StartJitter, SpreadsAFleetUniformlyOverTheWindow) {
  start_jitter j;  // the default: an hourly cron's period
  EXPECT_EQ(j.max_delay, 1h);
  ASSERT_TRUE(j.validate());
  splitmix64 rng(7);
  std::vector<int> per_six_minutes(10, 0);
  for (int i = 0; i < 100000; ++i) {
    const duration d = j.draw(rng);
    ASSERT_GE(d, 0ms);
    ASSERT_LT(d, 1h);
    ++per_six_minutes[static_cast<std::size_t>(
        std::chrono::duration_cast<std::chrono::minutes>(d).count() / 6)];
  }
  // Uniform: every tenth of the hour within 5 % of 10 000.
  for (int n : per_six_minutes) EXPECT_NEAR(n, 10000, 500);
  start_jitter off{0ms};
  EXPECT_EQ(off.draw(rng), 0ms);
  EXPECT_FALSE((start_jitter{-1ms}.validate()));
  EXPECT_FALSE((start_jitter{25h}.validate()));
  EXPECT_TRUE((start_jitter{43200s}.validate()));  // Debian's certbot timer
}

// --- renewal loop guard -------------------------------------------------------------------------

TEST(RenewalLoopGuard, HoldsARenewalBackForAtLeastAnHourOrTheWindow) {
  renewal_loop_guard g;
  EXPECT_FALSE(g.check(std::nullopt, t0));  // never renewed: go
  const auto held = g.check(t0, t0 + 10min);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->until, t0 + 1h);
  EXPECT_NE(held->why.find("renewal held back"), std::string::npos);
  EXPECT_FALSE(g.check(t0, t0 + 1h));
  // The CA suggested a two-day window: no renewal within two days of the last.
  const auto window = g.check(t0, t0 + 3h, 48h);
  ASSERT_TRUE(window);
  EXPECT_EQ(window->until, t0 + 48h);
  // A window shorter than the minimum does not shorten it.
  EXPECT_EQ(g.check(t0, t0, 5min)->until, t0 + 1h);
}

// ARI answering an urgent window for every new certificate: renewals at most hourly, not back
// to back.
TEST(RenewalLoopGuard, AnUrgentWindowForEveryNewCertificateCostsOneRenewalAnHour) {
  renewal_loop_guard g;
  std::optional<time_point> last;
  int renewals = 0;
  for (time_point now = t0; now < t0 + 24h; now += 1min) {
    if (g.check(last, now)) continue;  // the window is always "renew now"
    last = now;
    ++renewals;
  }
  EXPECT_EQ(renewals, 24);
}

TEST(ReplacesAfterServerErrors, OffByDefaultAndDropsAfterKWhenAskedTo) {
  replaces_after_server_errors keep;
  failure_ledger l("u");
  for (int i = 0; i < 50; ++i) l.record_replaces_answer(true);
  EXPECT_TRUE(keep.send_replaces(l.replaces_server_errors()));
  replaces_after_server_errors drop{3};
  failure_ledger m("u");
  m.record_replaces_answer(true);
  m.record_replaces_answer(true);
  EXPECT_TRUE(drop.send_replaces(m.replaces_server_errors()));
  m.record_replaces_answer(true);
  EXPECT_FALSE(drop.send_replaces(m.replaces_server_errors()));
  m.record_replaces_answer(false);  // any other answer resets the count
  EXPECT_TRUE(drop.send_replaces(m.replaces_server_errors()));
}

TEST(ReplacesAfterServerErrors, AnIssuedCertificateStartsTheCountAgain) {
  replaces_after_server_errors drop{2};
  failure_ledger l("u");
  l.record_replaces_answer(true);
  l.record_replaces_answer(true);
  ASSERT_FALSE(drop.send_replaces(l.replaces_server_errors()));
  // The order without `replaces` was created (completed): the count stays, the claim stays
  // dropped for the rest of this renewal.
  l.record(outcome{.kind = outcome_kind::completed}, t0);
  EXPECT_EQ(l.replaces_server_errors(), 2u);
  // The certificate was issued: the next renewal replaces it and may claim it again.
  l.record(outcome{.kind = outcome_kind::issued}, t0 + 1min);
  EXPECT_EQ(l.replaces_server_errors(), 0u);
  EXPECT_TRUE(drop.send_replaces(l.replaces_server_errors()));
}

}  // namespace
