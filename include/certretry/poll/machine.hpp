// certretry/poll/machine.hpp — the generic bounded poll machine (sans-IO).
//
// Poll a status endpoint (and, once it reports ready, a download endpoint) until triage says
// done or permanent, waiting between polls as the backoff policy decides: schedule, jitter,
// Retry-After, a hard deadline that is never overshot, an attempt cap and a minimum delay.
// Transport errors, 429 and 5xx are transient (certctl's table:
// docs/sources.md#certctl-async-polling-doc). The deadline ends the run with still_pending: the
// caller re-enqueues, it does not fail.
//
// States:  idle --start--> awaiting_response --response--> (waiting | finished)
//          waiting --wait elapsed--> awaiting_response;  any --cancel--> finished
// Events in, actions out; no clock, no sleep, no global RNG, no allocation per step.
#pragma once

#include "certretry/backoff/policy.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/machine/base.hpp"
#include "certretry/machine/kit.hpp"

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace certretry {

/// What a poll machine needs from triage: the request to send next, and a verdict on each
/// response. Triage is stateful per order (it knows which stage it is in). A triage may also have
/// `invalid_value request_problem() const`: a caller's value it cannot build requests from,
/// which the machine refuses at start (errc::invalid_request_value), sending nothing.
template <class T>
concept poll_triage = requires(T& t, const response_view& r) {
  { t.next_request() } -> std::convertible_to<request_view>;
  { t.classify(r) } -> std::same_as<triage_result>;
  t.reset();
};

/// The poll machine's states.
enum class poll_state : std::uint8_t { idle, awaiting_response, waiting, finished };

/// Budget: a retry budget shared with the other machines of the same upstream
/// (docs/budgets.md); no_budget by default.
///
/// Triage may be a reference (`poll_machine<my_triage&>`): the machine then borrows a triage its
/// caller keeps and may reuse for the next order once this run has ended (async_ca_triage::rebind
/// keeps its buffers), so a client polling order after order neither allocates nor moves one.
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may
/// move to another thread between steps; never share one between threads.
template <poll_triage Triage, schedule S = any_schedule, jitter J = any_jitter,
          random_source R = splitmix64, event_sink Sink = null_sink,
          retry_budget Budget = no_budget>
class poll_machine : public machine_base<poll_machine<Triage, S, J, R, Sink, Budget>, poll_state, S,
                                         J, R, Sink, Budget> {
  using base = machine_base<poll_machine, poll_state, S, J, R, Sink, Budget>;
  friend base;
  using base::finish;
  using base::kit_;

 public:
  /// A triage that reports a new stage may skip the wait this many times in a row, no more:
  /// a triage that keeps saying "poll now" cannot produce a tight loop.
  static constexpr std::uint32_t max_immediate_polls = 2;

  /// A poll machine with its triage, policy, random source, sink and budget.
  poll_machine(Triage triage, backoff_policy<S, J> policy, R rng, Sink sink = {},
               Budget budget = {})
      : base(policy, std::move(rng), std::move(sink), std::move(budget)),
        triage_(std::forward<Triage>(triage)) {}

  /// The decision alone, for a response already triaged (and reported): what the benchmark
  /// measures and what a caller with its own triage drives.
  action decide(time_point now, const triage_result& t, std::optional<duration> hint) {
    switch (t.verdict) {
      case verdict::done:
        kit_.set_certificate(t.certificate);
        return finish(now, outcome_kind::issued, {}, t.why);
      case verdict::permanent:
        if (t.needs_person) {
          kit_.set_action(t.action);
          return finish(now, outcome_kind::needs_person, errc::server_rejected, t.why);
        }
        return finish(now, outcome_kind::failed, errc::server_rejected, t.why);
      case verdict::pending:
      case verdict::transient: break;
    }
    // The follow-up request of a new stage goes out at once, but never past the deadline.
    if (t.poll_now && immediate_polls_ < max_immediate_polls &&
        kit_.time_left(now) > duration::zero()) {
      ++immediate_polls_;
      return send_next(now);
    }
    immediate_polls_ = 0;
    // A triage may ask for a least wait (Sectigo's collect interval while it says not ready).
    // One that reaches past the deadline ends the run now, with not_before then: a poll at the
    // deadline would come sooner than the CA asked.
    duration at_least = duration::zero();
    if constexpr (requires { triage_.wait_at_least(); }) at_least = triage_.wait_at_least();
    if (at_least > duration::zero() && at_least > kit_.time_left(now)) {
      kit_.set_not_before_in(now, at_least);
      return finish(now, outcome_kind::still_pending, errc::deadline_exceeded, t.why);
    }
    // An attempt is a poll round: the status request plus any request it led to at once
    // (collect), as certctl's poll closure does both in one attempt.
    return this->back_off(now, t.why, hint, at_least, wait_reason::floor);
  }

  /// Poll rounds so far: waits taken + 1 once started (what the schedule and attempt cap count).
  std::uint32_t attempts() const noexcept {
    return kit_.waits() + (this->state() == poll_state::idle ? 0 : 1);
  }
  /// The triage.
  Triage& triage() noexcept { return triage_; }

 private:
  // --- the inputs machine_base hands over -------------------------------------------------
  action on_start(time_point now) {
    if constexpr (requires { triage_.request_problem(); }) {
      if (const invalid_value bad = triage_.request_problem())
        return this->refuse(now, errc::invalid_request_value, bad);
    }
    return send_next(now);
  }

  action on_reply(time_point now, const response_view& r) {
    const triage_result t = triage_.classify(r);
    kit_.report_verdict(now, r.status, {}, t.verdict, t.why);
    // Retry-After matters only before a wait.
    const bool will_wait = t.verdict == verdict::pending || t.verdict == verdict::transient;
    return decide(now, t, will_wait ? kit_.retry_after_hint(now, r) : std::nullopt);
  }

  action on_send_failed(time_point now, std::error_code ec) {
    const triage_result t{verdict::transient, transport_error_name(ec), {}, false};
    kit_.report_verdict(now, 0, ec, t.verdict, t.why);
    return decide(now, t, std::nullopt);
  }

  action on_resume(time_point now) { return send_next(now); }

  action send_next(time_point now) {
    return this->send_request(now, triage_.next_request(), poll_state::awaiting_response);
  }

  Triage triage_;
  std::uint32_t immediate_polls_ = 0;
};

namespace detail {
// The least a triage can be: what the machine concept is checked against below.
struct triage_archetype {
  request_view next_request();
  triage_result classify(const response_view&);
  void reset();
};
}  // namespace detail

static_assert(machine<poll_machine<detail::triage_archetype>>);

}  // namespace certretry
