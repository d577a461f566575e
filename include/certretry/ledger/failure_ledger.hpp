// certretry/ledger/failure_ledger.hpp — what a caller remembers about one retried unit between
// runs: consecutive failures by class, the last outcome, the earliest next attempt, and whether
// a person must act before anything is sent again.
//
// A machine bounds one run; the load a CA sees from clients that will never succeed comes from
// across runs (Let's Encrypt pauses an account and hostname after 3 600 consecutive failed
// authorizations: docs/sources.md#le-consecutive-failures). The ledger is the memory a run does
// not have: the caller keeps one per unit (an ACME account and identifier set, a TPP DN, an
// async-CA order), asks it before a run (`gate`), tells it how the run ended (`record`) and
// saves it (`to_json`, ledger/ledger_json.hpp). Let's Encrypt's integration guide asks for
// exactly this: "keep track of failures as well as successes, and check if there was a recent
// failure before attempting a fresh issuance" (docs/sources.md#le-integration-guide).
//
// A value type: copy it, compare it, save it. Not shared between threads (each unit has one).
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace certretry {

/// Why a run did not succeed, as far as the next run is concerned.
enum class failure_class : std::uint8_t {
  transient,     ///< deadline, timeouts, 5xx, still_pending: the CA may be fine next time
  rate_limited,  ///< the CA said "not now" and when (a 429 with Retry-After, rateLimited)
  rejected,      ///< a permanent answer (failed): validation failed, the CA refused the order
  needs_person,  ///< no retry can fix it (needs_person, needs_reset): stop until cleared
};
/// How many failure classes there are.
inline constexpr std::size_t failure_class_count = 4;

/// The class's name, as the saved ledger spells it.
constexpr std::string_view to_string(failure_class c) noexcept {
  switch (c) {
    case failure_class::transient: return "transient";
    case failure_class::rate_limited: return "rate_limited";
    case failure_class::rejected: return "rejected";
    case failure_class::needs_person: return "needs_person";
  }
  return "?";
}

/// How an outcome counts: nothing for success or a cancelled run (the caller gave up; the CA
/// said nothing), else its class. A still_pending run with a not_before from the server (a
/// rate limit's Retry-After) is rate_limited.
constexpr std::optional<failure_class> classify(const outcome& o) noexcept {
  switch (o.kind) {
    case outcome_kind::issued:
    case outcome_kind::completed:
    case outcome_kind::renew_at:
    case outcome_kind::cancelled: return std::nullopt;
    case outcome_kind::still_pending:
      return o.not_before ? failure_class::rate_limited : failure_class::transient;
    case outcome_kind::failed: return failure_class::rejected;
    case outcome_kind::needs_reset:
    case outcome_kind::needs_person: return failure_class::needs_person;
  }
  return failure_class::transient;
}

/// Maps consecutive failures to the earliest next attempt, across runs. The default is Let's
/// Encrypt's integration guide: retry after 1 minute, 10 minutes, 100 minutes, then once a day
/// (docs/sources.md#le-integration-guide); after `give_up_after` consecutive failures the unit
/// stops and needs a person (a week of daily failures by default: the guide asks for "a way for
/// administrators to request early retries", and no automatic retry has fixed it by then).
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct escalation_policy {
  /// the waits after the 1st, 2nd, 3rd and later consecutive failures
  std::array<duration, 4> steps{std::chrono::minutes{1}, std::chrono::minutes{10},
                                std::chrono::minutes{100}, std::chrono::hours{24}};
  std::uint32_t give_up_after = 10;  ///< 0: never give up (retry daily for ever)

  /// The wait after the n-th consecutive failure (n >= 1): steps[n-1], the last step after that.
  constexpr duration after(std::uint32_t n) const noexcept {
    if (n == 0) return duration::zero();
    return steps[std::min<std::size_t>(n - 1, steps.size() - 1)];
  }
};

/// What the ledger says before a run.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct gate_decision {
  /// Go, wait, or stop until a person acts.
  enum class kind : std::uint8_t { go, wait, needs_person };
  kind k = kind::go;        ///< go, wait or needs_person
  time_point not_before{};  ///< wait: the earliest next attempt
  std::string why;          ///< wait, needs_person: for the operator
  std::string action;       ///< needs_person: the URL or text the person needs

  /// True when the run may go.
  bool allowed() const noexcept { return k == kind::go; }
  /// As an outcome, so a caller can treat a refusal like a run's end (nothing was sent).
  outcome as_outcome() const {
    outcome o;
    o.kind = k == kind::needs_person ? outcome_kind::needs_person : outcome_kind::still_pending;
    o.reason = why;
    o.action = action;
    if (k == kind::wait) o.not_before = not_before;
    return o;
  }
};

/// Bounds on what the ledger keeps from a server's words (a saved ledger stays small).
inline constexpr std::size_t ledger_max_text = 512;

/// What one unit of work (an account, a certificate lineage) has failed across runs, and when it
/// may try again (docs/operations.md).
///
/// Thread safety: a plain value: safe to read from several threads; record() and clear() need the
/// caller's lock (or one ledger per thread).
class failure_ledger {
 public:
  failure_ledger() = default;
  /// The unit's name is kept as a saved ledger can hold it: control characters and malformed
  /// UTF-8 become '?', and a name longer than ledger_max_text is cut (with "...").
  explicit failure_ledger(std::string_view unit) {
    detail::append_sanitized(unit_, unit, ledger_max_text);
  }

  /// Before a run: go, wait until not_before, or stop for a person.
  gate_decision gate(time_point now) const {
    gate_decision d;
    if (needs_person_) {
      d.k = gate_decision::kind::needs_person;
      d.why = "needs a person: " + last_reason_ +
              " (failure_ledger::clear() once it is fixed; nothing was sent)";
      d.action = action_;
      return d;
    }
    if (next_attempt_ && now < *next_attempt_) {
      d.k = gate_decision::kind::wait;
      d.not_before = *next_attempt_;
      d.why = std::to_string(consecutive_) + " consecutive failure" +
              (consecutive_ == 1 ? "" : "s") + ", the last: " + last_reason_ +
              "; next attempt not before " + format_time(*next_attempt_);
    }
    return d;
  }

  /// After a run: success clears the failures; a failure escalates the next attempt (never
  /// earlier than the server's own not_before).
  void record(const outcome& o, time_point now, const escalation_policy& p = {}) {
    last_kind_ = o.kind;
    last_at_ = now;
    last_reason_.clear();
    detail::append_sanitized(last_reason_, o.reason, ledger_max_text);
    const std::optional<failure_class> c = classify(o);
    if (!c) {
      if (o.kind == outcome_kind::cancelled) return;  // no answer from the CA: nothing learned
      consecutive_ = 0;
      by_class_.fill(0);
      next_attempt_.reset();
      if (o.kind == outcome_kind::issued || o.kind == outcome_kind::completed) last_success_ = now;
      // A new certificate: the next renewal replaces it, a claim no server has failed yet.
      if (o.kind == outcome_kind::issued) replaces_5xx_ = 0;
      return;
    }
    consecutive_ = saturating_increment(consecutive_);
    auto& n = by_class_[static_cast<std::size_t>(*c)];
    n = saturating_increment(n);
    time_point next = saturating_add(now, p.after(consecutive_));
    if (o.not_before && *o.not_before > next) next = *o.not_before;
    next_attempt_ = next;
    if (*c == failure_class::needs_person ||
        (p.give_up_after != 0 && consecutive_ >= p.give_up_after)) {
      needs_person_ = true;
      action_.clear();
      detail::append_sanitized(action_, o.action, ledger_max_text);
      if (*c != failure_class::needs_person)
        last_reason_ =
            std::to_string(consecutive_) + " consecutive failures, the last: " + last_reason_;
    }
  }

  /// A new-order that carried `replaces` got a 5xx (renewal_guard.hpp,
  /// replaces_after_server_errors); any other answer to such an order resets the count, and so
  /// does record() of an issued certificate (the next renewal replaces that one).
  void record_replaces_answer(bool server_error) noexcept {
    replaces_5xx_ = server_error ? saturating_increment(replaces_5xx_) : 0;
  }
  /// Consecutive 5xx to new-orders that carried `replaces`.
  std::uint32_t replaces_server_errors() const noexcept { return replaces_5xx_; }

  /// The person fixed it (or asks for an early retry): the next gate says go.
  void clear() noexcept {
    needs_person_ = false;
    action_.clear();
    consecutive_ = 0;
    by_class_.fill(0);
    next_attempt_.reset();
  }

  /// The unit's name.
  const std::string& unit() const noexcept { return unit_; }
  /// Failures in a row since the last success.
  std::uint32_t consecutive_failures() const noexcept { return consecutive_; }
  /// Failures of class `c` in the current streak.
  std::uint32_t failures(failure_class c) const noexcept {
    return by_class_[static_cast<std::size_t>(c)];
  }
  /// How the last run ended, if there was one.
  std::optional<outcome_kind> last_kind() const noexcept { return last_kind_; }
  /// When the last run ended.
  std::optional<time_point> last_at() const noexcept { return last_at_; }
  /// The last failure's reason, sanitised and bounded.
  const std::string& last_reason() const noexcept { return last_reason_; }
  /// The earliest next attempt, if a failure set one.
  std::optional<time_point> next_attempt() const noexcept { return next_attempt_; }
  /// When the last run succeeded.
  std::optional<time_point> last_success() const noexcept { return last_success_; }
  /// True when no retry can fix it until a person clears the ledger.
  bool needs_person() const noexcept { return needs_person_; }
  /// needs_person: what the person needs (a URL or text).
  const std::string& action() const noexcept { return action_; }

  /// Equal when every field is.
  bool operator==(const failure_ledger&) const = default;

 private:
  friend struct ledger_access;  // ledger_json.hpp restores the fields

  static constexpr std::uint32_t saturating_increment(std::uint32_t n) noexcept {
    return n == UINT32_MAX ? n : n + 1;
  }
  static std::string format_time(time_point t) { return format_rfc3339(t); }

  std::string unit_;
  std::uint32_t consecutive_ = 0;
  std::array<std::uint32_t, failure_class_count> by_class_{};
  std::optional<outcome_kind> last_kind_;
  std::optional<time_point> last_at_;
  std::string last_reason_;
  std::optional<time_point> next_attempt_;
  std::optional<time_point> last_success_;
  bool needs_person_ = false;
  std::string action_;
  std::uint32_t replaces_5xx_ = 0;
};

}  // namespace certretry
