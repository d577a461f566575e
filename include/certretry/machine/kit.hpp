// certretry/machine/kit.hpp — what every machine shares: counting requests, reporting
// events, reading Retry-After, asking the backoff policy for the next wait, and finishing.
//
// machine_base (machine/base.hpp) owns one machine_kit for every machine, which keeps only its
// own states; so every machine counts, reports and stops the same way. Sending, waiting and
// finishing are the base's to call (they move its phase), the rest is open to the machine.
#pragma once

#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/budget/budget.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/text.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace certretry {

/// The names transcripts use for transport errors (docs/harness.md, scenario format v1).
inline std::string_view transport_error_name(std::error_code ec) noexcept {
  if (ec.category() == error_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::transport_timeout: return "timeout";
      case errc::connection_refused: return "connection_refused";
      case errc::tls_failure: return "tls";
      case errc::connection_reset: return "reset";
      case errc::dns_failure: return "dns_failure";
      default: break;
    }
  }
  return "transport_error";
}

template <class Derived, class State, schedule S, jitter J, random_source R, event_sink Sink,
          retry_budget Budget>
class machine_base;

/// What a budget counts a verdict as (docs/budgets.md).
inline call_result budget_result(verdict v, std::error_code ec) noexcept {
  switch (v) {
    case verdict::done:
    case verdict::pending: return call_result::success;
    case verdict::permanent: return call_result::refused;
    case verdict::transient: break;
  }
  return ec == errc::transport_timeout ? call_result::timeout : call_result::failure;
}

/// What every machine shares: counting requests, reporting events, reading Retry-After, asking the
/// backoff policy for the next wait, and finishing. machine_base owns one.
///
/// Thread safety: part of one machine: never shared.
template <schedule S, jitter J, random_source R, event_sink Sink, retry_budget Budget = no_budget>
class machine_kit {
 public:
  /// For one machine: its policy, random source, sink and budget.
  machine_kit(backoff_policy<S, J> policy, R rng, Sink sink, Budget budget = {})
      : policy_(policy), rng_(std::move(rng)), sink_(std::move(sink)), budget_(std::move(budget)) {}

  /// The first verdict on a request is also what the budget records for it, and decides whether
  /// the next request is a retry (after a transient verdict) or a follow-up.
  void report_verdict(time_point now, int status, std::error_code ec, verdict v,
                      std::string_view why) {
    count_as(now, budget_result(v, ec),
             v != verdict::transient         ? send_kind::follow_up
             : ec == errc::transport_timeout ? send_kind::retry_after_timeout
                                             : send_kind::retry);
    sink_(event{.kind = event_kind::verdict,
                .at = now,
                .attempt = sends_,
                .status = status,
                .error = ec,
                .verdict = v,
                .why = why});
  }

  /// Records the outstanding request's result with the budget, unless a verdict already did, and
  /// what the next request will be. A machine calls it first when its verdict would mislead the
  /// budget: a badNonce is the server answering, not failing, and its resend is no retry.
  void count_as(time_point now, call_result r, send_kind next) {
    if (!outstanding_) return;
    outstanding_ = false;
    budget_.record(now, sent_kind_, r);
    next_kind_ = next;
  }

  /// Reports an event of kind `k` to the sink.
  void report(time_point now, event_kind k, std::string_view why, std::error_code ec = {}) {
    sink_(event{.kind = k, .at = now, .attempt = sends_, .error = ec, .why = why});
  }

  /// The response's Retry-After, when a wait may follow and the policy reads it. An unusable
  /// value is reported (retry-after-invalid) and ignored.
  std::optional<duration> retry_after_hint(time_point now, const response_view& r) {
    if (policy_.retry_after().mode == retry_after_mode::ignore) return std::nullopt;
    return read_retry_after_reporting(now, r);
  }

  /// Wall time minus the time the machine is given, as the driver last measured it (run() gives
  /// machines monotonic time; an HTTP-date is an instant of the wall clock and is judged against
  /// it). Zero unless a driver says otherwise.
  void set_wall_offset(duration d) noexcept { wall_offset_ = d; }
  /// The offset set_wall_offset() set.
  duration wall_offset() const noexcept { return wall_offset_; }

  /// The response's Retry-After whatever the policy says (a machine that applies its own rule,
  /// as ARI's clamp); an unusable value is reported and ignored.
  std::optional<duration> read_retry_after_reporting(time_point now, const response_view& r) {
    const header_value<duration> ra =
        read_retry_after(r.headers, saturating_add(now, wall_offset_));
    if (ra.invalid()) report(now, event_kind::retry_after_invalid, "", ra.error());
    // Accepted leniently (a wrong day name): used, and reported the same way.
    if (ra.note()) report(now, event_kind::retry_after_invalid, "", ra.note());
    return ra.value_if_any();
  }

  /// What the policy says next, without acting on it (a machine that weighs it against its own
  /// deadlines, as ARI does against notAfter).
  next_step plan(time_point now, std::optional<duration> hint) {
    return policy_.next(waits_ + 1, saturating_sub(now, started_), hint, rng_);
  }

  /// Time left before the deadline (saturated: max_wait may be duration::max() and the clock may
  /// step back).
  duration time_left(time_point now) const noexcept {
    return saturating_sub(policy_.run_limits().max_wait, saturating_sub(now, started_));
  }
  /// Whether a request may still go out now without waiting (at least min_delay left).
  bool may_send_now(time_point now) const noexcept {
    return time_left(now) >= policy_.run_limits().effective_min_delay();
  }

  /// issued: the certificate bytes for the outcome.
  void set_certificate(std::string_view bytes) { outcome_.certificate.assign(bytes); }
  /// still_pending / renew_at: when the caller should come back.
  void set_not_before(time_point t) { outcome_.not_before = t; }
  /// needs_person: what the person needs (a URL the server gave), sanitised and bounded.
  void set_action(std::string_view a) {
    outcome_.action.clear();
    detail::append_sanitized(outcome_.action, a, 512);
  }
  /// not_before `in` after `now`, cut to longest_delay as every wait is.
  void set_not_before_in(time_point now, duration in) {
    outcome_.not_before = saturating_add(now, std::clamp(in, duration::zero(), longest_delay));
  }
  /// Hands the outcome over (once).
  outcome take_outcome() { return std::move(outcome_); }

  /// The caller's deadline: no request goes out at or after it, and no wait is taken that ends
  /// there (docs/budgets.md, "Caller deadlines").
  void set_caller_deadline(std::optional<time_point> t) noexcept { caller_deadline_ = t; }
  /// The caller's deadline, if set.
  std::optional<time_point> caller_deadline() const noexcept { return caller_deadline_; }
  /// The budget (or its handle).
  Budget& budget() noexcept { return budget_; }

  /// True once the run has finished.
  bool finished() const noexcept { return finished_; }
  /// How the run finished (once finished()).
  outcome_kind finished_as() const noexcept { return outcome_.kind; }
  /// Requests sent.
  std::uint32_t sends() const noexcept { return sends_; }
  /// Waits taken.
  std::uint32_t waits() const noexcept { return waits_; }
  /// When the run started.
  time_point started() const noexcept { return started_; }
  /// The backoff policy.
  const backoff_policy<S, J>& policy() const noexcept { return policy_; }
  /// The event sink.
  Sink& sink() noexcept { return sink_; }
  /// The random source.
  R& rng() noexcept { return rng_; }

 private:
  template <class Derived, class State, schedule S2, jitter J2, random_source R2, event_sink Sink2,
            retry_budget Budget2>
  friend class machine_base;

  void begin(time_point now) noexcept { started_ = now; }

  bool caller_deadline_passed(time_point now) const noexcept {
    return caller_deadline_ && now >= *caller_deadline_;
  }

  // Asks the budget about the next request. A request sent without a verdict on the one before
  // (a caller driving decide() itself) counts that one as answered.
  admission admit(time_point now) {
    if (outstanding_) count_as(now, call_result::success, send_kind::follow_up);
    return budget_.admit(now, next_kind_, rng_);
  }

  action send_request(time_point now, request_view req) {
    outstanding_ = true;
    sent_kind_ = next_kind_;
    ++sends_;
    sink_(event{.kind = event_kind::send, .at = now, .attempt = sends_, .request = req});
    return send{req};
  }

  // After a pending or transient verdict: the next wait, or still_pending when the deadline,
  // the attempt cap or a Retry-After past the deadline says stop. An attempt is a round of
  // requests separated by waits.
  // `at_least` raises the wait (never past the deadline), reported as `at_least_why`: a
  // protocol's own floor, such as RFC 8555 §8.2's for a challenge the server is still retrying,
  // or a machine's own pacing of errors.
  action back_off(time_point now, std::string_view last_why, std::optional<duration> hint,
                  duration at_least = duration::zero(),
                  wait_reason at_least_why = wait_reason::floor) {
    next_step step = plan(now, hint);
    if (step.waits() && step.delay < at_least) {
      const duration left = time_left(now);
      step.delay = std::min(at_least, left);
      step.why = at_least <= left ? at_least_why : wait_reason::deadline_clamp;
    }
    if (!step.waits()) {
      if (step.hint_beyond_deadline) set_not_before_in(now, step.delay);
      return finish_with(now, outcome_kind::still_pending, step.reason, last_why,
                         step.hint_beyond_deadline ? step.delay : duration{-1});
    }
    return wait_for(now, step.delay, step.why);
  }

  // A withheld request, when the budget says wait: its retry_in or the policy's next delay,
  // whichever is longer, within the deadline. A budget that asks past the deadline ends the run
  // still_pending with not_before.
  action budget_wait(time_point now, const admission& a) {
    const next_step step = plan(now, std::nullopt);
    if (!step.waits()) return finish_with(now, outcome_kind::still_pending, step.reason, a.why);
    duration d = std::max(step.delay, a.retry_in);
    const duration left = time_left(now);
    if (d > left) {
      if (a.retry_in > left) return budget_finish(now, a);
      d = left;
    }
    return wait_for(now, d, wait_reason::budget);
  }

  // A withheld request, when the budget says finish.
  action budget_finish(time_point now, const admission& a) {
    if (a.retry_in > duration::zero()) set_not_before_in(now, a.retry_in);
    return finish_with(now, outcome_kind::still_pending, errc::budget_exhausted, a.why);
  }

  // The caller's deadline ends the run: cancelled, and no not_before (the work is abandoned; a
  // still_pending would invite re-enqueueing it).
  action caller_deadline_finish(time_point now) {
    return finish_with(now, outcome_kind::cancelled, errc::caller_deadline_passed,
                       "the caller's deadline passes before the next request");
  }

  // A wait the machine decided itself (a renewal window, a protocol's own interval). One that
  // would end at or after the caller's deadline is not taken.
  action wait_for(time_point now, duration delay, wait_reason why) {
    delay = std::clamp(delay, duration::zero(), longest_delay);
    if (caller_deadline_ && saturating_add(now, delay) >= *caller_deadline_)
      return caller_deadline_finish(now);
    ++waits_;
    sink_(event{.kind = event_kind::wait,
                .at = now,
                .attempt = sends_,
                .delay = delay,
                .wait_why = why,
                .why = to_string(why)});
    return wait{delay, why};
  }

  // server_wait >= 0: the run stops because the server asked to wait that long, past the
  // deadline.
  action finish_with(time_point now, outcome_kind kind, std::error_code ec, std::string_view why,
                     duration server_wait = duration{-1}) {
    finished_ = true;
    // A request still out when the run ends is one whose reply nobody will read.
    count_as(now, call_result::abandoned, send_kind::follow_up);
    outcome_.kind = kind;
    outcome_.sends = sends_;
    outcome_.error = ec;
    if (kind == outcome_kind::cancelled) outcome_.not_before.reset();
    if (kind == outcome_kind::still_pending && ec == errc::budget_exhausted) {
      outcome_.reason.assign(why);
      outcome_.reason +=
          " after " + std::to_string(sends_) + (sends_ == 1 ? " request" : " requests");
    } else if (kind == outcome_kind::still_pending) {
      if (server_wait >= duration::zero())
        outcome_.reason =
            "server asked to wait " +
            std::to_string(std::chrono::ceil<std::chrono::seconds>(server_wait).count()) +
            " s (Retry-After), past the deadline";
      else
        outcome_.reason =
            ec == errc::attempts_exhausted ? "attempt cap reached" : "deadline reached";
      outcome_.reason +=
          " after " + std::to_string(sends_) + (sends_ == 1 ? " request" : " requests");
      if (!why.empty()) {
        outcome_.reason += "; last: ";
        outcome_.reason += why;
      }
    } else if (kind != outcome_kind::issued && kind != outcome_kind::completed) {
      outcome_.reason.assign(why);
    }
    sink_(event{.kind = event_kind::finish,
                .at = now,
                .attempt = sends_,
                .error = ec,
                .outcome = kind,
                .why = outcome_.reason});
    return finish{kind};
  }

  // The caller gave up: nothing more is sent (never retry what the caller abandoned: the
  // GlobalSign outage of 2020-10-28, docs/sources.md#globalsign-2020-10-28).
  action cancel(time_point now) {
    if (finished_) return finish{outcome_.kind};
    return finish_with(now, outcome_kind::cancelled, errc::cancelled, "cancelled by the caller");
  }

  // An input in the wrong state (a driver bug): finish failed rather than guess.
  action misuse(time_point now, std::string_view what) {
    if (finished_) return finish{outcome_.kind};
    return finish_with(now, outcome_kind::failed, errc::input_out_of_order, what);
  }

  backoff_policy<S, J> policy_;
  R rng_;
  [[no_unique_address]] Sink sink_;
  time_point started_{};
  std::uint32_t sends_ = 0;
  std::uint32_t waits_ = 0;
  bool finished_ = false;
  outcome outcome_{};
  [[no_unique_address]] Budget budget_;
  std::optional<time_point> caller_deadline_;
  duration wall_offset_{};
  send_kind next_kind_ = send_kind::first;  // what the next request is, for the budget
  send_kind sent_kind_ = send_kind::first;  // what the outstanding request was
  bool outstanding_ = false;                // a request is out and its result not yet recorded
};

}  // namespace certretry
