// certretry/budget/budget.hpp — what a machine asks an overload-protection policy, and the
// policy that never says no.
//
// A budget sees every request a machine wants to send (admit) and how each one ended (record).
// It may withhold a request; the machine then waits (wait_reason::budget) or finishes, as the
// budget's answer says, and reports a budget_denied event. Budgets exist because clients that
// keep retrying while most calls fail turn a slow server into an outage (GlobalSign Atlas,
// 2020-10-28; Google SRE book, "Handling Overload").
//
// A budget is per upstream and shared explicitly: the caller owns one value per CA endpoint and
// hands machines a budget_ref to it. There is no global registry. Budgets read no clock (the
// time comes with each call) and draw randomness only from the generator passed in.
#pragma once

#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"

#include <concepts>
#include <cstdint>
#include <string_view>

namespace certretry {

/// Which request a machine is about to send.
enum class send_kind : std::uint8_t {
  first,                ///< the run's first request
  follow_up,            ///< after a success: the next poll, the next step of a protocol
  retry,                ///< the same work again after a transient failure (429, 5xx, network)
  retry_after_timeout,  ///< a retry after the transport timed out (AWS charges it double)
};

/// True for the kinds a budget counts as retries.
constexpr bool is_retry(send_kind k) noexcept {
  return k == send_kind::retry || k == send_kind::retry_after_timeout;
}

/// How a request that went out ended, as the budget counts it.
enum class call_result : std::uint8_t {
  success,    ///< the server answered and did its part: done, pending, the next protocol step
  refused,    ///< the server answered with a permanent refusal: not overload, not retried
  failure,    ///< transient: 408, 429, 5xx, a transport error other than a timeout
  timeout,    ///< the transport timed out
  abandoned,  ///< no answer will be read: the caller gave up while the request was out
};

/// What a withheld request becomes.
enum class on_denial : std::uint8_t {
  finish,  ///< finish still_pending (errc::budget_exhausted): the caller re-enqueues later
  wait,    ///< wait (wait_reason::budget) and ask again, within the machine's own deadline
};

/// The send kind's name, for transcripts and logs.
constexpr std::string_view to_string(send_kind k) noexcept {
  switch (k) {
    case send_kind::first: return "first";
    case send_kind::follow_up: return "follow-up";
    case send_kind::retry: return "retry";
    case send_kind::retry_after_timeout: return "retry-after-timeout";
  }
  return "?";
}

/// The call result's name, for transcripts and logs.
constexpr std::string_view to_string(call_result r) noexcept {
  switch (r) {
    case call_result::success: return "success";
    case call_result::refused: return "refused";
    case call_result::failure: return "failure";
    case call_result::timeout: return "timeout";
    case call_result::abandoned: return "abandoned";
  }
  return "?";
}

/// The denial's name, for transcripts and logs.
constexpr std::string_view to_string(on_denial d) noexcept {
  switch (d) {
    case on_denial::finish: return "finish";
    case on_denial::wait: return "wait";
  }
  return "?";
}

/// A budget's answer. Denied: `why` is static text, `then` what the withheld request becomes (the
/// budget's configured denial), `retry_in` when asking again may succeed (zero: the budget cannot
/// tell, as a token bucket that only successes refill).
///
/// Thread safety: a plain value (static text): safe to copy and read from any thread.
struct admission {
  bool admitted = true;                ///< true: send the request
  std::string_view why{};              ///< denied: why (static text)
  on_denial then = on_denial::finish;  ///< denied: what the withheld request becomes
  duration retry_in{};                 ///< denied: when asking again may succeed (zero: unknown)

  /// Admitted.
  static constexpr admission yes() noexcept { return {}; }
  /// Withheld: `why`, then `then`, ask again in `retry_in`.
  static constexpr admission no(std::string_view why, on_denial then,
                                duration retry_in = {}) noexcept {
    return {false, why, then, retry_in};
  }
  /// True when admitted.
  constexpr explicit operator bool() const noexcept { return admitted; }
};

/// admit() is called before every request (the machine sends it only when admitted); record()
/// once for every admitted request, with the same kind, when its result is known.
template <class B>
concept retry_budget = requires(B& b, time_point now, send_kind k, call_result r, splitmix64& rng) {
  { b.admit(now, k, rng) } -> std::same_as<admission>;
  b.record(now, k, r);
};

/// The default: admits everything and keeps nothing, so a machine without a budget compiles to
/// what it was before budgets existed.
///
/// Thread safety: stateless: share freely.
struct no_budget {
  static constexpr bool enabled = false;  ///< can never withhold anything
  /// Admits every request.
  template <random_source R>
  static constexpr admission admit(time_point, send_kind, R&) noexcept {
    return admission::yes();
  }
  /// Keeps nothing.
  static constexpr void record(time_point, send_kind, call_result) noexcept {}
};
static_assert(retry_budget<no_budget>);

/// Whether a budget type can ever withhold anything (no_budget cannot).
template <class B>
inline constexpr bool budget_enabled = !requires {
  requires !B::enabled;
};

/// A machine's handle on a budget the caller owns and shares (one per upstream). Copying the
/// handle shares the budget; the budget must outlive every machine holding a handle. Thread
/// safety is the budget's: every budget in budget/ may be shared across threads.
///
/// Thread safety: a handle: copies share one budget, which must outlive them; the budget's own rule
/// says which threads may use it (every budget in budget/ may be shared).
template <retry_budget B>
class budget_ref {
 public:
  /// A handle on `b`, which must outlive it.
  constexpr explicit budget_ref(B& b) noexcept : b_(&b) {}

  /// Asks the budget.
  template <random_source R>
  admission admit(time_point now, send_kind k, R& rng) {
    return b_->admit(now, k, rng);
  }
  /// Tells the budget how the request ended.
  void record(time_point now, send_kind k, call_result r) { b_->record(now, k, r); }
  /// The budget.
  B& get() const noexcept { return *b_; }

 private:
  B* b_;
};

/// share(bucket): a handle for a machine's Budget parameter.
template <retry_budget B>
constexpr budget_ref<B> share(B& b) noexcept {
  return budget_ref<B>{b};
}

}  // namespace certretry
