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

// A machine of any type, behind one interface (the verifier is not a template).
class erased_machine {
 public:
  virtual ~erased_machine() = default;
  virtual action start(time_point now) = 0;
  virtual action on_response(time_point now, const response_view& r) = 0;
  virtual action on_transport_error(time_point now, std::error_code ec) = 0;
  virtual action on_wait_elapsed(time_point now) = 0;
  virtual outcome take_outcome() = 0;
};

template <machine M>
class erased final : public erased_machine {
 public:
  explicit erased(M m) : m_(std::move(m)) {}
  action start(time_point now) override { return m_.start(now); }
  action on_response(time_point now, const response_view& r) override {
    return m_.on_response(now, r);
  }
  action on_transport_error(time_point now, std::error_code ec) override {
    return m_.on_transport_error(now, ec);
  }
  action on_wait_elapsed(time_point now) override { return m_.on_wait_elapsed(now); }
  outcome take_outcome() override { return m_.take_outcome(); }
  M& inner() noexcept { return m_; }

 private:
  M m_;
};

// An event as the trace keeps it (the views copied).
struct event_record {
  event_kind kind{};
  time_point at{};
  certretry::verdict verdict = certretry::verdict::pending;
  int status = 0;
  std::string why;
};

struct step {
  enum class kind : std::uint8_t { send, reply, wait, finish };
  kind what = kind::send;
  time_point at{};
  // send: the request, owned
  std::string method, target, body;
  std::vector<header_field> headers;
  // reply: which letter answered, and how many events the machine had reported before it
  std::size_t letter = 0;
  std::size_t events_before = 0;
  // wait
  duration delay{};
  wait_reason why = wait_reason::schedule;
  // finish
  outcome_kind outcome = outcome_kind::failed;
  std::string reason;
  std::error_code error{};

  std::string key() const { return method + " " + target; }
};

struct trace {
  time_point start{};
  std::vector<step> steps;
  std::vector<event_record> events;

  std::size_t sends() const noexcept {
    std::size_t n = 0;
    for (const step& s : steps) n += s.what == step::kind::send ? 1 : 0;
    return n;
  }
  const step* last(step::kind k) const noexcept {
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
      if (it->what == k) return &*it;
    return nullptr;
  }
  // The last verdict the machine reported, if any.
  std::optional<certretry::verdict> last_verdict() const noexcept {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == event_kind::verdict) return it->verdict;
    return std::nullopt;
  }
  std::size_t count(event_kind k) const noexcept {
    std::size_t n = 0;
    for (const event_record& e : events) n += e.kind == k ? 1 : 0;
    return n;
  }
  bool finished() const noexcept {
    return !steps.empty() && steps.back().what == step::kind::finish;
  }
};

// The machine's event sink: copies every event into the trace it points at.
struct recording_sink {
  trace* into = nullptr;
  void operator()(const event& e) const {
    if (!into || e.kind == event_kind::send || e.kind == event_kind::wait) return;
    into->events.push_back({e.kind, e.at, e.verdict, e.status, std::string(e.why)});
  }
};

}  // namespace certretry::verify
