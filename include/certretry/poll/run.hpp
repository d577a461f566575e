// certretry/poll/run.hpp — the thin driver that joins any machine to a real transport.
//
// run() is the loop users would otherwise write: send what the machine asks, sleep what it
// asks, feed back what happened with the clock's time, until it finishes. Cancellation is
// checked before every request and every wait, and after every request: a response that
// arrives after the caller gave up is not acted on (seed 003: work the caller abandoned must not
// be retried).
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"

#include <type_traits>
#include <variant>

namespace certretry {

template <machine M, transport T, clock C, sleeper Sl, cancellation X = never_cancelled>
outcome run(M& m, T& transport, C& clock, Sl& sleep, const X& cancel = {}) {
  action next = m.start(clock.now());
  for (;;) {
    if (std::holds_alternative<finish>(next)) return m.take_outcome();
    if (cancel.stop_requested()) {
      next = m.cancel(clock.now());
      continue;
    }
    if (const auto* s = std::get_if<send>(&next)) {
      auto r = transport.send(s->request);
      if (cancel.stop_requested()) {
        next = m.cancel(clock.now());
        continue;
      }
      if (r.has_value())
        next = m.on_response(clock.now(), r.value().view());
      else
        next = m.on_transport_error(clock.now(), r.error());
    } else {
      sleep.sleep_for(std::get<wait>(next).delay);
      next = m.on_wait_elapsed(clock.now());
    }
  }
}

}  // namespace certretry
