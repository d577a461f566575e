// certretry/testing/acme/model.hpp — the vocabulary of the ACME server model: its endpoints, its
// numbers, its detail texts, its options and counters, and the problem documents every part of
// it answers with.
//
// By default the model (testing/acme/server.hpp) answers ACME requests the way Boulder, Let's
// Encrypt's CA software, does where a client's retry and polling logic can tell the difference,
// and the way RFC 8555 and RFC 9773 say where Boulder is silent; acme_server_options switch to
// other servers' styles and inject faults. Each number below names where it comes
// from: Boulder's code (https://github.com/letsencrypt/boulder, mostly wfe2/wfe.go; see
// docs/sources.md#boulder), Pebble (docs/sources.md#pebble), the RFCs (docs/sources.md#rfc8555,
// docs/sources.md#rfc9773), or the model itself where no source fixes it.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::model {

/// @{
/// The model's endpoints (the directory's URLs, RFC 8555 §7.1.1, without the origin). They are
/// Boulder's paths (wfe2/wfe.go); Boulder's order URLs also carry the account number, which the
/// model leaves out.
inline constexpr std::string_view acme_new_nonce_path = "/acme/new-nonce";
inline constexpr std::string_view acme_new_order_path = "/acme/new-order";
inline constexpr std::string_view acme_order_prefix = "/acme/order/";
inline constexpr std::string_view acme_finalize_prefix = "/acme/finalize/";
inline constexpr std::string_view acme_authz_prefix = "/acme/authz/";
inline constexpr std::string_view acme_certificate_prefix = "/acme/cert/";
inline constexpr std::string_view acme_renewal_info_prefix = "/acme/renewal-info/";
/// @}

/// The model's numbers.
namespace acme_model {

/// @{
/// Order processing after finalize: lognormal with median 2 s and 99th percentile 10 s (positive,
/// with the long right tail of a pipeline of delays); sigma = ln(p99 / median) / z99 = ln 5 / 2.326.
/// The model's choice of a CA slower than Let's Encrypt: Boulder's wfe2/wfe.go gives its own
/// 99th-percentile finalize latency as 2.3 s.
inline constexpr duration processing_median = 2s;
inline constexpr duration processing_p99 = 10s;
/// @}
inline constexpr double normal_z99 = 2.326;  ///< the standard normal's 0.99 quantile
inline constexpr double processing_sigma = 1.6094379124341003 / normal_z99;  ///< ln 5 / z99

/// Boulder sends `Retry-After: 3` on every order reply whose status is processing, finalize's
/// included (wfe2/wfe.go, orderRetryAfter).
inline constexpr std::chrono::seconds boulder_processing_retry_after{3};

/// @{
/// Boulder's renewalInfo `Retry-After`: 6 h ±20 % (wfe2/wfe.go, jitterRetryHeader(6*time.Hour)).
inline constexpr std::chrono::hours renewal_info_retry_after{6};
inline constexpr double renewal_info_retry_after_spread = 0.2;
/// @}

/// Boulder adds `Retry-After: 60` to every 500 it sends (wfe2/wfe.go, sendError).
inline constexpr std::chrono::seconds server_error_retry_after{60};

/// @{
/// The model's choices (no source fixes them): how long a client waits for a reply that never
/// comes, the pause a rate limit asks for, and how many recent nonces the server remembers.
inline constexpr duration client_timeout = 30s;
inline constexpr std::chrono::seconds rate_limit_retry_after{3600};
inline constexpr std::uint64_t nonce_window = 4096;
/// @}

/// An order's `expires`: a week after it was created (the model's choice; clients here only
/// need the field to be a valid RFC 3339 timestamp).
inline constexpr std::chrono::hours order_lifetime{7 * 24};

/// Boulder prints a serial as 36 hex digits (core/util.go, SerialToString: "%036x").
inline constexpr std::size_t serial_hex_digits = 36;

}  // namespace acme_model

/// Detail texts of the model's problem documents. Boulder joins a context and an error as
/// "<context> :: <error>" (web/probs.go, ProblemDetailsForError); the texts are Boulder's own
/// (wfe2/wfe.go, NewOrder and validateReplacementOrder; wfe2/verify.go for nonces) except where
/// marked as the model's.
namespace acme_text {
/// Boulder's context for every `replaces` rejection (NewOrder, since Boulder PR #8260, 2025).
inline constexpr std::string_view ari_prefix = "Could not validate ARI 'replaces' field :: ";
/// Boulder's context before that, when an already replaced certificate got 409 conflict.
inline constexpr std::string_view conflict_prefix =
    "While validating order as a replacement an error occurred :: ";
/// The text of a 409 for a certificate already replaced, before its serial.
inline constexpr std::string_view already_replaced_before_serial =
    "cannot indicate an order replaces certificate with serial \"";
/// ... and after its serial.
inline constexpr std::string_view already_replaced_after_serial =
    "\", which already has a replacement order";
/// The text of a rejection naming a serial the server does not know, before the serial.
inline constexpr std::string_view unknown_serial_before =
    "while checking that this order is a replacement: request included `replaces` field, but no "
    "current certificate with serial \"";
/// ... and after it.
inline constexpr std::string_view unknown_serial_after = "\" exists";
/// The text of a rejection whose identifiers differ from those of the certificate replaced.
inline constexpr std::string_view identifiers_mismatch =
    "while checking that this order is a replacement: identifiers in this order do not match any "
    "identifiers in the certificate being replaced";
/// Boulder's context, with the model's own reason (Boulder names the failing part).
inline constexpr std::string_view bad_cert_id =
    "while parsing ARI CertID an error occurred: the CertID is not two base64url parts";
/// In the style of Boulder's wfe2/verify.go ("JWS has an expired anti-replay nonce: %q").
inline constexpr std::string_view bad_nonce = "JWS has an invalid anti-replay nonce: \"";
inline constexpr std::string_view rate_limited = "too many new orders recently";  ///< model text
/// @{
/// RFC 8555 §7.4's orderNotReady, in Boulder's words (wfe2/wfe.go, FinalizeOrder).
inline constexpr std::string_view not_ready = "Order's status (\"";
inline constexpr std::string_view not_ready_after = "\") is not acceptable for finalization";
/// @}
/// Pebble >= 2.6 on a `replaces` of another issuer (wfe/wfe.go validateReplacementOrder, ca/ca.go).
inline constexpr std::string_view pebble_unknown_issuer =
    "parsing ARI CertID failed: no known issuer matches the provided Authority Key Identifier ";
}  // namespace acme_text

/// Which Retry-After the server sends on processing orders.
enum class acme_order_style : std::uint8_t {
  boulder,         ///< `Retry-After: 3` on every processing reply, the finalize reply included
  no_retry_after,  ///< none: Pebble before 2.5.0, and later Pebble unless retryAfter.order is set
                   ///< (Pebble PR #380, wfe/wfe.go addRetryAfterHeader)
};

/// How a second order replacing the same certificate is refused.
enum class acme_replaces_style : std::uint8_t {
  rfc9773,           ///< 409 urn:ietf:params:acme:error:alreadyReplaced (RFC 9773 §5)
  boulder_conflict,  ///< 409 urn:ietf:params:acme:error:conflict (Boulder until PR #8053, 2025)
  /// Pebble 2.6 and later: an unknown certificate (another CA's, whose Authority Key Identifier
  /// no issuer of Pebble's has) is refused 400 malformed without the word "replace"
  /// (ca/ca.go RecognizedSKID; docs/sources.md#pebble-ari-malformed); the rest as rfc9773.
  pebble,
};

/// A fault forced on the next new-order request.
enum class acme_fault : std::uint8_t {
  bad_nonce,     ///< 400 badNonce with a fresh Replay-Nonce (RFC 8555 §6.5)
  rate_limited,  ///< 429 rateLimited with Retry-After (RFC 8555 §6.6)
  unavailable,   ///< 503 from the load balancer: an HTML page, no problem document
};

/// How the ACME model behaves: timing, styles, faults and their probabilities.
///
/// Thread safety: a plain value (the server keeps its own copy): safe to share read-only between
/// threads.
struct acme_server_options {
  /// the model's random seed (every order and certificate draws from streams seeded by it)
  std::uint64_t seed = 1;
  /// The round trip of every call, added to the virtual clock after the server answered.
  duration latency = 50ms;
  /// The scheme and host of the URLs in bodies and Location headers; stripped from targets.
  std::string origin = "https://acme.test";
  /// which Retry-After processing orders carry
  acme_order_style order_style = acme_order_style::boulder;
  /// how a second replacement of one certificate is refused
  acme_replaces_style replaces_style = acme_replaces_style::rfc9773;
  /// median order processing time after finalize
  duration processing_median = acme_model::processing_median;
  duration processing_p99 = acme_model::processing_p99;  ///< 99th percentile of that time
  /// RFC 8555 §6.5: POSTs must carry an unused nonce the server issued.
  bool check_nonces = true;
  /// renewalInfo faults (probabilities per GET).
  double renewal_info_errors = 0.0;    ///< 500 serverInternal, Retry-After 60 s
  double renewal_info_timeouts = 0.0;  ///< no reply: the transport times out after `timeout`
  /// how long a client waits for a reply that never comes
  duration timeout = acme_model::client_timeout;
  /// new-order faults (probabilities per request, drawn in this order).
  double bad_nonce = 0.0;
  double rate_limited = 0.0;  ///< probability of a 429 rateLimited
  double unavailable = 0.0;   ///< probability of a 503 from the load balancer
  /// The Retry-After of a rateLimited reply: Let's Encrypt's limits refill over hours (300 new
  /// orders per 3 h; 5 duplicate certificates per 7 days), so hints of hours are real.
  std::chrono::seconds rate_limit_retry_after = acme_model::rate_limit_retry_after;
  /// Lost replies: the next this-many finalize requests are carried out but their replies never
  /// arrive (the client times out). The repeat is refused 403 orderNotReady, as Boulder and
  /// RFC 8555 §7.4 do for an order already processing.
  std::uint32_t lost_finalize_replies = 0;
};

/// Calls received, per endpoint, and the answers tests and benchmarks assert on.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct acme_counters {
  std::uint64_t new_nonce = 0;     ///< new-nonce requests
  std::uint64_t new_order = 0;     ///< new-order requests
  std::uint64_t finalize = 0;      ///< finalize requests
  std::uint64_t order_polls = 0;   ///< POST-as-GET (or GET) of an order
  std::uint64_t certificate = 0;   ///< certificate downloads
  std::uint64_t renewal_info = 0;  ///< renewalInfo requests
  std::uint64_t other = 0;         ///< unknown path or method
  /// Polls that came sooner than the previous reply's Retry-After asked.
  std::uint64_t early_order_polls = 0;
  /// renewalInfo requests sooner than the previous Retry-After asked
  std::uint64_t early_renewal_info = 0;
  /// Answers.
  std::uint64_t bad_nonce = 0;          ///< 400 badNonce (stale nonce or injected)
  std::uint64_t rate_limited = 0;       ///< 429
  std::uint64_t unavailable = 0;        ///< 503 on new-order
  std::uint64_t server_errors = 0;      ///< 500 on renewalInfo
  std::uint64_t timeouts = 0;           ///< renewalInfo GETs never answered
  std::uint64_t lost_replies = 0;       ///< finalize requests carried out whose reply was dropped
  std::uint64_t replaces_rejected = 0;  ///< `replaces` claims refused
  std::uint64_t orders_valid = 0;       ///< orders that became valid

  /// Every call received.
  constexpr std::uint64_t calls() const noexcept {
    return new_nonce + new_order + finalize + order_polls + certificate + renewal_info + other;
  }
};

/// One order, as a test or a benchmark may inspect it.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct acme_order_info {
  bool exists = false;                     ///< false: no such order
  std::string_view status{};               ///< "ready", "processing", "valid"
  std::uint32_t polls = 0;                 ///< polls of it
  std::uint32_t early_polls = 0;           ///< of them, sooner than the previous Retry-After asked
  duration processing{};                   ///< drawn at finalize; zero before
  std::optional<time_point> finalized_at;  ///< when finalize was accepted
  std::optional<time_point> valid_at;      ///< when processing ends
  std::string replaces;                    ///< the CertID it replaces, if any
};

/// A certificate the server issued earlier: renewalInfo answers for it, `replaces` may name it.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct acme_certificate {
  std::string cert_id;                   ///< RFC 9773 §4.1
  std::vector<std::string> identifiers;  ///< DNS names
  time_point window_start{};             ///< the suggested window's start
  time_point window_end{};               ///< the suggested window's end
  std::string explanation_url;           ///< sent when not empty
};

/// One certificate, as a test may inspect it.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct acme_certificate_info {
  bool exists = false;                  ///< false: no such certificate
  bool replaced = false;                ///< an order replacing it was accepted
  std::string serial;                   ///< 36 hex digits
  time_point window_start{};            ///< the suggested window's start
  time_point window_end{};              ///< the suggested window's end
  std::uint32_t renewal_info_gets = 0;  ///< renewalInfo requests for it
  std::uint32_t early_gets = 0;         ///< of them, sooner than the previous Retry-After asked
  std::optional<duration> last_retry_after;  ///< the last Retry-After sent for it
};

/// The parts of the model (testing/acme/*.hpp) share these two replies.
namespace acme_detail {

// An RFC 8555 §6.7 problem document (RFC 7807): type, detail and status, in that order.
inline response problem_reply(int status, std::string_view type, std::string_view detail) {
  std::string body = "{\"type\":\"urn:ietf:params:acme:error:";
  body += type;
  body += "\",\"detail\":";
  certretry::detail::append_json_string(body, detail);
  body += ",\"status\":" + std::to_string(status) + "}";
  return response{status, {{"Content-Type", "application/problem+json"}}, std::move(body)};
}

// `Retry-After` in delay-seconds (RFC 9110 §10.2.3), as Boulder sends it.
inline void add_retry_after(response& r, duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d);
  r.headers.push_back({"Retry-After", std::to_string(s.count())});
}

}  // namespace acme_detail

}  // namespace certretry::model
