// `certretry-harness simulate FLEET.json [--json FILE] [--svg FILE]`: runs a fleet file's
// policies on the fleet simulator (docs/harness.md, "Fleet files").
#pragma once

namespace certretry::harness {

// args: what follows "simulate" on the command line. Returns the exit code: 0 every run
// finished, 2 a malformed fleet file, an unknown option, or a file that cannot be read or
// written.
int cmd_simulate(int argc, char** argv);

}  // namespace certretry::harness
