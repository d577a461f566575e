// Replay scenarios, format v1 (docs/harness.md): parsing. Machines read their options through
// their declarations (options.hpp).
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/testing/scripted.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace certretry::harness {

// Largest scenario file read: a scenario is a hand-written script, not a data set.
inline constexpr std::size_t max_scenario_bytes = 4u << 20;

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
};

// Parses a scenario; on error, `detail` names the field and what is wrong with it.
result<scenario> parse_scenario(std::string_view json, std::string& detail);

}  // namespace certretry::harness
