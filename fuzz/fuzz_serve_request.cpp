// `certretry-harness serve`'s request path without the socket (bench/harness/serve_request.hpp):
// bytes as a client sends them on one connection → Beast's parser under serve's limits → the
// model (TPP, async CA, ACME, bench/harness/serve_model.cpp) → its reply. Several requests per
// input, as a keep-alive connection sends them, with the wall clock moving between them.
// Checks: a request Beast refuses answers 400, 413 or 431 as serve would, and the model is not
// called; every reply has a status serve can write (100-599), header fields that cannot split
// the response (a token name, no CR, LF or NUL in a value), a hold from 0 to a day and a bounded
// body; the model's counters stay one JSON object.
//
// Input layout: byte 0 the model and its options (a table: the three models, with faults and
// small limits), then per request: one byte of wall time before it (a table, 0 to an hour),
// then the request's bytes (the parser takes what one request needs; the next starts after it).
#include "certretry/core/json_text.hpp"
#include "fuzz_support.hpp"
#include "serve_model.hpp"
#include "serve_request.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;
namespace serve = certretry::harness::serve;

// The command lines serve is fuzzed under (docs/testing-your-client.md).
const std::vector<std::vector<std::string>>& setups() {
  static const std::vector<std::vector<std::string>> all{
      {"--model", "tpp"},
      {"--model", "tpp", "--tpp-objects", "4", "--tpp-stuck", "0.5", "--tpp-unknown-rows", "0.5",
       "--tpp-misbehaving-websdk", "0.5", "--tpp-restart-race"},
      {"--model", "async-ca"},
      {"--model", "async-ca", "--profile", "sectigo", "--issuance", "fixed:1", "--rate-limit",
       "2/1", "--rate-limit-retry-after", "1", "--fault", "5-10:503:2", "--outage", "20-30"},
      {"--model", "async-ca", "--profile", "globalsign", "--issuance", "exp:2"},
      {"--model", "async-ca", "--profile", "entrust", "--max-body", "64"},
      {"--model", "acme"},
      {"--model", "acme", "--acme-bad-nonce", "0.5", "--acme-rate-limited", "0.2",
       "--acme-unavailable", "0.2", "--acme-certificates", "2", "--acme-renewal-info-errors", "0.3",
       "--acme-renewal-info-timeouts", "0.3", "--acme-replaces-style", "boulder-conflict"},
      {"--model", "acme", "--acme-no-nonce-check", "--acme-order-retry-after", "none",
       "--acme-certificates", "1"},
      {"--model", "tpp", "--max-body", "16"},
  };
  return all;
}

constexpr std::array<duration, 8> steps{0ms, 0ms, 10ms, 1s, 3s, 30s, 10min, 1h};

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == '"')
      return false;
  }
  return true;
}

bool is_field_value(std::string_view s) {
  for (const char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzing::byte_reader in(data, size);
  const auto& setup = setups()[in.u8() % setups().size()];
  std::vector<std::string> args = setup;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  time_point now{std::chrono::seconds{1767225600}};
  serve::config cfg;
  std::string error;
  FUZZ_CHECK(serve::parse_args(static_cast<int>(argv.size()), argv.data(), now, cfg, error));
  FUZZ_CHECK(cfg.m != nullptr);
  cfg.m->bound(8443);
  for (int n = 0; n < 16 && !in.empty(); ++n) {
    now += steps[in.u8() % steps.size()];
    const std::string_view rest = in.bytes(size);  // all that is left; put back what is unused
    const serve::answered a = serve::answer_bytes(*cfg.m, cfg, rest, now);
    FUZZ_CHECK(a.used <= rest.size());
    if (a.what == serve::answered::kind::refused) {
      FUZZ_CHECK(a.refusal == 400 || a.refusal == 413 || a.refusal == 431);
      break;  // serve answers and closes the connection
    }
    if (a.what == serve::answered::kind::incomplete) break;
    const serve::reply& r = a.r;
    FUZZ_CHECK(r.r.status >= 100 && r.r.status <= 599);
    FUZZ_CHECK(r.hold >= duration::zero() && r.hold <= 24h);
    FUZZ_CHECK(r.r.body.size() <= (std::size_t{8} << 20));
    for (const header_field& h : r.r.headers) {
      FUZZ_CHECK(is_token(h.name));
      FUZZ_CHECK(is_field_value(h.value));
    }
    // The next request starts where this one ended.
    in = fuzzing::byte_reader(reinterpret_cast<const std::uint8_t*>(rest.data()) + a.used,
                              rest.size() - a.used);
    if (a.used == 0) break;
  }
  const std::string counters = cfg.m->counters_json();
  FUZZ_CHECK(check_json(counters).ok());
  return 0;
}
