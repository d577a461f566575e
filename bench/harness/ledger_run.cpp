// Across runs (docs/harness.md, "Across runs"): a replayed run as a caller with a failure ledger
// runs it (docs/operations.md) — the gate before anything is sent, the start jitter, the record
// and the saved ledger after it.
#include "json_out.hpp"
#include "machine.hpp"

#include "certretry/core/rfc3339.hpp"
#include "certretry/ledger/ledger_json.hpp"
#include "certretry/ledger/start_jitter.hpp"

namespace certretry::harness {
namespace {

// The `why` of the ledger line: what the next run will meet.
std::string ledger_summary(const failure_ledger& l, const outcome& o, bool ran) {
  if (!ran) return "unchanged: the gate refused the run";
  std::string why = "recorded ";
  why += transcript_word(o.kind);
  if (o.kind == outcome_kind::cancelled) return why + ": unchanged (a cancelled run says nothing)";
  if (l.needs_person()) return why + ": needs a person; every later run is refused until cleared";
  if (l.next_attempt()) {
    const auto n = l.consecutive_failures();
    return why + ": " + std::to_string(n) + " consecutive failure" + (n == 1 ? "" : "s") +
           ", next attempt not before " + format_rfc3339(*l.next_attempt());
  }
  return why + ": no failures in a row, the next run may go at once";
}

}  // namespace

void world::note(std::string_view name, std::string_view why, std::string_view ledger_json) {
  entry e;
  e.kind = "event";
  e.t = elapsed();
  e.what = std::string(name);
  e.why = std::string(why);
  json_line line;
  line.secs("t", e.t).str("event", name).str("why", why);
  if (!ledger_json.empty()) line.raw("ledger", ledger_json);
  e.line = line.done();
  out.add(std::move(e));
}

std::optional<replay_result> world::begin() {
  // The gate comes first: a refused run ends at once instead of after its jitter (a refusal
  // costs the CA nothing, and the caller learns it without waiting up to a day).
  if (ledger) {
    const gate_decision gate = ledger->gate(clock.now());
    if (!gate.allowed()) {
      note("ledger-gate", gate.why);
      return finish(gate.as_outcome(), false);
    }
  }
  if (scene.start_jitter > duration::zero()) {
    // Its own random source seeded with the scenario's seed: the machine's draws (jitter, the
    // ARI pick) stay what they are without start jitter.
    splitmix64 rng{scene.seed};
    const duration delay = start_jitter{scene.start_jitter}.draw(rng);
    entry e;
    e.kind = "wait";
    e.t = elapsed();
    e.wait = delay;
    e.why = "start-jitter";
    json_line line;
    line.secs("t", e.t).secs("wait", delay, true).str("why", e.why);
    e.line = line.done();
    out.add(std::move(e));
    clock.advance(delay);
  }
  return std::nullopt;
}

replay_result world::finish(outcome o, bool ran) {
  replay_result r;
  if (ran && finish_hook) finish_hook(o);
  if (ledger) {
    if (ran) ledger->record(o, clock.now(), scene.escalation);
    std::string saved = to_json(*ledger);
    note("ledger", ledger_summary(*ledger, o, ran), saved);
    r.ledger = std::move(saved);
  }
  entry e = outcome_entry(o, elapsed());
  r.outcome = e;
  out.add(std::move(e));
  r.lines = out.lines();
  r.entries = out.take();
  return r;
}

}  // namespace certretry::harness
