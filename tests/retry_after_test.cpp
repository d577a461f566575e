// Retry-After (RFC 9110 §10.2.3) and HTTP-date (RFC 9110 §5.6.7).
#include "certretry/backoff/retry_after.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono;
// Both namespaces have these names; the library's are meant.
using time_point = certretry::time_point;
using duration = certretry::duration;

constexpr time_point at(year_month_day ymd, hours h = 0h, minutes m = 0min, seconds s = 0s) {
  return time_point{sys_days{ymd}} + h + m + s;
}

// The RFC's example instant: Sun, 06 Nov 1994 08:49:37 GMT (Unix time 784111777).
constexpr time_point rfc_example = at(1994y / 11 / 6, 8h, 49min, 37s);
// 49 min 37 s before it.
constexpr time_point morning = at(1994y / 11 / 6, 8h);

TEST(HttpDate, RfcExampleIsTheKnownUnixTime) {
  EXPECT_EQ(rfc_example, time_point{seconds{784111777}});
}

// ---------------------------------------------------------------------------------------------
// delay-seconds

struct seconds_case {
  const char* value;
  duration expected;
};

void PrintTo(const seconds_case& c, std::ostream* os) { *os << '"' << c.value << '"'; }

class DelaySeconds : public ::testing::TestWithParam<seconds_case> {};

TEST_P(DelaySeconds, ParsesToMilliseconds) {
  const auto r = parse_retry_after(GetParam().value, morning);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r.value(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Valid, DelaySeconds,
    ::testing::Values(seconds_case{"0", 0ms}, seconds_case{"1", 1000ms},
                      seconds_case{"3", 3000ms},  // Boulder on processing orders
                      seconds_case{"60", 60000ms}, seconds_case{"120", 120000ms},
                      seconds_case{"007", 7000ms},  // 1*DIGIT: leading zeros are digits
                      // RFC 9110 §5.5: optional whitespace around a field value is not part of it.
                      seconds_case{" 120 ", 120000ms}, seconds_case{"\t120\t", 120000ms},
                      seconds_case{" \t 120 \t ", 120000ms}, seconds_case{"21600", 6h},
                      // 2^31 - 1, the largest accepted (RFC 9111 §1.2.2).
                      seconds_case{"2147483647", seconds{2147483647}}),
    [](const auto& p) { return "c" + std::to_string(p.index); });

TEST(DelaySeconds, SecondsAreNotMilliseconds) {
  // Azure read Retry-After seconds as milliseconds (docs/sources.md#azure-5268).
  const auto r = parse_retry_after("120", morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().count(), 120000);
  EXPECT_EQ(duration_cast<seconds>(r.value()), 120s);
  EXPECT_EQ(r.value(), 2min);
  EXPECT_NE(r.value(), 120ms);
}

TEST(DelaySeconds, LargestValueDoesNotOverflowMilliseconds) {
  const auto r = parse_retry_after("2147483647", morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().count(), std::int64_t{2147483647} * 1000);
  EXPECT_GT(r.value(), duration::zero());
}

TEST(DelaySeconds, IndependentOfNow) {
  for (time_point now : {time_point{}, morning, at(2025y / 6 / 1, 12h)}) {
    const auto r = parse_retry_after("30", now);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r.value(), 30s);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP-date: the three forms of RFC 9110 §5.6.7

class HttpDateForms : public ::testing::TestWithParam<const char*> {};

TEST_P(HttpDateForms, AllMeanTheSameInstant) {
  const auto t = parse_http_date(GetParam(), morning);
  ASSERT_TRUE(t.has_value()) << GetParam();
  EXPECT_EQ(*t, rfc_example);
}

TEST_P(HttpDateForms, RetryAfterIsDateMinusNow) {
  const auto r = parse_retry_after(GetParam(), morning);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r.value(), 49min + 37s);
  EXPECT_EQ(r.value().count(), (49 * 60 + 37) * 1000);
}

TEST_P(HttpDateForms, PastDateIsZero) {
  // A date already passed means "retry now", never a negative delay.
  for (time_point now : {rfc_example + 1s, rfc_example + 24h, at(2025y / 1 / 1)}) {
    const auto r = parse_retry_after(GetParam(), now);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r.value(), duration::zero());
  }
}

TEST_P(HttpDateForms, SameInstantAsNowIsZero) {
  const auto r = parse_retry_after(GetParam(), rfc_example);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), duration::zero());
}

TEST_P(HttpDateForms, DelayKeepsMillisecondsOfNow) {
  // now has a fraction of a second: the delay is exact to the millisecond.
  const auto r = parse_retry_after(GetParam(), rfc_example - 1500ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 1500ms);
}

std::string date_form_name(const ::testing::TestParamInfo<const char*>& p) {
  const char* names[] = {"imf_fixdate", "rfc850", "asctime", "asctime_two_digit_day"};
  return names[p.index];
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9110Examples, HttpDateForms,
    ::testing::Values("Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
                      "Sunday, 06-Nov-94 08:49:37 GMT",  // obsolete RFC 850 format
                      "Sun Nov  6 08:49:37 1994",        // ANSI C's asctime() format
                      "Sun Nov 06 08:49:37 1994"),       // date3 allows 2DIGIT too
    date_form_name);

TEST(HttpDate, PaddedValueIsNotAnHttpDateButIsARetryAfter) {
  // parse_http_date takes the date itself; parse_retry_after trims the field's whitespace.
  EXPECT_FALSE(parse_http_date(" Sun, 06 Nov 1994 08:49:37 GMT", morning).has_value());
  const auto r = parse_retry_after("  Sun, 06 Nov 1994 08:49:37 GMT\t", morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 49min + 37s);
}

TEST(HttpDate, LeapSecondIsAccepted) {
  // RFC 9110 §5.6.7: time-of-day 00:00:00 - 23:59:60 (leap second).
  const auto t = parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT", morning);
  ASSERT_TRUE(t.has_value());
  EXPECT_GE(*t, at(2016y / 12 / 31, 23h, 59min, 59s));
  EXPECT_LE(*t, at(2017y / 1 / 1));
}

TEST(HttpDate, EveryMonthName) {
  const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // The first of each month of 2025, with its real day name.
  const char* days[] = {"Wed", "Sat", "Sat", "Tue", "Thu", "Sun",
                        "Tue", "Fri", "Mon", "Wed", "Sat", "Mon"};
  for (unsigned m = 0; m < 12; ++m) {
    const std::string s = std::string(days[m]) + ", 01 " + months[m] + " 2025 00:00:00 GMT";
    const auto t = parse_http_date(s, morning);
    ASSERT_TRUE(t.has_value()) << s;
    EXPECT_EQ(*t, at(2025y / month{m + 1} / 1)) << s;
  }
}

TEST(HttpDate, FutureDateFarAheadIsOutOfRange) {
  // 100 years after now is more than 2^31 - 1 seconds (~68 years).
  const auto r = parse_retry_after("Sat, 06 Nov 2094 08:49:37 GMT", morning);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), errc::retry_after_out_of_range);
}

// RFC 9110 §5.6.7: a two-digit RFC 850 year "that appears to be more than 50 years in the
// future" is the most recent past year with the same last two digits.
struct rfc850_case {
  const char* value;
  time_point now;
  time_point expected;
};

void PrintTo(const rfc850_case& c, std::ostream* os) { *os << '"' << c.value << '"'; }

class Rfc850Year : public ::testing::TestWithParam<rfc850_case> {};

TEST_P(Rfc850Year, ResolvesTheCentury) {
  const auto t = parse_http_date(GetParam().value, GetParam().now);
  ASSERT_TRUE(t.has_value()) << GetParam().value;
  EXPECT_EQ(*t, GetParam().expected);
}

constexpr time_point new_year_2025 = at(2025y / 1 / 1);
constexpr time_point new_year_2062 = at(2062y / 1 / 1);

INSTANTIATE_TEST_SUITE_P(
    TwoDigitYears, Rfc850Year,
    ::testing::Values(
        // Exactly 50 years ahead is not "more than 50": 2075.
        rfc850_case{"Tuesday, 01-Jan-75 00:00:00 GMT", new_year_2025, at(2075y / 1 / 1)},
        // 51 years ahead would be more than 50: 1976.
        rfc850_case{"Thursday, 01-Jan-76 00:00:00 GMT", new_year_2025, at(1976y / 1 / 1)},
        rfc850_case{"Sunday, 06-Nov-94 08:49:37 GMT", new_year_2025, rfc_example},
        rfc850_case{"Wednesday, 06-Nov-24 00:00:00 GMT", new_year_2025, at(2024y / 11 / 6)},
        rfc850_case{"Friday, 06-Nov-26 00:00:00 GMT", new_year_2025, at(2026y / 11 / 6)},
        rfc850_case{"Sunday, 06-Nov-94 08:49:37 GMT", morning, rfc_example},
        // From 2062, "94" is 32 years ahead: 2094, not 1994.
        rfc850_case{"Saturday, 06-Nov-94 00:00:00 GMT", new_year_2062, at(2094y / 11 / 6)}),
    [](const auto& p) { return "c" + std::to_string(p.index); });

TEST(Rfc850Year, InTheFutureGivesTheDelay) {
  const auto r = parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 49min + 37s);
}

// ---------------------------------------------------------------------------------------------
// Errors: every unusable value says why, and the caller falls back to its schedule.

struct error_case {
  std::string value;
  errc expected;
};

void PrintTo(const error_case& c, std::ostream* os) {
  *os << '"' << (c.value.size() > 40 ? c.value.substr(0, 40) + "..." : c.value) << '"';
}

class RetryAfterError : public ::testing::TestWithParam<error_case> {};

TEST_P(RetryAfterError, ReportsTheReason) {
  const auto r = parse_retry_after(GetParam().value, morning);
  ASSERT_TRUE(r.has_error()) << "accepted as " << r.value().count() << " ms";
  EXPECT_EQ(r.error(), GetParam().expected) << r.error().message();
}

const auto error_name = [](const auto& p) { return "c" + std::to_string(p.index); };

INSTANTIATE_TEST_SUITE_P(Empty, RetryAfterError,
                         ::testing::Values(error_case{"", errc::retry_after_empty},
                                           error_case{" ", errc::retry_after_empty},
                                           error_case{"\t", errc::retry_after_empty},
                                           error_case{" \t  \t", errc::retry_after_empty}),
                         error_name);

INSTANTIATE_TEST_SUITE_P(Negative, RetryAfterError,
                         ::testing::Values(error_case{"-5", errc::retry_after_negative},
                                           error_case{"-1", errc::retry_after_negative},
                                           error_case{" -120 ", errc::retry_after_negative},
                                           error_case{"-1.5", errc::retry_after_negative}),
                         error_name);

INSTANTIATE_TEST_SUITE_P(Fractional, RetryAfterError,
                         ::testing::Values(error_case{"1.5", errc::retry_after_fractional},
                                           error_case{"0.5", errc::retry_after_fractional},
                                           error_case{"120.0", errc::retry_after_fractional}),
                         error_name);

INSTANTIATE_TEST_SUITE_P(
    OutOfRange, RetryAfterError,
    ::testing::Values(error_case{"99999999999999999999", errc::retry_after_out_of_range},
                      error_case{"2147483648", errc::retry_after_out_of_range},  // 2^31
                      error_case{"4294967296", errc::retry_after_out_of_range},  // 2^32
                      error_case{"9223372036854775808", errc::retry_after_out_of_range}),
    error_name);

INSTANTIATE_TEST_SUITE_P(
    Malformed, RetryAfterError,
    ::testing::Values(error_case{"abc", errc::retry_after_malformed},
                      error_case{"10s", errc::retry_after_malformed},
                      error_case{"+5", errc::retry_after_malformed},
                      error_case{"1e3", errc::retry_after_malformed},
                      error_case{"1.5e3", errc::retry_after_malformed},
                      error_case{"5 minutes", errc::retry_after_malformed},
                      error_case{"1 2", errc::retry_after_malformed},
                      error_case{"0x10", errc::retry_after_malformed},
                      error_case{"-", errc::retry_after_malformed},
                      error_case{"1.", errc::retry_after_malformed},
                      error_case{"1994-11-06T08:49:37Z",
                                 errc::retry_after_malformed},  // RFC 3339, not HTTP
                      // Over-long values are not parsed at all.
                      error_case{std::string(65, '1'), errc::retry_after_malformed},
                      error_case{std::string(1000, '9'), errc::retry_after_malformed},
                      error_case{"Sun, 06 Nov 1994 08:49:37 GMT" + std::string(40, 'x'),
                                 errc::retry_after_malformed},
                      error_case{std::string(100, 'a'), errc::retry_after_malformed}),
    error_name);

// Dates that are not valid HTTP-dates. HTTP-date is case-sensitive (RFC 9110 §5.6.7).
INSTANTIATE_TEST_SUITE_P(
    InvalidDates, RetryAfterError,
    ::testing::Values(
        error_case{"Wed, 30 Feb 1994 08:49:37 GMT", errc::retry_after_malformed},  // no 30 Feb
        error_case{"Thu, 31 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},  // no 31 Nov
        error_case{"Sun, 00 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 24:00:00 GMT", errc::retry_after_malformed},  // hour 24
        error_case{"Sun, 06 Nov 1994 08:60:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:61 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:37 gmt", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:37 UTC", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:37 +0000", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:37", errc::retry_after_malformed},
        error_case{"sun, 06 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"SUN, 06 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sux, 06 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sunday, 06 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 6 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 94 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun,06 Nov 1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 8:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49 GMT", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:37 GMT x", errc::retry_after_malformed},
        error_case{"Sun, 06 Nov 1994 08:49:37 GMT\r\n", errc::retry_after_malformed},
        error_case{"Sun, 06-Nov-94 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sunday, 06-Nov-1994 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sunday, 06-Nov-94 08:49:37", errc::retry_after_malformed},
        error_case{"Sunday, 31-Feb-94 08:49:37 GMT", errc::retry_after_malformed},
        error_case{"Sun Nov  6 08:49:37 1994 GMT", errc::retry_after_malformed},
        error_case{"Sun Nov 6 08:49:37 1994", errc::retry_after_malformed},
        error_case{"Sun Nov  6 24:49:37 1994", errc::retry_after_malformed},
        error_case{"Sun Nov 31 08:49:37 1994", errc::retry_after_malformed}),
    error_name);

// A day name that is not the date's: the date is used and the reading carries a note
// (errc::retry_after_weekday_mismatch). RFC 9110 §5.6.7 asks recipients to be lenient with
// HTTP-dates; Go's net/http ignores the day name. 06 Nov 1994 was a Sunday.
class RetryAfterWrongDayName : public ::testing::TestWithParam<std::string_view> {};

TEST_P(RetryAfterWrongDayName, DateIsUsedAndTheMismatchNoted) {
  const time_point before =
      time_point{std::chrono::sys_days{std::chrono::November / 6 / 1994}} + 8h + 47min + 37s;
  const auto r = read_retry_after_value(GetParam(), before);
  ASSERT_TRUE(r.has_value()) << GetParam();
  EXPECT_EQ(r.value().delay, 120s);
  EXPECT_EQ(r.value().note, errc::retry_after_weekday_mismatch);
  const auto d = parse_retry_after(GetParam(), before);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d.value(), 120s);
}

INSTANTIATE_TEST_SUITE_P(AllThreeForms, RetryAfterWrongDayName,
                         ::testing::Values("Mon, 06 Nov 1994 08:49:37 GMT",
                                           "Sat, 06 Nov 1994 08:49:37 GMT",
                                           "Monday, 06-Nov-94 08:49:37 GMT",
                                           "Mon Nov  6 08:49:37 1994"));

TEST(RetryAfterWrongDayName, RightDayNameCarriesNoNote) {
  const time_point before = time_point{std::chrono::sys_days{std::chrono::November / 6 / 1994}};
  const auto r = read_retry_after_value("Sun, 06 Nov 1994 08:49:37 GMT", before);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r.value().note);
  const auto s = read_retry_after_value("120", before);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s.value().note);
}

TEST(RetryAfterWrongDayName, HeaderValueIsUsableWithTheNote) {
  const time_point before =
      time_point{std::chrono::sys_days{std::chrono::November / 6 / 1994}} + 8h + 47min + 37s;
  const std::array<header_field, 1> h{header_field{"Retry-After", "Thu, 06 Nov 1994 08:49:37 GMT"}};
  const auto v = read_retry_after(h, before);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, 120s);
  EXPECT_EQ(v.note(), errc::retry_after_weekday_mismatch);
}

TEST(RetryAfterWrongDayName, StillRefusesAnImpossibleDate) {
  EXPECT_EQ(parse_retry_after("Mon, 31 Feb 1994 08:49:37 GMT", morning).error(),
            errc::retry_after_malformed);
}

TEST(RetryAfterError, LargestAcceptedAndSmallestRejected) {
  EXPECT_TRUE(parse_retry_after("2147483647", morning).has_value());
  const auto r = parse_retry_after("2147483648", morning);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), errc::retry_after_out_of_range);
}

TEST(RetryAfterError, ValueAtTheLengthLimitIsStillParsed) {
  // Trimming happens before the length check: a valid value padded with spaces is accepted.
  const std::string padded = std::string(100, ' ') + "120" + std::string(100, '\t');
  const auto r = parse_retry_after(padded, morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 120s);
}

class RetryAfterMessage : public ::testing::TestWithParam<errc> {};

TEST_P(RetryAfterMessage, SaysTheScheduleIsUsedInstead) {
  const std::string msg = make_error_code(GetParam()).message();
  EXPECT_FALSE(msg.empty());
  EXPECT_NE(msg.find("Retry-After"), std::string::npos) << msg;
  EXPECT_NE(msg.find("schedule"), std::string::npos) << msg;
  EXPECT_NE(msg.find("instead"), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(AllCodes, RetryAfterMessage,
                         ::testing::Values(errc::retry_after_empty, errc::retry_after_negative,
                                           errc::retry_after_fractional,
                                           errc::retry_after_out_of_range,
                                           errc::retry_after_malformed),
                         [](const auto& p) { return "c" + std::to_string(p.index); });

// ---------------------------------------------------------------------------------------------
// read_retry_after: the header in a response

TEST(ReadRetryAfter, AbsentIsAbsentNotInvalid) {
  const std::vector<header_field> none;
  const auto n = read_retry_after(none, morning);
  EXPECT_TRUE(n.absent());
  EXPECT_FALSE(n.invalid());
  EXPECT_FALSE(n.has_value());
  EXPECT_FALSE(n.error());
  EXPECT_EQ(n.value_if_any(), std::nullopt);
  const std::vector<header_field> other{{"Content-Type", "application/json"},
                                        {"Retry-After-Ms", "5"}};
  EXPECT_TRUE(read_retry_after(other, morning).absent());
}

TEST(ReadRetryAfter, NameIsCaseInsensitive) {
  // RFC 9110 §5.1.
  for (const char* name : {"Retry-After", "retry-after", "RETRY-AFTER"}) {
    const std::vector<header_field> h{{"Content-Type", "application/json"}, {name, "120"}};
    const auto r = read_retry_after(h, morning);
    ASSERT_TRUE(r.has_value()) << name;
    EXPECT_FALSE(r.absent()) << name;
    EXPECT_FALSE(r.invalid()) << name;
    EXPECT_EQ(r.value(), 120000ms);
    EXPECT_EQ(r.value_if_any(), 120000ms);
  }
}

TEST(ReadRetryAfter, DateValue) {
  const std::vector<header_field> h{{"retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  const auto r = read_retry_after(h, morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 49min + 37s);
}

TEST(ReadRetryAfter, PresentButInvalidIsAnError) {
  const std::vector<header_field> h{{"Retry-After", "soon"}};
  const auto r = read_retry_after(h, morning);
  EXPECT_TRUE(r.invalid());
  EXPECT_FALSE(r.absent());
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error(), errc::retry_after_malformed);
  EXPECT_EQ(r.value_if_any(), std::nullopt);

  const std::vector<header_field> empty{{"Retry-After", ""}};
  const auto e = read_retry_after(empty, morning);
  EXPECT_TRUE(e.invalid());
  EXPECT_EQ(e.error(), errc::retry_after_empty);
}

TEST(ReadRetryAfter, FirstFieldWins) {
  const std::vector<header_field> h{{"Retry-After", "5"}, {"retry-after", "600"}};
  const auto r = read_retry_after(h, morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 5s);
  // An unusable first field is not rescued by a later one.
  const std::vector<header_field> bad_first{{"Retry-After", "soon"}, {"Retry-After", "600"}};
  EXPECT_TRUE(read_retry_after(bad_first, morning).invalid());
}

TEST(ReadRetryAfter, WorksOnAResponseView) {
  const response resp{
      429, {{"retry-after", "60"}}, R"({"type":"urn:ietf:params:acme:error:rateLimited"})"};
  const auto r = read_retry_after(resp.view().headers, morning);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 60s);
}

TEST(ParseHttpDate, IsUsableAtCompileTime) {
  static_assert(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", time_point{}) ==
                time_point{seconds{784111777}});
  static_assert(!parse_http_date("Sun, 06 Nov 1994 24:49:37 GMT", time_point{}).has_value());
  SUCCEED();
}

}  // namespace
