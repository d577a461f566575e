// The verifier: each machine's default policy holds every invariant to depth 8; one planted bug
// per invariant is found with the shortest counterexample; counterexamples are scenarios the
// harness replays to the same steps; users' own invariants and policies are checked.
#include "certretry/verify/explorer.hpp"
#include "certretry/verify/planted.hpp"
#include "certretry/verify/subjects.hpp"

#include "replay.hpp"
#include "scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::verify;
using namespace std::chrono_literals;

constexpr const char* cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

backoff_policy<any_schedule, any_jitter> certctl_policy(double jitter = 0.2) {
  return {any_schedule{schedules::certctl}, any_jitter{proportional_jitter{jitter}}};
}

// The subjects as `certretry-harness verify` builds them with default options.
subject async_default() {
  return async_poll_subject({async_ca::generic, "1", "1"}, certctl_policy(), 1,
                            R"({"jitter_pct":20})");
}
subject tpp_default() {
  return tpp_subject(tpp::enroll_options{},
                     backoff_policy<any_schedule, any_jitter>{any_schedule{schedules::certctl},
                                                              any_jitter{no_jitter{}}});
}
subject new_order_default() {
  acme::new_order_options o;
  o.replaces = cert_id;
  o.renewal_info_advertised = true;  // as the harness's default: the directory has renewalInfo
  return acme_new_order_subject(std::move(o), acme::default_policy(), 1,
                                std::string(R"({"replaces":")") + cert_id + "\"}");
}
subject poll_default() {
  acme::poll_options o;
  o.url = "/acme/order/1";
  o.nonce.initial = "replayNonce0";  // the harness's default: a nonce at hand
  return acme_poll_subject(std::move(o), acme::default_policy(), 1);
}
subject ari_default() {
  acme::ari_options o;
  o.cert_id = cert_id;
  o.not_after = time_point{} + std::chrono::hours{24 * 90};
  return ari_subject(std::move(o), 1, std::string(R"({"cert_id":")") + cert_id + "\"}");
}

std::string names(const subject& s, const counterexample& c) { return letters_text(s, c); }

// --- the machines as they ship -----------------------------------------------------------

// Depth 8 for every machine but acme-poll, whose depth 8 (a few seconds) `docs.verify` runs
// through the harness.
TEST(Verify, EveryMachinesDefaultPolicyHoldsEveryInvariantToDepth8) {
  for (const subject& s :
       {async_default(), tpp_default(), new_order_default(), poll_default(), ari_default()}) {
    const report r = explore(s, {.depth = s.machine == "acme-poll" ? 6u : 8u});
    EXPECT_TRUE(r.exhausted) << s.machine;
    for (const counterexample& c : r.violations)
      ADD_FAILURE() << s.machine << " violates " << c.invariant << ": " << c.what << " after "
                    << names(s, c) << "\n"
                    << scenario_json(s, c);
    EXPECT_GT(r.states, 10u) << s.machine;
    EXPECT_GT(r.merged, 0u) << s.machine;
  }
}

TEST(Verify, ProtocolInvariantsApplyWhereTheProtocolHasThem) {
  const auto applies = [](const subject& s, std::string_view name) {
    const report r = explore(s, {.depth = 1});
    for (const invariant& i : r.invariants)
      if (i.name == name) return i.applies;
    return false;
  };
  EXPECT_TRUE(applies(tpp_default(), "one reset"));
  EXPECT_TRUE(applies(tpp_default(), "configured reset"));
  EXPECT_FALSE(applies(async_default(), "one reset"));
  EXPECT_TRUE(applies(new_order_default(), "one fallback"));
  EXPECT_FALSE(applies(poll_default(), "one fallback"));
  // certctl never reads Retry-After: the invariant does not apply to that policy.
  auto p = certctl_policy();
  p = backoff_policy<any_schedule, any_jitter>{any_schedule{schedules::certctl},
                                               any_jitter{no_jitter{}}, limits{},
                                               retry_after_policy{retry_after_mode::ignore}};
  EXPECT_FALSE(applies(async_poll_subject({async_ca::generic, "1", "1"}, p), "retry-after"));
}

// --- planted bugs: one per invariant -----------------------------------------------------

struct planted_case {
  bug b;
  subject (*make)();
  std::size_t replies;  // the fewest replies that show the bug
  const char* letters;
};

// Why each count is the fewest: loops_on_timeout needs the fourth request in a row (three
// timeouts, the poller allows three); polls_past_deadline needs the run to reach the deadline;
// no_wait_after_429, ignores_retry_after and reports_issued need one reply of their kind;
// resets_twice needs the reset; claims_again a refusal, the fallback's refusal; skips_reset the
// stale message; polls_once_more shows on the happy path itself.
const planted_case planted_cases[] = {
    {bug::loops_on_timeout, async_default, 3, "timeout, timeout, timeout"},
    {bug::no_wait_after_429, async_default, 1, "429"},
    {bug::ignores_retry_after, async_default, 1, "429 + Retry-After"},
    {bug::resets_twice, tpp_default, 3, "200 with the DN, 500 click-Retry, reset 200"},
    {bug::claims_again, new_order_default, 3, "new nonce, alreadyReplaced, alreadyReplaced"},
    {bug::polls_once_more, async_default, 2, "issued, issued"},
    {bug::skips_reset, tpp_default, 2, "200 with the DN, 500 click-Retry"},
    // "rejected" needs a person (not failed), so the first failure the planted bug turns into
    // issued is a 404.
    {bug::reports_issued, async_default, 1, "404"},
};

TEST(VerifyPlanted, EachBugIsFoundWithTheShortestCounterexample) {
  for (const planted_case& pc : planted_cases) {
    const subject s = pc.make();
    const report r = explore(plant(s, pc.b));
    const counterexample* c = r.violation(breaks(pc.b));
    ASSERT_NE(c, nullptr) << to_string(pc.b);
    EXPECT_EQ(c->letters.size(), pc.replies) << to_string(pc.b) << ": " << names(s, *c);
    EXPECT_EQ(names(s, *c), pc.letters) << to_string(pc.b);
    // The counterexample breaks it again when replayed on its own.
    const report again = explore(plant(s, pc.b), {.depth = static_cast<std::uint32_t>(pc.replies)});
    EXPECT_NE(again.violation(breaks(pc.b)), nullptr) << to_string(pc.b);
    // And the real machine does not.
    EXPECT_EQ(explore(s, {.depth = static_cast<std::uint32_t>(pc.replies)}).violation(breaks(pc.b)),
              nullptr)
        << to_string(pc.b);
  }
}

TEST(VerifyPlanted, PollingPastTheDeadlineIsFoundAtTheFirstRunThatReachesIt) {
  // Without jitter certctl polls at 0, 5, 20, 65, 200, 500 and 600 s; Retry-After: 120 on the
  // first replies gets there with fewer.
  const subject s = async_poll_subject({async_ca::generic, "1", "1"}, certctl_policy(0.0));
  const report r = explore(plant(s, bug::polls_past_deadline));
  const counterexample* c = r.violation("deadline");
  ASSERT_NE(c, nullptr);
  EXPECT_LE(c->letters.size(), 7u) << names(s, *c);
  // No shorter sequence does: depth one less finds nothing.
  const report shorter = explore(
      plant(s, bug::polls_past_deadline),
      {.depth = static_cast<std::uint32_t>(c->letters.size() - 1), .continue_leaves = false});
  EXPECT_EQ(shorter.violation("deadline"), nullptr);
  EXPECT_NE(c->what.find("ends after the deadline"), std::string::npos) << c->what;
}

// --- counterexamples are scenarios the harness replays ----------------------------------

TEST(VerifyScenario, ACounterexampleIsAScenarioTheHarnessReplaysToTheSameSteps) {
  // A user invariant every machine breaks: no more than two requests. Its counterexample,
  // replayed by the harness with the subject's options, makes the same requests at the same
  // times and waits the same waits.
  for (subject s :
       {async_default(), tpp_default(), new_order_default(), poll_default(), ari_default()}) {
    s.extra.push_back({"at most two requests",
                       [](const trace& t, const facts&,
                          const std::vector<letter>&) -> std::optional<std::string> {
                         if (t.sends() > 2) return "a third request";
                         return std::nullopt;
                       }});
    const report r = explore(s, {.depth = 4, .stop_when_all_violated = false});
    const counterexample* c = r.violation("at most two requests");
    ASSERT_NE(c, nullptr) << s.machine;
    std::string detail;
    auto scene = harness::parse_scenario(scenario_json(s, *c), detail);
    ASSERT_TRUE(scene) << s.machine << ": " << detail << "\n" << scenario_json(s, *c);
    harness::replay_output out;
    out.max_steps = c->t.steps.size() + 4;
    const harness::replay_result replayed = harness::replay(scene.value(), out);
    std::vector<std::string> theirs, mine;
    for (const harness::entry& e : replayed.entries)
      if (e.kind == "send" || e.kind == "wait")
        theirs.push_back(e.kind + " " + std::to_string(e.t.count()) + " " + e.what +
                         std::to_string(e.wait.count()));
    for (const step& st : c->t.steps) {
      const std::string t = std::to_string((st.at - c->t.start).count());
      if (st.what == step::kind::send) mine.push_back("send " + t + " " + st.key() + "0");
      if (st.what == step::kind::wait)
        mine.push_back("wait " + t + " " + std::to_string(st.delay.count()));
    }
    ASSERT_GE(theirs.size(), mine.size()) << s.machine << "\n" << replayed.transcript();
    theirs.resize(mine.size());
    EXPECT_EQ(theirs, mine) << s.machine << "\n" << scenario_json(s, *c);
  }
}

TEST(VerifyScenario, EveryReplyIsWrittenAsTheHarnessReadsIt) {
  for (const subject& s :
       {async_default(), tpp_default(), new_order_default(), poll_default(), ari_default()}) {
    counterexample c;
    c.invariant = "x";
    c.t.start = s.start;
    for (std::size_t i = 0; i < s.letters.size(); ++i) {
      step req;
      req.what = step::kind::send;
      req.method = "GET";
      req.target = "/x";
      c.t.steps.push_back(req);
      step rep;
      rep.what = step::kind::reply;
      rep.letter = i;
      c.t.steps.push_back(rep);
    }
    std::string detail;
    auto scene = harness::parse_scenario(scenario_json(s, c), detail);
    ASSERT_TRUE(scene) << s.machine << ": " << detail;
    ASSERT_EQ(scene.value().server.size(), 1u);
    EXPECT_EQ(scene.value().server[0].second.size(), s.letters.size());
  }
}

// --- exploring ------------------------------------------------------------------------------

TEST(VerifyExplore, MergingStatesFindsWhatTheFullSearchFinds) {
  // Every planted bug, depth 5, with and without merging states: the same invariants broken,
  // with counterexamples of the same length.
  for (const planted_case& pc : planted_cases) {
    const subject s = plant(pc.make(), pc.b);
    const report merged = explore(s, {.depth = 5, .stop_when_all_violated = false});
    const report full = explore(s, {.depth = 5, .stop_when_all_violated = false, .merge = false});
    EXPECT_LT(merged.sequences, full.sequences) << to_string(pc.b);
    ASSERT_EQ(merged.violations.size(), full.violations.size()) << to_string(pc.b);
    for (std::size_t i = 0; i < full.violations.size(); ++i) {
      EXPECT_EQ(merged.violations[i].invariant, full.violations[i].invariant) << to_string(pc.b);
      EXPECT_EQ(merged.violations[i].letters.size(), full.violations[i].letters.size())
          << to_string(pc.b) << " " << full.violations[i].invariant;
    }
  }
}

TEST(VerifyExplore, TheHappyPathCostsTheFewestCalls) {
  // A subject that claims fewer calls than the machine needs is caught.
  subject s = tpp_default();
  s.f.happy_calls = 1;
  const report r = explore(s, {.depth = 1});
  const counterexample* c = r.violation("happy path");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->what, "the happy path sent 2 requests, the fewest is 1");
}

TEST(VerifyExplore, ResetBeforeRequestAndQueryOnlyKeepTheirPromises) {
  for (const auto strategy :
       {tpp::reset_strategy::reset_before_request, tpp::reset_strategy::query_only}) {
    tpp::enroll_options o;
    o.strategy = strategy;
    o.certificate_dn = "\\VED\\Policy\\certretry\\example.com";
    const subject s =
        tpp_subject(o, backoff_policy<any_schedule, any_jitter>{any_schedule{schedules::certctl},
                                                                any_jitter{no_jitter{}}});
    const report r = explore(s, {.depth = 6});
    for (const counterexample& c : r.violations)
      ADD_FAILURE() << to_string(strategy) << " violates " << c.invariant << ": " << c.what;
  }
}

// --- the invariants' running counts --------------------------------------------------------

// What an invariant counts over the whole run it keeps in the trace's tally: checked after every
// step or only at the end, on a trace that grows or one cleared or cut short, the answer is the
// one a reading of every step gives.
TEST(VerifyInvariants, CountsOverTheRunDoNotDependOnWhenTheyAreChecked) {
  const subject s = tpp_default();
  const invariant resets = one_reset(true);
  std::size_t timeout = s.letters.size(), refused = s.letters.size();
  for (std::size_t i = 0; i < s.letters.size(); ++i) {
    if (!s.letters[i].reply)
      timeout = i;
    else if (s.letters[i].reply->status == 400)
      refused = i;
  }
  ASSERT_LT(timeout, s.letters.size());
  ASSERT_LT(refused, s.letters.size());
  ASSERT_EQ(s.f.reset_request.substr(0, 5), "POST ");
  const auto send_reset = [&](trace& t) {
    step st;
    st.method = "POST";
    st.target = s.f.reset_request.substr(5);
    t.steps.push_back(std::move(st));
  };
  const auto reply = [](trace& t, std::size_t l) {
    step st;
    st.what = step::kind::reply;
    st.letter = l;
    t.steps.push_back(std::move(st));
  };
  // A reset, timed out; the same reset again, refused; then another reset.
  const auto run = [&](trace& t, bool check_each) {
    std::optional<std::string> last;
    const auto check = [&] {
      if (check_each) last = resets.check(t, s.f, s.letters);
    };
    send_reset(t);
    check();
    reply(t, timeout);
    check();
    send_reset(t);
    check();
    EXPECT_EQ(last, std::nullopt) << "a reset retried after a timeout is the same reset";
    reply(t, refused);
    check();
    send_reset(t);
    return resets.check(t, s.f, s.letters);
  };
  trace every, at_end;
  EXPECT_EQ(run(every, true), "reset number 2 in one enrollment");
  EXPECT_EQ(run(at_end, false), "reset number 2 in one enrollment");
  EXPECT_EQ(every.tally.resets, 2u);
  EXPECT_EQ(every.tally.reset_sends, 3u);
  // Cut back to the first reset: counted again from the start.
  every.steps.resize(1);
  EXPECT_EQ(resets.check(every, s.f, s.letters), std::nullopt);
  EXPECT_EQ(every.tally.reset_sends, 1u);
  // Cleared for another run.
  at_end.clear(at_end.start);
  send_reset(at_end);
  EXPECT_EQ(resets.check(at_end, s.f, s.letters), std::nullopt);
  EXPECT_EQ(at_end.tally.resets, 1u);
}

}  // namespace
