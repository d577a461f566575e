// certretry/budget/token_bucket.hpp — a retry budget as a token bucket: failures (or retries)
// drain it, successes refill it, and retries stop while it is low. Time plays no part: only
// results move the tokens, so a bucket drained by an outage refills as calls succeed again.
//
// Two published rules are presets of one bucket:
//   gRPC retryThrottling (gRPC proposal A6, "Retry throttling"): tokens start at max_tokens
//     (0 < max_tokens <= 1000); each failure takes 1, each success gives token_ratio (three
//     decimals); no retry while tokens <= max_tokens / 2. Retries themselves cost nothing.
//   AWS SDK standard retry quota (AWS SDKs and Tools reference guide, "Retry behavior";
//     aws-sdk-js-v3 middleware-retry constants): 500 tokens; a retry costs 5, a retry after a
//     timeout 10, and is refused when the quota cannot pay; a success without a retry gives 1,
//     a successful retry returns what it cost. Never above the initial 500.
// Tokens are counted in thousandths, as gRPC's ServerRetryThrottleData does, so every step is
// exact integer arithmetic.
//
// Thread safety: one std::atomic; admit() and record() may run on any threads at once. Under a
// race a retry may be admitted on a count another thread is lowering (gRPC's implementation
// has the same window); the count itself is never lost or pushed outside [0, capacity].
#pragma once

#include "certretry/budget/budget.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>

namespace certretry {

/// The parameters of token_bucket_budget, in thousandths of a token; grpc() and aws_standard() are
/// the published presets.
///
/// Thread safety: an immutable value: safe to share between threads.
struct token_bucket_params {
  std::int64_t capacity_milli = 1000'000;  ///< the bucket never holds more
  std::int64_t initial_milli = 1000'000;   ///< tokens at the start
  /// Taken from the bucket when a retry is admitted (AWS: 5, after a timeout 10; gRPC: 0).
  std::int64_t retry_cost_milli = 0;
  /// taken when a retry after a timeout is admitted (AWS: 10)
  std::int64_t timeout_retry_cost_milli = 0;
  /// Taken for every transient failure or timeout (gRPC: 1; AWS: 0).
  std::int64_t failure_cost_milli = 1000;
  /// Given for every success of a request that was not a retry (gRPC: token_ratio; AWS: 1).
  std::int64_t success_reward_milli = 1000;
  /// A successful retry returns its cost instead of the reward (AWS); otherwise it earns the
  /// reward like any success (gRPC).
  bool refund_retry_on_success = false;
  /// A retry is admitted only if, after paying its cost, at least this much is left
  /// (gRPC: just above max_tokens / 2; AWS: 0).
  std::int64_t retry_floor_milli = 500'001;
  on_denial denial = on_denial::finish;  ///< what a withheld retry becomes

  /// gRPC A6: max_tokens an integer in (0, 1000], token_ratio > 0 (precision beyond 0.001 is
  /// dropped, as gRPC does). Tokens start full; a retry needs more than max_tokens / 2.
  static result<token_bucket_params> grpc(std::uint32_t max_tokens, double token_ratio,
                                          on_denial d = on_denial::finish) noexcept {
    if (max_tokens == 0 || max_tokens > 1000 || !(token_ratio > 0.0) || token_ratio > 1e6)
      return errc::invalid_policy;
    const std::int64_t max_milli = std::int64_t{max_tokens} * 1000;
    const auto ratio_milli = static_cast<std::int64_t>(std::floor(token_ratio * 1000.0 + 1e-6));
    if (ratio_milli <= 0) return errc::invalid_policy;
    token_bucket_params p;
    p.capacity_milli = p.initial_milli = max_milli;
    p.retry_cost_milli = p.timeout_retry_cost_milli = 0;
    p.failure_cost_milli = 1000;
    p.success_reward_milli = ratio_milli;
    p.refund_retry_on_success = false;
    p.retry_floor_milli = max_milli / 2 + 1;  // tokens > max_tokens / 2
    p.denial = d;
    return p;
  }

  /// The AWS SDKs' standard retry quota: 500 / 5 / 10 / +1.
  static constexpr token_bucket_params aws_standard(on_denial d = on_denial::finish) noexcept {
    token_bucket_params p;
    p.capacity_milli = p.initial_milli = 500'000;
    p.retry_cost_milli = 5'000;
    p.timeout_retry_cost_milli = 10'000;
    p.failure_cost_milli = 0;
    p.success_reward_milli = 1'000;
    p.refund_retry_on_success = true;
    p.retry_floor_milli = 0;
    p.denial = d;
    return p;
  }

  /// What a retry of kind `k` costs.
  constexpr std::int64_t cost_of(send_kind k) const noexcept {
    if (k == send_kind::retry_after_timeout) return timeout_retry_cost_milli;
    if (k == send_kind::retry) return retry_cost_milli;
    return 0;
  }

  /// True when every field is in range (the budget clamps the others).
  constexpr bool valid() const noexcept {
    return capacity_milli > 0 && initial_milli >= 0 && initial_milli <= capacity_milli &&
           retry_cost_milli >= 0 && timeout_retry_cost_milli >= 0 && failure_cost_milli >= 0 &&
           success_reward_milli >= 0 && retry_floor_milli >= 0;
  }
};

/// A retry budget as a token bucket: failures drain it, successes refill it, retries stop while it
/// is low (gRPC retryThrottling, the AWS SDK retry quota).
///
/// Thread safety: one std::atomic: admit() and record() may run on any threads at once; machines
/// share it through budget_ref. Not copyable.
class token_bucket_budget {
 public:
  /// Parameters that fail valid() are clamped into range: a budget never throws.
  explicit token_bucket_budget(const token_bucket_params& p) noexcept
      : p_(sanitized(p)), milli_(p_.initial_milli) {}
  token_bucket_budget(const token_bucket_budget&) = delete;
  token_bucket_budget& operator=(const token_bucket_budget&) = delete;

  /// First requests and follow-ups always go out; a retry goes out if the bucket can pay for it
  /// and stay at or above the floor.
  template <random_source R>
  admission admit(time_point, send_kind k, R&) noexcept {
    if (!is_retry(k)) return admission::yes();
    const std::int64_t cost = p_.cost_of(k);
    std::int64_t cur = milli_.load(std::memory_order_relaxed);
    for (;;) {
      if (cur - cost < p_.retry_floor_milli) return admission::no(denied_text, p_.denial);
      if (cost == 0 || milli_.compare_exchange_weak(cur, cur - cost, std::memory_order_relaxed))
        return admission::yes();
    }
  }

  /// Takes the failure cost, or gives the success reward (a successful retry's refund).
  void record(time_point, send_kind k, call_result r) noexcept {
    switch (r) {
      case call_result::success:
        add(is_retry(k) && p_.refund_retry_on_success ? p_.cost_of(k) : p_.success_reward_milli);
        break;
      case call_result::failure:
      case call_result::timeout: add(-p_.failure_cost_milli); break;
      case call_result::refused:
      case call_result::abandoned: break;
    }
  }

  /// What a withheld retry becomes.
  on_denial denial() const noexcept { return p_.denial; }

  /// Tokens now, in thousandths (gRPC's milli-tokens).
  std::int64_t milli_tokens() const noexcept { return milli_.load(std::memory_order_relaxed); }
  /// Tokens now.
  double tokens() const noexcept { return static_cast<double>(milli_tokens()) / 1000.0; }
  /// The parameters, as clamped.
  const token_bucket_params& params() const noexcept { return p_; }

  /// The reason a withheld request's event carries.
  static constexpr std::string_view denied_text =
      "retry budget: not enough tokens (too many recent failures)";

 private:
  void add(std::int64_t delta) noexcept {
    if (delta == 0) return;
    std::int64_t cur = milli_.load(std::memory_order_relaxed);
    std::int64_t next;
    do {
      next = std::clamp(cur + delta, std::int64_t{0}, p_.capacity_milli);
    } while (next != cur && !milli_.compare_exchange_weak(cur, next, std::memory_order_relaxed));
  }

  static constexpr token_bucket_params sanitized(token_bucket_params p) noexcept {
    p.capacity_milli = std::max<std::int64_t>(p.capacity_milli, 1);
    p.initial_milli = std::clamp<std::int64_t>(p.initial_milli, 0, p.capacity_milli);
    p.retry_cost_milli = std::max<std::int64_t>(p.retry_cost_milli, 0);
    p.timeout_retry_cost_milli = std::max<std::int64_t>(p.timeout_retry_cost_milli, 0);
    p.failure_cost_milli = std::max<std::int64_t>(p.failure_cost_milli, 0);
    p.success_reward_milli = std::max<std::int64_t>(p.success_reward_milli, 0);
    p.retry_floor_milli = std::max<std::int64_t>(p.retry_floor_milli, 0);
    return p;
  }

  token_bucket_params p_;
  std::atomic<std::int64_t> milli_;
};
static_assert(retry_budget<token_bucket_budget>);

}  // namespace certretry
