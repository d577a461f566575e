// certretry/acme/renewal_window.hpp — acting on a renewalInfo reply (RFC 9773 §4.2, §4.3).
//
// Sans-IO: the current time and the random source are the caller's; nothing here reads a clock.
#pragma once

#include "certretry/acme/reply.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <chrono>
#include <cstdint>

namespace certretry::acme {

/// RFC 9773 §4.2: a time chosen uniformly at random in [window_start, window_end); if that time
/// is already past, renew now (`now` is returned). A window with end <= start (which the reader
/// refuses) is treated as the single instant window_start.
template <random_source R>
time_point pick_renewal_time(const renewal_info& info, time_point now, R& rng) {
  const duration width = saturating_sub(info.window_end, info.window_start);
  duration offset = duration::zero();
  if (width > duration::zero()) {
    const double u = uniform_unit(rng);  // [0, 1)
    auto ms = static_cast<std::int64_t>(u * static_cast<double>(width.count()));
    // Rounding of very wide windows could land on the end itself, which is outside.
    if (ms >= width.count()) ms = width.count() - 1;
    if (ms < 0) ms = 0;
    offset = duration{ms};
  }
  const time_point chosen = saturating_add(info.window_start, offset);
  return chosen < now ? now : chosen;
}

/// RFC 9773 §4.3: a renewalInfo Retry-After is the interval the server wants between polls;
/// clients clamp it to a sane range (the RFC's example: one minute to one day). If lo > hi,
/// lo wins.
constexpr duration clamp_ari_retry_after(duration hint, duration lo = std::chrono::minutes{1},
                                         duration hi = std::chrono::hours{24}) noexcept {
  if (hint > hi) hint = hi;
  if (hint < lo) hint = lo;
  return hint;
}

}  // namespace certretry::acme
