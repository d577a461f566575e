// Observability: an event sink that logs what the poller does and why, for a Sectigo order
// whose collect endpoint is not ready at first (it answers 400: certctl's collectNotReady,
// docs/sources.md#certctl-async-polling-doc).
#include <certretry/certretry.hpp>

#include <cstdio>
#include <string>

namespace {

struct log_sink {
  certretry::time_point start;
  void operator()(const certretry::event& e) const {
    using namespace certretry;
    const double t = std::chrono::duration<double>(e.at - start).count();
    switch (e.kind) {
      case event_kind::send:
        std::printf("%7.1fs  -> %.*s %.*s\n", t, int(e.request.method.size()),
                    e.request.method.data(), int(e.request.target.size()), e.request.target.data());
        break;
      case event_kind::verdict:
        std::printf("%7.1fs  <- %d %s: %.*s\n", t, e.status, to_string(e.verdict).data(),
                    int(e.why.size()), e.why.data());
        break;
      case event_kind::wait:
        std::printf("%7.1fs     wait %.1fs (%s)\n", t,
                    std::chrono::duration<double>(e.delay).count(), to_string(e.wait_why).data());
        break;
      default: break;
    }
  }
};

}  // namespace

int main() {
  using namespace certretry;
  virtual_clock clock;
  virtual_sleeper sleeper{clock};
  scripted_transport sectigo{clock};
  sectigo.script("GET /ssl/v1/1001", {scripted_reply::respond(200, R"({"status":"Applied"})"),
                                      scripted_reply::respond(200, R"({"status":"Issued"})")});
  sectigo.script("GET /ssl/v1/collect/1001/pem",
                 {scripted_reply::respond(400, R"({"code":-183,"description":"not ready"})"),
                  scripted_reply::respond(200, "-----BEGIN CERTIFICATE-----...")});

  async_ca_poll_machine poller{async_ca_triage{{async_ca::sectigo, "1001", ""}},
                               backoff_policy{schedules::certctl, no_jitter{}}, splitmix64{1},
                               log_sink{clock.now()}};
  const outcome o = run(poller, sectigo, clock, sleeper);
  std::printf("outcome: %s, %u requests, %zu certificate bytes\n", to_string(o.kind).data(),
              o.sends, o.certificate.size());
}
