// What every replayed machine shares: the scripted world it runs in, the one skeleton that
// replays it (read options -> world + machine -> run -> outcome line), and its registry entry.
#pragma once

#include "options.hpp"
#include "replay.hpp"
#include "transcript.hpp"

#include "certretry/core/random.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"

#include <string_view>
#include <vector>

namespace certretry::harness {

inline replay_result malformed(std::string msg) {
  replay_result r;
  r.exit_code = exit_malformed;
  r.error = std::move(msg);
  return r;
}

// The scripted server and virtual clock a scenario runs against, and its transcript.
struct world {
  const scenario& scene;
  virtual_clock clock;
  scripted_transport server{clock};
  std::vector<entry> entries;

  world(const scenario& s, time_point start) : scene(s), clock(start) {
    for (const auto& [key, replies] : s.server) server.script(key, replies);
  }
  transcript_sink sink() { return transcript_sink{&entries, clock.start()}; }

  // Runs `m` through the library's run() to its end, then writes the outcome line (none when a
  // request matched no scripted response: exit 3).
  template <class Machine, class Transport>
  replay_result drive(Machine& m, Transport& transport) {
    virtual_sleeper sleeper{clock};
    outcome o = run(m, transport, clock, sleeper, server);
    replay_result r;
    if (server.unmatched()) {
      r.exit_code = exit_unmatched;
      r.error = "no scripted response for " + *server.unmatched();
    } else {
      entries.push_back(outcome_entry(o, clock.now() - clock.start()));
    }
    r.entries = std::move(entries);
    return r;
  }
  template <class Machine>
  replay_result drive(Machine& m) {
    return drive(m, server);
  }
};

// A machine the harness replays. An adapter is a type with
//   name, summary                     its name in scenarios, one line about it
//   settings                          its options' fields (with a `start` time_point)
//   options()                         the declarations, in the order the docs list them
//   complete(settings&, scenario)     what single options cannot check (combinations, files)
//   run(world&, settings&, seed)      builds the machine and drives it
struct machine_adapter {
  std::string_view name;
  std::string_view summary;
  std::vector<option_spec> (*options)();
  replay_result (*replay)(const scenario&);
};

template <class Adapter>
replay_result replay_with(const scenario& s) {
  typename Adapter::settings settings{};
  if (auto problem = read_options(Adapter::options(), s, settings)) return malformed(*problem);
  if (auto problem = Adapter::complete(settings, s)) return malformed(*problem);
  world w{s, settings.start};
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
