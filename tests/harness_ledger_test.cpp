// Replays across runs (docs/harness.md, "Across runs"): the scenario's `ledger` and
// `start_jitter_s`, the gate before anything is sent, the saved ledger before the outcome line,
// and the `expect` keys that assert them.
#include "machine.hpp"
#include "replay.hpp"
#include "scenario.hpp"

#include "certretry/core/rfc3339.hpp"
#include "certretry/ledger/ledger_json.hpp"
#include "certretry/ledger/start_jitter.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::harness;

// An async-poll scenario whose order has failed; `top` holds further top-level members.
std::string failing_scenario(std::string_view top) {
  return std::string(R"({"machine":"async-poll","options":{"id":"7","jitter_pct":0},)") +
         std::string(top) +
         R"("server":{"GET /orders/7":[{"status":200,"body":{"status":"failed"}}]}})";
}

std::string parse_error(std::string_view text) {
  std::string detail;
  auto s = parse_scenario(text, detail);
  return s ? std::string("(parsed)") : detail;
}

scenario parsed(std::string_view text) {
  std::string detail;
  auto s = parse_scenario(text, detail);
  EXPECT_TRUE(s) << detail;
  return s ? s.value() : scenario{};
}

std::vector<std::string> kinds(const replay_result& r) {
  std::vector<std::string> out;
  for (const auto& e : r.entries) out.push_back(e.kind == "event" ? e.what : e.kind);
  return out;
}

TEST(HarnessLedger, TheLedgerIsReadByTheLibrarysReaderAndItsErrorsNameTheMember) {
  EXPECT_EQ(parse_error(failing_scenario(R"("ledger":{"version":1,"unit":"u","consecutive":-1},)")),
            "ledger: consecutive: must be a whole number from 0 to 4294967295");
  EXPECT_EQ(parse_error(failing_scenario(R"("ledger":{"unit":"u"},)")), "ledger: version: missing");
  EXPECT_EQ(parse_error(failing_scenario(R"("ledger":{"version":1,"unit":"u","colour":1},)"))
                .substr(0, 29),
            "ledger: colour: unknown membe");
  EXPECT_EQ(parse_error(failing_scenario(R"("ledger":"{}",)")),
            "ledger: must be an object, a saved failure ledger (docs/operations.md)");
  const scenario s = parsed(failing_scenario(
      R"("ledger":{"version":1,"unit":"u","consecutive":2,"failures":{"transient":2}},)"));
  ASSERT_TRUE(s.ledger);
  EXPECT_EQ(s.ledger->consecutive_failures(), 2u);
  EXPECT_FALSE(parsed(failing_scenario("")).ledger);
}

TEST(HarnessLedger, EscalationIsTheLedgersPolicyAndItsErrorsNameTheMember) {
  const std::string ledger = R"("ledger":{"version":1,"unit":"u"},)";
  const scenario s = parsed(
      failing_scenario(ledger + R"("escalation":{"steps_s":[1,2.5,3,4],"give_up_after":0},)"));
  EXPECT_EQ(s.escalation.steps[1], std::chrono::milliseconds{2500});
  EXPECT_EQ(s.escalation.give_up_after, 0u);
  EXPECT_EQ(parsed(failing_scenario(ledger)).escalation.give_up_after,
            escalation_policy{}.give_up_after);
  const std::string steps_rule = "escalation.steps_s: must be a list of 4 numbers of seconds";
  for (std::string_view bad : {R"([1,2,3])", R"([1,2,3,-4])", R"([1,2,3,"4"])", R"(60)"})
    EXPECT_TRUE(parse_error(failing_scenario(ledger + R"("escalation":{"steps_s":)" +
                                             std::string(bad) + "},"))
                    .starts_with(steps_rule))
        << bad;
  EXPECT_EQ(parse_error(failing_scenario(ledger + R"("escalation":{"give_up_after":-1},)")),
            "escalation.give_up_after: must be a whole number from 0 (never) to 4294967295");
  EXPECT_EQ(parse_error(failing_scenario(ledger + R"("escalation":{"steps":[1,2,3,4]},)")),
            "escalation.steps: unknown member (known: steps_s, give_up_after)");
  EXPECT_EQ(parse_error(failing_scenario(R"("escalation":{"give_up_after":3},)")),
            "escalation: the ledger's policy: give a \"ledger\" too");

  // The run records with it: give_up_after 1 stops the unit at its first failure.
  const replay_result r =
      replay(parsed(failing_scenario(ledger + R"("escalation":{"give_up_after":1},)")));
  ASSERT_TRUE(r.ledger);
  std::string detail;
  auto saved = parse_ledger(*r.ledger, detail);
  ASSERT_TRUE(saved) << detail;
  EXPECT_TRUE(saved.value().needs_person());
}

TEST(HarnessLedger, StartJitterIsBoundedAsTheLibraryBoundsIt) {
  const std::string rule = "start_jitter_s: must be a number of seconds from 0 to 86400 (24 h)";
  for (std::string_view bad : {"-1", "86400.5", "1e9", "\"60\"", "true", "null"})
    EXPECT_EQ(parse_error(failing_scenario(R"("start_jitter_s":)" + std::string(bad) + ",")), rule)
        << bad;
  EXPECT_EQ(parsed(failing_scenario(R"("start_jitter_s":86400,)")).start_jitter,
            std::chrono::hours{24});
  EXPECT_EQ(parsed(failing_scenario(R"("start_jitter_s":0.25,)")).start_jitter,
            std::chrono::milliseconds{250});
  EXPECT_EQ(parsed(failing_scenario("")).start_jitter, duration::zero());
}

TEST(HarnessLedger, AFailingRunIsRecordedAndTheSavedLedgerComesJustBeforeTheOutcome) {
  const replay_result r =
      replay(parsed(failing_scenario(R"("ledger":{"version":1,"unit":"async:7"},)")));
  ASSERT_EQ(r.exit_code, exit_finished) << r.error;
  EXPECT_EQ(kinds(r), (std::vector<std::string>{"send", "recv", "ledger", "outcome"}));
  ASSERT_TRUE(r.ledger);
  std::string detail;
  auto saved = parse_ledger(*r.ledger, detail);
  ASSERT_TRUE(saved) << detail;
  EXPECT_EQ(saved.value().consecutive_failures(), 1u);
  EXPECT_EQ(saved.value().failures(failure_class::rejected), 1u);
  EXPECT_EQ(saved.value().next_attempt(), parse_rfc3339("2025-01-01T00:01:00Z"));
  // The line carries the ledger exactly as to_json() saves it.
  EXPECT_NE(r.entries[2].line.find(",\"ledger\":" + *r.ledger + "}"), std::string::npos);
}

TEST(HarnessLedger, TheGateRefusesBeforeAnythingIsSentAndTheLedgerIsUnchanged) {
  const std::string ledger =
      R"({"version":1,"unit":"async:7","consecutive":1,"failures":{"transient":1},)"
      R"("next_attempt":"2025-01-01T00:05:00Z"})";
  const scenario s = parsed(failing_scenario(R"("ledger":)" + ledger + ","));
  const replay_result r = replay(s);
  ASSERT_EQ(r.exit_code, exit_finished) << r.error;
  EXPECT_EQ(kinds(r), (std::vector<std::string>{"ledger-gate", "ledger", "outcome"}));
  ASSERT_TRUE(r.outcome);
  EXPECT_EQ(r.outcome->what, "still_pending");
  EXPECT_EQ(r.outcome->sends, 0);
  EXPECT_EQ(r.outcome->not_before, "2025-01-01T00:05:00Z");
  EXPECT_EQ(r.ledger, to_json(*s.ledger));

  // A ledger that needs a person refuses with its action, however late the run.
  const scenario p = parsed(failing_scenario(
      R"("ledger":{"version":1,"unit":"u","needs_person":true,"action":"https://ca.example/x"},)"));
  const replay_result q = replay(p);
  ASSERT_TRUE(q.outcome);
  EXPECT_EQ(q.outcome->what, "needs_person");
  EXPECT_EQ(q.outcome->action, "https://ca.example/x");
  EXPECT_EQ(q.outcome->sends, 0);
}

TEST(HarnessLedger, StartJitterIsTheLibrarysDrawFromTheSeedAndDelaysTheRun) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    scenario s = parsed(failing_scenario(R"("start_jitter_s":600,)"));
    s.seed = seed;
    const replay_result r = replay(s);
    ASSERT_EQ(r.exit_code, exit_finished) << r.error;
    splitmix64 rng{seed};
    const duration want = start_jitter{std::chrono::minutes{10}}.draw(rng);
    ASSERT_EQ(r.entries.front().kind, "wait");
    EXPECT_EQ(r.entries.front().why, "start-jitter");
    EXPECT_EQ(r.entries.front().wait, want);
    EXPECT_EQ(r.entries[1].t, want);  // the first request goes after it
  }
  scenario a = parsed(failing_scenario(R"("start_jitter_s":600,)"));
  scenario b = a;
  b.seed = 2;
  EXPECT_NE(replay(a).entries.front().wait, replay(b).entries.front().wait);
  EXPECT_EQ(replay(parsed(failing_scenario(R"("start_jitter_s":0,)"))).entries.front().kind,
            "send");
}

TEST(HarnessLedger, ExpectLedgerIsASubsetWithNullForAbsent) {
  const replay_result r =
      replay(parsed(failing_scenario(R"("ledger":{"version":1,"unit":"async:7"},)")));
  std::string why;
  bool malformed = false;
  EXPECT_TRUE(check_expectations(
      R"({"ledger":{"consecutive":1,"failures":{"rejected":1},"last_success":null}})", r, why,
      malformed))
      << why;
  EXPECT_FALSE(check_expectations(R"({"ledger":{"failures":{"transient":1}}})", r, why, malformed));
  EXPECT_TRUE(why.starts_with(
      "expect.ledger.failures.transient: wanted 1, saw 0; the saved ledger: {\"ver"))
      << why;
  EXPECT_FALSE(malformed);
  EXPECT_FALSE(check_expectations(R"({"ledger":{"next_attempt":null}})", r, why, malformed));
  EXPECT_TRUE(why.starts_with(
      "expect.ledger.next_attempt: wanted absent, saw \"2025-01-01T00:01:00Z\"; the sav"))
      << why;
  EXPECT_FALSE(check_expectations(R"({"ledger":{"replaces_5xx":0}})", r, why, malformed));
  EXPECT_TRUE(why.starts_with("expect.ledger.replaces_5xx: absent")) << why;
  EXPECT_FALSE(check_expectations(R"({"ledger":[1]})", r, why, malformed));
  EXPECT_TRUE(malformed);
  EXPECT_TRUE(check_expectations(R"({"not_before":null,"action":null})", r, why, malformed));

  const replay_result none = replay(parsed(failing_scenario("")));
  EXPECT_FALSE(check_expectations(R"({"ledger":{}})", none, why, malformed));
  EXPECT_EQ(why, "expect.ledger: the scenario has no ledger, so none was saved");
}

#ifdef CERTRETRY_SCENARIO_DIR
std::string scenario_text(std::string_view name) {
  std::ifstream in(std::string(CERTRETRY_SCENARIO_DIR) + "/" + std::string(name) + ".json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The project's restore-after-restart scenarios: the second of each pair starts from the very
// text the first one saved.
TEST(HarnessLedger, EachRestoredScenarioStartsFromTheTextItsPredecessorSaved) {
  const std::pair<std::string_view, std::string_view> chains[] = {
      {"ledger-escalation-first", "ledger-escalation-second"},
      {"ledger-escalation-second", "ledger-escalation-third"},
      {"ledger-escalation-third", "ledger-escalation-fourth-daily"},
      {"ledger-escalation-fourth-daily", "ledger-success-clears"},
      {"ledger-escalation-first", "ledger-gate-refuses-before-next-attempt"},
      {"ledger-give-up-after", "ledger-give-up-refuses"},
      {"ledger-needs-person-recorded", "ledger-needs-person-gate-refuses"},
  };
  for (const auto& [saver, restorer] : chains) {
    const std::string saved_text = scenario_text(saver), restored_text = scenario_text(restorer);
    const replay_result first = replay(parsed(saved_text));
    ASSERT_TRUE(first.ledger) << saver;
    simdjson::dom::parser parser;
    const simdjson::padded_string padded{std::string_view{restored_text}};
    simdjson::dom::element ledger;
    ASSERT_FALSE(parser.parse(padded)["ledger"].get(ledger)) << restorer;
    EXPECT_EQ(simdjson::minify(ledger), *first.ledger) << saver << " -> " << restorer;
  }
}
#endif

}  // namespace
