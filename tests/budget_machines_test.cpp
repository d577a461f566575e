// Budgets and caller deadlines with the TPP and ACME machines (docs/budgets.md): every machine
// takes a shared budget and a caller deadline through machine_base, and none sends a request at
// or after the caller's deadline. budget_test.cpp covers the policies and the poll machine.
#include "certretry/acme/ari.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/budget/budget.hpp"
#include "certretry/budget/token_bucket.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using namespace certretry;
using duration = certretry::duration;
using time_point = certretry::time_point;

const time_point t0{std::chrono::seconds{1'700'000'000}};

// Keeps the time of every request a machine sends and of its budget denials.
struct send_times {
  std::vector<time_point>* sends;
  std::vector<time_point>* denials;
  void operator()(const event& e) const {
    if (e.kind == event_kind::send) sends->push_back(e.at);
    if (e.kind == event_kind::budget_denied) denials->push_back(e.at);
  }
};

struct world {
  virtual_clock clock{t0};
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  std::vector<time_point> sends;
  std::vector<time_point> denials;
  send_times sink() { return {&sends, &denials}; }

  // Runs `m` for a caller that gives up at `deadline`; checks that nothing went out at or after
  // it and that the run says so without inviting a retry.
  template <class M>
  outcome run_until(M& m, time_point deadline) {
    const outcome out = run(m, server, clock, sleeper, deadline);
    EXPECT_EQ(server.sent().size(), sends.size());
    for (const time_point t : sends) EXPECT_LT(t, deadline);
    return out;
  }
};

void expect_abandoned(const outcome& out) {
  EXPECT_EQ(out.kind, outcome_kind::cancelled) << out.reason;
  EXPECT_EQ(out.error, errc::caller_deadline_passed);
  EXPECT_FALSE(out.not_before.has_value());
}

scripted_reply unavailable(duration latency = {}) {
  return scripted_reply::respond(503, "<html>busy</html>", {{"Replay-Nonce", "nFresh"}}, latency);
}

backoff_policy<any_schedule, any_jitter> every_2s() {
  return {any_schedule{fixed_schedule{2s}}, any_jitter{no_jitter{}}, limits{}};
}

token_bucket_params grpc_10() { return token_bucket_params::grpc(10, 0.1).value(); }

// --- Venafi TPP ------------------------------------------------------------------------------

constexpr std::string_view tpp_request = "POST /vedsdk/certificates/request";
constexpr std::string_view tpp_retrieve = "POST /vedsdk/certificates/retrieve";

void script_tpp(world& w, scripted_reply retrieve) {
  w.server.script(std::string(tpp_request),
                  {scripted_reply::respond(200, R"({"CertificateDN":"\\VED\\Policy\\example"})")});
  w.server.script(std::string(tpp_retrieve), {std::move(retrieve)});
}

// TPP's errors paced like the schedule (2 s, no jitter), so that the send times are exact.
tpp::enroll_options tpp_errors_every_2s() {
  tpp::enroll_options o;
  o.errors = {.base = 2s, .factor = 1.0, .cap = 2s, .jitter = 0.0};
  return o;
}

TEST(TppWithCallerDeadline, NoRetrieveAtOrAfterIt) {
  world w;
  script_tpp(w, unavailable(1s));
  tpp::enroll_machine<tpp::stale_enrollment_detector, any_schedule, any_jitter, splitmix64,
                      send_times>
      m{tpp_errors_every_2s(), every_2s(), splitmix64{1}, w.sink()};
  const outcome out = w.run_until(m, t0 + 10s);
  expect_abandoned(out);
  // request 0 s; retrieves at 0, 3, 6, 9 s, each answered 1 s later; the next would be at 12 s.
  EXPECT_EQ(w.sends, (std::vector<time_point>{t0, t0, t0 + 3s, t0 + 6s, t0 + 9s}));
  EXPECT_EQ(w.clock.now(), t0 + 10s);
}

TEST(TppWithBudget, SharedGrpcBucketStopsRetrieves) {
  token_bucket_budget bucket{grpc_10()};
  world w;
  script_tpp(w, unavailable());
  tpp::enroll_machine<tpp::stale_enrollment_detector, any_schedule, any_jitter, splitmix64,
                      send_times, budget_ref<token_bucket_budget>>
      m{{},           every_2s(), splitmix64{1}, w.sink(), {}, certretry::default_max_body_bytes,
        share(bucket)};
  const outcome out = run(m, w.server, w.clock, w.sleeper);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, errc::budget_exhausted);
  // The request succeeds; five retrieves fail (10 -> 5); the sixth would be a retry at 5.
  EXPECT_EQ(out.sends, 6u);
  EXPECT_EQ(bucket.tokens(), 5.0);
  EXPECT_EQ(w.denials.size(), 1u);
}

TEST(TppWithBudget, ResetStepTakesABudgetToo) {
  token_bucket_budget bucket{token_bucket_params::aws_standard()};
  tpp::enroll_options o;
  o.certificate_dn = "\\VED\\Policy\\example";
  auto m = tpp::reset_step<tpp::stale_enrollment_detector, any_schedule, any_jitter, splitmix64,
                           null_sink, budget_ref<token_bucket_budget>>(o, every_2s(), splitmix64{1},
                                                                       {}, share(bucket));
  EXPECT_EQ(&m.budget().get(), &bucket);
}

// --- ACME ------------------------------------------------------------------------------------

acme::nonce_options with_nonce() {
  acme::nonce_options n;
  n.initial = "nStart";
  return n;
}

TEST(AcmeWithCallerDeadline, PostMachine) {
  world w;
  w.server.script("POST /acme/chall/1", {unavailable()});
  acme::post_options o;
  o.url = "/acme/chall/1";
  o.payload = "{}";
  o.nonce = with_nonce();
  acme::post_machine<any_schedule, any_jitter, splitmix64, send_times> m{
      std::move(o), acme::default_policy(), splitmix64{1}, w.sink()};
  const outcome out = w.run_until(m, t0 + 6s);
  expect_abandoned(out);
  EXPECT_GE(w.sends.size(), 1u);
}

TEST(AcmeWithCallerDeadline, NewOrderMachine) {
  world w;
  w.server.script("POST /acme/new-order", {unavailable()});
  acme::new_order_options o;
  o.nonce = with_nonce();
  acme::new_order_machine<any_schedule, any_jitter, splitmix64, send_times> m{
      std::move(o), acme::default_policy(), splitmix64{2}, w.sink()};
  const outcome out = w.run_until(m, t0 + 20s);
  expect_abandoned(out);
  EXPECT_GE(w.sends.size(), 2u);  // 0 s, then after the error backoff (5 s ± 20 %)
}

TEST(AcmeWithCallerDeadline, ResourcePollMachine) {
  world w;
  w.server.script(
      "POST /acme/order/1",
      {scripted_reply::respond(
          200,
          R"({"status":"processing","expires":"2030-01-08T00:00:00Z","identifiers":[{"type":"dns","value":"example.com"}],)"
          R"("authorizations":["https://ca.example/acme/authz/1"],"finalize":"https://ca.example/acme/order/1/finalize"})",
          {{"Replay-Nonce", "nNext"}, {"Retry-After", "3"}})});
  acme::poll_options o;
  o.url = "/acme/order/1";
  o.nonce = with_nonce();
  acme::resource_poll_machine<any_schedule, any_jitter, splitmix64, send_times> m{
      std::move(o), acme::default_policy(), splitmix64{3}, w.sink()};
  const outcome out = w.run_until(m, t0 + 10s);
  expect_abandoned(out);
  EXPECT_GE(w.sends.size(), 3u);  // 0, 3, 6 s at least: the server's pace
}

TEST(AcmeWithCallerDeadline, AriMachine) {
  world w;
  acme::ari_options o;
  o.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  o.not_after = t0 + std::chrono::days{30};
  w.server.script("GET /acme/renewal-info/" + o.cert_id, {unavailable()});
  acme::ari_machine<any_schedule, any_jitter, splitmix64, send_times> m{
      std::move(o), acme::ari_error_policy(), splitmix64{4}, w.sink()};
  const outcome out = w.run_until(m, t0 + 30s);
  expect_abandoned(out);
  EXPECT_EQ(w.sends, (std::vector<time_point>{t0}));  // the retry (1 min ± 20 %) is too late
  EXPECT_EQ(w.clock.now(), t0);                       // and is not waited for
}

TEST(AcmeWithBudget, BadNoncesDoNotDrainTheBucket) {
  // gRPC's rule with 2 tokens: a single failure would stop retries (1 <= 1).
  token_bucket_budget bucket{token_bucket_params::grpc(2, 0.1).value()};
  world w;
  const std::string bad_nonce =
      R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"stale","status":400})";
  w.server.script("POST /acme/chall/1",
                  {scripted_reply::respond(400, bad_nonce, {{"Replay-Nonce", "nOne"}}),
                   scripted_reply::respond(400, bad_nonce, {{"Replay-Nonce", "nTwo"}}),
                   scripted_reply::respond(200, "{}", {{"Replay-Nonce", "nThree"}})});
  acme::post_options o;
  o.url = "/acme/chall/1";
  o.payload = "{}";
  o.nonce = with_nonce();
  acme::post_machine<any_schedule, any_jitter, splitmix64, send_times,
                     budget_ref<token_bucket_budget>>
      m{std::move(o), acme::default_policy(), splitmix64{1}, w.sink(), share(bucket)};
  const outcome out = run(m, w.server, w.clock, w.sleeper);
  EXPECT_EQ(out.kind, outcome_kind::completed) << out.reason;
  EXPECT_EQ(out.sends, 3u);
  EXPECT_TRUE(w.denials.empty());
  EXPECT_EQ(bucket.tokens(), 2.0);
}

TEST(AcmeWithBudget, SharedBucketAcrossMachinesOfOneServer) {
  token_bucket_budget bucket{grpc_10()};
  world w;
  w.server.script("POST /acme/new-order", {unavailable()});
  w.server.script("POST /acme/order/1", {unavailable()});
  acme::new_order_options no;
  no.nonce = with_nonce();
  acme::new_order_machine<any_schedule, any_jitter, splitmix64, send_times,
                          budget_ref<token_bucket_budget>>
      order{std::move(no), acme::default_policy(), splitmix64{1}, w.sink(), share(bucket)};
  const outcome first = run(order, w.server, w.clock, w.sleeper);
  EXPECT_EQ(first.error, errc::budget_exhausted);
  EXPECT_EQ(first.sends, 5u);
  acme::poll_options po;
  po.url = "/acme/order/1";
  po.nonce = with_nonce();
  acme::resource_poll_machine<any_schedule, any_jitter, splitmix64, send_times,
                              budget_ref<token_bucket_budget>>
      poll{std::move(po), acme::default_policy(), splitmix64{2}, w.sink(), share(bucket)};
  const outcome second = run(poll, w.server, w.clock, w.sleeper);
  EXPECT_EQ(second.error, errc::budget_exhausted);
  EXPECT_EQ(second.sends, 1u);  // its first request only
  EXPECT_EQ(bucket.tokens(), 4.0);
}

// --- asynchronous CAs ------------------------------------------------------------------------

TEST(AsyncCaWithBudget, DeducedFromTheConstructor) {
  token_bucket_budget bucket{token_bucket_params::aws_standard()};
  world w;
  w.server.script("GET /order/certificate/42", {unavailable()});
  async_ca_poll_machine m{async_ca_triage{{async_ca::digicert, "42", ""}}, every_2s(),
                          splitmix64{1}, w.sink(), share(bucket)};
  static_assert(std::is_same_v<decltype(m)::budget_type, budget_ref<token_bucket_budget>>);
  const outcome out = w.run_until(m, t0 + 7s);
  expect_abandoned(out);
  EXPECT_EQ(w.sends, (std::vector<time_point>{t0, t0 + 2s, t0 + 4s, t0 + 6s}));
  EXPECT_EQ(bucket.tokens(), 500.0 - 3 * 5);  // three retries paid for
  async_ca_poll_machine plain{async_ca_triage{{async_ca::digicert, "42", ""}}, every_2s(),
                              splitmix64{1}};
  static_assert(std::is_same_v<decltype(plain)::budget_type, no_budget>);
}

}  // namespace
