// certretry/core/certificate_check.hpp — is what a server calls a certificate one?
//
// A 2xx download can be a proxy's login page, and a `certificate` field can hold anything; a
// machine that hands such bytes over as `issued` has the caller install garbage. The check is a
// policy value every machine can take:
//   any         take the bytes as they are (what certretry did before)
//   pem_or_der  a PEM "BEGIN CERTIFICATE" line (RFC 7468 §5) or DER: one SEQUENCE as long as
//               the body
//               (the default: cheap, and enough to tell a certificate from a login page)
//   x509        the first certificate decodes (base64, RFC 4648 §4) and has the DER structure of
//               RFC 5280 §4.1: tbsCertificate, signatureAlgorithm, signatureValue
// plus an optional check on the leaf (its DER and subjectPublicKeyInfo), such as
// x509/key_match.hpp's "its public key is the CSR's" (VCert's CheckCertificate), which needs
// OpenSSL and lives in a header of its own.
//
// The reader is bounded and fuzzed (fuzz/fuzz_certificate_check.cpp): no recursion, every length
// checked against what is left, at most one certificate decoded, no allocation past the
// scratch buffer's one growth to the decoded size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry {

/// How much of a certificate a machine checks before calling it issued.
enum class certificate_shape : std::uint8_t {
  any,         ///< no check
  pem_or_der,  ///< a PEM BEGIN CERTIFICATE line, or one DER SEQUENCE spanning the bytes
  x509,        ///< the first certificate parses as X.509 (RFC 5280 §4.1)
};

/// The first certificate as read: its DER, and its subjectPublicKeyInfo (tag and length
/// included) inside that DER. Valid until the next check.
///
/// Thread safety: a view valid until the checker's next call: read it on the checker's thread.
struct x509_leaf {
  std::span<const std::uint8_t> der{};  ///< the first certificate's DER
  /// its subjectPublicKeyInfo, tag and length included, inside `der`
  std::span<const std::uint8_t> spki{};
};

/// What a machine checks of the bytes a server calls a certificate (shape, and an optional check of
/// the parsed leaf).
///
/// Thread safety: a value, copied into each machine; the `leaf` callback must be safe to call from
/// every thread running those machines.
struct certificate_check {
  certificate_shape shape = certificate_shape::pem_or_der;  ///< the shape required
  /// Run on the parsed leaf when set (the shape is then at least x509): empty when the leaf
  /// passes, else why, as a view valid until the next call.
  std::function<std::string_view(const x509_leaf&)> leaf{};

  /// No check at all: any bytes are a certificate.
  static certificate_check none() { return {certificate_shape::any, {}}; }
  /// The first certificate must parse as X.509 (RFC 5280 §4.1).
  static certificate_check parses_as_x509() { return {certificate_shape::x509, {}}; }
};

namespace detail {

inline constexpr std::string_view pem_certificate_begin = "-----BEGIN CERTIFICATE-----";
inline constexpr std::string_view pem_certificate_end = "-----END CERTIFICATE-----";

// The text between the first BEGIN/END CERTIFICATE pair, or nothing.
constexpr std::optional<std::string_view> first_pem_certificate(std::string_view s) noexcept {
  const auto begin = s.find(pem_certificate_begin);
  if (begin == std::string_view::npos) return std::nullopt;
  const auto body = begin + pem_certificate_begin.size();
  const auto end = s.find(pem_certificate_end, body);
  if (end == std::string_view::npos) return std::nullopt;
  return s.substr(body, end - body);
}

constexpr int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes standard base64 (RFC 4648 §4) into `out`, skipping the white space RFC 7468 §3 allows
// between lines. Padding only at the end. False on anything else.
inline bool decode_base64(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (++padding > 2) return false;
      continue;
    }
    if (padding != 0) return false;  // data after padding
    const int v = base64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  return bits < 6;  // a lone 6-bit group cannot be a byte
}

// One DER TLV at `pos`: definite length only, long form of at most 4 bytes (RFC 5280 §4.1 is DER,
// X.690 §10.1), content within what is left.
struct der_tlv {
  std::uint8_t tag = 0;
  std::size_t header = 0;  // tag + length bytes
  std::span<const std::uint8_t> content{};
  std::size_t size() const noexcept { return header + content.size(); }
};

constexpr std::optional<der_tlv> read_der(std::span<const std::uint8_t> in) noexcept {
  if (in.size() < 2) return std::nullopt;
  der_tlv t;
  t.tag = in[0];
  if ((t.tag & 0x1f) == 0x1f) return std::nullopt;  // high tag numbers: none in a certificate
  const std::uint8_t first = in[1];
  std::size_t length = 0;
  std::size_t pos = 2;
  if (first < 0x80) {
    length = first;
  } else {
    const std::size_t n = first & 0x7f;
    if (n == 0 || n > 4 || in.size() - 2 < n) return std::nullopt;  // indefinite or too long
    for (std::size_t i = 0; i < n; ++i) length = (length << 8) | in[2 + i];
    pos += n;
  }
  if (length > in.size() - pos) return std::nullopt;
  t.header = pos;
  t.content = in.subspan(pos, length);
  return t;
}

// Reads consecutive TLVs from a span.
class der_cursor {
 public:
  constexpr explicit der_cursor(std::span<const std::uint8_t> in) noexcept : in_(in) {}
  // The next TLV, which must carry `tag`; moves past it.
  constexpr std::optional<der_tlv> take(std::uint8_t tag) noexcept {
    const auto t = read_der(in_);
    if (!t || t->tag != tag) return std::nullopt;
    in_ = in_.subspan(t->size());
    return t;
  }
  constexpr bool next_is(std::uint8_t tag) const noexcept { return !in_.empty() && in_[0] == tag; }
  constexpr bool empty() const noexcept { return in_.empty(); }
  constexpr std::span<const std::uint8_t> rest() const noexcept { return in_; }

 private:
  std::span<const std::uint8_t> in_;
};

inline constexpr std::uint8_t der_sequence = 0x30;
inline constexpr std::uint8_t der_integer = 0x02;
inline constexpr std::uint8_t der_bit_string = 0x03;
inline constexpr std::uint8_t der_utc_time = 0x17;
inline constexpr std::uint8_t der_generalized_time = 0x18;

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280
// §4.1). Returns the leaf, or why not (static text).
constexpr std::pair<std::optional<x509_leaf>, std::string_view> parse_x509(
    std::span<const std::uint8_t> der) noexcept {
  der_cursor top{der};
  const auto cert = top.take(der_sequence);
  if (!cert) return {std::nullopt, "does not open with a DER SEQUENCE of a valid length"};
  if (!top.empty()) return {std::nullopt, "has bytes after the certificate's SEQUENCE"};
  der_cursor c{cert->content};
  const auto tbs = c.take(der_sequence);
  if (!tbs) return {std::nullopt, "has no tbsCertificate SEQUENCE"};
  if (!c.take(der_sequence)) return {std::nullopt, "has no signatureAlgorithm"};
  if (!c.take(der_bit_string)) return {std::nullopt, "has no signatureValue BIT STRING"};
  if (!c.empty()) return {std::nullopt, "has fields after signatureValue"};

  der_cursor t{tbs->content};
  if (t.next_is(0xa0) && !t.take(0xa0)) return {std::nullopt, "has a malformed version"};
  const auto serial = t.take(der_integer);
  if (!serial || serial->content.empty()) return {std::nullopt, "has no serialNumber INTEGER"};
  if (!t.take(der_sequence)) return {std::nullopt, "has no signature AlgorithmIdentifier"};
  if (!t.take(der_sequence)) return {std::nullopt, "has no issuer Name"};
  const auto validity = t.take(der_sequence);
  if (!validity) return {std::nullopt, "has no validity"};
  der_cursor v{validity->content};
  for (int i = 0; i < 2; ++i) {
    if (!v.take(der_utc_time) && !v.take(der_generalized_time))
      return {std::nullopt, "has a validity without notBefore and notAfter times"};
  }
  if (!v.empty()) return {std::nullopt, "has a validity with extra fields"};
  if (!t.take(der_sequence)) return {std::nullopt, "has no subject Name"};
  const auto spki_at = t.rest();
  const auto spki = t.take(der_sequence);
  if (!spki) return {std::nullopt, "has no subjectPublicKeyInfo"};
  der_cursor k{spki->content};
  if (!k.take(der_sequence) || !k.take(der_bit_string) || !k.empty())
    return {std::nullopt, "has a malformed subjectPublicKeyInfo"};
  // issuerUniqueID [1], subjectUniqueID [2], extensions [3]: each well-formed, in order.
  for (const std::uint8_t tag : {std::uint8_t{0x81}, std::uint8_t{0x82}, std::uint8_t{0xa3}})
    if (t.next_is(tag) && !t.take(tag)) return {std::nullopt, "has a malformed optional field"};
  if (!t.empty()) return {std::nullopt, "has unexpected fields in tbsCertificate"};
  return {x509_leaf{der.first(cert->size()), spki_at.first(spki->size())}, {}};
}

}  // namespace detail

/// Applies a certificate_check to bytes a server calls a certificate (PEM, possibly followed by
/// its chain, or DER). Keeps the decoded leaf between calls (one buffer, reused).
///
/// Thread safety: part of one machine (it reuses one buffer): never share one between threads.
class certificate_checker {
 public:
  certificate_checker() = default;
  /// A checker applying `check`.
  explicit certificate_checker(certificate_check check) : check_(std::move(check)) {}

  /// The check this checker applies.
  const certificate_check& policy() const noexcept { return check_; }

  /// Empty when the bytes pass; otherwise why not, in words a person can act on (a static text
  /// or the leaf check's view).
  std::string_view check(std::string_view bytes) {
    const certificate_shape shape = check_.leaf ? certificate_shape::x509 : check_.shape;
    if (shape == certificate_shape::any) return {};
    const bool begins_pem = bytes.find(detail::pem_certificate_begin) != std::string_view::npos;
    // DER: one SEQUENCE whose length is the whole body ("0 errors" starts with 0x30 too).
    const std::span<const std::uint8_t> raw{reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                            bytes.size()};
    const auto outer = begins_pem ? std::nullopt : detail::read_der(raw);
    const bool der = outer && outer->tag == detail::der_sequence && outer->size() == raw.size();
    if (!begins_pem && !der) return "no PEM CERTIFICATE block and not DER (a login or error page?)";
    // The default stops here: the BEGIN line (or DER's SEQUENCE) tells a certificate from a
    // login page; the block's end and contents are the x509 shape's business.
    if (shape == certificate_shape::pem_or_der) return {};
    const auto pem = detail::first_pem_certificate(bytes);
    if (begins_pem && !pem) return "the PEM CERTIFICATE block has no END line (truncated?)";

    std::span<const std::uint8_t> in;
    if (pem) {
      if (!detail::decode_base64(*pem, der_))
        return "the PEM CERTIFICATE block is not valid base64";
      if (der_.empty()) return "the PEM CERTIFICATE block is empty";
      in = der_;
    } else {
      in = raw;
    }
    const auto [leaf, why] = detail::parse_x509(in);
    if (!leaf) {
      why_ = "not an X.509 certificate: it ";
      why_ += why;
      return why_;
    }
    if (check_.leaf) return check_.leaf(*leaf);
    return {};
  }

 private:
  certificate_check check_{};
  std::vector<std::uint8_t> der_;
  std::string why_;
};

}  // namespace certretry
