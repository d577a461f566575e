// Load on `certretry-harness serve`: N clients over loopback for S seconds, each with its own
// curl_transport (one per thread), each ordering DigiCert-style certificates from the async-CA
// model in a loop: submit, poll the status until issued, download. Passes when nothing failed,
// the server's resident set stayed flat after warm-up, every response received is in the
// server's request log, and the server stopped cleanly on SIGTERM.
//
//   serve_load_test HARNESS [CLIENTS [SECONDS [no-rss]]]   (ctest: 1000 clients, 10 s)
// no-rss: skip the resident-set check (under AddressSanitizer, whose quarantine grows it).
#include "serve_process.hpp"

#include <certretry/transport/curl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct totals {
  std::atomic<std::uint64_t> responses{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> certificates{0};
  std::atomic<std::uint64_t> unexpected{0};
};

// The number after `"key":` in a JSON body (the model's replies are flat and known).
std::string number_after(const std::string& body, const std::string& key) {
  const auto at = body.find("\"" + key + "\":");
  if (at == std::string::npos) return {};
  std::size_t i = at + key.size() + 3;
  std::string out;
  while (i < body.size() && body[i] >= '0' && body[i] <= '9') out += body[i++];
  return out;
}

void client(const std::string& base, clock_type::time_point deadline, int index, totals& t,
            std::string& first_error) {
  auto created = certretry::curl_transport::create({.base_url = base, .timeout = 10s});
  if (!created) {
    ++t.failures;
    return;
  }
  auto& http = created.value();
  // Spread the clients' first requests over the first pace.
  constexpr auto pace = 200ms;
  std::this_thread::sleep_for(pace * (index % 100) / 100);
  const auto send = [&](const certretry::request_view& r) -> std::optional<certretry::response> {
    auto got = http.send(r);
    if (!got) {
      if (t.failures++ == 0)
        first_error = got.error().message() + ": " + std::string(http.last_error_detail());
      return std::nullopt;
    }
    ++t.responses;
    return std::move(got).value();
  };
  while (clock_type::now() < deadline) {
    auto submitted = send({.method = "POST",
                           .target = "/order/certificate/ssl_basic",
                           .body = R"({"certificate":{"common_name":"load.example"}})"});
    if (!submitted) return;
    const std::string id = number_after(submitted->body, "id");
    if (submitted->status != 201 || id.empty()) {
      ++t.unexpected;
      return;
    }
    const std::string status_path = "/order/certificate/" + id;
    std::string cert_id;
    while (clock_type::now() < deadline && cert_id.empty()) {
      std::this_thread::sleep_for(pace);
      auto polled = send({.method = "GET", .target = status_path});
      if (!polled) return;
      if (polled->status != 200) {
        ++t.unexpected;
        return;
      }
      if (polled->body.find("\"issued\"") != std::string::npos)
        cert_id = number_after(polled->body, "id");
    }
    if (cert_id.empty()) return;  // the run ended while pending
    auto pem =
        send({.method = "GET", .target = "/certificate/" + cert_id + "/download/format/pem_all"});
    if (!pem) return;
    if (pem->status != 200 || pem->body.find("BEGIN CERTIFICATE") == std::string::npos) {
      ++t.unexpected;
      return;
    }
    ++t.certificates;
    std::this_thread::sleep_for(pace);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: serve_load_test HARNESS [CLIENTS [SECONDS [no-rss]]]\n");
    return 2;
  }
  const std::string harness = argv[1];
  const int clients = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  const bool check_rss = !(argc > 4 && std::string(argv[4]) == "no-rss");
  if (clients <= 0 || clients > 20000 || seconds <= 0 || seconds > 3600) {
    std::fprintf(stderr, "CLIENTS must be 1..20000 and SECONDS 1..3600\n");
    return 2;
  }
  const std::string dir = certretry_test::temp_dir();
  const std::string log = dir + "/requests.jsonl";
  int rc = 0;
  {
    certretry_test::serve_process serve(
        harness, {"--model", "async-ca", "--issuance", "fixed:1", "--log", log});
    if (!serve.ok()) {
      std::fprintf(stderr, "FAIL: serve did not start: %s\n", serve.startup().c_str());
      std::filesystem::remove_all(dir);
      return 1;
    }
    const long rss_idle = serve.rss_kib();
    totals t;
    std::vector<std::string> errors(static_cast<std::size_t>(clients));
    const auto started = clock_type::now();
    const auto deadline = started + std::chrono::seconds{seconds};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(clients));
    for (int i = 0; i < clients; ++i)
      threads.emplace_back(client, serve.url(), deadline, i, std::ref(t),
                           std::ref(errors[static_cast<std::size_t>(i)]));
    // Warm-up: a quarter of the run; then the resident set must stay flat.
    std::this_thread::sleep_until(started + std::chrono::milliseconds{seconds * 250});
    const long rss_warm = serve.rss_kib();
    long rss_peak = rss_warm;
    while (clock_type::now() < deadline) {
      std::this_thread::sleep_for(250ms);
      rss_peak = std::max(rss_peak, serve.rss_kib());
    }
    for (auto& th : threads) th.join();
    const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
    const long rss_end = serve.rss_kib();
    const int exit_status = serve.stop();

    // The request log: one line per request answered, none for anything else here.
    const std::string text = certretry_test::read_text(log);
    std::uint64_t logged = 0, logged_errors = 0;
    for (std::size_t at = 0; (at = text.find('\n', at)) != std::string::npos; ++at) ++logged;
    for (std::size_t at = 0; (at = text.find("\"error\":", at)) != std::string::npos; ++at)
      ++logged_errors;

    const std::uint64_t responses = t.responses;
    std::printf(
        "clients %d, seconds %d: %llu requests (%.0f/s), %llu certificates, %llu failures, "
        "%llu unexpected; log %llu lines; serve RSS KiB idle %ld, warm %ld, peak %ld, end %ld; "
        "exit %d\n",
        clients, seconds, static_cast<unsigned long long>(responses),
        static_cast<double>(responses) / elapsed,
        static_cast<unsigned long long>(t.certificates.load()),
        static_cast<unsigned long long>(t.failures.load()),
        static_cast<unsigned long long>(t.unexpected.load()),
        static_cast<unsigned long long>(logged), rss_idle, rss_warm, rss_peak, rss_end,
        exit_status);
    const auto fail = [&](const char* why) {
      std::fprintf(stderr, "FAIL: %s\n", why);
      rc = 1;
    };
    if (t.failures > 0) {
      for (const auto& e : errors)
        if (!e.empty()) {
          std::fprintf(stderr, "first transport error: %s\n", e.c_str());
          break;
        }
      fail("transport errors under load");
    }
    if (t.unexpected > 0) fail("unexpected replies under load");
    if (t.certificates == 0) fail("no certificate was issued");
    if (responses < static_cast<std::uint64_t>(clients)) fail("fewer requests than clients");
    if (logged != responses || logged_errors != 0)
      fail("the request log does not hold exactly one line per response");
    // Flat: after warm-up the resident set grows by less than 16 MiB and a quarter.
    if (check_rss && (rss_warm <= 0 || rss_peak > rss_warm + 16 * 1024 + rss_warm / 4))
      fail("serve's resident set grew after warm-up");
    if (exit_status != 0) fail("serve did not exit 0 on SIGTERM");
  }
  std::filesystem::remove_all(dir);
  if (rc == 0) std::printf("PASS\n");
  return rc;
}
