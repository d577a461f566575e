// What the machine fuzzers (fuzz/fuzz_machine_*.cpp, docs/fuzzing.md) found, pinned. Each has a
// regression input in the fuzzer's corpus too (fuzz/corpus/<target>/regress-*), replayed by
// ctest (fuzz.<target>).
//
// 1. A wake-up or a reply that came after the deadline (a suspended host, a reply held for a
//    day) was followed by another request: the deadline was only checked when deciding to wait.
//    Now no machine sends past its deadline; the run ends still_pending (machine/base.hpp).
// 2. An ACME error whose Retry-After exceeded the policy's Retry-After ceiling was waited as it
//    was, even when shorter than the policy's floor (min_delay): a wait below the floor.
//    Now the floor holds (acme/exchange.hpp).
// 3. A 429 (or 503) whose problem document said badNonce was resent at once, before its
//    Retry-After. RFC 8555 §6.5 sends badNonce as a 400; on other statuses the status rules.
// 4. A new-nonce HEAD answered 503 with a Retry-After and a nonce: the POST went at once with
//    that nonce, before the Retry-After. Now the wait comes first; the nonce is kept.
// 5. A challenge POST resent after a lost reply, answered 503 with a Retry-After and a body
//    naming the conflict a repeat gets (409, "already being validated"), was read as that
//    refusal: the challenge was fetched at once, before the Retry-After. Now only a status
//    that refuses (not a 408, 429 or 5xx) is read as that refusal (acme/exchange.hpp,
//    post_machine); the reply is then an error like any other.
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/tpp/enroll.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;
using duration = certretry::duration;
using time_point = certretry::time_point;

const time_point t0{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};

TEST(FuzzMachines, AWakeUpAfterTheDeadlineSendsNothing) {
  async_ca_poll_machine m{async_ca_triage{{async_ca::digicert, "42", ""}},
                          backoff_policy{schedules::certctl, no_jitter{}}, splitmix64{1}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const action a = m.on_response(t0, {200, {}, R"({"status":"pending"})"});
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_EQ(std::get<certretry::wait>(a).delay, 5s);
  // The host slept through the 10 min deadline: a day later, no poll.
  const action late = m.on_wait_elapsed(t0 + 24h);
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(late));
  const outcome o = m.take_outcome();
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  EXPECT_EQ(o.error, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(o.sends, 1u);
}

TEST(FuzzMachines, AWakeUpExactlyAtTheDeadlineStillPolls) {
  // The last wait cut to the deadline ends on it, and that poll goes (certctl's at 600 s).
  limits l;
  l.max_wait = 10s;
  async_ca_poll_machine m{async_ca_triage{{async_ca::digicert, "42", ""}},
                          backoff_policy{schedules::certctl, no_jitter{}, l}, splitmix64{1}};
  const response_view pending{200, {}, R"({"status":"pending"})"};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(m.on_response(t0, pending)));
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.on_wait_elapsed(t0 + 5s)));
  const action clamp = m.on_response(t0 + 5s, pending);
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(clamp));
  EXPECT_EQ(std::get<certretry::wait>(clamp).delay, 5s);
  EXPECT_TRUE(std::holds_alternative<certretry::send>(m.on_wait_elapsed(t0 + 10s)));
}

TEST(FuzzMachines, ATppReplyAfterTheDeadlineIsNotFollowedByARetrieve) {
  tpp::enroll_machine m{tpp::enroll_options{}, backoff_policy{schedules::vcert, no_jitter{}},
                        splitmix64{1}};
  const action first = m.start(t0);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(first));
  // The request's reply came 11 minutes later (the deadline is 10 min): no retrieve.
  const action a = m.on_response(
      t0 + 11min, {200, {}, R"({"CertificateDN":"\\VED\\Policy\\certretry\\example.com"})"});
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  const outcome o = m.take_outcome();
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  EXPECT_EQ(o.error, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(o.sends, 1u);
}

TEST(FuzzMachines, AnAcmeRetryAfterAboveTheCeilingButBelowTheFloorWaitsTheFloor) {
  limits l;
  l.max_wait = 10h;
  l.min_delay = 1h;
  retry_after_policy ra;
  ra.ceiling = 1s;
  acme::post_options o;
  o.url = "/acme/order/1/finalize";
  o.payload = R"({"csr":"MIIB"})";
  o.nonce.initial = "bm9uY2U";
  acme::post_machine m{o, backoff_policy{any_schedule{schedules::acme}, any_jitter{}, l, ra},
                       splitmix64{1}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const std::vector<header_field> h{{"Retry-After", "60"},
                                    {"Content-Type", "application/problem+json"},
                                    {"Replay-Nonce", "bm9uY2Uy"}};
  const action a = m.on_response(
      t0, {429, h, R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow down"})"});
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_GE(std::get<certretry::wait>(a).delay, 1h);
}

TEST(FuzzMachines, ABadNonceOnA429WaitsForItsRetryAfter) {
  acme::poll_options o;
  o.url = "/acme/order/1";
  o.nonce.initial = "bm9uY2U";
  acme::resource_poll_machine m{o, acme::default_policy(), splitmix64{1}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const std::vector<header_field> h{{"Retry-After", "30"},
                                    {"Content-Type", "application/problem+json"}};
  const action a = m.on_response(
      t0, {429, h, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"slow down"})"});
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_GE(std::get<certretry::wait>(a).delay, 30s);
}

TEST(FuzzMachines, ABadNonceOnA400IsStillResentAtOnce) {
  acme::poll_options o;
  o.url = "/acme/order/1";
  o.nonce.initial = "bm9uY2U";
  acme::resource_poll_machine m{o, acme::default_policy(), splitmix64{1}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const std::vector<header_field> h{{"Replay-Nonce", "bm9uY2Uy"}};
  const action a = m.on_response(
      t0, {400, h, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"})"});
  ASSERT_TRUE(std::holds_alternative<certretry::send>(a));
  EXPECT_EQ(std::get<certretry::send>(a).request.method, "POST");
}

TEST(FuzzMachines, ANewNonceErrorWithRetryAfterIsWaitedOutAndItsNonceKept) {
  acme::poll_options o;
  o.url = "/acme/order/1";  // no nonce at hand: HEAD new-nonce first
  acme::resource_poll_machine m{o, acme::default_policy(), splitmix64{1}};
  const action head = m.start(t0);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(head));
  EXPECT_EQ(std::get<certretry::send>(head).request.method, "HEAD");
  const std::vector<header_field> h{{"Retry-After", "20"}, {"Replay-Nonce", "bm9uY2U"}};
  const action a = m.on_response(t0, {503, h, ""});
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_GE(std::get<certretry::wait>(a).delay, 20s);
  const action post = m.on_wait_elapsed(t0 + std::get<certretry::wait>(a).delay);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(post));
  EXPECT_EQ(std::get<certretry::send>(post).request.method, "POST");
}

namespace lost_reply {

// A challenge POST whose reply was lost (a TLS error), resent with a fresh nonce.
acme::post_machine<> resent_challenge(action& resend, time_point& now) {
  acme::post_options o;
  o.url = "/acme/chall/1";
  o.payload = "{}";
  o.kind = acme::post_kind::challenge;
  o.nonce.initial = "bm9uY2U";
  acme::post_machine<> m{o, acme::default_policy(), splitmix64{1}};
  EXPECT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const action lost = m.on_transport_error(t0, make_error_code(errc::tls_failure));
  EXPECT_TRUE(std::holds_alternative<certretry::wait>(lost));
  const duration d = std::get<certretry::wait>(lost).delay;
  now = t0 + d;
  resend = m.on_wait_elapsed(now);
  // The nonce went with the first POST: a HEAD new-nonce, then the POST again.
  if (const auto* head = std::get_if<certretry::send>(&resend);
      head && head->request.method == "HEAD") {
    const std::vector<header_field> h{{"Replay-Nonce", "bm9uY2Uy"}};
    resend = m.on_response(now, {200, h, ""});
  }
  return m;
}

constexpr const char* conflict =
    R"({"type":"urn:ietf:params:acme:error:conflict","detail":"Authorization is already being validated"})";

TEST(FuzzMachines, AConflictBodyOnA503AfterALostReplyIsNotTheRefusedRepeat) {
  action resend;
  time_point now;
  acme::post_machine<> m = resent_challenge(resend, now);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(resend));
  ASSERT_EQ(std::get<certretry::send>(resend).request.target, "/acme/chall/1");
  const std::vector<header_field> h{{"Retry-After", "30"},
                                    {"Content-Type", "application/problem+json"},
                                    {"Replay-Nonce", "bm9uY2Uz"}};
  const action a = m.on_response(now, {503, h, conflict});
  // Not the refused repeat: no POST-as-GET of the challenge at once. The reply is then an
  // error like any other, and a known problem type decides (acme/reply.hpp, classify).
  EXPECT_FALSE(std::holds_alternative<certretry::send>(a));
  EXPECT_FALSE(m.looked_after_loss());
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(a));
  const outcome o = m.take_outcome();
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_NE(o.reason.find("POST answered 503: conflict"), std::string::npos) << o.reason;
}

TEST(FuzzMachines, AConflictOnA409AfterALostReplyStillReadsTheChallenge) {
  action resend;
  time_point now;
  acme::post_machine<> m = resent_challenge(resend, now);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(resend));
  const std::vector<header_field> h{{"Content-Type", "application/problem+json"},
                                    {"Replay-Nonce", "bm9uY2Uz"}};
  const action a = m.on_response(now, {409, h, conflict});
  ASSERT_TRUE(std::holds_alternative<certretry::send>(a));
  EXPECT_EQ(std::get<certretry::send>(a).request.method, "POST");
  EXPECT_TRUE(m.looked_after_loss());
}

}  // namespace lost_reply

}  // namespace
