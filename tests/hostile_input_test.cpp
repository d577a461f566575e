// Hostile callers and hostile inputs: values that would inject into a request line or a header
// (RFC 9112 §3, RFC 3986 §3.3), time arithmetic at the ends of duration's range, policies out of
// range, a geometric schedule asked for attempt 4 billion, a scripted server with 115 000 keys,
// and a certificate that is not one (docs/limits.md lists every bound these pin).
#include "certretry/acme/ari.hpp"
#include "certretry/acme/cert_id.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/core/json_text.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/target.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;
using time_point = certretry::time_point;
using duration = certretry::duration;

const time_point t0{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};
constexpr duration forever = duration::max();

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

struct world {
  virtual_clock clock{t0};
  scripted_transport server{clock};
  world() { server.script("*", {scripted_reply::respond(503)}); }

  template <class M>
  outcome run_it(M& m) {
    virtual_sleeper sleeper{clock};
    return run(m, server, clock, sleeper);
  }
};

// Every request line and header a run sent: no control character, no space in the target.
void expect_clean_requests(const scripted_transport& t) {
  for (const auto& r : t.sent()) {
    EXPECT_TRUE(target_problem(r.target).empty()) << r.target;
    for (const auto& h : r.headers) EXPECT_TRUE(header_value_problem(h.value).empty()) << h.value;
  }
}

backoff_policy<any_schedule, any_jitter> plain_policy(limits l = {}) {
  return {any_schedule{schedules::certctl}, any_jitter{no_jitter{}}, l};
}

// --- 1. request-target injection ------------------------------------------------------------

struct injected {
  const char* name;
  std::string value;
};
const injected injections[] = {
    {"crlf", "1\r\nHost: evil"},
    {"lf", "1\nX: y"},
    {"nul", std::string("1\0x", 3)},
    {"tab", "1\tx"},
    {"del", "1\x7f"},
    {"dotdot", ".."},
    {"dot", "."},
    {"empty", ""},
};

class AsyncCaIdInjection : public ::testing::TestWithParam<injected> {};

TEST_P(AsyncCaIdInjection, OrderIdIsRefusedAndNothingIsSent) {
  world w;
  async_ca_poll_machine m{async_ca_triage{{async_ca::generic, GetParam().value, ""}},
                          plain_policy(), splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_EQ(o.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(o.reason, "async_ca_order.id: ")) << o.reason;
  EXPECT_EQ(o.sends, 0u);
  EXPECT_TRUE(w.server.sent().empty());
}

TEST_P(AsyncCaIdInjection, EntrustCaIdIsRefusedAndNothingIsSent) {
  world w;
  async_ca_poll_machine m{async_ca_triage{{async_ca::entrust, "7", GetParam().value}},
                          plain_policy(), splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(o.reason, "async_ca_order.ca_id: ")) << o.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

INSTANTIATE_TEST_SUITE_P(Values, AsyncCaIdInjection, ::testing::ValuesIn(injections),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(AsyncCaId, OtherBytesArePercentEncodedIntoOneSegment) {
  world w;
  w.server.script("GET /orders/a%20b%2Fc%3F%23%25%C3%A9",
                  {scripted_reply::respond(
                      200, R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----"})")});
  async_ca_poll_machine m{async_ca_triage{{async_ca::generic, "a b/c?#%\xC3\xA9", ""}},
                          plain_policy(), splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.kind, outcome_kind::issued) << o.reason;
  ASSERT_EQ(w.server.sent().size(), 1u);
  expect_clean_requests(w.server);
}

TEST(AsyncCaId, ProfilesWithoutCaIgnoreAnEmptyCaId) {
  world w;
  w.server.script("GET /order/certificate/42", {scripted_reply::respond(404)});
  async_ca_poll_machine m{async_ca_triage{{async_ca::digicert, "42", ""}}, plain_policy(),
                          splitmix64{1}};
  EXPECT_EQ(w.run_it(m).error, errc::server_rejected);
}

// A user's own triage that builds a bad target: machine_base refuses the request itself.
struct leaky_triage {
  request_view next_request() const { return {"GET", "/status/1\r\nX-Injected: 1"}; }
  triage_result classify(const response_view&) { return {verdict::pending, "pending"}; }
  void reset() {}
};

TEST(RequestGuard, EveryMachineRefusesARequestLineWithControlCharacters) {
  world w;
  poll_machine<leaky_triage> m{leaky_triage{}, plain_policy(), splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(o.reason, "request target: contains a control character")) << o.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

struct acme_url_case {
  const char* name;
  std::string url;
  const char* why;
};
const acme_url_case bad_urls[] = {
    {"crlf", "/acme/x\r\nHost: evil", "control character"},
    {"space", "/acme/x HTTP/1.1", "space"},
    {"nul", std::string("/acme/x\0y", 9), "control character"},
    {"dotdot", "/acme/../admin", "'..'"},
    {"encoded_dotdot", "/acme/%2E%2E/admin", "'..'"},
    {"empty_segment", "/acme//x", "empty path segment"},
    {"fragment", "/acme/x#y", "'#'"},
    {"relative", "acme/x", "must be a path"},
    {"bad_percent", "/acme/%zz", "'%'"},
    {"non_ascii", "/acme/\xC3\xA9", "outside ASCII"},
    {"empty", "", "is empty"},
};

class AcmeUrlInjection : public ::testing::TestWithParam<acme_url_case> {};

TEST_P(AcmeUrlInjection, NewOrderUrl) {
  world w;
  acme::new_order_options o;
  o.new_order_url = GetParam().url;
  o.nonce.initial = "bm9uY2U";
  acme::new_order_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "new_order_options.new_order_url: ")) << out.reason;
  EXPECT_TRUE(contains(out.reason, GetParam().why)) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

TEST_P(AcmeUrlInjection, NewNonceUrl) {
  world w;
  acme::new_order_options o;
  o.nonce.new_nonce_url = GetParam().url;
  acme::new_order_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "nonce_options.new_nonce_url: ")) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

TEST_P(AcmeUrlInjection, ResourceUrl) {
  world w;
  acme::poll_options o;
  o.url = GetParam().url;
  o.nonce.initial = "bm9uY2U";
  acme::resource_poll_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "poll_options.url: ")) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

TEST_P(AcmeUrlInjection, PostUrl) {
  world w;
  acme::post_options o;
  o.url = GetParam().url;
  o.nonce.initial = "bm9uY2U";
  acme::post_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "post_options.url: ")) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

TEST_P(AcmeUrlInjection, RenewalInfoUrl) {
  world w;
  acme::ari_options o;
  o.renewal_info_url = GetParam().url;
  o.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  o.not_after = t0 + 24h * 90;
  acme::ari_machine m{std::move(o), acme::ari_error_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "ari_options.renewal_info_url: ")) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

INSTANTIATE_TEST_SUITE_P(Values, AcmeUrlInjection, ::testing::ValuesIn(bad_urls),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(AcmeUrl, AbsoluteUrlsAndQueriesAreRequestTargets) {
  EXPECT_EQ(target_problem("https://acme-v02.api.letsencrypt.org/acme/new-order"), "");
  EXPECT_EQ(target_problem("https://[::1]:14000/dir"), "");
  EXPECT_EQ(target_problem("/acme/renewal-info/"), "");  // a trailing '/' is no empty segment
  EXPECT_EQ(target_problem("/x?a=b&c=%20"), "");
  EXPECT_NE(target_problem("ftp://host/x"), "");
  EXPECT_NE(target_problem("https:///x"), "");
  EXPECT_EQ(target_problem("https://"), "has no host after the scheme");
  EXPECT_EQ(target_problem("https://?q"), "has no host after the scheme");
  EXPECT_EQ(target_problem("https://h?q=[x]"), "");  // brackets in a query are the query's
  EXPECT_EQ(target_problem("https://h[1]/x"), "has '[' or ']' outside an IPv6 address");
  EXPECT_EQ(target_problem("/a/[b]"), "has '[' or ']' in its path (RFC 3986 §3.3)");
  EXPECT_EQ(target_problem("/a/%2E%2e/b"),
            "has a '.' or '..' path segment (RFC 3986 §5.2.4 would remove it)");
  EXPECT_NE(target_problem("//evil.example/x"), "");
}

TEST(RequestTarget, SegmentsEndAtTheQueryAndOnlyThePathHasThem) {
  constexpr std::string_view dot =
      "has a '.' or '..' path segment (RFC 3986 §5.2.4 would remove it)";
  constexpr std::string_view empty = "has an empty path segment ('//')";
  // The last segment before the query, or before the end, is a segment too.
  EXPECT_EQ(target_problem("/a/..?x=1"), dot);
  EXPECT_EQ(target_problem("/a/%2e"), dot);
  EXPECT_EQ(target_problem("https://h/a/.%2E"), dot);
  EXPECT_EQ(target_problem("/a/...?x"), "");  // three dots are a name
  EXPECT_EQ(target_problem("/a/.well-known/b"), "");
  EXPECT_EQ(target_problem("/a/%41b"), "");
  // A query's slashes and dots are the query's; the scheme's "//" is not an empty segment.
  EXPECT_EQ(target_problem("/a?next=/../b//c"), "");
  EXPECT_EQ(target_problem("https://h?x=//./"), "");
  EXPECT_EQ(target_problem("https://h/a//b"), empty);
  EXPECT_EQ(target_problem("https://h//"), empty);
  EXPECT_EQ(target_problem("https://h.example."), "");  // a host's dots are not a segment
  // The first problem in the order the check names them: a byte, then the scheme, then the path.
  EXPECT_EQ(target_problem("/a/../b c"), "contains a space");
  EXPECT_EQ(target_problem("ftp://h/../%zz"),
            "has a '%' that is not followed by two hex digits (RFC 3986 §2.1)");
  EXPECT_EQ(target_problem("?x"), "must be a path starting with '/' or an http(s) URL");
  EXPECT_EQ(target_problem("/[a]/../b"), "has '[' or ']' in its path (RFC 3986 §3.3)");
  EXPECT_EQ(target_problem("/a//b/.."), empty);  // the first segment problem
}

TEST(AriCertId, AnythingButOnePathSegmentOfCertIdCharactersIsRefused) {
  for (const std::string id : {"a/../b", "a b", "x\r\nHost: y", "..", "a%2Fb"}) {
    world w;
    acme::ari_options o;
    o.cert_id = id;
    o.not_after = t0 + 24h * 90;
    acme::ari_machine m{std::move(o), acme::ari_error_policy(), splitmix64{1}};
    const outcome out = w.run_it(m);
    EXPECT_EQ(out.error, errc::invalid_request_value) << id;
    EXPECT_TRUE(contains(out.reason, "ari_options.cert_id: ")) << out.reason;
    EXPECT_TRUE(w.server.sent().empty()) << id;
  }
}

TEST(AcmeBody, IdentifiersThatAreNotOneJsonArrayAreRefused) {
  for (const std::string ids : {R"([], "replaces": "x")", R"({"type":"dns"})", "[", "",
                                R"([{"type":"dns","value":"a"}] [])"}) {
    world w;
    acme::new_order_options o;
    o.identifiers_json = ids;
    o.nonce.initial = "bm9uY2U";
    acme::new_order_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
    const outcome out = w.run_it(m);
    EXPECT_EQ(out.error, errc::invalid_request_value) << ids;
    EXPECT_TRUE(contains(out.reason, "new_order_options.identifiers_json: ")) << out.reason;
    EXPECT_TRUE(w.server.sent().empty());
  }
}

TEST(AcmeBody, ReplacesIsJsonEscaped) {
  world w;
  w.server.script("POST /acme/new-order", {scripted_reply::respond(201)});
  acme::new_order_options o;
  o.replaces = "x\",\"identifiers\":[]";
  o.renewal_info_advertised = true;
  o.nonce.initial = "bm9uY2U";
  acme::new_order_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
  w.run_it(m);
  ASSERT_EQ(w.server.sent().size(), 1u);
  const std::string& body = w.server.sent()[0].body;
  EXPECT_TRUE(check_json(body).ok()) << body;
  EXPECT_TRUE(contains(body, R"("replaces":"x\",\"identifiers\":[]")")) << body;
}

TEST(AcmeBody, PostPayloadMustBeAnObjectOrEmpty) {
  world w;
  acme::post_options o;
  o.url = "/acme/chall/1";
  o.payload = R"({}, "x": 1)";
  o.nonce.initial = "bm9uY2U";
  acme::post_machine m{std::move(o), acme::default_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "post_options.payload: ")) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

TEST(TppBody, DnIsJsonEscapedInEveryBody) {
  world w;
  const std::string dn = "\\VED\\Policy\\\"x\",\"Restart\":true,\"y\n\x01\xff";
  w.server.script("POST /vedsdk/certificates/reset", {scripted_reply::respond(200)});
  w.server.script("POST /vedsdk/certificates/request", {scripted_reply::respond(200, "{}")});
  w.server.script("POST /vedsdk/certificates/retrieve",
                  {scripted_reply::respond(200, R"({"CertificateData":"TUlJ"})")});
  tpp::enroll_options o;
  o.strategy = tpp::reset_strategy::reset_before_request;
  o.certificate_dn = dn;
  tpp::enroll_machine m{std::move(o), plain_policy(), splitmix64{1}};
  EXPECT_EQ(w.run_it(m).kind, outcome_kind::issued);
  ASSERT_GE(w.server.sent().size(), 3u);
  for (const auto& r : w.server.sent()) {
    const json_syntax j = check_json(r.body);
    EXPECT_TRUE(j.ok()) << r.body << " at " << j.error_at << ": " << j.what;
    EXPECT_FALSE(contains(r.body, "\"Restart\":true")) << r.body;
  }
}

TEST(TppBody, RequestBodyMustBeOneJsonValue) {
  world w;
  tpp::enroll_options o;
  o.request_body = R"({"PolicyDN":"x"}, {"Restart":true})";
  tpp::enroll_machine m{std::move(o), plain_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.error, errc::invalid_request_value);
  EXPECT_TRUE(contains(out.reason, "enroll_options.request_body: ")) << out.reason;
  EXPECT_TRUE(w.server.sent().empty());
}

TEST(JsonText, ChecksOneValueAndSaysWhere) {
  EXPECT_TRUE(check_json(R"( {"a":[1,-2.5e3,true,null,"\u00e9\n"]} )").ok());
  EXPECT_EQ(check_json("[1,2]").top, json_kind::array);
  EXPECT_EQ(check_json("{}").top, json_kind::object);
  const json_syntax trailing = check_json("[1] [2]");
  EXPECT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error_at, 4u);
  EXPECT_FALSE(check_json(R"({"a":1,})").ok());
  EXPECT_FALSE(check_json("\"\x01\"").ok());
  EXPECT_FALSE(check_json("\"\xff\"").ok());
  EXPECT_FALSE(check_json("01").ok());
  EXPECT_FALSE(check_json(std::string(300, '[') + std::string(300, ']')).ok());
  EXPECT_TRUE(check_json(std::string(200, '[') + std::string(200, ']')).ok());
}

// --- 2. time arithmetic saturates -----------------------------------------------------------

TEST(Saturation, Helpers) {
  EXPECT_EQ(saturating_add(time_point{forever - 1s}, 1h).time_since_epoch(), forever);
  EXPECT_EQ(saturating_add(duration::min() + 1s, -1h), duration::min());
  EXPECT_EQ(saturating_sub(forever, -1h), forever);
  EXPECT_EQ(saturating_sub(time_point{duration::min()}, time_point{1h}), duration::min());
  EXPECT_EQ(saturating_add(t0, 5s), t0 + 5s);
}

TEST(Saturation, NotBeforeFromAHugeScheduleIsCappedLikeEveryWait) {
  world w;
  w.server.script("GET /orders/7", {scripted_reply::respond(503, "", {{"Retry-After", "900"}})});
  async_ca_poll_machine m{
      async_ca_triage{{async_ca::generic, "7", ""}},
      backoff_policy{any_schedule{fixed_schedule{forever / 2}}, any_jitter{no_jitter{}}, limits{}},
      splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  ASSERT_TRUE(o.not_before);
  EXPECT_GT(*o.not_before, t0);
  EXPECT_LE(*o.not_before, t0 + longest_delay);
  EXPECT_TRUE(contains(format_rfc3339(*o.not_before), "2093-")) << format_rfc3339(*o.not_before);
}

TEST(Saturation, ClockSteppingBackWithAnEndlessDeadline) {
  auto m =
      async_ca_poll_machine{async_ca_triage{{async_ca::generic, "7", ""}},
                            backoff_policy{any_schedule{schedules::certctl},
                                           any_jitter{no_jitter{}}, limits{.max_wait = forever}},
                            splitmix64{1}};
  ASSERT_TRUE(std::holds_alternative<certretry::send>(m.start(t0)));
  const response r{503, {}, {}};
  const action a = m.on_response(t0 - 24h, r.view());  // the clock stepped back a day
  ASSERT_TRUE(std::holds_alternative<certretry::wait>(a));
  EXPECT_EQ(std::get<certretry::wait>(a).delay, 5s);
}

TEST(Saturation, PolicyWithEndlessDeadlineAndNegativeElapsed) {
  backoff_policy p{fixed_schedule{5s}, no_jitter{}, limits{.max_wait = forever}};
  splitmix64 rng{1};
  const next_step s = p.next(1, duration::min() + 1s, std::nullopt, rng);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 5s);
}

TEST(Saturation, AriLongTermRetryNearMaxStillStopsAtNotAfter) {
  world w;
  w.server.script("GET /acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
                  {scripted_reply::respond(200, "not renewalInfo")});
  acme::ari_options o;
  o.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  o.not_after = t0 + 24h * 90;
  o.long_term_retry = forever;
  acme::ari_machine m{std::move(o), acme::ari_error_policy(), splitmix64{1}};
  const outcome out = w.run_it(m);
  EXPECT_EQ(out.kind, outcome_kind::renew_at);
  EXPECT_EQ(out.sends, 1u);
  EXPECT_LT(w.clock.now(), t0 + 24h * 90);  // it never slept past notAfter
  EXPECT_TRUE(contains(out.reason, "no renewal window before notAfter")) << out.reason;
}

TEST(Saturation, AriWindowAtTheEndsOfTime) {
  acme::renewal_info info;
  info.window_start = time_point{duration::min() + 1s};
  info.window_end = time_point{forever};
  splitmix64 rng{1};
  const time_point t = acme::pick_renewal_time(info, t0, rng);
  EXPECT_GE(t, t0);
}

TEST(Saturation, CallerDeadlineAtTheEndOfTime) {
  // A clock a second before the end of time, an endless deadline and a caller deadline there:
  // the wait of 5 s would end past it, so the run ends (now + 5 s does not wrap around).
  virtual_clock clock{time_point{forever - 1s}};
  scripted_transport server{clock};
  server.script("*", {scripted_reply::respond(503)});
  async_ca_poll_machine m{async_ca_triage{{async_ca::generic, "7", ""}},
                          backoff_policy{any_schedule{schedules::certctl}, any_jitter{no_jitter{}},
                                         limits{.max_wait = forever}},
                          splitmix64{1}};
  virtual_sleeper sleeper{clock};
  const outcome out = run(m, server, clock, sleeper, time_point{forever});
  EXPECT_EQ(out.error, errc::caller_deadline_passed);
  EXPECT_EQ(out.sends, 1u);
}

TEST(Saturation, VirtualClockStopsAtTheEndOfTime) {
  virtual_clock c{time_point{forever - 1s}};
  c.advance(1h);
  EXPECT_EQ(c.now().time_since_epoch(), forever);
}

// --- 3. policies are validated --------------------------------------------------------------

struct bad_policy_case {
  const char* name;
  backoff_policy<any_schedule, any_jitter> policy;
  const char* field;
};

const bad_policy_case bad_policies[] = {
    {"jitter_nan",
     {any_schedule{schedules::certctl},
      any_jitter{proportional_jitter{std::numeric_limits<double>::quiet_NaN()}}},
     "proportional_jitter.fraction"},
    {"jitter_negative",
     {any_schedule{schedules::certctl}, any_jitter{proportional_jitter{-0.1}}},
     "proportional_jitter.fraction"},
    {"jitter_above_one",
     {any_schedule{schedules::certctl}, any_jitter{proportional_jitter{1.5}}},
     "proportional_jitter.fraction"},
    {"zero_schedule_1ms_floor",
     {any_schedule{fixed_schedule{0ms}}, any_jitter{}, limits{.min_delay = 1ms}},
     "limits.min_delay"},
    {"min_delay_past_max_wait",
     {any_schedule{schedules::certctl}, any_jitter{}, limits{.max_wait = 10s, .min_delay = 1min}},
     "limits.min_delay"},
    {"negative_max_wait",
     {any_schedule{schedules::certctl}, any_jitter{}, limits{.max_wait = -1s}},
     "limits.max_wait"},
    {"negative_fixed", {any_schedule{fixed_schedule{-5s}}, any_jitter{}}, "fixed_schedule.every"},
    {"nan_factor",
     {any_schedule{geometric_schedule{1s, std::nan(""), 1min}}, any_jitter{}},
     "geometric_schedule.factor"},
    {"negative_table", {any_schedule{table_schedule{1s, -1s}}, any_jitter{}}, "table_schedule"},
    {"negative_decorrelated_cap",
     {any_schedule{schedules::certctl}, any_jitter{decorrelated_jitter{-1s}}},
     "decorrelated_jitter.cap"},
    {"retry_after_floor_above_ceiling",
     {any_schedule{schedules::certctl}, any_jitter{}, limits{},
      retry_after_policy{.ceiling = 1min, .floor = 1h}},
     "retry_after_policy.floor"},
};

class BadPolicy : public ::testing::TestWithParam<bad_policy_case> {};

TEST_P(BadPolicy, ValidateNamesTheField) {
  invalid_value why;
  const auto r = GetParam().policy.validate(&why);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.assume_error(), errc::invalid_policy);
  EXPECT_EQ(why.field, GetParam().field);
  EXPECT_FALSE(why.why.empty());
}

TEST_P(BadPolicy, MachinesFinishFailedAtStartSendingNothing) {
  world w;
  async_ca_poll_machine m{async_ca_triage{{async_ca::generic, "7", ""}}, GetParam().policy,
                          splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.kind, outcome_kind::failed);
  EXPECT_EQ(o.error, errc::invalid_policy);
  EXPECT_TRUE(contains(o.reason, std::string(GetParam().field) + ": ")) << o.reason;
  EXPECT_TRUE(w.server.sent().empty());

  world w2;
  acme::poll_options po;
  po.url = "/acme/order/1";
  po.nonce.initial = "bm9uY2U";
  acme::resource_poll_machine p{std::move(po), GetParam().policy, splitmix64{1}};
  EXPECT_EQ(w2.run_it(p).error, errc::invalid_policy);
  EXPECT_TRUE(w2.server.sent().empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, BadPolicy, ::testing::ValuesIn(bad_policies),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(GoodPolicy, DefaultsAndNamedSchedulesValidate) {
  for (const auto name : schedule_names) {
    const backoff_policy p{*named_schedule(name), any_jitter{proportional_jitter{0.2}}};
    EXPECT_TRUE(p.validate()) << name;
  }
  EXPECT_TRUE(acme::default_policy().validate());
  EXPECT_TRUE(acme::ari_error_policy().validate());
  // A simulation in scaled time may poll faster, when it says so.
  const backoff_policy fast{fixed_schedule{0ms}, no_jitter{},
                            limits{.min_delay = 1ms, .allow_fast_polling = true}};
  EXPECT_TRUE(fast.validate());
}

TEST(BadPolicy, ZeroScheduleNeverPollsFasterThanTheFloor) {
  // The smallest floor validate() allows: 100 ms, so at most 10 polls a second.
  world w;
  w.server.script("GET /orders/7", {scripted_reply::respond(200, R"({"status":"pending"})",
                                                            {{"Retry-After", "0"}})});
  async_ca_poll_machine m{
      async_ca_triage{{async_ca::generic, "7", ""}},
      backoff_policy{any_schedule{fixed_schedule{0ms}}, any_jitter{},
                     limits{.max_wait = 10s, .min_delay = 100ms},
                     retry_after_policy{.mode = retry_after_mode::hint_replaces}},
      splitmix64{1}};
  const outcome o = w.run_it(m);
  EXPECT_EQ(o.kind, outcome_kind::still_pending);
  EXPECT_LE(o.sends, 101u);
}

TEST(BadMachineOptions, AcmeAndAriIntervalsAreValidated) {
  {
    world w;
    acme::poll_options po;
    po.url = "/acme/order/1";
    po.nonce.initial = "bm9uY2U";
    po.pacing.stretch = std::nan("");
    acme::resource_poll_machine p{std::move(po), acme::default_policy(), splitmix64{1}};
    const outcome o = w.run_it(p);
    EXPECT_EQ(o.error, errc::invalid_policy);
    EXPECT_TRUE(contains(o.reason, "poll_pacing.stretch")) << o.reason;
  }
  {
    world w;
    acme::new_order_options no;
    no.errors.jitter = -1;
    acme::new_order_machine m{std::move(no), acme::default_policy(), splitmix64{1}};
    const outcome o = w.run_it(m);
    EXPECT_EQ(o.error, errc::invalid_policy);
    EXPECT_TRUE(contains(o.reason, "error_backoff.jitter")) << o.reason;
  }
  {
    world w;
    acme::ari_options ao;
    ao.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
    ao.not_after = t0 + 24h;
    ao.min_retry_after = 0s;
    acme::ari_machine m{std::move(ao), acme::ari_error_policy(), splitmix64{1}};
    const outcome o = w.run_it(m);
    EXPECT_EQ(o.error, errc::invalid_policy);
    EXPECT_TRUE(contains(o.reason, "ari_options.min_retry_after")) << o.reason;
    EXPECT_TRUE(w.server.sent().empty());
  }
}

// --- 4. geometric_schedule::delay is O(log n) -----------------------------------------------

// Evaluated by the compiler, whose step limit (g++ 33 million operations, clang 1 million
// steps) a loop of 4 billion steps would exceed: the build itself proves the bound.
constexpr geometric_schedule near_one{1ms, 1.0000001, 1000h};
// 1.0000001^(10^8) = e^10 (22 026): far from the cap, so no early stop shortens the work.
static_assert(near_one.delay(100'000'001) > 22'000ms && near_one.delay(100'000'001) < 22'050ms);
static_assert(near_one.delay(std::numeric_limits<std::uint32_t>::max()) == 1000h);
static_assert(schedules::certctl.delay(std::numeric_limits<std::uint32_t>::max()) == 5min);
// 1.0000000001^(4 * 10^9) = e^0.4 (1.4918).
static_assert(geometric_schedule{1s, 1.0000000001, 1000h}.delay(4'000'000'001u) > 1490ms &&
              geometric_schedule{1s, 1.0000000001, 1000h}.delay(4'000'000'001u) < 1494ms);

TEST(GeometricSchedule, SameDelaysAsStepByStep) {
  // The sequence as certctl's loop computes it, one multiplication a step.
  const auto stepwise = [](const geometric_schedule& g, std::uint32_t n) {
    double ms = static_cast<double>(g.base.count());
    for (std::uint32_t i = 1; i < n; ++i) {
      ms *= g.factor;
      if (ms >= static_cast<double>(g.cap.count())) return g.cap;
    }
    return duration{static_cast<std::int64_t>(ms + 0.5)};
  };
  const geometric_schedule cases[] = {schedules::certctl,
                                      schedules::lego,
                                      {1s, 1.5, 3s},
                                      geometric_schedule{1s, 2.0, 1h},
                                      geometric_schedule{1ms, 1.01, 1000h}};
  for (const geometric_schedule& g : cases)
    for (std::uint32_t n = 1; n <= 64; ++n) EXPECT_EQ(g.delay(n), stepwise(g, n)) << n;
  EXPECT_EQ(schedules::certctl.delay(4), 135s);
  EXPECT_EQ((geometric_schedule{1ms, 1.5, 1000h}.delay(30)),
            duration{std::llround(std::pow(1.5, 29))});
}

TEST(GeometricSchedule, GrowsMonotonicallyPastTheStepwisePart) {
  const geometric_schedule g{1ms, 1.01, 1000h};
  duration prev = g.delay(1);
  for (std::uint32_t n = 2; n < 2000; ++n) {
    const duration d = g.delay(n);
    EXPECT_GE(d, prev) << n;
    prev = d;
  }
  EXPECT_EQ(g.delay(1'000'000), 1000h);
}

// --- 7. the scripted server is n log n in its keys ------------------------------------------

TEST(ScriptedTransport, ManyKeysCostNLogNComparisons) {
  constexpr std::size_t keys = 115'000;
  virtual_clock clock{t0};
  scripted_transport t{clock};
  for (std::size_t i = 0; i < keys; ++i)
    t.script("GET /orders/" + std::to_string(i), {scripted_reply::respond(200, "{}")});
  t.script("GET /orders/7", {scripted_reply::respond(204)});  // scripted again: replaces
  const auto r = t.send({"GET", "/orders/7"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r.assume_value().status, 204);
  EXPECT_TRUE(t.send({"GET", "/orders/114999"}));
  EXPECT_FALSE(t.send({"GET", "/orders/nope"}));
  // n log2 n is about 2 million here; comparing each key with every other one would be 6.6
  // billion.
  const double bound = 4.0 * static_cast<double>(keys) * std::log2(static_cast<double>(keys));
  EXPECT_LT(static_cast<double>(t.key_comparisons()), bound) << t.key_comparisons();
}

TEST(ScriptedTransport, ScriptingAgainAfterRequestsStartsOver) {
  virtual_clock clock{t0};
  scripted_transport t{clock};
  t.script("GET /a", {scripted_reply::respond(500), scripted_reply::respond(200)});
  t.script("*", {scripted_reply::respond(404)});
  EXPECT_EQ(t.send({"GET", "/a"}).assume_value().status, 500);
  EXPECT_EQ(t.send({"GET", "/a"}).assume_value().status, 200);
  t.script("GET /a", {scripted_reply::respond(201), scripted_reply::respond(202)});
  EXPECT_EQ(t.send({"GET", "/a"}).assume_value().status, 201);
  EXPECT_EQ(t.send({"GET", "/b"}).assume_value().status, 404);
  t.record_sent(false);
  EXPECT_EQ(t.send({"GET", "/a"}).assume_value().status, 202);
  EXPECT_EQ(t.sent().size(), 4u);
}

// --- 12. certificate errors say so ----------------------------------------------------------

TEST(CertIdErrors, ABadPemIsACertificateError) {
  const auto id =
      acme::cert_id_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.assume_error(), errc::certificate_unreadable);
  EXPECT_TRUE(contains(id.assume_error().message(), "certificate")) << id.assume_error().message();
  EXPECT_FALSE(contains(id.assume_error().message(), "JSON"));
  EXPECT_EQ(acme::cert_id_from_pem(std::string(70'000, 'A')).assume_error(),
            errc::certificate_too_large);
}

}  // namespace
