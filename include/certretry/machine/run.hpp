// certretry/machine/run.hpp — the thin driver that joins any machine to a real transport.
//
// run() is the loop users would otherwise write: send what the machine asks, sleep what it
// asks, feed back what happened with the clock's time, until it finishes. A response that
// arrives after the caller gave up is not acted on, and nothing more is sent (work the caller
// abandoned must not be retried: docs/sources.md#globalsign-2020-10-28). The same holds for a
// caller deadline (the overload taking one).
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <variant>

namespace certretry {

namespace detail {

// Whether a machine stops at a caller deadline itself (every machine on machine_base does).
template <class M>
concept knows_caller_deadline = requires(M& m, std::optional<time_point> t) {
  m.set_caller_deadline(t);
};

// The loop. `deadline` is the caller's deadline for a machine that cannot be told it: run()
// then cuts a sleep at the deadline and cancels there.
template <machine M, transport T, clock C, sleeper Sl, cancellation X>
outcome run_loop(M& m, T& transport, C& clock, Sl& sleep, const X& cancel,
                 std::optional<time_point> deadline) {
  const auto give_up = [&] {
    return cancel.stop_requested() || (deadline && clock.now() >= *deadline);
  };
  // Cancellation is checked before each call that may produce a request (start, the end of a
  // wait) and as each response returns, so a request the machine asked for is always sent and
  // outcome::sends counts exactly what went out.
  action next = give_up() ? m.cancel(clock.now()) : m.start(clock.now());
  for (;;) {
    if (std::holds_alternative<finish>(next)) return m.take_outcome();
    if (const auto* s = std::get_if<send>(&next)) {
      auto r = transport.send(s->request);
      if (cancel.stop_requested())
        next = m.cancel(clock.now());
      else if (r.has_value())
        next = m.on_response(clock.now(), r.assume_value().view());
      else
        next = m.on_transport_error(clock.now(), r.assume_error());
    } else {
      duration d = std::get<wait>(next).delay;
      if (deadline) d = std::min(d, std::max(*deadline - clock.now(), duration::zero()));
      sleep.sleep_for(d);
      next = give_up() ? m.cancel(clock.now()) : m.on_wait_elapsed(clock.now());
    }
  }
}

}  // namespace detail

template <machine M, transport T, clock C, sleeper Sl, cancellation X = never_cancelled>
outcome run(M& m, T& transport, C& clock, Sl& sleep, const X& cancel = {}) {
  return detail::run_loop(m, transport, clock, sleep, cancel, std::nullopt);
}

// run() for a caller that stops waiting at `caller_deadline` (docs/budgets.md, "Caller
// deadlines"). A machine on machine_base is told the deadline and keeps it itself: no request
// at or after it, no wait that reaches it, and the run ends cancelled with
// errc::caller_deadline_passed and no not_before. Any other machine is cancelled by run() at
// the deadline, its sleep cut there.
template <machine M, transport T, clock C, sleeper Sl, cancellation X = never_cancelled>
outcome run(M& m, T& transport, C& clock, Sl& sleep, time_point caller_deadline,
            const X& cancel = {}) {
  if constexpr (detail::knows_caller_deadline<M>) {
    m.set_caller_deadline(caller_deadline);
    return detail::run_loop(m, transport, clock, sleep, cancel, std::nullopt);
  } else {
    return detail::run_loop(m, transport, clock, sleep, cancel, caller_deadline);
  }
}

}  // namespace certretry
