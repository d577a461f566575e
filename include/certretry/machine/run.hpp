// certretry/machine/run.hpp — the thin driver that joins any machine to a real transport.
//
// run() is the loop users would otherwise write: send what the machine asks, sleep what it
// asks, feed back what happened with the clock's time, until it finishes. A response that
// arrives after the caller gave up is not acted on, and nothing more is sent (work the caller
// abandoned must not be retried: docs/sources.md#globalsign-2020-10-28).
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"

#include <type_traits>
#include <variant>

namespace certretry {

template <machine M, transport T, clock C, sleeper Sl, cancellation X = never_cancelled>
outcome run(M& m, T& transport, C& clock, Sl& sleep, const X& cancel = {}) {
  // Cancellation is checked before each call that may produce a request (start, the end of a
  // wait) and as each response returns, so a request the machine asked for is always sent and
  // outcome::sends counts exactly what went out.
  action next = cancel.stop_requested() ? m.cancel(clock.now()) : m.start(clock.now());
  for (;;) {
    if (std::holds_alternative<finish>(next)) return m.take_outcome();
    if (const auto* s = std::get_if<send>(&next)) {
      auto r = transport.send(s->request);
      if (cancel.stop_requested())
        next = m.cancel(clock.now());
      else if (r.has_value())
        next = m.on_response(clock.now(), r.value().view());
      else
        next = m.on_transport_error(clock.now(), r.error());
    } else {
      sleep.sleep_for(std::get<wait>(next).delay);
      next = cancel.stop_requested() ? m.cancel(clock.now()) : m.on_wait_elapsed(clock.now());
    }
  }
}

}  // namespace certretry
