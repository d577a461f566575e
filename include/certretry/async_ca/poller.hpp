// certretry/async_ca/poller.hpp — the asynchronous-CA poller: the generic poll machine
// (poll/machine.hpp) over the CA profiles' triage (async_ca/triage.hpp).
#pragma once

#include "certretry/async_ca/triage.hpp"
#include "certretry/poll/machine.hpp"

namespace certretry {

/// The generic poll machine with async-CA triage. A class rather than an alias template, so that
/// its arguments are deduced from the constructor's on every C++20 compiler (clang 14 does not
/// deduce through alias templates): async_ca_poll_machine m{triage, policy, splitmix64{1}, sink}.
/// Budget: a retry budget shared with the other machines of the same CA (docs/budgets.md).
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink, retry_budget Budget = no_budget>
class async_ca_poll_machine : public poll_machine<async_ca_triage, S, J, R, Sink, Budget> {
 public:
  /// A poller for `triage`'s order, with its policy, random source, sink and budget.
  async_ca_poll_machine(async_ca_triage triage, backoff_policy<S, J> policy, R rng, Sink sink = {},
                        Budget budget = {})
      : poll_machine<async_ca_triage, S, J, R, Sink, Budget>(
            std::move(triage), policy, std::move(rng), std::move(sink), std::move(budget)) {}
};

static_assert(machine<async_ca_poll_machine<>>);

}  // namespace certretry
