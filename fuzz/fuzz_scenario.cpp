// Scenario files are input users write and share: parse_scenario, replay and the `expect`
// checker on any bytes.
#include "fuzz_support.hpp"
#include "replay.hpp"
#include "scenario.hpp"

#include "certretry/core/rfc3339.hpp"

#include <simdjson.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

using namespace certretry::harness;

std::optional<double> number_option(const scenario& s, std::string_view name) {
  const auto it = s.options.find(name);
  if (it == s.options.end()) return std::nullopt;
  if (const auto* d = std::get_if<double>(&it->second.v)) return *d;
  return std::nullopt;
}

// A run polls at most about max_wait / min_delay times. Replaying a scenario that asks for a
// year of one-millisecond polls is correct but slow; such scenarios are skipped so that each
// input stays within a few thousand sends.
bool bounded_run(const scenario& s) {
  if (const auto w = number_option(s, "max_wait_s"); w && *w > 3600) return false;
  if (const auto d = number_option(s, "min_delay_s"); d && *d < 1) return false;
  if (s.machine == "ari-renewal") {
    // ARI runs until notAfter, polling at most every min_retry_after_s: a week at the default
    // minute is about 10 000 polls.
    if (const auto m = number_option(s, "min_retry_after_s"); m && *m < 60) return false;
    const auto text = [&](std::string_view name, std::string_view fallback) {
      const auto it = s.options.find(name);
      if (it == s.options.end()) return std::string(fallback);
      const auto* v = std::get_if<std::string>(&it->second.v);
      return v ? *v : std::string{};
    };
    const auto now = certretry::parse_rfc3339(text("now", "2025-01-01T00:00:00Z"));
    const auto not_after = certretry::parse_rfc3339(text("not_after", ""));
    if (!now || !not_after || *not_after - *now > std::chrono::hours{24 * 7}) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string detail;
  auto parsed = parse_scenario(text, detail);
  if (!parsed) {
    FUZZ_CHECK(parsed.error() == certretry::errc::scenario_malformed);
    FUZZ_CHECK(!detail.empty());
    return 0;
  }
  const scenario& s = parsed.value();
  if (!bounded_run(s)) return 0;

  const replay_result r = replay(s);
  FUZZ_CHECK(r.exit_code == exit_finished || r.exit_code == exit_malformed ||
             r.exit_code == exit_unmatched || r.exit_code == exit_step_cap);
  if (r.exit_code != exit_finished) {
    FUZZ_CHECK(!r.error.empty());
    return 0;
  }

  // The transcript's last line is the outcome, and it counts every request sent.
  FUZZ_CHECK(!r.entries.empty() && r.entries.back().kind == "outcome");
  std::int64_t sends = 0;
  for (const auto& e : r.entries) {
    if (e.kind == "send") ++sends;
    FUZZ_CHECK(e.kind != "outcome" || &e == &r.entries.back());
  }
  FUZZ_CHECK(r.entries.back().sends == sends);

  // Every transcript line is one JSON object (a hostile server's words included).
  simdjson::dom::parser parser;
  for (const auto& e : r.entries) {
    FUZZ_CHECK(e.line.find('\n') == std::string::npos);
    const simdjson::padded_string line{std::string_view{e.line}};
    simdjson::dom::object obj;
    FUZZ_CHECK(!parser.parse(line).get_object().get(obj));
  }

  // The same scenario and seed give the same transcript, and its `expect` block can be checked.
  const replay_result again = replay(s);
  FUZZ_CHECK(again.exit_code == exit_finished && again.transcript() == r.transcript());
  if (s.expect) {
    std::string why;
    bool malformed = false;
    const bool ok = check_expectations(*s.expect, r, why, malformed);
    FUZZ_CHECK(ok || !why.empty());
    FUZZ_CHECK(!malformed || !ok);
  }
  return 0;
}
