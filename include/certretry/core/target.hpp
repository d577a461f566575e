// certretry/core/target.hpp — what a caller's value may be when it becomes part of a request.
//
// Machines build request targets and header fields from their callers' values (an order id, a
// CA id, an ACME URL, a CertID) and send them to a transport, which writes them onto the wire.
// A value with CR or LF would add header fields or a second request (`GET /orders/1\r\nHost: x`);
// a space would end the request target early; a "." or ".." segment is removed by a server or
// proxy that normalises the path (RFC 3986 §5.2.4). So every such value is checked where the
// request is built, before anything is sent, whatever the transport: a machine given a bad one
// finishes failed with errc::invalid_request_value and a reason naming the field.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/invalid_value.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace certretry {

/// Longest request target or path segment a machine builds: RFC 9112 §3 asks every recipient to
/// accept request lines of at least 8000 octets.
inline constexpr std::size_t max_target_bytes = 8000;

namespace detail {

constexpr bool is_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// RFC 3986 §2.3 unreserved.
constexpr bool is_unreserved(char c) noexcept {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
// RFC 3986 §2.2 sub-delims.
constexpr bool is_sub_delim(char c) noexcept {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=': return true;
    default: return false;
  }
}
// RFC 3986 §3.3 pchar, without pct-encoded.
constexpr bool is_pchar(char c) noexcept {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}
// RFC 9110 §5.6.2 tchar.
constexpr bool is_tchar(char c) noexcept {
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return is_alnum(c);
  }
}

constexpr bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

// Why a byte cannot be in a URI at all, or empty when it can (RFC 3986 §2).
constexpr std::string_view uri_byte_problem(unsigned char c) noexcept {
  if (is_control(c)) return "contains a control character (CR, LF, NUL or another)";
  if (c == ' ') return "contains a space";
  if (c >= 0x80) return "contains a byte outside ASCII: percent-encode it (RFC 3986 §2.1)";
  if (c == '#') return "contains '#': a fragment is never sent (RFC 3986 §3.5)";
  const char ch = static_cast<char>(c);
  if (is_pchar(ch) || ch == '/' || ch == '?' || ch == '%' || ch == '[' || ch == ']') return {};
  return "contains a character a URI cannot hold (RFC 3986 §2)";
}

// uri_byte_problem(c).empty() for every byte, so the per-byte loop of target_problem is a lookup.
inline constexpr auto uri_byte_ok = [] {
  std::array<bool, 256> ok{};
  for (unsigned c = 0; c < ok.size(); ++c)
    ok[c] = uri_byte_problem(static_cast<unsigned char>(c)).empty();
  return ok;
}();

}  // namespace detail

/// Why `target` cannot be a request target, or empty when it can. A target is origin-form
/// ("/path?query") or absolute-form ("https://host/path?query", RFC 9112 §3.2), in printable
/// ASCII with well-formed percent-encoding, and its path has no "." or ".." segment and no empty
/// segment but the last ("/a//b" is refused, "/a/" is not).
constexpr std::string_view target_problem(std::string_view target) noexcept {
  if (target.empty()) return "is empty";
  if (target.size() > max_target_bytes) return "is longer than 8000 bytes (RFC 9112 §3)";
  // One pass over the bytes, which also notes where the first '/' or '?' and any bracket are, so
  // the checks below need no further scan per byte (this runs on every request a machine sends).
  bool bracket = false;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (!detail::uri_byte_ok[c]) return detail::uri_byte_problem(c);
    if (c == '%' && (i + 2 >= target.size() || !detail::is_hex_digit(target[i + 1]) ||
                     !detail::is_hex_digit(target[i + 2])))
      return "has a '%' that is not followed by two hex digits (RFC 3986 §2.1)";
    bracket = bracket || c == '[' || c == ']';
  }
  const auto has_bracket = [bracket](std::string_view part) noexcept {
    if (!bracket) return false;
    for (const char c : part)
      if (c == '[' || c == ']') return true;
    return false;
  };
  std::string_view path = target;
  if (path.front() != '/') {
    const auto colon = path.find("://");
    const std::string_view scheme = colon == std::string_view::npos ? "" : path.substr(0, colon);
    if (!detail::iequals(scheme, "https") && !detail::iequals(scheme, "http"))
      return "must be a path starting with '/' or an http(s) URL";
    path.remove_prefix(colon + 3);
    std::size_t end = 0;
    while (end < path.size() && path[end] != '/' && path[end] != '?') ++end;
    if (end == 0) return "has no host after the scheme";
    if (has_bracket(path.substr(0, end)) && path.front() != '[')
      return "has '[' or ']' outside an IPv6 address";
    path = path.substr(end);
  }
  path = path.substr(0, path.find('?'));
  if (has_bracket(path)) return "has '[' or ']' in its path (RFC 3986 §3.3)";
  // Segments between slashes: none may be "." or "..", none may be empty but the last.
  for (std::size_t at = path.empty() ? std::string_view::npos : 1; at != std::string_view::npos;) {
    const auto slash = path.find('/', at);
    const std::string_view seg =
        path.substr(at, slash == std::string_view::npos ? path.npos : slash - at);
    if (seg.size() <= 6 && (seg == "." || seg == ".." || detail::iequals(seg, "%2e") ||
                            detail::iequals(seg, "%2e%2e") || detail::iequals(seg, ".%2e") ||
                            detail::iequals(seg, "%2e.")))
      return "has a '.' or '..' path segment (RFC 3986 §5.2.4 would remove it)";
    if (seg.empty() && slash != std::string_view::npos) return "has an empty path segment ('//')";
    at = slash == std::string_view::npos ? slash : slash + 1;
  }
  return {};
}

/// Why `value` cannot be one path segment even once percent-encoded, or empty when it can: it
/// is empty, "." or "..", longer than the 8000 bytes of a request line, or has a control
/// character (never part of an identifier; the sign of an injection).
constexpr std::string_view path_segment_problem(std::string_view value) noexcept {
  if (value.empty()) return "is empty";
  if (value == "." || value == "..") return "is '.' or '..' (RFC 3986 §5.2.4 would remove it)";
  if (value.size() > max_target_bytes / 3) return "is longer than 2666 bytes";
  for (const char ch : value)
    if (detail::is_control(static_cast<unsigned char>(ch)))
      return "contains a control character (CR, LF, NUL or another)";
  return {};
}

/// Appends `value` as one path segment: bytes RFC 3986 §3.3 allows in a segment as they are,
/// every other byte (space, '/', '?', '#', '%', non-ASCII) percent-encoded. Check it with
/// path_segment_problem() first.
inline void append_path_segment(std::string& out, std::string_view value) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (const char ch : value) {
    if (detail::is_pchar(ch)) {
      out += ch;
    } else {
      const auto c = static_cast<unsigned char>(ch);
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
}

/// Why `name` cannot be a header field name (RFC 9110 §5.1: a token), or empty.
constexpr std::string_view header_name_problem(std::string_view name) noexcept {
  if (name.empty()) return "is empty";
  for (const char c : name)
    if (!detail::is_tchar(c)) return "is not a token (RFC 9110 §5.6.2)";
  return {};
}

/// Why `value` cannot be a header field value (RFC 9110 §5.5: no CR, LF, NUL or other control
/// character but HTAB), or empty.
constexpr std::string_view header_value_problem(std::string_view value) noexcept {
  if (value.size() > max_target_bytes) return "is longer than 8000 bytes";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (detail::is_control(c) && c != '\t')
      return "contains a control character (CR, LF, NUL or another)";
  }
  return {};
}

/// The last check of a whole request before it is sent (machine_base runs it on every send):
/// the method is a token, the target a request target, every header field well formed. A
/// machine's own checks name the caller's field; this one catches what a user's own triage
/// builds.
constexpr invalid_value request_problem(const request_view& r) noexcept {
  if (auto p = header_name_problem(r.method); !p.empty()) return {"request method", p};
  if (auto p = target_problem(r.target); !p.empty()) return {"request target", p};
  for (const auto& h : r.headers) {
    if (auto p = header_name_problem(h.name); !p.empty()) return {"request header name", p};
    if (auto p = header_value_problem(h.value); !p.empty()) return {"request header value", p};
  }
  return {};
}

}  // namespace certretry
