// Overload protection: the retry budgets and adaptive throttling against their published
// parameters (gRPC proposal A6, the AWS SDKs' standard retry quota, the Google SRE book's
// "Handling Overload", Finagle's RetryBudget), sharing across threads, and the poll machine
// with budgets and caller deadlines (docs/budgets.md). budget_machines_test.cpp does the same
// for the TPP and ACME machines.
#include "certretry/budget/budget.hpp"
#include "certretry/budget/adaptive.hpp"
#include "certretry/budget/combine.hpp"
#include "certretry/budget/ratio.hpp"
#include "certretry/budget/token_bucket.hpp"
#include "certretry/core/random.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/poll/machine.hpp"
#include "certretry/testing/scripted.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace certretry;
using duration = certretry::duration;

constexpr time_point t0{};

token_bucket_params grpc(std::uint32_t max_tokens, double ratio) {
  auto p = token_bucket_params::grpc(max_tokens, ratio);
  EXPECT_TRUE(p.has_value());
  return p.value();
}

// A generator whose every draw maps to the same uniform_unit value.
struct fixed_draw {
  using result_type = std::uint64_t;
  std::uint64_t bits53;  // uniform_unit = bits53 / 2^53
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return bits53; }
};
fixed_draw draw_of(double u) { return fixed_draw{static_cast<std::uint64_t>(u * 0x1.0p53)}; }

// A generator that counts how often it is drawn from.
struct counting_rng {
  using result_type = std::uint64_t;
  splitmix64 inner{7};
  int draws = 0;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    ++draws;
    return inner();
  }
};

// ---------------------------------------------------------------------------------------------
// no_budget

TEST(NoBudget, AdmitsEverythingAndIsEmpty) {
  no_budget b;
  splitmix64 rng;
  for (auto k :
       {send_kind::first, send_kind::follow_up, send_kind::retry, send_kind::retry_after_timeout})
    EXPECT_TRUE(b.admit(t0, k, rng).admitted);
  static_assert(std::is_empty_v<no_budget>);
  static_assert(!budget_enabled<no_budget>);
  static_assert(budget_enabled<token_bucket_budget>);
}

// ---------------------------------------------------------------------------------------------
// gRPC retryThrottling (A6)

TEST(GrpcThrottle, ParametersAreValidated) {
  EXPECT_FALSE(token_bucket_params::grpc(0, 0.1).has_value());
  EXPECT_FALSE(token_bucket_params::grpc(1001, 0.1).has_value());
  EXPECT_FALSE(token_bucket_params::grpc(10, 0.0).has_value());
  EXPECT_FALSE(token_bucket_params::grpc(10, -1.0).has_value());
  EXPECT_EQ(token_bucket_params::grpc(10, 0.0001).error(), errc::invalid_policy);  // < 0.001
  ASSERT_TRUE(token_bucket_params::grpc(1000, 0.1).has_value());
  const auto p = token_bucket_params::grpc(10, 0.1234).value();
  EXPECT_EQ(p.capacity_milli, 10'000);
  EXPECT_EQ(p.success_reward_milli, 123);  // three decimals kept, as gRPC does
}

// gRPC's own unit test: max 4, ratio 1.6, threshold 2.
TEST(GrpcThrottle, MatchesGrpcsOwnSequence) {
  token_bucket_budget b{grpc(4, 1.6)};
  splitmix64 rng;
  const auto failure_then_may_retry = [&] {
    b.record(t0, send_kind::first, call_result::failure);
    return b.admit(t0, send_kind::retry, rng).admitted;
  };
  EXPECT_TRUE(failure_then_may_retry());                 // 3
  b.record(t0, send_kind::first, call_result::success);  // 4: never above max
  EXPECT_EQ(b.milli_tokens(), 4000);
  EXPECT_TRUE(failure_then_may_retry());                 // 3
  EXPECT_FALSE(failure_then_may_retry());                // 2: at the threshold, no retry
  EXPECT_FALSE(failure_then_may_retry());                // 1
  b.record(t0, send_kind::first, call_result::success);  // 2.6
  EXPECT_EQ(b.milli_tokens(), 2600);
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);  // 2.6 > 2
  EXPECT_TRUE(failure_then_may_retry() == false);            // 1.6
  b.record(t0, send_kind::first, call_result::success);      // 3.2
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
}

TEST(GrpcThrottle, NoRetryAtOrBelowHalfRecoveryWithSuccesses) {
  token_bucket_budget b{grpc(100, 0.1)};
  splitmix64 rng;
  for (int i = 0; i < 49; ++i) b.record(t0, send_kind::first, call_result::failure);
  EXPECT_EQ(b.tokens(), 51.0);
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);  // 51 > 50
  b.record(t0, send_kind::retry, call_result::failure);
  EXPECT_EQ(b.tokens(), 50.0);
  const admission a = b.admit(t0, send_kind::retry, rng);  // 50 <= 50
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.why, token_bucket_budget::denied_text);
  EXPECT_EQ(a.retry_in, duration::zero());  // time does not refill it
  // First requests and polls are never throttled by a retry budget.
  EXPECT_TRUE(b.admit(t0, send_kind::first, rng).admitted);
  EXPECT_TRUE(b.admit(t0, send_kind::follow_up, rng).admitted);
  // Time alone does not help.
  EXPECT_FALSE(b.admit(t0 + 24h, send_kind::retry, rng).admitted);
  // 0.1 per success: 10 successes lift it by one token, past the threshold.
  for (int i = 0; i < 9; ++i) b.record(t0, send_kind::first, call_result::success);
  EXPECT_EQ(b.milli_tokens(), 50'900);
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
  // Refusals and abandoned calls move nothing.
  b.record(t0, send_kind::first, call_result::refused);
  b.record(t0, send_kind::first, call_result::abandoned);
  EXPECT_EQ(b.milli_tokens(), 50'900);
}

TEST(GrpcThrottle, NeverBelowZeroOrAboveMax) {
  token_bucket_budget b{grpc(3, 5)};
  for (int i = 0; i < 10; ++i) b.record(t0, send_kind::first, call_result::timeout);
  EXPECT_EQ(b.milli_tokens(), 0);
  b.record(t0, send_kind::first, call_result::success);
  EXPECT_EQ(b.milli_tokens(), 3000);
}

TEST(GrpcThrottle, RetriesThemselvesCostNothing) {
  token_bucket_budget b{grpc(10, 1)};
  splitmix64 rng;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
  EXPECT_EQ(b.tokens(), 10.0);
}

// ---------------------------------------------------------------------------------------------
// AWS SDK standard retry quota

TEST(AwsQuota, FiveAndTenAndOne) {
  token_bucket_budget b{token_bucket_params::aws_standard()};
  splitmix64 rng;
  EXPECT_EQ(b.tokens(), 500.0);
  ASSERT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
  EXPECT_EQ(b.tokens(), 495.0);
  ASSERT_TRUE(b.admit(t0, send_kind::retry_after_timeout, rng).admitted);
  EXPECT_EQ(b.tokens(), 485.0);
  // Failures themselves cost nothing: the retry pays.
  b.record(t0, send_kind::first, call_result::failure);
  b.record(t0, send_kind::first, call_result::timeout);
  EXPECT_EQ(b.tokens(), 485.0);
  // A success without a retry gives 1; a successful retry returns its cost.
  b.record(t0, send_kind::first, call_result::success);
  EXPECT_EQ(b.tokens(), 486.0);
  b.record(t0, send_kind::retry_after_timeout, call_result::success);
  EXPECT_EQ(b.tokens(), 496.0);
  b.record(t0, send_kind::retry, call_result::success);
  EXPECT_EQ(b.tokens(), 500.0);  // capped at the initial 500
  b.record(t0, send_kind::follow_up, call_result::success);
  EXPECT_EQ(b.tokens(), 500.0);
}

TEST(AwsQuota, HundredRetriesOrFiftyAfterTimeouts) {
  {
    token_bucket_budget b{token_bucket_params::aws_standard()};
    splitmix64 rng;
    int admitted = 0;
    while (b.admit(t0, send_kind::retry, rng).admitted) ++admitted;
    EXPECT_EQ(admitted, 100);  // 500 / 5
    EXPECT_EQ(b.tokens(), 0.0);
  }
  {
    token_bucket_budget b{token_bucket_params::aws_standard()};
    splitmix64 rng;
    int admitted = 0;
    while (b.admit(t0, send_kind::retry_after_timeout, rng).admitted) ++admitted;
    EXPECT_EQ(admitted, 50);  // 500 / 10
  }
}

TEST(AwsQuota, RefusedWhenItCannotPayThenRecovers) {
  token_bucket_budget b{token_bucket_params::aws_standard()};
  splitmix64 rng;
  for (int i = 0; i < 99; ++i) ASSERT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
  EXPECT_EQ(b.tokens(), 5.0);
  EXPECT_FALSE(b.admit(t0, send_kind::retry_after_timeout, rng).admitted);  // 5 < 10
  EXPECT_EQ(b.tokens(), 5.0);                                // a refused retry takes nothing
  ASSERT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);  // 5 >= 5
  EXPECT_FALSE(b.admit(t0, send_kind::retry, rng).admitted);
  for (int i = 0; i < 4; ++i) b.record(t0, send_kind::first, call_result::success);
  EXPECT_FALSE(b.admit(t0, send_kind::retry, rng).admitted);  // 4
  b.record(t0, send_kind::first, call_result::success);
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);  // 5
}

TEST(TokenBucket, ChosenDenialIsInTheAnswer) {
  splitmix64 rng;
  for (const on_denial d : {on_denial::finish, on_denial::wait}) {
    token_bucket_budget b{token_bucket_params::aws_standard(d)};
    EXPECT_EQ(b.denial(), d);
    while (b.admit(t0, send_kind::retry, rng)) {
    }
    EXPECT_EQ(b.admit(t0, send_kind::retry, rng).then, d);
  }
  EXPECT_EQ(token_bucket_budget{grpc(10, 1)}.denial(), on_denial::finish);
}

// ---------------------------------------------------------------------------------------------
// Ratio budget

TEST(RatioBudget, FinagleFloorTenPerSecond) {
  ratio_budget b{ratio_budget_params::finagle()};
  splitmix64 rng;
  // No requests at all: the floor alone, 10/s over the 10 s window, allows 100 retries.
  int admitted = 0;
  while (b.admit(t0, send_kind::retry, rng).admitted) ++admitted;
  EXPECT_EQ(admitted, 100);
  // Each 5 requests buy one more (20 %).
  for (int i = 0; i < 4; ++i) b.admit(t0, send_kind::first, rng);
  EXPECT_FALSE(b.admit(t0, send_kind::retry, rng).admitted);
  b.admit(t0, send_kind::follow_up, rng);
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
  EXPECT_FALSE(b.admit(t0, send_kind::retry, rng).admitted);
  EXPECT_EQ(b.counts(t0).requests, 5u);
  EXPECT_EQ(b.counts(t0).retries, 101u);
}

TEST(RatioBudget, SreTenPercentNoFloor) {
  ratio_budget b{ratio_budget_params::sre()};
  splitmix64 rng;
  EXPECT_FALSE(b.admit(t0, send_kind::retry, rng).admitted);
  for (int i = 0; i < 9; ++i) b.admit(t0, send_kind::first, rng);
  EXPECT_FALSE(b.admit(t0, send_kind::retry, rng).admitted);  // 1 > 0.9
  b.admit(t0, send_kind::first, rng);
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);  // 1 <= 1.0
  EXPECT_FALSE(b.admit(t0, send_kind::retry_after_timeout, rng).admitted);
  for (int i = 0; i < 10; ++i) b.admit(t0, send_kind::first, rng);
  EXPECT_TRUE(b.admit(t0, send_kind::retry_after_timeout, rng).admitted);  // 2 <= 2.0
}

TEST(RatioBudget, WindowSlides) {
  // 50 % plus one retry per window, a 10 s window in 1 s steps.
  ratio_budget b{
      {.ratio = 0.5, .window = 10s, .min_retries_per_second = 0, .min_retries_per_window = 1}};
  splitmix64 rng;
  for (int i = 0; i < 4; ++i) b.admit(t0, send_kind::first, rng);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.admit(t0 + 1s, send_kind::retry, rng).admitted);
  const admission denied = b.admit(t0 + 2s, send_kind::retry, rng);
  EXPECT_FALSE(denied.admitted);
  // The requests at 0 s leave first, at 10 s, and take their room with them; only when the
  // retries at 1 s have left too (11 s) does the floor admit one: 9 s after 2 s.
  EXPECT_EQ(denied.retry_in, 9s);
  EXPECT_EQ(b.counts(t0 + 9999ms).requests, 4u);
  EXPECT_EQ(b.counts(t0 + 10s).requests, 0u);
  EXPECT_EQ(b.counts(t0 + 10s).retries, 3u);
  EXPECT_FALSE(b.admit(t0 + 10s, send_kind::retry, rng).admitted);
  EXPECT_EQ(b.counts(t0 + 11s).retries, 0u);
  EXPECT_TRUE(b.admit(t0 + 11s, send_kind::retry, rng).admitted);
  // New requests give new room.
  b.admit(t0 + 11s, send_kind::first, rng);
  b.admit(t0 + 11s, send_kind::first, rng);
  EXPECT_TRUE(b.admit(t0 + 11s, send_kind::retry, rng).admitted);  // 2 <= 1 + 1
  EXPECT_FALSE(b.admit(t0 + 11s, send_kind::retry, rng).admitted);
}

TEST(RatioBudget, RetryInWhenOldRetriesLeaveFirst) {
  ratio_budget b{
      {.ratio = 0.5, .window = 10s, .min_retries_per_second = 0, .min_retries_per_window = 1}};
  splitmix64 rng;
  EXPECT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);  // the floor
  b.admit(t0 + 1s, send_kind::first, rng);
  b.admit(t0 + 1s, send_kind::first, rng);
  EXPECT_TRUE(b.admit(t0 + 1s, send_kind::retry, rng).admitted);  // 2 <= 1 + 1
  const admission a = b.admit(t0 + 1s, send_kind::retry, rng);
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.retry_in, 9s);  // the retry at 0 s leaves at 10 s
}

TEST(RatioBudget, RetryInUnknownWhenNoExpiryHelps) {
  ratio_budget b{{.ratio = 0.5, .window = 10s, .min_retries_per_second = 0}};
  splitmix64 rng;
  for (int i = 0; i < 2; ++i) b.admit(t0 + 5s, send_kind::first, rng);
  EXPECT_TRUE(b.admit(t0 + 5s, send_kind::retry, rng).admitted);
  // Requests and retries leave together and no floor remains: only new requests help.
  const admission a = b.admit(t0 + 5s, send_kind::retry, rng);
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.why, ratio_budget::denied_text);
  EXPECT_EQ(a.retry_in, duration::zero());
}

TEST(RatioBudget, MinRetriesPerWindow) {
  ratio_budget b{
      {.ratio = 0.2, .window = 10s, .min_retries_per_second = 0, .min_retries_per_window = 3}};
  splitmix64 rng;
  int admitted = 0;
  while (b.admit(t0, send_kind::retry, rng).admitted) ++admitted;
  EXPECT_EQ(admitted, 3);
}

TEST(RatioBudget, TimeGoingBackwardsCountsInTheNewestStep) {
  ratio_budget b{{.ratio = 1.0, .window = 10s, .min_retries_per_second = 0}};
  splitmix64 rng;
  b.admit(t0 + 20s, send_kind::first, rng);
  b.admit(t0 + 5s, send_kind::first, rng);  // a late report
  EXPECT_EQ(b.counts(t0 + 20s).requests, 2u);
  EXPECT_EQ(b.counts(t0 + 29s).requests, 2u);
  EXPECT_EQ(b.counts(t0 + 30s).requests, 0u);
}

// ---------------------------------------------------------------------------------------------
// Adaptive throttling (SRE book)

TEST(AdaptiveThrottle, FormulaAtKTwo) {
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(0, 0, 2.0), 0.0);
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(10, 0, 2.0), 10.0 / 11.0);
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(10, 4, 2.0), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(10, 5, 2.0), 0.0);
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(10, 9, 2.0), 0.0);
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(100, 25, 2.0), 50.0 / 101.0);
  EXPECT_DOUBLE_EQ(adaptive_throttle::probability(100, 25, 1.0), 75.0 / 101.0);
}

TEST(AdaptiveThrottle, CountsRequestsAndAcceptsOverTheWindow) {
  adaptive_throttle t;  // K = 2, 2 min
  EXPECT_EQ(t.params().k, 2.0);
  EXPECT_EQ(t.params().window, 2min);
  fixed_draw top{(std::uint64_t{1} << 53) - 1};  // never below p < 1: every request admitted
  // Ten requests of which the server accepted four (two successes, two refusals).
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.admit(t0, send_kind::first, top).admitted);
  t.record(t0, send_kind::first, call_result::success);
  t.record(t0, send_kind::first, call_result::success);
  t.record(t0, send_kind::first, call_result::refused);
  t.record(t0, send_kind::first, call_result::refused);
  t.record(t0, send_kind::first, call_result::failure);
  t.record(t0, send_kind::first, call_result::timeout);
  t.record(t0, send_kind::first, call_result::abandoned);
  EXPECT_EQ(t.counts(t0).requests, 10u);
  EXPECT_EQ(t.counts(t0).accepts, 4u);
  EXPECT_DOUBLE_EQ(t.rejection_probability(t0), 2.0 / 11.0);
  // 2 min later all of it has left the window (12 s steps).
  EXPECT_DOUBLE_EQ(t.rejection_probability(t0 + 108s), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(t.rejection_probability(t0 + 2min), 0.0);
}

TEST(AdaptiveThrottle, RejectsExactlyBelowTheProbability) {
  // requests 10, accepts 0: p = 10/11. A draw just below p rejects, one at p admits.
  const double p = 10.0 / 11.0;
  for (const auto& [u, admitted] : {std::pair{p - 1e-9, false}, std::pair{p + 1e-9, true}}) {
    adaptive_throttle t;
    splitmix64 rng;
    for (int i = 0; i < 10; ++i) {
      // p grows with every unanswered request; a generator drawing 1 - 2^-53 admits them all.
      fixed_draw top{(std::uint64_t{1} << 53) - 1};
      ASSERT_TRUE(t.admit(t0, send_kind::first, top).admitted);
    }
    ASSERT_DOUBLE_EQ(t.rejection_probability(t0), p);
    fixed_draw d = draw_of(u);
    const admission a = t.admit(t0, send_kind::follow_up, d);
    EXPECT_EQ(a.admitted, admitted) << u;
    if (!admitted) {
      EXPECT_EQ(a.why, adaptive_throttle::denied_text);
    }
    // A rejected request still counts as requested.
    EXPECT_EQ(t.counts(t0).requests, 11u);
  }
}

TEST(AdaptiveThrottle, NoDrawWhileHealthy) {
  adaptive_throttle t;
  counting_rng rng;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(t.admit(t0, send_kind::first, rng).admitted);
    t.record(t0, send_kind::first, call_result::success);
  }
  EXPECT_EQ(rng.draws, 0);
  // Unhealthy: one draw per request.
  adaptive_throttle sick;
  sick.admit(t0, send_kind::first, rng);  // p = 0 at the first request
  sick.admit(t0, send_kind::first, rng);  // p = 1/2
  EXPECT_EQ(rng.draws, 1);
}

TEST(AdaptiveThrottle, RejectedShareMatchesTheFormula) {
  // Against a server that accepts nothing, requests r rise and p = r/(r+1); with a fixed 1000
  // requests in the window (all at one instant) the share rejected at p = 1000/1001 is about
  // that over many draws from one seed.
  adaptive_throttle t;
  splitmix64 rng{42};
  fixed_draw top{(std::uint64_t{1} << 53) - 1};
  for (int i = 0; i < 1000; ++i) t.admit(t0, send_kind::first, top);
  for (int i = 0; i < 500; ++i) t.record(t0, send_kind::first, call_result::success);
  // p = (1000 - 1000) / 1001 = 0: everything admitted.
  EXPECT_DOUBLE_EQ(t.rejection_probability(t0), 0.0);
  adaptive_throttle half;  // accepts a quarter: p = (r - 2 r/4)/(r+1) ~ 1/2
  for (int i = 0; i < 4000; ++i) half.admit(t0, send_kind::first, top);
  for (int i = 0; i < 1000; ++i) half.record(t0, send_kind::first, call_result::success);
  int rejected = 0;
  const int n = 2000;
  double expected = 0;
  for (int i = 0; i < n; ++i) {
    expected += half.rejection_probability(t0);
    if (!half.admit(t0, send_kind::first, rng).admitted) ++rejected;
  }
  EXPECT_NEAR(rejected, expected, 4 * std::sqrt(expected));
}

// The property the recommended protection rests on (docs/budgets.md, "Which one to use"):
// after a long total outage the throttle reopens by itself once the server accepts again, with
// no success beforehand and no floor. A fleet asking 100 times a second, one throttle: during
// 10 minutes of failures it lets through about one request per window; from the recovery
// every admitted request is accepted, each accept lets about K more through, and the throttle
// is fully open within 12 minutes although the demand never falls (in a fleet it does, as
// certificates arrive, and the throttle opens sooner).
TEST(AdaptiveThrottle, ReopensByItselfWhenTheServerAcceptsAgain) {
  adaptive_throttle t;
  splitmix64 rng{11};
  const auto tick = std::chrono::milliseconds{10};
  int sent_in_outage = 0;
  time_point now = t0;
  for (; now < t0 + 10min; now += tick) {
    if (!t.admit(now, send_kind::first, rng)) continue;
    ++sent_in_outage;
    t.record(now, send_kind::first, call_result::failure);
  }
  EXPECT_GT(t.rejection_probability(now), 0.99);
  // About one per two-minute window once the window is full, a few more while it fills.
  EXPECT_LT(sent_in_outage, 40);
  const time_point recovered = now;
  std::optional<time_point> open_at;
  for (; now < recovered + 20min; now += tick) {
    if (t.admit(now, send_kind::first, rng)) t.record(now, send_kind::first, call_result::success);
    if (!open_at && t.rejection_probability(now) == 0.0) open_at = now;
  }
  ASSERT_TRUE(open_at.has_value());
  EXPECT_GT(*open_at - recovered, 1min);
  EXPECT_LT(*open_at - recovered, 12min);
  EXPECT_EQ(t.rejection_probability(now), 0.0);
}

TEST(AdaptiveThrottle, DefaultDenialWaits) {
  EXPECT_EQ(adaptive_throttle{}.denial(), on_denial::wait);
  adaptive_throttle t{{.denial = on_denial::finish}};
  EXPECT_EQ(t.denial(), on_denial::finish);
  fixed_draw top{(std::uint64_t{1} << 53) - 1};
  for (int i = 0; i < 5; ++i) t.admit(t0, send_kind::first, top);
  fixed_draw zero{0};
  const admission a = t.admit(t0, send_kind::first, zero);
  ASSERT_FALSE(a.admitted);
  EXPECT_EQ(a.then, on_denial::finish);
}

// ---------------------------------------------------------------------------------------------
// Two budgets at once

TEST(AllOf, BothMustAdmit) {
  adaptive_throttle throttle;
  token_bucket_budget quota{token_bucket_params::aws_standard()};
  all_of both{share(throttle), share(quota)};
  static_assert(retry_budget<decltype(both)>);
  fixed_draw top{(std::uint64_t{1} << 53) - 1};
  // The throttle admits (healthy), the quota pays: both count it.
  ASSERT_TRUE(both.admit(t0, send_kind::retry, top).admitted);
  EXPECT_EQ(quota.tokens(), 495.0);
  EXPECT_EQ(throttle.counts(t0).requests, 1u);
  both.record(t0, send_kind::retry, call_result::success);
  EXPECT_EQ(quota.tokens(), 500.0);
  EXPECT_EQ(throttle.counts(t0).accepts, 1u);
  // The throttle refuses: the quota is not asked (and not charged).
  for (int i = 0; i < 10; ++i) both.admit(t0, send_kind::first, top);
  fixed_draw zero{0};
  const admission a = both.admit(t0, send_kind::retry, zero);
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.why, adaptive_throttle::denied_text);
  EXPECT_EQ(a.then, on_denial::wait);
  EXPECT_EQ(quota.tokens(), 500.0);
  // The quota refuses after the throttle admitted: the answer is the quota's.
  token_bucket_budget empty{{.capacity_milli = 1000,
                             .initial_milli = 0,
                             .retry_cost_milli = 5000,
                             .retry_floor_milli = 0}};
  all_of second{no_budget{}, share(empty)};
  const admission b = second.admit(t0, send_kind::retry, zero);
  EXPECT_FALSE(b.admitted);
  EXPECT_EQ(b.why, token_bucket_budget::denied_text);
  EXPECT_EQ(b.then, on_denial::finish);
}

// ---------------------------------------------------------------------------------------------
// Sharing

TEST(Share, HandlesShareOneBudget) {
  token_bucket_budget bucket{token_bucket_params::aws_standard()};
  budget_ref a = share(bucket);
  budget_ref b = a;  // a copy shares too
  splitmix64 rng;
  ASSERT_TRUE(a.admit(t0, send_kind::retry, rng).admitted);
  ASSERT_TRUE(b.admit(t0, send_kind::retry, rng).admitted);
  EXPECT_EQ(bucket.tokens(), 490.0);
  static_assert(retry_budget<budget_ref<token_bucket_budget>>);
  static_assert(retry_budget<budget_ref<ratio_budget>>);
  static_assert(retry_budget<budget_ref<adaptive_throttle>>);
  static_assert(sizeof(budget_ref<ratio_budget>) == sizeof(void*));
}

// Many threads drain and refill one bucket; every token is accounted for (run under TSan by
// the tsan preset).
TEST(Share, TokenBucketUnderThreads) {
  token_bucket_budget bucket{token_bucket_params::aws_standard()};
  constexpr int threads = 8;
  constexpr int rounds = 5000;
  std::atomic<std::int64_t> admitted{0};
  std::atomic<std::int64_t> refunded{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      splitmix64 rng(static_cast<std::uint64_t>(t));
      budget_ref ref = share(bucket);
      for (int i = 0; i < rounds; ++i) {
        if (ref.admit(t0, send_kind::retry, rng).admitted) {
          admitted.fetch_add(1);
          if (i % 3 == 0) {
            ref.record(t0, send_kind::retry, call_result::success);  // refunds 5
            refunded.fetch_add(1);
          }
        }
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(bucket.milli_tokens(), 500'000 - 5'000 * (admitted.load() - refunded.load()));
  EXPECT_GE(admitted.load() - refunded.load(), 90);  // it drained to near empty
  EXPECT_GE(bucket.milli_tokens(), 0);
}

TEST(Share, GrpcBucketUnderThreadsStaysInRange) {
  token_bucket_budget bucket{grpc(1000, 0.5)};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      splitmix64 rng(static_cast<std::uint64_t>(t));
      for (int i = 0; i < 4000; ++i) {
        bucket.record(t0, send_kind::first,
                      i % 4 == 0 ? call_result::success : call_result::failure);
        (void)bucket.admit(t0, send_kind::retry, rng);
      }
    });
  for (auto& th : pool) th.join();
  // 8 x 4000 records: 8000 successes (+0.5 each) and 24000 failures (-1 each) from 1000:
  // clamped at 0 on the way down, so at least 0 and at most 4000 left.
  EXPECT_GE(bucket.milli_tokens(), 0);
  EXPECT_LE(bucket.milli_tokens(), 1000'000);
}

TEST(Share, RatioAndAdaptiveUnderThreads) {
  ratio_budget ratio{ratio_budget_params::finagle()};
  adaptive_throttle throttle;
  std::atomic<std::uint64_t> retries{0};
  std::vector<std::thread> pool;
  constexpr int threads = 8;
  constexpr int rounds = 2000;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      splitmix64 rng(static_cast<std::uint64_t>(t) + 100);
      for (int i = 0; i < rounds; ++i) {
        const time_point now = t0 + duration{i};  // all inside one 1 s step of the window
        ratio.admit(now, send_kind::first, rng);
        if (ratio.admit(now, send_kind::retry, rng).admitted) retries.fetch_add(1);
        if (throttle.admit(now, send_kind::first, rng).admitted)
          throttle.record(now, send_kind::first,
                          i % 2 ? call_result::success : call_result::failure);
      }
    });
  for (auto& th : pool) th.join();
  const auto c = ratio.counts(t0 + 2s);
  EXPECT_EQ(c.requests, std::uint64_t{threads} * rounds);
  EXPECT_EQ(c.retries, retries.load());
  // 20 % of 16000 plus the floor of 100: never more, whatever the interleaving.
  EXPECT_LE(c.retries, 16000u * 2 / 10 + 100);
  EXPECT_EQ(throttle.counts(t0 + 2s).requests, std::uint64_t{threads} * rounds);
}

// ---------------------------------------------------------------------------------------------
// The poll machine with a budget

// A CA's order endpoint: 200 issued (the body is the certificate), 202 pending, 408/429/5xx
// transient, any other status permanent.
struct order_triage {
  request_view next_request() const { return {"GET", "/order/1", {}, {}}; }
  triage_result classify(const response_view& r) const {
    if (r.status == 200) return {verdict::done, "issued", r.body, false};
    if (r.status == 202) return {verdict::pending, "pending", {}, false};
    if (r.status == 408 || r.status == 429 || r.status >= 500)
      return {verdict::transient, "server error", {}, false};
    return {verdict::permanent, "refused", {}, false};
  }
  void reset() {}
};

struct step {
  event_kind kind;
  time_point at;
  duration delay{};
  wait_reason wait_why{};
  outcome_kind outcome{};
  std::string why;
  bool operator==(const step&) const = default;
};
struct step_sink {
  std::vector<step>* log;
  void operator()(const event& e) const {
    log->push_back({e.kind, e.at, e.delay, e.wait_why, e.outcome, std::string(e.why)});
  }
};
std::vector<time_point> times_of(const std::vector<step>& log, event_kind k) {
  std::vector<time_point> out;
  for (const auto& e : log)
    if (e.kind == k) out.push_back(e.at);
  return out;
}
const step* first_of(const std::vector<step>& log, event_kind k) {
  for (const auto& e : log)
    if (e.kind == k) return &e;
  return nullptr;
}

backoff_policy<fixed_schedule, no_jitter> every(duration d, duration max_wait = 10min) {
  return {fixed_schedule{d}, no_jitter{}, limits{.max_wait = max_wait}};
}

template <class Budget, class Rng = splitmix64>
using poller = poll_machine<order_triage, fixed_schedule, no_jitter, Rng, step_sink, Budget>;

struct world {
  virtual_clock clock{t0};
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  std::vector<step> log;
  step_sink sink() { return {&log}; }
  void order(std::vector<scripted_reply> replies) {
    server.script("GET /order/1", std::move(replies));
  }
  template <class M>
  outcome go(M& m) {
    return run(m, server, clock, sleeper);
  }
};

scripted_reply status(int code, duration latency = {}) {
  return scripted_reply::respond(code, code == 200 ? "CERT" : "", {}, latency);
}

TEST(PollWithBudget, GrpcBucketStopsRetriesForEveryMachineSharingIt) {
  token_bucket_budget bucket{grpc(10, 0.1)};
  world a;
  a.order({status(503)});
  poller<budget_ref<token_bucket_budget>> first{order_triage{}, every(1s), splitmix64{1}, a.sink(),
                                                share(bucket)};
  const outcome out = a.go(first);
  // Failures take 10 -> 5; the sixth request would be a retry at 5 <= 10/2.
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, errc::budget_exhausted);
  EXPECT_EQ(out.sends, 5u);
  EXPECT_FALSE(out.not_before.has_value());  // a token bucket cannot tell when
  EXPECT_EQ(bucket.tokens(), 5.0);
  ASSERT_NE(first_of(a.log, event_kind::budget_denied), nullptr);
  EXPECT_EQ(first_of(a.log, event_kind::budget_denied)->why, token_bucket_budget::denied_text);
  EXPECT_EQ(first_of(a.log, event_kind::budget_denied)->at, t0 + 5s);  // after the 4 s reply's wait
  // A second machine on the same upstream: its first request goes out (first requests are not
  // retries), its retry does not.
  world b;
  b.order({status(503)});
  poller<budget_ref<token_bucket_budget>> second{order_triage{}, every(1s), splitmix64{2}, b.sink(),
                                                 share(bucket)};
  const outcome out2 = b.go(second);
  EXPECT_EQ(out2.sends, 1u);
  EXPECT_EQ(out2.error, errc::budget_exhausted);
  EXPECT_EQ(bucket.tokens(), 4.0);
}

TEST(PollWithBudget, PollsAfterPendingAreNotRetries) {
  token_bucket_budget quota{token_bucket_params::aws_standard()};
  world w;
  w.order({status(202), status(202), status(202), status(503), status(503), status(200)});
  poller<budget_ref<token_bucket_budget>> m{order_triage{}, every(1s), splitmix64{1}, w.sink(),
                                            share(quota)};
  const outcome out = w.go(m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.sends, 6u);
  // Polls after 202 cost nothing (and their successes find the bucket full); two retries cost
  // 5 each and the one that succeeded returned its 5.
  EXPECT_EQ(quota.tokens(), 495.0);
}

TEST(PollWithBudget, AfterATimeoutARetryCostsTen) {
  token_bucket_budget quota{token_bucket_params::aws_standard()};
  world w;
  w.order({scripted_reply::fail(errc::transport_timeout),
           scripted_reply::fail(errc::transport_timeout), status(503), status(400)});
  poller<budget_ref<token_bucket_budget>> m{order_triage{}, every(1s), splitmix64{1}, w.sink(),
                                            share(quota)};
  const outcome out = w.go(m);
  EXPECT_EQ(out.kind, outcome_kind::failed);
  EXPECT_EQ(out.sends, 4u);
  EXPECT_EQ(quota.tokens(), 500.0 - 10 - 10 - 5);  // a refusal refunds nothing
}

TEST(PollWithBudget, RatioBudgetWaitsThenSendsTheSameRequest) {
  // No share of requests, one retry per 10 s window; a withheld retry waits.
  ratio_budget ratio{{.ratio = 0.0,
                      .window = 10s,
                      .min_retries_per_second = 0,
                      .min_retries_per_window = 1,
                      .denial = on_denial::wait}};
  world w;
  w.order({status(503), status(503), status(200)});
  poller<budget_ref<ratio_budget>> m{order_triage{}, every(1s), splitmix64{1}, w.sink(),
                                     share(ratio)};
  const outcome out = w.go(m);
  EXPECT_EQ(out.kind, outcome_kind::issued);
  EXPECT_EQ(out.sends, 3u);
  // 0 s first, 1 s the one retry the window allows, 2 s withheld: the retry at 1 s leaves the
  // window at 11 s, so the machine waits 9 s (reason budget) and retries then.
  EXPECT_EQ(times_of(w.log, event_kind::send), (std::vector<time_point>{t0, t0 + 1s, t0 + 11s}));
  const step* denied = first_of(w.log, event_kind::budget_denied);
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->at, t0 + 2s);
  bool budget_wait = false;
  for (const auto& e : w.log)
    if (e.kind == event_kind::wait && e.wait_why == wait_reason::budget) {
      budget_wait = true;
      EXPECT_EQ(e.at, t0 + 2s);
      EXPECT_EQ(e.delay, 9s);
    }
  EXPECT_TRUE(budget_wait);
}

TEST(PollWithBudget, RatioBudgetFinishSaysWhenToComeBack) {
  ratio_budget ratio{
      {.ratio = 0.0, .window = 10s, .min_retries_per_second = 0, .min_retries_per_window = 1}};
  world w;
  w.order({status(503)});
  poller<budget_ref<ratio_budget>> m{order_triage{}, every(1s), splitmix64{1}, w.sink(),
                                     share(ratio)};
  const outcome out = w.go(m);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, errc::budget_exhausted);
  EXPECT_EQ(out.sends, 2u);
  ASSERT_TRUE(out.not_before.has_value());
  EXPECT_EQ(*out.not_before, t0 + 11s);
  EXPECT_NE(out.reason.find("after 2 requests"), std::string::npos) << out.reason;
}

TEST(PollWithBudget, AdaptiveThrottleRejectingEverythingSendsNothing) {
  adaptive_throttle throttle;  // waits when it rejects
  fixed_draw top{(std::uint64_t{1} << 53) - 1};
  for (int i = 0; i < 10; ++i) throttle.admit(t0, send_kind::first, top);  // none accepted
  world w;
  w.order({status(200)});
  // The machine's own generator draws 0: below any p > 0.
  poller<budget_ref<adaptive_throttle>, fixed_draw> m{order_triage{}, every(5s, 20s), fixed_draw{0},
                                                      w.sink(), share(throttle)};
  const outcome out = w.go(m);
  EXPECT_EQ(out.sends, 0u);
  EXPECT_TRUE(w.server.sent().empty());
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, errc::deadline_exceeded);
  // Rejected at 0, 5, 10, 15 and 20 s, each followed by a budget wait but the last.
  EXPECT_EQ(times_of(w.log, event_kind::budget_denied),
            (std::vector<time_point>{t0, t0 + 5s, t0 + 10s, t0 + 15s, t0 + 20s}));
  for (const auto& e : w.log) {
    if (e.kind == event_kind::wait) {
      EXPECT_EQ(e.wait_why, wait_reason::budget);
    }
  }
  EXPECT_EQ(throttle.counts(t0 + 20s).requests, 15u);  // rejected requests count
}

TEST(PollWithBudget, AHealthyThrottleLeavesTheTranscriptAlone) {
  // With jitter drawing from the same generator: no draw is taken while p = 0, so the waits
  // are the same with and without the throttle.
  const auto transcript = [](auto budget) {
    world w;
    w.order({status(202), status(202), status(503), status(202), status(200)});
    poll_machine<order_triage, fixed_schedule, proportional_jitter, splitmix64, step_sink,
                 decltype(budget)>
        m{order_triage{},
          {fixed_schedule{5s}, proportional_jitter{0.2}, limits{}},
          splitmix64{99},
          w.sink(),
          budget};
    const outcome out = w.go(m);
    EXPECT_EQ(out.kind, outcome_kind::issued);
    return w.log;
  };
  adaptive_throttle throttle;
  const auto with = transcript(share(throttle));
  const auto without = transcript(no_budget{});
  EXPECT_EQ(with, without);
  EXPECT_EQ(throttle.counts(t0 + 1min).requests, 5u);
  EXPECT_EQ(throttle.counts(t0 + 1min).accepts, 4u);  // the 503 was not an accept
}

// A budget that admits everything and writes down what it was asked and told.
struct spy_budget {
  struct call {
    bool admit;
    send_kind kind;
    call_result result;
    bool operator==(const call&) const = default;
  };
  std::vector<call>* calls;
  template <random_source R>
  admission admit(time_point, send_kind k, R&) {
    calls->push_back({true, k, call_result::success});
    return admission::yes();
  }
  void record(time_point, send_kind k, call_result r) { calls->push_back({false, k, r}); }
};
static_assert(retry_budget<spy_budget>);

TEST(PollWithBudget, EachRequestIsAskedForAndRecordedOnce) {
  std::vector<spy_budget::call> calls;
  world w;
  w.order({status(202), status(503), scripted_reply::fail(errc::transport_timeout),
           scripted_reply::fail(errc::connection_refused), status(200)});
  poller<spy_budget> m{order_triage{}, every(1s), splitmix64{1}, w.sink(), spy_budget{&calls}};
  EXPECT_EQ(w.go(m).kind, outcome_kind::issued);
  using c = spy_budget::call;
  const auto ok = call_result::success;
  EXPECT_EQ(calls, (std::vector<c>{
                       {true, send_kind::first, ok},
                       {false, send_kind::first, call_result::success},  // 202
                       {true, send_kind::follow_up, ok},
                       {false, send_kind::follow_up, call_result::failure},  // 503
                       {true, send_kind::retry, ok},
                       {false, send_kind::retry, call_result::timeout},
                       {true, send_kind::retry_after_timeout, ok},
                       {false, send_kind::retry_after_timeout, call_result::failure},  // refused
                       {true, send_kind::retry, ok},
                       {false, send_kind::retry, call_result::success},  // 200
                   }));
}

TEST(PollWithBudget, CancelWhileARequestIsOutRecordsItAbandoned) {
  std::vector<spy_budget::call> calls;
  std::vector<step> log;
  poller<spy_budget> m{order_triage{}, every(1s), splitmix64{1}, step_sink{&log},
                       spy_budget{&calls}};
  ASSERT_TRUE(std::holds_alternative<send>(m.start(t0)));
  ASSERT_TRUE(std::holds_alternative<finish>(m.cancel(t0 + 1s)));
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].result, call_result::abandoned);
  EXPECT_EQ(calls[1].kind, send_kind::first);
}

// Machines on several threads, one bucket: every retry is paid for and every refund returned,
// whatever the interleaving (run under ThreadSanitizer by the tsan preset).
TEST(PollWithBudget, MachinesOnThreadsShareOneBucket) {
  token_bucket_budget quota{token_bucket_params::aws_standard()};
  constexpr int threads = 8;
  constexpr int machines_per_thread = 10;
  std::atomic<int> issued{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < machines_per_thread; ++i) {
        world w;
        w.order({status(503), status(503), status(200)});
        poller<budget_ref<token_bucket_budget>> m{
            order_triage{}, every(1s), splitmix64(static_cast<std::uint64_t>(t * 100 + i)),
            step_sink{&w.log}, share(quota)};
        if (w.go(m).kind == outcome_kind::issued) issued.fetch_add(1);
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(issued.load(), threads * machines_per_thread);
  // Each machine: two retries (10), the second refunded (5): 5 net, 80 machines: 400.
  EXPECT_EQ(quota.tokens(), 100.0);
}

// ---------------------------------------------------------------------------------------------
// Caller deadlines with the poll machine

TEST(CallerDeadline, NoRequestAtOrAfterItAndNoNotBefore) {
  world w;
  w.order({status(503, 1s)});
  poller<no_budget> m{order_triage{}, every(2s), splitmix64{1}, w.sink()};
  m.set_caller_deadline(t0 + 6s);
  const outcome out = w.go(m);
  // Sent at 0 s (answered at 1 s), 3 s (answered at 4 s); the next would be at 6 s.
  EXPECT_EQ(times_of(w.log, event_kind::send), (std::vector<time_point>{t0, t0 + 3s}));
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(out.error, errc::caller_deadline_passed);
  EXPECT_FALSE(out.not_before.has_value());
  EXPECT_EQ(out.sends, 2u);
  EXPECT_EQ(w.clock.now(), t0 + 4s);  // it ends at once instead of waiting for nothing
}

TEST(CallerDeadline, RunPassesItToTheMachine) {
  world w;
  w.order({status(503, 1s)});
  poller<no_budget> m{order_triage{}, every(2s), splitmix64{1}, w.sink()};
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0 + 6s);
  EXPECT_EQ(m.caller_deadline(), t0 + 6s);
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(out.error, errc::caller_deadline_passed);
  EXPECT_EQ(out.sends, 2u);
  for (const auto& r : times_of(w.log, event_kind::send)) EXPECT_LT(r, t0 + 6s);
}

TEST(CallerDeadline, AlreadyPassedSendsNothing) {
  world w;
  w.order({status(200)});
  poller<no_budget> m{order_triage{}, every(2s), splitmix64{1}, w.sink()};
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0);
  EXPECT_EQ(out.sends, 0u);
  EXPECT_TRUE(w.server.sent().empty());
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(out.error, errc::caller_deadline_passed);
}

TEST(CallerDeadline, ARetryAfterReachingItEndsTheRunAtOnce) {
  world w;
  w.order({scripted_reply::respond(503, "", {{"Retry-After", "10"}})});
  poller<no_budget> m{order_triage{}, every(2s), splitmix64{1}, w.sink()};
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0 + 6s);
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_FALSE(out.not_before.has_value());  // not "come back in 10 s": nobody is waiting
  EXPECT_EQ(out.sends, 1u);
  EXPECT_EQ(w.clock.now(), t0);
}

TEST(CallerDeadline, TheMachinesOwnLimitsStillEndStillPending) {
  world w;
  w.order({status(202)});
  poller<no_budget> m{order_triage{}, every(2s, 5s), splitmix64{1}, w.sink()};
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0 + 1h);
  EXPECT_EQ(out.kind, outcome_kind::still_pending);
  EXPECT_EQ(out.error, errc::deadline_exceeded);
}

TEST(CallerDeadline, AReplyArrivingAfterItIsStillRead) {
  world w;
  w.order({status(200, 10s)});
  poller<no_budget> m{order_triage{}, every(2s), splitmix64{1}, w.sink()};
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0 + 6s);
  EXPECT_EQ(out.kind, outcome_kind::issued);  // nothing more is sent; the bytes are handed over
  EXPECT_EQ(out.certificate, "CERT");
}

TEST(CallerDeadline, ABudgetWaitReachingItIsNotTaken) {
  ratio_budget ratio{{.ratio = 0.0,
                      .window = 10s,
                      .min_retries_per_second = 0,
                      .min_retries_per_window = 1,
                      .denial = on_denial::wait}};
  world w;
  w.order({status(503)});
  poller<budget_ref<ratio_budget>> m{order_triage{}, every(1s), splitmix64{1}, w.sink(),
                                     share(ratio)};
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0 + 6s);
  // 0 s, 1 s; at 2 s the budget asks for 9 s, past the caller's 6 s.
  EXPECT_EQ(out.kind, outcome_kind::cancelled);
  EXPECT_EQ(out.error, errc::caller_deadline_passed);
  EXPECT_EQ(out.sends, 2u);
  EXPECT_NE(first_of(w.log, event_kind::budget_denied), nullptr);
}

// A machine that knows nothing of caller deadlines: run() cuts its sleep and cancels it.
struct plain_machine {
  int sends = 0;
  bool done = false;
  action start(time_point) { return again(); }
  action on_response(time_point, const response_view&) { return pause(); }
  action on_transport_error(time_point, std::error_code) { return pause(); }
  action on_wait_elapsed(time_point) { return again(); }
  action cancel(time_point) {
    done = true;
    return finish{outcome_kind::cancelled};
  }
  outcome take_outcome() {
    outcome o;
    o.kind = outcome_kind::cancelled;
    o.sends = static_cast<std::uint32_t>(sends);
    return o;
  }
  static action pause() { return certretry::wait{5s, wait_reason::schedule}; }
  action again() {
    ++sends;
    return send{{"GET", "/order/1", {}, {}}};
  }
};
static_assert(machine<plain_machine>);

TEST(CallerDeadline, RunCancelsAMachineThatCannotBeTold) {
  world w;
  w.order({status(503)});
  plain_machine m;
  const outcome out = run(m, w.server, w.clock, w.sleeper, t0 + 12s);
  EXPECT_TRUE(m.done);
  EXPECT_EQ(out.sends, 3u);            // 0, 5, 10 s
  EXPECT_EQ(w.clock.now(), t0 + 12s);  // the last sleep cut at the deadline
  EXPECT_EQ(w.server.sent().size(), 3u);
}

}  // namespace
