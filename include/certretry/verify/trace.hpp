// certretry/verify/trace.hpp — what the verifier drives and what it remembers of a run.
//
// The verifier feeds a machine chosen responses (letters of a finite alphabet) through its
// sans-IO interface, on a virtual clock, and records every step: the requests it sends, the
// letters it gets, the waits it asks for, the events it reports and how it ends. Invariants
// (invariants.hpp) read this trace. Any machine fits: erased_machine hides its type, and a
// recording_sink, passed as the machine's event sink, copies the events it reports.
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/time.hpp"
#include "certretry/machine/erased.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace certretry::verify {

/// The machine behind one interface (machine/erased.hpp), under the names the verifier's
/// subjects use.
using certretry::erased;
using certretry::erased_machine;

/// An event as the trace keeps it (the views copied).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct event_record {
  event_kind kind{};                                         ///< what happened
  time_point at{};                                           ///< when
  certretry::verdict verdict = certretry::verdict::pending;  ///< verdict: the verdict
  int status = 0;                                            ///< verdict: the HTTP status
  std::string why;                                           ///< why, owned
};

/// One step of a run: a request sent, a reply given, a wait, or the end.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct step {
  /// Which step.
  enum class kind : std::uint8_t { send, reply, wait, finish };
  kind what = kind::send;  ///< which step
  time_point at{};         ///< when
  /// @{
  /// send: the request, owned
  std::string method, target, body;
  /// @}
  std::vector<header_field> headers;  ///< send: the header fields
  /// reply: which letter answered, and how many events the machine had reported before it
  std::size_t letter = 0;
  std::size_t events_before = 0;  ///< reply: events the machine had reported before it
  /// wait
  duration delay{};
  wait_reason why = wait_reason::schedule;  ///< wait: why
  /// finish
  outcome_kind outcome = outcome_kind::failed;
  std::string reason;       ///< finish: the outcome's reason
  std::error_code error{};  ///< finish: the outcome's error

  /// "METHOD TARGET" of a send.
  std::string key() const { return method + " " + target; }
  /// Whether key() is `k`, without building it (invariants compare keys after every step).
  bool is(std::string_view k) const noexcept {
    return k.size() == method.size() + 1 + target.size() && k.starts_with(method) &&
           k[method.size()] == ' ' && k.ends_with(target);
  }
};

/// The step that records how a run ended: `o`, at `at`.
inline step finish_step(time_point at, const outcome& o) {
  step st;
  st.what = step::kind::finish;
  st.at = at;
  st.outcome = o.kind;
  st.reason = o.reason;
  st.error = o.error;
  return st;
}

/// What the invariants count over a whole run (invariants.hpp, detail::tally_of), kept as the
/// run grows so that checking a new step does not re-read every step before it: a run of n
/// steps costs O(n) to check, not O(n²). Derived from the trace's steps and events alone (and
/// the subject's facts and letters, which do not change during a run).
///
/// Thread safety: a plain value, part of one trace: updated by the checks of that trace's
/// invariants, on one thread at a time.
struct run_tally {
  std::size_t steps = 0;   ///< steps counted so far
  std::size_t events = 0;  ///< events counted so far
  std::size_t sends = 0;   ///< requests
  /// TPP (facts::reset_request): reset requests, and those that were not the same reset
  /// retried after a reply that did not complete it
  std::size_t reset_sends = 0;
  std::size_t resets = 0;  ///< see reset_sends
  /// ACME (facts::new_order_request): new-order requests without `replaces`
  std::size_t new_orders_without_replaces = 0;
  std::size_t fallbacks = 0;                     ///< fallback events
  bool previous_send_was_reset = false;          ///< for `resets`: the previous request was a reset
  std::optional<std::size_t> last_reply_letter;  ///< for `resets`: the last reply's letter
};

/// One run as the verifier saw it: its steps and the machine's events.
///
/// Steps and events are only appended during a run (clear() starts another); the invariants'
/// counts (`tally`) follow them, and start over should either shrink.
///
/// Thread safety: a plain value: safe to share read-only between threads once its invariants
/// have been checked (checking brings the mutable `tally` up to date).
struct trace {
  time_point start{};                ///< the virtual clock's start
  std::vector<step> steps;           ///< the steps, in order
  std::vector<event_record> events;  ///< the machine's events, in order
  mutable run_tally tally;           ///< the invariants' counts so far (see run_tally)

  /// Empties the trace for another run from `from`, keeping its buffers.
  void clear(time_point from) {
    start = from;
    steps.clear();
    events.clear();
    tally = {};
  }

  /// Requests sent.
  std::size_t sends() const noexcept {
    std::size_t n = 0;
    for (const step& s : steps) n += s.what == step::kind::send ? 1 : 0;
    return n;
  }
  /// The last step of kind `k`, if any.
  const step* last(step::kind k) const noexcept {
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
      if (it->what == k) return &*it;
    return nullptr;
  }
  /// The last verdict the machine reported, if any.
  std::optional<certretry::verdict> last_verdict() const noexcept {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == event_kind::verdict) return it->verdict;
    return std::nullopt;
  }
  /// Events of kind `k`.
  std::size_t count(event_kind k) const noexcept {
    std::size_t n = 0;
    for (const event_record& e : events) n += e.kind == k ? 1 : 0;
    return n;
  }
  /// True once the run has finished.
  bool finished() const noexcept {
    return !steps.empty() && steps.back().what == step::kind::finish;
  }
};

/// The machine's event sink: copies every event into the trace it points at.
///
/// Thread safety: one run's (it writes into one trace): used on that run's thread only.
struct recording_sink {
  trace* into = nullptr;  ///< the trace to fill
  /// Copies `e` into the trace.
  void operator()(const event& e) const {
    if (!into || e.kind == event_kind::send || e.kind == event_kind::wait) return;
    into->events.push_back({e.kind, e.at, e.verdict, e.status, std::string(e.why)});
  }
};

}  // namespace certretry::verify
