// The transcript: what a machine did, as the JSON lines `replay` prints (docs/harness.md,
// "Transcript"), each also kept structured for `check`.
#pragma once

#include "replay.hpp"

#include "certretry/core/action.hpp"
#include "certretry/core/event.hpp"

#include <string_view>
#include <vector>

namespace certretry::harness {

// Where the lines go: handed on as they come (replay_output::on_entry), kept or not, and
// counted. A request or a wait past the step cap is not written: the writer is then capped()
// and the run is stopped (machine.hpp).
class transcript_writer {
 public:
  transcript_writer(const replay_output& out, std::uint64_t max_steps)
      : out_(&out), max_steps_(max_steps) {}

  void add(entry e);
  bool capped() const noexcept { return capped_; }
  std::uint64_t steps() const noexcept { return steps_; }
  std::uint64_t max_steps() const noexcept { return max_steps_; }
  std::uint64_t lines() const noexcept { return lines_; }
  std::vector<entry> take() { return std::move(kept_); }

 private:
  const replay_output* out_;
  std::uint64_t max_steps_;
  std::uint64_t steps_ = 0, lines_ = 0;
  bool capped_ = false;
  std::vector<entry> kept_;
};

// The machines' event sink: one entry per event, times relative to the virtual start.
class transcript_sink {
 public:
  transcript_sink(transcript_writer* out, time_point start) : out_(out), start_(start) {}

  void operator()(const event& e);

 private:
  transcript_writer* out_;
  time_point start_;
};

// The word a transcript gives an outcome kind. The format predates outcome_kind::completed: the
// ACME machines' success prints as "issued", as it always has (docs/harness.md).
constexpr std::string_view transcript_word(outcome_kind k) noexcept {
  return k == outcome_kind::completed ? "issued" : to_string(k);
}

// The last line: the outcome, `t` seconds after the start.
entry outcome_entry(const outcome& o, duration t);

}  // namespace certretry::harness
