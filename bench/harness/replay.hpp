// The harness's replay engine: runs a scenario's machine through certretry::run() against its
// scripted server on a virtual clock, and records the transcript.
#pragma once

#include "scenario.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace certretry::harness {

// Exit codes of `replay` (docs/harness.md).
inline constexpr int exit_finished = 0;
inline constexpr int exit_expectation_failed = 1;
inline constexpr int exit_malformed = 2;
inline constexpr int exit_unmatched = 3;
inline constexpr int exit_step_cap = 4;

// One transcript line, also kept structured so `check` can assert on it.
struct entry {
  std::string kind;  // send | recv | wait | event | outcome
  duration t{};
  std::string what;        // send: "METHOD PATH"; recv: status or error name; event: its name;
                           // outcome: its kind
  std::string verdict;     // recv
  std::string why;         // recv, wait, event; outcome: reason
  duration wait{};         // wait
  std::int64_t sends = 0;  // outcome
  std::string not_before;  // outcome: RFC 3339, empty when the line has none
  std::string action;      // outcome: empty when the line has none
  std::string line;        // the JSON line printed
};

struct replay_result {
  int exit_code = exit_finished;
  std::vector<entry> entries;    // every line, when the output keeps them
  std::optional<entry> outcome;  // the outcome line, when the run finished
  std::uint64_t lines = 0;       // lines written
  std::string error;             // for stderr when exit_code != 0
  // With a scenario's ledger: the ledger saved after the run, as to_json() writes it.
  std::optional<std::string> ledger;

  std::string transcript() const;
};

// Where a replay's lines go as they are produced, and how long a run may be. `replay` streams
// them to stdout and keeps none; `check` keeps them for its assertions; `sweep` keeps only what
// it summarises. A run is bounded by its step cap either way.
struct replay_output {
  std::function<void(const entry&)> on_entry;  // called with each line as it is written
  bool keep = true;                            // whether replay_result::entries holds them
  std::optional<std::uint64_t> max_steps;      // requests and waits at most; absent: the
                                               // scenario's max_steps, else default_max_steps
};

// The machines `replay` knows, for --help and error messages.
std::vector<std::string> machine_names();

replay_result replay(const scenario& s, const replay_output& out = {});

// Checks a finished replay against the scenario's `expect` block; on failure `why` says which
// assertion failed and what was seen.
bool check_expectations(const std::string& expect_json, const replay_result& r, std::string& why,
                        bool& malformed);

}  // namespace certretry::harness
