// certretry/verify/invariants.hpp — the invariants every machine is held to.
//
// Each is checked after every step of every sequence the verifier explores; it looks at the
// newest step and what came before it.
//   terminates               at most facts.max_sends_in_a_row requests without a wait between
//                            them (a reply held at least the floor or 1 s counts as one), at most
//                            max_waits_in_a_row waits without a request, and (the explorer)
//                            every sequence continued past the depth finishes
//   deadline                 no request, and no wait ending, after start + deadline (ARI: no
//                            request at or after notAfter)
//   floor                    no wait shorter than the floor, but one cut to end exactly at the
//                            deadline or one for a renewal window
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
  if (!req || req->key() != f.retrieve_request) return false;
  for (std::size_t k = i; k-- > 0;) {
    if (t.steps[k].what != step::kind::send || &t.steps[k] == req) continue;
    const std::string key = t.steps[k].key();
    if (key == f.retrieve_request) return false;
    if (key == f.enroll_request) return true;
  }
  return false;
}

// A reply that says "not now" rather than yes or no: a transport error, 429, 408 or 5xx.
inline bool transient(const letter& l) {
  if (!l.reply) return true;
  const int s = l.reply->status;
  return s == 429 || s == 408 || s >= 500;
}

// The verdict the machine gave the last reply to one of its own requests (not an auxiliary one
// such as a nonce fetch), else its last verdict.
inline std::optional<certretry::verdict> run_verdict(const trace& t, const facts& f) {
  for (std::size_t i = t.steps.size(); i-- > 0;) {
    const step& s = t.steps[i];
    if (s.what != step::kind::reply) continue;
    const step* req = request_of(t, i);
    if (req && std::find(f.auxiliary_requests.begin(), f.auxiliary_requests.end(), req->key()) !=
                   f.auxiliary_requests.end())
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
        if (s.delay < f.floor)
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
            if (s.what != step::kind::send || s.key() != f.reset_request) return std::nullopt;
            // A reset sent again after a reply that did not complete it (a timeout, 429, 5xx)
            // is the same reset retried; any other is another reset.
            std::size_t n = 0;
            const step* prev_send = nullptr;
            const step* prev_reply = nullptr;
            for (const step& x : t.steps) {
              if (x.what == step::kind::reply) prev_reply = &x;
              if (x.what != step::kind::send) continue;
              if (x.key() == f.reset_request) {
                const bool retry = prev_send && prev_send->key() == f.reset_request && prev_reply &&
                                   prev_reply->letter < letters.size() &&
                                   detail::transient(letters[prev_reply->letter]);
                if (!retry) ++n;
              }
              prev_send = &x;
            }
            if (n > 1) return "reset number " + std::to_string(n) + " in one enrollment";
            return std::nullopt;
          },
          applies};
}

/// At most one `replaces` fallback per order, and `replaces` never claimed again after it.
inline invariant one_fallback(bool applies) {
  return {
      "one fallback",
      [](const trace& t, const facts& f, const std::vector<letter>&) -> std::optional<std::string> {
        const step& s = t.steps.back();
        if (s.what != step::kind::send || s.key() != f.new_order_request) return std::nullopt;
        const bool claims = s.body.find("\"replaces\"") != std::string::npos;
        bool dropped = false;
        for (std::size_t i = 0; i + 1 < t.steps.size(); ++i) {
          const step& x = t.steps[i];
          if (x.what != step::kind::send || x.key() != f.new_order_request) continue;
          if (x.body.find("\"replaces\"") == std::string::npos) dropped = true;
        }
        if (claims && dropped)
          return "new-order claims `replaces` again after falling back without it";
        if (t.count(event_kind::fallback) > 1)
          return std::to_string(t.count(event_kind::fallback)) + " fallbacks in one order";
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
  return {
      "configured reset",
      [](const trace& t, const facts& f,
         const std::vector<letter>& letters) -> std::optional<std::string> {
        using rule = facts::reset_rule;
        const step& s = t.steps.back();
        if (f.reset == rule::before_request && s.what == step::kind::send && t.sends() == 1 &&
            s.key() != f.reset_request)
          return "reset-before-request, but the first request is " + s.key();
        if (f.reset == rule::query_only && s.what == step::kind::send && s.key() == f.reset_request)
          return "query-only, but a reset was sent";
        const step* reply = detail::reply_before_last(t);
        if (!reply || reply->letter >= letters.size() || !letters[reply->letter].stale)
          return std::nullopt;
        const std::size_t i = t.steps.size() - 2;
        if (!detail::first_retrieve_reply(t, f, i)) return std::nullopt;
        std::size_t resets = 0;
        for (const step& x : t.steps)
          resets += x.what == step::kind::send && x.key() == f.reset_request ? 1 : 0;
        // A detection at the deadline leaves no time for the reset: the run ends
        // still_pending, and the next run's request or resume deals with it.
        const bool at_deadline = reply->at >= t.start + f.deadline;
        if (f.reset == rule::on_detection && resets == 0 && !at_deadline &&
            !(s.what == step::kind::send && s.key() == f.reset_request))
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
                if (!f.not_after && s.at + f.floor > t.start + f.deadline) break;
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
