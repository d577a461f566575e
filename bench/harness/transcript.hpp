// The transcript: what a machine did, as the JSON lines `replay` prints (docs/harness.md,
// "Transcript"), each also kept structured for `check`.
#pragma once

#include "replay.hpp"

#include "certretry/core/action.hpp"
#include "certretry/core/event.hpp"

#include <vector>

namespace certretry::harness {

// The machines' event sink: one entry per event, times relative to the virtual start.
class transcript_sink {
 public:
  transcript_sink(std::vector<entry>* out, time_point start) : out_(out), start_(start) {}

  void operator()(const event& e);

 private:
  std::vector<entry>* out_;
  time_point start_;
};

// The last line: the outcome, `t` seconds after the start.
entry outcome_entry(const outcome& o, duration t);

}  // namespace certretry::harness
