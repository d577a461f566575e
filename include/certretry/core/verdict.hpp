// certretry/core/verdict.hpp — what triage concludes from one response, and the HTTP status
// classes every triage shares (certctl's status-code table:
// docs/sources.md#certctl-async-polling-doc).
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/http.hpp"

#include <cstdint>
#include <string_view>

namespace certretry {

/// What a triage concludes from one response.
///
/// Thread safety: a plain value whose views borrow the triage: read them on the machine's thread,
/// before the triage's next call.
struct triage_result {
  /// done, pending, transient, permanent, needs a person ...
  certretry::verdict verdict = certretry::verdict::pending;
  /// For logs and transcripts; valid until the triage's next call.
  std::string_view why{};
  /// done: the certificate bytes; valid until the triage's next call.
  std::string_view certificate{};
  /// pending: the work moved to a new stage (status said issued, now collect), so the next
  /// request goes out at once instead of after a wait.
  bool poll_now = false;
  /// permanent: no retry can fix it, a person must act (a CA refused the order): the run ends
  /// needs_person with `action`, what the person needs (docs/operations.md, "Needs a person").
  /// Valid until the triage's next call.
  bool needs_person = false;
  std::string_view action{};  ///< with needs_person: what the person needs (the CA's words)
};

/// The status-code rows of certctl's triage table; 2xx bodies are the profile's business.
enum class status_class : std::uint8_t {
  success,       ///< 2xx: the body decides
  rate_limited,  ///< 429: transient, back off
  server_error,  ///< 5xx: transient, back off
  client_error,  ///< other 4xx (400, 401, 403, 404 ...): permanent
  timeout,       ///< 408 Request Timeout: the server gave up waiting for us; transient
  unexpected,    ///< 1xx, 3xx, or outside 100..599: permanent (a transport follows redirects)
};

/// The status class of an HTTP status code.
constexpr status_class classify_status(int status) noexcept {
  if (status >= 200 && status <= 299) return status_class::success;
  if (status == 429) return status_class::rate_limited;
  if (status == 408) return status_class::timeout;
  if (status >= 400 && status <= 499) return status_class::client_error;
  if (status >= 500 && status <= 599) return status_class::server_error;
  return status_class::unexpected;
}

/// The verdict for a response whose body need not be read, or nothing for a 2xx.
///
/// Thread safety: a plain value (static text): safe to copy and read from any thread.
struct status_verdict {
  certretry::verdict verdict;  ///< the verdict
  std::string_view why;        ///< why, as static text
};

/// The verdict for a status whose body need not be read; pending (the body decides) for a 2xx.
constexpr status_verdict triage_status(int status) noexcept {
  switch (classify_status(status)) {
    case status_class::success: return {verdict::pending, "2xx: body decides"};
    case status_class::rate_limited: return {verdict::transient, "rate limited (429)"};
    case status_class::server_error: return {verdict::transient, "server error (5xx)"};
    case status_class::timeout: return {verdict::transient, "request timeout (408)"};
    case status_class::client_error: return {verdict::permanent, "client error (4xx)"};
    case status_class::unexpected: return {verdict::permanent, "unexpected HTTP status"};
  }
  return {verdict::permanent, "unexpected HTTP status"};
}

}  // namespace certretry
