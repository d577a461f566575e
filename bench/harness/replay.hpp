// The harness's replay engine: runs a scenario's machine through certretry::run() against its
// scripted server on a virtual clock, and records the transcript.
#pragma once

#include "scenario.hpp"

#include <string>
#include <vector>

namespace certretry::harness {

// Exit codes of `replay` (docs/harness.md).
inline constexpr int exit_finished = 0;
inline constexpr int exit_expectation_failed = 1;
inline constexpr int exit_malformed = 2;
inline constexpr int exit_unmatched = 3;

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
  std::string line;        // the JSON line printed
};

struct replay_result {
  int exit_code = exit_finished;
  std::vector<entry> entries;
  std::string error;  // for stderr when exit_code != 0

  std::string transcript() const;
};

// The machines `replay` knows, for --help and error messages.
std::vector<std::string> machine_names();

replay_result replay(const scenario& s);

// Checks a finished replay against the scenario's `expect` block; on failure `why` says which
// assertion failed and what was seen.
bool check_expectations(const std::string& expect_json, const replay_result& r, std::string& why,
                        bool& malformed);

}  // namespace certretry::harness
