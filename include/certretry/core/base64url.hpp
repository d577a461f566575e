// certretry/core/base64url.hpp — RFC 4648 §5 base64url without '=' padding, the form ACME uses
// for nonces, JWS members and ARI CertIDs (RFC 8555 §6.1, RFC 9773 §4.1).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace certretry {

namespace detail {
// The 6-bit value of one base64url character, or -1.
constexpr int base64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace detail

/// Encodes bytes as unpadded base64url.
constexpr std::string base64url(std::span<const unsigned char> bytes) {
  constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (unsigned{bytes[i]} << 16) | (unsigned{bytes[i + 1]} << 8) | bytes[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest != 0) {
    const unsigned v = (unsigned{bytes[i]} << 16) | (rest == 2 ? unsigned{bytes[i + 1]} << 8 : 0u);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
  }
  return out;
}

/// Whether every character is in the base64url alphabet (no padding). Empty text is not.
constexpr bool is_base64url(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s)
    if (detail::base64url_value(c) < 0) return false;
  return true;
}

/// Decodes unpadded base64url; nothing for a character outside the alphabet or a length no
/// encoder produces (4k + 1).
inline std::optional<std::vector<unsigned char>> base64url_decode(std::string_view s) {
  if (!is_base64url(s) || s.size() % 4 == 1) return std::nullopt;
  std::vector<unsigned char> out;
  out.reserve(s.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (const char c : s) {
    acc = ((acc << 6) | static_cast<unsigned>(detail::base64url_value(c))) & 0xffffffu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xffu));
    }
  }
  return out;
}

}  // namespace certretry
