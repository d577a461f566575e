// certretry/backoff/schedule.hpp — base delays: how long to wait after the n-th attempt.
//
// A schedule is a small constexpr value type with `duration delay(std::uint32_t n)`, n >= 1
// being the number of attempts made so far. Every schedule is overflow-safe for any n (Polly's
// exponential backoff overflowed at attempt 1024) and costs O(log n) at most, and may have
// `constexpr invalid_value check() const noexcept`, which backoff_policy::validate() asks.
#pragma once

#include "certretry/core/invalid_value.hpp"
#include "certretry/core/time.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <variant>

namespace certretry {

template <class S>
concept schedule = requires(const S& s, std::uint32_t n) {
  { s.delay(n) } -> std::same_as<duration>;
};

/// The same delay every time (VCert's 2 s retrieve poll, certbot's 1 s).
///
/// Thread safety: an immutable value: safe to share between threads.
struct fixed_schedule {
  duration every;  ///< the delay, every time
  /// `every`, whatever n.
  constexpr duration delay(std::uint32_t) const noexcept { return every; }
  /// Refuses a negative delay.
  constexpr invalid_value check() const noexcept {
    if (every < duration::zero()) return {"fixed_schedule.every", "must not be negative"};
    return {};
  }
};

/// base, base*factor, base*factor^2, ... capped. certctl's code is {5 s, 3, 5 min}: 5 s, 15 s,
/// 45 s, 2 min 15 s, 5 min, 5 min ... (its operator reference says 2 min for the fourth; that
/// is table_schedule certctl_documented below).
///
/// Thread safety: an immutable value: safe to share between threads.
struct geometric_schedule {
  duration base;  ///< the first delay
  double factor;  ///< growth per step (at least 1)
  duration cap;   ///< the longest delay

  /// At most 64 + 2 log2(n) multiplications, whatever the factor (a factor near 1 never reaches
  /// the cap by stepping: 1.0000001 would take 4 billion steps).
  constexpr duration delay(std::uint32_t n) const noexcept {
    if (base <= duration::zero()) return duration::zero();
    if (base >= cap) return cap;
    if (n <= 1 || !(factor > 1.0)) return base;
    double ms = static_cast<double>(base.count());
    const double cap_ms = static_cast<double>(cap.count());
    std::uint32_t steps = n - 1;
    // The first 64 steps one multiplication each, in the order certctl's loop does them, so
    // every delay a transcript shows rounds the same ...
    const std::uint32_t first = std::min<std::uint32_t>(steps, 64);
    for (std::uint32_t i = 0; i < first; ++i) {
      ms *= factor;
      if (ms >= cap_ms) return cap;
    }
    steps -= first;
    // ... then factor^steps by squaring. Every factor is > 1, so the product only grows and may
    // stop at the cap early; an infinite square ends there too.
    double f = factor;
    while (steps > 0) {
      if (steps & 1u) {
        ms *= f;
        if (ms >= cap_ms) return cap;
      }
      steps >>= 1;
      if (steps > 0) f *= f;
    }
    return detail::saturate_ms(ms);
  }
  /// Refuses a NaN or below-1 factor and negative delays.
  constexpr invalid_value check() const noexcept {
    if (base < duration::zero()) return {"geometric_schedule.base", "must not be negative"};
    if (cap < duration::zero()) return {"geometric_schedule.cap", "must not be negative"};
    if (!(factor >= 1.0)) return {"geometric_schedule.factor", "must be a number of at least 1"};
    return {};
  }
};

/// base, 2 base, 4 base ... capped at `cap`.
constexpr geometric_schedule exponential_schedule(duration base, duration cap) noexcept {
  return {base, 2.0, cap};
}

/// An explicit list of delays; the last one repeats (it is the cap).
///
/// Thread safety: an immutable value: safe to share between threads.
class table_schedule {
 public:
  /// The most delays a table holds.
  static constexpr std::size_t max_steps = 16;

  /// From a list of at most max_steps delays (more are dropped; check() refuses them).
  constexpr table_schedule(std::initializer_list<duration> steps) noexcept {
    for (duration d : steps) {
      if (count_ == max_steps) break;
      steps_[count_++] = d;
    }
  }
  /// From steps built at run time (a tuned schedule, a configuration file).
  constexpr explicit table_schedule(std::span<const duration> steps) noexcept {
    for (duration d : steps) {
      if (count_ == max_steps) break;
      steps_[count_++] = d;
    }
  }

  /// The n-th delay (n from 1); past the end, the last.
  constexpr duration delay(std::uint32_t n) const noexcept {
    if (count_ == 0) return duration::zero();
    const std::size_t i = n == 0 ? 0 : std::min<std::size_t>(n, count_) - 1;
    return steps_[i];
  }

  /// How many delays the table holds.
  constexpr std::size_t size() const noexcept { return count_; }
  /// Refuses a negative delay or more than max_steps delays.
  constexpr invalid_value check() const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
      if (steps_[i] < duration::zero()) return {"table_schedule", "a delay is negative"};
    return {};
  }

 private:
  std::array<duration, max_steps> steps_{};
  std::size_t count_ = 0;
};

/// The schedules other clients use, by the names the harness and docs use.
namespace schedules {
/// certctl's asyncpoll code: 5 s x3, capped at 5 min.
inline constexpr geometric_schedule certctl{5s, 3.0, 5min};
/// certctl's operator reference: 5 s, 15 s, 45 s, 2 min, 5 min (cap).
inline constexpr table_schedule certctl_documented{5s, 15s, 45s, 2min, 5min};
/// VCert's TPP retrieve loop: every 2 s, no backoff.
inline constexpr fixed_schedule vcert{2s};
/// ACME clients: lego 5 s x1.5 up to 500 s, certbot 1 s, acme.sh 2 s, acmez 250 ms
/// (docs/sources.md#lego, #certbot, #acme-sh, #acmez).
inline constexpr geometric_schedule lego{5s, 1.5, 500s};
/// certbot's poll: every 1 s.
inline constexpr fixed_schedule certbot{1s};
/// acme.sh's poll: every 2 s.
inline constexpr fixed_schedule acme_sh{2s};
/// acmez's poll: every 250 ms.
inline constexpr fixed_schedule acmez{250ms};
/// certretry's pace for ACME orders, authorizations and challenges when the server sends no
/// Retry-After: what `certretry-harness tune docs/figures/tuning/acme.json` recommends for an
/// order whose processing is lognormal (median 2 s, p99 10 s), a call worth 2 s of delay and the
/// 99th percentile seen by 10.25 s (docs/tuning.md): 2.9 s, then 2.1 s growing to 4.8 s.
/// Against acme.sh's 2 s it sends fewer polls with a lower p99 (docs/acme.md has the table).
inline constexpr table_schedule acme{2900ms, 2100ms, 2300ms, 2600ms, 2700ms, 2900ms,
                                     3100ms, 3300ms, 3500ms, 3700ms, 3900ms, 4000ms,
                                     4200ms, 4400ms, 4600ms, 4800ms};
/// certretry's pace for an asynchronous CA's order (DigiCert, Sectigo, Entrust, GlobalSign, the
/// generic profile) after the first poll, which goes out at once: what `certretry-harness tune
/// docs/figures/tuning/async-ca.json` recommends from the fixed and geometric families for a CA
/// that may issue in under a second or in hours (lognormal, median 60 s, sigma 2), a call worth
/// 100 s of delay and a 6 h deadline (docs/tuning.md, "The async-CA default"): 98 s x1.25,
/// capped at 45 min. Geometric, so that calls grow with the log of the issuance time; for
/// certctl's own case (median 60 s, sigma 1, 10 min) it sends fewer calls than certctl's
/// schedule at a lower p99 added delay.
inline constexpr geometric_schedule async_ca{98s, 1.25, 45min};
}  // namespace schedules

/// A schedule chosen at run time (from configuration); no allocation.
///
/// Thread safety: an immutable value: safe to share between threads.
class any_schedule {
 public:
  /// Holds `s`.
  template <class S>
  requires(std::same_as<S, fixed_schedule> || std::same_as<S, geometric_schedule> ||
           std::same_as<S, table_schedule>) constexpr any_schedule(S s) noexcept
      : impl_(s) {}

  /// The held schedule's n-th delay.
  constexpr duration delay(std::uint32_t n) const noexcept {
    return std::visit([n](const auto& s) { return s.delay(n); }, impl_);
  }
  /// The held schedule's check.
  constexpr invalid_value check() const noexcept {
    return std::visit([](const auto& s) { return s.check(); }, impl_);
  }

 private:
  std::variant<fixed_schedule, geometric_schedule, table_schedule> impl_;
};

/// Looks a schedule up by the name the harness and docs use: certctl, certctl-documented, vcert,
/// lego, certbot, acme-sh, acmez, acme, async-ca.
constexpr std::optional<any_schedule> named_schedule(std::string_view name) noexcept {
  if (name == "certctl") return any_schedule{schedules::certctl};
  if (name == "certctl-documented") return any_schedule{schedules::certctl_documented};
  if (name == "vcert") return any_schedule{schedules::vcert};
  if (name == "lego") return any_schedule{schedules::lego};
  if (name == "certbot") return any_schedule{schedules::certbot};
  if (name == "acme-sh") return any_schedule{schedules::acme_sh};
  if (name == "acmez") return any_schedule{schedules::acmez};
  if (name == "acme") return any_schedule{schedules::acme};
  if (name == "async-ca") return any_schedule{schedules::async_ca};
  return std::nullopt;
}

/// The names named_schedule() knows, for help texts and error messages.
inline constexpr std::string_view schedule_names[] = {
    "certctl", "certctl-documented", "vcert", "lego", "certbot", "acme-sh", "acmez", "acme",
    "async-ca"};

/// A schedule by name (named_schedule) or written out, seconds as decimal numbers:
///   fixed:S              every S
///   geometric:B,F,C      B, B*F, B*F^2 ... capped at C (F from 1 to 100)
///   table:S1,S2,...,Sn   up to 16 delays, the last one repeating
/// (what `certretry-harness tune` prints for a tuned schedule). Delays from 0 to a year.
inline std::optional<any_schedule> parse_schedule(std::string_view text) noexcept {
  if (auto named = named_schedule(text)) return named;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view kind = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  std::array<double, table_schedule::max_steps> v{};
  std::size_t n = 0;
  while (true) {
    if (n == v.size()) return std::nullopt;
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    double x = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || !(x >= 0) ||
        x > 31536000.0)
      return std::nullopt;
    v[n++] = x;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  const auto ms = [](double seconds) { return duration{std::llround(seconds * 1000.0)}; };
  if (kind == "fixed" && n == 1) return any_schedule{fixed_schedule{ms(v[0])}};
  if (kind == "geometric" && n == 3 && v[1] >= 1.0 && v[1] <= 100.0)
    return any_schedule{geometric_schedule{ms(v[0]), v[1], ms(v[2])}};
  if (kind == "table") {
    std::array<duration, table_schedule::max_steps> d{};
    for (std::size_t i = 0; i < n; ++i) d[i] = ms(v[i]);
    return any_schedule{table_schedule{std::span<const duration>(d.data(), n)}};
  }
  return std::nullopt;
}

}  // namespace certretry
