// certretry/tpp/reply.hpp — reading Venafi TPP's replies to request, retrieve and reset
// (Venafi TPP: Certificates/Request, Retrieve, Reset: docs/sources.md#tpp-request,
// docs/sources.md#tpp-retrieve, docs/sources.md#tpp-reset).
//
// Replies are JSON, parsed with simdjson On-Demand and bounded like every server body. Status
// messages are compared on the parsed Status field, ignoring case and runs of white space, never
// as substrings of the raw body: a different message that merely contains the words must not
// trigger a reset.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/text.hpp"
#include "certretry/json/reader.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace certretry::tpp {

/// The two messages a first retrieve answers with when an earlier enrollment failed (the state
/// table's row "Past enrollment is failed and another cert was requested",
/// docs/sources.md#tpp-writeup).
inline constexpr std::string_view click_retry_message =
    "This certificate cannot be processed while it is in an error state. Fix any errors, and "
    "then click Retry.";
/// The Status of a first retrieve while an earlier WebSDK request is still on record.
inline constexpr std::string_view websdk_requested_message =
    "WebSDK CertRequest Module Requested Certificate";
/// The Status of a retrieve while TPP is still working.
inline constexpr std::string_view not_yet_available_message = "Not yet available";
/// Reset's two benign 400s (Venafi TPP: Certificates/Reset, docs/sources.md#tpp-reset).
inline constexpr std::string_view no_reset_required_message =
    "Reset is not completed. No reset is required for the certificate.";
/// The end of reset's 400 for a DN that does not exist (or that the caller may not see).
inline constexpr std::string_view not_found_suffix =
    "does not exist or you do not have sufficient rights to the object.";
/// A request answered 202: taken, not finished within its WorkToDoTimeout (Venafi TPP: POST
/// Certificates/Request, "Response when system is busy", docs/sources.md#tpp-request-worktodo).
inline constexpr std::string_view work_to_do_timeout_prefix =
    "Certificate processing took longer than WorkToDoTimeout";

namespace detail {

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace detail

/// Equal ignoring ASCII case, leading/trailing white space and the length of white-space runs.
constexpr bool same_message(std::string_view a, std::string_view b) noexcept {
  std::size_t i = 0, j = 0;
  const auto skip = [](std::string_view s, std::size_t& k) {
    while (k < s.size() && detail::is_space(s[k])) ++k;
  };
  skip(a, i);
  skip(b, j);
  while (i < a.size() && j < b.size()) {
    if (detail::is_space(a[i]) || detail::is_space(b[j])) {
      if (!(detail::is_space(a[i]) && detail::is_space(b[j]))) return false;
      skip(a, i);
      skip(b, j);
      continue;
    }
    if (certretry::detail::ascii_lower(a[i]) != certretry::detail::ascii_lower(b[j])) return false;
    ++i;
    ++j;
  }
  skip(a, i);
  skip(b, j);
  return i == a.size() && j == b.size();
}

/// Whether `text` ends with `suffix` at a word boundary, compared like same_message. One pass
/// from the end: linear in the text, whatever a server puts in it.
constexpr bool ends_with_message(std::string_view text, std::string_view suffix) noexcept {
  std::size_t lead = 0;  // the suffix's own leading white space is not part of the match
  while (lead < suffix.size() && detail::is_space(suffix[lead])) ++lead;
  std::size_t i = text.size(), j = suffix.size();
  const auto skip_back = [](std::string_view s, std::size_t& k) {
    while (k > 0 && detail::is_space(s[k - 1])) --k;
  };
  skip_back(text, i);
  skip_back(suffix, j);
  while (j > lead) {
    if (i == 0) return false;
    const bool sa = detail::is_space(text[i - 1]), sb = detail::is_space(suffix[j - 1]);
    if (sa || sb) {
      if (!(sa && sb)) return false;
      skip_back(text, i);
      skip_back(suffix, j);
      continue;
    }
    if (certretry::detail::ascii_lower(text[i - 1]) !=
        certretry::detail::ascii_lower(suffix[j - 1]))
      return false;
    --i;
    --j;
  }
  return i == 0 || detail::is_space(text[i - 1]);
}

/// Which first-retrieve Status values mean "a stale failed enrollment blocks this one".
/// Both messages (Solution 3 of docs/sources.md#vcert-269): relying on "click Retry" alone misses
/// case 3 (10 %, docs/sources.md#tpp-writeup).
///
/// Thread safety: stateless: share freely.
struct stale_enrollment_detector {
  /// True for either message.
  constexpr bool operator()(std::string_view status) const noexcept {
    return same_message(status, click_retry_message) ||
           same_message(status, websdk_requested_message);
  }
};

/// The weaker rule the write-up rejects (docs/sources.md#tpp-writeup: relying solely on the
/// "click Retry" message): kept so tests can show what it misses.
///
/// Thread safety: stateless: share freely.
struct click_retry_detector {
  /// True for "click Retry" only.
  constexpr bool operator()(std::string_view status) const noexcept {
    return same_message(status, click_retry_message);
  }
};

template <class D>
concept stale_detector = requires(const D& d, std::string_view s) {
  { d(s) } -> std::convertible_to<bool>;
};

/// A parsed retrieve/reset/request reply. Views are valid until the reader's next call.
///
/// Thread safety: views into the reader's buffer: valid until its next call; read them on the
/// reader's thread.
struct reply {
  bool json = false;                    ///< the body was one JSON object
  std::optional<std::int64_t> stage;    ///< Stage, when the body has one
  std::string_view status{};            ///< Status
  std::string_view certificate_data{};  ///< CertificateData (base64 DER)
  std::string_view certificate_dn{};    ///< CertificateDN
  std::string_view error{};             ///< Error
  /// OAuth 2.0 error replies (RFC 6749 §5.2, RFC 6750 §3.1): TPP's token-based 401/403 carry
  /// `error` (invalid_token, insufficient_scope ...) and `error_description` in lowercase.
  std::string_view oauth_error{};
  std::string_view error_description{};  ///< error_description (OAuth)
  /// The caller's own request body: the DN a request creates is `PolicyDN\ObjectName` (Subject
  /// when ObjectName is absent) (Venafi TPP: POST Certificates/Request, docs/sources.md#tpp-request).
  std::string_view policy_dn{};
  std::string_view object_name{};           ///< ObjectName
  std::string_view subject{};               ///< Subject
  bool processing_reset_completed = false;  ///< ProcessingResetCompleted
  bool restart_completed = false;           ///< RestartCompleted
};

/// Reads TPP's retrieve, reset and request replies.
///
/// Thread safety: reuses one parse buffer: part of one machine, never shared between threads.
class reply_reader {
 public:
  /// A reader refusing bodies over `max_body_bytes`.
  explicit reply_reader(std::size_t max_body_bytes = default_max_body_bytes)
      : json_(max_body_bytes) {}

  /// The body limit.
  std::size_t max_bytes() const noexcept { return json_.max_bytes(); }

  /// Reads the fields TPP's replies carry; an empty, non-JSON or non-object body gives
  /// json == false (the caller decides what that means for the status code at hand).
  reply read(std::string_view body) {
    reply out;
    auto obj = json_.open_object(body);
    if (!obj) return out;
    for (auto field : *obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return reply{};
      auto value = field.value();
      std::string_view s;
      if (key == "Stage") {
        std::int64_t n = 0;
        if (!value.get_int64().get(n)) out.stage = n;
      } else if (key == "Status") {
        if (!value.get_string().get(s)) out.status = s;
      } else if (key == "CertificateData") {
        if (!value.get_string().get(s)) out.certificate_data = s;
      } else if (key == "CertificateDN") {
        if (!value.get_string().get(s)) out.certificate_dn = s;
      } else if (key == "Error") {
        if (!value.get_string().get(s)) out.error = s;
      } else if (key == "error") {
        if (!value.get_string().get(s)) out.oauth_error = s;
      } else if (key == "error_description") {
        if (!value.get_string().get(s)) out.error_description = s;
      } else if (key == "PolicyDN") {
        if (!value.get_string().get(s)) out.policy_dn = s;
      } else if (key == "ObjectName") {
        if (!value.get_string().get(s)) out.object_name = s;
      } else if (key == "Subject") {
        if (!value.get_string().get(s)) out.subject = s;
      } else if (key == "ProcessingResetCompleted") {
        bool b = false;
        if (!value.get_bool().get(b)) out.processing_reset_completed = b;
      } else if (key == "RestartCompleted") {
        bool b = false;
        if (!value.get_bool().get(b)) out.restart_completed = b;
      }
    }
    if (!json_.at_end()) return reply{};
    out.json = true;
    return out;
  }

 private:
  certretry::detail::json_reader json_;
};

}  // namespace certretry::tpp
