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

/// A machine of any type, behind one interface (the verifier is not a template).
///
/// Thread safety: one verification's: used on its thread only.
class erased_machine {
 public:
  virtual ~erased_machine() = default;
  /// The machine's start().
  virtual action start(time_point now) = 0;
  /// The machine's on_response().
  virtual action on_response(time_point now, const response_view& r) = 0;
  /// The machine's on_transport_error().
  virtual action on_transport_error(time_point now, std::error_code ec) = 0;
  /// The machine's on_wait_elapsed().
  virtual action on_wait_elapsed(time_point now) = 0;
  /// The machine's take_outcome().
  virtual outcome take_outcome() = 0;
};

/// Machine `M` behind erased_machine.
///
/// Thread safety: one verification's: used on its thread only.
template <machine M>
class erased final : public erased_machine {
 public:
  /// Wraps `m`.
  explicit erased(M m) : m_(std::move(m)) {}
  /// Forwards to the machine.
  action start(time_point now) override { return m_.start(now); }
  /// Forwards to the machine.
  action on_response(time_point now, const response_view& r) override {
    return m_.on_response(now, r);
  }
  /// Forwards to the machine.
  action on_transport_error(time_point now, std::error_code ec) override {
    return m_.on_transport_error(now, ec);
  }
  /// Forwards to the machine.
  action on_wait_elapsed(time_point now) override { return m_.on_wait_elapsed(now); }
  /// Forwards to the machine.
  outcome take_outcome() override { return m_.take_outcome(); }
  /// The machine itself.
  M& inner() noexcept { return m_; }

 private:
  M m_;
};

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
  std::string reason;  ///< finish: the outcome's reason

  /// "METHOD TARGET" of a send.
  std::string key() const { return method + " " + target; }
};

/// One run as the verifier saw it: its steps and the machine's events.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct trace {
  time_point start{};                ///< the virtual clock's start
  std::vector<step> steps;           ///< the steps, in order
  std::vector<event_record> events;  ///< the machine's events, in order

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
