// The ACME server model (testing/acme/server.hpp) against the servers it
// plays (docs/sources.md#boulder, docs/sources.md#pebble): what the order polling benchmark's
// figures rest on, and the replies ACME machines are tested against.
#include <certretry/acme/exchange.hpp>
#include <certretry/acme/reply.hpp>
#include <certretry/backoff/retry_after.hpp>
#include <certretry/testing/acme/server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using model::acme_server;

// RFC 9773 §4.1's example CertID: serial 0x87654321, whose DER content keeps a leading 0x00.
constexpr std::string_view rfc_cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
constexpr std::string_view rfc_serial = "000000000000000000000000000087654321";

std::string header(const response& r, std::string_view name) {
  return std::string(find_header(r.headers, name).value_or("<none>"));
}

// A POST in certretry's convention: payload as the body, the nonce as a Replay-Nonce field.
response post(acme_server& s, std::string_view url, std::string_view payload,
              const std::string& nonce) {
  const std::array<header_field, 1> h{{{"Replay-Nonce", nonce}}};
  auto r = s.send({"POST", url, h, payload});
  EXPECT_TRUE(r.has_value());
  return r.has_value() ? r.value() : response{};
}

response finalize(acme_server& s, std::uint64_t id) {
  return post(s, acme_server::finalize_path(id), R"({"csr":"MIIB"})", s.fresh_nonce());
}

response poll(acme_server& s, std::uint64_t id, const response& previous) {
  return post(s, acme_server::order_path(id), {}, header(previous, "Replay-Nonce"));
}

std::string_view status_of(const response& r) {
  static acme::object_reader reader;
  const auto obj = reader.read(r.body);
  return obj ? obj->status : std::string_view{"<unreadable>"};
}

// --- (a) order processing --------------------------------------------------------------------

TEST(AcmeServerModel, SigmaIsLnFiveOverZ99) {
  EXPECT_NEAR(model::acme_model::processing_sigma, std::log(5.0) / 2.326, 1e-12);
  EXPECT_NEAR(acme_server::sigma_for(2s, 10s), model::acme_model::processing_sigma, 1e-12);
}

// Processing times over 10 000 seeded orders: median 2 s and p99 10 s. The sample median of a
// lognormal with sigma 0.69 over 10 000 draws has a relative sd of ~0.9 % and the sample p99
// of ~2.6 %; the tolerances are ~5 and ~4 sd.
TEST(AcmeServerModel, ProcessingTimeMedianAndP99) {
  virtual_clock clock;
  acme_server s{clock, {.seed = 11, .latency = 0ms}};
  constexpr int n = 10000;
  std::vector<std::int64_t> ms;
  ms.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto id = s.create_order();
    ASSERT_EQ(finalize(s, id).status, 200);
    ms.push_back(s.inspect_order(id).processing.count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = static_cast<double>(ms[n / 2]);
  const double p99 = static_cast<double>(ms[n * 99 / 100]);
  EXPECT_NEAR(median, 2000.0, 100.0);
  EXPECT_NEAR(p99, 10000.0, 1000.0);
}

// An order's processing time depends on the seed and its number only.
TEST(AcmeServerModel, ProcessingTimeIsPerOrderAndSeeded) {
  virtual_clock c1, c2, c3;
  acme_server a{c1, {.seed = 5}}, b{c2, {.seed = 5}}, other{c3, {.seed = 6}};
  for (int i = 0; i < 3; ++i) {
    a.create_order();
    b.create_order();
    other.create_order();
  }
  c2.advance(1h);  // a different time of finalize, and a different order of calls
  finalize(b, 3);
  finalize(b, 1);
  finalize(a, 1);
  finalize(a, 3);
  finalize(other, 1);
  EXPECT_EQ(a.inspect_order(1).processing, b.inspect_order(1).processing);
  EXPECT_EQ(a.inspect_order(3).processing, b.inspect_order(3).processing);
  EXPECT_NE(a.inspect_order(1).processing, a.inspect_order(3).processing);
  EXPECT_NE(a.inspect_order(1).processing, other.inspect_order(1).processing);
}

// A median equal to the p99 makes sigma zero: every order processes for exactly that long.
model::acme_server_options fixed_processing(duration d) {
  model::acme_server_options o;
  o.latency = 0ms;
  o.processing_median = d;
  o.processing_p99 = d;
  return o;
}

TEST(AcmeServerModel, BoulderSendsRetryAfterThreeOnEveryProcessingReply) {
  virtual_clock clock;
  acme_server s{clock, fixed_processing(10s)};
  const auto id = s.create_order({"www.example.com"});
  const response fin = finalize(s, id);
  EXPECT_EQ(fin.status, 200);
  EXPECT_EQ(status_of(fin), "processing");
  EXPECT_EQ(header(fin, "Retry-After"), "3");
  const duration processing = s.inspect_order(id).processing;
  ASSERT_EQ(processing, 10s);
  clock.advance(3s);
  const response p = poll(s, id, fin);
  EXPECT_EQ(status_of(p), "processing");
  EXPECT_EQ(header(p, "Retry-After"), "3");
  clock.advance(processing);
  const response v = poll(s, id, p);
  EXPECT_EQ(status_of(v), "valid");
  EXPECT_EQ(header(v, "Retry-After"), "<none>");
  EXPECT_NE(v.body.find("\"certificate\":\"https://acme.test/acme/cert/1\""), std::string::npos);
  EXPECT_EQ(s.counters().orders_valid, 1u);
}

TEST(AcmeServerModel, NoRetryAfterStyleSendsNone) {
  virtual_clock clock;
  acme_server s{
      clock, {.seed = 2, .latency = 0ms, .order_style = model::acme_order_style::no_retry_after}};
  const auto id = s.create_order();
  const response fin = finalize(s, id);
  EXPECT_EQ(status_of(fin), "processing");
  EXPECT_EQ(header(fin, "Retry-After"), "<none>");
  clock.advance(100ms);
  const response p = poll(s, id, fin);
  EXPECT_EQ(status_of(p), "processing");
  EXPECT_EQ(header(p, "Retry-After"), "<none>");
  // Without a Retry-After nothing is too soon.
  EXPECT_EQ(s.counters().early_order_polls, 0u);
}

// A poll is a violation when it arrives sooner than the previous reply to that order (finalize
// included) asked; the finalize reply's 3 s counts like any other.
TEST(AcmeServerModel, CountsPollsSoonerThanRetryAfter) {
  virtual_clock clock;
  acme_server s{clock, fixed_processing(1min)};
  const auto id = s.create_order();
  const auto other = s.create_order();
  response r = finalize(s, id);
  finalize(s, other);
  clock.advance(1s);
  r = poll(s, id, r);  // 1 s after a 3 s Retry-After: early
  clock.advance(2999ms);
  r = poll(s, id, r);  // 2.999 s: early
  clock.advance(3s);
  r = poll(s, id, r);  // exactly 3 s: fine
  EXPECT_EQ(s.counters().order_polls, 3u);
  EXPECT_EQ(s.counters().early_order_polls, 2u);
  EXPECT_EQ(s.inspect_order(id).polls, 3u);
  EXPECT_EQ(s.inspect_order(id).early_polls, 2u);
  EXPECT_EQ(s.inspect_order(other).early_polls, 0u);
}

TEST(AcmeServerModel, FinalizeTwiceIsOrderNotReady) {
  virtual_clock clock;
  acme_server s{clock};
  const auto id = s.create_order();
  finalize(s, id);
  const response again = finalize(s, id);
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(again.body.find("urn:ietf:params:acme:error:orderNotReady"), std::string::npos);
}

// RFC 8555 §6.5: every reply carries a fresh nonce, and each nonce is good for one POST.
TEST(AcmeServerModel, NoncesAreFreshAndSingleUse) {
  virtual_clock clock;
  acme_server s{clock, {.latency = 0ms}};
  const auto id = s.create_order();
  const std::string n = s.fresh_nonce();
  const response fin = post(s, acme_server::finalize_path(id), "{}", n);
  EXPECT_EQ(fin.status, 200);
  EXPECT_TRUE(acme::is_valid_nonce(header(fin, "Replay-Nonce")));
  EXPECT_NE(header(fin, "Replay-Nonce"), n);
  const response reused = post(s, acme_server::order_path(id), {}, n);
  EXPECT_EQ(reused.status, 400);
  EXPECT_NE(reused.body.find("urn:ietf:params:acme:error:badNonce"), std::string::npos);
  EXPECT_TRUE(acme::is_valid_nonce(header(reused, "Replay-Nonce")));
  const response none = post(s, acme_server::order_path(id), {}, "");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(s.counters().bad_nonce, 2u);
  const auto head = s.send({"HEAD", model::acme_new_nonce_path});
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head.value().status, 200);
  EXPECT_TRUE(acme::is_valid_nonce(header(head.value(), "Replay-Nonce")));
}

TEST(AcmeServerModel, LatencyAdvancesTheClock) {
  virtual_clock clock;
  acme_server s{clock, {.latency = 50ms}};
  const auto id = s.create_order();
  const time_point t0 = clock.now();
  finalize(s, id);
  EXPECT_EQ(clock.now() - t0, 50ms);
}

// --- (b) renewalInfo -------------------------------------------------------------------------

model::acme_certificate rfc_certificate() {
  const time_point start = time_point{} + 24h * 20000;
  return {.cert_id = std::string(rfc_cert_id),
          .identifiers = {"example.com"},
          .window_start = start,
          .window_end = start + 48h,
          .explanation_url = {}};
}

// Boulder's renewalInfo Retry-After is 6 h ±20 %, as the model plays it
// (docs/sources.md#boulder-wfe).
TEST(AcmeServerModel, RenewalInfoRetryAfterIsSixHoursPlusMinusTwentyPercent) {
  virtual_clock clock;
  acme_server s{clock, {.seed = 4, .latency = 0ms}};
  s.add_certificate(rfc_certificate());
  const std::string path = acme_server::renewal_info_path(rfc_cert_id);
  duration lo = 24h, hi = 0s;
  for (int i = 0; i < 2000; ++i) {
    const auto r = s.send({"GET", path});
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r.value().status, 200);
    const auto ra = read_retry_after(r.value().headers, clock.now());
    ASSERT_TRUE(ra.has_value());
    lo = std::min(lo, ra.value());
    hi = std::max(hi, ra.value());
    clock.advance(ra.value());
  }
  EXPECT_GE(lo, std::chrono::duration_cast<duration>(std::chrono::minutes{288}));  // 4.8 h
  EXPECT_LE(hi, std::chrono::duration_cast<duration>(std::chrono::minutes{432}));  // 7.2 h
  // Spread over the range, not a constant.
  EXPECT_LT(lo, std::chrono::duration_cast<duration>(std::chrono::minutes{300}));
  EXPECT_GT(hi, std::chrono::duration_cast<duration>(std::chrono::minutes{420}));
  EXPECT_EQ(s.counters().early_renewal_info, 0u);
}

TEST(AcmeServerModel, RenewalInfoBodyReadsAndWindowMoves) {
  virtual_clock clock;
  acme_server s{clock, {.latency = 0ms}};
  const auto cert = rfc_certificate();
  s.add_certificate(cert);
  const time_point moved_start = clock.now() - 1h, moved_end = clock.now() + 1h;
  s.move_window(rfc_cert_id, moved_start, moved_end, clock.now() + 10h);
  const std::string path = acme_server::renewal_info_path(rfc_cert_id);
  acme::renewal_info_reader reader;
  auto r = s.send({"GET", path});
  ASSERT_TRUE(r.has_value());
  auto info = reader.read(r.value().body);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info.value().window_start, cert.window_start);
  EXPECT_EQ(info.value().window_end, cert.window_end);
  clock.advance(10h);
  r = s.send({"GET", path});
  ASSERT_TRUE(r.has_value());
  info = reader.read(r.value().body);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info.value().window_start, moved_start);
  EXPECT_EQ(info.value().window_end, moved_end);
}

TEST(AcmeServerModel, RenewalInfoCountsEarlyGets) {
  virtual_clock clock;
  acme_server s{clock, {.latency = 0ms}};
  s.add_certificate(rfc_certificate());
  const std::string path = acme_server::renewal_info_path(rfc_cert_id);
  ASSERT_TRUE(s.send({"GET", path}).has_value());
  clock.advance(1h);  // well under 4.8 h
  ASSERT_TRUE(s.send({"GET", path}).has_value());
  EXPECT_EQ(s.counters().early_renewal_info, 1u);
  EXPECT_EQ(s.inspect_certificate(rfc_cert_id).early_gets, 1u);
}

// Injected faults: 500 serverInternal with Boulder's Retry-After 60, and timeouts (no reply,
// the clock moves by the timeout).
TEST(AcmeServerModel, RenewalInfoFaults) {
  virtual_clock clock;
  acme_server s{clock, {.latency = 0ms, .renewal_info_errors = 0.3, .renewal_info_timeouts = 0.2}};
  s.add_certificate(rfc_certificate());
  const std::string path = acme_server::renewal_info_path(rfc_cert_id);
  int ok = 0, errors = 0, timeouts = 0;
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) {
    const time_point before = clock.now();
    const auto r = s.send({"GET", path});
    if (!r.has_value()) {
      EXPECT_EQ(r.error(), make_error_code(errc::transport_timeout));
      EXPECT_EQ(clock.now() - before, model::acme_model::client_timeout);
      ++timeouts;
      continue;
    }
    if (r.value().status == 500) {
      EXPECT_EQ(header(r.value(), "Retry-After"), "60");
      EXPECT_NE(r.value().body.find("urn:ietf:params:acme:error:serverInternal"),
                std::string::npos);
      ++errors;
    } else {
      EXPECT_EQ(r.value().status, 200);
      ++ok;
    }
    clock.advance(8h);
  }
  // Binomial sds: ~10 (errors), ~9 (timeouts) over 2000.
  EXPECT_NEAR(errors, 0.3 * n, 60);
  EXPECT_NEAR(timeouts, 0.2 * n, 60);
  EXPECT_EQ(s.counters().server_errors, static_cast<std::uint64_t>(errors));
  EXPECT_EQ(s.counters().timeouts, static_cast<std::uint64_t>(timeouts));
  EXPECT_EQ(ok + errors + timeouts, n);
}

// --- (c) new-order `replaces` ----------------------------------------------------------------

struct problem_reply {
  int status = 0;
  std::string type, detail;
  std::string retry_after, nonce;
};

problem_reply new_order(acme_server& s, std::string_view payload) {
  const response r = post(s, model::acme_new_order_path, payload, s.fresh_nonce());
  problem_reply out;
  out.status = r.status;
  out.retry_after = header(r, "Retry-After");
  out.nonce = header(r, "Replay-Nonce");
  acme::problem_reader reader;
  if (const auto p = reader.read(r.body)) {
    out.type.assign(p->type);
    out.detail.assign(p->detail);
  }
  return out;
}

constexpr std::string_view replacing = R"({"identifiers":[{"type":"dns","value":"example.com"}],)"
                                       R"("replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"})";

TEST(AcmeServerModel, SerialOfCertId) {
  EXPECT_EQ(acme_server::serial_of(rfc_cert_id), std::string(rfc_serial));
  EXPECT_FALSE(acme_server::serial_of("no-dot"));
  EXPECT_FALSE(acme_server::serial_of("a.b.c"));
  EXPECT_FALSE(acme_server::serial_of("aYhb.AId+"));
}

TEST(AcmeServerModel, FirstReplacementIsAccepted) {
  virtual_clock clock;
  acme_server s{clock};
  s.add_certificate(rfc_certificate());
  const response r = post(s, model::acme_new_order_path, replacing, s.fresh_nonce());
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(header(r, "Location"), "https://acme.test/acme/order/1");
  EXPECT_EQ(status_of(r), "ready");
  EXPECT_TRUE(s.inspect_certificate(rfc_cert_id).replaced);
  EXPECT_EQ(s.inspect_order(1).replaces, rfc_cert_id);
}

const std::string already_replaced_tail =
    "cannot indicate an order replaces certificate with serial \"" + std::string(rfc_serial) +
    "\", which already has a replacement order";

TEST(AcmeServerModel, Rfc9773AlreadyReplaced) {
  virtual_clock clock;
  acme_server s{clock};
  s.add_certificate(rfc_certificate());
  ASSERT_EQ(new_order(s, replacing).status, 201);
  const problem_reply p = new_order(s, replacing);
  EXPECT_EQ(p.status, 409);
  EXPECT_EQ(p.type, "urn:ietf:params:acme:error:alreadyReplaced");
  EXPECT_EQ(p.detail, "Could not validate ARI 'replaces' field :: " + already_replaced_tail);
  EXPECT_EQ(s.counters().replaces_rejected, 1u);
}

TEST(AcmeServerModel, BoulderConflict) {
  virtual_clock clock;
  acme_server s{clock, {.replaces_style = model::acme_replaces_style::boulder_conflict}};
  s.add_certificate(rfc_certificate());
  s.mark_replaced(rfc_cert_id);
  const problem_reply p = new_order(s, replacing);
  EXPECT_EQ(p.status, 409);
  EXPECT_EQ(p.type, "urn:ietf:params:acme:error:conflict");
  EXPECT_EQ(p.detail, "While validating order as a replacement an error occurred :: " +
                          already_replaced_tail);
}

TEST(AcmeServerModel, BoulderMalformedUnknownSerial) {
  virtual_clock clock;
  acme_server s{clock};
  const problem_reply p = new_order(s, replacing);
  EXPECT_EQ(p.status, 404);
  EXPECT_EQ(p.type, "urn:ietf:params:acme:error:malformed");
  EXPECT_EQ(p.detail,
            "Could not validate ARI 'replaces' field :: while checking that this order is a "
            "replacement: request included `replaces` field, but no current certificate with "
            "serial \"" +
                std::string(rfc_serial) + "\" exists");
  EXPECT_TRUE(p.detail.starts_with(model::acme_text::ari_prefix));
}

TEST(AcmeServerModel, BoulderMalformedIdentifierMismatch) {
  virtual_clock clock;
  acme_server s{clock};
  s.add_certificate(rfc_certificate());
  const problem_reply p =
      new_order(s, R"({"identifiers":[{"type":"dns","value":"other.example"}],"replaces":")" +
                       std::string(rfc_cert_id) + "\"}");
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.type, "urn:ietf:params:acme:error:malformed");
  EXPECT_EQ(p.detail,
            "Could not validate ARI 'replaces' field :: while checking that this order is a "
            "replacement: identifiers in this order do not match any identifiers in the "
            "certificate being replaced");
  EXPECT_FALSE(s.inspect_certificate(rfc_cert_id).replaced);
}

// The library's own reader classifies every style as a replacement rejection, and none of the
// faults: a rate limit or an outage must never make a client drop `replaces` (docs/acme.md's
// decision table).
TEST(AcmeServerModel, RejectionsAreReplacementRejectionsAndFaultsAreNot) {
  virtual_clock clock;
  acme_server s{clock};
  s.add_certificate(rfc_certificate());
  acme::problem_reader reader;
  const auto rejection = [&](std::string_view payload) {
    const response r = post(s, model::acme_new_order_path, payload, s.fresh_nonce());
    const auto p = reader.read(r.body);
    return p && acme::is_replacement_rejection(*p, r.status);
  };
  EXPECT_TRUE(rejection(replacing) == false);  // accepted (201)
  EXPECT_TRUE(rejection(replacing));           // alreadyReplaced
  s.queue_new_order_fault(model::acme_fault::bad_nonce);
  s.queue_new_order_fault(model::acme_fault::rate_limited);
  s.queue_new_order_fault(model::acme_fault::unavailable);
  EXPECT_FALSE(rejection(replacing));
  EXPECT_FALSE(rejection(replacing));
  EXPECT_FALSE(rejection(replacing));
}

TEST(AcmeServerModel, QueuedFaults) {
  virtual_clock clock;
  acme_server s{clock};
  s.add_certificate(rfc_certificate());
  s.queue_new_order_fault(model::acme_fault::bad_nonce);
  s.queue_new_order_fault(model::acme_fault::rate_limited);
  s.queue_new_order_fault(model::acme_fault::unavailable);

  const problem_reply bad = new_order(s, replacing);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.type, "urn:ietf:params:acme:error:badNonce");
  EXPECT_TRUE(acme::is_valid_nonce(bad.nonce));

  const problem_reply limited = new_order(s, replacing);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.type, "urn:ietf:params:acme:error:rateLimited");
  EXPECT_EQ(limited.retry_after, "3600");

  const response down = post(s, model::acme_new_order_path, replacing, s.fresh_nonce());
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(header(down, "Content-Type"), "text/html");
  EXPECT_EQ(header(down, "Retry-After"), "<none>");

  // None of them used up the replacement: the next order is accepted.
  EXPECT_EQ(new_order(s, replacing).status, 201);
  EXPECT_EQ(s.counters().bad_nonce, 1u);
  EXPECT_EQ(s.counters().rate_limited, 1u);
  EXPECT_EQ(s.counters().unavailable, 1u);
  EXPECT_EQ(s.counters().new_order, 4u);
}

TEST(AcmeServerModel, RandomFaultsFollowTheirProbabilities) {
  virtual_clock clock;
  acme_server s{clock, {.seed = 9, .bad_nonce = 0.1, .rate_limited = 0.1, .unavailable = 0.1}};
  constexpr int n = 3000;
  for (int i = 0; i < n; ++i)
    new_order(s, R"({"identifiers":[{"type":"dns","value":"example.com"}]})");
  // P(bad nonce) 0.1, P(rate limited) 0.09, P(503) 0.081; binomial sds ~16.
  EXPECT_NEAR(static_cast<double>(s.counters().bad_nonce), 0.1 * n, 80);
  EXPECT_NEAR(static_cast<double>(s.counters().rate_limited), 0.09 * n, 80);
  EXPECT_NEAR(static_cast<double>(s.counters().unavailable), 0.081 * n, 80);
}

}  // namespace
