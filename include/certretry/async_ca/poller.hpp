// certretry/async_ca/poller.hpp — the asynchronous-CA poller: the generic poll machine
// (poll/machine.hpp) over the CA profiles' triage (async_ca/triage.hpp).
#pragma once

#include "certretry/async_ca/triage.hpp"
#include "certretry/poll/machine.hpp"

namespace certretry {

// The async-CA poller: the generic poll machine with async-CA triage.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink>
using async_ca_poller = poll_machine<async_ca_triage, S, J, R, Sink>;

}  // namespace certretry
