// certretry/core/http.hpp — requests a machine asks for and responses a transport returns.
//
// Views borrow; owned types own. A machine's send action carries a request_view into the
// machine's own storage, so deciding the next step never allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certretry {

/// One HTTP header field, owned.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct header_field {
  std::string name;   ///< field name, case as sent (compared case-insensitively)
  std::string value;  ///< field value
};

namespace detail {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

constexpr bool is_http_space(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr std::string_view trim_http_space(std::string_view s) noexcept {
  while (!s.empty() && is_http_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_http_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace detail

/// Header names compare case-insensitively (RFC 9110 §5.1); the first match wins.
constexpr std::optional<std::string_view> find_header(std::span<const header_field> headers,
                                                      std::string_view name) noexcept {
  for (const auto& h : headers)
    if (detail::iequals(h.name, name)) return std::string_view{h.value};
  return std::nullopt;
}

/// A request a machine wants sent: views into the machine, valid until its next step.
///
/// Thread safety: a view: read it on the thread driving the machine, before its next step.
struct request_view {
  std::string_view method;                  ///< the HTTP method (GET, POST ...)
  std::string_view target;                  ///< path and query, no scheme or host
  std::span<const header_field> headers{};  ///< header fields to send, beside the transport's own
  std::string_view body{};                  ///< empty when the request has none
};

/// A response as a machine reads it: views into the caller's buffers.
///
/// Thread safety: a view: as safe as the buffers it points into; the machine reads it only during
/// on_response().
struct response_view {
  int status = 0;                           ///< HTTP status code
  std::span<const header_field> headers{};  ///< header fields, as received
  std::string_view body{};                  ///< body bytes, as received

  /// The first header field named `name` (case-insensitive), or nothing.
  std::optional<std::string_view> header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

/// An owned HTTP response: what a transport returns.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct response {
  int status = 0;                     ///< HTTP status code
  std::vector<header_field> headers;  ///< header fields, as received
  std::string body;                   ///< body bytes, as received

  /// A view of this response, for on_response().
  response_view view() const noexcept { return {status, headers, body}; }
};

/// An owned request, for transports and tests that keep what was sent.
///
/// Thread safety: a plain value: safe to read from several threads; writes need the caller's lock.
struct request {
  std::string method;                 ///< the HTTP method
  std::string target;                 ///< path and query, no scheme or host
  std::vector<header_field> headers;  ///< header fields
  std::string body;                   ///< body bytes (empty when the request has none)

  request() = default;
  /// Copies a request view's fields into owned strings.
  explicit request(const request_view& v)
      : method(v.method),
        target(v.target),
        headers(v.headers.begin(), v.headers.end()),
        body(v.body) {}
  /// A view of this request.
  request_view view() const noexcept { return {method, target, headers, body}; }
};

}  // namespace certretry
