// A consumer of certretry's core component only (Boost.Outcome, no simdjson, no OpenSSL): its own
// triage for a CA certretry does not know, on the generic poll machine.
#include <certretry/machine/run.hpp>
#include <certretry/poll/machine.hpp>
#include <certretry/testing/scripted.hpp>

#include <cstdio>
#include <string>

#if defined(SIMDJSON_H) || defined(OPENSSL_X509_H) || defined(HEADER_X509_H)
#error "a core header pulled in simdjson or OpenSSL"
#endif

namespace {
// Done when the body says "ready:<certificate>", pending on "wait", refused otherwise.
struct text_triage {
  certretry::request_view next_request() const { return {"GET", "/status/7"}; }
  certretry::triage_result classify(const certretry::response_view& r) {
    using certretry::verdict;
    if (const auto s = certretry::triage_status(r.status); r.status / 100 != 2)
      return {s.verdict, s.why};
    if (r.body == "wait") return {verdict::pending, "waiting"};
    if (r.body.starts_with("ready:")) return {verdict::done, "ready", r.body.substr(6)};
    return {verdict::permanent, "refused"};
  }
  void reset() {}
};
}  // namespace

int main() {
  using namespace certretry;
  virtual_clock clock;
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  server.script("GET /status/7",
                {scripted_reply::respond(503, ""), scripted_reply::respond(200, "wait"),
                 scripted_reply::respond(200, "ready:PEM")});
  const backoff_policy every_2s{fixed_schedule{std::chrono::seconds{2}}, no_jitter{}};
  poll_machine poller{text_triage{}, every_2s, splitmix64{1}};  // types deduced
  const outcome o = run(poller, server, clock, sleeper);
  std::printf("%s after %u requests\n", std::string(to_string(o.kind)).c_str(), o.sends);
  return o.kind == outcome_kind::issued && o.certificate == "PEM" && o.sends == 3 ? 0 : 1;
}
