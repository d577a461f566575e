// Fleet files for `certretry-harness simulate` (docs/harness.md, "Fleet files"): parsing into the
// simulator's options. Strict: an unknown key anywhere is an error that names it.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/sim/fleet.hpp"
#include "certretry/sim/model_clients.hpp"
#include "certretry/testing/acme/server.hpp"
#include "certretry/testing/tpp_server.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

// Largest fleet file and largest empirical CSV read.
inline constexpr std::size_t max_fleet_bytes = 1u << 20;
inline constexpr std::size_t max_csv_bytes = 64u << 20;

// Which server model the fleet renews against (ca.model).
enum class fleet_model : std::uint8_t { async_ca, tpp, acme };

struct fleet_file {
  sim::renewal_plan plan;
  fleet_model model = fleet_model::async_ca;
  sim::async_ca_options ca;
  model::tpp_server_options tpp;    // model tpp
  double tpp_stuck = 0.0;           // model tpp: the share of objects stuck on a failed enrollment
  model::acme_server_options acme;  // model acme
  std::vector<sim::client_policy> policies;
  std::vector<sim::tpp_fleet_options> tpp_clients;  // model tpp: each policy's enrollment options
  sim::run_options run;
};

// Reads a file named in the fleet file (an empirical CSV), relative to the fleet file's folder;
// on error returns false with `detail` saying why.
using file_loader = std::function<bool(std::string_view path, std::size_t max_bytes,
                                       std::string& text, std::string& detail)>;

// Reads `path` from disk, refusing files larger than max_bytes before reading them.
bool load_file(std::string_view path, std::size_t max_bytes, std::string& text,
               std::string& detail);

// Parses a fleet file. `base_dir` prefixes relative paths handed to `load`. On error, `detail`
// names the key and what is wrong with it (errc::scenario_malformed or
// errc::scenario_unknown_option).
result<fleet_file> parse_fleet(std::string_view json, std::string_view base_dir,
                               const file_loader& load, std::string& detail);

}  // namespace certretry::harness
