// Retry-After values from a hostile server: parse_retry_after and parse_http_date on any bytes.
//
// Input: 8 bytes that pick `now` (anywhere in years 1..9999, where the HTTP-date grammar can
// land), then the header value. Shorter inputs use a fixed `now` and are all value.
#include "certretry/backoff/retry_after.hpp"
#include "fuzz_support.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

using namespace certretry;
namespace chr = std::chrono;

time_point now_from(const std::uint8_t* data) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | data[i];
  constexpr auto lo = time_point{chr::sys_days{chr::year{1} / chr::January / 1}};
  constexpr auto hi = time_point{chr::sys_days{chr::year{9999} / chr::December / 31}};
  const auto span = static_cast<std::uint64_t>((hi - lo).count());
  return lo + duration{static_cast<std::int64_t>(v % span)};
}

bool is_retry_after_error(std::error_code ec) {
  if (ec.category() != error_category()) return false;
  switch (static_cast<errc>(ec.value())) {
    case errc::retry_after_empty:
    case errc::retry_after_negative:
    case errc::retry_after_fractional:
    case errc::retry_after_out_of_range:
    case errc::retry_after_malformed: return true;
    default: return false;
  }
}

// Independent reading of an all-digit value: its seconds, or -1 when above 2^31 - 1.
std::int64_t reference_delay_seconds(std::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (digits.size() > 10) return -1;
  std::int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v > 2147483647 ? -1 : v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  time_point now = time_point{chr::sys_days{chr::year{2025} / chr::January / 1}};
  if (size >= 8) {
    now = now_from(data);
    data += 8;
    size -= 8;
  }
  const std::string_view value{reinterpret_cast<const char*>(data), size};

  const result<duration> r = parse_retry_after(value, now);
  if (r.has_value()) {
    // Whatever the form, a success is a delay from now: never negative, never beyond 2^31-1 s.
    FUZZ_CHECK(r.value() >= duration::zero());
    FUZZ_CHECK(r.value() <= chr::seconds{2147483647});
  } else {
    FUZZ_CHECK(is_retry_after_error(r.error()));
    FUZZ_CHECK(!r.error().message().empty());
  }

  // The reading with its note agrees with parse_retry_after; the only note is a wrong day name,
  // and only on a date.
  const auto noted = read_retry_after_value(value, now);
  FUZZ_CHECK(noted.has_value() == r.has_value());
  if (noted.has_value()) {
    FUZZ_CHECK(noted.value().delay == r.value());
    if (noted.value().note) {
      FUZZ_CHECK(noted.value().note == errc::retry_after_weekday_mismatch);
      FUZZ_CHECK(parse_http_date(detail::trim_http_space(value), now).has_value());
    }
  }

  // delay-seconds: exactly the number written, or out of range.
  const std::string_view trimmed = detail::trim_http_space(value);
  const bool all_digits = !trimmed.empty() && trimmed.size() <= detail::retry_after_max_length &&
                          trimmed.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits) {
    const std::int64_t want = reference_delay_seconds(trimmed);
    if (want < 0) {
      FUZZ_CHECK(!r.has_value() && r.error() == errc::retry_after_out_of_range);
    } else {
      FUZZ_CHECK(r.has_value() && r.value() == chr::seconds{want});
    }
  }

  // HTTP-date: no form is longer than 33 characters; a parsed date is a real calendar instant;
  // a non-numeric value parses as a date exactly when parse_retry_after accepts it (or finds it
  // too far away).
  const auto at = parse_http_date(value, now);
  if (at) {
    FUZZ_CHECK(value.size() <= 33);
    const chr::year_month_day ymd{chr::floor<chr::days>(*at)};
    FUZZ_CHECK(ymd.ok());
  }
  if (!trimmed.empty() && trimmed.size() <= detail::retry_after_max_length &&
      !detail::is_digit(trimmed.front()) && trimmed.front() != '-') {
    const bool parsed_as_date = parse_http_date(trimmed, now).has_value();
    const bool accepted = r.has_value() || r.error() == errc::retry_after_out_of_range;
    FUZZ_CHECK(parsed_as_date == accepted);
    if (r.has_value() && r.value() > duration::zero())
      FUZZ_CHECK(*parse_http_date(trimmed, now) > now);
  }
  return 0;
}
