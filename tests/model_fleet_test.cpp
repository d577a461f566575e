// The fleet simulator over the TPP and ACME server models (sim/model_fleet.hpp): each renewal is
// the library's own machines against one shared model server.
#include "certretry/sim/model_fleet.hpp"
#include "certretry/sim/model_clients.hpp"

#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::sim;
using namespace std::chrono_literals;

backoff_policy<any_schedule, any_jitter> tpp_policy() {
  limits l;
  l.max_wait = 10min;
  return {any_schedule{schedules::certctl}, any_jitter{no_jitter{}}, l, retry_after_policy{}};
}

renewal_plan spread(std::uint64_t n, duration over) {
  renewal_plan p;
  p.certificates = n;
  p.spread = renewal_spread::even;
  p.over = over;
  return p;
}

model_fleet<model::tpp_server> tpp_fleet(std::uint64_t n, double stuck, std::uint64_t seed = 1) {
  run_options r;
  r.deadline = 6h;
  r.seed = seed;
  tpp_fleet_options o;
  o.stuck = stuck;
  return model_fleet<model::tpp_server>{
      spread(n, 1h), tpp_fleet_client("certretry", tpp_policy(), o, seed), r, [](virtual_clock& c) {
        return model::tpp_server{c, model::tpp_server_options{}};
      }};
}

TEST(ModelFleet, EveryStuckTppRenewalRecoversWithOneResetEach) {
  auto f = tpp_fleet(300, 0.2);
  const fleet_result r = f.run();
  EXPECT_EQ(r.started, 300u);
  EXPECT_EQ(r.issued, 300u);
  EXPECT_EQ(r.failed + r.pending_at_deadline, 0u);
  EXPECT_EQ(f.needs_person(), 0u);
  // The server counted every request the fleet sent (conservation), one reset per stuck object.
  const model::tpp_counters& k = f.server().counters();
  EXPECT_EQ(k.calls(), r.requests);
  std::uint64_t stuck = 0;
  for (std::uint64_t i = 0; i < 300; ++i) {
    const model::tpp_certificate_info info = f.server().inspect(tpp_fleet_dn(i));
    EXPECT_FALSE(info.stuck) << i;
    EXPECT_FALSE(info.wrong) << i;
    stuck += info.last_case ? 1 : 0;  // its request met the failed enrollment
  }
  EXPECT_EQ(stuck, k.reset);  // each stuck object was reset once and enrolled again
  EXPECT_GT(k.reset, 30u);    // about 20 % of 300 were stuck
  EXPECT_LT(k.reset, 90u);
  EXPECT_EQ(k.issued, 300u);
  EXPECT_EQ(r.requests_per_certificate.count(), 300u);
  EXPECT_GT(r.calls_per_certificate(), 1.9);  // a request and at least one retrieve
}

TEST(ModelFleet, OneTppCertificateMatchesRunOnTheSameModel) {
  for (const double stuck : {0.0, 1.0}) {
    auto f = tpp_fleet(1, stuck, 7);
    std::vector<trace_entry> trace;
    f.on_trace([&](const trace_entry& e) { trace.push_back(e); });
    const fleet_result r = f.run();
    ASSERT_EQ(r.issued, 1u);

    // The same enrollment driven by run() on the model's own clock.
    virtual_clock clock{sim_epoch};
    virtual_sleeper sleeper{clock};
    model::tpp_server server{clock, model::tpp_server_options{}};
    auto client = tpp_fleet_client("certretry", tpp_policy(), tpp_fleet_options{stuck}, 7);
    client.prepare(server, 0);
    auto m = client.stage(0, 0, nullptr, nullptr, machine_rng(7, 0, 0));
    ASSERT_TRUE(m);
    // Drive the erased machine by hand as run() would.
    std::vector<std::string> sent;
    action a = m->start(clock.now());
    while (const auto* s = std::get_if<certretry::send>(&a)) {
      sent.push_back(std::string(s->request.method) + " " + std::string(s->request.target));
      auto rep = server.send(s->request);
      ASSERT_TRUE(rep);
      a = m->on_response(clock.now(), rep.value().view());
      while (const auto* w = std::get_if<certretry::wait>(&a)) {
        sleeper.sleep_for(w->delay);
        a = m->on_wait_elapsed(clock.now());
      }
    }
    EXPECT_EQ(m->end(clock.now()).result.kind, outcome_kind::issued);
    std::vector<std::string> fleet_sent;
    time_point last{};
    for (const trace_entry& e : trace) {
      if (!e.response) fleet_sent.push_back(e.method + " " + e.target);
      last = e.at;
    }
    EXPECT_EQ(fleet_sent, sent) << "stuck " << stuck;
    EXPECT_EQ(last, clock.now()) << "stuck " << stuck;
  }
}

TEST(ModelFleet, TheSameSeedGivesTheSameFigures) {
  const fleet_result a = tpp_fleet(200, 0.3, 5).run();
  const fleet_result b = tpp_fleet(200, 0.3, 5).run();
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.issued, b.issued);
  EXPECT_EQ(a.time_to_certificate.percentile(99), b.time_to_certificate.percentile(99));
  EXPECT_EQ(a.events, b.events);
}

model_fleet<model::acme_server> acme_fleet(std::uint64_t n, model::acme_server_options so) {
  run_options r;
  r.deadline = 6h;
  return model_fleet<model::acme_server>{spread(n, 1h),
                                         acme_fleet_client("certretry", acme::default_policy()), r,
                                         [so](virtual_clock& c) {
                                           return model::acme_server{c, so};
                                         }};
}

TEST(ModelFleet, EveryAcmeOrderGoesFromNewOrderToValid) {
  auto f = acme_fleet(300, {});
  const fleet_result r = f.run();
  EXPECT_EQ(r.issued, 300u);
  EXPECT_EQ(r.failed + r.pending_at_deadline, 0u);
  const model::acme_counters& k = f.server().counters();
  EXPECT_EQ(k.calls(), r.requests);
  EXPECT_EQ(k.new_order, 300u);
  EXPECT_EQ(k.finalize, 300u);
  EXPECT_EQ(k.orders_valid, 300u);
  // One nonce fetched per certificate (the new-order's); the finalize and the polls carry the
  // nonce of the reply before, so no poll comes early and no nonce is stale.
  EXPECT_EQ(k.new_nonce, 300u);
  EXPECT_EQ(k.bad_nonce, 0u);
  EXPECT_EQ(k.early_order_polls, 0u);
  EXPECT_EQ(r.requests, k.new_nonce + k.new_order + k.finalize + k.order_polls);
}

TEST(ModelFleet, AcmeRetriesAfterBadNoncesAndRateLimitsAreCountedAsRetries) {
  model::acme_server_options so;
  so.bad_nonce = 0.2;
  so.unavailable = 0.1;
  auto f = acme_fleet(300, so);
  const fleet_result r = f.run();
  // A fourth badNonce in a row fails the order (3 resends at once, then the machine gives up:
  // acme::nonce_options): with one in five refused, about 0.5 of 300 orders.
  EXPECT_EQ(r.issued + r.failed, 300u);
  EXPECT_LE(r.failed, 3u);
  EXPECT_EQ(r.pending_at_deadline, 0u);
  const model::acme_counters& k = f.server().counters();
  EXPECT_GT(k.unavailable, 0u);
  EXPECT_GE(r.retries, k.unavailable);  // each 503 is followed by a retry
  EXPECT_GT(r.amplification(), 1.0);
  EXPECT_EQ(r.unavailable, k.unavailable);
}

}  // namespace
