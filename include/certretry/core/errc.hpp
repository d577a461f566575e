// certretry/core/errc.hpp — the library's error category and result type.
//
// Every fallible function returns certretry::result<T>: a boost::outcome_v2 result over
// std::error_code. Codes are fine-grained so that the category's message alone tells a person
// what went wrong and what the library does about it.
#pragma once

#include <boost/outcome/std_result.hpp>
#include <boost/outcome/try.hpp>
#include <boost/version.hpp>

#include <string>
#include <system_error>

namespace certretry {

/// Every error the library reports, as a std::error_code in certretry's category
/// (error_category()).
enum class errc : int {
  /// Retry-After (RFC 9110 §10.2.3): the hint is dropped and the schedule's delay is used.
  retry_after_empty = 1,
  retry_after_negative,
  retry_after_fractional,
  retry_after_out_of_range,
  retry_after_malformed,
  /// Not an error: a Retry-After HTTP-date whose day name is not its date's. The date is used
  /// (RFC 9110 §5.6.7 asks recipients to be lenient) and this code is reported alongside.
  retry_after_weekday_mismatch,
  /// Server bodies and headers (hostile input).
  body_too_large = 20,
  body_not_json,
  body_missing_field,
  body_wrong_type,
  header_too_large,
  /// Transport failures, as a Transport reports them.
  transport_timeout = 40,
  connection_refused,
  tls_failure,
  connection_reset,
  transport_failure,
  dns_failure,
  /// How a machine ended when it did not get a certificate.
  server_rejected = 60,
  deadline_exceeded,
  attempts_exhausted,
  cancelled,
  budget_exhausted,
  caller_deadline_passed,
  /// Configuration and harness input.
  invalid_policy = 80,
  scenario_malformed,
  scenario_unknown_option,
  no_scripted_response,
  /// A caller's value that would go into a request line or a header field and change what the
  /// request says (RFC 9112 §3, RFC 3986 §3.3): nothing was sent.
  invalid_request_value,
  /// Certificates a caller hands over (an ARI CertID is computed from one).
  certificate_unreadable,
  certificate_lacks_aki,
  certificate_too_large,
  /// The CSR or key given for a certificate check (x509/key_match.hpp) cannot be read.
  key_source_unreadable,
  /// A driver's mistake: an input the machine's state does not allow (machine/base.hpp).
  input_out_of_order = 100,
};

namespace detail {

class errc_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "certretry"; }

  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::retry_after_empty:
        return "Retry-After header is empty; the schedule's delay is used instead";
      case errc::retry_after_negative:
        return "Retry-After is negative; RFC 9110 allows only non-negative delay-seconds or an "
               "HTTP-date, so the schedule's delay is used instead";
      case errc::retry_after_fractional:
        return "Retry-After has a fraction; RFC 9110 delay-seconds are whole seconds, so the "
               "schedule's delay is used instead";
      case errc::retry_after_out_of_range:
        return "Retry-After is too large to be meant (more than ~68 years away); the schedule's "
               "delay is used instead";
      case errc::retry_after_malformed:
        return "Retry-After is neither delay-seconds nor an HTTP-date (IMF-fixdate, RFC 850 or "
               "asctime); the schedule's delay is used instead";
      case errc::retry_after_weekday_mismatch:
        return "Retry-After HTTP-date names the wrong day of the week for its date; the date is "
               "used, as RFC 9110 asks recipients to be lenient";
      case errc::body_too_large:
        return "response body is larger than the configured limit; raise the limit if the "
               "server is trusted, otherwise treat the server as broken";
      case errc::body_not_json: return "response body is not valid JSON";
      case errc::body_missing_field: return "response body lacks a field the protocol requires";
      case errc::body_wrong_type: return "response body has a field of the wrong JSON type";
      case errc::header_too_large:
        return "response header value is larger than the configured limit";
      case errc::transport_timeout: return "request timed out before the server answered";
      case errc::connection_refused:
        return "connection refused: the server is down or the address is wrong";
      case errc::tls_failure:
        return "TLS handshake failed: check the CA bundle and the server's certificate";
      case errc::connection_reset: return "connection reset by the server";
      case errc::transport_failure: return "transport failed to send the request";
      case errc::dns_failure:
        return "the server's host name did not resolve: check the URL's host, the resolver "
               "(/etc/resolv.conf, /etc/hosts) and any proxy name; nothing was sent";
      case errc::server_rejected:
        return "the server rejected the request for good; retrying will not help";
      case errc::deadline_exceeded:
        return "the deadline was reached before the server finished; re-enqueue and poll "
               "again later";
      case errc::attempts_exhausted:
        return "the attempt cap was reached before the server finished; re-enqueue and poll "
               "again later";
      case errc::cancelled: return "cancelled by the caller; no further request is sent";
      case errc::budget_exhausted:
        return "the retry budget withheld the request to spare an overloaded server; "
               "re-enqueue no sooner than not_before, or on your own schedule";
      case errc::caller_deadline_passed:
        return "the caller's deadline passed before the work was done; the work is abandoned "
               "and nothing more is sent";
      case errc::invalid_policy: return "policy value is out of range";
      case errc::scenario_malformed: return "scenario file is malformed";
      case errc::scenario_unknown_option:
        return "scenario names an option the machine does not know";
      case errc::no_scripted_response: return "no scripted response for this request";
      case errc::invalid_request_value:
        return "a value for the request's target or a header field has a control character, a "
               "space, a dot or empty path segment or another byte a request line cannot carry; "
               "nothing was sent: fix the value (the reason names the field)";
      case errc::certificate_unreadable:
        return "the certificate is not one PEM or DER X.509 certificate OpenSSL can read";
      case errc::certificate_lacks_aki:
        return "the certificate has no Authority Key Identifier keyIdentifier, which an ARI "
               "CertID needs (RFC 9773 §4.1)";
      case errc::certificate_too_large:
        return "the certificate is larger than the 64 KiB a certificate can sensibly be";
      case errc::key_source_unreadable:
        return "the CSR or key given for the certificate check is not a PKCS#10 CSR (PEM or DER) "
               "or an unencrypted PEM key; nothing was checked";
      case errc::input_out_of_order:
        return "a machine got an input its state does not allow (start() twice, a response or "
               "transport error with no request outstanding, a wait elapsed while not waiting): "
               "a bug in the code driving it; feed inputs in the order run() does "
               "(machine/run.hpp)";
    }
    return "unknown certretry error " + std::to_string(code);
  }
};

}  // namespace detail

/// The category of certretry::errc: its name is "certretry", its messages say what failed.
inline const std::error_category& error_category() noexcept {
  static const detail::errc_category category;
  return category;
}

/// Makes errc usable as a std::error_code (found by argument-dependent lookup).
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// A value or a std::error_code (Boost.Outcome): how every fallible call in the library returns.
template <class T>
using result = boost::outcome_v2::std_result<T>;

using boost::outcome_v2::success;

}  // namespace certretry

/// \cond
template <>
struct std::is_error_code_enum<certretry::errc> : std::true_type {};
/// \endcond

// Boost.Outcome's TRY changed its form between Boost 1.74 (Outcome v2.1) and 1.81 (v2.2).
#if BOOST_VERSION >= 107500
#define CERTRETRY_TRY(var, ...) BOOST_OUTCOME_TRY(auto&& var, __VA_ARGS__)
#else
#define CERTRETRY_TRY(var, ...) BOOST_OUTCOME_TRY(var, __VA_ARGS__)
#endif
