// certretry/backoff/policy.hpp — one decision every machine shares: after n attempts, how long
// to wait next, or whether to stop.
//
// It composes a schedule, a jitter, the run's limits (hard deadline, attempt cap, minimum
// delay) and the Retry-After policy. The deadline is never overshot: the last wait is cut to the
// time left (certctl: polls at 0, 5, 20, 65, 200, 500 and 600 s), and when less than the minimum
// delay is left the run stops instead of sending a near-duplicate poll.
#pragma once

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace certretry {

/// The bounds of one run: its deadline, attempt cap and the shortest wait.
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct limits {
  /// Hard cap on the whole run, from its first request (certctl's PollMaxWait, default 10 min).
  duration max_wait = 10min;
  /// Attempts (poll rounds: a request plus any follow-up sent at once) at most; 0 = no cap.
  std::uint32_t max_attempts = 0;
  /// No wait is ever shorter than this (except one cut to the deadline), whatever the schedule,
  /// jitter or server says (a Retry-After of 0 included). validate() refuses less than
  /// lowest_min_delay, so no input produces a tight loop: one machine sends at most 10 requests
  /// a second, plus the follow-ups a protocol sends at once (docs/limits.md).
  duration min_delay = 1s;
  /// Lets min_delay go below lowest_min_delay (down to 1 ms): for simulations whose time is
  /// scaled, never against a real server.
  bool allow_fast_polling = false;

  /// The least min_delay validate() allows, unless allow_fast_polling.
  static constexpr duration lowest_min_delay = 100ms;

  /// min_delay as applied: never below 1 ms, never below lowest_min_delay unless
  /// allow_fast_polling.
  constexpr duration effective_min_delay() const noexcept {
    return std::max(min_delay, duration{1});
  }

  /// Empty when the limits are in range; otherwise the field and why.
  constexpr invalid_value check() const noexcept {
    if (max_wait < duration::zero()) return {"limits.max_wait", "must not be negative"};
    if (!allow_fast_polling && min_delay < lowest_min_delay)
      return {"limits.min_delay",
              "must be at least 100 ms: a shorter floor lets a zero schedule or a Retry-After of "
              "0 poll a server more than 10 times a second (set allow_fast_polling only for a "
              "simulation in scaled time)"};
    if (effective_min_delay() > max_wait)
      return {"limits.min_delay",
              "is longer than limits.max_wait: the run could never wait, only send once"};
    return {};
  }
};

/// What the policy says next: wait (how long, why) or give up (why, and when a retry makes sense).
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct next_step {
  /// Wait or give up.
  enum class kind : std::uint8_t { wait, give_up };
  kind what = kind::give_up;  ///< wait or give up
  duration delay{};           ///< wait: how long. give_up: when a retry makes sense (0: unknown)
  wait_reason why = wait_reason::schedule;  ///< wait
  errc reason = errc::deadline_exceeded;    ///< give_up: deadline_exceeded or attempts_exhausted
  bool hint_beyond_deadline = false;        ///< give_up: the server asked to wait past the deadline

  /// A wait of `d` for reason `w`.
  static constexpr next_step wait_for(duration d, wait_reason w) noexcept {
    return {kind::wait, d, w, errc::deadline_exceeded, false};
  }
  /// Give up with `e`; `retry_in`: when a retry makes sense; `beyond`: the server asked to wait
  /// past the deadline.
  static constexpr next_step stop(errc e, duration retry_in = {}, bool beyond = false) noexcept {
    return {kind::give_up, retry_in, wait_reason::schedule, e, beyond};
  }
  /// True for a wait.
  constexpr bool waits() const noexcept { return what == kind::wait; }
};

namespace detail {
template <class P>
constexpr invalid_value check_part(const P& p) noexcept {
  if constexpr (requires { p.check(); })
    return p.check();
  else
    return {};
}
}  // namespace detail

/// A schedule, a jitter, the run's limits and how Retry-After counts: everything that decides a
/// machine's waits.
///
/// Thread safety: a value copied into each machine; its jitter may keep state (decorrelated
/// jitters), so each machine has its own copy. Share the schedule and limits freely.
template <schedule S, jitter J>
class backoff_policy {
 public:
  /// A policy of schedule `s`, jitter `j`, limits `l` and Retry-After handling `ra`.
  constexpr backoff_policy(S s, J j, limits l = {}, retry_after_policy ra = {}) noexcept
      : schedule_(s), jitter_(j), limits_(l), retry_after_(ra) {}

  /// errc::invalid_policy when a part is out of range (a NaN or negative jitter fraction, a
  /// negative delay, a floor under 100 ms, min_delay past max_wait); `why`, when given, names
  /// the field. Every machine asks it at start and finishes failed, sending nothing.
  result<void> validate(invalid_value* why = nullptr) const noexcept {
    invalid_value bad = detail::check_part(schedule_);
    if (!bad) bad = detail::check_part(jitter_);
    if (!bad) bad = limits_.check();
    if (!bad) bad = retry_after_.check();
    if (!bad) return success();
    if (why) *why = bad;
    return errc::invalid_policy;
  }

  /// attempts_made >= 1: attempts so far. elapsed: time since the first request.
  /// hint: a valid Retry-After delay from the last response, if any.
  template <random_source R>
  constexpr next_step next(std::uint32_t attempts_made, duration elapsed,
                           std::optional<duration> hint, R& rng) noexcept {
    if (limits_.max_attempts != 0 && attempts_made >= limits_.max_attempts)
      return next_step::stop(errc::attempts_exhausted);
    const duration floor = limits_.effective_min_delay();
    // A clock that stepped back makes elapsed negative: saturated, max_wait = max() holds.
    const duration left = saturating_sub(limits_.max_wait, elapsed);
    if (left < floor) return next_step::stop(errc::deadline_exceeded);

    duration d = jitter_.apply(schedule_.delay(attempts_made), attempts_made, rng);
    wait_reason why = wait_reason::schedule;
    std::optional<duration> asked;  // the server's hint as honoured (after floor and ceiling)
    if (hint && retry_after_.mode != retry_after_mode::ignore) {
      asked =
          std::clamp(*hint, retry_after_.floor, std::max(retry_after_.floor, retry_after_.ceiling));
      if (retry_after_.mode == retry_after_mode::hint_replaces || *asked > d) {
        d = *asked;
        why = wait_reason::retry_after;
      }
    }
    d = std::clamp(d, floor, std::max(floor, longest_delay));
    if (d > left) {
      // The server asked us not to come back before the deadline: stop now rather than poll
      // early at the deadline (and tell the caller when to come back). Otherwise cut the wait
      // to the time left, which is then still at least what the server asked.
      // not_before is what the server asked for, not the ceiling-cut wait.
      if (asked && *asked > left)
        return next_step::stop(errc::deadline_exceeded, std::min(std::max(d, *hint), longest_delay),
                               true);
      return next_step::wait_for(left, wait_reason::deadline_clamp);
    }
    return next_step::wait_for(d, why);
  }

  /// Resets the jitter's state for a new run.
  constexpr void reset() noexcept { jitter_.reset(); }

  /// The run's limits.
  constexpr const limits& run_limits() const noexcept { return limits_; }
  /// How Retry-After counts.
  constexpr const retry_after_policy& retry_after() const noexcept { return retry_after_; }
  /// The schedule.
  constexpr const S& sched() const noexcept { return schedule_; }

 private:
  S schedule_;
  J jitter_;
  limits limits_;
  retry_after_policy retry_after_;
};

}  // namespace certretry
