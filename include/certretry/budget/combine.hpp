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

template <retry_budget A, retry_budget B>
class all_of {
 public:
  constexpr all_of(A a, B b) noexcept(
      std::is_nothrow_move_constructible_v<A>&& std::is_nothrow_move_constructible_v<B>)
      : a_(std::move(a)), b_(std::move(b)) {}

  template <random_source R>
  admission admit(time_point now, send_kind k, R& rng) {
    const admission first = a_.admit(now, k, rng);
    if (!first) return first;
    return b_.admit(now, k, rng);
  }

  void record(time_point now, send_kind k, call_result r) {
    a_.record(now, k, r);
    b_.record(now, k, r);
  }

  A& first() noexcept { return a_; }
  B& second() noexcept { return b_; }

 private:
  [[no_unique_address]] A a_;
  [[no_unique_address]] B b_;
};

}  // namespace certretry
