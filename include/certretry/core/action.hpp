// certretry/core/action.hpp — the vocabulary every machine speaks.
//
// A machine takes events (a response, a transport error, "the wait is over", the current time)
// and answers with the next Action: send a request, wait a duration, or finish with an Outcome.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

namespace certretry {

/// What triage concludes from one response.
enum class verdict : std::uint8_t {
  done,       ///< the work is finished: the certificate (or resource) is here
  pending,    ///< the server is still working: poll again on the schedule
  transient,  ///< this attempt failed (429, 5xx, network): retry on the schedule
  permanent,  ///< the server said no for good: stop
};

/// How a machine ended.
enum class outcome_kind : std::uint8_t {
  issued,         ///< the certificate bytes are in outcome::certificate
  still_pending,  ///< deadline or attempt cap reached; re-enqueue later (outcome::not_before)
  failed,         ///< a permanent verdict; outcome::reason has the server's words
  needs_reset,    ///< TPP, query-only strategy: the caller must reset before asking again
  cancelled,      ///< the caller gave up; nothing more was sent
  renew_at,       ///< ARI: renew at outcome::not_before
  completed,      ///< ACME: the step succeeded (order created, POST accepted, resource valid or
                  ///< ready); no certificate here, the machine's reply() has the server's answer
  needs_person,   ///< no retry can fix it (a paused account, a refused identifier, missing
                  ///< rights): outcome::action has the URL or text the person needs; a failure
                  ///< ledger (ledger/failure_ledger.hpp) stops later runs until it is cleared
};

/// Why a machine waits; printed in transcripts and events.
enum class wait_reason : std::uint8_t {
  schedule,        ///< the backoff schedule's (jittered) delay
  retry_after,     ///< the server's Retry-After hint was longer than the schedule
  deadline_clamp,  ///< the delay was cut to the time left before the deadline
  budget,          ///< a retry budget withheld the attempt
  window,          ///< waiting for a renewal window
  floor,           ///< a protocol's minimum interval (RFC 8555 §8.2: 5 s while the server retries
                   ///< a validation) raised the wait
};

/// The verdict's name, for transcripts and logs.
constexpr std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::done: return "done";
    case verdict::pending: return "pending";
    case verdict::transient: return "transient";
    case verdict::permanent: return "permanent";
  }
  return "?";
}

/// The outcome kind's name, for transcripts and logs.
constexpr std::string_view to_string(outcome_kind k) noexcept {
  switch (k) {
    case outcome_kind::issued: return "issued";
    case outcome_kind::still_pending: return "still_pending";
    case outcome_kind::failed: return "failed";
    case outcome_kind::needs_reset: return "needs_reset";
    case outcome_kind::cancelled: return "cancelled";
    case outcome_kind::renew_at: return "renew_at";
    case outcome_kind::completed: return "completed";
    case outcome_kind::needs_person: return "needs_person";
  }
  return "?";
}

/// The wait reason's name, for transcripts and logs.
constexpr std::string_view to_string(wait_reason w) noexcept {
  switch (w) {
    case wait_reason::schedule: return "schedule";
    case wait_reason::retry_after: return "retry-after";
    case wait_reason::deadline_clamp: return "deadline-clamp";
    case wait_reason::budget: return "budget";
    case wait_reason::window: return "window";
    case wait_reason::floor: return "floor";
  }
  return "?";
}

/// The three actions. A send borrows the machine's storage: valid until the machine's next step.
///
/// Thread safety: a view into the machine that sent it: read it on the thread driving that machine,
/// before its next step.
struct send {
  request_view request;  ///< method, target, header fields and body to send
};
/// Wait `delay` (why: `why`), then call on_wait_elapsed().
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct wait {
  duration delay;   ///< how long to wait before on_wait_elapsed()
  wait_reason why;  ///< what chose the delay (schedule, Retry-After, floor, budget ...)
};
/// The run has ended; take_outcome() hands over the result.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct finish {
  outcome_kind kind;  ///< how the run ended
};

/// What a machine's step returns: send a request, wait, or finish.
using action = std::variant<send, wait, finish>;

/// How a run ended, owned: what run() returns and a machine hands over once it has finished.
///
/// Thread safety: a plain value (owned strings): safe to read from several threads; writes need the
/// caller's lock.
struct outcome {
  outcome_kind kind = outcome_kind::failed;  ///< how the run ended
  std::string certificate;                   ///< issued: the bytes as the server sent them
  std::string reason;                    ///< unless issued or completed: why, in the server's words
  std::error_code error;                 ///< unless issued or completed: a certretry::errc (or the
                                         ///< transport's code)
  std::uint32_t sends = 0;               ///< requests sent
  std::optional<time_point> not_before;  ///< still_pending / renew_at: earliest sensible retry
  std::string action;                    ///< needs_person (and needs_reset): what the person needs,
                                         ///< a URL when the server gave one
};

}  // namespace certretry
