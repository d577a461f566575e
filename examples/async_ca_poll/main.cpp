// async_ca_poll — a DigiCert-style order over real HTTP with certretry's libcurl transport:
// submit the order, then let the poll machine with DigiCert's triage (async_ca/poller.hpp)
// poll its status until issued and download the certificate, honouring 429s and their
// Retry-After.
//
//   async_ca_poll BASE_URL        e.g. http://127.0.0.1:PORT from
//   certretry-harness serve --model async-ca --issuance fixed:5 --rate-limit 1/1.5
//                           --rate-limit-retry-after 2
//
// Against that server (1 request per 1.5 s per API key, then 429 with Retry-After: 2; issuance
// 5 s after the submit) the run is always the same: the first status poll comes right after the
// submit and is refused, two polls find the order pending, the third finds it issued, the
// download that follows at once is refused, and the one after the Retry-After gets the PEM.
// The program prints counts and outcomes, not timings, so its output can be checked.
#include <certretry/async_ca/poller.hpp>
#include <certretry/core/system.hpp>
#include <certretry/machine/run.hpp>
#include <certretry/transport/curl.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

namespace {

using namespace std::chrono_literals;

// Counts the statuses that go by: a transport wrapper is the place for metrics.
template <certretry::transport T>
struct status_counter {
  T& inner;
  std::map<int, unsigned> seen{};
  certretry::result<certretry::response> send(const certretry::request_view& r) {
    auto got = inner.send(r);
    if (got) ++seen[got.value().status];
    return got;
  }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace certretry;
  if (argc != 2) {
    std::fprintf(stderr, "usage: async_ca_poll BASE_URL\n");
    return 2;
  }
  auto made = curl_transport::create({.base_url = argv[1], .timeout = 15s});
  if (!made) {
    std::fprintf(stderr, "libcurl: %s\n", made.error().message().c_str());
    return 1;
  }
  curl_transport& http = made.value();
  const std::vector<header_field> key{{"X-DC-DEVKEY", "example-key"}};

  // 1. Submit (DigiCert: POST /order/certificate/ssl_basic answers 201 {"id":N}).
  auto submitted = http.send({.method = "POST",
                              .target = "/order/certificate/ssl_basic",
                              .headers = key,
                              .body = R"({"certificate":{"common_name":"www.example.com"}})"});
  if (!submitted) {
    std::fprintf(stderr, "submit: %s (%s)\n", submitted.error().message().c_str(),
                 std::string(http.last_error_detail()).c_str());
    return 1;
  }
  const std::string& body = submitted.value().body;
  const auto at = body.find("\"id\":");
  if (submitted.value().status != 201 || at == std::string::npos) {
    std::fprintf(stderr, "submit: HTTP %d %s\n", submitted.value().status, body.c_str());
    return 1;
  }
  const std::string id = body.substr(at + 5, body.find_first_not_of("0123456789", at + 5) - at - 5);
  std::printf("submitted: HTTP 201, order %s\n", id.c_str());

  // 2. Poll every 2 s (no jitter here so the run is repeatable; use proportional_jitter{0.2} in
  // production), a Retry-After longer than that wins, 2 minutes at most.
  struct keyed {
    curl_transport& http;
    const std::vector<header_field>& key;
    std::vector<header_field> fields;
    result<response> send(const request_view& r) {
      fields.assign(r.headers.begin(), r.headers.end());
      fields.insert(fields.end(), key.begin(), key.end());
      return http.send({r.method, r.target, fields, r.body});
    }
  } with_key{http, key, {}};
  status_counter<keyed> counted{with_key};
  poll_machine poller{async_ca_triage{{async_ca::digicert, id, ""}},
                      backoff_policy{fixed_schedule{2s}, no_jitter{}, limits{.max_wait = 2min}},
                      splitmix64{1}};
  system_clock clock;
  thread_sleeper sleeper;
  const outcome o = run(poller, counted, clock, sleeper);

  std::printf("outcome: %s after %u requests\n", to_string(o.kind).data(), o.sends);
  for (const auto& [status, n] : counted.seen) std::printf("  HTTP %d: %u\n", status, n);
  std::printf("certificate: %s\n", o.certificate.substr(0, o.certificate.find('\n')).c_str());
  std::printf("connections opened: %llu\n",
              static_cast<unsigned long long>(http.connections_opened()));
  return o.kind == outcome_kind::issued ? 0 : 1;
}
