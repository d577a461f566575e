// certretry/verify/invariants.hpp — the invariants every machine is held to.
//
// Each is checked after every step of every sequence the verifier explores; it looks at the
// newest step and what came before it. What one counts over the whole run (requests, resets,
// fallbacks) is kept in the trace's tally (trace.hpp, run_tally) and read from there, so a
// step costs about the same to check however long the run is (the machine fuzzers run up to
// a thousand steps per input).
//   terminates               at most facts.max_sends_in_a_row requests without a wait between
//                            them (a reply held at least the floor or 1 s counts as one), at most
//                            max_waits_in_a_row waits without a request, and (the explorer)
//                            every sequence continued past the depth finishes
//   deadline                 no request, and no wait ending, after start + deadline (ARI: no
//                            request at or after notAfter)
//   floor                    no wait shorter than the floor (or than the longest wait, when the
//                            floor is longer), but one cut to end exactly at the deadline or
//                            one for a renewal window
//   retry-after              no request sooner after a reply than its valid Retry-After (up to
//                            the policy's ceiling)
//   one reset                at most one reset per enrollment (TPP)
//   one fallback             at most one `replaces` fallback per order, never claimed again (ACME)
//   happy path               a server that issues at once costs the fewest calls (the explorer)
//   configured reset         the reset the strategy promises is sent (TPP)
//   outcome agrees           issued or completed after a done verdict, failed after a
//                            permanent one, still_pending after pending or transient (or before
//                            any reply, at the attempt cap, or with less than the floor left
//                            before the deadline), needs_reset after a stale message
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/time.hpp"
#include "certretry/verify/subject.hpp"
#include "certretry/verify/trace.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace certretry::verify {

namespace detail {

inline std::string secs(duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double>(d).count());
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + " s";
}

inline std::string at(const trace& t, time_point p) { return "t=" + secs(p - t.start); }

// The reply before the newest step, when the newest step directly follows it.
inline const step* reply_before_last(const trace& t) {
  if (t.steps.size() < 2) return nullptr;
  const step& prev = t.steps[t.steps.size() - 2];
  return prev.what == step::kind::reply ? &prev : nullptr;
}

// The send that the reply at index i answered.
inline const step* request_of(const trace& t, std::size_t i) {
  for (std::size_t k = i; k-- > 0;)
    if (t.steps[k].what == step::kind::send) return &t.steps[k];
  return nullptr;
}

// Whether the reply at index i answered the first retrieve after the latest enrollment request.
inline bool first_retrieve_reply(const trace& t, const facts& f, std::size_t i) {
  const step* req = request_of(t, i);
  if (!req || !req->is(f.retrieve_request)) return false;
  for (std::size_t k = i; k-- > 0;) {
    if (t.steps[k].what != step::kind::send || &t.steps[k] == req) continue;
    if (t.steps[k].is(f.retrieve_request)) return false;
    if (t.steps[k].is(f.enroll_request)) return true;
  }
  return false;
}

// A reply that says "not now" rather than yes or no: a transport error, 429, 408 or 5xx.
inline bool transient(const letter& l) {
  if (!l.reply) return true;
  const int s = l.reply->status;
  return s == 429 || s == 408 || s >= 500;
}

// The run's counts brought up to date: only the steps and events added since the last call
// are read.
inline const run_tally& tally_of(const trace& t, const facts& f,
                                 const std::vector<letter>& letters) {
  run_tally& c = t.tally;
  if (t.steps.size() < c.steps || t.events.size() < c.events) c = {};
  for (; c.steps < t.steps.size(); ++c.steps) {
    const step& x = t.steps[c.steps];
    if (x.what == step::kind::reply) c.last_reply_letter = x.letter;
    if (x.what != step::kind::send) continue;
    ++c.sends;
    const bool reset = x.is(f.reset_request);
    if (reset) {
      ++c.reset_sends;
      // A reset sent again after a reply that did not complete it (a timeout, 429, 5xx) is
      // the same reset retried; any other is another reset.
      const bool retry = c.previous_send_was_reset && c.last_reply_letter &&
                         *c.last_reply_letter < letters.size() &&
                         transient(letters[*c.last_reply_letter]);
      if (!retry) ++c.resets;
    }
    c.previous_send_was_reset = reset;
    if (x.is(f.new_order_request) && x.body.find("\"replaces\"") == std::string::npos)
      ++c.new_orders_without_replaces;
  }
  for (; c.events < t.events.size(); ++c.events)
    c.fallbacks += t.events[c.events].kind == event_kind::fallback ? 1 : 0;
  return c;
}

// The verdict the machine gave the last reply to one of its own requests (not an auxiliary one
// such as a nonce fetch), else its last verdict.
inline std::optional<certretry::verdict> run_verdict(const trace& t, const facts& f) {
  for (std::size_t i = t.steps.size(); i-- > 0;) {
    const step& s = t.steps[i];
    if (s.what != step::kind::reply) continue;
    const step* req = request_of(t, i);
    if (req && std::any_of(f.auxiliary_requests.begin(), f.auxiliary_requests.end(),
                           [&](const std::string& k) { return req->is(k); }))
      continue;
    for (std::size_t k = s.events_before; k < t.events.size(); ++k)
      if (t.events[k].kind == event_kind::verdict) return t.events[k].verdict;
    break;
  }
  return t.last_verdict();
}

}  // namespace detail

/// At most 4 requests without a wait between them, at most 2 waits without a request, and every
/// sequence continued past the depth finishes.
inline invariant terminates() {
  return {
      "terminates",
      [](const trace& t, const facts& f, const std::vector<letter>&) -> std::optional<std::string> {
        if (t.steps.size() > f.max_steps)
          return "still running after " + std::to_string(f.max_steps) + " steps";
        std::uint32_t sends = 0, waits = 0;
        for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
          if (it->what == step::kind::reply) {
            // A reply held at least the floor, or at least a second (TPP's watched retrieve,
            // held for the WorkToDoTimeout the machine asked for), was itself a wait between
            // the requests around it: the server paced them, not a tight loop.
            const step* req =
                detail::request_of(t, static_cast<std::size_t>(t.steps.rend() - it - 1));
            if (sends > 0 && req &&
                it->at - req->at >= std::min<duration>(f.floor, std::chrono::seconds{1}))
              break;
            continue;
          }
          if (it->what == step::kind::send) {
            if (waits > 0) break;
            ++sends;
          } else if (it->what == step::kind::wait) {
            if (sends > 0) break;
            ++waits;
          } else {
            break;
          }
        }
        if (sends > f.max_sends_in_a_row)
          return std::to_string(sends) + " requests in a row without a wait (at most " +
                 std::to_string(f.max_sends_in_a_row) + "): a tight loop";
        if (waits > f.max_waits_in_a_row)
          return std::to_string(waits) + " waits in a row without a request (at most " +
                 std::to_string(f.max_waits_in_a_row) + ")";
        return std::nullopt;
      }};
}

/// No request, and no wait ending, after start + the policy's deadline; for ARI, no renewalInfo
/// request at or after notAfter.
inline invariant deadline() {
  return {
      "deadline",
      [](const trace& t, const facts& f, const std::vector<letter>&) -> std::optional<std::string> {
        const step& s = t.steps.back();
        if (f.not_after) {
          if (s.what == step::kind::send && s.at >= *f.not_after)
            return "request at " + detail::at(t, s.at) + ", at or after notAfter";
          return std::nullopt;
        }
        const time_point end = t.start + f.deadline;
        if (s.what == step::kind::send && s.at > end)
          return "request at " + detail::at(t, s.at) + ", after the deadline (" +
                 detail::secs(f.deadline) + ")";
        if (s.what == step::kind::wait && s.at + s.delay > end)
          return "a wait of " + detail::secs(s.delay) + " at " + detail::at(t, s.at) +
                 " ends after the deadline (" + detail::secs(f.deadline) + ")";
        return std::nullopt;
      }};
}

/// No wait shorter than the policy's floor, except one cut to end at the deadline or one that waits
/// for a renewal window.
inline invariant floor() {
  return {
      "floor",
      [](const trace& t, const facts& f, const std::vector<letter>&) -> std::optional<std::string> {
        const step& s = t.steps.back();
        if (s.what != step::kind::wait) return std::nullopt;
        if (s.why == wait_reason::window) return std::nullopt;
        if (s.why == wait_reason::deadline_clamp) {
          // (A deadline decades away: the wait is cut once more, to longest_delay.)
          if (!f.not_after && s.at + s.delay != t.start + f.deadline && s.delay != longest_delay)
            return "a wait of " + detail::secs(s.delay) + " cut to the deadline at " +
                   detail::at(t, s.at) + " does not end at the deadline";
          return std::nullopt;
        }
        // Every wait is cut to longest_delay (docs/limits.md): a floor above it is honoured as
        // that.
        if (s.delay < std::min(f.floor, longest_delay))
          return "a wait of " + detail::secs(s.delay) + " at " + detail::at(t, s.at) +
                 ", below the floor (" + detail::secs(f.floor) + ")";
        return std::nullopt;
      }};
}

/// No request sooner after a reply than the reply's valid Retry-After, up to the policy's ceiling.
inline invariant retry_after(bool applies = true) {
  return {"retry-after",
          [](const trace& t, const facts& f,
             const std::vector<letter>& letters) -> std::optional<std::string> {
            const step& s = t.steps.back();
            if (s.what != step::kind::send) return std::nullopt;
            const step* reply = nullptr;
            for (auto it = t.steps.rbegin() + 1; it != t.steps.rend(); ++it)
              if (it->what == step::kind::reply) {
                reply = &*it;
                break;
              } else if (it->what == step::kind::send) {
                break;
              }
            if (!reply || reply->letter >= letters.size()) return std::nullopt;
            const auto& ra = letters[reply->letter].retry_after;
            if (!ra) return std::nullopt;
            const duration asked = std::min(*ra, f.retry_after_ceiling);
            if (s.at - reply->at < asked)
              return "request " + detail::secs(s.at - reply->at) + " after a reply that asked " +
                     detail::secs(*ra) + " (Retry-After)";
            return std::nullopt;
          },
          applies};
}

/// At most one TPP reset per enrollment.
inline invariant one_reset(bool applies) {
  return {"one reset",
          [](const trace& t, const facts& f,
             const std::vector<letter>& letters) -> std::optional<std::string> {
            const step& s = t.steps.back();
            if (s.what != step::kind::send || !s.is(f.reset_request)) return std::nullopt;
            // Resets retried after a reply that did not complete them count once (tally_of).
            const std::size_t n = detail::tally_of(t, f, letters).resets;
            if (n > 1) return "reset number " + std::to_string(n) + " in one enrollment";
            return std::nullopt;
          },
          applies};
}

/// At most one `replaces` fallback per order, and `replaces` never claimed again after it.
inline invariant one_fallback(bool applies) {
  return {"one fallback",
          [](const trace& t, const facts& f,
             const std::vector<letter>& letters) -> std::optional<std::string> {
            const step& s = t.steps.back();
            if (s.what != step::kind::send || !s.is(f.new_order_request)) return std::nullopt;
            const bool claims = s.body.find("\"replaces\"") != std::string::npos;
            const run_tally& c = detail::tally_of(t, f, letters);
            // A request that claims it is not one without it: any counted came before.
            if (claims && c.new_orders_without_replaces > 0)
              return "new-order claims `replaces` again after falling back without it";
            if (c.fallbacks > 1) return std::to_string(c.fallbacks) + " fallbacks in one order";
            return std::nullopt;
          },
          applies};
}

/// Checked by the explorer on the happy sequence; listed here so that reports name it.
inline invariant happy_path() {
  return {"happy path",
          [](const trace&, const facts&, const std::vector<letter>&) -> std::optional<std::string> {
            return std::nullopt;
          }};
}

/// The reset the TPP strategy promises is sent.
inline invariant configured_reset(bool applies) {
  return {"configured reset",
          [](const trace& t, const facts& f,
             const std::vector<letter>& letters) -> std::optional<std::string> {
            using rule = facts::reset_rule;
            const step& s = t.steps.back();
            if (f.reset == rule::before_request && s.what == step::kind::send &&
                detail::tally_of(t, f, letters).sends == 1 && !s.is(f.reset_request))
              return "reset-before-request, but the first request is " + s.key();
            if (f.reset == rule::query_only && s.what == step::kind::send && s.is(f.reset_request))
              return "query-only, but a reset was sent";
            const step* reply = detail::reply_before_last(t);
            if (!reply || reply->letter >= letters.size() || !letters[reply->letter].stale)
              return std::nullopt;
            const std::size_t i = t.steps.size() - 2;
            if (!detail::first_retrieve_reply(t, f, i)) return std::nullopt;
            const std::size_t resets = detail::tally_of(t, f, letters).reset_sends;
            // A detection at the deadline leaves no time for the reset: the run ends
            // still_pending, and the next run's request or resume deals with it.
            const bool at_deadline = reply->at >= t.start + f.deadline;
            if (f.reset == rule::on_detection && resets == 0 && !at_deadline &&
                !(s.what == step::kind::send && s.is(f.reset_request)))
              return "reset-on-detection: a stale enrollment on the first retrieve, but no reset "
                     "follows";
            if (f.reset == rule::query_only &&
                !(s.what == step::kind::finish && s.outcome == outcome_kind::needs_reset))
              return "query-only: a stale enrollment on the first retrieve, but the run does "
                     "not end needs_reset";
            return std::nullopt;
          },
          applies};
}

/// issued/completed only after a done verdict, failed only after a permanent one, still_pending
/// after pending or transient, needs_reset after a stale message.
inline invariant outcome_agrees() {
  return {"outcome agrees",
          [](const trace& t, const facts& f,
             const std::vector<letter>& letters) -> std::optional<std::string> {
            const step& s = t.steps.back();
            if (s.what != step::kind::finish) return std::nullopt;
            const auto v = detail::run_verdict(t, f);
            const std::string seen = v ? std::string(to_string(*v)) : "none";
            const std::string out(to_string(s.outcome));
            switch (s.outcome) {
              case outcome_kind::issued:
              case outcome_kind::completed:
                if (v != certretry::verdict::done)
                  return "outcome " + out + " after a " + seen + " verdict";
                break;
              case outcome_kind::failed:
                // A request that serves another (a nonce fetch) may fail the run itself.
                if (v != certretry::verdict::permanent &&
                    t.last_verdict() != certretry::verdict::permanent)
                  return "outcome failed after a " + seen + " verdict";
                break;
              case outcome_kind::still_pending:
                // Nothing answered yet (the first wait reaches past the deadline), or less than
                // the floor left before the deadline (a late wake-up, a slow reply): any step
                // may be the last.
                if (!v && t.sends() == 0) break;
                // The policy's attempt cap ends a run whatever the last reply said.
                if (s.error == errc::attempts_exhausted) break;
                if (!f.not_after && saturating_add(s.at, f.floor) > t.start + f.deadline) break;
                if (v != certretry::verdict::pending && v != certretry::verdict::transient)
                  return "outcome still_pending after a " + seen + " verdict";
                break;
              case outcome_kind::needs_reset: {
                const step* reply = t.last(step::kind::reply);
                if (!reply || reply->letter >= letters.size() || !letters[reply->letter].stale)
                  return "outcome needs_reset without a stale enrollment in the last reply";
                break;
              }
              default: break;
            }
            return std::nullopt;
          }};
}

/// The invariants for a subject: the generic ones, those of its protocol (listed as not
/// applicable elsewhere), then its own.
inline std::vector<invariant> invariants_for(const subject& s) {
  std::vector<invariant> all{terminates(),
                             deadline(),
                             floor(),
                             retry_after(s.f.honours_retry_after),
                             one_reset(s.f.reset != facts::reset_rule::none),
                             one_fallback(s.f.fallback_applies),
                             happy_path(),
                             configured_reset(s.f.reset != facts::reset_rule::none),
                             outcome_agrees()};
  for (const invariant& i : s.extra) all.push_back(i);
  return all;
}

}  // namespace certretry::verify
