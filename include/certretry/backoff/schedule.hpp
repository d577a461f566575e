// certretry/backoff/schedule.hpp — base delays: how long to wait after the n-th attempt.
//
// A schedule is a small constexpr value type with `duration delay(std::uint32_t n)`, n >= 1
// being the number of attempts made so far. Every schedule is overflow-safe for any n (Polly's
// exponential backoff overflowed at attempt 1024): growth stops at the cap in O(log) steps.
#pragma once

#include "certretry/core/time.hpp"

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <variant>

namespace certretry {

template <class S>
concept schedule = requires(const S& s, std::uint32_t n) {
  { s.delay(n) } -> std::same_as<duration>;
};

// The same delay every time (VCert's 2 s retrieve poll, certbot's 1 s).
struct fixed_schedule {
  duration every;
  constexpr duration delay(std::uint32_t) const noexcept { return every; }
};

// base, base*factor, base*factor^2, ... capped. certctl's code is {5 s, 3, 5 min}: 5 s, 15 s,
// 45 s, 2 min 15 s, 5 min, 5 min ... (its operator reference says 2 min for the fourth; that
// is table_schedule certctl_documented below).
struct geometric_schedule {
  duration base;
  double factor;
  duration cap;

  constexpr duration delay(std::uint32_t n) const noexcept {
    if (base <= duration::zero()) return duration::zero();
    if (base >= cap) return cap;
    if (n <= 1 || !(factor > 1.0)) return base;
    double ms = static_cast<double>(base.count());
    const double cap_ms = static_cast<double>(cap.count());
    // Each step multiplies by factor > 1, so this loop runs at most log_factor(cap/base) times.
    for (std::uint32_t i = 1; i < n; ++i) {
      ms *= factor;
      if (ms >= cap_ms) return cap;
    }
    return detail::saturate_ms(ms);
  }
};

constexpr geometric_schedule exponential_schedule(duration base, duration cap) noexcept {
  return {base, 2.0, cap};
}

// An explicit list of delays; the last one repeats (it is the cap).
class table_schedule {
 public:
  static constexpr std::size_t max_steps = 16;

  constexpr table_schedule(std::initializer_list<duration> steps) noexcept {
    for (duration d : steps) {
      if (count_ == max_steps) break;
      steps_[count_++] = d;
    }
  }

  constexpr duration delay(std::uint32_t n) const noexcept {
    if (count_ == 0) return duration::zero();
    const std::size_t i = n == 0 ? 0 : std::min<std::size_t>(n, count_) - 1;
    return steps_[i];
  }

  constexpr std::size_t size() const noexcept { return count_; }

 private:
  std::array<duration, max_steps> steps_{};
  std::size_t count_ = 0;
};

// The schedules other clients use, by the names the harness and docs use.
namespace schedules {
// certctl's asyncpoll code: 5 s x3, capped at 5 min.
inline constexpr geometric_schedule certctl{5s, 3.0, 5min};
// certctl's operator reference: 5 s, 15 s, 45 s, 2 min, 5 min (cap).
inline constexpr table_schedule certctl_documented{5s, 15s, 45s, 2min, 5min};
// VCert's TPP retrieve loop: every 2 s, no backoff.
inline constexpr fixed_schedule vcert{2s};
// ACME clients: lego 5 s x1.5 up to 500 s, certbot 1 s, acme.sh 2 s, acmez 250 ms
// (docs/sources.md#lego, #certbot, #acme-sh, #acmez).
inline constexpr geometric_schedule lego{5s, 1.5, 500s};
inline constexpr fixed_schedule certbot{1s};
inline constexpr fixed_schedule acme_sh{2s};
inline constexpr fixed_schedule acmez{250ms};
// certretry's pace for ACME orders, authorizations and challenges when the server sends no
// Retry-After: close to certbot's 1 s at first (most orders are ready within seconds), then
// at most every 3 s (docs/acme.md has the comparison).
inline constexpr geometric_schedule acme{1s, 1.5, 3s};
}  // namespace schedules

// A schedule chosen at run time (from configuration); no allocation.
class any_schedule {
 public:
  template <class S>
  requires(std::same_as<S, fixed_schedule> || std::same_as<S, geometric_schedule> ||
           std::same_as<S, table_schedule>) constexpr any_schedule(S s) noexcept
      : impl_(s) {}

  constexpr duration delay(std::uint32_t n) const noexcept {
    return std::visit([n](const auto& s) { return s.delay(n); }, impl_);
  }

 private:
  std::variant<fixed_schedule, geometric_schedule, table_schedule> impl_;
};

// Looks a schedule up by the name the harness and docs use: certctl, certctl-documented, vcert,
// lego, certbot, acme-sh, acmez, acme.
constexpr std::optional<any_schedule> named_schedule(std::string_view name) noexcept {
  if (name == "certctl") return any_schedule{schedules::certctl};
  if (name == "certctl-documented") return any_schedule{schedules::certctl_documented};
  if (name == "vcert") return any_schedule{schedules::vcert};
  if (name == "lego") return any_schedule{schedules::lego};
  if (name == "certbot") return any_schedule{schedules::certbot};
  if (name == "acme-sh") return any_schedule{schedules::acme_sh};
  if (name == "acmez") return any_schedule{schedules::acmez};
  if (name == "acme") return any_schedule{schedules::acme};
  return std::nullopt;
}

inline constexpr std::string_view schedule_names[] = {
    "certctl", "certctl-documented", "vcert", "lego", "certbot", "acme-sh", "acmez", "acme"};

}  // namespace certretry
