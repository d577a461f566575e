// certretry/poll/machine.hpp — the generic bounded poll machine (sans-IO).
//
// Poll a status endpoint (and, once it reports ready, a download endpoint) until triage says
// done or permanent, waiting between polls as the backoff policy decides: schedule, jitter,
// Retry-After, a hard deadline that is never overshot, an attempt cap and a minimum delay.
// Transport errors, 429 and 5xx are transient (certctl's table, seed 001). The deadline ends
// the run with still_pending: the caller re-enqueues, it does not fail.
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
#include "certretry/triage/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace certretry {

// The names transcripts use for transport errors (scenario-format.md).
inline std::string_view transport_error_name(std::error_code ec) noexcept {
  if (ec.category() == error_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::transport_timeout: return "timeout";
      case errc::connection_refused: return "connection_refused";
      case errc::tls_failure: return "tls";
      case errc::connection_reset: return "reset";
      default: break;
    }
  }
  return "transport_error";
}

enum class poll_state : std::uint8_t { idle, awaiting_response, waiting, finished };

template <poll_triage Triage, schedule S = any_schedule, jitter J = any_jitter,
          random_source R = splitmix64, event_sink Sink = null_sink>
class poll_machine {
 public:
  // A triage that reports a new stage may skip the wait this many times in a row, no more:
  // a triage that keeps saying "poll now" cannot produce a tight loop.
  static constexpr std::uint32_t max_immediate_polls = 2;

  poll_machine(Triage triage, backoff_policy<S, J> policy, R rng, Sink sink = {})
      : triage_(std::move(triage)), policy_(policy), rng_(std::move(rng)),
        sink_(std::move(sink)) {}

  action start(time_point now) {
    if (state_ != poll_state::idle) return misuse(now, "start() called twice");
    started_ = now;
    return send_next(now);
  }

  action on_response(time_point now, const response_view& r) {
    if (state_ != poll_state::awaiting_response)
      return misuse(now, "response arrived while no request was outstanding");
    const triage_result t = triage_.classify(r);
    report_verdict(now, r.status, {}, t);
    // Retry-After matters only before a wait, and only when the policy reads it.
    std::optional<duration> hint;
    const bool will_wait = t.v == verdict::pending || t.v == verdict::transient;
    if (will_wait && policy_.retry_after().mode != retry_after_mode::ignore) {
      if (auto ra = read_retry_after(r.headers, now)) {
        if (ra->has_value())
          hint = ra->value();
        else
          emit_named(now, event_kind::retry_after_invalid, ra->error(), "");
      }
    }
    return decide(now, t, hint);
  }

  action on_transport_error(time_point now, std::error_code ec) {
    if (state_ != poll_state::awaiting_response)
      return misuse(now, "transport error while no request was outstanding");
    const triage_result t{verdict::transient, transport_error_name(ec), {}, false};
    report_verdict(now, 0, ec, t);
    return decide(now, t, std::nullopt);
  }

  // The decision alone, for a response already triaged (and reported): what the benchmark
  // measures and what a caller with its own triage drives.
  action decide(time_point now, const triage_result& t, std::optional<duration> hint) {
    switch (t.v) {
      case verdict::done:
        outcome_.certificate.assign(t.certificate);
        return finish_with(now, outcome_kind::issued, {}, t.why);
      case verdict::permanent:
        return finish_with(now, outcome_kind::failed, errc::server_rejected, t.why);
      case verdict::pending:
      case verdict::transient:
        break;
    }
    // The follow-up request of a new stage goes out at once, but never past the deadline.
    if (t.poll_now && immediate_polls_ < max_immediate_polls &&
        now - started_ < policy_.run_limits().max_wait) {
      ++immediate_polls_;
      return send_next(now);
    }
    immediate_polls_ = 0;
    // An attempt is a poll round: the status request plus any request it led to at once
    // (collect), as certctl's poll closure does both in one attempt.
    const next_step step = policy_.next(waits_ + 1, now - started_, hint, rng_);
    if (!step.waits()) {
      if (step.hint_beyond_deadline) outcome_.not_before = now + step.delay;
      return finish_with(now, outcome_kind::still_pending, step.reason, t.why,
                         step.hint_beyond_deadline ? step.delay : duration{-1});
    }
    state_ = poll_state::waiting;
    ++waits_;
    sink_(event{.kind = event_kind::wait, .at = now, .attempt = sends_, .delay = step.delay,
                .wait_why = step.why, .why = to_string(step.why)});
    return wait{step.delay, step.why};
  }

  action on_wait_elapsed(time_point now) {
    if (state_ != poll_state::waiting) return misuse(now, "wait elapsed while not waiting");
    return send_next(now);
  }

  // The caller gave up: nothing more is sent (seed 003: never retry what the caller abandoned).
  action cancel(time_point now) {
    if (state_ == poll_state::finished) return finish{outcome_.kind};
    return finish_with(now, outcome_kind::cancelled, errc::cancelled, "cancelled by the caller");
  }

  outcome take_outcome() { return std::move(outcome_); }

  poll_state state() const noexcept { return state_; }
  std::uint32_t sends() const noexcept { return sends_; }
  // Poll rounds so far: waits taken + 1 once started (what the schedule and attempt cap count).
  std::uint32_t attempts() const noexcept { return waits_ + (state_ == poll_state::idle ? 0 : 1); }
  Triage& triage() noexcept { return triage_; }
  Sink& sink() noexcept { return sink_; }

 private:
  action send_next(time_point now) {
    state_ = poll_state::awaiting_response;
    ++sends_;
    const request_view req = triage_.next_request();
    sink_(event{.kind = event_kind::send, .at = now, .attempt = sends_, .request = req});
    return send{req};
  }

  void report_verdict(time_point now, int status, std::error_code ec, const triage_result& t) {
    sink_(event{.kind = event_kind::verdict, .at = now, .attempt = sends_, .status = status,
                .error = ec, .v = t.v, .why = t.why});
  }

  void emit_named(time_point now, event_kind k, std::error_code ec, std::string_view why) {
    sink_(event{.kind = k, .at = now, .attempt = sends_, .error = ec, .why = why});
  }

  // server_wait >= 0: the run stops because the server asked to wait that long, past the
  // deadline.
  action finish_with(time_point now, outcome_kind kind, std::error_code ec,
                     std::string_view why, duration server_wait = duration{-1}) {
    state_ = poll_state::finished;
    outcome_.kind = kind;
    outcome_.sends = sends_;
    outcome_.error = ec;
    if (kind == outcome_kind::still_pending) {
      if (server_wait >= duration::zero())
        outcome_.reason = "server asked to wait " +
                          std::to_string(std::chrono::ceil<std::chrono::seconds>(server_wait).count()) +
                          " s (Retry-After), past the deadline";
      else
        outcome_.reason = ec == errc::attempts_exhausted ? "attempt cap reached" : "deadline reached";
      outcome_.reason += " after " + std::to_string(sends_) + (sends_ == 1 ? " request" : " requests");
      if (!why.empty()) {
        outcome_.reason += "; last: ";
        outcome_.reason += why;
      }
    } else if (kind != outcome_kind::issued) {
      outcome_.reason.assign(why);
    }
    sink_(event{.kind = event_kind::finish, .at = now, .attempt = sends_, .error = ec,
                .outcome = kind, .why = outcome_.reason});
    return finish{kind};
  }

  action misuse(time_point now, std::string_view what) {
    if (state_ == poll_state::finished) return finish{outcome_.kind};
    return finish_with(now, outcome_kind::failed, errc::invalid_policy, what);
  }

  Triage triage_;
  backoff_policy<S, J> policy_;
  R rng_;
  [[no_unique_address]] Sink sink_;
  poll_state state_ = poll_state::idle;
  time_point started_{};
  std::uint32_t sends_ = 0;
  std::uint32_t immediate_polls_ = 0;
  std::uint32_t waits_ = 0;
  outcome outcome_{};
};

}  // namespace certretry
