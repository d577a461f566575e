// `certretry-harness verify`: the machines' invariants over every sequence of replies up to a
// depth (docs/verify.md).
#pragma once

namespace certretry::harness {

// argv holds the arguments after "verify". Exit codes: 0 every invariant held (or, with
// --planted, every planted bug was found), 1 a violation (its counterexample printed), 2 a
// malformed command line or options.
int cmd_verify(int argc, char** argv);

}  // namespace certretry::harness
