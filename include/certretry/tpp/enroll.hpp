// certretry/tpp/enroll.hpp — Venafi TPP enrollment: request, then retrieve until issued, with
// the stuck "Fix any errors, and then click Retry." renewal recovered (docs/sources.md#vcert-269,
// docs/sources.md#tpp-writeup).
//
// When an earlier enrollment of the certificate failed, TPP answers the first retrieve after a
// new request with 500 and one of two Status messages (60 % "click Retry" throughout, 30 %
// "WebSDK ... Requested Certificate" then "click Retry", 10 % "WebSDK" throughout). The machine
// detects either message on that first retrieve and, by strategy:
//   reset-on-detection (default)  reset(Restart=false), then request again: no extra call on
//                                  the happy path, and never reset(Restart=true) right after a
//                                  request (it races inside TPP: VCert 4.23, reverted in 4.24)
//   reset-before-request          reset(Restart=false) before every request (cert-manager >=
//                                  1.12, docs/sources.md#cert-manager-5805): +1 call every time
//   query-only                    retrieve stays a query (the 2023 decision): finish with
//                                  needs_reset; tpp::reset_step() is the separate command
// At most one reset per enrollment: a detection after a reset fails, never loops.
// TPP's rights errors (a refused token, 401/403; "... you do not have sufficient rights to the
// object." where the object must exist) end needs_person with what the person must do.
//
// Modes: watch (default) sends WorkToDoTimeout (30 s) with each retrieve, so one call waits for
// issuance (TPP's mean is 7 s); poll retrieves on a schedule (VCert: every 2 s). Errors (429,
// 5xx, transport) wait their own jittered backoff, never that schedule. A request carrying
// WorkToDoTimeout may bring the certificate itself (200) or say it is still running (202).
// A run that ends still_pending names the DN TPP is working on; enroll_options::resume_dn
// starts the next run from retrieving it. A request whose reply was lost is looked for (a
// plain retrieve of the DN it creates) before it is sent again.
//
// States:  idle -> [pre_reset ->] requesting -> retrieving <-> waiting -> finished
//          retrieving --stale first retrieve--> detect_reset -> requesting | retrieving
#pragma once

#include "certretry/backoff/error_backoff.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/json_text.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/machine/base.hpp"
#include "certretry/machine/kit.hpp"
#include "certretry/tpp/reply.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::tpp {

/// TPP's request endpoint (Venafi TPP: POST Certificates/Request).
inline constexpr std::string_view request_path = "/vedsdk/certificates/request";
/// TPP's retrieve endpoint (Venafi TPP: POST Certificates/Retrieve).
inline constexpr std::string_view retrieve_path = "/vedsdk/certificates/retrieve";
/// TPP's reset endpoint (Venafi TPP: POST Certificates/Reset).
inline constexpr std::string_view reset_path = "/vedsdk/certificates/reset";

/// When the machine resets a stale enrollment: when a retrieve shows one, before every request, or
/// never (the caller resets: needs_reset).
enum class reset_strategy : std::uint8_t { reset_on_detection, reset_before_request, query_only };
/// How the machine retrieves: one long watch (WorkToDoTimeout) per request, or short polls.
enum class retrieve_mode : std::uint8_t { watch, poll };

/// The strategy's name, as scenarios and the harness spell it.
constexpr std::string_view to_string(reset_strategy s) noexcept {
  switch (s) {
    case reset_strategy::reset_on_detection: return "reset-on-detection";
    case reset_strategy::reset_before_request: return "reset-before-request";
    case reset_strategy::query_only: return "query-only";
  }
  return "?";
}

/// The names to_string gives, back to the strategy (configuration files, the harness).
inline result<reset_strategy> parse_reset_strategy(std::string_view name) noexcept {
  for (auto s : {reset_strategy::reset_on_detection, reset_strategy::reset_before_request,
                 reset_strategy::query_only})
    if (to_string(s) == name) return s;
  return errc::invalid_policy;
}

/// The mode's name, as scenarios and the harness spell it.
constexpr std::string_view to_string(retrieve_mode m) noexcept {
  switch (m) {
    case retrieve_mode::watch: return "watch";
    case retrieve_mode::poll: return "poll";
  }
  return "?";
}

/// Looks a retrieve mode up by name; errc::invalid_policy for any other.
inline result<retrieve_mode> parse_retrieve_mode(std::string_view name) noexcept {
  for (auto m : {retrieve_mode::watch, retrieve_mode::poll})
    if (to_string(m) == name) return m;
  return errc::invalid_policy;
}

/// How TPP's errors are spaced (a 429, a 5xx that says nothing about the enrollment, a transport
/// error): backoff/error_backoff.hpp. The pending pace (VCert's 2 s poll) is for a TPP at work:
/// at 2 s a 10-minute 503 burst costs ~300 retrieves per client. Any answer from TPP (a 2xx, a
/// 4xx) starts the count again; a Retry-After the policy honours may lengthen a wait.
using certretry::error_backoff;

/// The inputs of enroll_machine: the reset strategy, retrieve mode, DN and request body.
///
/// Thread safety: a plain value (the machine keeps its own copy): safe to share read-only between
/// threads.
struct enroll_options {
  /// when a stale enrollment is reset
  reset_strategy strategy = reset_strategy::reset_on_detection;
  retrieve_mode mode = retrieve_mode::watch;  ///< watch or poll
  /// WorkToDoTimeout of a watched retrieve (sent as a string of whole seconds, as VCert does).
  duration watch = 30s;
  /// The certificate's DN. Required by reset-before-request (there is no request reply yet);
  /// otherwise the request reply's CertificateDN is used.
  std::string certificate_dn;
  /// The JSON object POSTed to /request, as the caller builds it (PolicyDN, PKCS10 or subject
  /// fields, Reenable ...).
  std::string request_body = "{}";
  /// When set, the request itself carries WorkToDoTimeout (the separate reset step of the 2023
  /// decision: reset(restart=false) then request with WorkToDoTimeout=30).
  std::optional<duration> request_work_to_do_timeout;
  /// Spacing of 429s, 5xx and transport errors (never the pending schedule).
  error_backoff errors{};
  /// The DN of an enrollment an earlier run left running (its still_pending reason names it,
  /// and enroll_machine::pickup_dn() gives it). When set, the run starts by retrieving it: no
  /// request and no reset, so a slow issuance is not started over (cert-manager keeps the
  /// request's pickup ID and only retrieves afterwards, docs/sources.md#cert-manager-venafi).
  std::string resume_dn;
};

/// The enrollment machine's states.
enum class enroll_state : std::uint8_t {
  idle,
  pre_reset,
  requesting,
  retrieving,
  detect_reset,
  waiting,
  finished
};

/// Budget: a retry budget shared with the other machines of the same TPP (docs/budgets.md);
/// no_budget by default.
///
/// Thread safety: a machine is a value: one run each, driven by one thread at a time; it may move
/// to another thread between steps; never share one between threads.
template <stale_detector Detector = stale_enrollment_detector, schedule S = any_schedule,
          jitter J = any_jitter, random_source R = splitmix64, event_sink Sink = null_sink,
          retry_budget Budget = no_budget>
class enroll_machine : public machine_base<enroll_machine<Detector, S, J, R, Sink, Budget>,
                                           enroll_state, S, J, R, Sink, Budget> {
  using base = machine_base<enroll_machine, enroll_state, S, J, R, Sink, Budget>;
  friend base;
  using base::finish;
  using base::kit_;

 public:
  /// An enrollment machine with its options, policy, random source, sink, stale detector, body
  /// limit and budget.
  enroll_machine(enroll_options options, backoff_policy<S, J> policy, R rng, Sink sink = {},
                 Detector detector = {},
                 std::size_t max_body_bytes = certretry::default_max_body_bytes, Budget budget = {})
      : base(policy, std::move(rng), std::move(sink), std::move(budget)),
        options_(std::move(options)),
        detector_(detector),
        reader_(max_body_bytes),
        dn_(options_.certificate_dn) {
    request_body_ = options_.request_body;
    if (options_.request_work_to_do_timeout)
      add_field(request_body_, "WorkToDoTimeout",
                seconds_text(*options_.request_work_to_do_timeout));
  }

  /// Resets sent in this run.
  std::uint32_t resets() const noexcept { return resets_; }
  /// The certificate's DN: the caller's, or the request reply's CertificateDN.
  const std::string& certificate_dn() const noexcept { return dn_; }
  /// The DN whose enrollment TPP has taken in this run (or the resumed one); empty if no request
  /// was taken. After still_pending, pass it as enroll_options::resume_dn to the next run.
  const std::string& pickup_dn() const noexcept { return taken_ ? dn_ : empty_; }

  /// The base's outcome, with the DN to resume from in a still_pending reason.
  outcome take_outcome() {
    outcome o = base::take_outcome();
    if (o.kind == outcome_kind::still_pending && taken_ && !dn_.empty()) {
      o.reason += "; TPP has the request: resume by retrieving ";
      certretry::detail::append_sanitized(o.reason, dn_, 256);
    }
    return o;
  }

 private:
  // --- the inputs machine_base hands over -------------------------------------------------
  action on_start(time_point now) {
    if (const invalid_value bad =
            options_.errors.check({"enroll_options.errors.base", "enroll_options.errors.factor",
                                   "enroll_options.errors.cap", "enroll_options.errors.jitter"}))
      return this->refuse(now, errc::invalid_policy, bad);
    // The caller's body goes out as it is: it must be one JSON value (an object when
    // WorkToDoTimeout is added to it), or it could carry fields of its own into the request.
    const json_syntax body = check_json(options_.request_body);
    if (!body.ok())
      return this->refuse(now, errc::invalid_request_value,
                          {"enroll_options.request_body", "is not one JSON value (RFC 8259)"});
    if (options_.request_work_to_do_timeout && body.top != json_kind::object)
      return this->refuse(
          now, errc::invalid_request_value,
          {"enroll_options.request_body", "must be a JSON object to carry WorkToDoTimeout"});
    // The DN the request creates, to look for if its reply is lost (PolicyDN\ObjectName).
    if (body.top == json_kind::object) {
      const reply own = reader_.read(options_.request_body);
      const std::string_view name = !own.object_name.empty() ? own.object_name : own.subject;
      if (!own.certificate_dn.empty())
        request_dn_.assign(own.certificate_dn);
      else if (!own.policy_dn.empty() && !name.empty())
        request_dn_ = std::string(own.policy_dn) + "\\" + std::string(name);
    }
    if (request_dn_.empty()) request_dn_ = options_.certificate_dn;
    if (!options_.resume_dn.empty()) {
      // An enrollment an earlier run left running: retrieve it, nothing else (a request and
      // a reset follow only a detection). Its first retrieve is not one right after a
      // request: "WebSDK ..." is TPP still working on it.
      dn_ = options_.resume_dn;
      taken_ = true;
      return send_retrieve(now);
    }
    if (options_.strategy == reset_strategy::reset_before_request) {
      if (dn_.empty())
        return finish(now, outcome_kind::failed, errc::invalid_policy,
                      "reset-before-request needs the certificate DN before the request");
      return send_reset(now, enroll_state::pre_reset);
    }
    return send_enrollment(now);
  }

  action on_reply(time_point now, const response_view& r) {
    // TPP answered (not a 408, 429 or 5xx): the next error starts the error backoff again.
    if ((r.status >= 200 && r.status <= 299) ||
        (r.status >= 400 && r.status <= 499 && r.status != 408 && r.status != 429))
      errors_in_a_row_ = 0;
    switch (this->state()) {
      case enroll_state::pre_reset:
      case enroll_state::detect_reset: return on_reset_reply(now, r);
      case enroll_state::requesting: return on_request_reply(now, r);
      default: return on_retrieve_reply(now, r);  // retrieving: the one state left to await in
    }
  }

  action on_send_failed(time_point now, std::error_code ec) {
    const std::string_view why = transport_error_name(ec);
    kit_.report_verdict(now, 0, ec, verdict::transient, why);
    // A request whose reply was lost after it went out (a timeout, a reset connection) may
    // have been taken: requesting again blindly lands on that enrollment, which then reads as
    // a stale one and costs a reset. Look at the DN it would create first.
    if (this->state() == enroll_state::requesting && !request_dn_.empty() &&
        (ec == errc::transport_timeout || ec == errc::connection_reset)) {
      dn_ = request_dn_;
      probing_ = true;
      return retry_after_error(now, why, std::nullopt, enroll_state::retrieving);
    }
    return retry_after_error(now, why, std::nullopt, this->state());
  }

  action on_resume(time_point now) { return send_state(now, resume_); }

  // --- requests -------------------------------------------------------------------------
  action send_enrollment(time_point now) {
    return this->send_request(now, {"POST", request_path, {}, request_body_},
                              enroll_state::requesting);
  }

  action send_reset(time_point now, enroll_state which) {
    body_.clear();
    body_ += "{\"CertificateDN\":";
    certretry::detail::append_json_string(body_, dn_);
    body_ += ",\"Restart\":false}";  // never Restart=true: it races a fresh request in TPP
    return this->send_request(now, {"POST", reset_path, {}, body_}, which);
  }

  action send_retrieve(time_point now) {
    body_.clear();
    body_ += "{\"CertificateDN\":";
    certretry::detail::append_json_string(body_, dn_);
    body_ += ",\"Format\":\"base64\",\"IncludeChain\":true";
    hold_ = duration::zero();
    // A look after a lost request is a plain query: its answer must come at once, to tell
    // "taken and running" from "not taken".
    if (options_.mode == retrieve_mode::watch && !probing_) {
      // Never ask TPP to hold the call past the deadline.
      hold_ = std::max(std::min(options_.watch, kit_.time_left(now)), duration{1000});
      body_ += ",\"WorkToDoTimeout\":\"" + seconds_text(hold_) + "\"";
    }
    body_ += "}";
    sent_at_ = now;
    return this->send_request(now, {"POST", retrieve_path, {}, body_}, enroll_state::retrieving);
  }

  // --- replies --------------------------------------------------------------------------
  action on_request_reply(time_point now, const response_view& r) {
    const reply rep = reader_.read(r.body);
    if (r.status == 200 || r.status == 201 || r.status == 202) {
      // A 2xx that is not a TPP reply (a proxy's page): whether TPP took the request is unknown.
      if (!rep.json)
        return fail_with_text(now, r.status, "request answered with a body that is not a TPP reply",
                              "");
      // With WorkToDoTimeout, a certificate issued within it comes back on the request itself
      // (200 with CertificateData): done in one call. A 202 ("Certificate processing took
      // longer than WorkToDoTimeout...", with the CertificateDN) is taken and still running:
      // retrieve it (Venafi TPP: POST Certificates/Request, docs/sources.md#tpp-request-worktodo).
      if (r.status != 202 && !rep.certificate_data.empty()) {
        if (!rep.certificate_dn.empty()) dn_.assign(rep.certificate_dn);
        kit_.report_verdict(now, r.status, {}, verdict::done, "certificate issued on the request");
        kit_.set_certificate(rep.certificate_data);
        return finish(now, outcome_kind::issued, {}, "");
      }
      if (r.status != 202 && !rep.error.empty())
        return fail_with_text(now, r.status, "request refused: ", rep.error);
      if (!rep.certificate_dn.empty()) dn_.assign(rep.certificate_dn);
      if (dn_.empty())
        return fail_with_text(now, r.status, "request reply has no CertificateDN", "");
      taken_ = true;
      first_retrieve_ = true;
      if (r.status == 202) {
        why_ = "request taken, still processing";
        if (!rep.error.empty()) {
          why_ += ": ";
          certretry::detail::append_sanitized(why_, rep.error);
        }
        kit_.report_verdict(now, r.status, {}, verdict::pending, why_);
        return follow_up(now, enroll_state::retrieving, why_);
      }
      kit_.report_verdict(now, r.status, {}, verdict::pending, "request accepted");
      return follow_up(now, enroll_state::retrieving, "request accepted");
    }
    return on_other_status(now, r, rep, "request");
  }

  action on_retrieve_reply(time_point now, const response_view& r) {
    const reply rep = reader_.read(r.body);
    if (probing_) {
      if (std::optional<action> next = on_probe_reply(now, r, rep)) return *next;
    }
    if (r.status == 200 && !rep.certificate_data.empty()) {
      kit_.report_verdict(now, r.status, {}, verdict::done, "certificate issued");
      kit_.set_certificate(rep.certificate_data);
      return finish(now, outcome_kind::issued, {}, "");
    }
    const bool first = std::exchange(first_retrieve_, false);
    // A 500 that carries a Status or Stage speaks about the enrollment; one that does not (an
    // HTML page, {"Error": ...}) is a server error like any other.
    if (r.status == 500 && rep.json && (!rep.status.empty() || rep.stage)) {
      errors_in_a_row_ = 0;  // TPP answered about the enrollment
      if (first && detector_(rep.status)) return on_stale_enrollment(now, r.status, rep.status);
      // "click Retry" on a later retrieve (the first one said pending) is the same blocked
      // enrollment: a reset would fix it, so it is a detection too (one reset at most).
      if (same_message(rep.status, click_retry_message))
        return on_stale_enrollment(now, r.status, rep.status, false);
      // "WebSDK ... Requested Certificate" later on, or Stage -1 "Not yet available" (the two
      // "??" rows of the state table, docs/sources.md#tpp-writeup): TPP has the request and has
      // not finished it. Pending, bounded by the deadline. Any other 500 is the enrollment's own
      // failure, in TPP's words.
      const bool websdk = same_message(rep.status, websdk_requested_message);
      if (websdk || (rep.stage == -1 && same_message(rep.status, not_yet_available_message))) {
        // A detector that does not count "WebSDK ..." skips it and checks the next reply.
        first_retrieve_ = first && websdk;
        return pending(now, r, describe("500 but in progress: ", rep));
      }
      return fail_with_text(now, r.status, "enrollment failed: ", rep.status);
    }
    if (r.status == 200 || r.status == 202) {
      // 202 = still working (Stage 500 "Post CSR", Stage -1 "Queued for renewal", the "??"
      // 202 Stage -1 "WebSDK ..."); a 200 without CertificateData is read the same way.
      if (!rep.json && r.status == 200)
        return fail_with_text(now, r.status, "200 with a body that is not a TPP reply", "");
      return pending(
          now, r, describe(r.status == 202 ? "202 pending: " : "200 without certificate: ", rep));
    }
    // A reply that says nothing about the enrollment (an HTML 500, a 503) does not use up the
    // first-retrieve check.
    first_retrieve_ =
        first && (r.status == 500 || triage_status(r.status).verdict == verdict::transient);
    return on_other_status(now, r, rep, "retrieve");
  }

  action on_stale_enrollment(time_point now, int status, std::string_view message,
                             bool first = true) {
    std::string text;  // TPP's message, bounded and sanitised for reasons and events
    certretry::detail::append_sanitized(text, message, 256);
    why_ =
        first ? "stale enrollment on first retrieve: " : "blocked enrollment on a later retrieve: ";
    why_ += text;
    kit_.report_verdict(now, status, {}, resets_ >= 1 ? verdict::permanent : verdict::pending,
                        why_);
    if (resets_ >= 1)
      return finish(now, outcome_kind::failed, errc::server_rejected,
                    "stale enrollment persists after a reset: " + text);
    if (options_.strategy == reset_strategy::query_only)
      return finish(now, outcome_kind::needs_reset, errc::server_rejected,
                    "a failed earlier enrollment blocks this one (" + text +
                        "); reset(Restart=false) and request again");
    if (kit_.time_left(now) <= duration::zero())
      return finish(now, outcome_kind::still_pending, errc::deadline_exceeded, why_);
    kit_.report(now, event_kind::reset, text);
    return send_reset(now, enroll_state::detect_reset);
  }

  action on_reset_reply(time_point now, const response_view& r) {
    const bool before_request = this->state() == enroll_state::pre_reset;
    const reply rep = reader_.read(r.body);
    if (r.status == 200) {
      ++resets_;
      kit_.report_verdict(now, r.status, {}, verdict::done, "reset completed");
      return follow_up(now, enroll_state::requesting, "reset completed");
    }
    if (r.status == 400 && rep.json) {
      if (same_message(rep.error, no_reset_required_message)) {
        ++resets_;
        kit_.report_verdict(now, r.status, {}, verdict::done, "no reset required");
        // Before a request: go on and request. After a detection: nothing was stuck (the
        // "misbehaving TPP", docs/sources.md#tpp-writeup): keep retrieving the enrollment
        // already running.
        if (before_request) return follow_up(now, enroll_state::requesting, "no reset required");
        return retry_later(now, "no reset required", std::nullopt, enroll_state::retrieving);
      }
      if (ends_with_message(rep.error, not_found_suffix)) {
        // After a detection the certificate exists (TPP just answered for it): this is the
        // "you do not have sufficient rights" half of the message. The caller may not reset
        // it; another request would only be blocked again (docs/sources.md#tpp-reset).
        if (!before_request) {
          why_ =
              "reset refused (the caller may not reset this certificate; someone with rights to "
              "it must reset it): ";
          certretry::detail::append_sanitized(why_, rep.error, 256);
          return person_needed(now, r.status,
                               "someone with rights to the certificate must reset it in TPP "
                               "(Reset with Restart=false, or Retry in the console), or give the "
                               "caller's identity rights to it; then clear the ledger. TPP said: ",
                               rep.error);
        }
        ++resets_;
        kit_.report_verdict(now, r.status, {}, verdict::done,
                            "certificate not found: first enrollment");
        return follow_up(now, enroll_state::requesting, "certificate not found");
      }
    }
    return on_other_status(now, r, rep, "reset");
  }

  // Statuses no row above covers: 429 and 5xx (and 500s that say nothing about the enrollment)
  // back off; anything else fails with the status and TPP's own text, as VCert reports
  // "Unexpected status code on TPP Certificate Retrieval. Status: <line>".
  action on_other_status(time_point now, const response_view& r, const reply& rep,
                         std::string_view call) {
    // TPP's rights errors: a token refused (401: expired, revoked or missing; 403: the grant
    // lacks the scope: docs/sources.md#tpp-token-errors) or an object the caller may not see
    // ("... does not exist or you do not have sufficient rights to the object."). The same
    // request with the same identity gets the same answer: a person must act.
    const bool token = r.status == 401 || r.status == 403;
    const bool rights =
        r.status == 400 && rep.json && ends_with_message(rep.error, not_found_suffix);
    status_verdict st = triage_status(r.status);
    if (st.verdict != verdict::transient)
      st = {verdict::permanent, st.verdict == verdict::pending ? "unexpected 2xx" : st.why};
    why_.assign(call);
    why_ += " answered " + std::to_string(r.status) + ": ";
    why_ += st.why;
    // TPP's own words: its Error and Status, and the OAuth error fields of a token refused
    // (RFC 6750 §3.1: invalid_token, insufficient_scope).
    for (const std::string_view text :
         {rep.error, rep.status, rep.oauth_error, rep.error_description}) {
      if (text.empty()) continue;
      why_ += ": ";
      certretry::detail::append_sanitized(why_, text);  // 96 bytes each, as before
    }
    if (token)
      return person_needed(now, r.status,
                           r.status == 401
                               ? "TPP refused the caller's token (expired, revoked or missing): a "
                                 "person must give this client a new token; TPP said: "
                               : "the caller's token lacks the scope or rights this call needs: a "
                                 "person must grant them (certificate:manage, and rights to the "
                                 "policy folder and certificate); TPP said: ",
                           !rep.error_description.empty() ? rep.error_description
                           : !rep.oauth_error.empty()     ? rep.oauth_error
                                                          : rep.error);
    if (rights)
      return person_needed(now, r.status,
                           "the caller may not see or create this object: a person must give "
                           "the caller's identity rights to the policy folder and certificate in "
                           "TPP, or correct the DN; TPP said: ",
                           rep.error);
    kit_.report_verdict(now, r.status, {}, st.verdict, why_);
    if (st.verdict == verdict::transient)
      return retry_after_error(now, why_, kit_.retry_after_hint(now, r), this->state());
    return finish(now, outcome_kind::failed, errc::server_rejected,
                  "unexpected status code on TPP " + why_);
  }

  action pending(time_point now, const response_view& r, std::string_view why) {
    kit_.report_verdict(now, r.status, {}, verdict::pending, why);
    // A watched retrieve that TPP held is itself the wait: watch again at once. One answered at
    // once (TPP ignoring WorkToDoTimeout) follows the schedule like a poll, so no server can
    // turn watching into a tight loop.
    if (options_.mode == retrieve_mode::watch && now - sent_at_ >= hold_ / 2 &&
        kit_.may_send_now(now))
      return send_retrieve(now);
    return retry_later(now, why, kit_.retry_after_hint(now, r), enroll_state::retrieving);
  }

  // The next call of the enrollment goes out at once, but never past the deadline.
  action follow_up(time_point now, enroll_state next, std::string_view why) {
    if (kit_.time_left(now) <= duration::zero())
      return finish(now, outcome_kind::still_pending, errc::deadline_exceeded, why);
    return send_state(now, next);
  }

  action send_state(time_point now, enroll_state which) {
    switch (which) {
      case enroll_state::requesting: return send_enrollment(now);
      case enroll_state::detect_reset:
      case enroll_state::pre_reset: return send_reset(now, which);
      default: return send_retrieve(now);
    }
  }

  // The reply to a plain retrieve of the DN a lost request would create. Nothing: the reply
  // tells nothing about the request, and the usual rules apply (an error backs off and looks
  // again; a stale-enrollment message is a detection).
  std::optional<action> on_probe_reply(time_point now, const response_view& r, const reply& rep) {
    const bool not_found =
        r.status == 400 && rep.json && ends_with_message(rep.error, not_found_suffix);
    // No object, an object with a certificate and nothing running, or one at Stage 0 (the
    // state table's "no existing cert and past enrollment was reset" row): nothing was taken.
    const bool idle = (r.status == 200 && !rep.certificate_data.empty()) ||
                      ((r.status == 200 || r.status == 202) && rep.json && rep.stage == 0);
    if (not_found || idle) {
      probing_ = false;
      kit_.report_verdict(now, r.status, {}, verdict::pending,
                          not_found ? "lost request not taken: no such certificate"
                                    : "lost request not taken: nothing running");
      dn_ = options_.certificate_dn;
      return follow_up(now, enroll_state::requesting, "lost request not taken");
    }
    if (r.status == 200 || r.status == 202 ||
        (r.status == 500 && rep.json && (!rep.status.empty() || rep.stage))) {
      // Taken and running (or blocked: the 500's message decides, as on a first retrieve).
      probing_ = false;
      taken_ = true;
      first_retrieve_ = true;
    }
    return std::nullopt;
  }

  // After an error: the error_backoff step, raised to a Retry-After the policy honours; the
  // policy's deadline and attempt cap still end the run. Never the pending schedule.
  action retry_after_error(time_point now, std::string_view why, std::optional<duration> hint,
                           enroll_state then) {
    ++errors_in_a_row_;
    const duration paced = options_.errors.wait(errors_in_a_row_, uniform_unit(kit_.rng()));
    resume_ = then;
    if (why_.data() != why.data()) why_.assign(why);
    if (hint) return this->back_off(now, why_, hint, paced, wait_reason::schedule);
    if (!kit_.plan(now, std::nullopt).waits()) return this->back_off(now, why_, std::nullopt);
    const duration left = kit_.time_left(now);
    const duration d = std::max(paced, kit_.policy().run_limits().effective_min_delay());
    if (d > left) return this->wait_for(now, left, wait_reason::deadline_clamp);
    return this->wait_for(now, d, wait_reason::schedule);
  }

  // Waits per the policy, then sends `then`.
  action retry_later(time_point now, std::string_view why, std::optional<duration> hint,
                     enroll_state then) {
    resume_ = then;
    if (why_.data() != why.data()) why_.assign(why);
    return this->back_off(now, why_, hint);
  }

  // A rights error: why_ holds the reason; the action says what the person must do, with TPP's
  // own words.
  action person_needed(time_point now, int status, std::string_view todo, std::string_view text) {
    kit_.report_verdict(now, status, {}, verdict::permanent, why_);
    std::string what(todo);
    certretry::detail::append_sanitized(what, text, 256);
    kit_.set_action(what);
    return finish(now, outcome_kind::needs_person, errc::server_rejected, why_);
  }

  action fail_with_text(time_point now, int status, std::string_view what, std::string_view text) {
    why_.assign(what);
    certretry::detail::append_sanitized(why_, text, 256);
    kit_.report_verdict(now, status, {}, verdict::permanent, why_);
    return finish(now, outcome_kind::failed, errc::server_rejected, why_);
  }

  std::string_view describe(std::string_view prefix, const reply& rep) {
    why_.assign(prefix);
    if (rep.stage) why_ += "Stage " + std::to_string(*rep.stage) + " ";
    certretry::detail::append_sanitized(why_, rep.status);
    return why_;
  }

  static std::string seconds_text(duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  }

  // Adds "name":"value" to a JSON object's text (the caller's request body).
  static void add_field(std::string& object, std::string_view name, std::string_view value) {
    const auto close = object.find_last_of('}');
    if (close == std::string::npos) return;
    const auto open = object.find('{');
    const bool empty = object.find_first_not_of(" \t\r\n", open + 1) == close;
    std::string field = empty ? "" : ",";
    certretry::detail::append_json_string(field, name);
    field += ':';
    certretry::detail::append_json_string(field, value);
    object.insert(close, field);
  }

  enroll_options options_;
  [[no_unique_address]] Detector detector_;
  reply_reader reader_;
  std::string dn_;
  std::string request_body_;
  std::string body_;
  std::string why_;
  std::string request_dn_;  // the DN the request creates (PolicyDN\ObjectName), if known
  std::string empty_;
  enroll_state resume_ = enroll_state::retrieving;
  bool first_retrieve_ = false;
  bool taken_ = false;    // TPP has taken a request of this run (or the resumed one)
  bool probing_ = false;  // the next retrieve looks for a request whose reply was lost
  std::uint32_t errors_in_a_row_ = 0;
  std::uint32_t resets_ = 0;
  time_point sent_at_{};
  duration hold_{};  // WorkToDoTimeout of the retrieve outstanding (watch mode)
};

/// The separate reset step of the 2023 decision, for callers using query-only: reset
/// (Restart=false), then request with WorkToDoTimeout, then retrieve.
template <stale_detector Detector = stale_enrollment_detector, schedule S = any_schedule,
          jitter J = any_jitter, random_source R = splitmix64, event_sink Sink = null_sink,
          retry_budget Budget = no_budget>
enroll_machine<Detector, S, J, R, Sink, Budget> reset_step(enroll_options options,
                                                           backoff_policy<S, J> policy, R rng,
                                                           Sink sink = {}, Budget budget = {}) {
  options.strategy = reset_strategy::reset_before_request;
  if (!options.request_work_to_do_timeout) options.request_work_to_do_timeout = options.watch;
  return {std::move(options), policy,     std::move(rng),
          std::move(sink),    Detector{}, certretry::default_max_body_bytes,
          std::move(budget)};
}

static_assert(machine<enroll_machine<>>);

}  // namespace certretry::tpp
