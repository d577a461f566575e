// certretry/backoff/retry_after.hpp — the Retry-After header (RFC 9110 §10.2.3).
//
// Retry-After = HTTP-date / delay-seconds. delay-seconds is a non-negative integer; an
// HTTP-date is IMF-fixdate (preferred), or the obsolete RFC 850 and asctime forms, which a
// recipient must still accept (RFC 9110 §5.6.7). Everything else is an error value that says
// why, and the caller falls back to its schedule. Others shipped bugs here: Azure read seconds
// as milliseconds, failsafe-go accepted only integers.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/time.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace certretry {

/// How a valid server hint combines with the schedule.
enum class retry_after_mode : std::uint8_t {
  at_least_schedule,  ///< wait max(hint, scheduled delay): the default
  hint_replaces,      ///< wait the hint, even when the schedule would wait longer
  ignore,             ///< never read Retry-After (certctl's behaviour, for comparison)
};

/// How a machine uses the server's Retry-After: mode, ceiling and floor.
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct retry_after_policy {
  /// how a valid hint combines with the schedule
  retry_after_mode mode = retry_after_mode::at_least_schedule;
  /// A valid hint longer than this is cut to it: a server (or a bug) asking for days must not
  /// park a poll loop for days. ARI uses its own [1 min, 1 day] clamp (RFC 9773 §4.3).
  duration ceiling = 1h;
  /// A valid hint shorter than this is raised to it.
  duration floor = duration::zero();

  /// Empty when 0 ≤ floor ≤ ceiling; otherwise the field and why.
  constexpr invalid_value check() const noexcept {
    if (ceiling < duration::zero()) return {"retry_after_policy.ceiling", "must not be negative"};
    if (floor < duration::zero()) return {"retry_after_policy.floor", "must not be negative"};
    if (floor > ceiling) return {"retry_after_policy.floor", "is longer than the ceiling"};
    return {};
  }
};

namespace detail {

// Longest value worth parsing: an IMF-fixdate is 29 characters, asctime 24, RFC 850 up to 33.
inline constexpr std::size_t retry_after_max_length = 64;
// 2^31 - 1 seconds (~68 years): the largest delay-seconds a cache must handle (RFC 9111 §1.2.2).
inline constexpr std::int64_t retry_after_max_seconds = 2147483647;

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

class date_reader {
 public:
  constexpr explicit date_reader(std::string_view s) noexcept : s_(s) {}

  constexpr bool literal(std::string_view lit) noexcept {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  // Exactly `n` digits.
  constexpr std::optional<int> digits(std::size_t n) noexcept {
    if (pos_ + n > s_.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (!is_digit(c)) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    return v;
  }
  // One of `names` (case-sensitive, as RFC 9110 defines them); returns its index.
  template <std::size_t N>
  constexpr std::optional<int> one_of(const std::array<std::string_view, N>& names) noexcept {
    for (std::size_t i = 0; i < N; ++i)
      if (literal(names[i])) return static_cast<int>(i);
    return std::nullopt;
  }
  constexpr bool at_end() const noexcept { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

inline constexpr std::array<std::string_view, 7> day_names{"Mon", "Tue", "Wed", "Thu",
                                                           "Fri", "Sat", "Sun"};
inline constexpr std::array<std::string_view, 7> day_names_long{
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
inline constexpr std::array<std::string_view, 12> month_names{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct civil_time {
  int year, month, day, hour, minute, second;
  int weekday;  // ISO 8601: Monday = 1 ... Sunday = 7
};

// An HTTP-date as read: the instant, and whether its day name was not the date's.
struct http_date_reading {
  time_point at;
  bool weekday_mismatch = false;
};

constexpr std::optional<http_date_reading> to_time_point(const civil_time& c) noexcept {
  using namespace std::chrono;
  const year_month_day ymd{year{c.year}, month{static_cast<unsigned>(c.month)},
                           day{static_cast<unsigned>(c.day)}};
  // A leap second (60) is read as the last second of the minute.
  if (!ymd.ok() || c.hour > 23 || c.minute > 59 || c.second > 60) return std::nullopt;
  // A day name that is not the date's does not make the date unusable: RFC 9110 §5.6.7 asks
  // recipients to be lenient with HTTP-dates, and Go's net/http (http.ParseTime) and most
  // servers ignore the day name. The date wins; the mismatch is reported by the caller.
  const bool mismatch =
      std::chrono::weekday{sys_days{ymd}}.iso_encoding() != static_cast<unsigned>(c.weekday);
  const int sec = c.second == 60 ? 59 : c.second;
  return http_date_reading{
      time_point{sys_days{ymd}} + hours{c.hour} + minutes{c.minute} + seconds{sec}, mismatch};
}

constexpr bool read_time_of_day(date_reader& r, civil_time& c) noexcept {
  const auto h = r.digits(2);
  if (!h || !r.literal(":")) return false;
  const auto m = r.digits(2);
  if (!m || !r.literal(":")) return false;
  const auto s = r.digits(2);
  if (!s) return false;
  c.hour = *h;
  c.minute = *m;
  c.second = *s;
  return true;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
constexpr std::optional<http_date_reading> parse_imf_fixdate(std::string_view s) noexcept {
  date_reader r{s};
  civil_time c{};
  const auto wd = r.one_of(day_names);
  if (!wd || !r.literal(", ")) return std::nullopt;
  c.weekday = *wd + 1;
  const auto d = r.digits(2);
  if (!d || !r.literal(" ")) return std::nullopt;
  const auto mon = r.one_of(month_names);
  if (!mon || !r.literal(" ")) return std::nullopt;
  const auto y = r.digits(4);
  if (!y || !r.literal(" ") || !read_time_of_day(r, c) || !r.literal(" GMT") || !r.at_end())
    return std::nullopt;
  c.year = *y;
  c.month = *mon + 1;
  c.day = *d;
  return to_time_point(c);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year that would be more than 50 years
// in the future is the most recent past year with those digits (RFC 9110 §5.6.7).
constexpr std::optional<http_date_reading> parse_rfc850(std::string_view s,
                                                        time_point now) noexcept {
  date_reader r{s};
  civil_time c{};
  const auto wd = r.one_of(day_names_long);
  if (!wd || !r.literal(", ")) return std::nullopt;
  c.weekday = *wd + 1;
  const auto d = r.digits(2);
  if (!d || !r.literal("-")) return std::nullopt;
  const auto mon = r.one_of(month_names);
  if (!mon || !r.literal("-")) return std::nullopt;
  const auto yy = r.digits(2);
  if (!yy || !r.literal(" ") || !read_time_of_day(r, c) || !r.literal(" GMT") || !r.at_end())
    return std::nullopt;
  const int now_year = static_cast<int>(
      std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)}.year());
  int year = now_year - now_year % 100 + *yy;
  if (year > now_year + 50) year -= 100;
  c.year = year;
  c.month = *mon + 1;
  c.day = *d;
  return to_time_point(c);
}

// asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space) — "Sun Nov 06 ..." is accepted.
constexpr std::optional<http_date_reading> parse_asctime(std::string_view s) noexcept {
  date_reader r{s};
  civil_time c{};
  const auto wd = r.one_of(day_names);
  if (!wd || !r.literal(" ")) return std::nullopt;
  c.weekday = *wd + 1;
  const auto mon = r.one_of(month_names);
  if (!mon || !r.literal(" ")) return std::nullopt;
  std::optional<int> d;
  if (r.literal(" "))
    d = r.digits(1);
  else
    d = r.digits(2);
  if (!d || !r.literal(" ") || !read_time_of_day(r, c) || !r.literal(" ")) return std::nullopt;
  const auto y = r.digits(4);
  if (!y || !r.at_end()) return std::nullopt;
  c.year = *y;
  c.month = *mon + 1;
  c.day = *d;
  return to_time_point(c);
}

}  // namespace detail

/// Parses an HTTP-date in any of the three forms RFC 9110 requires a recipient to accept, and
/// says whether its day name was wrong for the date (accepted all the same).
constexpr std::optional<detail::http_date_reading> read_http_date(std::string_view s,
                                                                  time_point now) noexcept {
  if (auto t = detail::parse_imf_fixdate(s)) return t;
  if (auto t = detail::parse_rfc850(s, now)) return t;
  return detail::parse_asctime(s);
}

/// Parses an HTTP-date in any of the three forms RFC 9110 requires a recipient to accept.
constexpr std::optional<time_point> parse_http_date(std::string_view s, time_point now) noexcept {
  if (const auto d = read_http_date(s, now)) return d->at;
  return std::nullopt;
}

/// A usable Retry-After: the delay, and a note about it (errc::retry_after_weekday_mismatch) or
/// none.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct retry_after_reading {
  duration delay{};        ///< the delay asked for (zero for a date in the past)
  std::error_code note{};  ///< a note on a value accepted leniently, or none
};

/// The delay a Retry-After value asks for, relative to `now`, with a note when it was accepted
/// leniently (a wrong day name). A date in the past means "now" (zero). Errors:
/// retry_after_empty, _negative, _fractional, _out_of_range, _malformed.
inline result<retry_after_reading> read_retry_after_value(std::string_view value,
                                                          time_point now) noexcept {
  const std::string_view v = detail::trim_http_space(value);
  if (v.empty()) return errc::retry_after_empty;
  if (v.size() > detail::retry_after_max_length) return errc::retry_after_malformed;

  const bool negative = v.front() == '-';
  const std::string_view digits = negative ? v.substr(1) : v;
  if (!digits.empty() && detail::is_digit(digits.front())) {
    // "-5", "-1.5": a negative number, whatever its form.
    if (negative) return errc::retry_after_negative;
    std::size_t i = 0;
    std::int64_t seconds = 0;
    bool overflow = false;
    while (i < digits.size() && detail::is_digit(digits[i])) {
      if (seconds > detail::retry_after_max_seconds)
        overflow = true;
      else
        seconds = seconds * 10 + (digits[i] - '0');
      ++i;
    }
    if (i < digits.size()) {
      if (digits[i] == '.' || digits[i] == ',') {
        // "1.5" or "1.5e3": a fraction of some kind, not delay-seconds.
        std::size_t j = i + 1;
        while (j < digits.size() && detail::is_digit(digits[j])) ++j;
        return j == digits.size() && j > i + 1 ? errc::retry_after_fractional
                                               : errc::retry_after_malformed;
      }
      return errc::retry_after_malformed;  // "10s", "5 minutes", "1e3", a date starting with digits
    }
    if (overflow || seconds > detail::retry_after_max_seconds)
      return errc::retry_after_out_of_range;
    return retry_after_reading{duration{std::chrono::seconds{seconds}}, {}};
  }
  if (negative) return errc::retry_after_malformed;

  const auto date = read_http_date(v, now);
  if (!date) return errc::retry_after_malformed;
  const std::error_code note = date->weekday_mismatch
                                   ? make_error_code(errc::retry_after_weekday_mismatch)
                                   : std::error_code{};
  if (date->at <= now) return retry_after_reading{duration::zero(), note};
  const duration d = date->at - now;
  if (d > std::chrono::seconds{detail::retry_after_max_seconds})
    return errc::retry_after_out_of_range;
  return retry_after_reading{d, note};
}

/// The delay a Retry-After value asks for, relative to `now`. A date in the past means "now"
/// (zero); a date whose day name is wrong is accepted (read_retry_after_value says so).
/// Errors: retry_after_empty, _negative, _fractional, _out_of_range, _malformed.
inline result<duration> parse_retry_after(std::string_view value, time_point now) noexcept {
  const auto r = read_retry_after_value(value, now);
  if (!r) return r.assume_error();
  return r.assume_value().delay;
}

/// One header as read: absent, present but unusable (error() says why), or a value. The first
/// two call for different handling: an absent Retry-After means the schedule, an unusable one
/// the schedule and a retry-after-invalid report.
///
/// Thread safety: a plain value: safe to copy and read from any thread.
template <class T>
class header_value {
 public:
  header_value() noexcept = default;  ///< absent
  /// The header as parsed: a value, or the error that makes it unusable.
  header_value(const result<T>& parsed) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    if (parsed) {
      state_ = state::valid;
      value_ = parsed.assume_value();
    } else {
      state_ = state::invalid;
      error_ = parsed.assume_error();
    }
  }

  /// True when the header was not sent.
  bool absent() const noexcept { return state_ == state::absent; }
  /// True when the header was sent but is unusable.
  bool invalid() const noexcept { return state_ == state::invalid; }
  /// True when the header holds a usable value.
  bool has_value() const noexcept { return state_ == state::valid; }
  /// True when the header holds a usable value.
  explicit operator bool() const noexcept { return has_value(); }

  /// has_value() only.
  const T& value() const noexcept { return value_; }
  /// The value (has_value() only).
  const T& operator*() const noexcept { return value_; }
  /// invalid(): why the value is unusable; otherwise no error.
  std::error_code error() const noexcept { return error_; }
  /// has_value(): a note on a value accepted leniently (a Retry-After date with a wrong day
  /// name), reported like an invalid value but used; otherwise none.
  std::error_code note() const noexcept { return note_; }
  /// Attaches a note to a value accepted leniently.
  void set_note(std::error_code note) noexcept { note_ = note; }
  /// The value when there is one, whatever else was the case.
  std::optional<T> value_if_any() const {
    return has_value() ? std::optional<T>{value_} : std::nullopt;
  }

 private:
  enum class state : std::uint8_t { absent, invalid, valid };
  state state_ = state::absent;
  T value_{};
  std::error_code error_{};
  std::error_code note_{};
};

/// Reads Retry-After from a response's headers (the first field of that name, RFC 9110 §5.1).
inline header_value<duration> read_retry_after(std::span<const header_field> headers,
                                               time_point now) noexcept {
  const auto value = find_header(headers, "Retry-After");
  if (!value) return {};
  const auto r = read_retry_after_value(*value, now);
  if (!r) return result<duration>{r.assume_error()};
  header_value<duration> h{result<duration>{r.assume_value().delay}};
  h.set_note(r.assume_value().note);
  return h;
}

}  // namespace certretry
