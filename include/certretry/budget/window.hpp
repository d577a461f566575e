// certretry/budget/window.hpp — two counters over a sliding time window, for the ratio budget
// and adaptive throttling.
//
// The window is cut into `slots` equal steps (Finagle's WindowedAdder does the same): an event
// counts until the step it fell in is `slots` steps old, so it leaves the window between
// window − window/slots and window after it happened. Memory is fixed; no allocation. Time only
// comes in as arguments. An event timed before the newest one seen (threads reporting slightly
// out of order) is counted in the newest step rather than rewriting history.
//
// Not synchronised: the budgets that use it hold a mutex around every call.
#pragma once

#include "certretry/core/time.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace certretry::detail {

class sliding_counts {
 public:
  static constexpr std::size_t slots = 10;

  constexpr explicit sliding_counts(duration window) noexcept
      : step_(std::max<std::int64_t>(window.count() / static_cast<std::int64_t>(slots), 1)) {}

  // Adds n to counter `which` (0 or 1) at time now.
  constexpr void add(time_point now, std::size_t which, std::uint64_t n = 1) noexcept {
    std::int64_t i = index_of(now);
    if (i < newest_) i = newest_;
    newest_ = i;
    slot& s = ring_[static_cast<std::size_t>(floor_mod(i))];
    if (s.index != i) s = slot{i, {0, 0}};
    s.count[which & 1] += n;
  }

  // Both counters over the window ending at now.
  constexpr std::array<std::uint64_t, 2> totals(time_point now) const noexcept {
    std::array<std::uint64_t, 2> t{0, 0};
    const std::int64_t head = std::max(index_of(now), newest_);
    for (const slot& s : ring_)
      if (in_window(s.index, head)) {
        t[0] += s.count[0];
        t[1] += s.count[1];
      }
    return t;
  }

  // The totals after the oldest `k` steps still in the window have left it, and when that
  // happens (time from now). k = 0 is totals(now).
  struct later {
    std::array<std::uint64_t, 2> totals;
    duration in;
  };
  constexpr later after_expiry(time_point now, std::size_t k) const noexcept {
    const std::int64_t head = std::max(index_of(now), newest_);
    const std::int64_t new_head = head + static_cast<std::int64_t>(k);
    later out{{0, 0}, duration::zero()};
    for (const slot& s : ring_)
      if (in_window(s.index, head) && in_window(s.index, new_head)) {
        out.totals[0] += s.count[0];
        out.totals[1] += s.count[1];
      }
    if (k > 0) {
      // The step new_head starts at new_head * step_.
      const std::int64_t at = new_head * step_;
      out.in = duration{std::max<std::int64_t>(at - now.time_since_epoch().count(), 0)};
    }
    return out;
  }

  constexpr duration step() const noexcept { return duration{step_}; }

 private:
  struct slot {
    std::int64_t index = std::numeric_limits<std::int64_t>::min();
    std::array<std::uint64_t, 2> count{0, 0};
  };

  constexpr std::int64_t index_of(time_point t) const noexcept {
    const std::int64_t ms = t.time_since_epoch().count();
    return ms >= 0 ? ms / step_ : -((-ms + step_ - 1) / step_);
  }
  static constexpr std::int64_t floor_mod(std::int64_t i) noexcept {
    const auto n = static_cast<std::int64_t>(slots);
    return ((i % n) + n) % n;
  }
  static constexpr bool in_window(std::int64_t index, std::int64_t head) noexcept {
    return index != std::numeric_limits<std::int64_t>::min() && index <= head &&
           head - index < static_cast<std::int64_t>(slots);
  }

  std::int64_t step_;
  std::int64_t newest_ = std::numeric_limits<std::int64_t>::min();
  std::array<slot, slots> ring_{};
};

}  // namespace certretry::detail
