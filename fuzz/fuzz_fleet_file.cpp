// Fleet files are input users write and share: parse_fleet on any bytes, and a short run of
// whatever parses (on the async-CA, TPP or ACME model it names), with the simulator's accounting
// checked.
#include "fleet_file.hpp"
#include "fuzz_support.hpp"

#include "certretry/sim/fleet.hpp"
#include "certretry/sim/model_clients.hpp"
#include "certretry/sim/model_fleet.hpp"
#include "certretry/sim/report.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;

// Any file the fleet names is this small CSV, except names containing "missing".
bool fake_loader(std::string_view path, std::size_t max_bytes, std::string& text,
                 std::string& detail) {
  FUZZ_CHECK(max_bytes > 0);
  if (path.find("missing") != std::string_view::npos) {
    detail = "cannot read";
    return false;
  }
  text = "seconds\n1\n2.5\n30\n";
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string detail;
  auto parsed = certretry::harness::parse_fleet(text, "base", fake_loader, detail);
  if (!parsed) {
    FUZZ_CHECK(parsed.error() == certretry::errc::scenario_malformed ||
               parsed.error() == certretry::errc::scenario_unknown_option);
    FUZZ_CHECK(!detail.empty());
    return 0;
  }
  const auto& f = parsed.value();
  FUZZ_CHECK(!f.policies.empty() && f.policies.size() <= 32);
  for (const auto& p : f.policies) FUZZ_CHECK(!p.name.empty() && p.name.size() <= 64);
  FUZZ_CHECK(f.run.deadline >= 1s);
  FUZZ_CHECK(f.ca.capacity >= 1 && f.ca.api_keys >= 1);

  // A small run only: a few certificates, an hour, polls at least a second apart.
  const auto& p = f.policies.front();
  if (f.plan.certificates > 10 || f.run.deadline > 1h ||
      p.backoff.run_limits().effective_min_delay() < 1s || f.run.bin < 1s)
    return 0;
  using certretry::harness::fleet_model;
  certretry::sim::fleet_result r;
  switch (f.model) {
    case fleet_model::async_ca:
      r = certretry::sim::simulate_fleet(f.plan, f.ca, p, f.run);
      FUZZ_CHECK(r.ca.requests <= r.requests + r.ari_requests);
      break;
    case fleet_model::tpp: {
      FUZZ_CHECK(f.tpp_clients.size() == f.policies.size());
      const auto so = f.tpp;
      certretry::sim::model_fleet<certretry::model::tpp_server> fleet{
          f.plan,
          certretry::sim::tpp_fleet_client(p.name, p.backoff, f.tpp_clients.front(), f.run.seed),
          f.run, [so](certretry::virtual_clock& c) {
            return certretry::model::tpp_server{c, so};
          }};
      r = fleet.run();
      // Every request the fleet sent reached the one server: answered by an endpoint, or
      // refused before one (an outage's 503, a refused token).
      const auto& k = fleet.server().counters();
      FUZZ_CHECK(k.calls() + k.outage_503 + k.refused_token == r.requests);
      break;
    }
    case fleet_model::acme: {
      const auto so = f.acme;
      certretry::sim::model_fleet<certretry::model::acme_server> fleet{
          f.plan, certretry::sim::acme_fleet_client(p.name, p.backoff), f.run,
          [so](certretry::virtual_clock& c) {
            return certretry::model::acme_server{c, so};
          }};
      r = fleet.run();
      FUZZ_CHECK(fleet.server().counters().calls() == r.requests);
      break;
    }
  }
  FUZZ_CHECK(r.started == r.issued + r.failed + r.pending_at_deadline);
  FUZZ_CHECK(r.requests == r.needed + r.retries + r.abandoned_requests + r.unfinished_requests);
  FUZZ_CHECK(r.time_to_certificate.count() == r.issued);
  const std::string json = certretry::sim::fleet_json({r}, f.run.peak_window);
  FUZZ_CHECK(json.front() == '{' && json.back() == '\n');
  return 0;
}
