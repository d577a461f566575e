// certretry/acme/ari.hpp — when to renew, as the CA suggests (RFC 9773 ACME Renewal
// Information).
//
// The machine GETs the certificate's renewalInfo, picks a uniformly random time in the
// suggested window from the injected random source (renewal_window.hpp; a time already past
// means now), and asks again when the reply's Retry-After says, clamped to [1 min, 1 day]
// (RFC 9773 §4.3's example; configurable). It keeps its pick while the window stays the same (a
// new draw at every poll would drift the renewal towards the window's start) and picks again
// when the window moves. It finishes with outcome renew_at (outcome::not_before = the time)
// when that time comes before the next poll, or at once when wait_for_window is off.
//
// Errors (RFC 9773 §4.3.3): temporary ones (a timeout, 5xx, a 429 without Retry-After) back off
// on the policy's schedule, at most max_temporary_retries in a row; long-term ones (a body that
// is not renewalInfo, any other 4xx) and a reply without Retry-After wait long_term_retry (6 h).
// It never polls at or after the certificate's notAfter: when no renewal time comes before it,
// it finishes renew_at now.
//
// States: idle -> fetching -> (waiting -> fetching | window -> finished | finished)
#pragma once

#include "certretry/acme/exchange.hpp"
#include "certretry/acme/renewal_window.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/base64url.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/target.hpp"
#include "certretry/core/text.hpp"
#include "certretry/machine/base.hpp"
#include "certretry/machine/kit.hpp"
#include "certretry/acme/reply.hpp"
#include "certretry/core/verdict.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::acme {

struct ari_options {
  // The directory's renewalInfo URL; the CertID is appended as a path segment (RFC 9773 §4.1).
  std::string renewal_info_url = "/acme/renewal-info";
  std::string cert_id;  // cert_id_from_pem() / cert_id_from_der()
  time_point not_after{};
  duration min_retry_after = std::chrono::minutes{1};
  duration max_retry_after = std::chrono::hours{24};
  duration long_term_retry = std::chrono::hours{6};
  std::uint32_t max_temporary_retries = 5;
  bool wait_for_window = true;
  std::size_t max_body_bytes = certretry::default_max_body_bytes;

  // The values the machine refuses at start (errc::invalid_policy): intervals under a second
  // would let a Retry-After of 0 or an error poll the CA in a tight loop.
  constexpr invalid_value check() const noexcept {
    if (min_retry_after < std::chrono::seconds{1})
      return {"ari_options.min_retry_after", "must be at least 1 s"};
    if (long_term_retry < std::chrono::seconds{1})
      return {"ari_options.long_term_retry", "must be at least 1 s"};
    return {};
  }
};

// RFC 9773 §4.1: a CertID is base64url(keyIdentifier) "." base64url(serial). The machine asks
// only that it be one path segment in those characters (a server may use ids of its own).
constexpr bool is_cert_id(std::string_view id) noexcept {
  if (id.empty() || id == "." || id == "..") return false;
  for (const char c : id)
    if (c != '.' && !is_base64url(std::string_view(&c, 1))) return false;
  return true;
}

// The policy for temporary errors: 1 min doubling up to 1 h, ±20 % jitter; the run itself is
// bounded by notAfter, not by this policy's max_wait.
inline backoff_policy<any_schedule, any_jitter> ari_error_policy() {
  limits l;
  l.max_wait = std::chrono::hours{24 * 400};
  l.min_delay = std::chrono::seconds{1};  // not 1 min: that would cut the jitter's lower half
  retry_after_policy ra;
  ra.mode = retry_after_mode::ignore;  // the machine clamps Retry-After itself (§4.3)
  return {any_schedule{exponential_schedule(std::chrono::minutes{1}, std::chrono::hours{1})},
          any_jitter{proportional_jitter{0.2}}, l, ra};
}

enum class ari_state : std::uint8_t { idle, fetching, waiting, window, finished };

template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink, retry_budget Budget = no_budget>
class ari_machine
    : public machine_base<ari_machine<S, J, R, Sink, Budget>, ari_state, S, J, R, Sink, Budget> {
  using base = machine_base<ari_machine, ari_state, S, J, R, Sink, Budget>;
  friend base;
  using base::finish;
  using base::kit_;

 public:
  ari_machine(ari_options options, backoff_policy<S, J> policy, R rng, Sink sink = {},
              Budget budget = {})
      : base(policy, std::move(rng), std::move(sink), std::move(budget)),
        options_(std::move(options)),
        reader_(options_.max_body_bytes),
        problems_(options_.max_body_bytes) {
    target_ = options_.renewal_info_url;
    while (!target_.empty() && target_.back() == '/') target_.pop_back();
    target_ += '/';
    target_ += options_.cert_id;
  }

  // The renewal time picked from the last window, if any.
  std::optional<time_point> renewal_time() const noexcept { return chosen_; }

 private:
  // --- the inputs machine_base hands over -------------------------------------------------
  action on_start(time_point now) {
    if (options_.cert_id.empty())
      return this->refuse(now, errc::invalid_policy,
                          {"ari_options.cert_id", "is empty: no CertID to ask about"});
    if (const invalid_value bad = options_.check())
      return this->refuse(now, errc::invalid_policy, bad);
    if (const auto p = target_problem(options_.renewal_info_url); !p.empty())
      return this->refuse(now, errc::invalid_request_value, {"ari_options.renewal_info_url", p});
    if (!is_cert_id(options_.cert_id))
      return this->refuse(now, errc::invalid_request_value,
                          {"ari_options.cert_id",
                           "is not a CertID: base64url characters and '.' only (RFC 9773 §4.1)"});
    if (now >= options_.not_after) return renew_now(now, "the certificate has expired");
    return fetch(now);
  }

  action on_reply(time_point now, const response_view& r) {
    const auto ra = retry_after(now, r);
    if (r.status >= 200 && r.status <= 299) {
      auto info = reader_.read(r.body, &why_);
      if (!info) {
        why_ = "not renewalInfo: " + why_;
        return long_term(now, r.status, ra);
      }
      temporary_ = 0;
      return on_window(now, r.status, info.assume_value(), ra);
    }
    why_ = "renewalInfo answered " + std::to_string(r.status);
    if (const auto p = problems_.read(r.body)) {
      why_ += ": ";
      detail::describe_problem(why_, *p);
    }
    if (triage_status(r.status).verdict == verdict::transient) {
      // A 429 or 503 that says when is the server's interval, clamped (§4.3).
      if (ra) {
        kit_.report_verdict(now, r.status, {}, verdict::transient, why_);
        return next_poll(now, *ra, wait_reason::retry_after);
      }
      return temporary(now, r.status, {});
    }
    return long_term(now, r.status, ra);
  }

  action on_send_failed(time_point now, std::error_code ec) {
    why_.assign(transport_error_name(ec));
    return temporary(now, 0, ec);
  }

  action on_resume(time_point now) {
    if (this->state() == ari_state::window) return renew_at(now, *chosen_);
    if (now >= options_.not_after) return renew_now(now, "no renewal window before notAfter");
    return fetch(now);
  }

  action fetch(time_point now) {
    return this->send_request(now, {"GET", target_, {}, {}}, ari_state::fetching);
  }

  // The reply's Retry-After, clamped to [min, max] (§4.3); nothing when absent or unusable.
  std::optional<duration> retry_after(time_point now, const response_view& r) {
    const auto hint = kit_.read_retry_after_reporting(now, r);
    if (!hint) return std::nullopt;
    return clamp_ari_retry_after(*hint, options_.min_retry_after, options_.max_retry_after);
  }

  action on_window(time_point now, int status, const renewal_info& info,
                   std::optional<duration> ra) {
    why_ = "window " + format_rfc3339(info.window_start) + " to " + format_rfc3339(info.window_end);
    kit_.report_verdict(now, status, {}, verdict::done, why_);
    if (!chosen_ || info.window_start != window_start_ || info.window_end != window_end_) {
      window_start_ = info.window_start;
      window_end_ = info.window_end;
      chosen_ = pick_renewal_time(info, now, kit_.rng());
      kit_.sink()(event{.kind = event_kind::renewal_time,
                        .at = now,
                        .attempt = kit_.sends(),
                        .why = why_,
                        .when = *chosen_});
    }
    if (*chosen_ <= now) return renew_at(now, now);
    if (!options_.wait_for_window) return renew_at(now, *chosen_);
    // No Retry-After: the long-term interval (§4.3.3).
    return ra ? next_poll(now, *ra, wait_reason::retry_after)
              : next_poll(now, options_.long_term_retry, wait_reason::schedule);
  }

  action temporary(time_point now, int status, std::error_code ec) {
    kit_.report_verdict(now, status, ec, verdict::transient, why_);
    if (temporary_ >= options_.max_temporary_retries) {
      temporary_ = 0;
      return next_poll(now, options_.long_term_retry, wait_reason::schedule);
    }
    ++temporary_;
    const next_step step = kit_.plan(now, std::nullopt);
    if (!step.waits()) return next_poll(now, options_.long_term_retry, wait_reason::schedule);
    return next_poll(now, step.delay, step.why);
  }

  // Not `permanent`: the run goes on, only the next poll is far (§4.3.3).
  action long_term(time_point now, int status, std::optional<duration> ra) {
    temporary_ = 0;
    kit_.report_verdict(now, status, {}, verdict::transient, why_);
    const duration d = ra && *ra > options_.long_term_retry ? *ra : options_.long_term_retry;
    return next_poll(now, d, wait_reason::schedule);
  }

  // Waits `d` before the next poll, unless the renewal time or notAfter comes first.
  action next_poll(time_point now, duration d, wait_reason why) {
    const time_point next = saturating_add(now, d);
    const bool have_time = chosen_ && *chosen_ < options_.not_after;
    if (have_time && *chosen_ <= next)
      return this->wait_for(now, *chosen_ - now, wait_reason::window, ari_state::window);
    if (next >= options_.not_after) return renew_now(now, "no renewal window before notAfter");
    return this->wait_for(now, d, why);
  }

  action renew_now(time_point now, std::string_view why) {
    kit_.set_not_before(now);
    return finish(now, outcome_kind::renew_at, {}, std::string(why) + ": renew now");
  }

  action renew_at(time_point now, time_point when) {
    kit_.set_not_before(when);
    return finish(now, outcome_kind::renew_at, {},
                  "renew at " + format_rfc3339(when) + " (suggested window " +
                      format_rfc3339(window_start_) + " to " + format_rfc3339(window_end_) + ")");
  }

  ari_options options_;
  renewal_info_reader reader_;
  problem_reader problems_;
  std::string target_;
  std::string why_;
  std::optional<time_point> chosen_;
  time_point window_start_{};
  time_point window_end_{};
  std::uint32_t temporary_ = 0;
};

static_assert(machine<ari_machine<>>);

}  // namespace certretry::acme
