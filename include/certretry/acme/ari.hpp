// certretry/acme/ari.hpp — when to renew, as the CA suggests (RFC 9773 ACME Renewal
// Information).
//
// The machine GETs the certificate's renewalInfo, picks a uniformly random time in the
// suggested window from the injected random source (renewal_window.hpp; a time already past
// means now), and asks again when the reply's Retry-After says, clamped to [1 min, 1 day]
// (RFC 9773 §4.3's example; configurable). It keeps its pick while the window stays the same (a
// new draw at every poll would drift the renewal towards the window's start) and picks again
// when the window moves. It finishes with outcome renew_at (outcome::not_before = the time)
// when that time comes before the next poll, or at once when wait_for_window is off. The
// window's explanationURL (§4.2: clients SHOULD show it to the operator) is carried in the
// renewal-time event and the outcome's reason.
//
// Errors (RFC 9773 §4.3.3): only timeouts (a transport timeout, 408) and 5xx are temporary; they
// back off on ari_options::errors (1 min doubling to 1 h, ±20 %) counted over the errors in a
// row, at most max_temporary_retries times, then every long_term_retry (6 h). A Retry-After on
// an error never shortens that wait (Boulder sends `Retry-After: 60` with every 500). Everything
// else is long-term and waits long_term_retry: a refused connection, a DNS failure, a TLS
// failure or reset, any other HTTP error (a 429 included), a body that is not renewalInfo or an
// invalid window, and a good reply without Retry-After.
//
// With no usable window (another CA's certificate answered 404, errors that persist, invalid
// windows) the certificate is renewed on a fallback schedule (§4.2): at `fallback` of its
// validity (two thirds; half for certificates shorter than 10 days, as lego and certbot do),
// from not_before and not_after. It never polls at or after notAfter.
//
// Resumable: progress() is a small value (the pick and its window, the next poll, the errors in
// a row) with a one-line text form (to_text, parse_ari_progress); a machine given it in
// ari_options::resume neither draws again for the same window nor polls before that time.
//
// States: idle -> fetching -> (waiting -> fetching | window | fallback -> finished | finished)
#pragma once

#include "certretry/acme/exchange.hpp"
#include "certretry/acme/renewal_window.hpp"
#include "certretry/acme/reply.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/base64url.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/target.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/machine/base.hpp"
#include "certretry/machine/kit.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::acme {

/// The renewal time of a certificate without a usable ARI window (RFC 9773 §4.2: "a fallback
/// schedule"): not_before + fraction x validity, or short_lived_fraction for a validity under
/// short_lived_below. The defaults are lego's and certbot's rule (docs/sources.md#lego-renewal,
/// docs/sources.md#certbot-renewal): renew when a third of a 90-day certificate is left, half of
/// a 6-day one.
///
/// Thread safety: an immutable value (a policy): safe to share between threads.
struct fallback_renewal {
  /// the share of the validity after which to renew (2/3: a third left)
  double fraction = 2.0 / 3.0;
  double short_lived_fraction = 0.5;  ///< the share for a short-lived certificate
  /// a validity under this is short-lived
  duration short_lived_below = std::chrono::hours{24 * 10};

  /// The fallback renewal time of a certificate valid from `not_before` to `not_after`.
  constexpr time_point at(time_point not_before, time_point not_after) const noexcept {
    const duration validity = saturating_sub(not_after, not_before);
    if (validity <= duration::zero()) return not_before;
    const double f = validity < short_lived_below ? short_lived_fraction : fraction;
    return saturating_add(
        not_before, certretry::detail::saturate_ms(static_cast<double>(validity.count()) * f));
  }

  /// Empty when the fractions are in (0, 1] and the threshold is not negative; otherwise the field
  /// and why.
  constexpr invalid_value check() const noexcept {
    if (!(fraction > 0.0 && fraction <= 1.0))
      return {"fallback_renewal.fraction",
              "must be a number above 0 and at most 1 (of the validity)"};
    if (!(short_lived_fraction > 0.0 && short_lived_fraction <= 1.0))
      return {"fallback_renewal.short_lived_fraction", "must be a number above 0 and at most 1"};
    if (short_lived_below < duration::zero())
      return {"fallback_renewal.short_lived_below", "must not be negative"};
    return {};
  }
};

/// What a restarted renewal agent needs to go on where it stopped (docs/acme.md, "Resuming").
///
/// Thread safety: a plain value: safe to copy and read from any thread.
struct ari_progress {
  std::optional<time_point> pick;       ///< the renewal time drawn in the window below
  time_point window_start{};            ///< the window of the pick (meaningful with a pick)
  time_point window_end{};              ///< the window's end (meaningful with a pick)
  std::optional<time_point> next_poll;  ///< no renewalInfo request before this
  std::uint32_t errors_in_a_row = 0;    ///< the error backoff's exponent

  /// Equal when every member is.
  friend bool operator==(const ari_progress&, const ari_progress&) = default;
};

/// One line: "ari-progress/1 pick=T window=T/T next=T errors=N", T in RFC 3339 UTC; members
/// without a value are left out.
inline std::string to_text(const ari_progress& p) {
  std::string out = "ari-progress/1";
  if (p.pick) {
    out += " pick=" + format_rfc3339(*p.pick);
    out += " window=" + format_rfc3339(p.window_start) + "/" + format_rfc3339(p.window_end);
  }
  if (p.next_poll) out += " next=" + format_rfc3339(*p.next_poll);
  out += " errors=" + std::to_string(p.errors_in_a_row);
  return out;
}

/// The inverse of to_text. Refuses (body_wrong_type, `why` says which part) anything else: an
/// unknown version or member, a member twice, a time that is not RFC 3339, a window whose end is
/// not after its start, a pick without a window, more than 512 bytes.
inline result<ari_progress> parse_ari_progress(std::string_view text, std::string* why = nullptr) {
  const auto fail = [why](std::string w) -> result<ari_progress> {
    if (why) *why = std::move(w);
    return errc::body_wrong_type;
  };
  if (text.size() > 512) return fail("ari progress: longer than 512 bytes");
  constexpr std::string_view magic = "ari-progress/1";
  if (text.substr(0, magic.size()) != magic ||
      (text.size() > magic.size() && text[magic.size()] != ' '))
    return fail("ari progress: does not start with 'ari-progress/1'");
  text.remove_prefix(magic.size());
  ari_progress p;
  bool have_window = false, have_errors = false;
  while (!text.empty()) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty()) break;
    const std::size_t end = text.find(' ');
    const std::string_view item = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return fail("ari progress: '" + std::string(item.substr(0, 32)) + "' is not name=value");
    const std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "pick" || name == "next") {
      auto& slot = name == "pick" ? p.pick : p.next_poll;
      if (slot) return fail("ari progress: " + std::string(name) + " given twice");
      slot = parse_rfc3339(value);
      if (!slot) return fail("ari progress: " + std::string(name) + " is not an RFC 3339 time");
    } else if (name == "window") {
      const std::size_t slash = value.find('/');
      const auto a = parse_rfc3339(value.substr(0, slash));
      const auto b =
          slash == std::string_view::npos ? std::nullopt : parse_rfc3339(value.substr(slash + 1));
      if (have_window || !a || !b || *b <= *a)
        return fail("ari progress: window must be START/END, RFC 3339, end after start, once");
      p.window_start = *a;
      p.window_end = *b;
      have_window = true;
    } else if (name == "errors") {
      if (have_errors || value.empty() || value.size() > 9)
        return fail("ari progress: errors must be a whole number, once");
      std::uint32_t n = 0;
      for (const char c : value) {
        if (c < '0' || c > '9') return fail("ari progress: errors must be a whole number, once");
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
      }
      p.errors_in_a_row = n;
      have_errors = true;
    } else {
      return fail("ari progress: unknown member '" + std::string(name.substr(0, 32)) + "'");
    }
  }
  if (p.pick.has_value() != have_window) return fail("ari progress: pick and window go together");
  return p;
}

/// The inputs of ari_machine: the renewalInfo URL and CertID, the certificate's validity, and the
/// clamps of RFC 9773 §4.3.
///
/// Thread safety: a plain value (the machine keeps its own copy): safe to share read-only between
/// threads.
struct ari_options {
  /// The directory's renewalInfo URL; the CertID is appended as a path segment (RFC 9773 §4.1).
  std::string renewal_info_url = "/acme/renewal-info";
  std::string cert_id;  ///< cert_id_from_pem() / cert_id_from_der()
  /// The certificate's notAfter: required (no default could mean anything but "expired").
  std::optional<time_point> not_after{};
  /// The certificate's notBefore: with it, a certificate without a usable window is renewed at
  /// the fallback time; without it, at the last poll before notAfter.
  std::optional<time_point> not_before{};
  fallback_renewal fallback{};  ///< the renewal time without a usable window
  /// a Retry-After below this is raised to it (RFC 9773 §4.3: at least a minute)
  duration min_retry_after = std::chrono::minutes{1};
  /// a Retry-After above this is cut to it (RFC 9773 §4.3: at most a day)
  duration max_retry_after = std::chrono::hours{24};
  /// the wait after the error retries run out (RFC 9773 §4.3: "long-term" retry)
  duration long_term_retry = std::chrono::hours{6};
  /// Temporary errors (timeouts, 5xx) in a row backed off; later ones wait long_term_retry.
  std::uint32_t max_temporary_retries = 5;
  /// The wait after the n-th error in a row (1 min, 2, 4 … up to 1 h, ±20 %): the first retry
  /// anywhere in 48-72 s.
  error_backoff errors{std::chrono::minutes{1}, 2.0, std::chrono::hours{1}, 0.2};
  /// true: wait for the picked time inside the window; false: finish renew_at at once
  bool wait_for_window = true;
  /// longer renewalInfo or problem bodies are unreadable (body_too_large)
  std::size_t max_body_bytes = certretry::default_max_body_bytes;
  /// Where a previous run stopped (progress() of that machine, or parse_ari_progress()).
  std::optional<ari_progress> resume{};

  /// The values the machine refuses at start (errc::invalid_policy): intervals under a second
  /// would let a Retry-After of 0 or an error poll the CA in a tight loop.
  constexpr invalid_value check() const noexcept {
    if (!not_after) return {"ari_options.not_after", "is not set: give the certificate's notAfter"};
    if (not_before && *not_before >= *not_after)
      return {"ari_options.not_before", "must be before not_after"};
    if (min_retry_after < std::chrono::seconds{1})
      return {"ari_options.min_retry_after", "must be at least 1 s"};
    if (long_term_retry < std::chrono::seconds{1})
      return {"ari_options.long_term_retry", "must be at least 1 s"};
    if (const invalid_value bad = errors.check()) return bad;
    if (errors.base < std::chrono::seconds{1})
      return {"error_backoff.base", "must be at least 1 s for renewalInfo"};
    if (const invalid_value bad = fallback.check()) return bad;
    return {};
  }
};

/// RFC 9773 §4.1: a CertID is base64url(keyIdentifier) "." base64url(serial). The machine asks
/// only that it be one path segment in those characters (a server may use ids of its own).
constexpr bool is_cert_id(std::string_view id) noexcept {
  if (id.empty() || id == "." || id == "..") return false;
  for (const char c : id)
    if (c != '.' && !is_base64url(std::string_view(&c, 1))) return false;
  return true;
}

/// The policy an ari_machine is built with: 1 min doubling up to 1 h, ±20 % jitter, no deadline
/// of its own (notAfter bounds the run). The waits after errors come from ari_options::errors,
/// counted over the errors in a row.
inline backoff_policy<any_schedule, any_jitter> ari_error_policy() {
  limits l;
  l.max_wait = std::chrono::hours{24 * 400};
  l.min_delay = std::chrono::seconds{1};  // not 1 min: that would cut the jitter's lower half
  retry_after_policy ra;
  ra.mode = retry_after_mode::ignore;  // the machine clamps Retry-After itself (§4.3)
  return {any_schedule{exponential_schedule(std::chrono::minutes{1}, std::chrono::hours{1})},
          any_jitter{proportional_jitter{0.2}}, l, ra};
}

/// The ARI machine's states.
enum class ari_state : std::uint8_t { idle, fetching, waiting, window, fallback, finished };

/// Fetches a certificate's renewalInfo (RFC 9773 §4) until it can say when to renew: finishes
/// renew_at with outcome::not_before.
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink, retry_budget Budget = no_budget>
class ari_machine
    : public machine_base<ari_machine<S, J, R, Sink, Budget>, ari_state, S, J, R, Sink, Budget> {
  using base = machine_base<ari_machine, ari_state, S, J, R, Sink, Budget>;
  friend base;
  using base::finish;
  using base::kit_;

 public:
  /// An ARI machine with its options, policy, random source, sink and budget.
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

  /// The renewal time picked from the last window, if any.
  std::optional<time_point> renewal_time() const noexcept { return chosen_; }
  /// The last window's explanationURL (RFC 9773 §4.2), as sent; empty when none.
  const std::string& explanation_url() const noexcept { return explanation_; }
  /// The fallback renewal time (needs not_before), if any.
  std::optional<time_point> fallback_time() const noexcept {
    if (!options_.not_before || !options_.not_after) return std::nullopt;
    return options_.fallback.at(*options_.not_before, *options_.not_after);
  }
  /// What to save to resume after a restart (ari_options::resume; to_text()).
  ari_progress progress() const noexcept {
    ari_progress p;
    p.pick = chosen_;
    if (chosen_) {
      p.window_start = window_start_;
      p.window_end = window_end_;
    }
    p.next_poll = next_poll_;
    p.errors_in_a_row = errors_;
    return p;
  }

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
    if (now >= *options_.not_after) return renew_now(now, "the certificate has expired");
    if (const auto& r = options_.resume) {
      errors_ = r->errors_in_a_row;
      if (r->pick) {
        chosen_ = r->pick;
        window_start_ = r->window_start;
        window_end_ = r->window_end;
      }
      // Not before the time the previous run meant to ask again; a pick due sooner still wins.
      if (r->next_poll && *r->next_poll > now)
        return next_poll(now, *r->next_poll - now, wait_reason::schedule);
      if (chosen_ && *chosen_ <= now) return renew_at(now, now);
    }
    return fetch(now);
  }

  action on_reply(time_point now, const response_view& r) {
    const auto ra = retry_after(now, r);
    if (r.status >= 200 && r.status <= 299) {
      auto info = reader_.read(r.body, &why_);
      if (!info) {
        why_ = "not renewalInfo: " + why_;
        return long_term(now, r.status, {}, ra);
      }
      errors_ = 0;
      return on_window(now, r.status, info.assume_value(), ra);
    }
    why_ = "renewalInfo answered " + std::to_string(r.status);
    if (const auto p = problems_.read(r.body)) {
      why_ += ": ";
      detail::describe_problem(why_, *p);
    }
    // §4.3.3: only 5xx (and a request timeout) are temporary; a 429, with or without
    // Retry-After, and every other status are long-term.
    if ((r.status >= 500 && r.status <= 599) || r.status == 408)
      return temporary(now, r.status, {}, ra);
    return long_term(now, r.status, {}, ra);
  }

  action on_send_failed(time_point now, std::error_code ec) {
    why_.assign(transport_error_name(ec));
    // §4.3.3: a timeout is temporary; a refused connection, a DNS failure (and a TLS failure or
    // reset, which a retry a minute later will meet again) are long-term.
    if (ec == errc::transport_timeout) return temporary(now, 0, ec, std::nullopt);
    return long_term(now, 0, ec, std::nullopt);
  }

  action on_resume(time_point now) {
    if (this->state() == ari_state::window) return renew_at(now, *chosen_);
    if (this->state() == ari_state::fallback) return renew_fallback(now);
    if (now >= *options_.not_after) return renew_now(now, "no renewal window before notAfter");
    return fetch(now);
  }

  action fetch(time_point now) {
    next_poll_.reset();
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
    explanation_.assign(info.explanation_url);
    why_ = "window " + format_rfc3339(info.window_start) + " to " + format_rfc3339(info.window_end);
    append_explanation(why_);
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
    // No Retry-After (or an unusable one): the long-term interval (§4.3.3).
    return ra ? next_poll(now, *ra, wait_reason::retry_after)
              : next_poll(now, options_.long_term_retry, wait_reason::schedule);
  }

  // A timeout or 5xx: the error backoff over the errors in a row, at most max_temporary_retries
  // times; a Retry-After longer than the step is honoured, a shorter one does not shorten it.
  action temporary(time_point now, int status, std::error_code ec, std::optional<duration> ra) {
    kit_.report_verdict(now, status, ec, verdict::transient, why_);
    ++errors_;
    if (errors_ > options_.max_temporary_retries)
      return next_poll(now, std::max(options_.long_term_retry, ra.value_or(duration::zero())),
                       wait_reason::schedule);
    const duration step = options_.errors.wait(errors_, uniform_unit(kit_.rng()));
    if (ra && *ra > step) return next_poll(now, *ra, wait_reason::retry_after);
    return next_poll(now, std::max(step, duration{std::chrono::seconds{1}}), wait_reason::schedule);
  }

  // Not `permanent`: the run goes on, only the next poll is far (§4.3.3).
  action long_term(time_point now, int status, std::error_code ec, std::optional<duration> ra) {
    ++errors_;
    kit_.report_verdict(now, status, ec, verdict::transient, why_);
    const duration d = ra && *ra > options_.long_term_retry ? *ra : options_.long_term_retry;
    return next_poll(now, d, wait_reason::schedule);
  }

  // Waits `d` before the next poll, unless the renewal time (the pick, or without one the
  // fallback time) or notAfter comes first.
  action next_poll(time_point now, duration d, wait_reason why) {
    const time_point next = saturating_add(now, d);
    const time_point not_after = *options_.not_after;
    if (chosen_ && *chosen_ < not_after) {
      if (*chosen_ <= now) return renew_at(now, now);
      if (*chosen_ <= next) {
        next_poll_ = *chosen_;  // nothing is asked before the renewal time
        return this->wait_for(now, *chosen_ - now, wait_reason::window, ari_state::window);
      }
    } else if (const auto fb = fallback_time(); fb && *fb < not_after) {
      if (*fb <= now) return renew_fallback(now);
      if (*fb <= next)
        return this->wait_for(now, *fb - now, wait_reason::window, ari_state::fallback);
    }
    if (next >= not_after) return renew_now(now, "no renewal window before notAfter");
    next_poll_ = next;
    return this->wait_for(now, d, why);
  }

  action renew_now(time_point now, std::string_view why) {
    kit_.set_not_before(now);
    return finish(now, outcome_kind::renew_at, {}, std::string(why) + ": renew now");
  }

  action renew_at(time_point now, time_point when) {
    kit_.set_not_before(when);
    std::string reason = "renew at " + format_rfc3339(when) + " (suggested window " +
                         format_rfc3339(window_start_) + " to " + format_rfc3339(window_end_) + ")";
    append_explanation(reason);
    return finish(now, outcome_kind::renew_at, {}, reason);
  }

  // §4.2's fallback schedule: no usable window came.
  action renew_fallback(time_point now) {
    const time_point at = *fallback_time();
    const time_point when = at < now ? now : at;
    kit_.set_not_before(when);
    const duration validity = *options_.not_after - *options_.not_before;
    const bool short_lived = validity < options_.fallback.short_lived_below;
    const double f =
        short_lived ? options_.fallback.short_lived_fraction : options_.fallback.fraction;
    std::string reason =
        "renew at " + format_rfc3339(when) + " (fallback: no usable renewal window; " +
        std::to_string(static_cast<int>(f * 100.0 + 0.5)) + " % of the validity " +
        format_rfc3339(*options_.not_before) + " to " + format_rfc3339(*options_.not_after) + ")";
    if (!why_.empty()) {
      reason += "; last: ";
      reason += why_;
    }
    return finish(now, outcome_kind::renew_at, {}, reason);
  }

  void append_explanation(std::string& out) const {
    if (explanation_.empty()) return;
    out += "; explanation: ";
    certretry::detail::append_sanitized(out, explanation_, 256);
  }

  ari_options options_;
  renewal_info_reader reader_;
  problem_reader problems_;
  std::string target_;
  std::string why_;
  std::string explanation_;
  std::optional<time_point> chosen_;
  std::optional<time_point> next_poll_;
  time_point window_start_{};
  time_point window_end_{};
  std::uint32_t errors_ = 0;  // errors in a row (any class): the backoff's exponent
};

static_assert(machine<ari_machine<>>);

}  // namespace certretry::acme
