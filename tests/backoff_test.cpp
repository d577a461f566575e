// Schedules, jitters and backoff_policy. Expected values come from docs/sources.md (certctl's
// poller, the ACME clients' polling, the overload references) and the AWS backoff article's
// formulas (docs/sources.md#aws-backoff-jitter).
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using duration = certretry::duration;

constexpr std::uint32_t u32_max = std::numeric_limits<std::uint32_t>::max();

// gtest test names allow only [A-Za-z0-9_].
std::string test_name(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '-' ? '_' : c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Schedules

struct step_case {
  std::uint32_t n;
  duration expected;
};

void PrintTo(const step_case& c, std::ostream* os) {
  *os << "n=" << c.n << " -> " << c.expected.count() << "ms";
}

std::string step_name(const ::testing::TestParamInfo<step_case>& p) {
  return "n" + std::to_string(p.param.n);
}

// certctl's code (docs/sources.md#certctl-asyncpoll): 5 s, x3, capped at 5 min: 5 s, 15 s, 45 s,
// 2 min 15 s, 5 min ...
class CertctlSchedule : public ::testing::TestWithParam<step_case> {};
TEST_P(CertctlSchedule, Delay) {
  EXPECT_EQ(schedules::certctl.delay(GetParam().n), GetParam().expected);
}
INSTANTIATE_TEST_SUITE_P(Code, CertctlSchedule,
                         ::testing::Values(step_case{1, 5s}, step_case{2, 15s}, step_case{3, 45s},
                                           step_case{4, 2min + 15s}, step_case{5, 5min},
                                           step_case{6, 5min}, step_case{7, 5min},
                                           step_case{20, 5min}, step_case{1024, 5min},
                                           step_case{u32_max, 5min}),
                         step_name);

// certctl's operator reference (docs/sources.md#certctl-async-polling-doc): 5 s, 15 s, 45 s,
// 2 min, then 5 min.
class CertctlDocumentedSchedule : public ::testing::TestWithParam<step_case> {};
TEST_P(CertctlDocumentedSchedule, Delay) {
  EXPECT_EQ(schedules::certctl_documented.delay(GetParam().n), GetParam().expected);
}
INSTANTIATE_TEST_SUITE_P(Documented, CertctlDocumentedSchedule,
                         ::testing::Values(step_case{1, 5s}, step_case{2, 15s}, step_case{3, 45s},
                                           step_case{4, 2min}, step_case{5, 5min},
                                           step_case{6, 5min}, step_case{7, 5min},
                                           step_case{1'000'000, 5min}, step_case{u32_max, 5min}),
                         step_name);

TEST(CertctlSchedules, CodeAndDocumentDifferOnlyAtTheFourthWait) {
  for (std::uint32_t n = 1; n <= 10; ++n) {
    if (n == 4) {
      EXPECT_NE(schedules::certctl.delay(n), schedules::certctl_documented.delay(n));
    } else {
      EXPECT_EQ(schedules::certctl.delay(n), schedules::certctl_documented.delay(n)) << n;
    }
  }
}

// VCert polls TPP's retrieve every 2 s, no backoff (docs/sources.md#vcert).
class VcertSchedule : public ::testing::TestWithParam<std::uint32_t> {};
TEST_P(VcertSchedule, AlwaysTwoSeconds) { EXPECT_EQ(schedules::vcert.delay(GetParam()), 2s); }
INSTANTIATE_TEST_SUITE_P(Fixed, VcertSchedule,
                         ::testing::Values(0u, 1u, 2u, 3u, 30u, 1024u, 1'000'000u, u32_max));

TEST(FixedSchedules, ClientsFromFacts) {
  // certbot 1 s, acme.sh 2 s, acmez 250 ms (docs/sources.md#certbot, #acme-sh, #acmez).
  EXPECT_EQ(schedules::certbot.delay(1), 1s);
  EXPECT_EQ(schedules::certbot.delay(50), 1s);
  EXPECT_EQ(schedules::acme_sh.delay(1), 2s);
  EXPECT_EQ(schedules::acme_sh.delay(50), 2s);
  EXPECT_EQ(schedules::acmez.delay(1), 250ms);
  EXPECT_EQ(schedules::acmez.delay(50), 250ms);
}

// lego: 5 s x1.5 up to 500 s (docs/sources.md#lego). Expected: 5000 ms * 1.5^(n-1), capped.
class LegoSchedule : public ::testing::TestWithParam<std::uint32_t> {};
TEST_P(LegoSchedule, FollowsFormula) {
  const std::uint32_t n = GetParam();
  const double ms = std::min(5000.0 * std::pow(1.5, static_cast<double>(n - 1)), 500000.0);
  const auto got = schedules::lego.delay(n).count();
  EXPECT_NEAR(static_cast<double>(got), ms, 1.0) << "n=" << n;
}
INSTANTIATE_TEST_SUITE_P(Steps, LegoSchedule, ::testing::Range(1u, 20u));

TEST(LegoSchedule, ExactEarlyStepsAndCap) {
  EXPECT_EQ(schedules::lego.delay(1), 5s);
  EXPECT_EQ(schedules::lego.delay(2), 7500ms);
  EXPECT_EQ(schedules::lego.delay(3), 11250ms);
  EXPECT_EQ(schedules::lego.delay(4), 16875ms);
  // 5 * 1.5^12 = 649.7 s > 500 s: capped from the 13th on.
  EXPECT_LT(schedules::lego.delay(12), 500s);
  EXPECT_EQ(schedules::lego.delay(13), 500s);
  EXPECT_EQ(schedules::lego.delay(1024), 500s);
}

class ExponentialSchedule : public ::testing::TestWithParam<step_case> {};
TEST_P(ExponentialSchedule, DoublesUpToCap) {
  constexpr auto s = exponential_schedule(1s, 1min);
  EXPECT_EQ(s.delay(GetParam().n), GetParam().expected);
}
INSTANTIATE_TEST_SUITE_P(OneSecondToOneMinute, ExponentialSchedule,
                         ::testing::Values(step_case{1, 1s}, step_case{2, 2s}, step_case{3, 4s},
                                           step_case{4, 8s}, step_case{5, 16s}, step_case{6, 32s},
                                           step_case{7, 1min}, step_case{8, 1min},
                                           step_case{64, 1min}),
                         step_name);

TEST(ExponentialSchedule, IsGeometricWithFactorTwo) {
  constexpr auto s = exponential_schedule(250ms, 10s);
  EXPECT_EQ(s.base, 250ms);
  EXPECT_EQ(s.factor, 2.0);
  EXPECT_EQ(s.cap, 10s);
}

TEST(GeometricSchedule, AttemptZeroReadsAsFirst) {
  EXPECT_EQ(schedules::certctl.delay(0), 5s);
  EXPECT_EQ(exponential_schedule(1s, 1min).delay(0), 1s);
}

// Polly's exponential backoff overflowed at attempt >= 1024 (docs/sources.md#polly-2164): every
// growing schedule must sit at its cap for any later attempt.
struct overflow_case {
  const char* name;
  geometric_schedule s;
};

class ScheduleOverflow : public ::testing::TestWithParam<std::tuple<overflow_case, std::uint32_t>> {
};

TEST_P(ScheduleOverflow, LargeAttemptIsTheCap) {
  const auto& [c, n] = GetParam();
  EXPECT_EQ(c.s.delay(n), c.s.cap) << c.name << " n=" << n;
}

INSTANTIATE_TEST_SUITE_P(
    Caps, ScheduleOverflow,
    ::testing::Combine(
        ::testing::Values(overflow_case{"certctl", schedules::certctl},
                          overflow_case{"lego", schedules::lego},
                          overflow_case{"exp_1ms_1h", exponential_schedule(1ms, 1h)},
                          overflow_case{"exp_1s_max", exponential_schedule(1s, duration::max())},
                          overflow_case{"slow_growth", geometric_schedule{1ms, 1.1, 1h}}),
        ::testing::Values(1024u, 1025u, 1'000'000u, u32_max)),
    [](const auto& p) {
      return std::string(std::get<0>(p.param).name) + "_n" + std::to_string(std::get<1>(p.param));
    });

TEST(GeometricSchedule, HugeCapNeverGoesNegative) {
  // With an effectively unbounded cap the delay must saturate, not wrap.
  const geometric_schedule s{1s, 10.0, duration::max()};
  duration prev = s.delay(1);
  for (std::uint32_t n = 2; n < 400; ++n) {
    const duration d = s.delay(n);
    ASSERT_GE(d, prev) << n;
    ASSERT_GT(d.count(), 0) << n;
    prev = d;
  }
}

TEST(GeometricSchedule, FactorAtMostOneKeepsBase) {
  for (double f : {1.0, 0.5, 0.0, -2.0, std::nan("")}) {
    const geometric_schedule s{5s, f, 5min};
    for (std::uint32_t n : {1u, 2u, 10u, 1024u, u32_max}) EXPECT_EQ(s.delay(n), 5s) << f;
  }
}

TEST(GeometricSchedule, BaseAtOrAboveCapIsTheCap) {
  const geometric_schedule equal{5min, 3.0, 5min};
  const geometric_schedule above{10min, 3.0, 5min};
  for (std::uint32_t n : {0u, 1u, 2u, 1024u, u32_max}) {
    EXPECT_EQ(equal.delay(n), 5min);
    EXPECT_EQ(above.delay(n), 5min);
  }
}

TEST(GeometricSchedule, IsConstexpr) {
  static_assert(schedules::certctl.delay(4) == std::chrono::seconds{135});
  static_assert(schedules::certctl.delay(5) == std::chrono::minutes{5});
  static_assert(schedule<geometric_schedule> && schedule<fixed_schedule> &&
                schedule<table_schedule> && schedule<any_schedule>);
  SUCCEED();
}

TEST(TableSchedule, EmptyIsZero) {
  const table_schedule empty{};
  EXPECT_EQ(empty.size(), 0u);
  for (std::uint32_t n : {0u, 1u, 2u, u32_max}) EXPECT_EQ(empty.delay(n), duration::zero());
}

TEST(TableSchedule, AttemptZeroIsFirstEntry) {
  const table_schedule t{1s, 2s, 3s};
  EXPECT_EQ(t.delay(0), 1s);
  EXPECT_EQ(t.delay(1), 1s);
  EXPECT_EQ(t.delay(3), 3s);
  EXPECT_EQ(t.delay(4), 3s);  // the last entry repeats
  EXPECT_EQ(t.delay(u32_max), 3s);
}

TEST(TableSchedule, KeepsAtMostMaxSteps) {
  const table_schedule t{1ms,  2ms,  3ms,  4ms,  5ms,  6ms,  7ms,  8ms,  9ms,
                         10ms, 11ms, 12ms, 13ms, 14ms, 15ms, 16ms, 17ms, 18ms};
  EXPECT_EQ(t.size(), table_schedule::max_steps);
  EXPECT_EQ(t.delay(16), 16ms);
  EXPECT_EQ(t.delay(17), 16ms);
}

// named_schedule must return the very schedule of the same name.
struct named_case {
  std::string_view name;
  any_schedule expected;
};

class NamedSchedule : public ::testing::TestWithParam<std::string_view> {};

TEST_P(NamedSchedule, MatchesTheConstant) {
  const std::string_view name = GetParam();
  const auto got = named_schedule(name);
  ASSERT_TRUE(got.has_value()) << name;
  const named_case table[] = {
      {"certctl", schedules::certctl},   {"certctl-documented", schedules::certctl_documented},
      {"vcert", schedules::vcert},       {"lego", schedules::lego},
      {"certbot", schedules::certbot},   {"acme-sh", schedules::acme_sh},
      {"acmez", schedules::acmez},       {"acme", schedules::acme},
      {"async-ca", schedules::async_ca},
  };
  const auto it = std::find_if(std::begin(table), std::end(table),
                               [&](const named_case& c) { return c.name == name; });
  ASSERT_NE(it, std::end(table)) << "schedule_names lists an unexpected name: " << name;
  for (std::uint32_t n : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 13u, 1024u, u32_max})
    EXPECT_EQ(got->delay(n), it->expected.delay(n)) << name << " n=" << n;
}

INSTANTIATE_TEST_SUITE_P(AllNames, NamedSchedule, ::testing::ValuesIn(schedule_names),
                         [](const auto& p) { return test_name(p.param); });

TEST(NamedSchedule, ListsAllNineNames) { EXPECT_EQ(std::size(schedule_names), 9u); }

// The tuner's recommendation for an ACME order (docs/tuning.md; tune_test checks they agree).
TEST(NamedSchedule, AcmeIsTheTunedTable) {
  EXPECT_EQ(schedules::acme.delay(1), 2900ms);
  EXPECT_EQ(schedules::acme.delay(2), 2100ms);
  EXPECT_EQ(schedules::acme.delay(3), 2300ms);
  EXPECT_EQ(schedules::acme.delay(12), 4s);
  EXPECT_EQ(schedules::acme.delay(16), 4800ms);
  EXPECT_EQ(schedules::acme.delay(100), 4800ms);
}

TEST(NamedSchedule, CertctlNamesAreTheTwoSequences) {
  EXPECT_EQ(named_schedule("certctl")->delay(4), 2min + 15s);
  EXPECT_EQ(named_schedule("certctl-documented")->delay(4), 2min);
}

TEST(NamedSchedule, UnknownNameIsNothing) {
  for (std::string_view bad : {"", "CERTCTL", "certctl_documented", "acme.sh", "acme_sh", "Lego",
                               "certctl ", "exponential", "polly"})
    EXPECT_FALSE(named_schedule(bad).has_value()) << '"' << bad << '"';
}

// ---------------------------------------------------------------------------------------------
// Jitter

constexpr int draws = 10000;
constexpr duration certctl_bases[] = {5s, 15s, 45s, 2min + 15s, 5min};

class ProportionalJitter : public ::testing::TestWithParam<duration> {};

TEST_P(ProportionalJitter, TwentyPercentStaysWithinBounds) {
  // certctl: each wait x (1 + U[-0.2, 0.2]) (docs/sources.md#certctl-asyncpoll).
  const duration base = GetParam();
  const double b = static_cast<double>(base.count());
  proportional_jitter j{0.2};
  splitmix64 rng{42};
  double sum = 0.0;
  duration lo = duration::max(), hi = duration::min();
  for (int i = 0; i < draws; ++i) {
    const duration d = j.apply(base, 1, rng);
    ASSERT_GE(static_cast<double>(d.count()), 0.8 * b);
    ASSERT_LE(static_cast<double>(d.count()), 1.2 * b);
    sum += static_cast<double>(d.count());
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // It does spread: close to both ends, and centred on the base (sd of the mean ~0.12 % of b).
  EXPECT_LT(static_cast<double>(lo.count()), 0.81 * b);
  EXPECT_GT(static_cast<double>(hi.count()), 1.19 * b);
  EXPECT_NEAR(sum / draws, b, 0.01 * b);
}

INSTANTIATE_TEST_SUITE_P(CertctlBases, ProportionalJitter, ::testing::ValuesIn(certctl_bases),
                         [](const auto& p) { return std::to_string(p.param.count()) + "ms"; });

TEST(ProportionalJitter, ZeroFractionIsIdentity) {
  proportional_jitter j{0.0};
  splitmix64 rng{1};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(j.apply(45s, 3, rng), 45s);
}

TEST(ProportionalJitter, FractionOutsideZeroOneIsClamped) {
  splitmix64 rng{5};
  proportional_jitter wide{3.0};       // read as 1.0: [0, 2 x base]
  proportional_jitter negative{-0.5};  // read as 0
  for (int i = 0; i < draws; ++i) {
    const duration d = wide.apply(10s, 1, rng);
    ASSERT_GE(d, 0s);
    ASSERT_LE(d, 20s);
    ASSERT_EQ(negative.apply(10s, 1, rng), 10s);
  }
}

TEST(ProportionalJitter, NotAllEqual) {
  proportional_jitter j{0.2};
  splitmix64 rng{9};
  const duration first = j.apply(5s, 1, rng);
  bool differs = false;
  for (int i = 0; i < 100 && !differs; ++i) differs = j.apply(5s, 1, rng) != first;
  EXPECT_TRUE(differs);
}

class FullJitter : public ::testing::TestWithParam<duration> {};
TEST_P(FullJitter, WithinZeroAndBase) {
  // AWS full jitter: U[0, base].
  const duration base = GetParam();
  full_jitter j;
  splitmix64 rng{11};
  double sum = 0.0;
  for (int i = 0; i < draws; ++i) {
    const duration d = j.apply(base, static_cast<std::uint32_t>(i + 1), rng);
    ASSERT_GE(d, 0ms);
    ASSERT_LE(d, base);
    sum += static_cast<double>(d.count());
  }
  const double b = static_cast<double>(base.count());
  EXPECT_NEAR(sum / draws, b / 2, 0.02 * b);
}
INSTANTIATE_TEST_SUITE_P(CertctlBases, FullJitter, ::testing::ValuesIn(certctl_bases),
                         [](const auto& p) { return std::to_string(p.param.count()) + "ms"; });

class EqualJitter : public ::testing::TestWithParam<duration> {};
TEST_P(EqualJitter, WithinHalfBaseAndBase) {
  // AWS equal jitter: base/2 + U[0, base/2].
  const duration base = GetParam();
  equal_jitter j;
  splitmix64 rng{13};
  double sum = 0.0;
  for (int i = 0; i < draws; ++i) {
    const duration d = j.apply(base, 1, rng);
    ASSERT_GE(d * 2, base);
    ASSERT_LE(d, base);
    sum += static_cast<double>(d.count());
  }
  const double b = static_cast<double>(base.count());
  EXPECT_NEAR(sum / draws, 0.75 * b, 0.02 * b);
}
INSTANTIATE_TEST_SUITE_P(CertctlBases, EqualJitter, ::testing::ValuesIn(certctl_bases),
                         [](const auto& p) { return std::to_string(p.param.count()) + "ms"; });

TEST(DecorrelatedJitter, WithinBaseAndThreeTimesPrevious) {
  // AWS decorrelated jitter: sleep = min(cap, U[base, 3 x previous sleep]).
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    decorrelated_jitter j{5min};
    splitmix64 rng{seed};
    duration prev = 5s;  // the first "previous sleep" is the base
    for (std::uint32_t n = 1; n <= 50; ++n) {
      const duration d = j.apply(schedules::certctl.delay(n), n, rng);
      ASSERT_GE(d, 5s) << "seed " << seed << " n " << n;
      ASSERT_LE(d, std::min<duration>(5min, 3 * prev)) << "seed " << seed << " n " << n;
      prev = d;
    }
  }
}

TEST(DecorrelatedJitter, NeverAboveSmallCap) {
  decorrelated_jitter j{20s};
  splitmix64 rng{3};
  bool reached_cap = false;
  for (std::uint32_t n = 1; n <= draws; ++n) {
    const duration d = j.apply(5s, n, rng);
    ASSERT_LE(d, 20s);
    ASSERT_GE(d, 5s);
    reached_cap = reached_cap || d == 20s;
  }
  EXPECT_TRUE(reached_cap);
}

TEST(DecorrelatedJitter, LargeAttemptNumbersAreHarmless) {
  decorrelated_jitter j{5min};
  splitmix64 rng{4};
  for (std::uint32_t n : {1024u, 1'000'000u, u32_max}) {
    const duration d = j.apply(5s, n, rng);
    EXPECT_GE(d, 5s);
    EXPECT_LE(d, 5min);
  }
}

TEST(DecorrelatedJitter, ResetRestartsFromTheNewBase) {
  decorrelated_jitter j{5min};
  splitmix64 rng{8};
  for (std::uint32_t n = 1; n <= 20; ++n) j.apply(45s, n, rng);
  j.reset();
  // After reset the first apply sets the base again: [1 s, 3 s], not >= 45 s.
  const duration d = j.apply(1s, 1, rng);
  EXPECT_GE(d, 1s);
  EXPECT_LE(d, 3s);
}

TEST(DecorrelatedJitterV2, NeverNegativeNeverAboveCap) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    decorrelated_jitter_v2 j{5min};
    splitmix64 rng{seed};
    for (std::uint32_t n = 1; n <= 100; ++n) {
      const duration d = j.apply(5s, n, rng);
      ASSERT_GE(d, 0ms) << "seed " << seed << " n " << n;
      ASSERT_LE(d, 5min) << "seed " << seed << " n " << n;
    }
  }
}

TEST(DecorrelatedJitterV2, GrowsToTheCap) {
  decorrelated_jitter_v2 j{5min};
  splitmix64 rng{17};
  duration last{};
  for (std::uint32_t n = 1; n <= 64; ++n) last = j.apply(1s, n, rng);
  EXPECT_EQ(last, 5min);
}

class DecorrelatedJitterV2Large : public ::testing::TestWithParam<std::uint32_t> {};
TEST_P(DecorrelatedJitterV2Large, NoOverflowOrNaN) {
  // Polly computed 2^t unbounded and overflowed at attempt 1024 (docs/sources.md#polly-2164).
  const std::uint32_t n = GetParam();
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    decorrelated_jitter_v2 fresh{5min};
    splitmix64 rng{seed};
    const duration d = fresh.apply(5s, n, rng);
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, 5min);
    EXPECT_EQ(d, 5min) << "2^" << n << " is far beyond any cap";
    // And it stays sane on the following attempts.
    for (std::uint32_t k = 1; k <= 3 && n + k > n; ++k) {
      const duration next = fresh.apply(5s, n + k, rng);
      EXPECT_GE(next, 0ms);
      EXPECT_LE(next, 5min);
    }
  }
}
INSTANTIATE_TEST_SUITE_P(Attempts, DecorrelatedJitterV2Large,
                         ::testing::Values(1023u, 1024u, 1025u, 1'000'000u, u32_max));

TEST(DecorrelatedJitterV2, AfterTheCapEarlyAttemptsAreStillBounded) {
  decorrelated_jitter_v2 j{5min};
  splitmix64 rng{2};
  EXPECT_EQ(j.apply(5s, 1024, rng), 5min);
  for (std::uint32_t n = 1; n <= 5; ++n) {
    const duration d = j.apply(5s, n, rng);
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, 5min);
  }
}

TEST(DecorrelatedJitterV2, ResetRestartsFromTheBeginning) {
  decorrelated_jitter_v2 j{5min};
  splitmix64 rng{6};
  ASSERT_EQ(j.apply(5s, 1024, rng), 5min);
  j.reset();
  // The first delay of a fresh run: t < 1, 2^t x tanh(sqrt(4t)) < 2, x 5 s / 1.4 < 7.2 s.
  const duration d = j.apply(5s, 1, rng);
  EXPECT_LT(d, 8s);
}

// Same seed, same transcript: every jitter kind, via any_jitter.
std::vector<duration> draw_sequence(any_jitter j, std::uint64_t seed) {
  splitmix64 rng{seed};
  std::vector<duration> out;
  for (std::uint32_t n = 1; n <= 40; ++n)
    out.push_back(j.apply(schedules::certctl.delay(n), n, rng));
  return out;
}

constexpr std::string_view jitter_names[] = {"none",  "pct",          "full",
                                             "equal", "decorrelated", "decorrelated-v2"};

any_jitter direct_jitter(std::string_view name) {
  if (name == "pct") return proportional_jitter{0.2};
  if (name == "full") return full_jitter{};
  if (name == "equal") return equal_jitter{};
  if (name == "decorrelated") return decorrelated_jitter{5min};
  if (name == "decorrelated-v2") return decorrelated_jitter_v2{5min};
  return no_jitter{};
}

class NamedJitter : public ::testing::TestWithParam<std::string_view> {};

TEST_P(NamedJitter, BehavesLikeTheKindOfThatName) {
  const auto named = named_jitter(GetParam(), 0.2, 5min);
  ASSERT_TRUE(named.has_value()) << GetParam();
  EXPECT_EQ(draw_sequence(*named, 77), draw_sequence(direct_jitter(GetParam()), 77));
}

TEST_P(NamedJitter, SameSeedSameSequence) {
  const auto named = named_jitter(GetParam(), 0.2, 5min);
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(draw_sequence(*named, 5), draw_sequence(*named, 5));
  if (GetParam() != "none") {
    EXPECT_NE(draw_sequence(*named, 5), draw_sequence(*named, 6)) << GetParam();
  }
}

// Covers the stateful kinds (decorrelated, decorrelated-v2): reset forgets base and history.
TEST_P(NamedJitter, ResetReplays) {
  auto j = *named_jitter(GetParam(), 0.2, 5min);
  splitmix64 a{123};
  std::vector<duration> first, second;
  for (std::uint32_t n = 1; n <= 20; ++n) first.push_back(j.apply(schedules::lego.delay(n), n, a));
  j.reset();
  splitmix64 b{123};
  for (std::uint32_t n = 1; n <= 20; ++n) second.push_back(j.apply(schedules::lego.delay(n), n, b));
  EXPECT_EQ(first, second);
}

INSTANTIATE_TEST_SUITE_P(AllNames, NamedJitter, ::testing::ValuesIn(jitter_names),
                         [](const auto& p) { return test_name(p.param); });

TEST(NamedJitter, NoneIsIdentity) {
  auto j = *named_jitter("none", 0.2, 5min);
  splitmix64 rng{1};
  for (std::uint32_t n = 1; n <= 10; ++n)
    EXPECT_EQ(j.apply(schedules::certctl.delay(n), n, rng), schedules::certctl.delay(n));
}

TEST(NamedJitter, FractionAndCapAreUsed) {
  auto pct = *named_jitter("pct", 0.5, 5min);
  auto dec = *named_jitter("decorrelated", 0.2, 7s);
  auto dec2 = *named_jitter("decorrelated-v2", 0.2, 7s);
  splitmix64 rng{10};
  bool beyond_twenty_percent = false;
  for (std::uint32_t n = 1; n <= 1000; ++n) {
    const duration p = pct.apply(10s, n, rng);
    ASSERT_GE(p, 5s);
    ASSERT_LE(p, 15s);
    beyond_twenty_percent = beyond_twenty_percent || p < 8s || p > 12s;
    ASSERT_LE(dec.apply(5s, n, rng), 7s);
    ASSERT_LE(dec2.apply(5s, n, rng), 7s);
  }
  EXPECT_TRUE(beyond_twenty_percent);
}

TEST(NamedJitter, UnknownNameIsNothing) {
  for (std::string_view bad : {"", "NONE", "Pct", "percent", "proportional", "decorrelated_v2",
                               "decorrelatedv2", "full ", "jitter"})
    EXPECT_FALSE(named_jitter(bad, 0.2, 5min).has_value()) << '"' << bad << '"';
}

TEST(AnyJitter, DefaultIsNoJitter) {
  any_jitter j;
  splitmix64 rng{1};
  EXPECT_EQ(j.apply(45s, 3, rng), 45s);
}

TEST(Jitter, KindsModelTheConcept) {
  static_assert(jitter<no_jitter> && jitter<proportional_jitter> && jitter<full_jitter> &&
                jitter<equal_jitter> && jitter<decorrelated_jitter> &&
                jitter<decorrelated_jitter_v2> && jitter<any_jitter>);
  SUCCEED();
}

// ---------------------------------------------------------------------------------------------
// backoff_policy

struct run_trace {
  std::vector<duration> polls;  // elapsed time at each poll
  std::vector<next_step> waits;
  next_step end;
};

// Polls at elapsed 0, then follows every wait until the policy gives up.
template <class Policy>
run_trace simulate(Policy& p, std::uint64_t seed, std::optional<duration> hint = std::nullopt) {
  splitmix64 rng{seed};
  run_trace t;
  duration elapsed{};
  for (std::uint32_t attempts = 1; attempts < 10000; ++attempts) {
    t.polls.push_back(elapsed);
    const next_step s = p.next(attempts, elapsed, hint, rng);
    if (!s.waits()) {
      t.end = s;
      return t;
    }
    t.waits.push_back(s);
    elapsed += s.delay;
  }
  ADD_FAILURE() << "policy never gave up";
  return t;
}

TEST(BackoffPolicy, CertctlWithoutJitterPollsSevenTimesInTenMinutes) {
  // certctl (docs/sources.md#certctl-asyncpoll): polls at 0, 5, 20, 65, 200, 500, 600 s, then
  // StillPending.
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s}};
  const run_trace t = simulate(p, 1);
  const std::vector<duration> expected{0s, 5s, 20s, 65s, 200s, 500s, 600s};
  EXPECT_EQ(t.polls, expected);
  ASSERT_EQ(t.waits.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(t.waits[i].why, wait_reason::schedule) << i;
  // 500 s + 5 min would pass the deadline: the last wait is cut to the 100 s left.
  EXPECT_EQ(t.waits[5].why, wait_reason::deadline_clamp);
  EXPECT_EQ(t.waits[5].delay, 100s);
  EXPECT_FALSE(t.end.waits());
  EXPECT_EQ(t.end.what, next_step::kind::give_up);
  EXPECT_EQ(t.end.reason, errc::deadline_exceeded);
  EXPECT_FALSE(t.end.hint_beyond_deadline);
}

TEST(BackoffPolicy, CertctlDocumentedWithoutJitter) {
  // 5, 15, 45, 120, 300 s: polls at 0, 5, 20, 65, 185, 485, then clamped to 600.
  backoff_policy p{schedules::certctl_documented, no_jitter{}, limits{600s}};
  const run_trace t = simulate(p, 1);
  const std::vector<duration> expected{0s, 5s, 20s, 65s, 185s, 485s, 600s};
  EXPECT_EQ(t.polls, expected);
  EXPECT_EQ(t.end.reason, errc::deadline_exceeded);
}

TEST(BackoffPolicy, CertctlWithTwentyPercentJitterStaysBounded) {
  // certctl's operator reference (docs/sources.md#certctl-async-polling-doc): "at most 7-8
  // attempts" in PollMaxWait; the deadline is never passed.
  int seen_seven = 0;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    backoff_policy p{schedules::certctl, proportional_jitter{0.2}, limits{600s}};
    const run_trace t = simulate(p, seed);
    ASSERT_GE(t.polls.size(), 6u) << "seed " << seed;
    ASSERT_LE(t.polls.size(), 8u) << "seed " << seed;
    ASSERT_LE(t.polls.back(), 600s) << "seed " << seed;
    EXPECT_EQ(t.end.reason, errc::deadline_exceeded);
    for (std::size_t i = 0; i < t.waits.size(); ++i) {
      const duration base = schedules::certctl.delay(static_cast<std::uint32_t>(i + 1));
      if (t.waits[i].why == wait_reason::schedule) {
        ASSERT_GE(t.waits[i].delay * 5, base * 4) << "seed " << seed;  // >= 0.8 x base
        ASSERT_LE(t.waits[i].delay * 5, base * 6) << "seed " << seed;  // <= 1.2 x base
      }
    }
    seen_seven += t.polls.size() == 7;
  }
  EXPECT_GT(seen_seven, 0);
}

TEST(BackoffPolicy, JitteredRunsDiffer) {
  backoff_policy p1{schedules::certctl, proportional_jitter{0.2}, limits{600s}};
  backoff_policy p2{schedules::certctl, proportional_jitter{0.2}, limits{600s}};
  backoff_policy p3{schedules::certctl, proportional_jitter{0.2}, limits{600s}};
  const auto a = simulate(p1, 1), b = simulate(p2, 1), c = simulate(p3, 2);
  EXPECT_EQ(a.polls, b.polls);  // same seed, same run
  EXPECT_NE(a.polls, c.polls);
}

TEST(BackoffPolicy, AttemptCapGivesUp) {
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s, 3}};
  const run_trace t = simulate(p, 1);
  EXPECT_EQ(t.polls.size(), 3u);
  EXPECT_EQ(t.end.what, next_step::kind::give_up);
  EXPECT_EQ(t.end.reason, errc::attempts_exhausted);
}

TEST(BackoffPolicy, AttemptCapWinsOverTimeLeft) {
  backoff_policy p{schedules::vcert, no_jitter{}, limits{60s, 1}};
  splitmix64 rng{1};
  const next_step s = p.next(1, 0s, std::nullopt, rng);
  EXPECT_FALSE(s.waits());
  EXPECT_EQ(s.reason, errc::attempts_exhausted);
}

TEST(BackoffPolicy, ZeroAttemptCapMeansNoCap) {
  // VCert-like: every 2 s for 60 s = 31 polls (0, 2, ..., 60).
  backoff_policy p{schedules::vcert, no_jitter{}, limits{60s, 0}};
  const run_trace t = simulate(p, 1);
  EXPECT_EQ(t.polls.size(), 31u);
  EXPECT_EQ(t.polls.back(), 60s);
  EXPECT_EQ(t.end.reason, errc::deadline_exceeded);
}

TEST(BackoffPolicy, ZeroScheduleStillWaitsTheMinimum) {
  // No input may produce a tight loop: the default min_delay is 1 s.
  backoff_policy p{fixed_schedule{0ms}, no_jitter{}, limits{600s}};
  splitmix64 rng{1};
  for (std::uint32_t n = 1; n <= 5; ++n) {
    const next_step s = p.next(n, std::chrono::seconds{n}, std::nullopt, rng);
    ASSERT_TRUE(s.waits());
    EXPECT_GE(s.delay, 1s);
  }
}

TEST(BackoffPolicy, FullJitterNearZeroIsRaisedToTheMinimum) {
  backoff_policy p{schedules::certctl, full_jitter{}, limits{600s, 0, 2s}};
  splitmix64 rng{4};
  for (int i = 0; i < 2000; ++i) {
    const next_step s = p.next(1, 0s, std::nullopt, rng);
    ASSERT_TRUE(s.waits());
    ASSERT_GE(s.delay, 2s);
    ASSERT_LE(s.delay, 5s);
  }
}

TEST(BackoffPolicy, MinDelayBelowOneMillisecondIsOneMillisecond) {
  for (duration m : {0ms, -5ms, duration::min()}) {
    const limits l{600s, 0, m};
    EXPECT_EQ(l.effective_min_delay(), 1ms);
    backoff_policy p{fixed_schedule{0ms}, no_jitter{}, l};
    splitmix64 rng{1};
    const next_step s = p.next(1, 0s, std::nullopt, rng);
    ASSERT_TRUE(s.waits());
    EXPECT_EQ(s.delay, 1ms);
  }
  EXPECT_EQ((limits{600s, 0, 250ms}.effective_min_delay()), 250ms);
}

TEST(BackoffPolicy, StopsWhenLessThanTheMinimumIsLeft) {
  // A poll just before the deadline would be a near-duplicate: stop instead.
  backoff_policy p{schedules::certctl, no_jitter{}, limits{10s, 0, 2s}};
  splitmix64 rng{1};
  const next_step stop = p.next(2, 8500ms, std::nullopt, rng);
  EXPECT_FALSE(stop.waits());
  EXPECT_EQ(stop.reason, errc::deadline_exceeded);

  // Exactly the minimum left: one last wait, cut to the deadline.
  const next_step last = p.next(2, 8s, std::nullopt, rng);
  ASSERT_TRUE(last.waits());
  EXPECT_EQ(last.delay, 2s);
  EXPECT_EQ(last.why, wait_reason::deadline_clamp);

  // Past the deadline: stop.
  const next_step late = p.next(2, 11s, std::nullopt, rng);
  EXPECT_FALSE(late.waits());
  EXPECT_EQ(late.reason, errc::deadline_exceeded);
}

TEST(BackoffPolicy, ExposesItsConfiguration) {
  const retry_after_policy ra{retry_after_mode::hint_replaces, 30min, 2s};
  const backoff_policy p{schedules::lego, no_jitter{}, limits{1h, 9, 3s}, ra};
  EXPECT_EQ(p.run_limits().max_wait, 1h);
  EXPECT_EQ(p.run_limits().max_attempts, 9u);
  EXPECT_EQ(p.run_limits().min_delay, 3s);
  EXPECT_EQ(p.retry_after().mode, retry_after_mode::hint_replaces);
  EXPECT_EQ(p.retry_after().ceiling, 30min);
  EXPECT_EQ(p.retry_after().floor, 2s);
  EXPECT_EQ(p.sched().delay(2), 7500ms);
}

TEST(BackoffPolicy, LimitsDefaultsMatchCertctl) {
  // certctl's PollMaxWait default is 10 min (docs/sources.md#certctl-async-polling-doc).
  const limits l{};
  EXPECT_EQ(l.max_wait, 10min);
  EXPECT_EQ(l.max_attempts, 0u);
  EXPECT_EQ(l.min_delay, 1s);
}

// Retry-After (RFC 9110 §10.2.3) combined with the schedule.

next_step first_step(retry_after_policy ra, std::optional<duration> hint, limits l = limits{600s}) {
  backoff_policy p{schedules::certctl, no_jitter{}, l, ra};
  splitmix64 rng{1};
  return p.next(1, 0s, hint, rng);  // scheduled: 5 s
}

TEST(BackoffPolicyRetryAfter, NoHintFollowsSchedule) {
  const next_step s = first_step({}, std::nullopt);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 5s);
  EXPECT_EQ(s.why, wait_reason::schedule);
}

TEST(BackoffPolicyRetryAfter, LongerHintWins) {
  const next_step s = first_step({}, 30s);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 30s);
  EXPECT_EQ(s.why, wait_reason::retry_after);
}

TEST(BackoffPolicyRetryAfter, ShorterHintKeepsSchedule) {
  // Boulder's 3 s on processing orders is below certctl's 5 s: the schedule stands.
  const next_step s = first_step({}, 3s);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 5s);
  EXPECT_EQ(s.why, wait_reason::schedule);
}

TEST(BackoffPolicyRetryAfter, EqualHintKeepsSchedule) {
  const next_step s = first_step({}, 5s);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 5s);
  EXPECT_EQ(s.why, wait_reason::schedule);
}

TEST(BackoffPolicyRetryAfter, CeilingClampsHugeHint) {
  const limits day{24h};
  for (duration hint :
       {std::chrono::duration_cast<duration>(10h),
        std::chrono::duration_cast<duration>(std::chrono::hours{24 * 365}), duration::max()}) {
    const next_step s = first_step({}, hint, day);
    ASSERT_TRUE(s.waits()) << hint.count();
    EXPECT_EQ(s.delay, 1h);  // the default ceiling
    EXPECT_EQ(s.why, wait_reason::retry_after);
  }
  const next_step custom = first_step({retry_after_mode::at_least_schedule, 10min, 0ms}, 2h, day);
  ASSERT_TRUE(custom.waits());
  EXPECT_EQ(custom.delay, 10min);
}

TEST(BackoffPolicyRetryAfter, FloorRaisesSmallHint) {
  const next_step s = first_step({retry_after_mode::at_least_schedule, 1h, 20s}, 1s);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 20s);
  EXPECT_EQ(s.why, wait_reason::retry_after);
}

TEST(BackoffPolicyRetryAfter, HintReplacesUsesShorterHint) {
  const next_step s = first_step({retry_after_mode::hint_replaces}, 3s);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 3s);
  EXPECT_EQ(s.why, wait_reason::retry_after);
}

TEST(BackoffPolicyRetryAfter, HintReplacesStillRespectsMinDelay) {
  // Retry-After: 0 must not make a tight loop.
  const next_step s = first_step({retry_after_mode::hint_replaces}, 0s);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 1s);
}

TEST(BackoffPolicyRetryAfter, IgnoreModeNeverReadsTheHint) {
  // certctl never reads Retry-After (docs/sources.md#certctl-asyncpoll).
  for (duration hint : {duration{0s}, duration{3s}, duration{30s}, duration{10h}}) {
    const next_step s = first_step({retry_after_mode::ignore}, hint);
    ASSERT_TRUE(s.waits());
    EXPECT_EQ(s.delay, 5s);
    EXPECT_EQ(s.why, wait_reason::schedule);
  }
}

TEST(BackoffPolicyRetryAfter, HintBeyondDeadlineGivesUpWithTheHint) {
  // 590 s elapsed, 10 s left, the server asks for 60 s: stop now, never poll before it asked.
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s}};
  splitmix64 rng{1};
  const next_step s = p.next(1, 590s, 60s, rng);
  EXPECT_FALSE(s.waits());
  EXPECT_EQ(s.reason, errc::deadline_exceeded);
  EXPECT_TRUE(s.hint_beyond_deadline);
  EXPECT_EQ(s.delay, 60s);
}

TEST(BackoffPolicyRetryAfter, HintBeyondDeadlineInReplaceMode) {
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s},
                   retry_after_policy{retry_after_mode::hint_replaces}};
  splitmix64 rng{1};
  const next_step s = p.next(1, 590s, 11s, rng);
  EXPECT_FALSE(s.waits());
  EXPECT_TRUE(s.hint_beyond_deadline);
  EXPECT_EQ(s.delay, 11s);
}

// The ceiling bounds how long a machine waits, not when the server said to come back: the
// caller re-enqueues no earlier than the server asked (RFC 9110 §10.2.3).
TEST(BackoffPolicyRetryAfter, HintBeyondDeadlineReportsWhatTheServerAsked) {
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s}};
  splitmix64 rng{1};
  const next_step s = p.next(1, 0s, std::chrono::duration_cast<duration>(5h), rng);
  EXPECT_FALSE(s.waits());
  EXPECT_TRUE(s.hint_beyond_deadline);
  EXPECT_EQ(s.delay, 5h);
}

TEST(BackoffPolicyRetryAfter, HintExactlyTheTimeLeftWaits) {
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s}};
  splitmix64 rng{1};
  const next_step s = p.next(1, 540s, 60s, rng);
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 60s);
  EXPECT_EQ(s.why, wait_reason::retry_after);
}

TEST(BackoffPolicyRetryAfter, ScheduleBeyondDeadlineIsClampedNotAbandoned) {
  // Only a server hint makes the run stop early; the schedule's own delay is cut instead.
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s}};
  splitmix64 rng{1};
  const next_step s = p.next(6, 590s, 2s, rng);  // scheduled 5 min, hint 2 s, 10 s left
  ASSERT_TRUE(s.waits());
  EXPECT_EQ(s.delay, 10s);
  EXPECT_EQ(s.why, wait_reason::deadline_clamp);
}

TEST(BackoffPolicyRetryAfter, SteadyHintDrivesTheWholeRun) {
  // ACME-style: the server keeps answering Retry-After: 60 (Boulder's 500s as the model plays
  // them: docs/sources.md#boulder-wfe).
  backoff_policy p{schedules::certctl, no_jitter{}, limits{600s}};
  const run_trace t = simulate(p, 1, 60s);
  // Waits: max(60, 5)=60, max(60,15)=60, 60, max(60,135)=135, 300, ...
  ASSERT_GE(t.polls.size(), 4u);
  EXPECT_EQ(t.polls[1], 60s);
  EXPECT_EQ(t.polls[2], 120s);
  EXPECT_EQ(t.polls[3], 180s);
  EXPECT_EQ(t.waits[0].why, wait_reason::retry_after);
  EXPECT_EQ(t.waits[3].why, wait_reason::schedule);  // 135 s > 60 s
  EXPECT_LE(t.polls.back(), 600s);
}

}  // namespace
