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

struct header_field {
  std::string name;
  std::string value;
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

// Header names compare case-insensitively (RFC 9110 §5.1); the first match wins.
constexpr std::optional<std::string_view> find_header(std::span<const header_field> headers,
                                                      std::string_view name) noexcept {
  for (const auto& h : headers)
    if (detail::iequals(h.name, name)) return std::string_view{h.value};
  return std::nullopt;
}

struct request_view {
  std::string_view method;
  std::string_view target;  // path and query, no scheme or host
  std::span<const header_field> headers{};
  std::string_view body{};  // empty when the request has none
};

struct response_view {
  int status = 0;
  std::span<const header_field> headers{};
  std::string_view body{};

  std::optional<std::string_view> header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

struct response {
  int status = 0;
  std::vector<header_field> headers;
  std::string body;

  response_view view() const noexcept { return {status, headers, body}; }
};

// An owned request, for transports and tests that keep what was sent.
struct request {
  std::string method;
  std::string target;
  std::vector<header_field> headers;
  std::string body;

  request() = default;
  explicit request(const request_view& v)
      : method(v.method),
        target(v.target),
        headers(v.headers.begin(), v.headers.end()),
        body(v.body) {}
  request_view view() const noexcept { return {method, target, headers, body}; }
};

}  // namespace certretry
