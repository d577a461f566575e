// tpp_enroll — Venafi TPP renewals over real HTTP with certretry's libcurl transport, 20 % of
// them stuck on "Fix any errors, and then click Retry.": every one recovers (reset, request
// again) without an extra call on the healthy ones.
//
//   tpp_enroll BASE_URL [N]       e.g. http://127.0.0.1:PORT from
//   certretry-harness serve --model tpp --tpp-objects 10 --tpp-stuck 0.2 --tpp-mean-issuance 0
//
// serve creates \VED\Policy\certretry\cert-1 .. cert-N, every fifth one stuck (its last
// enrollment failed). Issuance is immediate there, so the calls per enrollment are the same on
// every run: 2 for a healthy renewal (request, retrieve), 5 for a stuck one (request, retrieve
// -> "click Retry" or "WebSDK ...", reset, request, retrieve). A real TPP also needs
// "Authorization: Bearer <token>": add it in a transport wrapper, as async_ca_poll adds its key.
#include <certretry/core/system.hpp>
#include <certretry/machine/run.hpp>
#include <certretry/tpp/enroll.hpp>
#include <certretry/transport/curl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  using namespace certretry;
  using namespace std::chrono_literals;
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: tpp_enroll BASE_URL [N]\n");
    return 2;
  }
  const int n = argc == 3 ? std::atoi(argv[2]) : 10;
  // A watched retrieve (WorkToDoTimeout 30 s) may be held that long: the timeout is above it.
  auto made = curl_transport::create({.base_url = argv[1], .timeout = 45s});
  if (!made) {
    std::fprintf(stderr, "libcurl: %s\n", made.error().message().c_str());
    return 1;
  }
  curl_transport& http = made.value();
  system_clock clock;
  thread_sleeper sleeper;

  unsigned issued = 0, recovered = 0, calls = 0;
  for (int i = 1; i <= n; ++i) {
    const std::string name = "cert-" + std::to_string(i);
    tpp::enroll_options options;  // reset-on-detection, watch mode: the defaults
    options.request_body =
        R"({"PolicyDN":"\\VED\\Policy\\certretry","ObjectName":")" + name + "\"}";
    tpp::enroll_machine machine{
        std::move(options), backoff_policy{schedules::vcert, no_jitter{}, limits{.max_wait = 5min}},
        splitmix64{static_cast<std::uint64_t>(i)}};
    const outcome o = run(machine, http, clock, sleeper);
    std::printf("%-8s %s, %u calls, %u reset%s\n", name.c_str(), to_string(o.kind).data(), o.sends,
                machine.resets(), machine.resets() == 1 ? "" : "s");
    if (o.kind == outcome_kind::issued) ++issued;
    if (o.kind == outcome_kind::issued && machine.resets() > 0) ++recovered;
    calls += o.sends;
  }
  std::printf(
      "enrollments %d, issued %u, recovered from stuck %u, calls %u (%.1f per enrollment)\n", n,
      issued, recovered, calls, n > 0 ? static_cast<double>(calls) / n : 0.0);
  return issued == static_cast<unsigned>(n) ? 0 : 1;
}
