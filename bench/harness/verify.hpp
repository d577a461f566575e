// `certretry-harness verify`: the machines' invariants over every sequence of replies up to a
// depth (docs/verify.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

// One machine verified with its default options: the figures of a row of `verify`'s table.
struct verified_machine {
  std::string machine;
  std::size_t letters = 0, sequences = 0, states = 0, merged = 0, finished = 0, continued = 0;
  std::size_t invariants = 0, invariants_applying = 0;
  std::vector<std::string> violated;  // the invariants a counterexample broke
  bool exhausted = true;              // false: the state limit stopped the search
  double cpu_seconds = 0;             // on this thread
  std::string error;                  // the machine could not be set up (then nothing ran)

  bool ok() const noexcept { return error.empty() && violated.empty() && exhausted; }
};

// Every machine `verify` checks when none is named, each with its default options, to `depth`
// replies: the figures `certretry-harness verify --depth N` prints. `before` (optional) is
// called with each machine's name before it runs.
std::vector<verified_machine> verify_default_machines(
    std::uint32_t depth, const std::function<void(std::string_view)>& before = {});

// argv holds the arguments after "verify". Exit codes: 0 every invariant held (or, with
// --planted, every planted bug was found), 1 a violation (its counterexample printed), 2 a
// malformed command line or options.
int cmd_verify(int argc, char** argv);

}  // namespace certretry::harness
