// certretry/acme/poll.hpp — polling an order, authorization or challenge (RFC 8555 §7.1.6, §7.4,
// §7.5.1, §8.2) until it is valid, with every reply's Retry-After honoured.
//
// Each poll is a POST-as-GET (empty payload) with a fresh nonce; a bad nonce is retried at once
// (exchange.hpp). Between polls the machine waits:
//   - at least the Retry-After of the reply it just read: every reply's, not the first one only
//     (lego reads it once, certbot ignores it for authorizations: docs/sources.md#lego,
//     docs/sources.md#certbot). A poller started
//     right after the request that began the processing (finalize, a challenge response) waits
//     for that reply's Retry-After before its first poll (poll_options::first_retry_after);
//   - stretched by poll_pacing::stretch for each further reply still in progress, up to
//     max_stretch times the server's value: an order still processing after several of the
//     server's own intervals is a slow one, and polling it at the server's floor is what
//     acmez does (docs/acme.md measures the difference);
//   - the schedule's delay when the server sends none (schedules::acme: 2.9 s, then 2.1 s
//     growing to 4.8 s, tuned: docs/tuning.md);
//   - at least processing_error_floor (5 s) while the resource carries an `error` and the server
//     is retrying the validation itself (RFC 8555 §8.2; step-ca retries every 12 s:
//     docs/sources.md#step-ca-challenge-retries);
//   - never less than the policy's min_delay (1 s), never past the deadline: still_pending then.
// The resource's `error` is surfaced as a processing-error event and in the verdict's why.
//
// States: idle -> [waiting ->] [fetching nonce ->] posting -> (waiting -> posting | finished)
#pragma once

#include "certretry/acme/exchange.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::acme {

/// What a resource_poll_machine polls (RFC 8555 §7.1.3 to §7.1.6).
enum class resource_kind : std::uint8_t { order, authorization, challenge };

/// The kind's name, for transcripts and logs.
constexpr std::string_view to_string(resource_kind k) noexcept {
  switch (k) {
    case resource_kind::order: return "order";
    case resource_kind::authorization: return "authorization";
    case resource_kind::challenge: return "challenge";
  }
  return "?";
}

/// The names scenarios use (docs/harness.md, the acme-poll machine: order, authz, challenge).
constexpr std::optional<resource_kind> resource_kind_from_name(std::string_view n) noexcept {
  if (n == "order") return resource_kind::order;
  if (n == "authz" || n == "authorization") return resource_kind::authorization;
  if (n == "challenge") return resource_kind::challenge;
  return std::nullopt;
}

/// How a resource poll paces itself on the server's Retry-After (RFC 8555 §8.2).
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct poll_pacing {
  /// Each further in-progress reply multiplies the server's Retry-After by this much ...
  double stretch = 1.25;
  /// ... up to this many times the server's value.
  double max_stretch = 4.0;
  /// RFC 8555 §8.2: while the server retries a failed validation (the resource is still
  /// in progress but carries an `error`), polls closer than this only read the same error.
  duration processing_error_floor = 5s;

  /// Empty when stretch and max_stretch are at least 1 and the floor is not negative; otherwise the
  /// field and why.
  constexpr invalid_value check() const noexcept {
    if (!(stretch >= 1.0)) return {"poll_pacing.stretch", "must be a number of at least 1"};
    if (!(max_stretch >= 1.0)) return {"poll_pacing.max_stretch", "must be a number of at least 1"};
    if (processing_error_floor < duration::zero())
      return {"poll_pacing.processing_error_floor", "must not be negative"};
    return {};
  }
};

/// The wait a Retry-After `ra` asks for after `k` earlier in-progress replies.
constexpr duration stretched_retry_after(duration ra, std::uint32_t k,
                                         const poll_pacing& p) noexcept {
  const double cap = std::max(1.0, p.max_stretch);
  double f = 1.0;
  for (std::uint32_t i = 0; i < k && f < cap; ++i) f *= std::max(1.0, p.stretch);
  f = std::min(f, cap);
  return certretry::detail::saturate_ms(static_cast<double>(ra.count()) * f);
}

/// What a poll reply's status means for the kind polled.
///
/// Thread safety: a plain value (static text): safe to copy and read from any thread.
struct poll_status_rule {
  certretry::verdict verdict;  ///< done, pending or permanent
  std::string_view why;        ///< the status word, for the reason (static text)
  bool unknown = false;        ///< a status word this kind does not have: the why quotes it
};

/// What status `s` means for a resource of kind `kind`.
constexpr poll_status_rule poll_rule(resource_kind kind, resource_status s) noexcept {
  switch (s) {
    case resource_status::valid: return {verdict::done, "valid"};
    case resource_status::processing: return {verdict::pending, "processing"};
    // An order is pending until its authorizations are valid; an authorization until its
    // challenge is; a challenge until the server starts validating it.
    case resource_status::pending: return {verdict::pending, "pending"};
    // An order is ready once its authorizations are valid: the caller finalizes next.
    case resource_status::ready:
      return kind == resource_kind::order ? poll_status_rule{verdict::done, "ready to finalize"}
                                          : poll_status_rule{verdict::pending, "status", true};
    case resource_status::invalid: return {verdict::permanent, "invalid"};
    case resource_status::deactivated: return {verdict::permanent, "deactivated"};
    case resource_status::expired: return {verdict::permanent, "expired"};
    case resource_status::revoked: return {verdict::permanent, "revoked"};
    case resource_status::unknown: break;
  }
  // A status this client does not know: keep polling, bounded by the deadline.
  return {verdict::pending, "status", true};
}

/// The inputs of resource_poll_machine: the resource's URL and kind, and its pacing.
///
/// Thread safety: a plain value (the machine keeps its own copy): safe to share read-only between
/// threads.
struct poll_options {
  std::string url;                            ///< the resource's URL
  resource_kind kind = resource_kind::order;  ///< what is polled
  nonce_options nonce;                        ///< nonce handling
  /// Set when the request that began the processing (finalize, a challenge response) has just
  /// been answered: the first poll waits, for that reply's Retry-After if it had one.
  bool wait_first = false;
  std::optional<duration> first_retry_after;  ///< the Retry-After of that reply, if it had one
  poll_pacing pacing;                         ///< pacing on the server's Retry-After
  error_backoff errors;                       ///< the wait after an error reply
  /// longer bodies are unreadable (body_too_large)
  std::size_t max_body_bytes = certretry::default_max_body_bytes;
};

/// Polls an ACME order, authorization or challenge with POST-as-GET (RFC 8555 §7.5.1) until it is
/// valid, ready (an order) or fails.
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink, retry_budget Budget = no_budget>
class resource_poll_machine
    : public detail::signed_machine<resource_poll_machine<S, J, R, Sink, Budget>, S, J, R, Sink,
                                    Budget> {
  using base = detail::signed_machine<resource_poll_machine, S, J, R, Sink, Budget>;
  friend base;
  friend typename base::root;

 public:
  /// A poll machine with its options, policy, random source, sink and budget.
  resource_poll_machine(poll_options options, backoff_policy<S, J> policy, R rng, Sink sink = {},
                        Budget budget = {})
      : base(std::move(options.nonce), policy, std::move(rng), std::move(sink),
             options.max_body_bytes, options.errors, std::move(budget)),
        options_(std::move(options)),
        objects_(options_.max_body_bytes) {}

  /// The status last read (valid once completed; ready for an order awaiting finalize).
  resource_status status() const noexcept { return status_; }
  /// Replies read that said the resource was still in progress.
  std::uint32_t in_progress_replies() const noexcept { return in_progress_; }

 private:
  action on_start(time_point now) {
    if (const invalid_value bad = options_.pacing.check())
      return this->refuse(now, errc::invalid_policy, bad);
    if (auto refused = this->refuse_at_start(
            now, this->request_values_problem("poll_options.url", options_.url, {}, {},
                                              json_kind::none, true)))
      return *refused;
    if (!options_.wait_first) return this->post(now, options_.url, {});
    this->set_request(options_.url, {});
    ++in_progress_;  // the reply that began the processing counts as the first
    return this->retry_later(now, "waiting for the server to process", options_.first_retry_after,
                             duration::zero());
  }

  action on_acme_reply(time_point now, const response_view& r, const problem* p) {
    if (r.status < 200 || r.status > 299) return this->on_error_reply(now, r, p, "poll");
    const auto obj = objects_.read(r.body);
    std::string& why = this->why_;
    if (!obj || obj->status.empty()) {
      // Acting on half a resource is worse than reading it again.
      why = std::string(to_string(options_.kind)) + " reply is not an ACME object";
      this->kit_.report_verdict(now, r.status, {}, verdict::transient, why);
      return this->retry_later(now, why, this->kit_.retry_after_hint(now, r));
    }
    status_ = obj->state();
    const poll_status_rule rule = poll_rule(options_.kind, status_);
    why.assign(to_string(options_.kind));
    why += ' ';
    why += rule.why;
    if (rule.unknown) {
      why += ' ';
      certretry::detail::append_sanitized(why, obj->status, 32);
    }
    const problem* error = obj->first_error();
    if (error) {
      why += ": ";
      detail::describe_problem(why, *error);
    }
    switch (rule.verdict) {
      case verdict::done: return this->succeed(now, r, why);
      case verdict::permanent:
        this->kit_.report_verdict(now, r.status, {}, verdict::permanent, why);
        return this->finish(now, outcome_kind::failed, errc::server_rejected, why);
      default: break;
    }
    this->kit_.report_verdict(now, r.status, {}, verdict::pending, why);
    if (error) {
      std::string text;
      detail::describe_problem(text, *error);
      this->kit_.report(now, event_kind::processing_error, text);
    }
    auto hint = this->kit_.retry_after_hint(now, r);
    if (hint) hint = stretched_retry_after(*hint, in_progress_, options_.pacing);
    ++in_progress_;
    return this->retry_later(now, why, hint,
                             error ? options_.pacing.processing_error_floor : duration::zero(),
                             wait_reason::floor);
  }

  poll_options options_;
  object_reader objects_;
  resource_status status_ = resource_status::unknown;
  std::uint32_t in_progress_ = 0;
};

static_assert(machine<resource_poll_machine<>>);

}  // namespace certretry::acme
