// Replay scenarios, format v1 (docs/harness.md): parsing and the option reader machines use.
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

// Reads a machine's options, remembering which were consumed so the rest can be reported.
class option_reader {
 public:
  explicit option_reader(const scenario& s) : options_(&s.options) {}

  std::optional<std::string> string(std::string_view name);
  // Accepts a JSON string or an integer (ids are often numeric).
  std::optional<std::string> id(std::string_view name);
  std::optional<double> number(std::string_view name);
  std::optional<bool> boolean(std::string_view name);
  std::optional<std::string> raw(std::string_view name);

  // The first error met (wrong type), or the first option nobody read.
  bool finish(std::string& detail, std::string_view machine) const;

 private:
  const option_value* find(std::string_view name);
  const std::map<std::string, option_value, std::less<>>* options_;
  std::vector<std::string> read_;
  std::string error_;
};

}  // namespace certretry::harness
