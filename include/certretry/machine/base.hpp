// certretry/machine/base.hpp — the one base every machine derives from (CRTP).
//
// A machine derives from machine_base<Derived, State, S, J, R, Sink> and keeps only its own
// states and replies. The base
//   - implements the machine concept (core/concepts.hpp): start, on_response,
//     on_transport_error, on_wait_elapsed, cancel, take_outcome;
//   - refuses, at start, a policy validate() refuses (errc::invalid_policy), and before every
//     send a request whose method, target or header fields could not be written as they are
//     (errc::invalid_request_value, core/target.hpp): the run finishes failed, that request
//     unsent;
//   - refuses an input the machine's phase does not allow (start() twice, a response or
//     transport error with no request outstanding, a wait elapsed while not waiting): the run
//     finishes failed with errc::input_out_of_order, because a driver bug guessed around would
//     send requests nobody asked for;
//   - hands every allowed input to the derived machine's on_start(now), on_reply(now, response),
//     on_send_failed(now, error_code) and on_resume(now);
//   - is the only way a machine sends, waits and finishes (send_request, back_off, wait_for,
//     finish), so the phase it checks inputs against cannot drift from what the machine did.
// Counting, reporting, Retry-After and the backoff policy are the machine_kit kit_.
//
// Overload protection lives here too, so every machine has it (docs/budgets.md): a retry
// budget (the Budget parameter, no_budget by default, which compiles away) is asked before every
// request, and a caller deadline (set_caller_deadline) stops every request and wait that would
// reach it. A withheld request waits (wait_reason::budget) and is sent as it was, or finishes
// the run, as the budget answers.
#pragma once

#include "certretry/backoff/policy.hpp"
#include "certretry/budget/budget.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/target.hpp"
#include "certretry/core/time.hpp"
#include "certretry/machine/kit.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace certretry {

/// Where a machine is in its run, whatever its own states: what the base checks inputs against.
enum class machine_phase : std::uint8_t { idle, awaiting_response, waiting, finished };

/// The phase's name, for transcripts and logs.
constexpr std::string_view to_string(machine_phase p) noexcept {
  switch (p) {
    case machine_phase::idle: return "idle";
    case machine_phase::awaiting_response: return "awaiting_response";
    case machine_phase::waiting: return "waiting";
    case machine_phase::finished: return "finished";
  }
  return "?";
}

/// A machine's own states: an enum with at least idle, waiting and finished.
template <class St>
concept machine_state = std::is_enum_v<St> && requires {
  St::idle;
  St::waiting;
  St::finished;
};

/// The base every machine derives from (CRTP): checks each input against the phase, and is the only
/// way a machine sends, waits and finishes (budgets and caller deadlines included).
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <class Derived, class State, schedule S, jitter J, random_source R, event_sink Sink,
          retry_budget Budget = no_budget>
class machine_base {
  static_assert(machine_state<State>, "a machine's State needs idle, waiting and finished");

 public:
  /// The derived machine's own states.
  using state_type = State;
  /// The event sink's type.
  using sink_type = Sink;
  /// The budget's type (a budget_ref to share one).
  using budget_type = Budget;

  /// The run's first input: validates the policy, then sends the first request (or finishes).
  action start(time_point now) {
    if (phase_ != machine_phase::idle) return misuse(now, "start() called twice");
    kit_.begin(now);
    if (invalid_value bad; !kit_.policy().validate(&bad))
      return refuse(now, errc::invalid_policy, bad);
    return self().on_start(now);
  }

  /// After each send that got an HTTP response.
  action on_response(time_point now, const response_view& r) {
    if (phase_ != machine_phase::awaiting_response)
      return misuse(now, "response arrived while no request was outstanding");
    return self().on_reply(now, r);
  }

  /// After each send that got no response (timeout, refused, TLS, reset).
  action on_transport_error(time_point now, std::error_code ec) {
    if (phase_ != machine_phase::awaiting_response)
      return misuse(now, "transport error while no request was outstanding");
    return self().on_send_failed(now, ec);
  }

  /// After each wait.
  action on_wait_elapsed(time_point now) {
    if (phase_ != machine_phase::waiting) return misuse(now, "wait elapsed while not waiting");
    if constexpr (budget_enabled<Budget>) {
      if (withheld_) {
        // The wait a budget asked for: the same request again, asked of the budget again. The
        // view is still valid: the machine has not been stepped since.
        const withheld w = *withheld_;
        withheld_.reset();
        return send_request(now, w.request, w.awaiting);
      }
    }
    return self().on_resume(now);
  }

  /// The caller gave up: nothing more is sent. After the end, the first ending stands.
  action cancel(time_point now) {
    enter(State::finished, machine_phase::finished);
    if constexpr (budget_enabled<Budget>) withheld_.reset();
    return kit_.cancel(now);
  }

  /// The time the caller stops waiting (an HTTP handler's timeout, a job's lease): no request is
  /// sent at or after it and no wait is taken that ends there; the run then ends cancelled with
  /// errc::caller_deadline_passed and no not_before. Set before start(); run() sets it too.
  void set_caller_deadline(std::optional<time_point> t) noexcept { kit_.set_caller_deadline(t); }
  /// Wall time minus the time this machine is given (run() sets it before each input): HTTP-dates
  /// are judged against wall time, elapsed time and deadlines against the given time.
  void set_wall_offset(duration d) noexcept { kit_.set_wall_offset(d); }
  /// The caller's deadline, if set.
  std::optional<time_point> caller_deadline() const noexcept { return kit_.caller_deadline(); }
  /// The machine's budget (or its handle).
  Budget& budget() noexcept { return kit_.budget(); }

  /// Hands over the outcome once the machine has finished.
  outcome take_outcome() { return kit_.take_outcome(); }

  /// The machine's own state.
  State state() const noexcept { return state_; }
  /// The phase the base checks inputs against.
  machine_phase phase() const noexcept { return phase_; }
  /// Requests sent so far.
  std::uint32_t sends() const noexcept { return kit_.sends(); }
  /// The event sink.
  Sink& sink() noexcept { return kit_.sink(); }

 protected:
  /// For the derived machine: its policy, random source, sink and budget.
  machine_base(backoff_policy<S, J> policy, R rng, Sink sink, Budget budget = {})
      : kit_(policy, std::move(rng), std::move(sink), std::move(budget)) {}

  /// Sends `req` and awaits its reply in state `awaiting` — unless the caller's deadline has
  /// passed (cancelled) or the budget withholds it (a budget_denied event, then a wait after
  /// which `req` is sent as it is, or still_pending with errc::budget_exhausted).
  action send_request(time_point now, request_view req, State awaiting) {
    if (const invalid_value bad = request_problem(req))
      return refuse(now, errc::invalid_request_value, bad);
    if (kit_.caller_deadline_passed(now)) return finished_by(kit_.caller_deadline_finish(now));
    // Past the run's deadline (limits::max_wait) nothing more is sent, however late the
    // wake-up or the reply came (a suspended host, a reply held for a day): the run ends as it
    // would at the deadline. A request exactly at the deadline (the last wait cut to it) goes.
    if (kit_.time_left(now) < duration::zero())
      return finish(now, outcome_kind::still_pending, errc::deadline_exceeded,
                    "the deadline passed before the next request could be sent");
    if constexpr (budget_enabled<Budget>) {
      const admission a = kit_.admit(now);
      if (!a) {
        kit_.report(now, event_kind::budget_denied, a.why);
        if (a.then == on_denial::finish) return finished_by(kit_.budget_finish(now, a));
        const action next = kit_.budget_wait(now, a);
        if (kit_.finished()) return finished_by(next);
        enter(State::waiting, machine_phase::waiting);
        withheld_ = withheld{req, awaiting};
        return next;
      }
    }
    enter(awaiting, machine_phase::awaiting_response);
    return kit_.send_request(now, req);
  }

  /// After a pending or transient reply: the policy's next wait (state waiting), or
  /// still_pending when the deadline, the attempt cap or a Retry-After past the deadline says
  /// stop. machine_kit::back_off has the rules.
  action back_off(time_point now, std::string_view last_why, std::optional<duration> hint,
                  duration at_least = duration::zero(),
                  wait_reason at_least_why = wait_reason::floor) {
    const action next = kit_.back_off(now, last_why, hint, at_least, at_least_why);
    if (kit_.finished())
      enter(State::finished, machine_phase::finished);
    else
      enter(State::waiting, machine_phase::waiting);
    return next;
  }

  /// A wait the machine decided itself (a renewal window, a protocol's own interval), in state
  /// `waiting_in`.
  action wait_for(time_point now, duration delay, wait_reason why,
                  State waiting_in = State::waiting) {
    const action next = kit_.wait_for(now, delay, why);
    if (kit_.finished()) return finished_by(next);
    enter(waiting_in, machine_phase::waiting);
    return next;
  }

  /// Finishes the run as `kind` with `ec` and reason `why`.
  action finish(time_point now, outcome_kind kind, std::error_code ec, std::string_view why) {
    enter(State::finished, machine_phase::finished);
    return kit_.finish_with(now, kind, ec, why);
  }

  /// A caller's value refused (a policy, a URL, an id): finish failed with `code` and a reason
  /// naming the field, before anything more is sent.
  action refuse(time_point now, errc code, const invalid_value& bad) {
    return finish(now, outcome_kind::failed, code, bad.message());
  }

  /// An input the phase does not allow: finish failed with errc::input_out_of_order (or, after
  /// the end, repeat the first ending).
  action misuse(time_point now, std::string_view what) {
    enter(State::finished, machine_phase::finished);
    return kit_.misuse(now, what);
  }

  /// Counting, reporting, Retry-After and the backoff policy.
  machine_kit<S, J, R, Sink, Budget> kit_;

 private:
  struct withheld {
    request_view request;
    State awaiting;
  };
  struct nothing_withheld {};

  Derived& self() noexcept { return static_cast<Derived&>(*this); }

  action finished_by(action a) noexcept {
    enter(State::finished, machine_phase::finished);
    return a;
  }

  void enter(State s, machine_phase p) noexcept {
    state_ = s;
    phase_ = p;
  }

  State state_ = State::idle;
  machine_phase phase_ = machine_phase::idle;
  // A request a budget withheld, sent when its wait ends; nothing without a budget.
  [[no_unique_address]] std::conditional_t<budget_enabled<Budget>, std::optional<withheld>,
                                           nothing_withheld>
      withheld_;
};

}  // namespace certretry
