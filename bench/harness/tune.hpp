// `certretry-harness tune`: the schedule tuner's command (docs/tuning.md).
#pragma once

namespace certretry::harness {

// argv holds the arguments after "tune". Exit codes: 0 done, 1 a figure the simulation did not
// confirm, 2 a malformed tuning file or command line.
int cmd_tune(int argc, char** argv);

}  // namespace certretry::harness
