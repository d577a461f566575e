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
#include <cstdint>
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

// What target_problem needs to know of a byte, so its per-byte loop is one table lookup and
// one branch for the common byte: plain (a URI may hold it and nothing more is checked), '%'
// (two hex digits must follow), a bracket (only an IPv6 host may hold one), '/' (a path
// segment ends), '?' (the first ends the path), or not in a URI at all (uri_byte_problem).
enum class target_byte : std::uint8_t { plain, percent, bracket, slash, question, refused };

inline constexpr auto target_byte_class = [] {
  std::array<target_byte, 256> k{};
  for (unsigned c = 0; c < k.size(); ++c) {
    const auto b = static_cast<unsigned char>(c);
    k[c] = !uri_byte_problem(b).empty() ? target_byte::refused
           : b == '%'                   ? target_byte::percent
           : b == '[' || b == ']'       ? target_byte::bracket
           : b == '/'                   ? target_byte::slash
           : b == '?'                   ? target_byte::question
                                        : target_byte::plain;
  }
  return k;
}();

// A segment RFC 3986 §5.2.4 removes or resolves: "." or "..", in any percent-encoded spelling.
constexpr bool is_dot_segment(std::string_view seg) noexcept {
  // Each spelling starts with '.' or '%': most segments are ruled out by their first byte.
  return !seg.empty() && seg.size() <= 6 && (seg.front() == '.' || seg.front() == '%') &&
         (seg == "." || seg == ".." || iequals(seg, "%2e") || iequals(seg, "%2e%2e") ||
          iequals(seg, ".%2e") || iequals(seg, "%2e."));
}

constexpr bool has_bracket(std::string_view s) noexcept {
  return s.find_first_of("[]") != std::string_view::npos;
}

}  // namespace detail

/// Why `target` cannot be a request target, or empty when it can. A target is origin-form
/// ("/path?query") or absolute-form ("https://host/path?query", RFC 9112 §3.2), in printable
/// ASCII with well-formed percent-encoding, and its path has no "." or ".." segment and no empty
/// segment but the last ("/a//b" is refused, "/a/" is not). The first problem is named in this
/// order: a byte, the scheme or host, a bracket in the path, a path segment.
constexpr std::string_view target_problem(std::string_view target) noexcept {
  if (target.empty()) return "is empty";
  if (target.size() > max_target_bytes) return "is longer than 8000 bytes (RFC 9112 §3)";
  const std::size_t n = target.size();
  // Absolute-form: the scheme and host come before the path, which starts at the first '/' or
  // '?' after them. Their problem is named after any byte's.
  std::size_t path_at = 0;
  std::string_view authority_problem;
  if (target.front() != '/') {
    const auto colon = target.find("://");
    const std::string_view scheme = colon == std::string_view::npos ? "" : target.substr(0, colon);
    if (!detail::iequals(scheme, "https") && !detail::iequals(scheme, "http")) {
      authority_problem = "must be a path starting with '/' or an http(s) URL";
      path_at = n;
    } else {
      path_at = colon + 3;
      while (path_at < n && target[path_at] != '/' && target[path_at] != '?') ++path_at;
      if (path_at == colon + 3) authority_problem = "has no host after the scheme";
    }
  }
  // One pass over the bytes (this runs on every request a machine sends): each byte's class,
  // and the path's segments as their slashes pass. A segment's problem waits for the bytes.
  bool bracket = false;
  std::size_t query = n;
  std::string_view segment_problem;
  std::size_t seg_at = path_at + 1;  // where the current segment starts
  for (std::size_t i = 0; i < n; ++i) {
    // Runs of plain bytes in a tight loop; the switch sees only the others.
    while (detail::target_byte_class[static_cast<unsigned char>(target[i])] ==
           detail::target_byte::plain)
      if (++i == n) break;
    if (i == n) break;
    const auto c = static_cast<unsigned char>(target[i]);
    switch (detail::target_byte_class[c]) {
      case detail::target_byte::plain: continue;
      case detail::target_byte::refused: return detail::uri_byte_problem(c);
      case detail::target_byte::percent:
        if (i + 2 >= n || !detail::is_hex_digit(target[i + 1]) ||
            !detail::is_hex_digit(target[i + 2]))
          return "has a '%' that is not followed by two hex digits (RFC 3986 §2.1)";
        continue;
      case detail::target_byte::bracket: bracket = true; continue;
      case detail::target_byte::question:
        if (query == n) query = i;
        continue;
      case detail::target_byte::slash:
        // A slash of the path (not the scheme's, the host's end, or the query's) ends a segment;
        // only one starting with '.' or '%' can be a dot segment.
        if (i <= path_at || query != n) continue;
        if (segment_problem.empty()) {
          if (i == seg_at)
            segment_problem = "has an empty path segment ('//')";
          else if ((target[seg_at] == '.' || target[seg_at] == '%') &&
                   detail::is_dot_segment(target.substr(seg_at, i - seg_at)))
            segment_problem = "has a '.' or '..' path segment (RFC 3986 §5.2.4 would remove it)";
        }
        seg_at = i + 1;
        continue;
    }
  }
  if (!authority_problem.empty()) return authority_problem;
  if (bracket && path_at > 0) {
    const std::string_view host = target.substr(target.find("://") + 3);
    if (detail::has_bracket(host.substr(0, host.find_first_of("/?"))) && host.front() != '[')
      return "has '[' or ']' outside an IPv6 address";
  }
  // The path: from its first '/' to the query; the last segment may be empty ("/a/").
  const std::string_view path =
      path_at < query ? target.substr(path_at, query - path_at) : std::string_view{};
  if (bracket && detail::has_bracket(path)) return "has '[' or ']' in its path (RFC 3986 §3.3)";
  if (!segment_problem.empty()) return segment_problem;
  if (!path.empty() && seg_at <= query &&
      detail::is_dot_segment(target.substr(seg_at, query - seg_at)))
    return "has a '.' or '..' path segment (RFC 3986 §5.2.4 would remove it)";
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
