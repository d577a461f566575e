// An event sink for tests: keeps owned copies of every event a machine reports.
#pragma once

#include "certretry/core/event.hpp"

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace certretry::model {

struct seen_event {
  event_kind kind{};
  time_point at{};
  std::uint32_t attempt = 0;
  std::string request;  // "METHOD TARGET" for send
  int status = 0;
  std::error_code error{};
  certretry::verdict verdict{};
  duration delay{};
  wait_reason wait_why{};
  outcome_kind outcome{};
  std::string why;
};

struct capture_sink {
  std::vector<seen_event>* log = nullptr;
  void operator()(const event& e) {
    seen_event s;
    s.kind = e.kind;
    s.at = e.at;
    s.attempt = e.attempt;
    if (e.kind == event_kind::send) {
      s.request.assign(e.request.method);
      s.request += ' ';
      s.request.append(e.request.target);
    }
    s.status = e.status;
    s.error = e.error;
    s.verdict = e.verdict;
    s.delay = e.delay;
    s.wait_why = e.wait_why;
    s.outcome = e.outcome;
    s.why.assign(e.why);
    log->push_back(std::move(s));
  }
};
static_assert(event_sink<capture_sink>);

// The events of one kind, in order.
inline std::vector<const seen_event*> only(const std::vector<seen_event>& log, event_kind k) {
  std::vector<const seen_event*> out;
  for (const auto& e : log)
    if (e.kind == k) out.push_back(&e);
  return out;
}

}  // namespace certretry::model
