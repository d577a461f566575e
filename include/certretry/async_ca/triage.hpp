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
//   4xx -> permanent                 429, 5xx, network -> transient
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/invalid_value.hpp"
#include "certretry/core/target.hpp"
#include "certretry/json/reader.hpp"
#include "certretry/core/verdict.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace certretry {

enum class async_ca : std::uint8_t { digicert, sectigo, entrust, globalsign, generic };

// Where the certificate comes from once the status says it is ready.
enum class collect_kind : std::uint8_t {
  in_status_body,     // a string field of the status body (Entrust, GlobalSign, generic)
  by_order_id,        // a second endpoint keyed by the order id (Sectigo collect)
  by_certificate_id,  // a second endpoint keyed by an id the status body carries (DigiCert)
};

struct async_ca_profile {
  std::string_view name{};
  std::string_view status_path{};   // with {id} and {ca}
  std::string_view collect_path{};  // with {id} or {cert_id}; empty for in_status_body
  collect_kind collect = collect_kind::in_status_body;
  std::string_view certificate_field{};         // in_status_body: field holding the PEM
  std::string_view cert_id_object{};            // by_certificate_id: object holding the id ...
  std::string_view cert_id_field{};             // ... and the id's field
  std::span<const std::string_view> done{};     // ready: collect (or take) the certificate
  std::span<const std::string_view> pending{};  // still working
  std::span<const std::string_view> failed{};   // refused for good
  bool accepted_202_is_pending = false;         // GlobalSign: 202 = accepted, not ready
  bool collect_400_is_not_ready = false;        // Sectigo: collect answering 400 = not ready yet
};

namespace profiles {
namespace detail_lists {
using sv = std::string_view;
// DigiCert CertCentral order statuses. waiting_pickup is issued once a certificate id exists.
inline constexpr std::array<sv, 2> digicert_done{"issued", "waiting_pickup"};
inline constexpr std::array<sv, 4> digicert_pending{"pending", "processing", "needs_approval",
                                                    "reissue_pending"};
inline constexpr std::array<sv, 5> digicert_failed{"rejected", "denied", "canceled", "expired",
                                                   "revoked"};
// Sectigo Certificate Manager.
inline constexpr std::array<sv, 1> sectigo_done{"issued"};
inline constexpr std::array<sv, 4> sectigo_pending{"requested", "approved", "applied", "pending"};
inline constexpr std::array<sv, 6> sectigo_failed{"rejected", "declined", "invalid",
                                                  "revoked",  "expired",  "not enrolled"};
// Entrust Certificate Services / CA Gateway. AWAITING_APPROVAL: humans approve, may take a day.
inline constexpr std::array<sv, 1> entrust_done{"issued"};
inline constexpr std::array<sv, 3> entrust_pending{"pending", "processing", "awaiting_approval"};
inline constexpr std::array<sv, 3> entrust_failed{"rejected", "denied", "failed"};
// GlobalSign Atlas HVCA (upper- and lower-case both occur; matching ignores case).
inline constexpr std::array<sv, 1> globalsign_done{"issued"};
inline constexpr std::array<sv, 2> globalsign_pending{"pending", "processing"};
inline constexpr std::array<sv, 4> globalsign_failed{"revoked", "rejected", "denied", "failed"};
// certctl's generic rows.
inline constexpr std::array<sv, 2> generic_done{"issued", "completed"};
inline constexpr std::array<sv, 2> generic_pending{"pending", "processing"};
inline constexpr std::array<sv, 3> generic_failed{"rejected", "denied", "failed"};
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
};
inline constexpr async_ca_profile sectigo{
    .name = "sectigo",
    .status_path = "/ssl/v1/{id}",
    .collect_path = "/ssl/v1/collect/{id}/pem",
    .collect = collect_kind::by_order_id,
    .done = detail_lists::sectigo_done,
    .pending = detail_lists::sectigo_pending,
    .failed = detail_lists::sectigo_failed,
    .collect_400_is_not_ready = true,
};
inline constexpr async_ca_profile entrust{
    .name = "entrust",
    .status_path = "/v1/certificate-authorities/{ca}/enrollments/{id}",
    .collect = collect_kind::in_status_body,
    .certificate_field = "certificate",
    .done = detail_lists::entrust_done,
    .pending = detail_lists::entrust_pending,
    .failed = detail_lists::entrust_failed,
};
inline constexpr async_ca_profile globalsign{
    .name = "globalsign",
    .status_path = "/v2/certificates/{id}",
    .collect = collect_kind::in_status_body,
    .certificate_field = "certificate",
    .done = detail_lists::globalsign_done,
    .pending = detail_lists::globalsign_pending,
    .failed = detail_lists::globalsign_failed,
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
};
}  // namespace profiles

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

constexpr std::optional<async_ca> async_ca_from_name(std::string_view name) noexcept {
  for (async_ca ca : {async_ca::digicert, async_ca::sectigo, async_ca::entrust,
                      async_ca::globalsign, async_ca::generic})
    if (detail::iequals(profile_of(ca).name, name)) return ca;
  return std::nullopt;
}

// The order being polled: which CA, the order (or enrollment, or serial) id, and for Entrust
// the CA id. Each id is one path segment, percent-encoded where RFC 3986 §3.3 asks (give it
// raw, not encoded); an empty id, "." or "..", or one with a control character is refused.
struct async_ca_order {
  async_ca ca = async_ca::generic;
  std::string id;
  std::string ca_id;
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

class async_ca_triage {
 public:
  explicit async_ca_triage(async_ca_order order,
                           std::size_t max_body_bytes = default_max_body_bytes)
      : order_(std::move(order)), profile_(&profile_of(order_.ca)), json_(max_body_bytes) {
    if (const auto p = path_segment_problem(order_.id); !p.empty())
      problem_ = {"async_ca_order.id", p};
    else if (const auto q = path_segment_problem(order_.ca_id);
             !q.empty() && profile_->status_path.find("{ca}") != std::string_view::npos)
      problem_ = {"async_ca_order.ca_id", q};
    detail::expand_path(status_target_, profile_->status_path, order_.id, order_.ca_id, {});
  }

  // The caller's id or CA id that cannot go into the path, if any: the poll machine refuses it
  // at start, sending nothing (errc::invalid_request_value).
  invalid_value request_problem() const noexcept { return problem_; }

  request_view next_request() const noexcept {
    return {"GET",
            collecting_ ? std::string_view{collect_target_} : std::string_view{status_target_}};
  }

  void reset() {
    collecting_ = false;
    collect_target_.clear();
  }

  bool collecting() const noexcept { return collecting_; }
  const async_ca_profile& profile() const noexcept { return *profile_; }

  triage_result classify(const response_view& r) {
    const status_class sc = classify_status(r.status);
    if (sc != status_class::success) return non_success(r, sc);
    if (collecting_) return collected(r);
    if (r.status == 202 && profile_->accepted_202_is_pending)
      return {verdict::pending, "202 accepted: not issued yet"};
    return status_body(r);
  }

 private:
  triage_result non_success(const response_view& r, status_class sc) {
    if (collecting_ && r.status == 400 && profile_->collect_400_is_not_ready)
      return {verdict::pending, "collect not ready (400): certificate not yet available"};
    const status_verdict st = triage_status(r.status);
    why_.assign(st.why);
    why_ += collecting_ ? " on download" : " on status";
    if (sc != status_class::unexpected)
      append_server_message(r.body);
    else
      why_ += " " + std::to_string(r.status);
    return {st.verdict, why_};
  }

  // The download/collect endpoint returns the certificate itself (PEM), not JSON.
  triage_result collected(const response_view& r) {
    if (r.body.empty()) return {verdict::pending, "download returned an empty body: not ready"};
    if (r.body.size() > json_.max_bytes())
      return {verdict::permanent, "download body larger than the configured limit"};
    return {verdict::done, "certificate downloaded", r.body};
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
        return {verdict::done, "issued", *certificate};
      case collect_kind::by_order_id: return start_collect(s, {});
      case collect_kind::by_certificate_id:
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

  triage_result unreadable() { return {verdict::permanent, "2xx body is not valid JSON"}; }

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
  invalid_value problem_{};
  detail::json_reader json_;
  std::string status_target_;
  std::string collect_target_;
  bool collecting_ = false;
  std::string why_;
};

}  // namespace certretry
