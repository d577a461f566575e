// Every machine, run to its end, in a build with -fno-exceptions -fno-rtti: the library never
// calls an accessor that could throw (Boost.Outcome's value() and error() would need
// boost::throw_exception, which such a build does not have). ctest builds and runs it with g++
// (builds.no_exceptions) and with clang++-14 (builds.strict_clang).
#include "certretry/acme/ari.hpp"
#include "certretry/acme/cert_id.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <cstdio>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "build this file with -fno-exceptions"
#endif
#if defined(__GXX_RTTI) || defined(__cpp_rtti)
#error "build this file with -fno-rtti"
#endif

namespace {

using namespace certretry;
using namespace std::chrono_literals;

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

template <class Machine>
outcome drive(Machine& m, scripted_transport& t, virtual_clock& clock) {
  virtual_sleeper sleeper{clock};
  return run(m, t, clock, sleeper);
}

const time_point t0{std::chrono::seconds{1'700'000'000}};

void async_ca_poll() {
  virtual_clock clock{t0};
  scripted_transport t{clock};
  const std::string issued = R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----"})";
  t.script("GET /orders/7", {scripted_reply::respond(503, "", {{"Retry-After", "2"}}),
                             scripted_reply::respond(200, issued)});
  async_ca_poll_machine m{async_ca_triage{{async_ca::generic, "7", ""}},
                          backoff_policy{any_schedule{schedules::certctl}, any_jitter{}},
                          splitmix64{1}};
  const outcome o = drive(m, t, clock);
  expect(o.kind == outcome_kind::issued && o.certificate == "-----BEGIN CERTIFICATE-----",
         "async-CA poll issues");

  virtual_clock c2{t0};
  scripted_transport t2{c2};
  async_ca_poll_machine bad{async_ca_triage{{async_ca::generic, "1\r\nHost: evil", ""}},
                            backoff_policy{any_schedule{schedules::certctl}, any_jitter{}},
                            splitmix64{1}};
  const outcome r = drive(bad, t2, c2);
  expect(r.error == errc::invalid_request_value && t2.sent().empty(), "a CR LF id is refused");
}

void tpp_enroll() {
  virtual_clock clock{t0};
  scripted_transport t{clock};
  t.script("POST /vedsdk/certificates/request",
           {scripted_reply::respond(200, R"({"CertificateDN":"\\VED\\Policy\\x"})")});
  t.script("POST /vedsdk/certificates/retrieve",
           {scripted_reply::respond(200, R"({"CertificateData":"TUlJ"})")});
  tpp::enroll_machine m{tpp::enroll_options{},
                        backoff_policy{any_schedule{schedules::vcert}, any_jitter{}},
                        splitmix64{1}};
  const outcome o = drive(m, t, clock);
  expect(o.kind == outcome_kind::issued, "TPP enrolls");
}

void acme_machines() {
  virtual_clock clock{t0};
  scripted_transport t{clock};
  t.script("HEAD /acme/new-nonce", {scripted_reply::respond(200, "", {{"Replay-Nonce", "n1"}})});
  t.script("POST /acme/new-order",
           {scripted_reply::respond(201, R"({"status":"pending"})",
                                    {{"Replay-Nonce", "n2"}, {"Location", "/acme/order/1"}})});
  t.script("POST /acme/order/1",
           {scripted_reply::respond(200, R"({"status":"processing"})",
                                    {{"Replay-Nonce", "n3"}, {"Retry-After", "1"}}),
            scripted_reply::respond(200, R"({"status":"valid"})", {{"Replay-Nonce", "n4"}})});
  acme::new_order_options no;
  acme::new_order_machine order{no, acme::default_policy(), splitmix64{1}};
  expect(drive(order, t, clock).kind == outcome_kind::completed, "ACME new-order completes");
  acme::poll_options po;
  po.url = "/acme/order/1";
  acme::resource_poll_machine poll{po, acme::default_policy(), splitmix64{1}};
  expect(drive(poll, t, clock).kind == outcome_kind::completed, "ACME poll completes");
  acme::post_options post;
  post.url = "/acme/order/1";
  acme::post_machine p{post, acme::default_policy(), splitmix64{1}};
  expect(drive(p, t, clock).kind == outcome_kind::completed, "ACME POST completes");

  acme::ari_options ao;
  ao.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  ao.not_after = t0 + 90 * 24h;
  ao.wait_for_window = false;
  t.script("GET /acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
           {scripted_reply::respond(200, R"({"suggestedWindow":{"start":"2023-11-20T00:00:00Z",)"
                                         R"("end":"2023-11-21T00:00:00Z"}})")});
  acme::ari_machine ari{ao, acme::ari_error_policy(), splitmix64{1}};
  expect(drive(ari, t, clock).kind == outcome_kind::renew_at, "ARI finishes renew_at");

  const auto id = acme::cert_id_from_pem("not a certificate");
  expect(!id && id.assume_error() == errc::certificate_unreadable,
         "a bad PEM is a certificate error");
}

void parsers() {
  const auto ra = parse_retry_after("120", t0);
  expect(ra.has_value() && ra.assume_value() == 120s, "Retry-After 120");
  expect(!parse_retry_after("soon", t0).has_value(), "Retry-After soon");
}

}  // namespace

int main() {
  async_ca_poll();
  tpp_enroll();
  acme_machines();
  parsers();
  if (failures != 0) return 1;
  std::puts("ok: every machine ran without exceptions or RTTI");
  return 0;
}
