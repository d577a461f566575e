// The README's usage example: poll a DigiCert order politely until the certificate is ready.
#include <certretry/certretry.hpp>

#include <cstdio>

int main() {
  using namespace certretry;
  virtual_clock clock;                  // production: system_clock{}
  virtual_sleeper sleeper{clock};       // production: thread_sleeper{} or stoppable_sleeper
  scripted_transport transport{clock};  // production: your HTTP client (see core/concepts.hpp)
  transport.script(
      "GET /order/certificate/42",
      {scripted_reply::respond(429, R"({"errors":[{"code":"request_limit_exceeded"}]})"),
       scripted_reply::respond(200, R"({"status":"issued","certificate":{"id":7}})")});
  transport.script("GET /certificate/7/download/format/pem_all",
                   {scripted_reply::respond(200, "-----BEGIN CERTIFICATE-----...")});

  // certretry's async-CA default (98 s x1.25, capped at 45 min; docs/tuning.md), ±20 % jitter,
  // a 10 min deadline. The machine's types follow from its arguments:
  // backoff_policy<geometric_schedule, proportional_jitter>, splitmix64, and the null_sink when
  // no sink is given.
  const backoff_policy policy{schedules::async_ca, proportional_jitter{0.2},
                              limits{.max_wait = 10min}};
  async_ca_poll_machine poller{async_ca_triage{{async_ca::digicert, "42", ""}}, policy,
                               splitmix64{2024}};
  const outcome o = run(poller, transport, clock, sleeper);
  std::printf("%s after %u requests, %lld s\n", to_string(o.kind).data(), o.sends,
              static_cast<long long>(
                  std::chrono::floor<std::chrono::seconds>(clock.now() - clock.start()).count()));
}
