// custom_policy — a CA certretry does not know, with the user's own schedule and triage, reusing
// the library's poll machine (poll/machine.hpp): deadline, Retry-After, 429/5xx back-off and the
// event log come from the library; the CA's words and the waits are the user's.
//
// The CA here ("Example Widgets PKI") answers GET /v3/requests/{id} with
//   {"state":"QUEUED"} or {"state":"SIGNING"}     still working
//   {"state":"DONE","pem":"-----BEGIN ..."}        the certificate, in the body
//   {"state":"REJECTED","reason":"..."}            refused for good
// and 429 with Retry-After when called too often. No server is needed: a scripted transport on
// a virtual clock stands in for it, so the output is the same on every run. In production, swap
// in certretry::curl_transport, system_clock and thread_sleeper (see examples/async_ca_poll).
//
// The triage reads the body with plain string search so that this example needs only the core
// component (certretry::core: no simdjson); a real one would use a JSON parser.
#include <certretry/backoff/policy.hpp>
#include <certretry/core/event.hpp>
#include <certretry/core/invalid_value.hpp>
#include <certretry/core/verdict.hpp>
#include <certretry/machine/run.hpp>
#include <certretry/poll/machine.hpp>
#include <certretry/testing/scripted.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;

// The user's schedule: 2 s after the first request, 4 s after the second, 8 s, then every 15 s.
// Anything with delay(n), n = requests so far, is a schedule (backoff/schedule.hpp); check()
// lets backoff_policy::validate() refuse a bad value.
struct widgets_schedule {
  certretry::duration first = 2s;
  certretry::duration cap = 15s;
  certretry::duration delay(std::uint32_t n) const noexcept {
    certretry::duration d = first;
    for (std::uint32_t i = 1; i < n && d < cap; ++i) d *= 2;
    return d < cap ? d : cap;
  }
  certretry::invalid_value check() const noexcept {
    if (first <= certretry::duration::zero()) return {"widgets_schedule.first", "must be > 0"};
    if (cap < first) return {"widgets_schedule.cap", "must be >= first"};
    return {};
  }
};

// The user's triage profile: which request to send, and what each answer means.
class widgets_triage {
 public:
  explicit widgets_triage(std::string id) : target_("/v3/requests/" + std::move(id)) {}

  certretry::request_view next_request() const noexcept {
    return {.method = "GET", .target = target_};
  }

  certretry::triage_result classify(const certretry::response_view& r) {
    using certretry::verdict;
    // The shared status rows first: 429/5xx/408 back off, other 4xx stop (core/verdict.hpp).
    if (const auto s = certretry::triage_status(r.status); s.verdict != verdict::pending)
      return {s.verdict, s.why};
    const std::string_view state = field(r.body, "state");
    if (state == "QUEUED" || state == "SIGNING") return {verdict::pending, "still signing"};
    if (state == "DONE") {
      pem_ = field(r.body, "pem");
      if (pem_.empty()) return {verdict::permanent, "DONE without a pem"};
      return {verdict::done, "signed", pem_};
    }
    if (state == "REJECTED") return {verdict::permanent, "rejected by the CA"};
    // An unknown state stays pending: a new word from the CA must not fail the order.
    return {verdict::pending, "unknown state, still waiting"};
  }

  void reset() { pem_.clear(); }

 private:
  // The string value of "name" in a flat JSON object (no escapes: enough for this CA).
  static std::string_view field(std::string_view body, std::string_view name) {
    const std::string key = "\"" + std::string(name) + "\":\"";
    const auto at = body.find(key);
    if (at == std::string_view::npos) return {};
    const auto start = at + key.size();
    const auto end = body.find('"', start);
    return end == std::string_view::npos ? std::string_view{} : body.substr(start, end - start);
  }

  std::string target_;
  std::string pem_;
};

// Prints what the machine does, in seconds since the first request.
struct print_events {
  certretry::time_point start;
  void operator()(const certretry::event& e) const {
    using certretry::event_kind;
    const long long t = std::chrono::duration_cast<std::chrono::seconds>(e.at - start).count();
    if (e.kind == event_kind::verdict)
      std::printf("t=%3llds  %d -> %s (%.*s)\n", t, e.status,
                  certretry::to_string(e.verdict).data(), static_cast<int>(e.why.size()),
                  e.why.data());
    if (e.kind == event_kind::wait)
      std::printf("t=%3llds  wait %llds\n", t,
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::seconds>(e.delay).count()));
  }
};

}  // namespace

int main() {
  using namespace certretry;
  virtual_clock clock;
  virtual_sleeper sleeper{clock};
  scripted_transport ca{clock};
  ca.script(
      "GET /v3/requests/77",
      {scripted_reply::respond(200, R"({"state":"QUEUED"})"),
       scripted_reply::respond(429, R"({"error":"slow down"})", {{"Retry-After", "20"}}),
       scripted_reply::respond(200, R"({"state":"SIGNING"})"),
       scripted_reply::respond(503, "maintenance"),
       scripted_reply::respond(200, R"({"state":"FROBNICATING"})"),
       scripted_reply::respond(200, R"({"state":"DONE","pem":"-----BEGIN CERTIFICATE-----"})")});

  // No jitter, so this example prints the same waits every run; use proportional_jitter{0.2}
  // in production. A Retry-After longer than the schedule wins (at_least_schedule, the
  // default); 5 minutes at most for the whole order.
  const backoff_policy policy{widgets_schedule{}, no_jitter{}, limits{.max_wait = 5min}};
  if (!policy.validate()) {
    std::printf("invalid policy\n");
    return 1;
  }
  poll_machine machine{widgets_triage{"77"}, policy, splitmix64{1}, print_events{clock.now()}};
  const outcome o = run(machine, ca, clock, sleeper);
  std::printf(
      "outcome: %s after %u requests, %lld s; certificate: %s\n", to_string(o.kind).data(), o.sends,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::seconds>(clock.now() - clock.start()).count()),
      o.certificate.c_str());
  return o.kind == outcome_kind::issued ? 0 : 1;
}
