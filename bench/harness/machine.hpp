// What every replayed machine shares: the scripted world it runs in, the one skeleton that
// replays it (read options -> world + machine -> run -> outcome line), and its registry entry.
#pragma once

#include "options.hpp"
#include "replay.hpp"
#include "transcript.hpp"

#include "certretry/core/random.hpp"
#include "certretry/ledger/failure_ledger.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace certretry::harness {

inline replay_result malformed(std::string msg) {
  replay_result r;
  r.exit_code = exit_malformed;
  r.error = std::move(msg);
  return r;
}

// The scripted server and virtual clock a scenario runs against, and its transcript. Nothing
// grows with the length of the run but what the output keeps: the server does not record the
// requests, the lines go out as they come.
struct world {
  const scenario& scene;
  virtual_clock clock;
  scripted_transport server{clock};
  transcript_writer out;
  // Across runs (docs/harness.md): the ledger the run starts with, recorded and saved after it.
  std::optional<failure_ledger> ledger;
  // A machine's last word on its outcome, before the ledger records it (ari-renewal's loop
  // guard moves a renewal time).
  std::function<void(outcome&)> finish_hook;

  world(const scenario& s, time_point start, const replay_output& o)
      : scene(s),
        clock(start),
        out(o, o.max_steps.value_or(s.max_steps.value_or(default_max_steps))),
        ledger(s.ledger) {
    server.record_sent(false);
    for (const auto& [key, replies] : s.server) server.script(key, replies);
  }
  transcript_sink sink() { return transcript_sink{&out, clock.start()}; }
  duration elapsed() const { return clock.now() - clock.start(); }

  // An event line the harness writes itself (not the machine's): `ledger-gate`,
  // `replaces-dropped`, `renewal-held`, and `ledger` with the saved ledger (`ledger_json`, a
  // member only when not empty; ledger_run.cpp).
  void note(std::string_view name, std::string_view why, std::string_view ledger_json = {});

  // Before the machine runs: the ledger's gate, then the start jitter. A run the gate refuses
  // ends here, with its outcome and nothing sent.
  std::optional<replay_result> begin();

  // The end of a run that finished: the finish hook, the ledger's record and its line, then the
  // outcome line, always the last (`ran` false: the gate refused, nothing to record).
  replay_result finish(outcome o, bool ran);

  // The run stops at an unmatched request or at the step cap.
  struct stop_condition {
    const scripted_transport* server;
    const transcript_writer* out;
    bool stop_requested() const noexcept { return server->stop_requested() || out->capped(); }
  };

  // Runs `m` through the library's run() to its end, then writes the outcome line (none when a
  // request matched no scripted response, exit 3, or the run reached its step cap, exit 4).
  template <class Machine, class Transport>
  replay_result drive(Machine& m, Transport& transport) {
    virtual_sleeper sleeper{clock};
    outcome o = run(m, transport, clock, sleeper, stop_condition{&server, &out});
    if (!server.unmatched() && !out.capped()) return finish(std::move(o), true);
    replay_result r;
    if (server.unmatched()) {
      r.exit_code = exit_unmatched;
      r.error = "no scripted response for " + *server.unmatched();
    } else {
      r.exit_code = exit_step_cap;
      r.error = "stopped after " + std::to_string(out.steps()) +
                " steps (requests and waits), the step cap; raise it with --max-steps N or the "
                "scenario's \"max_steps\" if the run is meant to be this long";
    }
    r.lines = out.lines();
    r.entries = out.take();
    return r;
  }
  template <class Machine>
  replay_result drive(Machine& m) {
    return drive(m, server);
  }
};

// A machine the harness replays, as the registry lists it. Its adapter (machines/*.cpp) is a
// type with
//   name, summary                     its name in scenarios, one line about it
//   settings                          its options' fields (with a `start` time_point)
//   options()                         the declarations, in the order the docs list them
//   complete(settings&, scenario)     what single options cannot check (combinations, files)
//   run(world&, settings&, seed)      builds the machine and drives it
struct machine_adapter {
  std::string_view name;
  std::string_view summary;
  std::vector<option_spec> (*options)();
  replay_result (*replay)(const scenario&, const replay_output&);
};

template <class Adapter>
replay_result replay_with(const scenario& s, const replay_output& out) {
  typename Adapter::settings settings{};
  if (auto problem = read_options(Adapter::options(), s, settings)) return malformed(*problem);
  if (auto problem = Adapter::complete(settings, s)) return malformed(*problem);
  world w{s, settings.start, out};
  if (auto refused = w.begin()) return std::move(*refused);
  return Adapter::run(w, settings, s.seed);
}

template <class Adapter>
machine_adapter adapter_of() {
  return {Adapter::name, Adapter::summary, [] { return specs_of(Adapter::options()); },
          &replay_with<Adapter>};
}

// The machines this build knows, by name (machines/*.cpp).
const std::vector<machine_adapter>& machines();

// `certretry-harness options [--markdown]`: every machine's options, as plain text or as the
// Markdown tables docs/harness.md holds.
std::string options_reference(bool markdown);

}  // namespace certretry::harness
