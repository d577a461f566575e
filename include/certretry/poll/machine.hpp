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
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/random.hpp"
#include "certretry/machine/kit.hpp"
#include "certretry/core/verdict.hpp"

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace certretry {

// What a poll machine needs from triage: the request to send next, and a verdict on each
// response. Triage is stateful per order (it knows which stage it is in).
template <class T>
concept poll_triage = requires(T& t, const response_view& r) {
  { t.next_request() } -> std::convertible_to<request_view>;
  { t.classify(r) } -> std::same_as<triage_result>;
  t.reset();
};

enum class poll_state : std::uint8_t { idle, awaiting_response, waiting, finished };

template <poll_triage Triage, schedule S = any_schedule, jitter J = any_jitter,
          random_source R = splitmix64, event_sink Sink = null_sink>
class poll_machine {
 public:
  // A triage that reports a new stage may skip the wait this many times in a row, no more:
  // a triage that keeps saying "poll now" cannot produce a tight loop.
  static constexpr std::uint32_t max_immediate_polls = 2;

  poll_machine(Triage triage, backoff_policy<S, J> policy, R rng, Sink sink = {})
      : triage_(std::move(triage)), kit_(policy, std::move(rng), std::move(sink)) {}

  action start(time_point now) {
    if (state_ != poll_state::idle) return misuse(now, "start() called twice");
    kit_.begin(now);
    return send_next(now);
  }

  action on_response(time_point now, const response_view& r) {
    if (state_ != poll_state::awaiting_response)
      return misuse(now, "response arrived while no request was outstanding");
    const triage_result t = triage_.classify(r);
    kit_.report_verdict(now, r.status, {}, t.v, t.why);
    // Retry-After matters only before a wait.
    const bool will_wait = t.v == verdict::pending || t.v == verdict::transient;
    return decide(now, t, will_wait ? kit_.retry_after_hint(now, r) : std::nullopt);
  }

  action on_transport_error(time_point now, std::error_code ec) {
    if (state_ != poll_state::awaiting_response)
      return misuse(now, "transport error while no request was outstanding");
    const triage_result t{verdict::transient, transport_error_name(ec), {}, false};
    kit_.report_verdict(now, 0, ec, t.v, t.why);
    return decide(now, t, std::nullopt);
  }

  // The decision alone, for a response already triaged (and reported): what the benchmark
  // measures and what a caller with its own triage drives.
  action decide(time_point now, const triage_result& t, std::optional<duration> hint) {
    switch (t.v) {
      case verdict::done:
        kit_.set_certificate(t.certificate);
        return finish(now, outcome_kind::issued, {}, t.why);
      case verdict::permanent:
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
    // An attempt is a poll round: the status request plus any request it led to at once
    // (collect), as certctl's poll closure does both in one attempt.
    const action next = kit_.back_off(now, t.why, hint);
    state_ = kit_.finished() ? poll_state::finished : poll_state::waiting;
    return next;
  }

  action on_wait_elapsed(time_point now) {
    if (state_ != poll_state::waiting) return misuse(now, "wait elapsed while not waiting");
    return send_next(now);
  }

  action cancel(time_point now) {
    state_ = poll_state::finished;
    return kit_.cancel(now);
  }

  outcome take_outcome() { return kit_.take_outcome(); }

  poll_state state() const noexcept { return state_; }
  std::uint32_t sends() const noexcept { return kit_.sends(); }
  // Poll rounds so far: waits taken + 1 once started (what the schedule and attempt cap count).
  std::uint32_t attempts() const noexcept {
    return kit_.waits() + (state_ == poll_state::idle ? 0 : 1);
  }
  Triage& triage() noexcept { return triage_; }
  Sink& sink() noexcept { return kit_.sink(); }

 private:
  action send_next(time_point now) {
    state_ = poll_state::awaiting_response;
    return kit_.send_request(now, triage_.next_request());
  }

  action finish(time_point now, outcome_kind kind, std::error_code ec, std::string_view why) {
    state_ = poll_state::finished;
    return kit_.finish_with(now, kind, ec, why);
  }

  action misuse(time_point now, std::string_view what) {
    state_ = poll_state::finished;
    return kit_.misuse(now, what);
  }

  Triage triage_;
  machine_kit<S, J, R, Sink> kit_;
  poll_state state_ = poll_state::idle;
  std::uint32_t immediate_polls_ = 0;
};

}  // namespace certretry
