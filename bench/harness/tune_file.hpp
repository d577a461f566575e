// Tuning files for `certretry-harness tune` (docs/tuning.md, "The tuning file"): parsing into
// the tuner's problem. Strict: an unknown key anywhere is an error that names it.
#pragma once

#include "fleet_file.hpp"

#include "certretry/core/errc.hpp"
#include "certretry/tune/tuner.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace certretry::harness {

// Largest tuning file read; most Monte Carlo orders; most grid points.
inline constexpr std::size_t max_tune_bytes = 1u << 20;
inline constexpr std::size_t max_monte_carlo_orders = 1'000'000;
inline constexpr std::size_t max_grid_points = 2'000'000;

struct tune_file {
  tune::problem problem;
  std::size_t orders = 10000;  // Monte Carlo orders per schedule checked
  std::uint64_t seed = 1;
  std::string title;  // "description", or the issuance's own description
};

// Parses a tuning file. `base_dir` prefixes a relative CSV path handed to `load`. On error,
// `detail` names the key and what is wrong with it (errc::scenario_malformed or
// errc::scenario_unknown_option).
result<tune_file> parse_tune(std::string_view json, std::string_view base_dir,
                             const file_loader& load, std::string& detail);

}  // namespace certretry::harness
