// Replay scenarios, format v1 (docs/harness.md): parsing. Machines read their options through
// their declarations (options.hpp).
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/time.hpp"
#include "certretry/ledger/failure_ledger.hpp"
#include "certretry/testing/scripted.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace certretry::harness {

// Largest scenario file read: a scenario is a hand-written script, not a data set. Larger
// bodies come from files (`body_file`).
inline constexpr std::size_t max_scenario_bytes = 4u << 20;

// Steps (requests and waits) a replay takes at most unless told otherwise: a year of polls
// every second is 63 million steps, and nobody reads such a transcript.
inline constexpr std::uint64_t default_max_steps = 1'000'000;
inline constexpr std::uint64_t max_max_steps = 1'000'000'000;

struct raw_json {
  std::string text;
};
struct option_value {
  // bool, number, string, or any other JSON value kept as its minified text.
  std::variant<bool, double, std::string, raw_json> v;
};

struct scenario {
  std::string machine;
  std::map<std::string, option_value, std::less<>> options;
  std::uint64_t seed = 1;
  std::vector<std::pair<std::string, std::vector<scripted_reply>>> server;
  // Extension (docs/harness.md): assertions `certretry-harness check` verifies. Minified JSON.
  std::optional<std::string> expect;
  // The scenario file's folder: relative file options (cert_pem) are read from there.
  std::string base_dir = ".";
  // Extension: the step cap (top-level "max_steps"); absent: default_max_steps.
  std::optional<std::uint64_t> max_steps;
  // Extension (docs/harness.md, "Across runs"): the failure ledger the run starts with
  // (top-level "ledger", the ledger file of docs/operations.md); absent: no ledger.
  std::optional<failure_ledger> ledger;
  // Extension: the policy the ledger records with (top-level "escalation"); the library's
  // default (1 min, 10 min, 100 min, 1 day; needs a person after 10) when absent.
  escalation_policy escalation{};
  // Extension: the most a scheduled run waits before it starts (top-level "start_jitter_s");
  // zero: it starts at once.
  duration start_jitter{};
};

struct parse_options {
  // The scenario file's folder, from which `body_file` paths are read. Absent: `body_file` is
  // refused (the fuzzer and tests parse text that names no files).
  std::optional<std::string> base_dir;
};

// Parses a scenario; on error, `detail` names the field and what is wrong with it (a JSON
// error with its line and column, a duplicate key with the object holding it).
result<scenario> parse_scenario(std::string_view json, std::string& detail,
                                const parse_options& options = {});

}  // namespace certretry::harness
