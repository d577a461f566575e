// certretry/machine/kit.hpp — what every machine shares: counting requests, reporting
// events, reading Retry-After, asking the backoff policy for the next wait, and finishing.
//
// machine_base (machine/base.hpp) owns one machine_kit for every machine, which keeps only its
// own states; so every machine counts, reports and stops the same way. Sending, waiting and
// finishing are the base's to call (they move its phase), the rest is open to the machine.
#pragma once

#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/random.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace certretry {

// The names transcripts use for transport errors (docs/harness.md, scenario format v1).
inline std::string_view transport_error_name(std::error_code ec) noexcept {
  if (ec.category() == error_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::transport_timeout: return "timeout";
      case errc::connection_refused: return "connection_refused";
      case errc::tls_failure: return "tls";
      case errc::connection_reset: return "reset";
      case errc::dns_failure: return "dns_failure";
      case errc::dns_failure: return "dns_failure";
      default: break;
    }
  }
  return "transport_error";
}

template <class Derived, class State, schedule S, jitter J, random_source R, event_sink Sink>
class machine_base;

template <schedule S, jitter J, random_source R, event_sink Sink>
class machine_kit {
 public:
  machine_kit(backoff_policy<S, J> policy, R rng, Sink sink)
      : policy_(policy), rng_(std::move(rng)), sink_(std::move(sink)) {}

  void report_verdict(time_point now, int status, std::error_code ec, verdict v,
                      std::string_view why) {
    sink_(event{.kind = event_kind::verdict,
                .at = now,
                .attempt = sends_,
                .status = status,
                .error = ec,
                .v = v,
                .why = why});
  }

  void report(time_point now, event_kind k, std::string_view why, std::error_code ec = {}) {
    sink_(event{.kind = k, .at = now, .attempt = sends_, .error = ec, .why = why});
  }

  // The response's Retry-After, when a wait may follow and the policy reads it. An unusable
  // value is reported (retry-after-invalid) and ignored.
  std::optional<duration> retry_after_hint(time_point now, const response_view& r) {
    if (policy_.retry_after().mode == retry_after_mode::ignore) return std::nullopt;
    return read_retry_after_reporting(now, r);
  }

  // The response's Retry-After whatever the policy says (a machine that applies its own rule,
  // as ARI's clamp); an unusable value is reported and ignored.
  std::optional<duration> read_retry_after_reporting(time_point now, const response_view& r) {
    auto ra = read_retry_after(r.headers, now);
    if (!ra) return std::nullopt;
    if (ra->has_value()) return ra->value();
    report(now, event_kind::retry_after_invalid, "", ra->error());
    return std::nullopt;
  }

  // What the policy says next, without acting on it (a machine that weighs it against its own
  // deadlines, as ARI does against notAfter).
  next_step plan(time_point now, std::optional<duration> hint) {
    return policy_.next(waits_ + 1, now - started_, hint, rng_);
  }

  // Time left before the deadline.
  duration time_left(time_point now) const noexcept {
    return policy_.run_limits().max_wait - (now - started_);
  }
  // Whether a request may still go out now without waiting (at least min_delay left).
  bool may_send_now(time_point now) const noexcept {
    return time_left(now) >= policy_.run_limits().effective_min_delay();
  }

  void set_certificate(std::string_view bytes) { outcome_.certificate.assign(bytes); }
  void set_not_before(time_point t) { outcome_.not_before = t; }
  outcome take_outcome() { return std::move(outcome_); }

  bool finished() const noexcept { return finished_; }
  outcome_kind finished_as() const noexcept { return outcome_.kind; }
  std::uint32_t sends() const noexcept { return sends_; }
  std::uint32_t waits() const noexcept { return waits_; }
  time_point started() const noexcept { return started_; }
  const backoff_policy<S, J>& policy() const noexcept { return policy_; }
  Sink& sink() noexcept { return sink_; }
  R& rng() noexcept { return rng_; }

 private:
  template <class Derived, class State, schedule S2, jitter J2, random_source R2,
            event_sink Sink2>
  friend class machine_base;

  void begin(time_point now) noexcept { started_ = now; }

  action send_request(time_point now, request_view req) {
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
      if (step.hint_beyond_deadline) outcome_.not_before = now + step.delay;
      return finish_with(now, outcome_kind::still_pending, step.reason, last_why,
                         step.hint_beyond_deadline ? step.delay : duration{-1});
    }
    return wait_for(now, step.delay, step.why);
  }

  // A wait the machine decided itself (a renewal window, a protocol's own interval).
  action wait_for(time_point now, duration delay, wait_reason why) {
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
    outcome_.kind = kind;
    outcome_.sends = sends_;
    outcome_.error = ec;
    if (kind == outcome_kind::still_pending) {
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
};

}  // namespace certretry
