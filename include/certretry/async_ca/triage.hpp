// certretry/async_ca/triage.hpp — triage for asynchronous CAs: DigiCert, Sectigo, Entrust,
// GlobalSign and a generic order API (docs/sources.md#certctl-connectors,
// docs/sources.md#certctl-async-polling-doc).
//
// Each profile names the status endpoint, the download/collect endpoint when the certificate is
// not in the status body, and every status string the CA documents. Statuses match
// case-insensitively; an unknown status is pending with the status in the reason (a CA adding a
// status must not fail renewals). certctl's table decides everything else:
//   2xx + done status -> done        2xx + pending status -> pending
//   2xx + failed status -> permanent  2xx + unreadable body -> permanent
//   (a status saying a person at the CA refused the order, "rejected", "denied": needs_person)
//   4xx -> permanent                 429, 5xx, network -> transient
#pragma once

#include "certretry/core/certificate_check.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/target.hpp"
#include "certretry/core/time.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/json/reader.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace certretry {

/// The asynchronous CAs with a profile (docs/async-polling.md); generic is certctl's status
/// contract.
enum class async_ca : std::uint8_t { digicert, sectigo, entrust, globalsign, generic };

/// Where the certificate comes from once the status says it is ready.
enum class collect_kind : std::uint8_t {
  in_status_body,     ///< a string field of the status body (Entrust, GlobalSign, generic)
  by_order_id,        ///< a second endpoint keyed by the order id (Sectigo collect)
  by_certificate_id,  ///< a second endpoint keyed by an id the status body carries (DigiCert)
};

/// How one CA's order API reads: its paths, where the certificate comes from, and the status words
/// for done, pending and failed.
///
/// Thread safety: an immutable value (the profiles are constants): safe to share between threads.
struct async_ca_profile {
  std::string_view name{};          ///< the profile's name (digicert, sectigo ...)
  std::string_view status_path{};   ///< with {id} and {ca}
  std::string_view collect_path{};  ///< with {id} or {cert_id}; empty for in_status_body
  /// where the certificate comes from once the order is done
  collect_kind collect = collect_kind::in_status_body;
  std::string_view certificate_field{};         ///< in_status_body: field holding the PEM
  std::string_view chain_field{};               ///< in_status_body: field holding the chain, if any
  std::string_view cert_id_object{};            ///< by_certificate_id: object holding the id ...
  std::string_view cert_id_field{};             ///< ... and the id's field
  std::span<const std::string_view> done{};     ///< ready: collect (or take) the certificate
  std::span<const std::string_view> pending{};  ///< still working
  std::span<const std::string_view> failed{};   ///< refused for good
  /// Of `failed`: a person at the CA refused the order. No retry or new order fixes it until a
  /// person has acted, so the run ends needs_person (docs/operations.md, "Needs a person").
  std::span<const std::string_view> refused{};
  bool accepted_202_is_pending = false;  ///< GlobalSign: 202 = accepted, not ready
  /// Sectigo: a collect answering 400 with this error code means "not ready yet" (-183,
  /// "Certificate is not collectable"); any other 400 is an error, reported with Sectigo's words.
  std::optional<std::int64_t> collect_not_ready_code{};
  /// Codes of a refused collect that mean "try again later" (transient: the error backoff).
  std::span<const std::int64_t> collect_try_later_codes{};
};

/// Sectigo's collect error code for "Certificate is not collectable": approved, not generated yet
/// (docs/sources.md#sectigo-collect-codes).
inline constexpr std::int64_t sectigo_not_collectable = -183;
/// Sectigo's codes whose own words are "try again later": -109 "Certificate is not available now,
/// please try again later", -140 "CSR decoding temporarily unavailable", -195 "CA is not
/// available now" (docs/sources.md#sectigo-collect-codes). A collect refused with one of them is
/// an outage, not a refusal: retried with the error backoff, never failed.
inline constexpr std::array<std::int64_t, 3> sectigo_try_later_codes{-109, -140, -195};
/// Sectigo asks integrators to collect no more often than every 3 h
/// (docs/sources.md#sectigo-collect-guidance): a value for
/// async_ca_triage_options::collect_interval.
inline constexpr duration sectigo_collect_guidance = std::chrono::hours{3};

namespace profiles {
namespace detail_lists {
using sv = std::string_view;
// DigiCert CertCentral order statuses. waiting_pickup is issued once a certificate id exists.
inline constexpr std::array<sv, 2> digicert_done{"issued", "waiting_pickup"};
inline constexpr std::array<sv, 4> digicert_pending{"pending", "processing", "needs_approval",
                                                    "reissue_pending"};
inline constexpr std::array<sv, 5> digicert_failed{"rejected", "denied", "canceled", "expired",
                                                   "revoked"};
inline constexpr std::array<sv, 2> digicert_refused{"rejected", "denied"};
// Sectigo Certificate Manager.
inline constexpr std::array<sv, 1> sectigo_done{"issued"};
inline constexpr std::array<sv, 4> sectigo_pending{"requested", "approved", "applied", "pending"};
inline constexpr std::array<sv, 6> sectigo_failed{"rejected", "declined", "invalid",
                                                  "revoked",  "expired",  "not enrolled"};
inline constexpr std::array<sv, 2> sectigo_refused{"rejected", "declined"};
// Entrust Certificate Services / CA Gateway. AWAITING_APPROVAL: humans approve, may take a day.
inline constexpr std::array<sv, 1> entrust_done{"issued"};
inline constexpr std::array<sv, 3> entrust_pending{"pending", "processing", "awaiting_approval"};
inline constexpr std::array<sv, 3> entrust_failed{"rejected", "denied", "failed"};
inline constexpr std::array<sv, 2> entrust_refused{"rejected", "denied"};
// GlobalSign Atlas HVCA (upper- and lower-case both occur; matching ignores case).
inline constexpr std::array<sv, 1> globalsign_done{"issued"};
inline constexpr std::array<sv, 2> globalsign_pending{"pending", "processing"};
inline constexpr std::array<sv, 4> globalsign_failed{"revoked", "rejected", "denied", "failed"};
inline constexpr std::array<sv, 2> globalsign_refused{"rejected", "denied"};
// certctl's generic rows.
inline constexpr std::array<sv, 2> generic_done{"issued", "completed"};
inline constexpr std::array<sv, 2> generic_pending{"pending", "processing"};
inline constexpr std::array<sv, 3> generic_failed{"rejected", "denied", "failed"};
inline constexpr std::array<sv, 2> generic_refused{"rejected", "denied"};
}  // namespace detail_lists

inline constexpr async_ca_profile digicert{
    .name = "digicert",
    .status_path = "/order/certificate/{id}",
    .collect_path = "/certificate/{cert_id}/download/format/pem_all",
    .collect = collect_kind::by_certificate_id,
    .cert_id_object = "certificate",
    .cert_id_field = "id",
    .done = detail_lists::digicert_done,
    .pending = detail_lists::digicert_pending,
    .failed = detail_lists::digicert_failed,
    .refused = detail_lists::digicert_refused,
};
inline constexpr async_ca_profile sectigo{
    .name = "sectigo",
    .status_path = "/ssl/v1/{id}",
    .collect_path = "/ssl/v1/collect/{id}/pem",
    .collect = collect_kind::by_order_id,
    .done = detail_lists::sectigo_done,
    .pending = detail_lists::sectigo_pending,
    .failed = detail_lists::sectigo_failed,
    .refused = detail_lists::sectigo_refused,
    .collect_not_ready_code = sectigo_not_collectable,
    .collect_try_later_codes = sectigo_try_later_codes,
};
inline constexpr async_ca_profile entrust{
    .name = "entrust",
    .status_path = "/v1/certificate-authorities/{ca}/enrollments/{id}",
    .collect = collect_kind::in_status_body,
    .certificate_field = "certificate",
    .chain_field = "chain",
    .done = detail_lists::entrust_done,
    .pending = detail_lists::entrust_pending,
    .failed = detail_lists::entrust_failed,
    .refused = detail_lists::entrust_refused,
};
inline constexpr async_ca_profile globalsign{
    .name = "globalsign",
    .status_path = "/v2/certificates/{id}",
    .collect = collect_kind::in_status_body,
    .certificate_field = "certificate",
    .done = detail_lists::globalsign_done,
    .pending = detail_lists::globalsign_pending,
    .failed = detail_lists::globalsign_failed,
    .refused = detail_lists::globalsign_refused,
    .accepted_202_is_pending = true,
};
inline constexpr async_ca_profile generic{
    .name = "generic",
    .status_path = "/orders/{id}",
    .collect = collect_kind::in_status_body,
    .certificate_field = "certificate",
    .done = detail_lists::generic_done,
    .pending = detail_lists::generic_pending,
    .failed = detail_lists::generic_failed,
    .refused = detail_lists::generic_refused,
};
}  // namespace profiles

/// The built-in profile of `ca`.
constexpr const async_ca_profile& profile_of(async_ca ca) noexcept {
  switch (ca) {
    case async_ca::digicert: return profiles::digicert;
    case async_ca::sectigo: return profiles::sectigo;
    case async_ca::entrust: return profiles::entrust;
    case async_ca::globalsign: return profiles::globalsign;
    case async_ca::generic: return profiles::generic;
  }
  return profiles::generic;
}

/// Looks a CA up by its profile's name (case-insensitive).
constexpr std::optional<async_ca> async_ca_from_name(std::string_view name) noexcept {
  for (async_ca ca : {async_ca::digicert, async_ca::sectigo, async_ca::entrust,
                      async_ca::globalsign, async_ca::generic})
    if (detail::iequals(profile_of(ca).name, name)) return ca;
  return std::nullopt;
}

/// The order being polled: which CA, the order (or enrollment, or serial) id, and for Entrust
/// the CA id. Each id is one path segment, percent-encoded where RFC 3986 §3.3 asks (give it
/// raw, not encoded); an empty id, "." or "..", or one with a control character is refused.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct async_ca_order {
  async_ca ca = async_ca::generic;  ///< which CA's API
  std::string id;                   ///< the order (enrollment, serial) id, raw
  std::string ca_id;                ///< Entrust: the CA id, raw
};

/// How the triage reads one order's replies, beyond the profile.
///
/// Thread safety: a plain value (the triage keeps its own copy): safe to share read-only between
/// threads.
struct async_ca_triage_options {
  /// longer bodies are unreadable (body_too_large)
  std::size_t max_body_bytes = default_max_body_bytes;
  /// While the collect endpoint answers "not ready yet", wait at least this long before
  /// collecting again (zero: ride the schedule, certctl's behaviour and the default). Sectigo asks
  /// for 3 h (sectigo_collect_guidance); a wait past the deadline ends the run still_pending
  /// with not_before, so the caller re-enqueues instead of holding a worker.
  duration collect_interval = duration::zero();
  /// DigiCert reissue: the id of the certificate the reissue replaces. An order that says
  /// issued with this certificate id has not issued anything new (the reissue was canceled or
  /// rejected, and the order went back to its previous certificate): the run fails instead of
  /// returning the old certificate as the new one. Empty: not a reissue.
  std::string replaced_certificate_id{};
  /// What the bytes the CA calls the certificate must be before the run says issued: by default a
  /// PEM CERTIFICATE block or DER; certificate_check::parses_as_x509() or x509/key_match.hpp's
  /// check for more. Bytes that fail end the run failed with the reason (VCert's
  /// CheckCertificate and certctl's PEM parse both fail the retrieval).
  certificate_check check{};
};

namespace detail {

// Writes `pattern` with {id}, {ca} and {cert_id} replaced, each as one percent-encoded path
// segment, into `out`, reusing its buffer.
inline void expand_path(std::string& out, std::string_view pattern, std::string_view id,
                        std::string_view ca, std::string_view cert_id) {
  out.clear();
  while (!pattern.empty()) {
    const auto open = pattern.find('{');
    out.append(pattern.substr(0, open));
    if (open == std::string_view::npos) break;
    const auto close = pattern.find('}', open);
    const auto name = pattern.substr(open + 1, close - open - 1);
    append_path_segment(out, name == "id" ? id : name == "ca" ? ca : cert_id);
    pattern.remove_prefix(close + 1);
  }
}

inline bool in_list(std::span<const std::string_view> list, std::string_view s) noexcept {
  for (auto item : list)
    if (iequals(item, s)) return true;
  return false;
}

// A path segment from server data must stay a segment: no '/', '?', '#', '%', or controls.
inline bool safe_path_segment(std::string_view s) noexcept {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' || c == '\\')
      return false;
  }
  return true;
}

}  // namespace detail

/// The triage of one async-CA order: builds the status and collect requests and classifies each
/// reply by the profile.
///
/// Thread safety: part of one machine (it reuses its buffers): never share one between threads.
class async_ca_triage {
 public:
  /// The triage of `order`, reading bodies up to `max_body_bytes`.
  explicit async_ca_triage(async_ca_order order,
                           std::size_t max_body_bytes = default_max_body_bytes)
      : async_ca_triage(std::move(order),
                        async_ca_triage_options{.max_body_bytes = max_body_bytes}) {}

  /// The triage of `order` with `options`.
  async_ca_triage(async_ca_order order, async_ca_triage_options options)
      : order_(std::move(order)),
        profile_(&profile_of(order_.ca)),
        options_(std::move(options)),
        checker_(options_.check),
        json_(options_.max_body_bytes) {
    bind();
  }

  /// The same triage, with the same options, for another order: as if constructed anew, but
  /// keeping its buffers (the JSON parser's, the targets'), so a client that polls order after
  /// order allocates them once. Keep it outside the machines (`poll_machine<async_ca_triage&>`
  /// borrows it) and rebind it once a run has ended.
  void rebind(async_ca_order order) {
    order_ = std::move(order);
    profile_ = &profile_of(order_.ca);
    problem_ = {};
    wait_at_least_ = duration::zero();
    why_.clear();
    action_.clear();
    certificate_.clear();
    reset();
    bind();
  }

  /// The caller's id or CA id that cannot go into the path, if any: the poll machine refuses it
  /// at start, sending nothing (errc::invalid_request_value).
  invalid_value request_problem() const noexcept { return problem_; }

  /// The next request: the status request, or the collect request once the status said done.
  request_view next_request() const noexcept {
    return {"GET",
            collecting_ ? std::string_view{collect_target_} : std::string_view{status_target_}};
  }

  /// Back to the status request (a new run).
  void reset() {
    collecting_ = false;
    collect_target_.clear();
  }

  /// True once the status said done and the collect request is next.
  bool collecting() const noexcept { return collecting_; }
  /// The options.
  const async_ca_triage_options& options() const noexcept { return options_; }

  /// The least the next wait must be, after the last classify(): the collect interval while the
  /// collect endpoint says not ready, otherwise zero (poll_machine asks for it).
  duration wait_at_least() const noexcept { return wait_at_least_; }
  /// The CA's profile.
  const async_ca_profile& profile() const noexcept { return *profile_; }

  /// Classifies one response: done (the certificate), pending, transient or permanent.
  triage_result classify(const response_view& r) {
    wait_at_least_ = duration::zero();
    const status_class sc = classify_status(r.status);
    if (sc != status_class::success) return non_success(r, sc);
    if (collecting_) return collected(r);
    if (r.status == 202 && profile_->accepted_202_is_pending)
      return {verdict::pending, "202 accepted: not issued yet"};
    return status_body(r);
  }

 private:
  triage_result non_success(const response_view& r, status_class sc) {
    if (collecting_ && r.status == 400 && profile_->collect_not_ready_code)
      return collect_refused(r.body);
    const status_verdict st = triage_status(r.status);
    why_.assign(st.why);
    why_ += collecting_ ? " on download" : " on status";
    if (sc != status_class::unexpected)
      append_server_message(r.body);
    else
      why_ += " " + std::to_string(r.status);
    return {st.verdict, why_};
  }

  // Sectigo's collect answers 400 with {"code": N, "description": "..."}. Only the not-ready code
  // means "poll again"; -110 (revoked), -126 (unknown format) and every other code are errors
  // that no amount of polling fixes, so the run fails with Sectigo's words instead of polling
  // until the deadline (docs/async-polling.md#sectigo-collect).
  triage_result collect_refused(std::string_view body) {
    std::optional<std::int64_t> code;
    std::string_view description;
    if (auto obj = json_.open_object(body)) {
      for (auto field : *obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) break;
        auto value = field.value();
        if (key == "code") {
          if (std::int64_t n; !value.get_int64().get(n)) code = n;
        } else if (key == "description") {
          std::string_view d;
          if (!value.get_string().get(d)) description = d;
        }
      }
    }
    if (code && *code == *profile_->collect_not_ready_code) {
      wait_at_least_ = options_.collect_interval;
      why_ = "collect not ready (400) code ";
      why_ += std::to_string(*code);
    } else if (code && std::find(profile_->collect_try_later_codes.begin(),
                                 profile_->collect_try_later_codes.end(),
                                 *code) != profile_->collect_try_later_codes.end()) {
      why_ = "collect unavailable (400) code ";
      why_ += std::to_string(*code);
    } else if (code) {
      why_ = "collect refused (400) code ";
      why_ += std::to_string(*code);
    } else {
      why_ = "collect refused (400) without the not-ready code ";
      why_ += std::to_string(*profile_->collect_not_ready_code);
    }
    if (!description.empty()) {
      why_ += ": ";
      detail::append_sanitized(why_, description);
    }
    const bool not_ready = code && *code == *profile_->collect_not_ready_code;
    const bool try_later = code && std::find(profile_->collect_try_later_codes.begin(),
                                             profile_->collect_try_later_codes.end(),
                                             *code) != profile_->collect_try_later_codes.end();
    return {not_ready   ? verdict::pending
            : try_later ? verdict::transient
                        : verdict::permanent,
            why_};
  }

  // The download/collect endpoint returns the certificate itself (PEM), not JSON.
  triage_result collected(const response_view& r) {
    if (r.body.empty()) return {verdict::pending, "download returned an empty body: not ready"};
    if (r.body.size() > json_.max_bytes())
      return {verdict::permanent, "download body larger than the configured limit"};
    if (const auto bad = checker_.check(r.body); !bad.empty())
      return not_a_certificate("download", bad);
    return {verdict::done, "certificate downloaded", r.body};
  }

  // A 2xx that says "here is the certificate" with bytes that are not one: the run fails with
  // the reason; polling again would fetch the same page.
  triage_result not_a_certificate(std::string_view where, std::string_view why) {
    std::string text{why};  // `why` may be the checker's own buffer
    why_.assign(where);
    why_ += " is not a certificate: ";
    why_ += text;
    return {verdict::permanent, why_};
  }

  triage_result status_body(const response_view& r) {
    auto doc = json_.open(r.body);
    if (!doc) {
      why_ = "2xx body unreadable: ";
      why_ += doc.assume_error().message();
      return {verdict::permanent, why_};
    }
    std::optional<std::string_view> status;
    std::optional<std::string_view> certificate;
    std::optional<std::string_view> chain;
    std::string cert_id;
    simdjson::ondemand::object obj;
    if ((*doc.assume_value()).get_object().get(obj))
      return {verdict::permanent, "2xx body is not a single JSON object"};
    // One pass over the top-level fields; structure errors anywhere make the body unreadable.
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return unreadable();
      auto value = field.value();
      if (key == "status") {
        std::string_view s;
        if (value.get_string().get(s))
          return {verdict::permanent, "2xx body: status is not a string"};
        status = s;  // views into the parser's buffer stay valid until the next body
      } else if (!profile_->certificate_field.empty() && key == profile_->certificate_field) {
        std::string_view c;
        if (!value.get_string().get(c)) certificate = c;
      } else if (!profile_->chain_field.empty() && key == profile_->chain_field) {
        std::string_view c;
        if (!value.get_string().get(c)) chain = c;
      } else if (!profile_->cert_id_object.empty() && key == profile_->cert_id_object) {
        simdjson::ondemand::object inner;
        if (!value.get_object().get(inner)) {
          for (auto f : inner) {
            std::string_view k;
            if (f.unescaped_key().get(k)) return unreadable();
            if (k != profile_->cert_id_field) continue;
            auto v = f.value();
            if (std::uint64_t n; !v.get_uint64().get(n))
              cert_id = std::to_string(n);
            else if (std::string_view s; !v.get_string().get(s))
              cert_id.assign(s);
          }
        }
      }
    }
    // Trailing bytes after the object: On-Demand reports a location only when not at the end.
    if (!json_.at_end()) return unreadable();
    if (!status) return {verdict::permanent, "2xx body has no status field"};
    const std::string_view s = detail::trim_http_space(*status);

    if (detail::in_list(profile_->refused, s)) return refused(s);
    if (detail::in_list(profile_->failed, s))
      return with_status(verdict::permanent, "status ", s, "");
    if (detail::in_list(profile_->pending, s))
      return with_status(verdict::pending, "status ", s, "");
    if (!detail::in_list(profile_->done, s))
      return with_status(verdict::pending, "unknown status '", s, "' treated as pending");

    switch (profile_->collect) {
      case collect_kind::in_status_body:
        if (!certificate || certificate->empty())
          return with_status(verdict::pending, "status ", s, " but no certificate in the body yet");
        if (const auto bad = checker_.check(*certificate); !bad.empty())
          return not_a_certificate("the certificate field", bad);
        if (!chain || chain->empty()) return {verdict::done, "issued", *certificate};
        // Entrust sends the issuing chain beside the certificate; the outcome keeps both, leaf
        // first, as DigiCert's pem_all and Sectigo's collect do.
        certificate_.assign(*certificate);
        if (certificate_.back() != '\n') certificate_ += '\n';
        certificate_.append(*chain);
        return {verdict::done, "issued with its chain", certificate_};
      case collect_kind::by_order_id: return start_collect(s, {});
      case collect_kind::by_certificate_id:
        if (!options_.replaced_certificate_id.empty() &&
            cert_id == options_.replaced_certificate_id) {
          why_ = "status ";
          detail::append_sanitized(why_, s, 64);
          why_ += " but the certificate is still ";
          detail::append_sanitized(why_, cert_id, 32);
          why_ += ", the one the reissue replaces: the reissue was canceled or rejected";
          return {verdict::permanent, why_};
        }
        if (!detail::safe_path_segment(cert_id))
          return with_status(verdict::pending, "status ", s,
                             cert_id.empty()
                                 ? " but no certificate id yet"
                                 : " but the certificate id is not a valid path segment");
        return start_collect(s, cert_id);
    }
    return {verdict::pending, "unreachable"};
  }

  triage_result start_collect(std::string_view status, std::string_view cert_id) {
    detail::expand_path(collect_target_, profile_->collect_path, order_.id, order_.ca_id, cert_id);
    collecting_ = true;
    triage_result t = with_status(verdict::pending, "status ", status, ": downloading");
    t.poll_now = true;
    return t;
  }

  triage_result with_status(verdict v, std::string_view before, std::string_view status,
                            std::string_view after) {
    why_.assign(before);
    detail::append_sanitized(why_, status, 64);
    why_ += after;
    return {v, why_};
  }

  // A person at the CA said no: the run ends needs_person, with what the person must do.
  triage_result refused(std::string_view status) {
    triage_result t = with_status(verdict::permanent, "status ", status,
                                  ": the CA refused the order (needs a person)");
    action_.assign(profile_->name);
    action_ += " order ";
    detail::append_sanitized(action_, order_.id, 128);
    action_ += " is '";
    detail::append_sanitized(action_, status, 64);
    action_ +=
        "': a person at the CA refused it. Read the reason in the CA's portal, fix it (validation, "
        "organisation details, approval), then place a new order; polling cannot change it";
    t.needs_person = true;
    t.action = action_;
    return t;
  }

  triage_result unreadable() { return {verdict::permanent, "2xx body is not valid JSON"}; }

  // The order's checks and status target (constructor and rebind).
  void bind() {
    if (const auto p = path_segment_problem(order_.id); !p.empty())
      problem_ = {"async_ca_order.id", p};
    else if (const auto q = path_segment_problem(order_.ca_id);
             !q.empty() && profile_->status_path.find("{ca}") != std::string_view::npos)
      problem_ = {"async_ca_order.ca_id", q};
    detail::expand_path(status_target_, profile_->status_path, order_.id, order_.ca_id, {});
  }

  // Adds the server's own words from an error body, when it has any: DigiCert
  // {"errors":[{"code","message"}]}, Sectigo {"code","description"}, others message/detail/error.
  // At most two pieces are kept, however many (or repeated) keys a hostile body carries.
  void append_server_message(std::string_view body) {
    if (body.empty()) return;
    auto obj = json_.open_object(body);
    if (!obj) return;
    int pieces = 0;
    const auto add = [&](std::string_view text) {
      why_ += pieces++ == 0 ? ": " : " ";
      detail::append_sanitized(why_, text);
    };
    for (auto field : *obj) {
      std::string_view key;
      if (pieces == 2 || field.unescaped_key().get(key)) return;
      auto value = field.value();
      if (key == "errors") {
        simdjson::ondemand::array arr;
        if (value.get_array().get(arr)) continue;
        for (auto item : arr) {  // the first error only
          simdjson::ondemand::object e;
          if (item.get_object().get(e)) break;
          for (auto f : e) {
            std::string_view k, v;
            if (pieces == 2 || f.unescaped_key().get(k)) break;
            if ((k == "code" || k == "message") && !f.value().get_string().get(v)) add(v);
          }
          break;
        }
      } else if (pieces == 0 &&
                 (key == "description" || key == "message" || key == "detail" || key == "error")) {
        std::string_view text;
        if (!value.get_string().get(text)) add(text);
      }
    }
  }

  async_ca_order order_;
  const async_ca_profile* profile_;
  async_ca_triage_options options_;
  certificate_checker checker_;
  invalid_value problem_{};
  detail::json_reader json_;
  std::string status_target_;
  std::string collect_target_;
  std::string certificate_;  // a certificate with its chain appended
  bool collecting_ = false;
  duration wait_at_least_ = duration::zero();
  std::string why_;
  std::string action_;
};

}  // namespace certretry
