// certretry/acme/exchange.hpp — what every signed ACME request shares: a nonce, badNonce
// recovery, and the triage of problem documents (RFC 8555 §6.5, §6.6, §6.7).
//
// Every POST needs a fresh anti-replay nonce. The machine takes it from the last reply's
// Replay-Nonce header, or asks the new-nonce URL (HEAD) when it has none. A 400 badNonce is
// retried at once with the nonce that error carries (fetching one only if it carries none),
// at most `max_bad_nonce_retries` times in a row, and never with a changed payload.
//
// Signing is the transport's business, so the machines stay sans-IO: a POST request_view
// carries the JWS *payload* as its body (empty = POST-as-GET, RFC 8555 §6.3) and the nonce to
// sign with as a `Replay-Nonce` field. A signing transport moves that nonce into the JWS
// protected header and sends the flattened JWS (examples/acme_pebble does this with OpenSSL).
//
// signed_machine is the layer between machine_base (machine/base.hpp) and post_machine,
// new_order_machine and resource_poll_machine: it answers the inputs machine_base hands over, and
// hands each reply that is not about the nonce to the derived machine's on_acme_reply().
#pragma once

#include "certretry/acme/reply.hpp"
#include "certretry/backoff/error_backoff.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/base64url.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/json_text.hpp"
#include "certretry/core/target.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/machine/base.hpp"
#include "certretry/machine/kit.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::acme {

/// RFC 8555 §6.5.1: the header that carries a fresh nonce in every reply, and (certretry's
/// convention, above) the nonce a POST request is to be signed with.
inline constexpr std::string_view replay_nonce_header = "Replay-Nonce";
/// Nonces longer than this are ignored: Boulder's are 32 characters, Pebble's 22.
inline constexpr std::size_t max_nonce_bytes = 256;

/// RFC 8555 §6.5.1: a nonce is base64url (no padding); clients MUST ignore invalid values.
constexpr bool is_valid_nonce(std::string_view n) noexcept {
  return n.size() <= max_nonce_bytes && is_base64url(n);
}

/// How an ACME machine gets and retries nonces (RFC 8555 §6.5, §7.2).
///
/// Thread safety: a plain value (the machine keeps its own copy): safe to share read-only between
/// threads.
struct nonce_options {
  /// The directory's newNonce URL (RFC 8555 §7.2), asked with HEAD when no nonce is at hand.
  std::string new_nonce_url = "/acme/new-nonce";
  /// badNonce replies retried at once, in a row, before the request fails.
  std::uint32_t max_bad_nonce_retries = 3;
  /// A nonce already at hand (the last reply of the previous machine); empty = fetch one.
  std::string initial;
};

/// How errors are spaced when the server says nothing (a 429 or 5xx without Retry-After, a
/// network failure): backoff/error_backoff.hpp. A Retry-After replaces it.
using certretry::error_backoff;

/// The policy ACME machines use unless given another: certretry's ACME schedule (2.9 s, then
/// 2.1 s growing to 4.8 s: schedules::acme), no jitter (the server's Retry-After paces),
/// Retry-After honoured as a floor up to 1 h, 10 minutes in all.
inline backoff_policy<any_schedule, any_jitter> default_policy(duration max_wait = 10min) {
  limits l;
  l.max_wait = max_wait;
  return {any_schedule{schedules::acme}, any_jitter{no_jitter{}}, l, retry_after_policy{}};
}

namespace detail {

// "type: detail" of a problem, bounded and sanitised, for reasons and events; then its
// `instance` URL and every kept subproblem's identifier and detail (RFC 8555 §6.7.1: Boulder's
// own detail for a multi-name failure is "Refer to sub-problems for more information"), so that
// a person can act on the reason alone.
inline void describe_problem(std::string& out, const problem& p) {
  certretry::detail::append_sanitized(out, p.type_name.empty() ? p.type : p.type_name, 64);
  if (!p.detail.empty()) {
    out += ": ";
    certretry::detail::append_sanitized(out, p.detail, 256);
  }
  if (!p.instance.empty()) {
    out += " (see ";
    certretry::detail::append_sanitized(out, p.instance, 256);
    out += ')';
  }
  for (std::size_t i = 0; i < p.kept_subproblems(); ++i) {
    const subproblem& sub = p.subproblems[i];
    out += i == 0 ? "; subproblems: " : "; ";
    if (!sub.identifier_value.empty()) {
      certretry::detail::append_sanitized(out, sub.identifier_value, 128);
      out += ": ";
    }
    certretry::detail::append_sanitized(
        out, sub.type_name.empty() ? std::string_view{sub.type} : sub.type_name, 64);
    if (!sub.detail.empty()) {
      out += ": ";
      certretry::detail::append_sanitized(out, sub.detail, 192);
    }
  }
  if (p.subproblem_count > p.kept_subproblems())
    out += "; " + std::to_string(p.subproblem_count - p.kept_subproblems()) + " more subproblems";
}

// describe_problem(), and for userActionRequired the terms of service the reply's Link header
// names (RFC 8555 §7.3.3).
inline void describe_problem(std::string& out, const problem& p, const response_view& r) {
  describe_problem(out, p);
  if (p.type_name != "userActionRequired") return;
  if (const auto tos = terms_of_service_link(r.headers)) {
    out += "; terms of service: ";
    certretry::detail::append_sanitized(out, *tos, 256);
  }
}

// The problem's "type: detail", or the bare status when the reply had no problem document.
inline void describe_reply(std::string& out, int status, const problem* p) {
  if (p)
    describe_problem(out, *p);
  else
    out += std::to_string(status);
}

enum class signed_state : std::uint8_t { idle, fetching_nonce, posting, waiting, finished };

template <class Derived, schedule S, jitter J, random_source R, event_sink Sink,
          retry_budget Budget = no_budget>
class signed_machine : public machine_base<Derived, signed_state, S, J, R, Sink, Budget> {
 public:
  // The machine_base below: every signed machine befriends it, so that it can hand inputs over.
  using root = machine_base<Derived, signed_state, S, J, R, Sink, Budget>;

  // The caller's values this machine builds requests from, as checked at start: `field` names
  // the URL; `payload`, when given, must be one JSON value of kind `want` (an object, or an
  // array), or empty when `may_be_empty`. A bad one: the machine refuses it, sending nothing.
  invalid_value request_values_problem(std::string_view field, std::string_view url,
                                       std::string_view payload_field, std::string_view payload,
                                       json_kind want, bool may_be_empty) const noexcept {
    if (const auto p = target_problem(url); !p.empty()) return {field, p};
    if (const auto p = target_problem(nonce_options_.new_nonce_url); !p.empty())
      return {"nonce_options.new_nonce_url", p};
    if (payload_field.empty() || (payload.empty() && may_be_empty)) return {};
    const json_syntax j = check_json(payload);
    if (!j.ok()) return {payload_field, "is not one JSON value (RFC 8259)"};
    if (j.top != want)
      return {payload_field,
              want == json_kind::array ? "must be a JSON array" : "must be a JSON object"};
    return {};
  }

  // At start: the error backoff refused (errc::invalid_policy), or `request` (from
  // request_values_problem(), errc::invalid_request_value); nothing when all is well.
  std::optional<action> refuse_at_start(time_point now, const invalid_value& request) {
    if (const invalid_value bad = errors_.check())
      return this->refuse(now, errc::invalid_policy, bad);
    if (request) return this->refuse(now, errc::invalid_request_value, request);
    return std::nullopt;
  }

  // The freshest unused nonce: hand it to the next machine (nonce_options::initial) to save a
  // new-nonce request.
  std::string_view nonce() const noexcept { return nonce_; }
  // The reply that finished the machine successfully: status, headers (Location), body.
  const response& reply() const noexcept { return reply_; }
  std::uint32_t bad_nonces() const noexcept { return bad_nonce_total_; }

 protected:
  using root::finish;
  using root::kit_;

  signed_machine(nonce_options nonce, backoff_policy<S, J> policy, R rng, Sink sink,
                 std::size_t max_body_bytes, error_backoff errors, Budget budget = {})
      : root(policy, std::move(rng), std::move(sink), std::move(budget)),
        nonce_options_(std::move(nonce)),
        errors_(errors),
        problems_(max_body_bytes),
        nonce_(is_valid_nonce(nonce_options_.initial) ? nonce_options_.initial : std::string{}) {}

  // --- the inputs machine_base hands over -------------------------------------------------
  action on_reply(time_point now, const response_view& r) {
    // Every reply may carry the next nonce (RFC 8555 §6.5: successful ones MUST).
    if (auto n = r.header(replay_nonce_header); n && is_valid_nonce(*n)) nonce_.assign(*n);
    if (this->state() == signed_state::fetching_nonce) return on_nonce_reply(now, r);

    std::optional<problem> p;
    if (r.status >= 400) p = problems_.read(r.body);
    // RFC 8555 §6.5: badNonce comes as a 400. On another status (a 429 or 503 that names it)
    // the status rules: it waits for its Retry-After like any error of that status.
    if (p && p->type_name == "badNonce" && r.status == 400) return on_bad_nonce(now, r, *p);
    bad_nonces_ = 0;
    if (r.status >= 200 && r.status <= 299) errors_in_a_row_ = 0;
    return self().on_acme_reply(now, r, p ? &*p : nullptr);
  }

  action on_send_failed(time_point now, std::error_code ec) {
    const std::string_view why = transport_error_name(ec);
    kit_.report_verdict(now, 0, ec, verdict::transient, why);
    // The nonce of a request whose reply was lost may have been used: never reuse it.
    return retry_after_error(now, why, std::nullopt);
  }

  // The derived machine may hide this: by default the same request again.
  action on_resume(time_point now) { return resend(now); }

  // Sends the signed request `url` with `payload` (kept for badNonce retries), after fetching a
  // nonce if none is at hand.
  action post(time_point now, std::string_view url, std::string_view payload) {
    set_request(url, payload);
    return resend(now);
  }

  // The request resend() sends, without sending it yet.
  void set_request(std::string_view url, std::string_view payload) {
    if (url_.data() != url.data()) url_.assign(url);
    if (payload_.data() != payload.data()) payload_.assign(payload);
  }

  // The same request again (same URL, same payload), with the freshest nonce.
  action resend(time_point now) {
    if (nonce_.empty())
      return this->send_request(now, {"HEAD", nonce_options_.new_nonce_url, {}, {}},
                                signed_state::fetching_nonce);
    headers_[0].name.assign(replay_nonce_header);
    // Swapped, not moved: the two buffers take turns, so a steady poll never allocates.
    std::swap(headers_[0].value, nonce_);
    nonce_.clear();  // single use (RFC 8555 §6.5)
    return this->send_request(now, {"POST", url_, headers_, payload_}, signed_state::posting);
  }

  // The same request at once, unless the deadline has passed.
  action resend_now(time_point now, std::string_view why) {
    if (kit_.time_left(now) <= duration::zero())
      return finish(now, outcome_kind::still_pending, errc::deadline_exceeded, why);
    return resend(now);
  }

  // Waits per the policy (and the reply's Retry-After), then on_resume() of the derived machine
  // (by default: the same request again).
  action retry_later(time_point now, std::string_view why, std::optional<duration> hint,
                     duration at_least = duration::zero(),
                     wait_reason at_least_why = wait_reason::floor) {
    if (why_.data() != why.data()) why_.assign(why);
    return this->back_off(now, why_, hint, at_least, at_least_why);
  }

  // After an error: the server's Retry-After if it sent one, else the error_backoff step.
  // A server's hint is never shortened by the policy's ceiling (RFC 8555 §6.6: a rateLimited
  // client that comes back before the time the server named meets a certain second refusal);
  // only the run's deadline bounds it, and a hint past it ends the run still_pending with
  // not_before = that time.
  action retry_after_error(time_point now, std::string_view why, std::optional<duration> hint) {
    ++errors_in_a_row_;
    const duration ceiling = kit_.policy().retry_after().ceiling;
    const duration left = kit_.time_left(now);
    // (A ceiling at or past the deadline: the policy itself stops with the uncut hint. A hint
    // under the policy's floor: the policy waits the floor, which honours the hint too.)
    const duration floor = kit_.policy().run_limits().effective_min_delay();
    if (hint && *hint > ceiling && ceiling < left && *hint >= floor) {
      if (why_.data() != why.data()) why_.assign(why);
      if (*hint > left) {
        kit_.set_not_before_in(now, *hint);
        why_ += " (server asked to wait " +
                std::to_string(std::chrono::ceil<std::chrono::seconds>(*hint).count()) +
                " s, past the deadline)";
        return finish(now, outcome_kind::still_pending, errc::deadline_exceeded, why_);
      }
      return this->wait_for(now, *hint, wait_reason::retry_after);
    }
    const duration paced =
        hint ? duration::zero() : errors_.wait(errors_in_a_row_, uniform_unit(kit_.rng()));
    return retry_later(now, why, hint, paced, wait_reason::schedule);
  }

  // A reply that is neither success nor handled by the derived machine: rateLimited and 429
  // wait for Retry-After, serverInternal and 5xx back off, anything else fails with the
  // server's own words (RFC 8555 §6.6, §6.7).
  action on_error_reply(time_point now, const response_view& r, const problem* p,
                        std::string_view call) {
    problem_class c;
    if (p) {
      c = classify(*p, r.status);
    } else {
      const status_verdict st = triage_status(r.status);
      c = st.verdict == verdict::transient
              ? (r.status == 429 ? problem_class::wait_retry_after : problem_class::transient)
              : problem_class::permanent;
    }
    why_.assign(call);
    why_ += " answered " + std::to_string(r.status);
    if (p) {
      why_ += ": ";
      describe_problem(why_, *p, r);
    } else if (r.status >= 200 && r.status <= 299) {
      why_ += " with a body that is not what ACME sends";
    }
    // A pause, a refused identifier, terms to accept: waiting fixes none of them, and a retry
    // only adds to the failures the CA counts (docs/operations.md, "Needs a person").
    if (p) {
      if (const auto person = needs_person(*p, r.headers)) {
        kit_.report_verdict(now, r.status, {}, verdict::permanent, why_);
        kit_.set_action(person->action);
        return finish(now, outcome_kind::needs_person, errc::server_rejected, why_);
      }
    }
    const bool retry = c != problem_class::permanent;
    kit_.report_verdict(now, r.status, {}, retry ? verdict::transient : verdict::permanent, why_);
    if (retry) return retry_after_error(now, why_, kit_.retry_after_hint(now, r));
    return finish(now, outcome_kind::failed, errc::server_rejected, why_);
  }

  action succeed(time_point now, const response_view& r, std::string_view why) {
    kit_.report_verdict(now, r.status, {}, verdict::done, why);
    reply_.status = r.status;
    reply_.headers.assign(r.headers.begin(), r.headers.end());
    reply_.body.assign(r.body);
    return finish(now, outcome_kind::completed, {}, "");
  }

  std::string why_;
  std::string url_;
  std::string payload_;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }

  action on_nonce_reply(time_point now, const response_view& r) {
    // RFC 8555 §7.2: HEAD answers 200 and GET 204, each with a Replay-Nonce.
    const bool ok = r.status >= 200 && r.status <= 299;
    const status_verdict st = triage_status(r.status);
    // A 429 or 5xx that asks for a wait is waited out even when it carries a nonce (RFC 9110
    // §10.2.3); the nonce is kept for the request after the wait.
    const std::optional<duration> hint =
        !ok && st.verdict == verdict::transient ? kit_.retry_after_hint(now, r) : std::nullopt;
    if (!nonce_.empty() && !hint) {
      kit_.report_verdict(now, r.status, {}, verdict::done, "fresh nonce");
      return resend_now(now, "fresh nonce");
    }
    const verdict v =
        ok || st.verdict == verdict::transient ? verdict::transient : verdict::permanent;
    why_ = ok ? "new-nonce reply has no usable Replay-Nonce"
              : "new-nonce answered " + std::to_string(r.status) + ": " + std::string(st.why);
    kit_.report_verdict(now, r.status, {}, v, why_);
    if (v == verdict::permanent)
      return finish(now, outcome_kind::failed, errc::server_rejected, why_);
    // After the wait, resend() sends the request with the nonce at hand, or asks for one.
    return retry_after_error(now, why_, ok ? kit_.retry_after_hint(now, r) : hint);
  }

  action on_bad_nonce(time_point now, const response_view& r, const problem& p) {
    ++bad_nonce_total_;
    why_ = "badNonce";
    if (!p.detail.empty()) {
      why_ += ": ";
      certretry::detail::append_sanitized(why_, p.detail, 128);
    }
    if (bad_nonces_ >= nonce_options_.max_bad_nonce_retries) {
      kit_.report_verdict(now, r.status, {}, verdict::permanent, why_);
      return finish(now, outcome_kind::failed, errc::server_rejected,
                    "server rejected " + std::to_string(bad_nonces_ + 1) +
                        " fresh nonces in a row (" + why_ + ")");
    }
    ++bad_nonces_;
    // For a budget the server answered (a refusal, not overload) and the resend is no retry:
    // a CA rejecting nonces must not drain a shared retry budget (docs/budgets.md).
    kit_.count_as(now, call_result::refused, send_kind::follow_up);
    kit_.report_verdict(now, r.status, {}, verdict::transient, why_);
    kit_.report(now, event_kind::bad_nonce,
                nonce_.empty() ? "no Replay-Nonce in the error: fetching one"
                               : "retrying with the error's Replay-Nonce");
    return resend_now(now, why_);
  }

  nonce_options nonce_options_;
  error_backoff errors_;
  problem_reader problems_;
  std::string nonce_;
  std::array<header_field, 1> headers_{};
  response reply_{};
  std::uint32_t errors_in_a_row_ = 0;  // 429, 5xx, network: the error_backoff step
  std::uint32_t bad_nonces_ = 0;       // in a row, for the request outstanding
  std::uint32_t bad_nonce_total_ = 0;  // over the whole run

  friend Derived;
};

}  // namespace detail

/// What a POST begins, for the one case where its kind matters: a resend after a lost reply.
enum class post_kind : std::uint8_t {
  other,      ///< a new account, a download, a key change ...
  finalize,   ///< an order's finalize (RFC 8555 §7.4): the resource is the order
  challenge,  ///< a challenge response `{}` (RFC 8555 §7.5.1): the resource is the challenge
};

/// Looks a post_kind up by its name: other, finalize, challenge.
constexpr std::optional<post_kind> post_kind_from_name(std::string_view n) noexcept {
  if (n == "other") return post_kind::other;
  if (n == "finalize") return post_kind::finalize;
  if (n == "challenge") return post_kind::challenge;
  return std::nullopt;
}

/// One signed POST, retried as ACME allows: a new account, a challenge response (`{}`), a
/// finalize, a certificate download (POST-as-GET: empty payload). Completed on any 2xx; reply()
/// holds it.
///
/// A finalize or challenge response whose reply was lost (a transport error) is sent again; if
/// the first one did reach the server, the resend is refused: 403 orderNotReady for a finalize
/// already accepted (RFC 8555 §7.4), 409 for a challenge already being validated (Boulder's
/// "Authorization is already being validated": docs/sources.md#boulder-wfe). After such a resend,
/// that refusal means "look": the machine POSTs-as-GET the resource (the order: `resource_url`;
/// the challenge: the URL itself) and completes when it shows the first request was taken
/// (processing or valid; reply() = the resource, for the poller next), sends the request once
/// more when it shows it was not (order ready, challenge pending), and fails naming the status
/// otherwise. certbot and acmez read the order after an orderNotReady too
/// (docs/sources.md#acmez-finalize).
///
/// Thread safety: a plain value (the machine keeps its own copy): safe to share read-only between
/// threads.
struct post_options {
  std::string url;                    ///< the URL to POST to
  std::string payload;                ///< JSON text; empty for POST-as-GET
  post_kind kind = post_kind::other;  ///< what the POST begins (for the resend after a lost reply)
  /// The order's URL for a finalize (the challenge is its own URL); empty: lost replies are not
  /// looked into, the refusal fails the machine as any other.
  std::string resource_url{};
  nonce_options nonce;   ///< nonce handling
  error_backoff errors;  ///< the wait after an error reply
  /// longer bodies are unreadable (body_too_large)
  std::size_t max_body_bytes = certretry::default_max_body_bytes;
};

/// Budget: a retry budget shared with the other machines of the same ACME server
/// (docs/budgets.md); no_budget by default. The same for every ACME machine.
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink, retry_budget Budget = no_budget>
class post_machine
    : public detail::signed_machine<post_machine<S, J, R, Sink, Budget>, S, J, R, Sink, Budget> {
  using base = detail::signed_machine<post_machine, S, J, R, Sink, Budget>;
  friend base;
  friend typename base::root;

 public:
  /// A POST machine with its options, policy, random source, sink and budget.
  post_machine(post_options options, backoff_policy<S, J> policy, R rng, Sink sink = {},
               Budget budget = {})
      : base(std::move(options.nonce), policy, std::move(rng), std::move(sink),
             options.max_body_bytes, options.errors, std::move(budget)),
        target_(std::move(options.url)),
        body_(std::move(options.payload)),
        kind_(options.kind),
        resource_(options.kind == post_kind::challenge && options.resource_url.empty()
                      ? target_
                      : std::move(options.resource_url)),
        objects_(options.max_body_bytes) {}

  /// Whether a lost reply was looked into (the resource was fetched after a refused resend).
  bool looked_after_loss() const noexcept { return looked_; }

 private:
  action on_start(time_point now) {
    if (auto refused = this->refuse_at_start(
            now, this->request_values_problem("post_options.url", target_, "post_options.payload",
                                              body_, json_kind::object, true)))
      return *refused;
    if (!resource_.empty())
      if (const auto p = target_problem(resource_); !p.empty())
        return this->refuse(now, errc::invalid_request_value, {"post_options.resource_url", p});
    return this->post(now, target_, body_);
  }

  action on_send_failed(time_point now, std::error_code ec) {
    // The POST may have reached the server: a refusal of the resend may mean it was taken.
    if (this->state() == detail::signed_state::posting && !checking_) lost_ = true;
    return base::on_send_failed(now, ec);
  }

  action on_acme_reply(time_point now, const response_view& r, const problem* p) {
    if (checking_) return on_resource(now, r, p);
    if (r.status >= 200 && r.status <= 299) return this->succeed(now, r, "accepted");
    if (lost_ && refuses_a_repeat(r.status, p) && !resource_.empty()) {
      std::string& why = this->why_;
      why = "resent after a lost reply and refused (";
      detail::describe_reply(why, r.status, p);
      why += "): reading ";
      why += kind_ == post_kind::finalize ? "the order" : "the challenge";
      this->kit_.report_verdict(now, r.status, {}, verdict::transient, why);
      checking_ = true;
      looked_ = true;
      return this->post(now, resource_, {});
    }
    return this->on_error_reply(now, r, p, "POST");
  }

  // RFC 8555 §7.4: a finalize of an order no longer `ready` is refused 403 orderNotReady; a
  // challenge response already being validated, 409 (Boulder's conflict). A 408, 429 or 5xx
  // says "not now" whatever problem its body names: its status rules, Retry-After included
  // (RFC 9110 §10.2.3), as for any other reply.
  bool refuses_a_repeat(int status, const problem* p) const noexcept {
    if (status == 408 || status == 429 || status >= 500) return false;
    if (kind_ == post_kind::finalize) return p && p->type_name == "orderNotReady";
    if (kind_ == post_kind::challenge) return status == 409 || (p && p->type_name == "conflict");
    return false;
  }

  // The resource read after a refused resend: was the first request taken?
  action on_resource(time_point now, const response_view& r, const problem* p) {
    if (r.status < 200 || r.status > 299) return this->on_error_reply(now, r, p, "POST-as-GET");
    std::string& why = this->why_;
    const std::string_view what = kind_ == post_kind::finalize ? "order" : "challenge";
    const auto obj = objects_.read(r.body);
    if (!obj || obj->status.empty()) {
      why = std::string(what) + " reply is not an ACME object";
      this->kit_.report_verdict(now, r.status, {}, verdict::transient, why);
      return this->retry_later(now, why, this->kit_.retry_after_hint(now, r));
    }
    const resource_status st = obj->state();
    why = std::string(what) + ' ';
    certretry::detail::append_sanitized(why, obj->status, 32);
    if (st == resource_status::processing || st == resource_status::valid) {
      why += ": the request sent before the lost reply was taken";
      return this->succeed(now, r, why);
    }
    const bool not_taken = kind_ == post_kind::finalize ? st == resource_status::ready
                                                        : st == resource_status::pending;
    if (not_taken && !resent_once_) {
      why += ": the request was not taken; sending it once more";
      this->kit_.report_verdict(now, r.status, {}, verdict::transient, why);
      resent_once_ = true;
      checking_ = false;
      lost_ = false;
      return this->post(now, target_, body_);
    }
    if (const problem* e = obj->first_error()) {
      why += ": ";
      detail::describe_problem(why, *e);
    }
    this->kit_.report_verdict(now, r.status, {}, verdict::permanent, why);
    return this->finish(now, outcome_kind::failed, errc::server_rejected, why);
  }

  std::string target_;
  std::string body_;
  post_kind kind_;
  std::string resource_;
  object_reader objects_;
  bool lost_ = false;      // a POST of this request went out and its reply never came
  bool checking_ = false;  // the request outstanding is the POST-as-GET of the resource
  bool looked_ = false;
  bool resent_once_ = false;  // the request was sent again after the resource said not taken
};

static_assert(machine<post_machine<>>);

}  // namespace certretry::acme
