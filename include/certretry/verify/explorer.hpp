// certretry/verify/explorer.hpp — every sequence of replies up to a depth, breadth first.
//
// The explorer replays a subject's machine from the start for each sequence of letters (the
// replies to its requests, in order), checking every invariant after every step. Breadth first:
// the first violation of an invariant it meets is one with the fewest replies, and that
// sequence is printed as a replay scenario (docs/harness.md) that reproduces it.
//
// Pruning: sequences that bring the machine to the same state are explored once. A state is the
// request outstanding (method, target, body, headers), the time since the start, the requests
// and waits so far (the schedule's position and the random draws), and the counters the
// machines' rules read: transient verdicts in a row and in all, pending verdicts, badNonce
// replies in a row, resets, fallbacks, renewal times picked, stale messages. Two sequences that
// differ only in which of several equivalent letters they used (a 429 and a 503 without
// Retry-After) or in the order of letters that leave the same counters merge.
//
// Termination: a sequence still running at the depth is continued with the letters marked
// `repeat` (a server that keeps answering pending, or failing) until it finishes or passes
// facts.max_steps: with each of them, or, past verify_options::max_continuations, with one
// each, taken in turn.
#pragma once

#include "certretry/core/random.hpp"
#include "certretry/core/text.hpp"
#include "certretry/machine/kit.hpp"
#include "certretry/verify/invariants.hpp"
#include "certretry/verify/subject.hpp"
#include "certretry/verify/trace.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace certretry::verify {

/// How far the verifier searches.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct verify_options {
  std::uint32_t depth = 8;             ///< replies per sequence
  std::size_t max_states = 4'000'000;  ///< distinct states at most (the search stops there)
  bool continue_leaves = true;         ///< the termination check past the depth
  /// Past the depth each state is continued with every repeat letter, or, when the states at
  /// the depth times the repeat letters exceed this, with one repeat letter each, in turn.
  std::size_t max_continuations = 200'000;
  bool stop_when_all_violated = true;  ///< stop once every invariant has a counterexample
  bool merge = true;  ///< false: no pruning (every sequence explored; for testing the pruning)
};

/// A shortest sequence of replies that breaks an invariant.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct counterexample {
  std::string invariant;             ///< the invariant broken
  std::string what;                  ///< how, in words
  std::vector<std::size_t> letters;  ///< the replies, in order
  trace t;                           ///< the run up to and including the step that broke it
  bool past_depth = false;           ///< found while continuing a sequence past the depth
};

/// What the verifier found for one machine.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct report {
  std::string machine;                     ///< the machine's name
  std::uint32_t depth = 0;                 ///< replies per sequence
  std::size_t sequences = 0;               ///< sequences replayed
  std::size_t states = 0;                  ///< distinct states explored
  std::size_t merged = 0;                  ///< sequences that reached a state already explored
  std::size_t finished = 0;                ///< sequences that ended within the depth
  std::size_t continued = 0;               ///< sequences continued past the depth to their end
  std::size_t steps = 0;                   ///< machine steps in all
  bool exhausted = true;                   ///< false: max_states stopped the search
  std::vector<invariant> invariants;       ///< the invariants checked
  std::vector<counterexample> violations;  ///< the first (shortest) per invariant

  /// True when nothing was violated and the search was complete.
  bool ok() const noexcept { return violations.empty() && exhausted; }
  /// The counterexample of invariant `name`, if any.
  const counterexample* violation(std::string_view name) const noexcept {
    for (const auto& c : violations)
      if (c.invariant == name) return &c;
    return nullptr;
  }
};

namespace detail {

struct replay_result {
  trace t;
  bool finished = false;
  std::optional<std::size_t> broken;  // the invariant violated
  std::string what;
  std::size_t steps = 0;
};

// Which letter answers `req` when continuing: `prefer` when it applies, else the first repeat
// letter that applies, else the first that applies.
inline std::optional<std::size_t> continuation(const subject& s, const step& req,
                                               std::optional<std::size_t> prefer, bool happy) {
  if (prefer && s.letters[*prefer].applies_to(req.method, req.target)) return prefer;
  for (std::size_t i = 0; i < s.letters.size(); ++i)
    if ((happy ? s.letters[i].happy : s.letters[i].repeat) &&
        s.letters[i].applies_to(req.method, req.target))
      return i;
  for (std::size_t i = 0; i < s.letters.size(); ++i)
    if (s.letters[i].applies_to(req.method, req.target)) return i;
  return std::nullopt;
}

// Replays `path`; past it, answers with the continuation letters (`cont`: repeat letters,
// `happy`: happy letters) or stops at the next request. Invariants are checked from the step
// after the path's last reply (the earlier steps were checked when the prefix was explored).
inline replay_result replay(const subject& s, const std::vector<invariant>& inv,
                            std::span<const std::uint16_t> path, bool cont, bool happy,
                            std::optional<std::size_t> prefer, std::vector<std::size_t>* used) {
  replay_result r;
  trace& t = r.t;
  t.start = s.start;
  t.steps.reserve(2 * path.size() + 8);
  time_point now = s.start;
  auto m = s.make(recording_sink{&t});
  std::size_t fed = 0;
  std::size_t check_from = path.empty() ? 0 : std::size_t(-1);
  const auto check = [&]() -> bool {
    if (t.steps.size() - 1 < check_from) return false;
    for (std::size_t i = 0; i < inv.size(); ++i) {
      if (!inv[i].applies || !inv[i].check) continue;
      if (auto what = inv[i].check(t, s.f, s.letters)) {
        r.broken = i;
        r.what = std::move(*what);
        return true;
      }
    }
    return false;
  };
  action a = m->start(now);
  for (;;) {
    ++r.steps;
    if (const auto* sn = std::get_if<send>(&a)) {
      step st;
      st.what = step::kind::send;
      st.at = now;
      st.method.assign(sn->request.method);
      st.target.assign(sn->request.target);
      st.body.assign(sn->request.body);
      st.headers.assign(sn->request.headers.begin(), sn->request.headers.end());
      t.steps.push_back(std::move(st));
      if (check()) return r;
      std::optional<std::size_t> l;
      if (fed < path.size()) {
        l = path[fed++];
      } else if (cont || happy) {
        l = continuation(s, t.steps.back(), prefer, happy);
        if (!l) return r;
      } else {
        return r;  // awaiting the next reply
      }
      if (used) used->push_back(*l);
      step rp;
      rp.what = step::kind::reply;
      rp.at = now;
      rp.letter = *l;
      rp.events_before = t.events.size();
      t.steps.push_back(rp);
      if (fed == path.size() && check_from == std::size_t(-1)) check_from = t.steps.size() - 1;
      if (check()) return r;
      const letter& L = s.letters[*l];
      if (L.reply)
        a = m->on_response(now, L.reply->view());
      else
        a = m->on_transport_error(now, L.error);
    } else if (const auto* w = std::get_if<wait>(&a)) {
      step st;
      st.what = step::kind::wait;
      st.at = now;
      st.delay = w->delay;
      st.why = w->why;
      t.steps.push_back(std::move(st));
      if (check()) return r;
      now += std::max(w->delay, duration::zero());
      a = m->on_wait_elapsed(now);
    } else {
      t.steps.push_back(finish_step(now, m->take_outcome()));
      r.finished = true;
      check();
      return r;
    }
  }
}

// The state a sequence left the machine in (see the header comment).
inline std::uint64_t state_key(const trace& t, const std::vector<letter>& letters) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&](std::string_view s) {
    h ^= fnv1a(s) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  };
  const auto num = [&](std::int64_t v) { mix(std::to_string(v)); };
  const step& req = t.steps.back();
  mix(req.method);
  mix(req.target);
  mix(req.body);
  for (const header_field& f : req.headers) {
    mix(f.name);
    mix(f.value);
  }
  num((req.at - t.start).count());
  std::int64_t sends = 0, waits = 0, stale = 0;
  for (const step& s : t.steps) {
    sends += s.what == step::kind::send;
    waits += s.what == step::kind::wait;
    if (s.what == step::kind::reply && s.letter < letters.size() && letters[s.letter].stale)
      ++stale;
  }
  num(sends);
  num(waits);
  num(stale);
  std::int64_t transient = 0, pending = 0, trailing_transient = 0, trailing_bad_nonce = 0;
  bool in_trail = true, nonce_trail = true;
  for (auto it = t.events.rbegin(); it != t.events.rend(); ++it) {
    if (it->kind == event_kind::bad_nonce) {
      if (nonce_trail) ++trailing_bad_nonce;
      continue;
    }
    if (it->kind != event_kind::verdict) continue;
    if (it->verdict == certretry::verdict::transient) {
      ++transient;
      if (in_trail) ++trailing_transient;
    } else {
      in_trail = false;
      if (it->verdict == certretry::verdict::pending) ++pending;
    }
    if (it->status != 400) nonce_trail = false;
  }
  num(transient);
  num(pending);
  num(trailing_transient);
  num(trailing_bad_nonce);
  for (const event_kind k : {event_kind::reset, event_kind::fallback, event_kind::renewal_time})
    num(static_cast<std::int64_t>(t.count(k)));
  for (auto it = t.events.rbegin(); it != t.events.rend(); ++it)
    if (it->kind == event_kind::renewal_time) {
      mix(it->why);
      break;
    }
  if (const auto v = t.last_verdict()) num(static_cast<int>(*v));
  return h;
}

inline void record(report& rep, const std::vector<invariant>& inv, replay_result&& r,
                   std::vector<std::size_t> letters, bool past_depth) {
  const std::string& name = inv[*r.broken].name;
  if (rep.violation(name)) return;
  rep.violations.push_back(
      {name, std::move(r.what), std::move(letters), std::move(r.t), past_depth});
}

}  // namespace detail

/// Explores every sequence of up to o.depth replies; the report lists the first violation of
/// each invariant (the shortest), or none.
inline report explore(const subject& s, const verify_options& o = {}) {
  report rep;
  rep.machine = s.machine;
  rep.depth = o.depth;
  const std::vector<invariant> inv = invariants_for(s);
  rep.invariants = inv;
  std::size_t applicable = 0;
  for (const invariant& i : inv) applicable += i.applies && i.check ? 1 : 0;
  const auto all_found = [&] {
    return o.stop_when_all_violated && rep.violations.size() >= applicable;
  };

  // The happy path: a server that issues at once.
  {
    std::vector<std::size_t> used;
    auto r = detail::replay(s, inv, {}, false, true, std::nullopt, &used);
    rep.steps += r.steps;
    if (r.broken) {
      detail::record(rep, inv, std::move(r), used, false);
    } else {
      const step& last = r.t.steps.back();
      const bool success = r.finished && (last.outcome == outcome_kind::issued ||
                                          last.outcome == outcome_kind::completed ||
                                          last.outcome == outcome_kind::renew_at);
      const std::size_t sends = r.t.sends();
      if (!success || sends != s.f.happy_calls) {
        std::string what = !r.finished ? "the happy path did not finish"
                           : !success
                               ? "the happy path ended " + std::string(to_string(last.outcome))
                               : "the happy path sent " + std::to_string(sends) +
                                     " requests, the fewest is " + std::to_string(s.f.happy_calls);
        rep.violations.push_back({"happy path", std::move(what), used, std::move(r.t), false});
      }
    }
  }

  std::vector<std::vector<std::uint16_t>> frontier{{}};
  std::unordered_set<std::uint64_t> seen;
  std::size_t leaf = 0;
  std::size_t repeats = 0;
  for (const letter& l : s.letters) repeats += l.repeat ? 1 : 0;
  for (std::uint32_t d = 0; d <= o.depth && !frontier.empty() && !all_found(); ++d) {
    std::vector<std::vector<std::uint16_t>> next;
    for (const auto& path : frontier) {
      if (all_found()) break;
      auto r = detail::replay(s, inv, path, false, false, std::nullopt, nullptr);
      ++rep.sequences;
      rep.steps += r.steps;
      if (r.broken) {
        detail::record(rep, inv, std::move(r), {path.begin(), path.end()}, false);
        continue;
      }
      if (r.finished) {
        ++rep.finished;
        continue;
      }
      const std::uint64_t key = o.merge ? detail::state_key(r.t, s.letters) : rep.sequences;
      if (!seen.insert(key).second) {
        ++rep.merged;
        continue;
      }
      ++rep.states;
      if (seen.size() >= o.max_states) {
        rep.exhausted = false;
        break;
      }
      const step& req = r.t.steps.back();
      if (d == o.depth) {
        if (!o.continue_leaves) continue;
        // Past the depth: a server that keeps answering each repeat letter (or one, in turn).
        const bool all = frontier.size() * repeats <= o.max_continuations;
        std::vector<std::size_t> fits;
        for (std::size_t l = 0; l < s.letters.size(); ++l)
          if (s.letters[l].repeat && s.letters[l].applies_to(req.method, req.target))
            fits.push_back(l);
        if (!all && !fits.empty()) fits = {fits[leaf++ % fits.size()]};
        for (const std::size_t l : fits) {
          std::vector<std::size_t> used(path.begin(), path.end());
          auto c = detail::replay(s, inv, path, true, false, l, &used);
          ++rep.continued;
          rep.steps += c.steps;
          if (c.broken) detail::record(rep, inv, std::move(c), std::move(used), true);
        }
        continue;
      }
      for (std::size_t l = 0; l < s.letters.size(); ++l) {
        if (!s.letters[l].applies_to(req.method, req.target)) continue;
        auto child = path;
        child.push_back(static_cast<std::uint16_t>(l));
        next.push_back(std::move(child));
      }
    }
    frontier = std::move(next);
  }
  // Report in the order the invariants are listed.
  std::stable_sort(rep.violations.begin(), rep.violations.end(),
                   [&](const counterexample& a, const counterexample& b) {
                     const auto pos = [&](const std::string& n) {
                       for (std::size_t i = 0; i < inv.size(); ++i)
                         if (inv[i].name == n) return i;
                       return inv.size();
                     };
                     return pos(a.invariant) < pos(b.invariant);
                   });
  return rep;
}

/// A reply as a scenario writes it (docs/harness.md, format v1).
inline std::string reply_json(const letter& l) {
  std::string out;
  if (!l.reply) {
    out = "{\"transport_error\":";
    certretry::detail::append_json_string(out, transport_error_name(l.error));
    return out + "}";
  }
  out = "{\"status\":" + std::to_string(l.reply->status);
  if (!l.reply->headers.empty()) {
    out += ",\"headers\":{";
    for (std::size_t i = 0; i < l.reply->headers.size(); ++i) {
      if (i) out += ',';
      certretry::detail::append_json_string(out, l.reply->headers[i].name);
      out += ':';
      certretry::detail::append_json_string(out, l.reply->headers[i].value);
    }
    out += '}';
  }
  if (!l.reply->body.empty()) {
    out += ",\"body\":";
    certretry::detail::append_json_string(out, l.reply->body);
  }
  return out + "}";
}

/// The counterexample as a replay scenario: the subject's machine and options, and for each
/// request the replies it got, in order (the harness repeats the last one).
inline std::string scenario_json(const subject& s, const counterexample& c) {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> server;
  for (std::size_t i = 0; i < c.t.steps.size(); ++i) {
    const step& st = c.t.steps[i];
    if (st.what != step::kind::reply) continue;
    const step* req = detail::request_of(c.t, i);
    const std::string key = req ? req->key() : "*";
    auto it =
        std::find_if(server.begin(), server.end(), [&](const auto& e) { return e.first == key; });
    if (it == server.end()) {
      server.push_back({key, {}});
      it = server.end() - 1;
    }
    it->second.push_back(st.letter);
  }
  std::string out = "{\n  \"machine\": ";
  certretry::detail::append_json_string(out, s.machine);
  out += ",\n  \"options\": " + s.options_json + ",\n  \"seed\": " + std::to_string(s.seed) +
         ",\n  \"description\": ";
  certretry::detail::append_json_string(out,
                                        "certretry-harness verify: " + c.invariant + ": " + c.what);
  out += ",\n  \"server\": {";
  for (std::size_t k = 0; k < server.size(); ++k) {
    out += k ? ",\n    " : "\n    ";
    certretry::detail::append_json_string(out, server[k].first);
    out += ": [";
    for (std::size_t j = 0; j < server[k].second.size(); ++j)
      out += (j ? ", " : "") + reply_json(s.letters[server[k].second[j]]);
    out += "]";
  }
  out += "\n  }\n}\n";
  return out;
}

/// The letters of a counterexample by name: "pending, 429 + Retry-After".
inline std::string letters_text(const subject& s, const counterexample& c) {
  std::string out;
  for (std::size_t i = 0; i < c.letters.size(); ++i)
    out += (i ? ", " : "") + s.letters[c.letters[i]].name;
  return out.empty() ? "(none)" : out;
}

}  // namespace certretry::verify
