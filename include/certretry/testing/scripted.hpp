// certretry/testing/scripted.hpp — a virtual clock and a scripted server, for users' own tests.
//
// The scripted transport answers each "METHOD TARGET" from a list of replies served in order,
// the last one repeating forever (the replay scenario contract, docs/harness.md), and advances
// the virtual clock by each reply's latency. Nothing sleeps; nothing touches the network.
// Thread safety: neither type may be shared between threads without a lock; each is one test's.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace certretry {

/// A clock tests move by hand (or through virtual_sleeper and the scripted transport's latency).
///
/// Thread safety: one test's: not to be shared between threads without a lock.
class virtual_clock {
 public:
  /// A clock at `start`.
  constexpr explicit virtual_clock(time_point start = time_point{}) noexcept : now_(start) {}
  /// The virtual time now.
  constexpr time_point now() const noexcept { return now_; }
  /// Moves the clock `d` forward (a negative `d` does nothing).
  constexpr void advance(duration d) noexcept {
    if (d > duration::zero()) now_ = saturating_add(now_, d);
  }
  /// The time the clock started at.
  constexpr time_point start() const noexcept { return start_; }

 private:
  time_point now_;
  time_point start_ = now_;
};

/// A sleeper that advances a virtual clock instead of sleeping.
///
/// Thread safety: one test's: not to be shared between threads without a lock.
class virtual_sleeper {
 public:
  /// A sleeper advancing `c`.
  constexpr explicit virtual_sleeper(virtual_clock& c) noexcept : clock_(&c) {}
  /// Advances the clock by `d`.
  constexpr void sleep_for(duration d) noexcept { clock_->advance(d); }

 private:
  virtual_clock* clock_;
};

/// One scripted reply: a response, or a transport error; either after `latency`. With `until`
/// set, the reply is served to every request until that much virtual time has passed since the
/// clock's start, then the next one takes over (a CA that issues at a given time); without it,
/// the reply is served once (the last one repeats forever).
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct scripted_reply {
  std::optional<response> reply;      ///< the response, or nothing for a transport error
  std::error_code transport_error{};  ///< the transport error (without a response)
  duration latency{};                 ///< virtual time the reply takes
  /// served until this much virtual time from the clock's start, if set
  std::optional<duration> until{};

  /// A response with `status`, `body` and `headers`.
  static scripted_reply respond(int status, std::string body = {},
                                std::vector<header_field> headers = {}, duration latency = {}) {
    return {response{status, std::move(headers), std::move(body)}, {}, latency};
  }
  /// A transport error `ec`.
  static scripted_reply fail(std::error_code ec, duration latency = {}) {
    return {std::nullopt, ec, latency};
  }
};

/// A transport that answers from scripts (see the file's comment), on a virtual clock.
///
/// Thread safety: one test's: not to be shared between threads without a lock.
class scripted_transport {
 public:
  /// A transport on `clock` (which it advances by each reply's latency).
  explicit scripted_transport(virtual_clock& clock) noexcept : clock_(&clock) {}

  /// key: "METHOD TARGET" (e.g. "GET /orders/7"), or "*" for any request no other key matches.
  /// Scripting a key again replaces its replies and starts them over. O(1) amortised: the keys
  /// are sorted once, when the next request comes, so n keys cost O(n log n) in all and each
  /// request O(log n).
  /// A key may depend on the request's body: "METHOD TARGET if-body-contains TEXT" (or
  /// "if-body-lacks TEXT") serves its own replies, in its own order, to the requests whose body
  /// holds (or lacks) TEXT, before the plain key is looked at; such keys are tried in the order
  /// scripted, and there may be at most 64 of them (docs/harness.md).
  void script(std::string key, std::vector<scripted_reply> replies) {
    if (auto c = split_condition(key)) {
      for (auto& old : conditions_)
        if (old.key == c->key && old.text == c->text && old.contains == c->contains) {
          old.replies = std::move(replies);
          old.next = 0;
          return;
        }
      if (conditions_.size() >= max_conditions) return;
      c->replies = std::move(replies);
      conditions_.push_back(std::move(*c));
      return;
    }
    if (key == "*") {
      any_ = rule{std::move(key), std::move(replies), 0};
      return;
    }
    rules_.push_back({std::move(key), std::move(replies), 0});
    sorted_ = false;
  }

  /// Sends `req`: the next scripted reply for its key, after its latency.
  result<response> send(const request_view& req) {
    if (record_) sent_.emplace_back(req);
    std::string key;
    key.reserve(req.method.size() + 1 + req.target.size());
    key.append(req.method).append(" ").append(req.target);
    for (auto& c : conditions_)
      if (c.key == key && !c.replies.empty() &&
          (req.body.find(c.text) != std::string_view::npos) == c.contains)
        return serve(c.replies, c.next);
    rule* match = find(key);
    if (!match && any_) match = &*any_;
    if (!match || match->replies.empty()) {
      if (!unmatched_) unmatched_ = std::move(key);
      return errc::no_scripted_response;
    }
    return serve(match->replies, match->next);
  }

  /// The conditions a key may carry, and how many a transport keeps.
  static constexpr std::string_view if_body_contains = " if-body-contains ";
  /// See if_body_contains.
  static constexpr std::string_view if_body_lacks = " if-body-lacks ";
  /// The most conditional keys a transport keeps.
  static constexpr std::size_t max_conditions = 64;

  /// Every request sent, in order (while recording, the default).
  const std::vector<request>& sent() const noexcept { return sent_; }
  /// Whether sent() keeps requests; off for runs too long to keep every request (the harness
  /// streams its transcript instead).
  void record_sent(bool on) noexcept { record_ = on; }
  /// Key comparisons script() and send() have made so far: what tests of their cost count.
  std::size_t key_comparisons() const noexcept { return comparisons_; }
  /// How many requests went to "METHOD TARGET".
  std::size_t calls(std::string_view key) const noexcept {
    std::size_t n = 0;
    for (const auto& r : sent_)
      if (key.size() == r.method.size() + 1 + r.target.size() &&
          key.substr(0, r.method.size()) == r.method && key[r.method.size()] == ' ' &&
          key.substr(r.method.size() + 1) == r.target)
        ++n;
    return n;
  }
  /// The first request no rule matched ("METHOD TARGET"), if any.
  const std::optional<std::string>& unmatched() const noexcept { return unmatched_; }
  /// True once a request matched no rule: run() stops then.
  bool stop_requested() const noexcept { return unmatched_.has_value(); }

 private:
  struct rule {
    std::string key;
    std::vector<scripted_reply> replies;
    std::size_t next;
  };
  struct condition {
    std::string key;   // "METHOD TARGET"
    std::string text;  // what the body holds (contains) or lacks
    bool contains = true;
    std::vector<scripted_reply> replies;
    std::size_t next = 0;
  };

  static std::optional<condition> split_condition(std::string_view key) {
    for (const bool contains : {true, false}) {
      const std::string_view word = contains ? if_body_contains : if_body_lacks;
      const std::size_t at = key.find(word);
      if (at == std::string_view::npos) continue;
      condition c;
      c.key.assign(key.substr(0, at));
      c.text.assign(key.substr(at + word.size()));
      c.contains = contains;
      return c;
    }
    return std::nullopt;
  }

  // The reply at `next` (after the `until` ones whose time has passed), moving `next` on.
  result<response> serve(const std::vector<scripted_reply>& replies, std::size_t& next) {
    const auto elapsed = clock_->now() - clock_->start();
    while (next + 1 < replies.size() && replies[next].until && elapsed >= *replies[next].until)
      ++next;
    const scripted_reply& reply = replies[next];
    if (!reply.until && next + 1 < replies.size()) ++next;
    clock_->advance(reply.latency);
    if (!reply.reply) return reply.transport_error;
    return *reply.reply;
  }

  // The rule for `key`, after sorting the keys scripted since the last request.
  rule* find(std::string_view key) {
    if (!sorted_) settle();
    const auto less = [this](const rule& r, std::string_view k) {
      ++comparisons_;
      return std::string_view{r.key} < k;
    };
    const auto it = std::lower_bound(rules_.begin(), rules_.end(), key, less);
    ++comparisons_;
    return it != rules_.end() && it->key == key ? &*it : nullptr;
  }

  // Sorts the rules by key; of equal keys, the one scripted last is kept (it replaced the
  // others). stable_sort keeps equal keys in the order they were scripted.
  void settle() {
    std::stable_sort(rules_.begin(), rules_.end(), [this](const rule& a, const rule& b) {
      ++comparisons_;
      return a.key < b.key;
    });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      ++comparisons_;
      if (i + 1 < rules_.size() && rules_[i].key == rules_[i + 1].key) continue;
      if (kept != i) rules_[kept] = std::move(rules_[i]);
      ++kept;
    }
    rules_.erase(rules_.begin() + static_cast<std::ptrdiff_t>(kept), rules_.end());
    sorted_ = true;
  }

  virtual_clock* clock_;
  std::vector<rule> rules_;            // sorted by key once sorted_
  std::optional<rule> any_;            // "*"
  std::vector<condition> conditions_;  // keys that depend on the body, in the order scripted
  bool sorted_ = true;
  bool record_ = true;
  std::size_t comparisons_ = 0;
  std::vector<request> sent_;
  std::optional<std::string> unmatched_;
};

}  // namespace certretry
