// certretry/budget/combine.hpp — two budgets at once: a request goes out only if both admit it.
//
// The usual pair is adaptive throttling (every request) with a retry budget (retries only):
//   all_of{share(throttle), share(aws_quota)}
// The first is asked first. When it admits and the second withholds, the first has already
// counted the request (a retry's cost paid, a request counted as requested): the error is on
// the side of fewer retries, and no request is ever sent that either budget refused.
#pragma once

#include "certretry/budget/budget.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <utility>

namespace certretry {

/// Two budgets at once: a request goes out only if both admit it; the first is asked first.
///
/// Thread safety: as its two parts: all_of{share(a), share(b)} of shared budgets may be shared, as
/// they may.
template <retry_budget A, retry_budget B>
class all_of {
 public:
  /// Both budgets (usually two budget_ref handles).
  constexpr all_of(A a, B b) noexcept(
      std::is_nothrow_move_constructible_v<A>&& std::is_nothrow_move_constructible_v<B>)
      : a_(std::move(a)), b_(std::move(b)) {}

  /// Asks `a`, then `b` if `a` admitted.
  template <random_source R>
  admission admit(time_point now, send_kind k, R& rng) {
    const admission first = a_.admit(now, k, rng);
    if (!first) return first;
    return b_.admit(now, k, rng);
  }

  /// Tells both budgets how the request ended.
  void record(time_point now, send_kind k, call_result r) {
    a_.record(now, k, r);
    b_.record(now, k, r);
  }

  /// The first budget.
  A& first() noexcept { return a_; }
  /// The second budget.
  B& second() noexcept { return b_; }

 private:
  [[no_unique_address]] A a_;
  [[no_unique_address]] B b_;
};

}  // namespace certretry
