// The ACME machines: badNonce recovery (RFC 8555 §6.5), new-order with ARI `replaces` and its
// fallback (RFC 9773 §5; docs/sources.md#boulder-7385: every row of docs/acme.md's decision
// table), polling of orders, authorizations and challenges (RFC 8555 §7.1.6, §7.4, §8.2; step-ca:
// docs/sources.md#step-ca-challenge-retries), and the ARI renewal machine (RFC 9773 §4). Server
// replies follow docs/sources.md#boulder and docs/sources.md#pebble.
#include "certretry/acme/ari.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"

#include "support/event_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::acme;
using namespace certretry::model;
using namespace std::chrono_literals;
using time_point = certretry::time_point;
using duration = certretry::duration;

const time_point t0{std::chrono::seconds{1'700'000'000}};

constexpr std::string_view nonce_key = "HEAD /acme/new-nonce";
constexpr std::string_view order_key = "POST /acme/new-order";
constexpr std::string_view cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
constexpr std::string_view poll_key_for_errors = "POST /acme/order/9";

std::string problem_json(std::string_view type, std::string_view detail, int status) {
  return R"({"type":")" + std::string(type) + R"(","detail":")" + std::string(detail) +
         R"(","status":)" + std::to_string(status) + "}";
}

scripted_reply reply(int status, std::string body = {}, std::vector<header_field> headers = {}) {
  return scripted_reply::respond(status, std::move(body), std::move(headers));
}

scripted_reply with_nonce(int status, std::string body, std::string nonce,
                          std::vector<header_field> more = {}) {
  more.push_back({"Replay-Nonce", std::move(nonce)});
  return reply(status, std::move(body), std::move(more));
}

scripted_reply nonce_reply(std::string nonce) { return with_nonce(200, {}, std::move(nonce)); }

const std::string bad_nonce_body = problem_json("urn:ietf:params:acme:error:badNonce",
                                                "JWS has an invalid anti-replay nonce", 400);
const std::string order_created =
    R"({"status":"pending","expires":"2025-01-08T00:00:00Z","identifiers":[{"type":"dns","value":"example.com"}],)"
    R"("authorizations":["https://ca.example/acme/authz/1"],"finalize":"https://ca.example/acme/order/1/finalize"})";

scripted_reply created() {
  return reply(201, order_created,
               {{"Location", "https://ca.example/acme/order/1"}, {"Replay-Nonce", "nNext"}});
}

// A machine run against a scripted server on a virtual clock, with its events kept.
struct bench {
  virtual_clock clock{t0};
  scripted_transport server{clock};
  std::vector<seen_event> log;
  capture_sink sink() { return capture_sink{&log}; }

  template <class M>
  outcome run_machine(M& m) {
    virtual_sleeper sleeper{clock};
    return run(m, server, clock, sleeper);
  }
  std::vector<duration> waits() const {
    std::vector<duration> out;
    for (const auto* e : only(log, event_kind::wait)) out.push_back(e->delay);
    return out;
  }
  std::vector<std::string> requests() const {
    std::vector<std::string> out;
    for (const auto& r : server.sent()) out.push_back(r.method + " " + r.target);
    return out;
  }
};

// The nonce a POST was signed with (certretry's convention: a Replay-Nonce field).
std::string nonce_of(const request& r) {
  const auto n = find_header(r.headers, "Replay-Nonce");
  return n ? std::string(*n) : std::string{};
}

new_order_options renewal_order() {
  new_order_options o;
  o.replaces = std::string(cert_id);
  o.renewal_info_advertised = true;
  return o;
}

// --- nonces and badNonce (RFC 8555 §6.5) -------------------------------------------------------

TEST(Nonce, ValidValuesAreBase64url) {
  EXPECT_TRUE(is_valid_nonce("oFvnlFP1wIhRlYS2jTaXbA"));
  EXPECT_TRUE(is_valid_nonce("a-b_C9"));
  EXPECT_FALSE(is_valid_nonce(""));
  EXPECT_FALSE(is_valid_nonce("abc="));  // padding is not base64url as ACME uses it
  EXPECT_FALSE(is_valid_nonce("a b"));
  EXPECT_FALSE(is_valid_nonce("a+b/"));
  EXPECT_FALSE(is_valid_nonce(std::string(max_nonce_bytes + 1, 'a')));
  EXPECT_TRUE(is_valid_nonce(std::string(max_nonce_bytes, 'a')));
}

TEST(Nonce, FetchedWithHeadWhenNoneIsAtHand) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key), {created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::completed);
  ASSERT_EQ(b.requests(),
            (std::vector<std::string>{"HEAD /acme/new-nonce", "POST /acme/new-order"}));
  EXPECT_EQ(nonce_of(b.server.sent()[1]), "n1");
  EXPECT_EQ(b.server.sent()[0].body, "");
  EXPECT_EQ(m.nonce(), "nNext");  // the 201's nonce, for the next machine
  EXPECT_EQ(m.order_url(), "https://ca.example/acme/order/1");
  EXPECT_EQ(o.sends, 2u);
}

TEST(Nonce, AnInitialNonceSavesTheHead) {
  bench b;
  b.server.script(std::string(order_key), {created()});
  auto opts = renewal_order();
  opts.nonce.initial = "given";
  new_order_machine m{opts, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  ASSERT_EQ(b.server.sent().size(), 1u);
  EXPECT_EQ(nonce_of(b.server.sent()[0]), "given");
}

TEST(Nonce, BadNonceRetriedAtOnceWithTheErrorsNonceAndTheSamePayload) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(400, bad_nonce_body, "fromError"), created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::completed);
  ASSERT_EQ(b.server.sent().size(), 3u);  // no second HEAD: the error carried a nonce
  EXPECT_EQ(nonce_of(b.server.sent()[2]), "fromError");
  EXPECT_EQ(b.server.sent()[1].body, b.server.sent()[2].body);
  EXPECT_NE(b.server.sent()[2].body.find(R"("replaces":")"), std::string::npos);
  EXPECT_EQ(only(b.log, event_kind::bad_nonce).size(), 1u);
  EXPECT_TRUE(b.waits().empty());
  EXPECT_EQ(b.clock.now(), t0);
  EXPECT_EQ(m.bad_nonces(), 1u);
}

TEST(Nonce, BadNonceWithoutReplayNonceFetchesOne) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1"), nonce_reply("n2")});
  b.server.script(std::string(order_key), {reply(400, bad_nonce_body), created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(b.requests(),
            (std::vector<std::string>{"HEAD /acme/new-nonce", "POST /acme/new-order",
                                      "HEAD /acme/new-nonce", "POST /acme/new-order"}));
  EXPECT_EQ(nonce_of(b.server.sent()[3]), "n2");
}

TEST(Nonce, InvalidReplayNonceValuesAreIgnored) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1"), nonce_reply("n2")});
  b.server.script(std::string(order_key),
                  {with_nonce(400, bad_nonce_body, "not a nonce="), created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(nonce_of(b.server.sent()[3]), "n2");
}

class BadNonceBound : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(BadNonceBound, FailsAfterTheBoundNeverLoops) {
  const std::uint32_t bound = GetParam();
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n0")});
  b.server.script(std::string(order_key), {with_nonce(400, bad_nonce_body, "again")});
  auto opts = renewal_order();
  opts.nonce.max_bad_nonce_retries = bound;
  new_order_machine m{opts, default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_EQ(b.server.calls(order_key), bound + 1);  // the request and `bound` retries
  EXPECT_EQ(only(b.log, event_kind::bad_nonce).size(), bound);
  EXPECT_NE(o.reason.find("badNonce"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find(std::to_string(bound + 1) + " fresh nonces in a row"), std::string::npos)
      << o.reason;
  EXPECT_EQ(b.clock.now(), t0);
}

INSTANTIATE_TEST_SUITE_P(Bounds, BadNonceBound, ::testing::Values(0u, 1u, 3u, 7u));

TEST(Nonce, DefaultBoundIsThree) { EXPECT_EQ(nonce_options{}.max_bad_nonce_retries, 3u); }

TEST(Nonce, TheBoundCountsBadNoncesInARow) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n0")});
  const auto bad = with_nonce(400, bad_nonce_body, "again");
  b.server.script(std::string(order_key),
                  {bad, bad, bad, with_nonce(503, "", "after503"), bad, bad, bad, created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(m.bad_nonces(), 6u);
}

TEST(Nonce, NewNonceWithoutNonceBacksOffAndNewNonce404Fails) {
  {
    bench b;
    b.server.script(std::string(nonce_key), {reply(200), nonce_reply("n1")});
    b.server.script(std::string(order_key), {created()});
    new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
    EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
    ASSERT_EQ(b.waits().size(), 1u);
    EXPECT_GE(b.waits()[0], 1s);
  }
  {
    bench b;
    b.server.script(std::string(nonce_key), {reply(404)});
    new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::failed);
    EXPECT_NE(o.reason.find("new-nonce answered 404"), std::string::npos) << o.reason;
  }
}

// --- new-order and `replaces` (docs/acme.md's decision table) ------------------------------------

TEST(NewOrder, ReplacesOnlyWhenRenewalInfoIsAdvertised) {
  for (bool advertised : {true, false}) {
    bench b;
    b.server.script(std::string(nonce_key), {nonce_reply("n1")});
    b.server.script(std::string(order_key), {created()});
    auto opts = renewal_order();
    opts.renewal_info_advertised = advertised;
    new_order_machine m{opts, default_policy(), splitmix64{1}, b.sink()};
    EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
    const std::string& body = b.server.sent()[1].body;
    EXPECT_EQ(body.find("replaces") != std::string::npos, advertised) << body;
    EXPECT_NE(body.find(R"({"identifiers":[{"type":"dns","value":"example.com"}])"),
              std::string::npos)
        << body;
  }
}

TEST(NewOrder, NoReplacesForAFirstCertificate) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key), {created()});
  new_order_machine m{new_order_options{}, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(b.server.sent()[1].body, R"({"identifiers":[{"type":"dns","value":"example.com"}]})");
}

struct table_row {
  std::string_view label;
  scripted_reply first;  // the reply to the order carrying `replaces`
  new_order_rule rule;
  friend std::ostream& operator<<(std::ostream& os, const table_row& r) { return os << r.label; }
};

const std::string boulder_prefix = "Could not validate ARI 'replaces' field :: ";

std::vector<table_row> table_rows() {
  return {
      {"rfc9773_already_replaced_409",
       with_nonce(409,
                  problem_json("urn:ietf:params:acme:error:alreadyReplaced",
                               "certificate has already been replaced", 409),
                  "n2"),
       new_order_rule::fall_back},
      {"boulder_conflict_409",
       with_nonce(409,
                  problem_json("urn:ietf:params:acme:error:conflict",
                               "While validating order as a replacement an error occurred :: "
                               "cannot indicate an order replaces certificate with serial "
                               "\\\"XXXX\\\", which already has a replacement order",
                               409),
                  "n2"),
       new_order_rule::fall_back},
      {"boulder_malformed_404_unknown_serial",
       with_nonce(404,
                  problem_json("urn:ietf:params:acme:error:malformed",
                               boulder_prefix + "path contained an unknown serial", 404),
                  "n2"),
       new_order_rule::fall_back},
      {"boulder_malformed_400_identifiers",
       with_nonce(400,
                  problem_json("urn:ietf:params:acme:error:malformed",
                               boulder_prefix + "identifiers in this order do not match", 400),
                  "n2"),
       new_order_rule::fall_back},
      {"bare_409_without_problem", with_nonce(409, "Conflict", "n2"), new_order_rule::fall_back},
      // Pebble >= 2.6 (ca/ca.go RecognizedSKID): another issuer's CertID, no word "replace".
      {"pebble_malformed_400_other_issuer",
       with_nonce(400,
                  problem_json("urn:ietf:params:acme:error:malformed",
                               "parsing ARI CertID failed: no known issuer matches the provided "
                               "Authority Key Identifier ",
                               400),
                  "n2"),
       new_order_rule::fall_back},
      {"any_malformed_400_with_replaces",
       with_nonce(400, problem_json("urn:ietf:params:acme:error:malformed", "something else", 400),
                  "n2"),
       new_order_rule::fall_back},
      {"unauthorized_other_account",
       with_nonce(403,
                  problem_json("urn:ietf:params:acme:error:unauthorized",
                               "the certificate in replaces belongs to another account", 403),
                  "n2"),
       new_order_rule::fall_back},
      {"rate_limited_keeps_replaces",
       with_nonce(429,
                  problem_json("urn:ietf:params:acme:error:rateLimited",
                               "too many new orders recently", 429),
                  "n2", {{"Retry-After", "30"}}),
       new_order_rule::wait_retry_after},
      {"plain_429_keeps_replaces", with_nonce(429, "", "n2"), new_order_rule::wait_retry_after},
      {"server_internal_keeps_replaces",
       with_nonce(500,
                  problem_json("urn:ietf:params:acme:error:serverInternal",
                               "error checking replaces", 500),
                  "n2"),
       new_order_rule::back_off},
      {"503_keeps_replaces", with_nonce(503, "<html>down</html>", "n2"), new_order_rule::back_off},
      {"bad_csr_fails",
       with_nonce(400,
                  problem_json("urn:ietf:params:acme:error:badCSR",
                               "CSR contains invalid identifiers", 400),
                  "n2"),
       new_order_rule::failed},
  };
}

class DecisionTable : public ::testing::TestWithParam<table_row> {};

TEST_P(DecisionTable, RuleFromTheWholeResponse) {
  const table_row& row = GetParam();
  problem_reader reader;
  const auto p = reader.read(row.first.reply->body);
  EXPECT_EQ(decide_new_order(row.first.reply->status, p ? &*p : nullptr, true), row.rule);
}

TEST_P(DecisionTable, MachineFollowsTheRule) {
  const table_row& row = GetParam();
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key), {row.first, created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  const auto& sent = b.server.sent();
  const auto fallbacks = only(b.log, event_kind::fallback);
  switch (row.rule) {
    case new_order_rule::fall_back:
      EXPECT_EQ(o.kind, outcome_kind::completed);
      ASSERT_EQ(sent.size(), 3u);  // HEAD, order with replaces, the same without, at once
      EXPECT_NE(sent[1].body.find("replaces"), std::string::npos);
      EXPECT_EQ(sent[2].body.find("replaces"), std::string::npos);
      EXPECT_EQ(nonce_of(sent[2]), "n2");
      ASSERT_EQ(fallbacks.size(), 1u);
      EXPECT_TRUE(m.fell_back());
      EXPECT_TRUE(b.waits().empty());
      break;
    case new_order_rule::wait_retry_after:
    case new_order_rule::back_off:
      EXPECT_EQ(o.kind, outcome_kind::completed);
      ASSERT_EQ(sent.size(), 3u);
      EXPECT_NE(sent[2].body.find("replaces"), std::string::npos);  // kept
      EXPECT_EQ(sent[1].body, sent[2].body);
      EXPECT_TRUE(fallbacks.empty());
      ASSERT_EQ(b.waits().size(), 1u);
      if (row.label == "rate_limited_keeps_replaces") {
        EXPECT_GE(b.waits()[0], 30s);
      }
      break;
    default:
      EXPECT_EQ(o.kind, outcome_kind::failed);
      EXPECT_EQ(sent.size(), 2u);
      EXPECT_TRUE(fallbacks.empty());
      EXPECT_NE(o.reason.find("badCSR"), std::string::npos) << o.reason;
  }
}

TEST(NewOrder, Malformed400FallsBackOnlyWhenReplacesWasSent) {
  problem_reader reader;
  const auto p = reader.read(problem_json("urn:ietf:params:acme:error:malformed", "x", 400));
  ASSERT_TRUE(p);
  EXPECT_EQ(decide_new_order(400, &*p, true), new_order_rule::fall_back);
  EXPECT_EQ(decide_new_order(400, &*p, false), new_order_rule::failed);
  // Not on other statuses of the same type without a word about the claim.
  EXPECT_EQ(decide_new_order(403, &*p, true), new_order_rule::failed);
  const auto rl = reader.read(problem_json("urn:ietf:params:acme:error:rateLimited", "x", 429));
  EXPECT_EQ(decide_new_order(429, &*rl, true), new_order_rule::wait_retry_after);
  const auto si = reader.read(problem_json("urn:ietf:params:acme:error:serverInternal", "x", 500));
  EXPECT_EQ(decide_new_order(500, &*si, true), new_order_rule::back_off);
}

TEST(NewOrder, MalformedAfterFallingBackFailsWithTheServersWords) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  const std::string body = problem_json("urn:ietf:params:acme:error:malformed",
                                        "Order cannot contain more than 100 DNS names", 400);
  b.server.script(std::string(order_key),
                  {with_nonce(400, body, "n2"), with_nonce(400, body, "n3")});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_EQ(b.server.sent().size(), 3u);  // HEAD, with replaces, without: no loop
  EXPECT_TRUE(m.fell_back());
  EXPECT_NE(o.reason.find("more than 100 DNS names"), std::string::npos) << o.reason;
}

INSTANTIATE_TEST_SUITE_P(Rows, DecisionTable, ::testing::ValuesIn(table_rows()),
                         [](const auto& i) { return std::string(i.param.label); });

TEST(NewOrder, FallbackEventCarriesTheServersTypeAndDetail) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(409,
                              problem_json("urn:ietf:params:acme:error:alreadyReplaced",
                                           "already replaced by order 77", 409),
                              "n2"),
                   created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  const auto ev = only(b.log, event_kind::fallback);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0]->why.find("alreadyReplaced"), std::string::npos) << ev[0]->why;
  EXPECT_NE(ev[0]->why.find("already replaced by order 77"), std::string::npos) << ev[0]->why;
}

TEST(NewOrder, BadNonceKeepsReplacesAndNeverFallsBack) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(400,
                              problem_json("urn:ietf:params:acme:error:badNonce",
                                           "nonce for replaces request was stale", 400),
                              "n2"),
                   created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_TRUE(only(b.log, event_kind::fallback).empty());
  EXPECT_NE(b.server.sent()[2].body.find("replaces"), std::string::npos);
}

TEST(NewOrder, TransportErrorKeepsReplaces) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1"), nonce_reply("n2")});
  b.server.script(std::string(order_key),
                  {scripted_reply::fail(make_error_code(errc::transport_timeout)), created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  // The nonce of the lost request is not reused: a fresh one is fetched.
  EXPECT_EQ(b.requests()[2], "HEAD /acme/new-nonce");
  EXPECT_NE(b.server.sent()[3].body.find("replaces"), std::string::npos);
  EXPECT_TRUE(only(b.log, event_kind::fallback).empty());
}

TEST(NewOrder, SecondRejectionAfterFallingBackFailsWithoutLooping) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(409,
                              problem_json("urn:ietf:params:acme:error:conflict",
                                           "already has a replacement order", 409),
                              "n2")});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_EQ(b.server.calls(order_key), 2u);
  EXPECT_EQ(only(b.log, event_kind::fallback).size(), 1u);
  EXPECT_NE(o.reason.find("refused again after falling back"), std::string::npos) << o.reason;
}

TEST(NewOrder, RejectionWithoutReplacesSentFails) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(
      std::string(order_key),
      {with_nonce(409, problem_json("urn:ietf:params:acme:error:alreadyReplaced", "x", 409),
                  "n2")});
  new_order_machine m{new_order_options{}, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::failed);
  EXPECT_EQ(b.server.calls(order_key), 1u);
}

TEST(NewOrder, RateLimitPastTheDeadlineEndsStillPending) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(
      std::string(order_key),
      {with_nonce(
          429, problem_json("urn:ietf:params:acme:error:rateLimited", "too many certificates", 429),
          "n2", {{"Retry-After", "86400"}})});
  new_order_machine m{renewal_order(), default_policy(10min), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  ASSERT_TRUE(o.not_before.has_value());
  EXPECT_GE(*o.not_before, t0 + 86400s);
  EXPECT_EQ(b.server.calls(order_key), 1u);
}

// --- errors without Retry-After (docs/sources.md#globalsign-2020-10-28) --------------------------

TEST(Errors, RateLimitWithoutRetryAfterBacksOffExponentiallyWithJitter) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  const auto limited = with_nonce(
      429, problem_json("urn:ietf:params:acme:error:rateLimited", "too many", 429), "n2");
  b.server.script(std::string(order_key), {limited, limited, limited, limited, created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{5}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  const auto waits = b.waits();
  ASSERT_EQ(waits.size(), 4u);
  for (std::size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], 4s * (1 << i)) << i;  // 5 s doubling, +-20 %
    EXPECT_LE(waits[i], 6s * (1 << i)) << i;
  }
}

TEST(Errors, ErrorBackoffIsCappedAndSpread) {
  const error_backoff e;
  EXPECT_EQ(e.wait(1, 0.5), 5s);
  EXPECT_EQ(e.wait(2, 0.5), 10s);
  EXPECT_EQ(e.wait(30, 0.5), 5min);
  EXPECT_EQ(e.wait(1, 0.0), 4s);
  EXPECT_EQ(e.wait(30, 0.999999), 6min);
  EXPECT_EQ(error_backoff{.jitter = 0}.wait(3, 0.9), 20s);
}

TEST(Errors, RetryAfterReplacesTheErrorBackoff) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(503, "", "n2", {{"Retry-After", "3"}}), created()});
  new_order_machine m{renewal_order(), default_policy(), splitmix64{5}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(b.waits(), (std::vector<duration>{3s}));
}

TEST(Errors, ASuccessResetsTheErrorCount) {
  bench b;
  b.server.script(std::string(poll_key_for_errors),
                  {with_nonce(503, "", "a"), with_nonce(200, R"({"status":"processing"})", "b"),
                   with_nonce(503, "", "c"), with_nonce(200, R"({"status":"valid"})", "d")});
  poll_options o;
  o.url = "/acme/order/9";
  o.nonce.initial = "s";
  resource_poll_machine m{o, default_policy(), splitmix64{1}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  const auto waits = b.waits();
  ASSERT_EQ(waits.size(), 3u);
  EXPECT_LE(waits[0], 6s);  // first error
  EXPECT_LE(waits[2], 6s);  // first error again after the 200
}

// --- polling orders, authorizations, challenges ---------------------------------------------------

constexpr std::string_view order_url = "/acme/order/1";
constexpr std::string_view poll_key = "POST /acme/order/1";

scripted_reply processing(std::optional<int> retry_after_s) {
  std::vector<header_field> h{{"Replay-Nonce", "p"}};
  if (retry_after_s) h.push_back({"Retry-After", std::to_string(*retry_after_s)});
  return reply(200, R"({"status":"processing"})", std::move(h));
}
scripted_reply order_valid() {
  return with_nonce(200, R"({"status":"valid","certificate":"https://ca.example/cert/1"})", "v");
}

poll_options order_poll() {
  poll_options o;
  o.url = std::string(order_url);
  o.kind = resource_kind::order;
  o.nonce.initial = "start";
  return o;
}

TEST(Poll, EveryPollIsPostAsGetWithAFreshNonce) {
  bench b;
  b.server.script(std::string(poll_key), {processing(3), order_valid()});
  resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  ASSERT_EQ(b.server.sent().size(), 2u);
  for (const auto& r : b.server.sent()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.body, "");  // POST-as-GET (RFC 8555 §6.3)
  }
  EXPECT_EQ(nonce_of(b.server.sent()[0]), "start");
  EXPECT_EQ(nonce_of(b.server.sent()[1]), "p");
  EXPECT_EQ(m.status(), resource_status::valid);
}

TEST(Poll, HonoursEveryRepliesRetryAfterStretchedWhileStillProcessing) {
  bench b;
  b.server.script(std::string(poll_key),
                  {processing(3), processing(3), processing(3), processing(10), order_valid()});
  resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  // 3 s, then x1.25 per further processing reply; the fourth reply asks for 10 s: 10 x 1.25^3.
  EXPECT_EQ(b.waits(), (std::vector<duration>{3000ms, 3750ms, 4688ms, 19531ms}));
}

TEST(Poll, StretchIsCappedAtFourTimesTheServersValue) {
  EXPECT_EQ(stretched_retry_after(3s, 0, {}), 3s);
  EXPECT_EQ(stretched_retry_after(3s, 1, {}), 3750ms);
  EXPECT_EQ(stretched_retry_after(3s, 50, {}), 12s);
  EXPECT_EQ(stretched_retry_after(3s, 5, poll_pacing{.stretch = 1.0}), 3s);
}

TEST(Poll, WithoutRetryAfterTheAcmeSchedule) {
  bench b;
  b.server.script(std::string(poll_key), {processing({}), processing({}), processing({}),
                                          processing({}), processing({}), order_valid()});
  resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(b.waits(), (std::vector<duration>{2900ms, 2100ms, 2300ms, 2600ms, 2700ms}));
}

TEST(Poll, NeverSoonerThanOneSecond) {
  bench b;
  b.server.script(std::string(poll_key), {processing(0), order_valid()});
  resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  ASSERT_EQ(b.waits().size(), 1u);
  EXPECT_GE(b.waits()[0], 1s);
}

TEST(Poll, WaitFirstUsesTheTriggeringRepliesRetryAfter) {
  bench b;
  b.server.script(std::string(poll_key), {processing(3), order_valid()});
  auto opts = order_poll();
  opts.wait_first = true;
  opts.first_retry_after = 3s;
  resource_poll_machine m{opts, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(b.log.front().kind, event_kind::wait);
  EXPECT_EQ(b.waits(), (std::vector<duration>{3000ms, 3750ms}));
}

TEST(Poll, ChallengeErrorIsSurfacedAndPollsSlowDown) {
  // RFC 8555 §8.2 as step-ca does it (docs/sources.md#step-ca-challenge-retries): the challenge
  // stays processing while the server retries validation, with an error and a Retry-After.
  bench b;
  const std::string key = "POST /acme/chall/1";
  const std::string retrying =
      R"({"type":"http-01","status":"processing","token":"tok","url":"https://ca.example/acme/chall/1",)"
      R"("error":{"type":"urn:ietf:params:acme:error:connection","detail":"connection refused by 192.0.2.1:80"}})";
  b.server.script(key, {with_nonce(200, retrying, "c1", {{"Retry-After", "2"}}),
                        with_nonce(200, retrying, "c2"),
                        with_nonce(200, R"({"type":"http-01","status":"valid"})", "c3")});
  poll_options o;
  o.url = "/acme/chall/1";
  o.kind = resource_kind::challenge;
  o.nonce.initial = "start";
  resource_poll_machine m{o, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  const auto errors = only(b.log, event_kind::processing_error);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0]->why.find("connection: connection refused by 192.0.2.1:80"),
            std::string::npos)
      << errors[0]->why;
  const auto verdicts = only(b.log, event_kind::verdict);
  EXPECT_NE(verdicts[0]->why.find("challenge processing: connection"), std::string::npos)
      << verdicts[0]->why;
  // RFC 8555 §8.2: not closer than 5 s while the server retries, even though it asked for 2.
  EXPECT_EQ(b.waits(), (std::vector<duration>{5s, 5s}));
  for (const auto* w : only(b.log, event_kind::wait)) EXPECT_EQ(w->wait_why, wait_reason::floor);
}

TEST(Poll, InvalidFailsWithTheServersError) {
  bench b;
  b.server.script(
      std::string(poll_key),
      {with_nonce(
          200,
          R"({"status":"invalid","error":{"type":"urn:ietf:params:acme:error:badCSR","detail":"key too small"}})",
          "x")});
  resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_NE(o.reason.find("order invalid: badCSR: key too small"), std::string::npos) << o.reason;
}

TEST(Poll, InvalidAuthorizationNamesItsChallengesError) {
  bench b;
  b.server.script(
      "POST /acme/authz/1",
      {with_nonce(
          200,
          R"({"status":"invalid","identifier":{"type":"dns","value":"example.com"},)"
          R"("challenges":[{"type":"http-01","url":"https://ca.example/c/1","status":"invalid",)"
          R"("error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"wrong key authorization"}}]})",
          "x")});
  poll_options o;
  o.url = "/acme/authz/1";
  o.kind = resource_kind::authorization;
  o.nonce.initial = "s";
  resource_poll_machine m{o, default_policy(), splitmix64{1}, b.sink()};
  const outcome out = b.run_machine(m);
  EXPECT_EQ(out.kind, outcome_kind::failed);
  EXPECT_NE(out.reason.find("authorization invalid: unauthorized: wrong key authorization"),
            std::string::npos)
      << out.reason;
}

TEST(Poll, StatusRules) {
  EXPECT_EQ(poll_rule(resource_kind::order, resource_status::ready).verdict, verdict::done);
  EXPECT_EQ(poll_rule(resource_kind::challenge, resource_status::ready).verdict, verdict::pending);
  EXPECT_EQ(poll_rule(resource_kind::authorization, resource_status::pending).verdict,
            verdict::pending);
  EXPECT_EQ(poll_rule(resource_kind::order, resource_status::processing).verdict, verdict::pending);
  for (auto s : {resource_status::invalid, resource_status::deactivated, resource_status::expired,
                 resource_status::revoked})
    EXPECT_EQ(poll_rule(resource_kind::authorization, s).verdict, verdict::permanent);
  EXPECT_EQ(poll_rule(resource_kind::order, resource_status::unknown).verdict, verdict::pending);
  EXPECT_EQ(resource_kind_from_name("authz"), resource_kind::authorization);
  EXPECT_EQ(resource_kind_from_name("authorization"), resource_kind::authorization);
  EXPECT_FALSE(resource_kind_from_name("orders").has_value());
}

TEST(Poll, ReadyOrderEndsThePoll) {
  bench b;
  b.server.script(std::string(poll_key), {with_nonce(200, R"({"status":"ready"})", "x")});
  resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_EQ(m.status(), resource_status::ready);
}

TEST(Poll, DeadlineEndsStillPending) {
  bench b;
  b.server.script(std::string(poll_key), {processing(3)});
  resource_poll_machine m{order_poll(), default_policy(60s), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  EXPECT_LE(b.clock.now() - t0, 60s);
}

TEST(Poll, UnreadableBodyIsReadAgainAndErrorsAreTriaged) {
  {
    bench b;
    b.server.script(std::string(poll_key), {with_nonce(200, "<html>", "x"), order_valid()});
    resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
    EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
    EXPECT_EQ(b.waits().size(), 1u);
  }
  {
    bench b;
    b.server.script(
        std::string(poll_key),
        {with_nonce(429, problem_json("urn:ietf:params:acme:error:rateLimited", "slow", 429), "x",
                    {{"Retry-After", "20"}}),
         order_valid()});
    resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
    EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
    EXPECT_EQ(b.waits(), (std::vector<duration>{20s}));
  }
  {
    bench b;
    b.server.script(
        std::string(poll_key),
        {with_nonce(404,
                    problem_json("urn:ietf:params:acme:error:malformed", "No order for ID 1", 404),
                    "x")});
    resource_poll_machine m{order_poll(), default_policy(), splitmix64{1}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::failed);
    EXPECT_NE(o.reason.find("No order for ID 1"), std::string::npos);
  }
}

// --- ARI (RFC 9773 §4) --------------------------------------------------------------------------

std::string window_body(time_point start, time_point end) {
  return R"({"suggestedWindow":{"start":")" + format_rfc3339(start) + R"(","end":")" +
         format_rfc3339(end) + R"("},"explanationURL":"https://ca.example/why"})";
}

const std::string ari_key = std::string("GET /acme/renewal-info/") + std::string(cert_id);

ari_options ari_for(time_point not_after) {
  ari_options o;
  o.cert_id = std::string(cert_id);
  o.not_after = not_after;
  return o;
}

TEST(Ari, PicksATimeInTheWindowWaitsAndRenews) {
  bench b;
  const time_point start = t0 + 24h * 60, end = start + 48h;
  b.server.script(ari_key, {reply(200, window_body(start, end), {{"Retry-After", "21600"}})});
  ari_machine m{ari_for(t0 + 24h * 90), ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome o = b.run_machine(m);
  ASSERT_EQ(o.kind, outcome_kind::renew_at);
  ASSERT_TRUE(o.not_before.has_value());
  EXPECT_GE(*o.not_before, start);
  EXPECT_LT(*o.not_before, end);
  EXPECT_EQ(b.clock.now(), *o.not_before);                      // waited for the window
  EXPECT_EQ(only(b.log, event_kind::renewal_time).size(), 1u);  // the pick is kept
  // Polled every 6 h (the server's Retry-After) until the chosen time.
  const auto waits = b.waits();
  ASSERT_GE(waits.size(), 2u);
  for (std::size_t i = 0; i + 1 < waits.size(); ++i) EXPECT_EQ(waits[i], 6h);
  EXPECT_EQ(only(b.log, event_kind::wait).back()->wait_why, wait_reason::window);
  EXPECT_LE(waits.back(), 6h);
}

TEST(Ari, WindowInThePastMeansNow) {
  bench b;
  b.server.script(ari_key, {reply(200, window_body(t0 - 48h, t0 - 24h), {{"Retry-After", "60"}})});
  ari_machine m{ari_for(t0 + 24h), ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::renew_at);
  EXPECT_EQ(o.not_before, t0);
  EXPECT_TRUE(b.waits().empty());
}

TEST(Ari, RetryAfterIsClamped) {
  for (const auto& [header, want] :
       std::vector<std::pair<std::string, duration>>{{"10", 1min}, {"259200", 24h}, {"3600", 1h}}) {
    bench b;
    b.server.script(ari_key, {reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31),
                                    {{"Retry-After", header}})});
    ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
    ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
    EXPECT_EQ(b.waits().front(), want) << header;
  }
}

TEST(Ari, ClampIsConfigurable) {
  bench b;
  b.server.script(ari_key,
                  {reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31), {{"Retry-After", "10"}})});
  auto o = ari_for(t0 + 24h * 60);
  o.min_retry_after = 5min;
  ari_machine m{o, ari_error_policy(), splitmix64{7}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
  EXPECT_EQ(b.waits().front(), 5min);
}

TEST(Ari, NoRetryAfterMeansSixHours) {
  bench b;
  b.server.script(ari_key, {reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31))});
  ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
  EXPECT_EQ(b.waits().front(), 6h);
}

TEST(Ari, TemporaryErrorsBackOffThenSixHours) {
  bench b;
  b.server.script(ari_key, {reply(503), reply(503), reply(503), reply(503), reply(503), reply(503),
                            reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31))});
  ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
  const auto waits = b.waits();
  ASSERT_GE(waits.size(), 6u);
  // Five backed-off retries (1 min doubling, +-20 %), then the long-term interval.
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_GE(waits[i], 48s * (1 << i)) << i;
    EXPECT_LE(waits[i], 72s * (1 << i)) << i;
  }
  EXPECT_EQ(waits[5], 6h);
}

TEST(Ari, FirstErrorBackoffIsSpread) {
  // Clients failed by one outage must not all come back at the same second.
  std::vector<duration> firsts;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    bench b;
    b.server.script(ari_key, {reply(503), reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31))});
    ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{seed}, b.sink()};
    ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
    firsts.push_back(b.waits().front());
    EXPECT_GE(firsts.back(), 48s);
    EXPECT_LE(firsts.back(), 72s);
  }
  std::sort(firsts.begin(), firsts.end());
  EXPECT_GE(firsts.back() - firsts.front(), 10s);
}

TEST(Ari, ErrorsNameTheServersProblem) {
  bench b;
  b.server.script(ari_key, {reply(404, problem_json("urn:ietf:params:acme:error:malformed",
                                                    "Certificate not found", 404)),
                            reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31))});
  ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
  ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
  const auto verdicts = only(b.log, event_kind::verdict);
  EXPECT_EQ(verdicts[0]->verdict, verdict::transient);  // the run goes on
  EXPECT_NE(verdicts[0]->why.find("malformed: Certificate not found"), std::string::npos)
      << verdicts[0]->why;
}

TEST(Ari, LongTermErrorsWaitSixHours) {
  for (const auto& r :
       {reply(200, R"({"suggestedWindow":{"start":"x"}})"), reply(404),
        reply(400, problem_json("urn:ietf:params:acme:error:malformed", "bad", 400))}) {
    bench b;
    b.server.script(ari_key, {r, reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31))});
    ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
    ASSERT_EQ(b.run_machine(m).kind, outcome_kind::renew_at);
    EXPECT_EQ(b.waits().front(), 6h);
  }
}

TEST(Ari, NeverPollsAtOrAfterNotAfter) {
  {
    bench b;  // expired: no request at all
    ari_machine m{ari_for(t0 - 1s), ari_error_policy(), splitmix64{7}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::renew_at);
    EXPECT_EQ(o.not_before, t0);
    EXPECT_TRUE(b.server.sent().empty());
  }
  {
    bench b;  // errors until notAfter: renew now rather than poll past it
    b.server.script(ari_key, {reply(404)});
    ari_machine m{ari_for(t0 + 2h), ari_error_policy(), splitmix64{7}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::renew_at);
    EXPECT_EQ(b.server.sent().size(), 1u);
    EXPECT_EQ(o.not_before, t0);
    EXPECT_NE(o.reason.find("no renewal window before notAfter"), std::string::npos) << o.reason;
  }
}

TEST(Ari, AMovedWindowIsPickedAgain) {
  bench b;
  b.server.script(
      ari_key, {reply(200, window_body(t0 + 24h * 30, t0 + 24h * 31), {{"Retry-After", "86400"}}),
                reply(200, window_body(t0 + 12h, t0 + 13h), {{"Retry-After", "86400"}})});
  ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome o = b.run_machine(m);
  ASSERT_EQ(o.kind, outcome_kind::renew_at);
  EXPECT_EQ(only(b.log, event_kind::renewal_time).size(), 2u);
  // The second window (moved earlier, e.g. after a revocation) had passed by the second poll.
  EXPECT_EQ(o.not_before, t0 + 24h);
}

TEST(Ari, WithoutWaitingForTheWindowFinishesAtOnce) {
  bench b;
  const time_point start = t0 + 24h * 30;
  b.server.script(ari_key, {reply(200, window_body(start, start + 24h))});
  auto o = ari_for(t0 + 24h * 60);
  o.wait_for_window = false;
  ari_machine m{o, ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome out = b.run_machine(m);
  EXPECT_EQ(out.kind, outcome_kind::renew_at);
  EXPECT_EQ(b.clock.now(), t0);
  ASSERT_TRUE(out.not_before.has_value());
  EXPECT_GE(*out.not_before, start);
}

// --- what a person can act on (RFC 8555 §6.6, §6.7.1, §7.3.3, §7.4) ------------------------------

namespace more {

TEST(RateLimit, AHintOfHoursIsNotCutByTheCeiling) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(
      std::string(order_key),
      {with_nonce(429, problem_json("urn:ietf:params:acme:error:rateLimited", "slow down", 429),
                  "n2", {{"Retry-After", "10800"}}),
       created()});
  new_order_machine m{renewal_order(), default_policy(24h), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::completed);
  ASSERT_EQ(b.waits().size(), 1u);
  EXPECT_EQ(b.waits()[0], 3h);  // not the 1 h ceiling
}

TEST(RateLimit, AHintPastTheDeadlineEndsStillPendingWithTheUncutTime) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(429, problem_json("urn:ietf:params:acme:error:rateLimited", "x", 429),
                              "n2", {{"Retry-After", "10800"}})});
  new_order_machine m{renewal_order(), default_policy(2h), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  ASSERT_TRUE(o.not_before);
  EXPECT_EQ(*o.not_before, t0 + 3h);
  EXPECT_EQ(b.server.sent().size(), 2u);
}

TEST(Reasons, SubproblemsAndInstanceAreInTheReason) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(
      std::string(order_key),
      {with_nonce(
          400,
          R"({"type":"urn:ietf:params:acme:error:caa","detail":"Refer to sub-problems for more information","instance":"https://ca.example/i/1","subproblems":[)"
          R"({"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids","identifier":{"type":"dns","value":"a.example"}},)"
          R"({"type":"urn:ietf:params:acme:error:dns","detail":"NXDOMAIN","identifier":{"type":"dns","value":"b.example"}}]})",
          "n2")});
  new_order_machine m{new_order_options{}, default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_NE(o.reason.find("(see https://ca.example/i/1)"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("a.example: caa: CAA forbids"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("b.example: dns: NXDOMAIN"), std::string::npos) << o.reason;
}

TEST(Reasons, UserActionRequiredNamesTheTermsOfService) {
  const std::vector<header_field> h{
      {"Link", R"(<https://ca.example/dir>;rel="index")"},
      {"link",
       R"(<https://ca.example/a>;rel="up", <https://ca.example/tos.pdf>; rel="terms-of-service")"}};
  const auto tos = terms_of_service_link(h);
  ASSERT_TRUE(tos);
  EXPECT_EQ(*tos, "https://ca.example/tos.pdf");
  EXPECT_FALSE(terms_of_service_link(std::vector<header_field>{{"Link", "<unclosed"}}));
  EXPECT_FALSE(terms_of_service_link(std::vector<header_field>{{"Link", ""}}));

  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(403,
                              problem_json("urn:ietf:params:acme:error:userActionRequired",
                                           "Terms of service have changed", 403),
                              "n2", h)});
  new_order_machine m{new_order_options{}, default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::needs_person);
  EXPECT_EQ(o.action, "https://ca.example/tos.pdf");
  EXPECT_NE(o.reason.find("terms of service: https://ca.example/tos.pdf"), std::string::npos)
      << o.reason;
}

// Answers no retry fixes end the run needs_person with what the person needs, at once: no wait
// for a Retry-After, no second request (docs/operations.md, "Needs a person").
TEST(NeedsPerson, APauseARefusedIdentifierAndAnUnauthorizedAccountStopAtOnce) {
  struct row {
    const char* label;
    int status;
    std::string body;
    std::vector<header_field> headers;
    const char* action;
  };
  const std::vector<row> rows{
      {"paused_as_rate_limit",
       429,
       problem_json("urn:ietf:params:acme:error:rateLimited",
                    "Your account is temporarily prevented from requesting certificates for "
                    "example.com and possibly others. Please visit: "
                    "https://portal.letsencrypt.org/sfe/v1/unpause?jwt=abc.def.ghi",
                    429),
       {{"Retry-After", "60"}},
       "https://portal.letsencrypt.org/sfe/v1/unpause?jwt=abc.def.ghi"},
      {"paused_as_unauthorized",
       403,
       problem_json("urn:ietf:params:acme:error:unauthorized",
                    "Your account is temporarily prevented from requesting certificates for "
                    "a.example. Please visit: https://portal.example/unpause?jwt=x y",
                    403),
       {},
       "https://portal.example/unpause?jwt=x"},
      {"rejected_identifier",
       400,
       R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Cannot issue for \"example.internal\"","instance":"https://ca.example/why/1"})",
       {},
       "https://ca.example/why/1"},
      {"unauthorized_account",
       403,
       problem_json("urn:ietf:params:acme:error:unauthorized", "account is deactivated", 403),
       {},
       ""},
      {"external_account_required",
       403,
       problem_json("urn:ietf:params:acme:error:externalAccountRequired",
                    "this CA requires an external account binding", 403),
       {},
       ""},
  };
  for (const row& r : rows) {
    bench b;
    b.server.script(std::string(nonce_key), {nonce_reply("n1")});
    b.server.script(std::string(order_key),
                    {with_nonce(r.status, r.body, "n2", r.headers), created()});
    new_order_machine m{new_order_options{}, default_policy(), splitmix64{1}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::needs_person) << r.label << ": " << o.reason;
    EXPECT_EQ(o.action, r.action) << r.label;
    EXPECT_EQ(b.server.sent().size(), 2u) << r.label;  // HEAD new-nonce, the order: no retry
    EXPECT_TRUE(b.waits().empty()) << r.label;
  }
  // A rate limit that is not a pause still waits and retries.
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key),
                  {with_nonce(429,
                              problem_json("urn:ietf:params:acme:error:rateLimited",
                                           "too many new orders recently", 429),
                              "n2", {{"Retry-After", "60"}}),
                   created()});
  new_order_machine m{new_order_options{}, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
}

TEST(NewOrderReply, A2xxThatIsNotAnOrderFails) {
  struct bad_created {
    const char* label;
    scripted_reply r;
    const char* says;
  };
  const std::vector<bad_created> cases{
      {"html", reply(200, "<html>portal</html>", {{"Content-Type", "text/html"}}),
       "without a Location and a body that is not an order: text/html, 19 bytes"},
      {"no_location", reply(201, order_created, {{"Replay-Nonce", "n2"}}), "without a Location"},
      {"empty_body", reply(201, "", {{"Location", "https://ca.example/acme/order/1"}}),
       "with a body that is not an order: 0 bytes"},
      {"json_not_order", reply(201, R"({"hello":"world"})", {{"Location", "/acme/order/1"}}),
       "with a body that is not an order"},
  };
  for (const auto& c : cases) {
    bench b;
    b.server.script(std::string(nonce_key), {nonce_reply("n1")});
    b.server.script(std::string(order_key), {c.r});
    new_order_machine m{renewal_order(), default_policy(), splitmix64{1}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::failed) << c.label;
    EXPECT_NE(o.reason.find(c.says), std::string::npos) << c.label << ": " << o.reason;
    EXPECT_EQ(b.server.sent().size(), 2u) << c.label;
  }
}

// --- ARI: error classes, fallback, explanation, resuming (RFC 9773 §4.2, §4.3.3) -----------------

TEST(AriErrors, OnlyTimeoutsAnd5xxAreTemporary) {
  struct c {
    const char* label;
    scripted_reply r;
    bool temporary;
  };
  const std::vector<c> cases{
      {"timeout", scripted_reply::fail(make_error_code(errc::transport_timeout)), true},
      {"500", reply(500, "", {{"Retry-After", "60"}}), true},
      {"503", reply(503), true},
      {"refused", scripted_reply::fail(make_error_code(errc::connection_refused)), false},
      {"dns", scripted_reply::fail(make_error_code(errc::dns_failure)), false},
      {"429_bare", reply(429), false},
      {"429_with_retry_after", reply(429, "", {{"Retry-After", "120"}}), false},
      {"404", reply(404), false},
      {"200_not_renewal_info", reply(200, "<html/>", {{"Retry-After", "60"}}), false},
  };
  for (const auto& k : cases) {
    bench b;
    b.server.script(ari_key, {k.r, reply(200, window_body(t0 + 24h * 5, t0 + 24h * 6))});
    ari_machine m{ari_for(t0 + 24h * 60), ari_error_policy(), splitmix64{7}, b.sink()};
    b.run_machine(m);
    ASSERT_FALSE(b.waits().empty()) << k.label;
    if (k.temporary) {
      EXPECT_LE(b.waits()[0], 72s) << k.label;
      EXPECT_GE(b.waits()[0], 48s) << k.label;
    } else {
      EXPECT_EQ(b.waits()[0], 6h) << k.label;
    }
  }
}

TEST(AriErrors, TemporaryTriesAreCappedThenSixHours) {
  bench b;
  b.server.script(ari_key, {reply(500, "", {{"Retry-After", "60"}})});
  ari_machine m{ari_for(t0 + 24h * 3), ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::renew_at);
  const auto w = b.waits();
  ASSERT_GT(w.size(), 6u);
  for (std::size_t i = 5; i < w.size(); ++i) EXPECT_EQ(w[i], 6h) << i;
  EXPECT_LT(o.sends, 20u);  // not 4320 polls at 60 s
}

// lego (cmd/internal/root/process_renew.go getDueDate) and certbot
// (certbot/_internal/renewal.py): renew when a third of the validity is left, half below 10 days.
time_point lego_due(time_point nb, time_point na) {
  const duration life = na - nb;
  const auto days =
      static_cast<double>(std::chrono::round<std::chrono::hours>(life).count()) / 24.0;
  return na - life / (days <= 10 ? 2 : 3);
}
time_point certbot_due(time_point nb, time_point na) {
  const duration life = na - nb;
  return life < 24h * 10 ? nb + life / 2 : nb + life * 2 / 3;
}

TEST(AriFallback, MatchesLegoAndCertbotOn90And6DayCertificates) {
  const fallback_renewal f;
  for (const duration life : {duration{24h * 90}, duration{24h * 6}}) {
    const time_point nb = t0, na = t0 + life;
    const time_point ours = f.at(nb, na);
    EXPECT_LE(std::chrono::abs(ours - lego_due(nb, na)), 1ms) << life.count();
    EXPECT_LE(std::chrono::abs(ours - certbot_due(nb, na)), 1ms) << life.count();
  }
  EXPECT_EQ(f.at(t0, t0 + 24h * 90), t0 + 24h * 60);
  EXPECT_EQ(f.at(t0, t0 + 24h * 6), t0 + 24h * 3);
  EXPECT_FALSE(f.check());
  EXPECT_TRUE(fallback_renewal{.fraction = 0}.check());
}

TEST(AriFallback, NoUsableWindowRenewsAtTheFallbackTime) {
  bench b;
  b.server.script(ari_key, {reply(404, problem_json("urn:ietf:params:acme:error:malformed",
                                                    "Requested certificate was not found", 404))});
  ari_options o = ari_for(t0 + 24h * 90);
  o.not_before = t0;
  ari_machine m{o, ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome out = b.run_machine(m);
  EXPECT_EQ(out.kind, outcome_kind::renew_at);
  ASSERT_TRUE(out.not_before);
  EXPECT_EQ(*out.not_before, t0 + 24h * 60);
  EXPECT_NE(out.reason.find("fallback"), std::string::npos) << out.reason;
  EXPECT_NE(out.reason.find("Requested certificate was not found"), std::string::npos);
  // A custom fraction is a policy value.
  bench b2;
  b2.server.script(ari_key, {reply(404)});
  o.fallback.fraction = 0.5;
  ari_machine m2{o, ari_error_policy(), splitmix64{7}, b2.sink()};
  EXPECT_EQ(*b2.run_machine(m2).not_before, t0 + 24h * 45);
}

TEST(AriOptions, NotAfterMustBeGiven) {
  bench b;
  ari_options o;
  o.cert_id = std::string(cert_id);
  ari_machine m{o, ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome out = b.run_machine(m);
  EXPECT_EQ(out.kind, outcome_kind::failed);
  EXPECT_NE(out.reason.find("ari_options.not_after"), std::string::npos) << out.reason;
  EXPECT_TRUE(b.server.sent().empty());
}

TEST(AriExplanation, InTheEventTheOutcomeAndTheAccessor) {
  bench b;
  b.server.script(
      ari_key,
      {reply(200,
             R"({"suggestedWindow":{"start":"2023-11-14T00:00:00Z","end":"2023-11-14T01:00:00Z"},)"
             R"("explanationURL":"https://ca.example/incident/42"})")});
  ari_machine m{ari_for(t0 + 24h * 90), ari_error_policy(), splitmix64{7}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(m.explanation_url(), "https://ca.example/incident/42");
  EXPECT_NE(o.reason.find("explanation: https://ca.example/incident/42"), std::string::npos)
      << o.reason;
  const auto picks = only(b.log, event_kind::renewal_time);
  ASSERT_EQ(picks.size(), 1u);
  EXPECT_NE(picks[0]->why.find("explanation: https://ca.example/incident/42"), std::string::npos);
}

TEST(AriProgress, TextRoundTrip) {
  ari_progress p;
  p.pick = t0 + 3h;
  p.window_start = t0 + 2h;
  p.window_end = t0 + 8h;
  p.next_poll = t0 + 1h + 500ms;
  p.errors_in_a_row = 3;
  const std::string text = to_text(p);
  EXPECT_EQ(text.rfind("ari-progress/1 pick=", 0), 0u) << text;
  const auto back = parse_ari_progress(text);
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(back.value(), p);
  EXPECT_EQ(parse_ari_progress("ari-progress/1 errors=0").value(), ari_progress{});
  for (const std::string& bad : std::vector<std::string>{
           "", "ari-progress/2 errors=0", "ari-progress/1x",
           "ari-progress/1 pick=2025-01-01T00:00:00Z", "ari-progress/1 errors=-1",
           "ari-progress/1 errors=1 errors=2", "ari-progress/1 next=soon",
           "ari-progress/1 window=2025-01-02T00:00:00Z/2025-01-01T00:00:00Z",
           "ari-progress/1 what=1", std::string("ari-progress/1 ") + std::string(600, 'x')}) {
    std::string why;
    EXPECT_FALSE(parse_ari_progress(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(AriProgress, ARestartNeitherDrawsAgainNorPollsEarly) {
  const time_point ws = t0 + 24h * 10, we = ws + 24h;
  // First run: reads the window, picks, and is stopped (the process ends) while waiting.
  bench b;
  b.server.script(ari_key, {reply(200, window_body(ws, we), {{"Retry-After", "21600"}})});
  ari_machine first{ari_for(t0 + 24h * 90), ari_error_policy(), splitmix64{7}, b.sink()};
  const action a = first.start(b.clock.now());
  ASSERT_TRUE(std::holds_alternative<certretry::send>(a));
  const auto r = b.server.send(std::get<certretry::send>(a).request);
  const action w = first.on_response(
      b.clock.now(), response_view{r.value().status, r.value().headers, r.value().body});
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(w));
  const ari_progress saved = first.progress();
  ASSERT_TRUE(saved.pick);
  ASSERT_TRUE(saved.next_poll);
  EXPECT_EQ(*saved.next_poll, t0 + 6h);

  // Second run, one hour later, from the saved text, with another seed.
  bench b2;
  b2.clock.advance(1h);
  b2.server.script(ari_key, {reply(200, window_body(ws, we), {{"Retry-After", "21600"}})});
  ari_options o = ari_for(t0 + 24h * 90);
  o.resume = parse_ari_progress(to_text(saved)).value();
  ari_machine second{o, ari_error_policy(), splitmix64{99}, b2.sink()};
  const outcome out = b2.run_machine(second);
  ASSERT_FALSE(b2.server.sent().empty());
  const auto sends = only(b2.log, event_kind::send);
  EXPECT_EQ(sends.front()->at, t0 + 6h);                        // not at the restart
  EXPECT_TRUE(only(b2.log, event_kind::renewal_time).empty());  // no new draw
  EXPECT_EQ(out.not_before, saved.pick);
}

TEST(NewOrder, ReplacesFollowsTheDirectoryNotADefault) {
  new_order_options o;
  o.replaces = std::string(cert_id);
  EXPECT_FALSE(o.renewal_info_advertised);
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key), {created()});
  new_order_machine m{o, default_policy(), splitmix64{1}, b.sink()};
  b.run_machine(m);
  ASSERT_EQ(b.server.sent().size(), 2u);
  EXPECT_EQ(b.server.sent()[1].body.find("replaces"), std::string::npos);
}

TEST(NewOrder, ProfileNotBeforeNotAfterInThePayload) {
  new_order_options o = renewal_order();
  o.profile = "shortlived";
  o.not_before = t0;
  o.not_after = t0 + 24h * 6;
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script(std::string(order_key), {created()});
  new_order_machine m{o, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  const std::string& body = b.server.sent()[1].body;
  EXPECT_NE(body.find(R"("profile":"shortlived")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("notBefore":"2023-11-14T22:13:20Z")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("notAfter":"2023-11-20T22:13:20Z")"), std::string::npos) << body;
  EXPECT_TRUE(check_json(body).ok()) << body;

  for (const char* bad : {"", "short lived", "x\"y\n"}) {
    new_order_options p;
    p.profile = bad;
    bench b2;
    new_order_machine m2{p, default_policy(), splitmix64{1}, b2.sink()};
    const outcome out = b2.run_machine(m2);
    EXPECT_EQ(out.kind, outcome_kind::failed) << bad;
    EXPECT_NE(out.reason.find("new_order_options.profile"), std::string::npos) << out.reason;
    EXPECT_TRUE(b2.server.sent().empty());
  }
}

// --- lost replies (RFC 8555 §7.4, §7.5.1) --------------------------------------------------------

post_options finalize_post() {
  post_options o;
  o.url = "/acme/order/1/finalize";
  o.payload = R"({"csr":"MIIB"})";
  o.kind = post_kind::finalize;
  o.resource_url = "/acme/order/1";
  o.nonce.initial = "n0";
  return o;
}

const std::string order_not_ready =
    problem_json("urn:ietf:params:acme:error:orderNotReady", "Order was already processing", 403);

TEST(LostReply, FinalizeRefusedAfterALossReadsTheOrder) {
  for (const char* status : {"processing", "valid"}) {
    bench b;
    b.server.script(std::string(nonce_key), {nonce_reply("n1")});
    b.server.script("POST /acme/order/1/finalize",
                    {scripted_reply::fail(make_error_code(errc::transport_timeout)),
                     with_nonce(403, order_not_ready, "n2")});
    b.server.script("POST /acme/order/1",
                    {with_nonce(200, std::string(R"({"status":")") + status + R"("})", "n3")});
    post_machine m{finalize_post(), default_policy(), splitmix64{1}, b.sink()};
    const outcome o = b.run_machine(m);
    EXPECT_EQ(o.kind, outcome_kind::completed) << status << ": " << o.reason;
    EXPECT_TRUE(m.looked_after_loss());
    EXPECT_EQ(m.reply().status, 200);
    EXPECT_EQ(b.server.sent().back().target, "/acme/order/1");
    EXPECT_TRUE(b.server.sent().back().body.empty());  // POST-as-GET
  }
}

TEST(LostReply, OrderStillReadyMeansSendOnceMoreThenFail) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script("POST /acme/order/1/finalize",
                  {scripted_reply::fail(make_error_code(errc::connection_reset)),
                   with_nonce(403, order_not_ready, "n2")});
  b.server.script("POST /acme/order/1", {with_nonce(200, R"({"status":"ready"})", "n3")});
  post_machine m{finalize_post(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  // lost, refused, read (ready), sent again, refused (no loss before it): failed, bounded.
  EXPECT_EQ(o.kind, outcome_kind::failed) << o.reason;
  EXPECT_LE(b.server.sent().size(), 6u);
}

TEST(LostReply, WithoutALossOrderNotReadyFails) {
  bench b;
  b.server.script("POST /acme/order/1/finalize", {with_nonce(403, order_not_ready, "n2")});
  post_machine m{finalize_post(), default_policy(), splitmix64{1}, b.sink()};
  const outcome o = b.run_machine(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_EQ(b.server.sent().size(), 1u);
  EXPECT_FALSE(m.looked_after_loss());
}

TEST(LostReply, ChallengeConflictAfterALossReadsTheChallenge) {
  bench b;
  b.server.script(std::string(nonce_key), {nonce_reply("n1")});
  b.server.script("POST /acme/chall/7 if-body-contains {}",
                  {scripted_reply::fail(make_error_code(errc::transport_timeout)),
                   with_nonce(409,
                              problem_json("urn:ietf:params:acme:error:conflict",
                                           "Authorization is already being validated", 409),
                              "n2")});
  b.server.script("POST /acme/chall/7", {with_nonce(200, R"({"status":"valid"})", "n3")});
  post_options o;
  o.url = "/acme/chall/7";
  o.payload = "{}";
  o.kind = post_kind::challenge;
  o.nonce.initial = "n0";
  post_machine m{o, default_policy(), splitmix64{1}, b.sink()};
  EXPECT_EQ(b.run_machine(m).kind, outcome_kind::completed);
  EXPECT_TRUE(m.looked_after_loss());
}

TEST(ScriptedTransport, RepliesCanDependOnTheBody) {
  virtual_clock clock{t0};
  scripted_transport t{clock};
  t.script("POST /x if-body-contains \"replaces\"", {reply(400)});
  t.script("POST /x if-body-lacks abc", {reply(202)});
  t.script("POST /x", {reply(201)});
  const auto with = t.send({"POST", "/x", {}, R"({"replaces":"a","abc":1})"});
  const auto without = t.send({"POST", "/x", {}, R"({"abc":1})"});
  const auto lacks = t.send({"POST", "/x", {}, R"({})"});
  EXPECT_EQ(with.value().status, 400);
  EXPECT_EQ(without.value().status, 201);
  EXPECT_EQ(lacks.value().status, 202);
}

TEST(AriProgress, ErrorsInARowSurviveARestart) {
  bench b;
  b.server.script(ari_key, {reply(503), reply(200, window_body(t0 + 24h * 5, t0 + 24h * 6))});
  ari_options o = ari_for(t0 + 24h * 90);
  ari_progress p;
  p.errors_in_a_row = 3;  // the fourth error waits about 8 min
  o.resume = p;
  ari_machine m{o, ari_error_policy(), splitmix64{7}, b.sink()};
  b.run_machine(m);
  ASSERT_FALSE(b.waits().empty());
  EXPECT_GE(b.waits()[0], 384s);
  EXPECT_LE(b.waits()[0], 576s);
}

}  // namespace more

}  // namespace
