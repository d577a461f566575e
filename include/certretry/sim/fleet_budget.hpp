// certretry/sim/fleet_budget.hpp — one budget for a whole simulated fleet, of a kind chosen at
// run time (a fleet file, a benchmark row): none, a ratio budget, a token bucket or adaptive
// throttling (budget/), and optionally adaptive throttling in front of the retry budget (what
// all_of{share(throttle), share(budget)} does for a caller). The fleet owns one per CA and
// shares it with every machine it drives, as a caller shares one budget per upstream
// (docs/budgets.md).
#pragma once

#include "certretry/budget/adaptive.hpp"
#include "certretry/budget/budget.hpp"
#include "certretry/budget/ratio.hpp"
#include "certretry/budget/token_bucket.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace certretry::sim {

/// Which budget a simulated fleet shares, with its parameters (from a fleet file).
///
/// Thread safety: an immutable value: safe to share between threads.
struct budget_spec {
  /// The budget kinds a fleet file names.
  enum class kind : std::uint8_t { none, ratio, token_bucket, adaptive };
  kind what = kind::none;               ///< which budget
  ratio_budget_params ratio{};          ///< ratio: its parameters
  token_bucket_params bucket{};         ///< token_bucket: its parameters
  adaptive_throttle_params adaptive{};  ///< adaptive: its parameters
  /// Adaptive throttling (these parameters) asked first, then the budget chosen by `what`: the
  /// SRE book's two client-side defences together (docs/budgets.md, "The recommended pair").
  std::optional<adaptive_throttle_params> throttle{};
};

/// The one budget a simulated fleet's machines share, of the kind a budget_spec names.
///
/// Thread safety: as the budget it holds: safe to share between threads (the simulator runs on
/// one).
class fleet_budget {
 public:
  /// The budget `s` names (none: admits everything).
  explicit fleet_budget(const budget_spec& s = {}) {
    switch (s.what) {
      case budget_spec::kind::none: break;
      case budget_spec::kind::ratio: impl_ = std::make_unique<ratio_budget>(s.ratio); break;
      case budget_spec::kind::token_bucket:
        impl_ = std::make_unique<token_bucket_budget>(s.bucket);
        break;
      case budget_spec::kind::adaptive:
        impl_ = std::make_unique<adaptive_throttle>(s.adaptive);
        break;
    }
    if (s.throttle) throttle_ = std::make_unique<adaptive_throttle>(*s.throttle);
  }

  /// True when a budget is configured.
  bool enabled() const noexcept { return impl_.index() != 0 || throttle_ != nullptr; }

  /// Before every request a machine sends: the throttle (if any), then the budget.
  template <random_source R>
  admission admit(time_point now, send_kind k, R& rng) {
    if (throttle_) {
      const admission t = throttle_->admit(now, k, rng);
      if (!t) {
        ++denied_;
        return t;
      }
    }
    return admit_budget(now, k, rng);
  }

  /// The caller's question before it re-enqueues work whose last request failed: that work is a
  /// retry, which a retry budget must see, although the machine that runs it starts with a first
  /// request. Adaptive throttling is not asked: no request goes out here, it counts every request
  /// and the machine asks it before the one it sends; asking twice would count one request twice.
  template <random_source R>
  admission admit_requeue(time_point now, R& rng) {
    if (impl_.index() == 0 || std::holds_alternative<std::unique_ptr<adaptive_throttle>>(impl_))
      return admission::yes();
    return admit_budget(now, send_kind::retry, rng);
  }

  /// Tells the budget how the request ended.
  void record(time_point now, send_kind k, call_result r) {
    if (throttle_) throttle_->record(now, k, r);
    std::visit(
        [&](auto& b) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(b)>, std::monostate>)
            b->record(now, k, r);
        },
        impl_);
  }

  /// Requests the budget withheld so far (the machines' and the caller's).
  std::uint64_t denied() const noexcept { return denied_; }

 private:
  template <random_source R>
  admission admit_budget(time_point now, send_kind k, R& rng) {
    const admission a = std::visit(
        [&](auto& b) -> admission {
          if constexpr (std::is_same_v<std::decay_t<decltype(b)>, std::monostate>)
            return admission::yes();
          else
            return b->admit(now, k, rng);
        },
        impl_);
    if (!a) ++denied_;
    return a;
  }

  std::variant<std::monostate, std::unique_ptr<ratio_budget>, std::unique_ptr<token_bucket_budget>,
               std::unique_ptr<adaptive_throttle>>
      impl_;
  std::unique_ptr<adaptive_throttle> throttle_;
  std::uint64_t denied_ = 0;
};
static_assert(retry_budget<fleet_budget>);

}  // namespace certretry::sim
