// certretry/machine/run.hpp — the thin driver that joins any machine to a real transport.
//
// run() is the loop users would otherwise write: send what the machine asks, sleep what it
// asks, feed back what happened with the clock's time, until it finishes. A response that
// arrives after the caller gave up is not acted on, and nothing more is sent (work the caller
// abandoned must not be retried: docs/sources.md#globalsign-2020-10-28). The same holds for a
// caller deadline (the overload taking one).
//
// Time: machines are given the run's wall-clock start plus the elapsed time a monotonic clock
// measures (when the clock has monotonic(), as system_clock does), never earlier than the time
// they were last given. Stepping the wall clock back an hour therefore neither stretches a
// 600 s deadline to 4200 s nor cuts one short; the wall clock is read only to judge HTTP-dates
// (the machine is told the offset) and to express a still_pending not_before in wall time
// (docs/async-polling.md#clocks).
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

// Whether a machine judges HTTP-dates against a wall clock the driver tells it about (every
// machine on machine_base does).
template <class M>
concept knows_wall_offset = requires(M& m, duration d) {
  m.set_wall_offset(d);
};

// A clock that also reads a monotonic clock (system_clock does): elapsed time comes from it.
template <class C>
concept monotonic_clock = clock<C> && requires(C& c) {
  { c.monotonic() } -> std::convertible_to<duration>;
};

// The time a run gives its machine: the wall-clock start plus monotonic elapsed time (or the
// clock's own time, for a clock without monotonic(), such as a virtual clock), never earlier
// than the last time given.
template <clock C>
class run_time {
 public:
  explicit run_time(C& c) : clock_(c), start_(c.now()), last_(start_) {
    if constexpr (monotonic_clock<C>) monotonic_start_ = c.monotonic();
  }

  time_point now() {
    time_point t;
    if constexpr (monotonic_clock<C>)
      t = certretry::saturating_add(
          start_, certretry::saturating_sub(duration{clock_.monotonic()}, monotonic_start_));
    else
      t = clock_.now();
    if (t < last_) t = last_;  // never backwards
    last_ = t;
    return t;
  }

  // Wall time minus the time last given.
  duration wall_offset() const { return certretry::saturating_sub(clock_.now(), last_); }

 private:
  C& clock_;
  time_point start_;
  time_point last_;
  duration monotonic_start_{};
};

// The loop. `deadline` is the caller's deadline for a machine that cannot be told it: run()
// then cuts a sleep at the deadline and cancels there.
template <machine M, transport T, clock C, sleeper Sl, cancellation X>
outcome run_loop(M& m, T& transport, C& clock, Sl& sleep, const X& cancel,
                 std::optional<time_point> deadline) {
  run_time<C> time{clock};
  // The time for the next input, with the machine told how wall time differs from it.
  const auto now = [&] {
    const time_point t = time.now();
    if constexpr (knows_wall_offset<M>) m.set_wall_offset(time.wall_offset());
    return t;
  };
  const auto give_up = [&] { return cancel.stop_requested() || (deadline && now() >= *deadline); };
  // Cancellation is checked before each call that may produce a request (start, the end of a
  // wait) and as each response returns, so a request the machine asked for is always sent and
  // outcome::sends counts exactly what went out.
  action next = give_up() ? m.cancel(now()) : m.start(now());
  for (;;) {
    if (std::holds_alternative<finish>(next)) {
      outcome o = m.take_outcome();
      // "Come back at": a time the caller compares with its wall clock.
      if (o.kind == outcome_kind::still_pending && o.not_before)
        o.not_before = certretry::saturating_add(*o.not_before, time.wall_offset());
      return o;
    }
    if (const auto* s = std::get_if<send>(&next)) {
      auto r = transport.send(s->request);
      if (cancel.stop_requested())
        next = m.cancel(now());
      else if (r.has_value())
        next = m.on_response(now(), r.assume_value().view());
      else
        next = m.on_transport_error(now(), r.assume_error());
    } else {
      duration d = std::get<wait>(next).delay;
      if (deadline)
        d = std::min(d, std::max(certretry::saturating_sub(*deadline, now()), duration::zero()));
      sleep.sleep_for(d);
      next = give_up() ? m.cancel(now()) : m.on_wait_elapsed(now());
    }
  }
}

}  // namespace detail

/// Drives machine `m` to its end: sends its requests on `transport`, sleeps its waits with `sleep`,
/// reads time from `clock` and stops when `cancel` asks; returns the outcome.
template <machine M, transport T, clock C, sleeper Sl, cancellation X = never_cancelled>
outcome run(M& m, T& transport, C& clock, Sl& sleep, const X& cancel = {}) {
  return detail::run_loop(m, transport, clock, sleep, cancel, std::nullopt);
}

/// run() for a caller that stops waiting at `caller_deadline` (docs/budgets.md, "Caller
/// deadlines"). A machine on machine_base is told the deadline and keeps it itself: no request
/// at or after it, no wait that reaches it, and the run ends cancelled with
/// errc::caller_deadline_passed and no not_before. Any other machine is cancelled by run() at
/// the deadline, its sleep cut there.
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
