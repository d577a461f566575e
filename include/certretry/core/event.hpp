// certretry/core/event.hpp — what machines report for observability.
//
// A machine tells a user-supplied sink what it did and why; no logging library is imposed. The
// harness turns the same events into its transcript. Views in an event are valid only during
// the call.
#pragma once

#include "certretry/core/action.hpp"

#include <concepts>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace certretry {

/// What an event reports: a request sent, a verdict, a wait, the end of a run, and named events.
enum class event_kind : std::uint8_t {
  send,     ///< a request goes out: request
  verdict,  ///< a response (status) or transport error (error) was triaged: verdict, why
  wait,     ///< the machine waits: delay, wait_why
  retry_after_invalid,  ///< a Retry-After header was unusable; why = the parse error
  reset,                ///< TPP: a reset is issued
  fallback,             ///< ACME: new-order retried without `replaces`
  bad_nonce,            ///< ACME: retried with a fresh nonce
  renewal_time,         ///< ARI: renewal time chosen (at)
  processing_error,     ///< ACME: a resource still processing carries an `error` (RFC 8555 §8.2)
  budget_denied,        ///< a retry budget withheld an attempt
  finish,               ///< the machine finished: kind, why
};

/// The event kind's name, for transcripts and logs.
constexpr std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::send: return "send";
    case event_kind::verdict: return "verdict";
    case event_kind::wait: return "wait";
    case event_kind::retry_after_invalid: return "retry-after-invalid";
    case event_kind::reset: return "reset";
    case event_kind::fallback: return "fallback";
    case event_kind::bad_nonce: return "bad-nonce";
    case event_kind::renewal_time: return "renewal-time";
    case event_kind::processing_error: return "processing-error";
    case event_kind::budget_denied: return "budget-denied";
    case event_kind::finish: return "finish";
  }
  return "?";
}

/// One step of a run, as a machine reports it to its sink; fields unused by its kind stay empty.
///
/// Thread safety: a value whose views borrow the machine's storage: valid during the sink call
/// only; copy what you keep.
struct event {
  event_kind kind{};          ///< what happened
  time_point at{};            ///< when (the `now` of the input that caused it)
  std::uint32_t attempt = 0;  ///< requests sent so far, this one included for `send`
  request_view request{};     ///< send
  int status = 0;             ///< verdict: HTTP status, 0 for a transport error
  std::error_code error{};    ///< verdict: the transport error; retry_after_invalid: the reason
  /// verdict: what triage concluded
  certretry::verdict verdict = certretry::verdict::pending;
  duration delay{};        ///< wait
  wait_reason wait_why{};  ///< wait
  outcome_kind outcome{};  ///< finish
  std::string_view why{};  ///< verdict, wait, finish, and the named events
  time_point when{};       ///< renewal_time: the time chosen
};

template <class S>
concept event_sink = requires(S& s, const event& e) {
  s(e);
};

/// The sink a machine gets when the caller passes none: drops every event.
///
/// Thread safety: stateless: share freely.
struct null_sink {
  /// Does nothing.
  constexpr void operator()(const event&) const noexcept {}
};

}  // namespace certretry
