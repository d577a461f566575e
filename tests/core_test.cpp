// Core vocabulary: error category, result/TRY, the random source, headers, request/response
// views and RFC 3339 timestamps.
#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/system.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono;
// Both namespaces have these names; the library's are meant.
using time_point = certretry::time_point;
using duration = certretry::duration;

// ---------------------------------------------------------------------------------------------
// Error category

constexpr errc all_codes[] = {
    errc::retry_after_empty,
    errc::retry_after_negative,
    errc::retry_after_fractional,
    errc::retry_after_out_of_range,
    errc::retry_after_malformed,
    errc::body_too_large,
    errc::body_not_json,
    errc::body_missing_field,
    errc::body_wrong_type,
    errc::header_too_large,
    errc::transport_timeout,
    errc::connection_refused,
    errc::tls_failure,
    errc::connection_reset,
    errc::transport_failure,
    errc::dns_failure,
    errc::server_rejected,
    errc::deadline_exceeded,
    errc::attempts_exhausted,
    errc::cancelled,
    errc::budget_exhausted,
    errc::caller_deadline_passed,
    errc::invalid_policy,
    errc::scenario_malformed,
    errc::scenario_unknown_option,
    errc::no_scripted_response,
    errc::input_out_of_order,
    errc::invalid_request_value,
    errc::certificate_unreadable,
    errc::certificate_lacks_aki,
    errc::certificate_too_large,
};

TEST(ErrorCategory, NameIsCertretry) {
  EXPECT_STREQ(error_category().name(), "certretry");
  EXPECT_STREQ(make_error_code(errc::cancelled).category().name(), "certretry");
}

TEST(ErrorCategory, IsASingleton) {
  EXPECT_EQ(&error_category(), &error_category());
  EXPECT_EQ(&make_error_code(errc::tls_failure).category(), &error_category());
}

TEST(ErrorCategory, EveryCodeHasANonEmptyDistinctMessage) {
  std::set<std::string> seen;
  for (errc e : all_codes) {
    const std::string msg = make_error_code(e).message();
    EXPECT_FALSE(msg.empty()) << static_cast<int>(e);
    // A message that falls through to the "unknown" text means a code was left unnamed.
    EXPECT_EQ(msg.find("unknown certretry error"), std::string::npos) << static_cast<int>(e);
    EXPECT_TRUE(seen.insert(msg).second) << "duplicate message: " << msg;
  }
  EXPECT_EQ(seen.size(), std::size(all_codes));
}

TEST(ErrorCategory, UnknownCodeStillHasAMessage) {
  const std::string msg = error_category().message(9999);
  EXPECT_FALSE(msg.empty());
  EXPECT_NE(msg.find("9999"), std::string::npos);
}

TEST(ErrorCategory, MakeErrorCodeKeepsTheValue) {
  for (errc e : all_codes) {
    const std::error_code ec = make_error_code(e);
    EXPECT_EQ(ec.value(), static_cast<int>(e));
    EXPECT_TRUE(static_cast<bool>(ec)) << "every code is an error (non-zero)";
  }
}

TEST(ErrorCategory, ErrcConvertsImplicitlyAndCompares) {
  // is_error_code_enum lets the enum be assigned and compared directly.
  const std::error_code ec = errc::deadline_exceeded;
  EXPECT_EQ(ec, errc::deadline_exceeded);
  EXPECT_EQ(errc::deadline_exceeded, ec);
  EXPECT_NE(ec, errc::attempts_exhausted);
  EXPECT_EQ(ec, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(ec.category(), error_category());
}

TEST(ErrorCategory, DoesNotEqualCodesFromOtherCategories) {
  const std::error_code ec = errc::transport_timeout;
  // Same integer, other category: not equal.
  EXPECT_NE(ec,
            std::error_code(static_cast<int>(errc::transport_timeout), std::generic_category()));
  EXPECT_NE(ec, std::make_error_code(std::errc::timed_out));
  EXPECT_NE(std::error_code{}, errc::cancelled);
}

// ---------------------------------------------------------------------------------------------
// result<T> and CERTRETRY_TRY

result<int> parse_small(std::string_view s) {
  if (s.empty()) return errc::retry_after_empty;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return errc::retry_after_malformed;
    v = v * 10 + (c - '0');
  }
  return v;
}

TEST(Result, HoldsValueOrError) {
  const result<int> ok = parse_small("42");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok.value(), 42);

  const result<int> bad = parse_small("4x");
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error(), errc::retry_after_malformed);
}

// CERTRETRY_TRY is defined in errc.hpp, so including errc.hpp alone must make it usable.
#if defined(BOOST_OUTCOME_TRY)

result<int> doubled(std::string_view s) {
  CERTRETRY_TRY(v, parse_small(s));
  return v * 2;
}

int try_calls_after = 0;

result<std::string> describe(std::string_view s) {
  CERTRETRY_TRY(v, doubled(s));
  ++try_calls_after;  // reached only when TRY did not return early
  return std::to_string(v);
}

TEST(Result, TryUnwrapsValues) {
  const result<int> r = doubled("21");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 42);
}

TEST(Result, TryPropagatesTheFirstErrorAcrossResultTypes) {
  try_calls_after = 0;
  const result<std::string> r = describe("");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), errc::retry_after_empty);
  EXPECT_EQ(try_calls_after, 0);

  const result<std::string> ok = describe("5");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok.value(), "10");
  EXPECT_EQ(try_calls_after, 1);
}

#else

TEST(Result, TryIsUsableWithErrcHeaderAlone) {
  ADD_FAILURE() << "CERTRETRY_TRY expands to BOOST_OUTCOME_TRY, which errc.hpp does not define "
                   "(it needs <boost/outcome/try.hpp>)";
}

#endif

// ---------------------------------------------------------------------------------------------
// Random source

TEST(SplitMix64, MatchesTheReferenceOutputForSeedZero) {
  // Vigna's splitmix64.c with x = 0.
  splitmix64 rng{0};
  EXPECT_EQ(rng(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng(), 0x06c45d188009454fULL);
}

TEST(SplitMix64, SameSeedSameSequenceDifferentSeedDifferentSequence) {
  splitmix64 a{12345}, b{12345}, c{12346};
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const auto va = a();
    EXPECT_EQ(va, b());
    differs = differs || va != c();
  }
  EXPECT_TRUE(differs);
}

TEST(SplitMix64, ModelsUniformRandomBitGenerator) {
  static_assert(std::uniform_random_bit_generator<splitmix64>);
  static_assert(random_source<splitmix64>);
  static_assert(random_source<splitmix64&>);
  static_assert(random_source<std::mt19937>);
  static_assert(random_source<std::minstd_rand>);
  EXPECT_EQ(splitmix64::min(), 0u);
  EXPECT_EQ(splitmix64::max(), std::numeric_limits<std::uint64_t>::max());
}

TEST(SplitMix64, DefaultSeedIsDeterministic) {
  splitmix64 a, b;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a(), b());
}

// Draws many uniform_unit values and checks the range [0, 1), the mean and the spread.
template <class R>
void check_uniform_unit(R rng) {
  constexpr int draws = 20000;
  double sum = 0.0, lo = 1.0, hi = 0.0;
  int below_tenth = 0, above_nine_tenths = 0;
  for (int i = 0; i < draws; ++i) {
    const double u = uniform_unit(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    below_tenth += u < 0.1;
    above_nine_tenths += u >= 0.9;
  }
  // Mean 0.5, sd of the mean ~0.002: a wide margin that still catches a skewed mapping.
  EXPECT_NEAR(sum / draws, 0.5, 0.02);
  EXPECT_LT(lo, 0.01);
  EXPECT_GT(hi, 0.99);
  EXPECT_NEAR(below_tenth, draws / 10, draws / 40);
  EXPECT_NEAR(above_nine_tenths, draws / 10, draws / 40);
}

TEST(UniformUnit, SplitMix64InHalfOpenUnitInterval) { check_uniform_unit(splitmix64{7}); }

TEST(UniformUnit, Mt19937InHalfOpenUnitInterval) {
  // 32 bits per call: two calls per draw.
  check_uniform_unit(std::mt19937{7});
}

TEST(UniformUnit, MinstdRandInHalfOpenUnitInterval) {
  // Range [1, 2^31 - 2]: not a power of two, min() != 0.
  check_uniform_unit(std::minstd_rand{7});
}

TEST(UniformUnit, SameSeedSameDraws) {
  splitmix64 a{99}, b{99};
  std::mt19937 c{99}, d{99};
  std::minstd_rand e{99}, f{99};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(uniform_unit(a), uniform_unit(b));
    EXPECT_EQ(uniform_unit(c), uniform_unit(d));
    EXPECT_EQ(uniform_unit(e), uniform_unit(f));
  }
}

// A generator that always answers min() or max(): the extremes of uniform_unit.
template <class U, U Lo, U Hi, bool High>
struct constant_generator {
  using result_type = U;
  static constexpr U min() noexcept { return Lo; }
  static constexpr U max() noexcept { return Hi; }
  constexpr U operator()() noexcept { return High ? Hi : Lo; }
};

template <class U, U Lo, U Hi>
void check_extremes() {
  constant_generator<U, Lo, Hi, false> low;
  constant_generator<U, Lo, Hi, true> high;
  EXPECT_EQ(uniform_unit(low), 0.0);
  const double top = uniform_unit(high);
  EXPECT_LT(top, 1.0);  // never 1: the interval is half-open
  EXPECT_GE(top, 0.0);
}

TEST(UniformUnit, ExtremesStayInHalfOpenInterval) {
  check_extremes<std::uint64_t, 0, ~std::uint64_t{0}>();
  check_extremes<std::uint32_t, 0, 0xffffffffu>();
  check_extremes<std::uint32_t, 1, 2147483646u>();  // minstd_rand's range
  check_extremes<std::uint32_t, 0, 1>();            // one bit per call
  check_extremes<std::uint32_t, 0, 5>();            // six values: two usable bits
  check_extremes<std::uint64_t, 10, 1000000>();     // offset, non-power-of-two
}

TEST(UniformUnit, FullRangeGeneratorsReachNearlyOne) {
  // All-ones bits map to (2^53 - 1) / 2^53, the largest double below 1.
  constant_generator<std::uint64_t, 0, ~std::uint64_t{0}, true> g64;
  constant_generator<std::uint32_t, 0, 0xffffffffu, true> g32;
  const double expected = 1.0 - 0x1.0p-53;
  EXPECT_EQ(uniform_unit(g64), expected);
  EXPECT_EQ(uniform_unit(g32), expected);
}

TEST(UniformBetween, StaysInRange) {
  splitmix64 rng{3};
  for (int i = 0; i < 10000; ++i) {
    const double v = uniform_between(rng, -0.2, 0.2);
    ASSERT_GE(v, -0.2);
    ASSERT_LT(v, 0.2);
  }
}

// ---------------------------------------------------------------------------------------------
// Headers, requests, responses

TEST(FindHeader, NamesCompareCaseInsensitively) {
  // RFC 9110 §5.1: field names are case-insensitive.
  const std::vector<header_field> h{{"Content-Type", "application/json"}, {"Retry-After", "120"}};
  for (std::string_view name : {"Retry-After", "retry-after", "RETRY-AFTER", "rEtRy-AfTeR"}) {
    const auto v = find_header(h, name);
    ASSERT_TRUE(v.has_value()) << name;
    EXPECT_EQ(*v, "120");
  }
}

TEST(FindHeader, ValueKeepsItsCase) {
  const std::vector<header_field> h{{"X-Status", "Pending"}};
  EXPECT_EQ(find_header(h, "x-status"), std::optional<std::string_view>{"Pending"});
}

TEST(FindHeader, FirstMatchWins) {
  const std::vector<header_field> h{
      {"retry-after", "5"}, {"Retry-After", "10"}, {"RETRY-AFTER", "15"}};
  EXPECT_EQ(find_header(h, "Retry-After"), std::optional<std::string_view>{"5"});
}

TEST(FindHeader, AbsentOrPrefixOnlyIsNothing) {
  const std::vector<header_field> h{{"Retry-After-Extra", "1"}, {"Retry", "2"}};
  EXPECT_FALSE(find_header(h, "Retry-After").has_value());
  EXPECT_FALSE(find_header({}, "Retry-After").has_value());
}

TEST(FindHeader, EmptyValueIsPresent) {
  const std::vector<header_field> h{{"Retry-After", ""}};
  const auto v = find_header(h, "retry-after");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->empty());
}

TEST(ResponseView, HeaderLooksUpLikeFindHeader) {
  response r{202, {{"Location", "/order/1"}, {"Retry-After", "3"}}, R"({"status":"processing"})"};
  const response_view v = r.view();
  EXPECT_EQ(v.status, 202);
  EXPECT_EQ(v.body, r.body);
  EXPECT_EQ(v.header("retry-after"), std::optional<std::string_view>{"3"});
  EXPECT_FALSE(v.header("Replay-Nonce").has_value());
  // A view borrows the owned storage.
  EXPECT_EQ(v.body.data(), r.body.data());
  EXPECT_EQ(v.headers.data(), r.headers.data());
  EXPECT_EQ(v.headers.size(), 2u);
}

TEST(Request, OwnedViewOwnedRoundTrip) {
  request original;
  original.method = "POST";
  original.target = "/vedsdk/certificates/retrieve";
  original.headers = {{"Content-Type", "application/json"}, {"X-Venafi-Api-Key", "k"}};
  original.body = R"({"CertificateDN":"\\VED\\Policy\\x","WorkToDoTimeout":"30"})";

  const request_view v = original.view();
  EXPECT_EQ(v.method, "POST");
  EXPECT_EQ(v.target, original.target);
  EXPECT_EQ(v.body, original.body);
  ASSERT_EQ(v.headers.size(), 2u);
  EXPECT_EQ(v.body.data(), original.body.data());

  const request copy{v};
  EXPECT_EQ(copy.method, original.method);
  EXPECT_EQ(copy.target, original.target);
  EXPECT_EQ(copy.body, original.body);
  ASSERT_EQ(copy.headers.size(), original.headers.size());
  for (std::size_t i = 0; i < copy.headers.size(); ++i) {
    EXPECT_EQ(copy.headers[i].name, original.headers[i].name);
    EXPECT_EQ(copy.headers[i].value, original.headers[i].value);
  }
  // The copy owns its bytes: changing the original does not change it.
  EXPECT_NE(copy.body.data(), original.body.data());
  original.body = "changed";
  original.headers[0].value = "text/plain";
  EXPECT_NE(copy.body, original.body);
  EXPECT_EQ(copy.headers[0].value, "application/json");
}

TEST(Request, ViewOfRequestWithoutBody) {
  request r;
  r.method = "GET";
  r.target = "/order/1";
  const request_view v = r.view();
  EXPECT_TRUE(v.body.empty());
  EXPECT_TRUE(v.headers.empty());
  const request copy{v};
  EXPECT_EQ(copy.method, "GET");
  EXPECT_TRUE(copy.body.empty());
}

// ---------------------------------------------------------------------------------------------
// RFC 3339

constexpr time_point at(year_month_day ymd, hours h, minutes m, seconds s, milliseconds ms = 0ms) {
  return time_point{sys_days{ymd}} + h + m + s + ms;
}

struct rfc3339_case {
  const char* text;
  std::optional<time_point> expected;
};

void PrintTo(const rfc3339_case& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class Rfc3339Parse : public ::testing::TestWithParam<rfc3339_case> {};

TEST_P(Rfc3339Parse, ParsesToTheInstant) {
  const auto& c = GetParam();
  const auto got = parse_rfc3339(c.text);
  ASSERT_EQ(got.has_value(), c.expected.has_value());
  if (c.expected) {
    EXPECT_EQ(*got, *c.expected);
  }
}

const time_point t0 = at(2025y / 1 / 2, 3h, 4min, 5s);

INSTANTIATE_TEST_SUITE_P(
    Valid, Rfc3339Parse,
    ::testing::Values(rfc3339_case{"2025-01-02T03:04:05Z", t0},
                      // RFC 3339 §5.6 note: 't' and 'z' may be lowercase.
                      rfc3339_case{"2025-01-02t03:04:05z", t0},
                      rfc3339_case{"2025-01-02T03:04:05+00:00", t0},
                      rfc3339_case{"2025-01-02T03:04:05-00:00", t0},
                      // An offset is local minus UTC: 05:04:05+02:00 is 03:04:05Z.
                      rfc3339_case{"2025-01-02T05:04:05+02:00", t0},
                      // 21:34:05-05:30 on the 1st is 03:04:05Z on the 2nd.
                      rfc3339_case{"2025-01-01T21:34:05-05:30", t0},
                      rfc3339_case{"2025-01-02T03:04:05.123Z", t0 + 123ms},
                      rfc3339_case{"2025-01-02T03:04:05.5Z", t0 + 500ms},
                      rfc3339_case{"2025-01-02T03:04:05.05Z", t0 + 50ms},
                      // Beyond milliseconds the fraction is truncated, not rounded.
                      rfc3339_case{"2025-01-02T03:04:05.123999Z", t0 + 123ms},
                      rfc3339_case{"2025-01-02T03:04:05.999999999Z", t0 + 999ms},
                      rfc3339_case{"2025-01-02T05:04:05.250+02:00", t0 + 250ms},
                      rfc3339_case{"2024-02-29T00:00:00Z", at(2024y / 2 / 29, 0h, 0min, 0s)},
                      rfc3339_case{"1970-01-01T00:00:00Z", time_point{}},
                      rfc3339_case{"2025-12-31T23:59:59Z", at(2025y / 12 / 31, 23h, 59min, 59s)}),
    [](const auto& p) { return "v" + std::to_string(p.index); });

INSTANTIATE_TEST_SUITE_P(
    Invalid, Rfc3339Parse,
    ::testing::Values(rfc3339_case{"2025-02-30T00:00:00Z", std::nullopt},  // no 30 Feb
                      rfc3339_case{"2023-02-29T00:00:00Z", std::nullopt},  // not a leap year
                      rfc3339_case{"2025-04-31T00:00:00Z", std::nullopt},
                      rfc3339_case{"2025-13-01T00:00:00Z", std::nullopt},
                      rfc3339_case{"2025-00-01T00:00:00Z", std::nullopt},
                      rfc3339_case{"2025-01-00T00:00:00Z", std::nullopt},
                      rfc3339_case{"2025-01-02T24:00:00Z", std::nullopt},
                      rfc3339_case{"2025-01-02T03:60:00Z", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:61Z", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05", std::nullopt},  // no offset
                      rfc3339_case{"2025-01-02T03:04:05+0200", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05+02", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05+24:00", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05+02:60", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05.Z", std::nullopt},  // empty fraction
                      rfc3339_case{"2025-01-02T03:04:05ZZ", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05Z ", std::nullopt},
                      rfc3339_case{" 2025-01-02T03:04:05Z", std::nullopt},
                      rfc3339_case{"2025/01/02T03:04:05Z", std::nullopt},
                      rfc3339_case{"2025-01-02X03:04:05Z", std::nullopt},
                      rfc3339_case{"2025-1-02T03:04:05Z", std::nullopt},
                      rfc3339_case{"25-01-02T03:04:05Z", std::nullopt},
                      rfc3339_case{"2025-01-02T03:04:05z+01:00", std::nullopt},
                      rfc3339_case{"abcd-ef-ghTij:kl:mnZ", std::nullopt},
                      rfc3339_case{"", std::nullopt},
                      rfc3339_case{"Sun, 06 Nov 1994 08:49:37 GMT", std::nullopt}),
    [](const auto& p) { return "i" + std::to_string(p.index); });

TEST(Rfc3339, LeapSecondIsAccepted) {
  // RFC 3339 §5.7 allows second 60; it must land within the last second of the minute.
  const auto t = parse_rfc3339("2016-12-31T23:59:60Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_GE(*t, at(2016y / 12 / 31, 23h, 59min, 59s));
  EXPECT_LE(*t, at(2017y / 1 / 1, 0h, 0min, 0s));
}

TEST(Rfc3339, FormatsUtcWithOptionalMilliseconds) {
  EXPECT_EQ(format_rfc3339(t0), "2025-01-02T03:04:05Z");
  EXPECT_EQ(format_rfc3339(t0 + 7ms), "2025-01-02T03:04:05.007Z");
  EXPECT_EQ(format_rfc3339(t0 + 120ms), "2025-01-02T03:04:05.120Z");
  EXPECT_EQ(format_rfc3339(time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(at(1999y / 12 / 31, 23h, 59min, 59s, 999ms)),
            "1999-12-31T23:59:59.999Z");
}

TEST(Rfc3339, FormatThenParseIsIdentity) {
  splitmix64 rng{2025};
  for (int i = 0; i < 2000; ++i) {
    // Instants between 1970 and ~2100 with millisecond resolution.
    const auto ms = static_cast<std::int64_t>(rng() % 4'102'444'800'000ULL);
    const time_point t{milliseconds{ms}};
    const std::string s = format_rfc3339(t);
    const auto back = parse_rfc3339(s);
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, t) << s;
  }
}

TEST(Rfc3339, ParseThenFormatNormalisesToUtc) {
  for (const char* s : {"2025-01-02T03:04:05Z", "2025-01-02T03:04:05.123Z"}) {
    const auto t = parse_rfc3339(s);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(format_rfc3339(*t), s);
  }
  const auto offset = parse_rfc3339("2025-01-02T05:04:05+02:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(format_rfc3339(*offset), "2025-01-02T03:04:05Z");
}

TEST(Rfc3339, IsUsableAtCompileTime) {
  static_assert(parse_rfc3339("1970-01-01T00:00:01Z") == time_point{1s});
  static_assert(!parse_rfc3339("1970-02-30T00:00:01Z").has_value());
  SUCCEED();
}

// Cancelling a run must not wait out a 5-minute backoff: the stoppable sleeper wakes when its
// token is triggered. (Not a timing test: the bound only tells "woke early" from "slept 10 min".)
TEST(SystemAdapters, StoppableSleeperWakesOnStop) {
  std::stop_source stop;
  stoppable_sleeper sleeper{stop.get_token()};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  sleeper.sleep_for(std::chrono::minutes{10});
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes{1});
}

TEST(SystemAdapters, SystemClockIsWallTimeInMilliseconds) {
  const time_point a = certretry::system_clock{}.now();
  const auto wall = std::chrono::system_clock::now();
  EXPECT_LE(a, std::chrono::floor<std::chrono::milliseconds>(wall));
  EXPECT_GT(a, time_point{} + std::chrono::hours{24 * 365 * 50});  // after 2020
}

// Server text in reasons: bounded, no control characters, never cut inside a UTF-8 character.
TEST(Sanitize, BoundsAndKeepsUtf8Whole) {
  std::string out;
  detail::append_sanitized(out,
                           "a\nb\x01"
                           "c",
                           96);
  EXPECT_EQ(out, "a?b?c");
  out.clear();
  detail::append_sanitized(out, "\xc3\xa9\xc3\xa9", 3);  // two 2-byte characters, room for one
  EXPECT_EQ(out, "\xc3\xa9...");
  out.clear();
  detail::append_sanitized(out, "\xff\xc3", 10);  // a bad lead byte, a truncated sequence
  EXPECT_EQ(out, "??");
  out.clear();
  detail::append_json_string(out, "q\"\\\xff");
  EXPECT_EQ(out, "\"q\\\"\\\\\\ufffd\"");
}

}  // namespace
